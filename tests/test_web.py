"""The web pages (bot/web/): a week, a paper, the archive, search, 404s; escaping, 304s, corrections
shown at once, pending papers. Real parts: the fake Hugging Face and Claude over HTTP, the real Redis,
the aiohttp server on a loopback port."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import aiohttp
import feedparser
import pytest

from bot.app import App
from bot.config import Settings
from bot.week import IsoWeek
from tests.conftest import free_port
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF, item_2026, week_items
from tests.fakes.telegram import FakeTelegram
from tests.test_bot import running
from tests.webkit import HANGUL, PUBLIC, W14, W38, W39, W40, get, served, site_of

HOSTILE = 'Attack </script><script>alert("x")</script> & <b>bold</b> Models'


@pytest.fixture
async def base(app: App, fake_claude: FakeClaude, fake_hf: FakeHF) -> AsyncIterator[str]:
    """W38 and W40 translated; W39 with every translation rejected (pending); served. (2026-W14, with
    nine papers, is never frozen: not on the site.)"""
    fake_hf.weeks["2025-W40"] = week_items("2025-W40")
    await app.digests.build(W38)
    await app.digests.build(W40)
    fake_claude.default = "english"  # rejected by the gate twice: every paper of W39 is pending
    await app.digests.build(W39)
    fake_claude.default = "good"
    async with served(site_of(app)) as url:
        yield url


def titles(text: str) -> list[str]:
    return re.findall(r'<h2><span class="rank">\d+\.</span> <a href="[^"]+">([^<]+)</a></h2>', text)


async def test_a_week_page_shows_ten_korean_titles_with_links_and_metadata(base: str, app: App) -> None:
    page = await get(base, "/weeks/2025-W38")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    shown = titles(page.text)
    assert len(shown) == 10 and all(title.startswith("한국어 제목:") for title in shown)
    assert '<html lang="ko">' in page.text
    assert f'<link rel="canonical" href="{PUBLIC}/weeks/2025-W38">' in page.text
    for tag in ("og:title", "og:description", "og:type", "og:url", "og:locale"):
        assert f'property="{tag}"' in page.text
    assert 'content="ko_KR"' in page.text and "prefers-color-scheme: dark" in page.text
    assert "<script>" not in page.text.replace('<script type="application/ld+json">', "")  # no JavaScript
    digest = await app.digests.current(W38, top_n=10)
    assert digest is not None
    top = digest.items[0].paper
    assert f'href="{PUBLIC}/papers/{top.id}"' in page.text
    assert f'href="{top.hf_url}"' in page.text and f'href="{top.arxiv_url}"' in page.text
    assert f"▲ {top.upvotes}" in page.text and "이 논문은" in page.text  # upvotes and the summary
    data = page.jsonld()
    assert data["inLanguage"] == "ko" and len(data["hasPart"]) == 10
    assert data["hasPart"][0]["translationOfWork"]["url"] == top.arxiv_url


async def test_home_is_the_latest_week_and_the_archive_lists_weeks_by_year(base: str, app: App) -> None:
    await app.digests.build(W14)  # nine papers: kept, never frozen
    home = await get(base, "/")
    assert home.status == 200 and "2025년 40주차" in home.text
    archive = await get(base, "/weeks")
    assert "2025년</h2>" in archive.text and "2026-W14" not in archive.text
    assert archive.text.index("2025-W40") < archive.text.index("2025-W39") < archive.text.index("2025-W38")
    assert (await get(base, "/weeks/2026-W14")).status == 404


async def test_a_paper_page_has_the_full_translation_provenance_and_never_poses_as_the_paper(
    base: str, app: App
) -> None:
    digest = await app.digests.current(W38, top_n=10)
    assert digest is not None
    item, translation = digest.items[0], digest.items[0].translation
    assert translation is not None
    page = await get(base, f"/papers/{item.paper.id}")
    assert page.status == 200
    assert html.escape(translation.abstract_ko.split(". ")[0], quote=False) in page.text
    assert "✍️ Claude Sonnet" in page.text and "번역" in page.text  # who translated, when
    data = page.jsonld()
    assert data["@type"] == "ScholarlyArticle" and data["inLanguage"] == "ko"
    assert data["headline"] == translation.title_ko and data["isBasedOn"] == item.paper.arxiv_url
    assert data["translationOfWork"]["name"] == item.paper.title
    assert data["translationOfWork"]["inLanguage"] == "en" and "author" not in data  # the page is not the paper
    assert item.paper.authors  # Hugging Face's list, kept in the snapshot: the original names them
    assert f"저자: {html.escape(', '.join(item.paper.authors[:12]))}" in page.text
    assert data["translationOfWork"]["author"] == [{"@type": "Person", "name": n} for n in item.paper.authors]
    assert 'property="og:type" content="article"' in page.text


async def test_pending_papers_show_their_english_title_and_are_never_an_error(base: str, app: App) -> None:
    page = await get(base, "/weeks/2025-W39")
    assert page.status == 200 and page.text.count("번역 준비 중") >= 10
    digest = await app.digests.current(W39, top_n=10)
    assert digest is not None
    first = digest.items[0].paper
    assert html.escape(first.title, quote=False) in page.text
    paper = await get(base, f"/papers/{first.id}")
    assert paper.status == 200 and "번역 준비 중" in paper.text
    assert html.escape(first.abstract[:60], quote=False) in paper.text  # the English original, marked


async def test_unknown_or_malformed_weeks_and_papers_are_korean_404s(base: str) -> None:
    for path in (
        "/weeks/2025-W99", "/weeks/nonsense", "/weeks/2024-W01", "/papers/9999.99999", "/papers/%3Cscript%3E",
        "/no/such/page",
    ):  # fmt: skip
        page = await get(base, path)
        assert page.status == 404, path
        assert HANGUL.search(page.text) and "Traceback" not in page.text, path
        assert "<script>" not in page.text, path


async def test_hostile_titles_are_escaped_in_html_and_in_json_ld(
    app: App, fake_hf: FakeHF, fake_claude: FakeClaude
) -> None:
    items = week_items("2025-W41")
    items[0]["paper"]["title"] = items[0]["title"] = HOSTILE
    fake_hf.weeks["2025-W41"] = items
    await app.digests.build(IsoWeek(2025, 41))
    async with served(site_of(app)) as url:
        for path in ("/weeks/2025-W41", f"/papers/{items[0]['paper']['id']}"):
            page = await get(url, path)
            assert page.status == 200
            assert 'alert("x")</script>' not in page.text and "<b>bold</b>" not in page.text, path
            assert "&lt;/script&gt;&lt;script&gt;" in page.text, path
            data = page.jsonld()  # the element ends where it should: the JSON parses whole
            assert HOSTILE in str(data), path
            script = page.text.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
            assert "<" not in script and "\\u003c/script\\u003e" in script, path


async def test_an_etag_or_last_modified_revalidates_with_a_304(base: str) -> None:
    first = await get(base, "/weeks/2025-W38")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = await get(base, "/weeks/2025-W38", **{"If-None-Match": etag})
    assert again.status == 304 and again.text == ""
    assert (await get(base, "/weeks/2025-W38", **{"If-Modified-Since": modified})).status == 304
    assert (await get(base, "/weeks/2025-W38", **{"If-None-Match": '"other"'})).status == 200
    feed = await get(base, "/feed.atom")
    assert (await get(base, "/feed.atom", **{"If-None-Match": feed.headers["ETag"]})).status == 304


async def test_a_correction_shows_at_once_on_the_paper_and_week_pages(base: str, app: App) -> None:
    digest = await app.digests.current(W38, top_n=10)
    assert digest is not None and app.translator is not None
    paper = digest.items[0].paper
    before = await get(base, f"/papers/{paper.id}")
    week_before = await get(base, "/weeks/2025-W38")
    assert "교정된 한국어 제목" not in before.text
    outcome = await app.translator.correct(paper, W38, ["첫 문장의 주어를 모델로"])
    assert outcome.translation is not None
    after = await get(base, f"/papers/{paper.id}", **{"If-None-Match": before.headers["ETag"]})
    assert after.status == 200 and "교정된 한국어 제목" in after.text and "✏️ 번역 수정됨" in after.text
    week_after = await get(base, "/weeks/2025-W38", **{"If-None-Match": week_before.headers["ETag"]})
    assert week_after.status == 200 and "교정된 한국어 제목" in week_after.text


async def test_search_finds_papers_of_the_site_and_echoes_the_query_escaped(base: str, app: App) -> None:
    digest = await app.digests.current(W38, top_n=10)
    assert digest is not None
    word = next(w for w in digest.items[0].paper.title.split() if len(w) > 6 and w.isalpha())
    page = await get(base, f"/search?q={word}")
    assert page.status == 200 and f"/papers/{digest.items[0].paper.id}" in page.text
    hostile = await get(base, "/search?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert hostile.status == 200 and "<script>alert" not in hostile.text and "&lt;script&gt;" in hostile.text


async def test_a_site_without_a_frozen_week_says_so(app: App) -> None:
    async with served(site_of(app)) as url:
        home = await get(url, "/")
        assert home.status == 200 and "아직 공개된 주가 없습니다" in home.text
        assert (await get(url, "/weeks/2025-W38")).status == 404
        assert feedparser.parse((await get(url, "/feed.atom")).text).bozo == 0


async def test_the_running_bot_serves_the_pages_with_hfweekly_web(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    port = free_port()
    async with running(settings, fake_tg, web=True, web_port=port) as app:
        await app.digests.build(W38)
        page = await get(f"http://127.0.0.1:{port}", "/")
        assert page.status == 200 and len(titles(page.text)) == 10
    async with running(settings, fake_tg) as app:  # off by default
        with pytest.raises(aiohttp.ClientConnectionError):
            await get(f"http://127.0.0.1:{port}", "/")


async def test_the_subscribe_link_names_the_bot(app: App) -> None:
    await app.digests.build(W38)
    settings = app.settings.model_copy(update={"bot_username": "hf_weekly_ko_bot"})
    app.settings = settings
    async with served(site_of(app)) as url:
        page = await get(url, "/weeks/2025-W38")
    assert 'href="https://t.me/hf_weekly_ko_bot?start=w_2025-W38"' in page.text


async def test_a_week_item_with_code_links(app: App, fake_hf: FakeHF) -> None:
    items = [
        item_2026(f"2509.1{i:04d}", f"Paper {i} on Scaling", "We study scaling. " * 20, 100 - i) for i in range(10)
    ]
    items[0] = item_2026("2509.10000", "Paper 0 on Scaling", "We study scaling. " * 20, 100, with_links=True)
    fake_hf.weeks["2025-W42"] = items
    await app.digests.build(IsoWeek(2025, 42))
    async with served(site_of(app)) as url:
        page = await get(url, "/weeks/2025-W42")
    assert ">코드" in page.text and "github.com" in page.text
