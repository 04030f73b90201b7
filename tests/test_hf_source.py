from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.sources.hf import HFError, HFSource, parse_items
from bot.week import IsoWeek
from tests.fakes.hf import DATA, FakeHF, item_2024, item_2026

W38 = IsoWeek(2025, 38)
ABSTRACT = "An abstract\nwith arXiv's   hard\nline breaks.\n\nA second paragraph."


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def source(session: aiohttp.ClientSession, fake: FakeHF, attempts: int = 3) -> HFSource:
    return HFSource(session, fake.url, attempts=attempts, backoff=0.01)


async def test_real_week_is_ranked_by_upvotes(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    papers = await source(session, fake_hf).fetch_week(W38)
    expected = [p["id"] for p in json.loads((DATA / "hf-weeks" / "2025-W38.json").read_text())["papers"]]
    assert [p.id for p in papers] == expected  # the fake served them shuffled
    assert papers[0].title == "Scaling Agents via Continual Pre-training"
    assert "\n" not in papers[0].abstract  # arXiv's hard breaks normalised
    assert "39.9% on BrowseComp-en" in papers[0].abstract
    assert fake_hf.requests == ["/api/daily_papers?week=2025-W38&limit=100&p=0"]


async def test_old_item_shape(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    papers = await source(session, fake_hf).fetch_week(IsoWeek(2025, 39))
    assert len(papers) == 10
    assert all(p.title and p.abstract and p.upvotes > 0 for p in papers)


async def test_whitespace_and_paragraphs(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.weeks["2025-W40"] = [item_2024("2510.00001", "A title\n  over two lines", ABSTRACT, 5)]
    [paper] = await source(session, fake_hf).fetch_week(IsoWeek(2025, 40))
    assert paper.title == "A title over two lines"
    assert paper.abstract == "An abstract with arXiv's hard line breaks.\n\nA second paragraph."


async def test_pages_until_a_short_page(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    items = [item_2026(f"2509.{i:05d}", f"Paper {i}", f"Abstract {i}.", i % 50) for i in range(230)]
    items.append(item_2026("2509.99999", "The best paper", "Best.", 999))  # on the last page
    fake_hf.weeks["2025-W40"] = items
    papers = await source(session, fake_hf).fetch_week(IsoWeek(2025, 40))
    assert len(papers) == 231
    assert papers[0].id == "2509.99999"
    assert [r.split("&p=")[1] for r in fake_hf.requests] == ["0", "1", "2"]


async def test_exactly_full_pages_ask_for_one_more(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.weeks["2025-W40"] = [item_2026(f"2509.{i:05d}", "T", "A.", i) for i in range(200)]
    papers = await source(session, fake_hf).fetch_week(IsoWeek(2025, 40))
    assert len(papers) == 200
    assert fake_hf.api_calls == 3  # the third page is empty: the end


async def test_ties_have_a_stable_order(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.weeks["2025-W40"] = [
        item_2026("2509.00003", "C", "c.", 7),
        item_2026("2509.00001", "A", "a.", 7),
        item_2026("2509.00009", "Top", "t.", 8),
        item_2026("2509.00002", "B", "b.", 7),
    ]
    papers = await source(session, fake_hf).fetch_week(IsoWeek(2025, 40))
    assert [p.id for p in papers] == ["2509.00009", "2509.00001", "2509.00002", "2509.00003"]


async def test_duplicates_across_pages_count_once(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    items = [item_2026(f"2509.{i:05d}", "T", "A.", i) for i in range(100)]
    fake_hf.weeks["2025-W40"] = [*items, items[0]]
    assert len(await source(session, fake_hf).fetch_week(IsoWeek(2025, 40))) == 100


async def test_empty_week(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    assert await source(session, fake_hf).fetch_week(IsoWeek(2023, 2)) == []


async def test_api_500_falls_back_to_the_week_page(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.api_down = True
    papers = await source(session, fake_hf, attempts=3).fetch_week(W38)
    assert [p.id for p in papers][:2] == ["2509.13310", "2509.12201"]
    assert fake_hf.api_calls == 3  # every attempt was made before falling back
    assert fake_hf.requests[-1] == "/papers/week/2025-W38"


async def test_unknown_api_shape_falls_back_to_the_week_page(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.api_script.append((200, {}, json.dumps({"papers": "moved elsewhere"})))
    papers = await source(session, fake_hf).fetch_week(W38)
    assert len(papers) == 10
    assert fake_hf.api_calls == 1  # a wrong shape is not retried
    assert fake_hf.page_calls == 1


async def test_items_without_papers_fall_back(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.api_script.append((200, {}, json.dumps([{"id": "x"}, {"paper": {"id": "y"}}])))
    assert len(await source(session, fake_hf).fetch_week(W38)) == 10


async def test_429_waits_retry_after_then_succeeds(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.api_script.append((429, {"Retry-After": "1"}, "Too Many Requests"))
    started = time.monotonic()
    papers = await source(session, fake_hf).fetch_week(W38)
    assert time.monotonic() - started >= 0.9  # Retry-After was honoured, not the 10 ms backoff
    assert len(papers) == 10
    assert fake_hf.api_calls == 2
    assert fake_hf.page_calls == 0


@pytest.mark.parametrize(
    "headers", [{"RateLimit": '"api";r=0;t=1', "RateLimit-Policy": '"fixed window";"api";q=500;w=300'},
                {"RateLimit-Reset": "1"}],
    ids=["ratelimit", "ratelimit-reset"],
)  # fmt: skip
async def test_429_without_retry_after_waits_for_the_window_to_reset(
    session: aiohttp.ClientSession, fake_hf: FakeHF, headers: dict[str, str]
) -> None:
    """Hugging Face answers a 429 with its `RateLimit` headers: the window's reset is waited for."""
    fake_hf.api_script.append((429, headers, "Too Many Requests"))
    started = time.monotonic()
    papers = await source(session, fake_hf).fetch_week(W38)
    assert time.monotonic() - started >= 0.9  # the reset (1 s) was waited for, not the 10 ms backoff
    assert len(papers) == 10 and fake_hf.api_calls == 2


async def test_the_token_goes_on_every_request_and_every_request_is_counted(
    session: aiohttp.ClientSession, fake_hf: FakeHF
) -> None:
    counted: list[int] = []

    async def count() -> None:
        counted.append(1)

    with_token = HFSource(session, fake_hf.url, attempts=2, backoff=0.01, token="hf_secret", on_request=count)
    fake_hf.api_script.append((500, {}, "Internal Error"))  # a retry is a request too
    await with_token.fetch_week(W38)
    await with_token.fetch_paper("2509.13310")
    assert fake_hf.authorizations and set(fake_hf.authorizations) == {"Bearer hf_secret"}
    assert len(counted) == len(fake_hf.requests) == 3
    fake_hf.authorizations.clear()
    await source(session, fake_hf).fetch_paper("2509.13310")  # without a token: no header at all
    assert fake_hf.authorizations == [None]


async def test_a_count_that_fails_never_fails_the_request(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    async def broken() -> None:
        raise RuntimeError("Redis is away")

    assert len(await HFSource(session, fake_hf.url, attempts=1, on_request=broken).fetch_week(W38)) == 10


async def test_retry_after_beyond_the_bound_is_not_waited(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.api_script.append((429, {"Retry-After": "3600"}, "Too Many Requests"))
    papers = await source(session, fake_hf).fetch_week(W38)
    assert len(papers) == 10
    assert fake_hf.api_calls == 1
    assert fake_hf.page_calls == 1


async def test_both_paths_failing_names_week_urls_and_problems(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.api_down = True
    fake_hf.page_down = True
    with pytest.raises(HFError) as info:
        await source(session, fake_hf, attempts=2).fetch_week(W38)
    message = str(info.value)
    assert "2025-W38" in message
    assert f"{fake_hf.url}/api/daily_papers?week=2025-W38" in message
    assert "HTTP 500" in message
    assert f"{fake_hf.url}/papers/week/2025-W38" in message


async def test_page_without_data_props(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.api_down = True
    fake_hf.page_override = "<html><body><div data-target='Other' data-props='{}'></div></body></html>"
    with pytest.raises(HFError) as info:
        await source(session, fake_hf, attempts=1).fetch_week(W38)
    assert "no data-props with a dailyPapers list" in str(info.value)


async def test_unreachable_server_is_an_hf_error(session: aiohttp.ClientSession) -> None:
    dead = HFSource(session, "http://127.0.0.1:9", attempts=2, backoff=0.01)
    with pytest.raises(HFError) as info:
        await dead.fetch_week(W38)
    assert "2025-W38" in str(info.value)
    assert "ClientConnectorError" in str(info.value)


async def test_5xx_then_success(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.api_script.extend([(502, {}, "Bad Gateway"), (503, {}, "Unavailable")])
    assert len(await source(session, fake_hf).fetch_week(W38)) == 10
    assert fake_hf.api_calls == 3 and fake_hf.page_calls == 0


async def test_timeouts_are_retried_then_fall_back(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.api_hang = 1.0
    slow = HFSource(session, fake_hf.url, attempts=2, backoff=0.01, timeout=0.2)
    papers = await slow.fetch_week(W38)
    assert len(papers) == 10
    assert fake_hf.api_calls == 2 and fake_hf.page_calls == 1


async def test_retry_after_as_an_http_date(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.api_script.append((429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, "Too Many Requests"))
    assert len(await source(session, fake_hf).fetch_week(W38)) == 10  # a date in the past: retry at once
    assert fake_hf.api_calls == 2


async def test_an_answer_too_large_is_refused_while_it_streams_and_the_page_is_used(
    session: aiohttp.ClientSession, fake_hf: FakeHF
) -> None:
    fake_hf.api_body_bytes = 4 * 1024 * 1024
    papers = await HFSource(session, fake_hf.url, attempts=1, max_body=1024 * 1024).fetch_week(W38)
    assert len(papers) == 10  # from the week page
    fake_hf.page_override = "<html>" + " " * 2 * 1024 * 1024 + "</html>"
    with pytest.raises(HFError, match="the answer is larger than 1 MB; refused"):
        await HFSource(session, fake_hf.url, attempts=1, max_body=1024 * 1024).fetch_week(W38)


async def test_an_error_page_without_a_charset_is_retried_then_the_page_is_used(
    session: aiohttp.ClientSession, fake_hf: FakeHF
) -> None:
    gateway = (502, {"Content-Type": "text/html"}, "<html><body>502 Bad Gateway</body></html>")  # nginx's own
    fake_hf.api_script.extend([gateway] * 3)
    papers = await source(session, fake_hf).fetch_week(W38)
    assert len(papers) == 10 and fake_hf.api_calls == 3 and fake_hf.page_calls == 1


def test_a_papers_code_and_project_links_are_kept_and_only_web_urls() -> None:
    base = {"id": "2509.00001", "title": "T", "summary": "An abstract.", "upvotes": 3}
    [linked] = parse_items(
        [
            {
                "paper": base
                | {"githubRepo": "https://github.com/a/b", "githubStars": 1200, "projectPage": "https://a.io"}
            }
        ],
        where="test",
    )
    assert (linked.github_repo, linked.github_stars, linked.project_page) == (
        "https://github.com/a/b",
        1200,
        "https://a.io",
    )
    hostile = {"githubRepo": "javascript:alert(1)", "githubStars": -5, "projectPage": "https://"}
    [plain] = parse_items([{"paper": base | hostile}], where="test")
    assert (plain.github_repo, plain.github_stars, plain.project_page) == (None, None, None)
    [old] = parse_items([{"paper": base}], where="test")  # 2024's items have none of them
    assert old.github_repo is None and old.github_stars is None


def test_a_papers_authors_are_kept_without_hidden_or_malformed_ones() -> None:
    base = {"id": "2509.00001", "title": "T", "summary": "An abstract.", "upvotes": 3}
    authors = [
        {"name": "Zesen Cheng", "hidden": False, "user": {"fullname": "Zesen Cheng"}},
        {"name": "  Hang   Zhang ", "hidden": False},
        {"name": "Someone Hidden", "hidden": True},
        {"name": 42},
        "not a record",
        {"_id": "no name"},
    ]
    [paper] = parse_items([{"paper": base | {"authors": authors}}], where="test")
    assert paper.authors == ("Zesen Cheng", "Hang Zhang")
    [none] = parse_items([{"paper": base | {"authors": "garbage"}}], where="test")
    assert none.authors == () and none == paper  # not part of a paper's identity


def test_authors_survive_a_snapshot_round_trip() -> None:
    from dataclasses import asdict

    from bot.models import Paper

    paper = Paper("2509.00001", "T", "A", 3, authors=("A B", "C D"))
    again = Paper(**json.loads(json.dumps(asdict(paper))))
    assert again.authors == ("A B", "C D") and isinstance(again.authors, tuple)
    assert Paper(**{k: v for k, v in asdict(paper).items() if k != "authors"}).authors == ()  # frozen before
