"""Hugging Face's paper endpoint and search, and arXiv's export API, against their fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.errors import SourceError
from bot.models import Paper
from bot.sources.arxiv import ArxivSource, Withdrawn
from bot.sources.hf import HFSource
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.hf import FakeHF, item_2026


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_hf_paper_endpoint_and_404(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.papers["2601.00001"] = item_2026("2601.00001", "A  paper\non things", "Line one\nline two.", 42)
    hf = HFSource(session, fake_hf.url, attempts=1)
    assert await hf.fetch_paper("2601.00001") == Paper("2601.00001", "A paper on things", "Line one line two.", 42)
    assert await hf.fetch_paper("2601.99999") is None  # not indexed by Hugging Face


async def test_hf_paper_endpoint_retries_then_fails_as_a_source_error(
    session: aiohttp.ClientSession, fake_hf: FakeHF
) -> None:
    fake_hf.api_down = True
    with pytest.raises(SourceError):
        await HFSource(session, fake_hf.url, attempts=2, backoff=0.01).fetch_paper("2601.00001")
    assert sum("/api/papers/2601.00001" in r for r in fake_hf.requests) == 2


async def test_hf_search(session: aiohttp.ClientSession, fake_hf: FakeHF) -> None:
    fake_hf.search_results["diffusion"] = [
        item_2026(f"2601.0000{i}", f"Diffusion {i}", "Abstract.", i) for i in range(3)
    ]
    found = await HFSource(session, fake_hf.url, attempts=1).search("diffusion", limit=2)
    assert [p.id for p in found] == ["2601.00000", "2601.00001"]
    assert await HFSource(session, fake_hf.url, attempts=1).search("nothing") == []


async def test_arxiv_found_missing_malformed_and_withdrawn(
    session: aiohttp.ClientSession, fake_arxiv: FakeArxiv
) -> None:
    fake_arxiv.add("2509.99999", "Only on arXiv & nowhere else", "We show a < b. It improves by 7%. " * 3)
    fake_arxiv.add("hep-th/9901001", "An old paper", "Strings.")
    fake_arxiv.add("2401.00002", "Gone", "This paper has been withdrawn by the author.", comment="withdrawn")
    arxiv = ArxivSource(session, fake_arxiv.url, attempts=1)
    paper = await arxiv.fetch_paper("2509.99999")
    assert isinstance(paper, Paper) and paper.title == "Only on arXiv & nowhere else" and paper.upvotes == 0
    assert paper.abstract.startswith("We show a < b. It improves by 7%.") and "\n" not in paper.abstract
    old = await arxiv.fetch_paper("hep-th/9901001")
    assert isinstance(old, Paper) and old.id == "hep-th/9901001"
    assert await arxiv.fetch_paper("2509.00000") is None  # an empty feed
    assert await arxiv.fetch_paper("12345") is None  # arXiv's error entry
    assert await arxiv.fetch_paper("2401.00002") == Withdrawn("2401.00002", "Gone")


async def test_arxiv_unavailable_is_retried_then_a_source_error(
    session: aiohttp.ClientSession, fake_arxiv: FakeArxiv
) -> None:
    fake_arxiv.down = True
    with pytest.raises(SourceError):
        await ArxivSource(session, fake_arxiv.url, attempts=3, backoff=0.01).fetch_paper("2509.99999")
    assert len(fake_arxiv.requests) == 3
