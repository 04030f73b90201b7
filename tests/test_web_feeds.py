"""The feeds (Atom by feedparser, JSON Feed 1.1 by its schema), topic feeds, and the static export
(`hfweekly site build`): files, relative links that resolve, feeds that parse."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import jsonschema
import pytest

from bot.app import App
from bot.topics import match_items
from bot.web.export import build_site
from tests.conftest import REDIS_URL
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF, week_items
from tests.test_cli import hfweekly
from tests.webkit import PUBLIC, W38, W39, W40, get, served, site_of

SCHEMA = json.loads((Path(__file__).parent / "data" / "jsonfeed-1.1.schema.json").read_text())


@pytest.fixture
async def weeks(app: App, fake_claude: FakeClaude, fake_hf: FakeHF) -> App:
    fake_hf.weeks["2025-W40"] = week_items("2025-W40")
    await app.digests.build(W38)
    await app.digests.build(W40)
    fake_claude.default = "english"  # W39: every paper pending
    await app.digests.build(W39)
    fake_claude.default = "good"
    return app


@pytest.fixture
async def base(weeks: App) -> AsyncIterator[str]:
    async with served(site_of(weeks)) as url:
        yield url


async def test_the_weekly_atom_feed_is_valid_korean_one_entry_per_week(base: str) -> None:
    page = await get(base, "/feed.atom")
    assert page.status == 200 and page.headers["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(page.text)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.feed.language == "ko" and feed.version == "atom10"
    assert [e.link for e in feed.entries] == [
        f"{PUBLIC}/weeks/2025-W40",
        f"{PUBLIC}/weeks/2025-W39",
        f"{PUBLIC}/weeks/2025-W38",
    ]
    content = feed.entries[0].content[0].value
    assert content.count("한국어 제목:") == 10 and f"{PUBLIC}/papers/" in content
    assert feed.entries[1].content[0].value.count("번역 준비 중") == 10


async def test_the_json_feed_follows_json_feed_1_1(base: str) -> None:
    page = await get(base, "/feed.json")
    assert page.headers["Content-Type"].startswith("application/feed+json")
    data = json.loads(page.text)
    jsonschema.validate(data, SCHEMA)
    assert data["language"] == "ko" and len(data["items"]) == 3
    assert data["items"][0]["url"] == f"{PUBLIC}/weeks/2025-W40" and "한국어 제목:" in data["items"][0]["content_html"]


async def test_the_papers_feed_has_one_entry_per_paper(base: str) -> None:
    feed = feedparser.parse((await get(base, "/papers.atom")).text)
    assert feed.bozo == 0 and feed.feed.language == "ko"
    assert len(feed.entries) == 30 and len({e.id for e in feed.entries}) == 30
    assert feed.entries[0].title.startswith("한국어 제목:")


async def test_a_topic_feed_has_the_papers_that_match_the_topic_only(base: str, weeks: App) -> None:
    digests = [d for w in (W40, W39, W38) if (d := await weeks.digests.current(w, top_n=10)) is not None]
    title = digests[0].items[0].paper.title
    word = next(w for w in re.findall(r"[A-Za-z]+", title) if len(w) > 5)
    expected = {m.item.paper.id for d in digests for m in match_items(d.items, [word])}  # a chat's topic rules
    feed = feedparser.parse((await get(base, f"/topics/{word}.atom")).text)
    assert feed.bozo == 0 and feed.feed.language == "ko"
    shown = {e.id.rsplit("/", 1)[1] for e in feed.entries}
    assert shown == expected and 0 < len(shown) < 30
    korean = await get(base, "/topics/%ED%95%9C%EA%B5%AD%EC%96%B4.atom")  # 한국어: in every Korean title
    assert len(feedparser.parse(korean.text).entries) == 20  # W40's and W38's; W39's are pending
    bad = await get(base, "/topics/" + "x" * 41 + ".atom")
    assert bad.status == 400 and "주제" in bad.text


def check_links(root: Path) -> tuple[int, int]:
    """Every relative href of every page under `root` names a file there: (pages, links checked)."""
    pages = list(root.rglob("*.html"))
    checked = 0
    for page in pages:
        for href in re.findall(r'href="([^"]+)"', page.read_text()):
            if urlsplit(href).scheme:
                continue
            assert not href.startswith("/"), f"{page}: {href} is not relative"
            assert (page.parent / unquote(href)).resolve().is_file(), f"{page}: {href}"
            checked += 1
    return len(pages), checked


async def test_the_static_export_writes_pages_with_relative_links_that_resolve(weeks: App, tmp_path: Path) -> None:
    built = await build_site(site_of(weeks, static=True, public_url=None), tmp_path)
    assert built.weeks == 3 and built.pages == 2 + 3 + 30 + 3 + 1
    for name in ("index.html", "weeks/index.html", "weeks/2025-W38.html", "feed.atom", "feed.json", "papers.atom"):
        assert (tmp_path / name).is_file(), name
    pages, checked = check_links(tmp_path)
    assert pages == 2 + 3 + 30 + 1 and checked > 300
    week = (tmp_path / "weeks" / "2025-W38.html").read_text()
    assert len(re.findall(r'<h2><span class="rank">', week)) == 10 and "한국어 제목:" in week
    for name in ("feed.atom", "papers.atom"):
        assert feedparser.parse((tmp_path / name).read_text()).bozo == 0
    jsonschema.validate(json.loads((tmp_path / "feed.json").read_text()), SCHEMA)


async def test_the_export_of_the_latest_weeks_only(weeks: App, tmp_path: Path) -> None:
    built = await build_site(site_of(weeks, static=True, weeks=1), tmp_path)
    assert built.weeks == 1 and (tmp_path / "weeks" / "2025-W40.html").is_file()
    assert not (tmp_path / "weeks" / "2025-W38.html").exists()
    assert "2025-W38" not in (tmp_path / "weeks" / "index.html").read_text()


async def test_hfweekly_site_build_says_how_many_pages_and_how_long(
    weeks: App, cli_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "site"
    env = {**cli_env, "REDIS_URL": REDIS_URL, "HFWEEKLY_PUBLIC_URL": "https://papers.example.kr"}
    result = await hfweekly(env, "site", "build", str(out), "--weeks", "2", cwd=tmp_path)
    assert result.status == 0, result.err
    assert re.fullmatch(r"wrote 28 pages \(2 weeks\) in \d+\.\d s to .*\n", result.out), result.out
    assert (out / "index.html").is_file() and (out / "papers.atom").is_file()
    assert "https://papers.example.kr/weeks/2025-W40.html" in (out / "feed.atom").read_text()
    bad = await hfweekly(env, "site", "build", str(out), "--weeks", "0", cwd=tmp_path)
    assert bad.status == 2 and "1 or more" in bad.err
