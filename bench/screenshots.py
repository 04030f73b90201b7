"""Screenshots of a week page for the README: light, dark and phone, into docs/img/.

    python -m bench.screenshots [--out docs/img]

The week is 2025-W38's ten real papers (tests/data) built through the fake Hugging Face and Claude,
then given hand-written Korean titles and summaries (checked by the faithfulness gate), so the pages look as a reader sees them; served
by the real web server (root-relative links) from a redis-server of the script's own. The browser is
the tests' own setup (tests/browserkit.py: Debian's headless chromium and chromedriver, selenium).
Each screenshot is the viewport only (desktop 1000×1100, phone 375×812 at 2×).

Needs: chromium and chromium-driver, redis-server, and for Hangul (else it renders as boxes) a
Korean font: `apt-get install chromium chromium-driver redis-server fonts-noto-cjk`. The tests do not
need the font.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bench.common import World, own_redis
from bot.app import App, open_app
from bot.config import Settings
from bot.faithful import check
from bot.week import IsoWeek
from tests.browserkit import chromium_missing, color_scheme, open_chromium, phone, reset
from tests.webkit import served, site_of

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

WEEK = IsoWeek(2025, 38)
DESKTOP = (1000, 1100)
KOREAN = {  # paper id: (title, summary), as a careful translator would write them
    "2509.13310": (
        "지속 사전학습으로 에이전트 확장하기",
        "에이전트 능력을 위한 지속 사전학습(Agentic CPT)을 제안하고, 이렇게 학습한 AgentFounder 모델이 여러 벤치마크에서 높은 성능을 보인다.",
    ),
    "2509.12201": (
        "OmniWorld: 4D 월드 모델링을 위한 다중 도메인·다중 모달 데이터셋",
        "4D 월드 모델링을 위해 여러 도메인과 모달리티를 아우르는 대규모 데이터셋 OmniWorld를 공개하고, 기존 모델의 한계를 드러내는 벤치마크를 제시한다.",
    ),
    "2509.15221": (
        "ScaleCUA: 크로스 플랫폼 데이터로 오픈소스 컴퓨터 사용 에이전트 확장하기",
        "여섯 가지 운영체제와 세 가지 작업 영역을 아우르는 대규모 데이터셋으로 오픈소스 컴퓨터 사용 에이전트 ScaleCUA를 학습한다.",
    ),
    "2509.15207": (
        "FlowRL: LLM 추론을 위한 보상 분포 맞추기",
        "보상을 최대화하는 대신 보상 분포 전체를 맞추도록 학습해, 추론 경로의 다양성을 지키면서 수학과 코드 추론 성능을 높인다.",
    ),
    "2509.13312": (
        "WebWeaver: 동적 개요로 웹 규모의 근거를 구조화하는 개방형 딥 리서치",
        "계획자와 작성자 두 에이전트가 개요를 고쳐 가며 근거를 모으고 인용해, 긴 보고서를 쓰는 개방형 딥 리서치 프레임워크를 제안한다.",
    ),
    "2509.14008": (
        "Hala 기술 보고서: 아랍어 중심 지시·번역 모델을 대규모로 만들기",
        "번역 파이프라인으로 만든 대규모 아랍어 지시 데이터로 아랍어 중심 모델 Hala를 학습하고 아랍어 벤치마크에서 좋은 결과를 보고한다.",
    ),
    "2509.13305": (
        "WebSailor-V2: 합성 데이터와 확장 가능한 강화학습으로 상용 에이전트와의 격차 좁히기",
        "합성 데이터와 확장 가능한 강화학습으로 웹 에이전트를 학습해 오픈소스 모델과 상용 에이전트 사이의 격차를 줄인다.",
    ),
    "2509.13313": (
        "ReSum: 맥락 요약으로 긴 탐색 지능 열기",
        "탐색 중 쌓인 맥락을 주기적으로 요약해 맥락 길이의 한계를 넘어 긴 탐색을 이어 가는 방법 ReSum을 제안한다.",
    ),
    "2509.13311": (
        "환경 확장을 통한 범용 에이전트 지능을 향하여",
        "다양한 시뮬레이션 환경을 대규모로 만들어 함수 호출 에이전트를 학습하면 범용 에이전트 능력이 높아짐을 보인다.",
    ),
    "2509.13309": (
        "WebResearcher: 긴 탐색 에이전트의 제한 없는 추론 능력 끌어내기",
        "연구 과정을 반복되는 라운드로 나누어 보고서를 갱신하는 방식으로, 긴 탐색에서도 추론을 이어 가는 딥 리서치 에이전트를 제안한다.",
    ),
}


async def seed(app: App) -> None:
    """WEEK built and frozen through the fakes; the ten papers' translations replaced by KOREAN's."""
    assert app.translator is not None
    digest = await app.digests.build(WEEK)
    glossary = await app.translator.glossary()
    for item in digest.items:
        if item.paper.id in KOREAN and item.translation is not None:
            title, summary = KOREAN[item.paper.id]
            korean = replace(item.translation, title_ko=title, summary_ko=summary)
            check(item.paper, korean, glossary)  # hand-written, still through the faithfulness gate
            await app.store.save_translation(app.translator.key(item.paper), korean)


def settings_of(world: World, url: str) -> Settings:
    return Settings(
        anthropic_api_key=SecretStr("bench-key"), anthropic_base_url=world.claude.url, hf_base_url=world.hf.url,
        redis_url=url, redis_prefix=world.prefix, http_port=0, log_level="WARNING", brief_top=0,
    )  # fmt: skip


def shoot(driver: WebDriver, url: str, out: Path) -> list[Path]:
    made = []
    for name, scheme, on_phone in (("week-light", "light", False), ("week-dark", "dark", False),
                                   ("week-phone", "light", True)):  # fmt: skip
        reset(driver)
        color_scheme(driver, scheme)
        if on_phone:
            phone(driver)
        driver.get(url)
        path = out / f"{name}.png"
        driver.save_screenshot(str(path))  # the viewport only
        made.append(path)
    return made


async def run(out: Path) -> list[Path]:
    if (missing := chromium_missing()) is not None:
        raise SystemExit(missing)
    server, url = await own_redis()
    try:
        async with World(redis_url=url) as world, open_app(settings_of(world, url)) as app:
            await seed(app)
            async with served(site_of(app, public_url=None)) as base:
                driver = await asyncio.to_thread(open_chromium, *DESKTOP)
                try:
                    made = await asyncio.to_thread(shoot, driver, f"{base}/weeks/{WEEK}", out)
                finally:
                    await asyncio.to_thread(driver.quit)
    finally:
        server.terminate()
        await server.wait()
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(run(out)):
        print(f"{path}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
