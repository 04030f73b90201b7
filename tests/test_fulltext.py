"""A paper's full text (bot/sources/fulltext.py) through the fake Hugging Face and arXiv over real HTTP,
kept in the real Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from bot.app import open_app
from bot.config import Settings
from bot.models import FullText, Paper
from bot.sources.fulltext import FullTextSource
from bot.sources.fulltext_parse import FIGURES
from bot.store import Store
from tests.conftest import NOW
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.hf import FakeHF
from tests.fakes.papers_text import latexml_paper, paper_markdown, sample_body, stub_markdown

PID = "2509.00001"
ABSTRACT = "We propose a method that plans over long horizons and improves the score by 12.5% on three benchmarks."
PAPER = Paper(id=PID, title="Long-horizon planning", abstract=ABSTRACT, upvotes=10)
CAPTIONS = ("Figure 1: The pipeline, from raw pages to plans.", "Table 1: Scores on the three benchmarks.")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def store(redis: Redis, prefix: str) -> Store:
    return Store(redis, prefix)


def make(session: aiohttp.ClientSession, store: Store, hf: FakeHF, arxiv: FakeArxiv, **kw: Any) -> FullTextSource:
    return FullTextSource(
        session, store, hf_base_url=hf.url, arxiv_html_base_url=arxiv.url, attempts=2, backoff=0.01,
        clock=lambda: NOW, **kw,
    )  # fmt: skip


def md_calls(hf: FakeHF) -> int:
    return sum(1 for r in hf.requests if r.endswith(".md"))


def text_of(full: FullText) -> str:
    return "\n".join(f"{title}\n{text}" for title, text in full.sections)


async def test_hugging_face_markdown_is_used_when_it_has_the_text(
    session: aiohttp.ClientSession, store: Store, fake_hf: FakeHF, fake_arxiv: FakeArxiv
) -> None:
    fake_hf.markdown[PID] = paper_markdown(PAPER.title, ABSTRACT, sample_body(), appendix="A long proof. " * 800)
    full = await make(session, store, fake_hf, fake_arxiv).get(PAPER)
    assert full.source == "hf_md" and full.paper_id == PID and full.fetched_at == NOW and not full.truncated
    titles = [title for title, _ in full.sections]
    assert titles == ["Abstract", "1 Introduction", "2 Related Work", "3 Method", "4 Experiments",
                      "5 Limitations", "6 Conclusion"]  # fmt: skip
    assert full.sections[0][1] == ABSTRACT
    assert full.sections[3][1].split("\n\n")[0].startswith("Method paragraph 0: token0 token1")
    assert "Attention is all you need" not in text_of(full)  # references dropped
    assert "A long proof" not in text_of(full)  # a long appendix dropped
    assert fake_arxiv.html_calls == 0


@pytest.mark.parametrize("case", ["stub", "shell", "missing"])
async def test_arxiv_html_when_hugging_face_has_no_text(
    session: aiohttp.ClientSession, store: Store, fake_hf: FakeHF, fake_arxiv: FakeArxiv, case: str
) -> None:
    if case == "stub":
        fake_hf.markdown[PID] = stub_markdown(PAPER.title, ABSTRACT)
    elif case == "shell":
        fake_hf.markdown_html.add(PID)
    fake_arxiv.html[PID] = latexml_paper(PAPER.title, ABSTRACT, sample_body(), captions=CAPTIONS, appendix="Short.")
    full = await make(session, store, fake_hf, fake_arxiv).get(PAPER)
    assert full.source == "arxiv_html"
    assert md_calls(fake_hf) == 1 and f"/html/{PID}v2" in fake_arxiv.requests  # followed arXiv's redirect
    titles = [title for title, _ in full.sections]
    assert titles == ["Abstract", "1 Introduction", "2 Related Work", "3 Method", "4 Experiments",
                      "5 Limitations", "6 Conclusion", "Appendix A Proofs", FIGURES]  # fmt: skip
    sections = dict(full.sections)
    assert sections["Abstract"] == ABSTRACT
    intro = sections["1 Introduction"].split("\n\n")
    assert intro[0].startswith("Introduction paragraph 0: token0 token1")
    assert "with x^{2} as in ( Vaswani et al., 2017 )" in intro[0]  # math as its LaTeX, citations kept
    assert "1.1 Setting" in intro and "We fix the setting here." in intro  # the subsection, in order
    body = "\n".join(text for title, text in full.sections if title != FIGURES)
    assert "The pipeline" not in body and "Scores on the three" not in body  # captions apart
    assert "Score 81.2" not in text_of(full) and "Panel text" not in text_of(full)  # figures' content gone
    assert sections[FIGURES].split("\n\n") == list(CAPTIONS)
    assert "Attention is all you need" not in text_of(full) and "A footnote" not in text_of(full)
    assert "LaTeXML" not in text_of(full) and "Ada Lovelace" not in text_of(full)


async def test_abstract_only_when_neither_has_the_text(
    session: aiohttp.ClientSession, store: Store, fake_hf: FakeHF, fake_arxiv: FakeArxiv
) -> None:
    full = await make(session, store, fake_hf, fake_arxiv).get(PAPER)
    assert full == FullText(PID, "abstract", (("Abstract", ABSTRACT),), False, NOW)
    assert md_calls(fake_hf) == 1 and fake_arxiv.html_calls == 1
    assert await store.get_full_text(PID) == full  # both said "none": kept (for a day)


async def test_cap_cuts_at_a_section_boundary(
    session: aiohttp.ClientSession, store: Store, fake_hf: FakeHF, fake_arxiv: FakeArxiv
) -> None:
    para = " ".join(["word"] * 1490)  # about 7,450 characters a paragraph, 9 sections of this
    body = [(f"Part {i}", [f"Part {i}: {para}"]) for i in range(9)] + [("Conclusion", ["We conclude."])]
    fake_hf.markdown[PID] = paper_markdown(PAPER.title, ABSTRACT, body)
    full = await make(session, store, fake_hf, fake_arxiv).get(PAPER)
    assert full.source == "hf_md" and full.truncated
    assert 50_000 < full.chars <= 60_000
    kept = dict(full.sections)
    assert kept["Abstract"] == ABSTRACT
    assert full.sections[-1] == ("10 Conclusion", "We conclude.")  # a core section outranks the others
    parts = [title for title, _ in full.sections[1:-1]]
    assert parts == [f"{i + 1} Part {i}" for i in range(len(parts))] and len(parts) < 9  # whole, in order
    assert all(kept[title] == f"Part {i}: {para}" for i, title in enumerate(parts))  # none cut inside


async def test_a_second_request_is_served_from_redis(
    session: aiohttp.ClientSession, store: Store, redis: Redis, prefix: str, fake_hf: FakeHF, fake_arxiv: FakeArxiv
) -> None:
    fake_hf.markdown[PID] = stub_markdown(PAPER.title, ABSTRACT)
    fake_arxiv.html[PID] = latexml_paper(PAPER.title, ABSTRACT, sample_body(400), captions=CAPTIONS)
    first = await make(session, store, fake_hf, fake_arxiv).get(PAPER)
    seen = (len(fake_hf.requests), len(fake_arxiv.requests))
    again = await make(session, store, fake_hf, fake_arxiv).get(PAPER)  # another process: only Redis shared
    assert again == first and (len(fake_hf.requests), len(fake_arxiv.requests)) == seen
    raw = await redis.get(f"{prefix}:fulltext:{PID}")
    assert raw is not None and len(raw) < first.chars / 3  # compressed
    assert 29 * 86400 < await redis.ttl(f"{prefix}:fulltext:{PID}") <= 30 * 86400


async def test_twenty_at_once_make_one_fetch(
    session: aiohttp.ClientSession, store: Store, fake_hf: FakeHF, fake_arxiv: FakeArxiv
) -> None:
    fake_hf.markdown[PID] = stub_markdown(PAPER.title, ABSTRACT)
    fake_arxiv.html[PID] = latexml_paper(PAPER.title, ABSTRACT, sample_body())
    source = make(session, store, fake_hf, fake_arxiv)
    results = await asyncio.gather(*(source.get(PAPER) for _ in range(20)))
    assert {r.source for r in results} == {"arxiv_html"} and all(r == results[0] for r in results)
    assert md_calls(fake_hf) == 1 and fake_arxiv.html_calls == 2  # the address and its redirect, once


async def test_a_body_over_the_size_cap_is_refused(
    session: aiohttp.ClientSession,
    store: Store,
    fake_hf: FakeHF,
    fake_arxiv: FakeArxiv,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_hf.markdown[PID] = stub_markdown(PAPER.title, ABSTRACT)
    fake_arxiv.html_stream_bytes = 4 * 1024 * 1024  # streamed without a length: refused while reading
    source = make(session, store, fake_hf, fake_arxiv, max_body=256 * 1024)
    with caplog.at_level(logging.WARNING, logger="bot.sources.fulltext"):
        full = await source.get(PAPER)
    assert full.source == "abstract" and full.sections == (("Abstract", ABSTRACT),)
    assert fake_arxiv.html_calls == 1  # not retried: a too large answer is not transient
    assert any("larger than" in r.getMessage() for r in caplog.records)
    assert await store.get_full_text(PID) is None  # a source failed: asked again next time, not kept


async def test_the_app_sends_hf_token_to_hugging_face_only_and_counts_its_calls(
    settings: Settings, fake_hf: FakeHF, fake_arxiv: FakeArxiv
) -> None:
    fake_hf.markdown[PID] = stub_markdown(PAPER.title, ABSTRACT)  # a stub: arXiv is asked next
    fake_arxiv.html[PID] = latexml_paper(PAPER.title, ABSTRACT, sample_body())
    with_token = settings.model_copy(update={"hf_token": SecretStr("hf_secret_token")})
    async with open_app(with_token, translate=False, clock=lambda: NOW) as app:
        assert app.fulltext is not None
        full = await app.fulltext.get(PAPER)
        assert full.source == "arxiv_html"
        assert fake_hf.authorizations == ["Bearer hf_secret_token"]  # the one .md request
        assert fake_arxiv.authorizations and set(fake_arxiv.authorizations) == {None}  # (it redirects to v1)
        assert await app.store.hf_calls(NOW.timestamp()) == 1  # arXiv's request is not Hugging Face's
