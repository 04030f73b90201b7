"""Debian's chromium, headless, driven by selenium: the browser tests (tests/test_browser.py) and the
screenshots (bench/screenshots.py) share this setup.

Why selenium and not playwright: playwright's Python package drives only the browser builds it
downloads itself (blocked here), and Debian's chromium pairs with Debian's chromedriver, which
selenium speaks to directly; the Chrome DevTools Protocol (`execute_cdp_cmd`) gives the emulation we
need (dark scheme, phone metrics, scripts off). Selenium Manager is never run: the driver's and the
browser's paths are given, so nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

CHROMIUM = os.environ.get("HFWEEKLY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HFWEEKLY_CHROMEDRIVER", "/usr/bin/chromedriver")
PHONE = (375, 812)  # an iPhone X-sized viewport, CSS pixels
DESKTOP = (1280, 900)
INSTALL = "apt-get install chromium chromium-driver (scripts/test installs them when run as root or with sudo)"


def chromium_missing(chromium: str = CHROMIUM, driver: str = CHROMEDRIVER) -> str | None:
    """Why the browser cannot run here (a pytest skip reason), or None when it can."""
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed: pip install -e '.[dev]'"
    missing = [path for path in (chromium, driver) if not (os.path.isfile(path) and os.access(path, os.X_OK))]
    if missing:
        return f"no headless browser: {' and '.join(missing)} missing; {INSTALL}"
    return None


def open_chromium(width: int = DESKTOP[0], height: int = DESKTOP[1]) -> WebDriver:
    """A headless chromium (selenium WebDriver) with a `width`×`height` window."""
    from selenium import webdriver  # imported here: the module loads (and the tests skip) without it
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
        "--disable-extensions", "--disable-background-networking", "--hide-scrollbars", "--lang=ko-KR",
        f"--window-size={width},{height}",
    ):  # fmt: skip
        options.add_argument(arg)
    service = Service(executable_path=shutil.which(CHROMEDRIVER) or CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    return driver


def color_scheme(driver: WebDriver, scheme: str) -> None:
    """Emulate `prefers-color-scheme: light|dark` (CDP Emulation.setEmulatedMedia)."""
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"media": "", "features": [{"name": "prefers-color-scheme", "value": scheme}]}
    )


def phone(driver: WebDriver) -> None:
    """A phone: 375×812 CSS pixels, mobile (the viewport meta tag applies), 2× pixels."""
    width, height = PHONE
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True},
    )


def scripts(driver: WebDriver, *, enabled: bool) -> None:
    """Turn the page's JavaScript off or on (CDP Emulation.setScriptExecutionDisabled)."""
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": not enabled})


def reset(driver: WebDriver) -> None:
    """Back to a light desktop window with scripts on (one browser serves a whole test module)."""
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "", "features": []})
    scripts(driver, enabled=True)


def rgb(css: str) -> tuple[int, int, int]:
    """`rgb(18, 18, 20)` or `rgba(…)` as three integers."""
    inside = css[css.index("(") + 1 : css.index(")")]
    red, green, blue = (int(float(part)) for part in inside.split(",")[:3])
    return red, green, blue


def luminance(color: tuple[int, int, int]) -> float:
    """WCAG relative luminance, 0 (black) to 1 (white)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in color)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
