"""The web pages in a real browser: Debian's chromium, headless, driven by selenium (tests/browserkit.py).

The site is served by the real aiohttp server on a loopback port over a real week (2025-W38: ten papers,
Korean titles from the fake Claude) and a week whose first paper has a very long unbroken title and
URL. The browser is blocking, so each look runs in a thread (`asyncio.to_thread`) while the event loop
serves the pages. One browser for the module; each test starts from a light desktop window.

Skipped, with the reason, where chromium or chromedriver is missing (scripts/test installs them).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urldefrag

import pytest

from bot.app import App
from bot.week import IsoWeek
from tests.browserkit import PHONE, chromium_missing, color_scheme, luminance, open_chromium, phone, reset, rgb, scripts
from tests.fakes.hf import FakeHF, week_items
from tests.webkit import HANGUL, W38, get, served, site_of

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.browser

W41 = IsoWeek(2025, 41)
LONG_WORD = "Hyperparameterized" * 12  # 216 letters, no place to break
LONG_URL = "https://github.com/example/" + "a-very-long-repository-name-without-spaces" * 4


@pytest.fixture(scope="module")
def chrome() -> Iterator[WebDriver]:
    """The module's one browser; every test that needs it skips, saying why, where it cannot run."""
    if (missing := chromium_missing()) is not None:
        pytest.skip(missing)
    driver = open_chromium()
    yield driver
    driver.quit()


@pytest.fixture
def browser(chrome: WebDriver) -> WebDriver:
    reset(chrome)
    return chrome


@pytest.fixture
async def base(app: App, fake_hf: FakeHF) -> AsyncIterator[str]:
    """2025-W38 (ten real papers) and 2025-W41 (one paper's title a long word, a long URL in its
    abstract: its translation fails the gate, so its pages show the English original, "번역 준비 중"),
    translated; served with root-relative links (no public URL)."""
    items = week_items("2025-W41")
    items[0]["paper"]["title"] = items[0]["title"] = f"{LONG_WORD}: Scaling Models"
    items[0]["paper"]["summary"] = items[0]["summary"] = f"{items[0]['summary']} Code: {LONG_URL}"
    fake_hf.weeks["2025-W41"] = items
    await app.digests.build(W38)
    await app.digests.build(W41)
    async with served(site_of(app, public_url=None)) as url:
        yield url


async def paper_id(app: App, week: IsoWeek, *, titled: str = "") -> str:
    """The id of the week's first paper whose title holds `titled`."""
    digest = await app.digests.current(week, top_n=10)
    assert digest is not None
    return next(item.paper.id for item in digest.items if titled in item.paper.title)


def titles(driver: WebDriver) -> list[str]:
    return [element.text for element in driver.find_elements("css selector", "ol.papers > li h2 a")]


def body_background(driver: WebDriver) -> tuple[int, int, int]:
    return rgb(driver.execute_script("return getComputedStyle(document.body).backgroundColor"))


def overflow(driver: WebDriver) -> tuple[int, int]:
    """(scrollWidth, innerWidth): a horizontal scroll when the first is larger."""
    found = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    return int(found[0]), int(found[1])


async def test_the_week_page_shows_ten_korean_titles(base: str, browser: WebDriver) -> None:
    def look() -> list[str]:
        browser.get(f"{base}/weeks/2025-W38")
        return titles(browser)

    shown = await asyncio.to_thread(look)
    assert len(shown) == 10, shown
    assert all(HANGUL.search(title) for title in shown), shown


async def test_the_dark_scheme_applies_when_the_system_asks_for_it(base: str, browser: WebDriver) -> None:
    def look(scheme: str) -> tuple[int, int, int]:
        color_scheme(browser, scheme)
        browser.get(f"{base}/weeks/2025-W38")
        return body_background(browser)

    light = await asyncio.to_thread(look, "light")
    dark = await asyncio.to_thread(look, "dark")
    assert luminance(light) > 0.8, light
    assert luminance(dark) < 0.05, dark
    assert dark != light


async def test_a_phone_has_no_horizontal_scroll_even_with_a_long_unbroken_title(
    base: str, browser: WebDriver, app: App
) -> None:
    paper = await paper_id(app, W41, titled=LONG_WORD)

    def look(path: str) -> tuple[int, int, str]:
        browser.get(base + path)
        scroll, inner = overflow(browser)
        return scroll, inner, browser.find_element("tag name", "h1").text

    await asyncio.to_thread(phone, browser)
    for path in ("/weeks/2025-W38", "/weeks/2025-W41", f"/papers/{paper}"):
        scroll, inner, _ = await asyncio.to_thread(look, path)
        assert inner == PHONE[0], (path, inner)
        assert scroll <= inner, (path, scroll, inner)
    _, _, heading = await asyncio.to_thread(look, f"/papers/{paper}")
    assert LONG_WORD in heading.replace("\n", "")  # the long word is there, wrapped


async def test_every_same_site_link_on_the_week_page_resolves(base: str, browser: WebDriver) -> None:
    def hrefs() -> list[str]:
        browser.get(f"{base}/weeks/2025-W41")
        found = browser.execute_script("return Array.from(document.querySelectorAll('a[href]'), a => a.href)")
        return [str(href) for href in found]

    links = await asyncio.to_thread(hrefs)
    own = sorted({urldefrag(href).url for href in links if href.startswith(base + "/")})
    assert len(own) >= 14, own  # ten papers, the home, the archive, the search, the feed, the weeks
    assert any("/papers/" in href for href in own) and any(href.endswith("/feed.atom") for href in own)
    statuses = {href: (await get(href, "")).status for href in own}
    assert all(status == 200 for status in statuses.values()), statuses


async def test_no_javascript_is_needed(base: str, browser: WebDriver, app: App) -> None:
    paper = await paper_id(app, W38)

    def scripts_on_page(path: str) -> list[str | None]:
        browser.get(base + path)
        return [element.get_attribute("type") for element in browser.find_elements("css selector", "script")]

    for path in ("/weeks/2025-W38", f"/papers/{paper}"):
        kinds = await asyncio.to_thread(scripts_on_page, path)
        assert kinds == ["application/ld+json"], (path, kinds)

    def without_scripts() -> tuple[str, list[str]]:
        scripts(browser, enabled=False)
        browser.get("data:text/html,<title>before</title><script>document.title = 'ran'</script>")
        proof = browser.title  # scripts really are off
        browser.get(f"{base}/weeks/2025-W38")
        return proof, titles(browser)

    proof, shown = await asyncio.to_thread(without_scripts)
    assert proof == "before"
    assert len(shown) == 10 and all(HANGUL.search(title) for title in shown)


def test_the_skip_reason_says_what_is_missing_and_how_to_install_it() -> None:
    reason = chromium_missing(driver="/nonexistent/chromedriver")
    assert reason is not None and "/nonexistent/chromedriver" in reason and "apt-get install chromium" in reason
    assert re.search(r"scripts/test", reason)
