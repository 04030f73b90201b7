"""Briefs: a paper's deep brief (심층 요약), written by Claude from its full text, gated, cached.

Making one: the full text (bot/sources/fulltext.py: Hugging Face's markdown, else arXiv's HTML, else
the abstract alone) → Claude, with the JSON schema of four parts (bot/brief_prompt.py) → the gate
(bot/brief_gate.py: form, and bot/faithful.py's names/numbers/script/drift checks against the FULL
text) → one re-ask naming what was wrong → cached. A brief rejected twice, or an API error, is no
brief (None): nothing unchecked reaches a reader; the failure is remembered for FAILED_BRIEF_TTL so a
broken paper is not asked again in a loop. One Claude call per paper at a time in a process (whoever
asks meanwhile shares it).

The cache key (bot/store/briefs.py) holds the paper id, the model, config/brief.md's hash and a hash
of the full text the brief was written from: a better full text later (arXiv's HTML appears) makes a
new brief. A brief written from the abstract alone says so (its `source` is "abstract").

Who asks: the digest build, for the week's top `brief_top` papers after the translations
(`for_digest`: in the background, so the digest is never held, not even by a slow Claude; tokens
counted against the week, like translations; every failure logged, counted and swallowed; bounded by
DIGEST_TIMEOUT; cancelled at shutdown, so a one-shot command such as `hfweekly digest` leaves them to
the running bot or to readers); and readers on demand (🔎, `/paper <id>
심층`, bot/ondemand.py `OnDemand.brief`: within /paper's per-person limit and daily token budget).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bot.brief_gate import gate_brief
from bot.brief_prompt import BRIEF_SCHEMA, MAX_TOKENS, BriefPrompt, reask, source_text, user_text
from bot.claude import Claude, describe
from bot.glossary import Glossary
from bot.metrics import BRIEFS, VALIDATION_REJECTED
from bot.models import Brief, FullText, Paper
from bot.sources.fulltext import FullTextSource
from bot.store import BriefStore, FullTextStore
from bot.validate import Rejected, text_of
from bot.week import IsoWeek

if TYPE_CHECKING:
    from anthropic.types import MessageParam

log = logging.getLogger(__name__)

DIGEST_TIMEOUT = 600.0  # seconds the digest build gives its briefs at most, all together


def text_hash(full: FullText) -> str:
    """A hash of the full text a brief is written from (its source and sections)."""
    data = json.dumps([full.source, [list(s) for s in full.sections]], ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


class Briefs:
    def __init__(
        self,
        claude: Claude,
        prompt: BriefPrompt,
        fulltext: FullTextSource,
        *,
        briefs: BriefStore,
        texts: FullTextStore,
        glossary: Callable[[], Awaitable[Glossary]],
        top: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._claude = claude
        self._prompt = prompt
        self._fulltext = fulltext
        self._briefs = briefs  # the cache
        self._texts = texts  # full texts as kept (a cached brief is found without fetching one)
        self._glossary = glossary  # the translator's glossary as it stands (names it supplies pass the gate)
        self.top = top
        self._clock = clock
        self._inflight: dict[str, asyncio.Future[Brief | None]] = {}  # by paper id: one Claude call each
        self._background: set[asyncio.Task[None]] = set()  # the digest builds' briefs under way

    def key(self, paper: Paper, full: FullText) -> str:
        return self._briefs.brief_key(paper.id, self._claude.model, self._prompt.hash, text_hash(full))

    async def cached(self, paper: Paper) -> Brief | None:
        """The paper's brief when one is cached for the full text as kept now (Redis only)."""
        full = await self._texts.get_full_text(paper.id)
        return None if full is None else await self._briefs.get_brief(self.key(paper, full))

    def running(self, paper_id: str) -> asyncio.Future[Brief | None] | None:
        """The brief being made for the paper in this process, if any."""
        return self._inflight.get(paper_id)

    def start(self, paper: Paper, *, week: IsoWeek, on_demand: bool) -> asyncio.Future[Brief | None]:
        """Make the paper's brief (or join the one being made): a future of the brief, None when it
        failed (or failed lately). StoreError when Redis fails."""
        running = self._inflight.get(paper.id)
        if running is None:
            running = asyncio.ensure_future(self._make(paper, week, on_demand))
            self._inflight[paper.id] = running
            running.add_done_callback(
                lambda done: self._inflight.pop(paper.id, None) if self._inflight.get(paper.id) is done else None
            )
            running.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved
        return running

    def cancel(self) -> None:
        """Cancel every brief under way (shutdown)."""
        for run in self._inflight.values():
            run.cancel()
        for task in self._background:
            task.cancel()

    def for_digest(self, week: IsoWeek, papers: Sequence[Paper]) -> None:
        """Start the briefs of the top `top` papers (in rank order) as the week's digest is built, in
        the background: the digest does not wait for them."""
        if self.top <= 0 or not papers:
            return
        task = asyncio.create_task(self._for_digest(week, list(papers[: self.top])))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def settled(self) -> None:
        """Wait until the digest builds' briefs under way are done (tests; a graceful stop)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def _for_digest(self, week: IsoWeek, papers: list[Paper]) -> None:
        """Never fails, never takes longer than DIGEST_TIMEOUT: a brief is extra, the digest is not."""
        try:
            async with asyncio.timeout(DIGEST_TIMEOUT):
                made = await asyncio.gather(
                    *(asyncio.shield(self.start(p, week=week, on_demand=False)) for p in papers),
                    return_exceptions=True,
                )
        except TimeoutError:
            BRIEFS.labels("failed").inc()
            log.warning("Briefs of %s: not all made within %.0f s (the digest goes on)", week, DIGEST_TIMEOUT)
            return
        for paper, outcome in zip(papers, made, strict=False):
            if isinstance(outcome, BaseException):
                BRIEFS.labels("failed").inc()
                log.warning("Brief of %s (for %s) failed: %s", paper.id, week, outcome)
            elif outcome is None:
                log.info("Brief of %s (for %s): none (rejected, failed or failed lately)", paper.id, week)

    async def _make(self, paper: Paper, week: IsoWeek, on_demand: bool) -> Brief | None:
        full = await self._fulltext.get(paper)
        key = self.key(paper, full)
        if (cached := await self._briefs.get_brief(key)) is not None:
            return cached
        if await self._briefs.brief_recently_failed(key):
            return None
        brief = await self._ask(paper, full, week, on_demand)
        if brief is None:
            await self._briefs.mark_brief_failed(key)
        else:
            await self._briefs.save_brief(key, brief)
        return brief

    async def _ask(self, paper: Paper, full: FullText, week: IsoWeek, on_demand: bool) -> Brief | None:
        """Ask, gate, re-ask once naming the violation: the brief, or None."""
        sdk = await self._claude.sdk()
        glossary = await self._glossary()
        system: list[dict[str, object]] = [{"type": "text", "text": self._prompt.system}]
        if block := glossary.prompt_block():
            system.append({"type": "text", "text": block})
        system[-1]["cache_control"] = {"type": "ephemeral"}
        source = source_text(paper, full)
        messages: list[MessageParam] = [{"role": "user", "content": user_text(paper, full)}]
        for attempt in (1, 2):
            try:
                message = await self._claude.ask(
                    system, messages, week, on_demand=on_demand, schema=BRIEF_SCHEMA, max_tokens=MAX_TOKENS
                )
            except sdk.APIError as exc:
                log.warning("Brief of %s failed: Claude API error: %s", paper.id, describe(exc))
                BRIEFS.labels("api_error").inc()
                return None
            try:
                parts = gate_brief(source, message, glossary)
            except Rejected as exc:
                VALIDATION_REJECTED.labels(f"brief_{exc.reason}").inc()
                BRIEFS.labels("rejected").inc()
                log.info("Brief of %s rejected (attempt %d): %s", paper.id, attempt, exc)
                messages = [
                    *messages,
                    {"role": "assistant", "content": text_of(message) or "{}"},
                    {"role": "user", "content": reask(str(exc))},
                ]
                continue
            BRIEFS.labels("made").inc()
            return Brief(**parts.model_dump(), source=full.source, model=self._claude.model, made_at=self._clock())
        log.warning("Brief of %s failed after a re-ask", paper.id)
        return None
