"""A paper's full text (its body, not only the abstract), fetched once and kept.

Order, first that has it:
  1. Hugging Face's markdown, `GET {HF_BASE_URL}/papers/{id}.md`. A 404, a page shell (HTML) or a stub
     (under 2,000 characters, or fewer than two sections under `#`/`##` headings: the title and the
     abstract only) does not count.
  2. arXiv's HTML paper, `GET {ARXIV_HTML_BASE_URL}/html/{id}` (LaTeXML), parsed with lxml.
  3. The abstract alone (source "abstract"): whoever uses the text says it is only the abstract.
A source that fails (after the retry policy of every source, bot/sources/http.py) or answers more than
`max_body` bytes (refused while streaming) is logged and the next one is tried.

Rules (bot/sources/fulltext_parse.py): references, acknowledgements and appendices over 4,000
characters are dropped; figures and tables leave the text (their captions are kept as a section of their
own); math becomes its LaTeX. The result is capped at 60,000 characters, whole sections only (the core
sections — abstract, introduction, method, experiments, results, limitations, conclusion — first), and
`truncated` says whether any was left out.

Kept in Redis (bot/store/fulltext.py), compressed, for 30 days; an abstract-only answer for a day when
both sources said they have nothing, not at all when one failed (asked again next time). Within a
process, concurrent requests for one paper share one fetch; across processes the cache serves.

The first figure (`first_figure`, for /paper): when the text came from arXiv's HTML, the same parse found
it and it is kept with the text (`FullText.figure`). When it came from Hugging Face's markdown, arXiv's
HTML was not fetched: it is then fetched for the figure alone, once (same retries and size cap), and the
answer kept (`figure:<id>`: 30 days; "none" for a day; nothing when arXiv failed: asked again next time).
An abstract-only text means arXiv had no HTML (or failed just now): no figure, nothing fetched again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

import aiohttp

from bot.errors import SourceError
from bot.models import Figure, FullText, Paper
from bot.sources.fulltext_parse import CAP, Section, arxiv_figure, arxiv_page, markdown_sections, within_cap
from bot.sources.http import Fetcher
from bot.store.fulltext import FULLTEXT_TTL, FullTextStore

log = logging.getLogger(__name__)

MAX_FULLTEXT_BODY = 10 * 1024 * 1024  # bytes: arXiv's HTML of a long paper with much math is a few MB
ABSTRACT_TTL = timedelta(days=1)  # arXiv converts new papers to HTML within days: look again tomorrow


class FullTextError(SourceError):
    """Hugging Face's markdown or arXiv's HTML could not be had; the message names the URL."""


def _now() -> datetime:
    return datetime.now(UTC)


class FullTextSource:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        store: FullTextStore,
        *,
        hf_base_url: str,
        arxiv_html_base_url: str,
        attempts: int = 4,
        backoff: float = 0.5,
        max_body: int = MAX_FULLTEXT_BODY,
        cap: int = CAP,
        clock: Callable[[], datetime] = _now,
        hf_headers: Mapping[str, str] | None = None,
        on_hf_request: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._hf = hf_base_url.rstrip("/")
        self._arxiv = arxiv_html_base_url.rstrip("/")
        # Hugging Face's requests carry HF_TOKEN and are counted (its limits are per 5 minutes); arXiv's
        # carry neither.
        self._fetch_hf = Fetcher(
            session, FullTextError, attempts=attempts, backoff=backoff, max_body=max_body, headers=hf_headers,
            on_request=on_hf_request,
        )  # fmt: skip
        self._fetch_arxiv = Fetcher(session, FullTextError, attempts=attempts, backoff=backoff, max_body=max_body)
        self._cap = cap
        self._clock = clock
        self._inflight: dict[str, asyncio.Future[FullText]] = {}  # by paper id: one fetch each
        self._inflight_figures: dict[str, asyncio.Future[Figure | None]] = {}  # arXiv's HTML for a figure alone

    def md_url(self, paper_id: str) -> str:
        return f"{self._hf}/papers/{paper_id}.md"

    def html_url(self, paper_id: str) -> str:
        return f"{self._arxiv}/html/{paper_id}"

    async def get(self, paper: Paper) -> FullText:
        """The paper's full text: from Redis, else fetched (once, however many ask at the same time).
        Never fails for the sources (the abstract is the last resort); StoreError when Redis does."""
        running = self._inflight.get(paper.id)
        if running is None:
            running = asyncio.ensure_future(self._load(paper))
            self._inflight[paper.id] = running
            running.add_done_callback(
                lambda done: self._inflight.pop(paper.id, None) if self._inflight.get(paper.id) is done else None
            )
        return await asyncio.shield(running)  # a caller that gives up does not cancel the others' fetch

    async def aclose(self) -> None:
        """Cancel the fetches still running (at shutdown)."""
        runs: list[asyncio.Future[FullText] | asyncio.Future[Figure | None]] = [*self._inflight.values()]
        for run in [*runs, *self._inflight_figures.values()]:
            run.cancel()

    async def _load(self, paper: Paper) -> FullText:
        cached = await self._store.get_full_text(paper.id)
        if cached is not None:
            return cached
        full, ttl = await self._fetch_full(paper)
        if ttl is not None:
            await self._store.save_full_text(full, ttl=ttl)
        return full

    async def first_figure(self, paper: Paper) -> Figure | None:
        """The paper's first figure with an image (None: it has none, or arXiv has no HTML of it). Never
        fails for the sources; StoreError when Redis does."""
        full = await self.get(paper)
        if full.source != "hf_md":
            return full.figure
        known, figure = await self._store.get_figure(paper.id)
        if known:
            return figure
        running = self._inflight_figures.get(paper.id)
        if running is None:
            running = asyncio.ensure_future(self._fetch_figure(paper))
            self._inflight_figures[paper.id] = running
            running.add_done_callback(lambda _: self._inflight_figures.pop(paper.id, None))
        return await asyncio.shield(running)

    async def _fetch_figure(self, paper: Paper) -> Figure | None:
        try:
            page = await self._fetch_arxiv.get_page(self.html_url(paper.id), {}, missing_ok=True)
        except FullTextError as exc:
            log.warning("Figure of %s: %s", paper.id, exc)
            return None
        figure = arxiv_figure(*page) if page is not None else None
        await self._store.save_figure(paper.id, figure)
        return figure

    async def _fetch_full(self, paper: Paper) -> tuple[FullText, timedelta | None]:
        """The full text and how long to keep it (None: not at all)."""
        failed = False
        for source, fetch in (("hf_md", self._fetch_hf), ("arxiv_html", self._fetch_arxiv)):
            url = self.md_url(paper.id) if source == "hf_md" else self.html_url(paper.id)
            try:
                page = await fetch.get_page(url, {}, missing_ok=True)
            except FullTextError as exc:
                log.warning("Full text of %s: %s", paper.id, exc)
                failed = True
                continue
            sections, figure = None, None
            if page is not None and source == "hf_md":
                sections = markdown_sections(page[0])
            elif page is not None:
                sections, figure = arxiv_page(*page)
            if sections:
                return self._made(paper.id, source, sections, figure), FULLTEXT_TTL
            log.info("Full text of %s: nothing usable at %s", paper.id, url)
        log.info("Full text of %s: only the abstract", paper.id)
        abstract = FullText(paper.id, "abstract", (("Abstract", paper.abstract),), False, self._clock())
        return abstract, None if failed else ABSTRACT_TTL

    def _made(self, paper_id: str, source: str, sections: list[Section], figure: Figure | None = None) -> FullText:
        kept, truncated = within_cap(sections, self._cap)
        return FullText(paper_id, source, kept, truncated, self._clock(), figure)
