"""Any paper on demand (/paper, pasted links, the `p_` deep link, search results): found in the weekly
archive, else on Hugging Face (`/api/papers/{id}`), else on arXiv; translated by the same translator,
cache key, validation and re-ask as the digest, so a paper translated for a weekly digest (or for
anyone before) costs nothing.

New translations (and deep briefs, bot/brief.py: each counts as one new paper) are limited:
`paper_daily_limit` a day per person, and `on_demand_daily_tokens` a
day for everyone together (past it they wait until tomorrow, admins are told once; the weekly digest
has a budget of its own, untouched).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from bot import texts
from bot.brief import Briefs
from bot.config import Settings
from bot.models import Brief, Paper, Translation
from bot.sources.arxiv import ArxivSource, Withdrawn
from bot.sources.hf import HFSource
from bot.store import PaperStore
from bot.translate import Translator
from bot.week import IsoWeek

log = logging.getLogger(__name__)

Notify = Callable[[str], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True)
class Found:
    paper: Paper
    week: IsoWeek | None  # the week it was among Hugging Face's papers, when the archive has it
    source: str  # "archive", "huggingface" or "arxiv"


class Missing(StrEnum):
    NOT_FOUND = "not_found"  # neither Hugging Face nor arXiv has it
    WITHDRAWN = "withdrawn"


class Refused(StrEnum):
    USER_LIMIT = "user_limit"  # the person's new translations for today are used up
    BUDGET = "budget"  # everyone's on-demand tokens for today are spent


@dataclass(frozen=True)
class Translated:
    translation: Translation | None  # None: Claude failed (pending; nothing was counted)
    remaining: int | None  # the person's new translations left today (None: it was cached)


@dataclass(frozen=True)
class Briefed:
    brief: Brief | None  # None: it could not be made (rejected, failed, or failed lately; nothing counted)
    remaining: int | None  # the person's new papers left today (None: someone else's brief was waited for)


class OnDemand:
    def __init__(
        self,
        papers: PaperStore,
        hf: HFSource,
        arxiv: ArxivSource,
        translator: Translator,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        notify: Notify | None = None,
        briefs: Briefs | None = None,
    ) -> None:
        self.briefs = briefs  # deep briefs (bot/brief.py), made within the same limits
        self._papers = papers
        self._hf = hf
        self._arxiv = arxiv
        self._translator = translator
        self._settings = settings
        self._clock = clock
        self.notify = notify  # set by the composition root once the bot exists
        self._inflight: dict[str, asyncio.Future[Translation | None]] = {}  # by paper id: one Claude call each

    def cancel(self) -> None:
        """Cancel every translation under way (shutdown: whoever waits for one gets CancelledError)."""
        for run in list(self._inflight.values()):
            run.cancel()

    async def find(self, paper_id: str) -> Found | Missing:
        """The paper: from the archive, the papers found lately, Hugging Face, then arXiv (SourceError
        when they cannot be reached)."""
        archived = await self._papers.get_paper(paper_id)
        if archived is not None:
            return Found(archived[0], archived[1], "archive")
        if (paper := await self._papers.get_found_paper(paper_id)) is not None:
            return Found(paper, None, "cache")
        paper = await self._hf.fetch_paper(paper_id)
        source = "huggingface"
        if paper is None:
            from_arxiv = await self._arxiv.fetch_paper(paper_id)
            if isinstance(from_arxiv, Withdrawn):
                return Missing.WITHDRAWN
            paper, source = from_arxiv, "arxiv"
        if paper is None:
            return Missing.NOT_FOUND
        await self._papers.save_found_paper(paper)
        return Found(paper, None, source)

    async def search_hf(self, query: str, *, limit: int) -> list[Paper]:
        """Hugging Face's own paper search (when the archive has too few matches)."""
        return await self._hf.search(query, limit=limit)

    async def cached(self, paper: Paper) -> Translation | None:
        return (await self._translator.cached([paper])).get(paper.id)

    async def translate(self, found: Found, user_id: int) -> Translated | Refused:
        """Claude's translation within the person's and everyone's limits for today. A paper being
        translated for someone else meanwhile is waited for (and costs nothing); one whose translation
        failed in the last minutes is not asked again yet (pending, nothing counted)."""
        paper = found.paper
        running = self._inflight.get(paper.id)
        if running is not None:
            return Translated(await asyncio.shield(running), None)
        if await self._translator.recently_failed([paper]):
            return Translated(None, None)
        week = found.week or IsoWeek.current(self._clock(), self._settings.tz)

        def start() -> asyncio.Future[Translation | None]:
            run = asyncio.ensure_future(self._translator.translate(paper, week=week, on_demand=True))
            self._inflight[paper.id] = run
            run.add_done_callback(
                lambda done: self._inflight.pop(paper.id, None) if self._inflight.get(paper.id) is done else None
            )
            return run

        outcome = await self._limited(user_id, start)
        return outcome if isinstance(outcome, Refused) else Translated(*outcome)

    async def brief(self, found: Found, user_id: int) -> Briefed | Refused:
        """The paper's deep brief (bot/brief.py) within the same limits as a translation: one of the
        person's new papers today, and everyone's token budget. A brief being made meanwhile is waited
        for (and costs nothing); a failed one costs nothing."""
        assert self.briefs is not None, "briefs are made where a translator is"
        briefs, paper = self.briefs, found.paper
        if (running := briefs.running(paper.id)) is not None:
            return Briefed(await asyncio.shield(running), None)
        week = found.week or IsoWeek.current(self._clock(), self._settings.tz)
        outcome = await self._limited(user_id, lambda: briefs.start(paper, week=week, on_demand=True))
        return outcome if isinstance(outcome, Refused) else Briefed(*outcome)

    async def budget_spent(self, today: date) -> bool:
        """Whether everyone's on-demand tokens for `today` are spent (/paper, briefs and questions share
        them); admins are told once a day when they are."""
        spent = await self._papers.on_demand_usage(day=today)
        if spent.input_tokens + spent.output_tokens < self._settings.on_demand_daily_tokens:
            return False
        if self.notify is not None and await self._papers.first_time(f"budget:{today}", ttl=timedelta(days=2)):
            await self.notify(texts.BUDGET_SPENT.format(today=today, tokens=self._settings.on_demand_daily_tokens))
        return True

    async def _limited(
        self, user_id: int, start: Callable[[], asyncio.Future[T | None]]
    ) -> tuple[T | None, int] | Refused:
        """Run `start()`'s work within today's limits: everyone's token budget (admins told once when it
        is spent), then one of the person's new papers. What it gives (None: it failed) and how many the
        person has left; a failure, or the work not had (Redis failed, the handler was cancelled),
        gives the person's paper back."""
        today = self._clock().astimezone(self._settings.tz).date()
        if await self.budget_spent(today):
            return Refused.BUDGET
        remaining = await self._papers.take_paper_allowance(user_id, today, limit=self._settings.paper_daily_limit)
        if remaining is None:
            return Refused.USER_LIMIT
        run = start()
        try:
            made = await asyncio.shield(run)
        except BaseException:  # Redis failed, or the handler was cancelled: what was not had costs nothing
            if not run.done() or run.cancelled() or run.exception() is not None:
                await self._papers.give_back_paper_allowance(user_id, today)
            raise
        if made is None:
            await self._papers.give_back_paper_allowance(user_id, today)
            remaining += 1
        return made, remaining
