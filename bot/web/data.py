"""What the web pages show, read from Redis only: the frozen weeks, each week's top `top_n` papers
(what its subscribers were sent) with the translations that passed the gate, and a paper's cached
deep brief. Nothing here asks Hugging Face or Claude: a paper without a cached translation is shown
as pending (its English title, "번역 준비 중").

A week is on the site once its snapshot is frozen: the week has ended and its ranking passed the
source gate (at least `top_n` papers: bot/digest.py freezes exactly those). The latest such week is
the home page. The list of weeks (`SiteIndex`) is rebuilt when the archive version changes (a week
frozen); pages are cached by the content version (bot/store/papers.py `versions`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.brief import Briefs
from bot.digest import DigestService
from bot.models import Brief, Digest, DigestItem, Paper, Snapshot, Status, Translation
from bot.search import ArchiveIndex, Hit, search_with_titles
from bot.store import PaperStore
from bot.translate import Translator
from bot.week import IsoWeek


@dataclass(frozen=True)
class SiteIndex:
    """The weeks on the site (newest first) and where each of their papers is shown."""

    archive_version: int
    weeks: tuple[IsoWeek, ...]
    fetched: dict[IsoWeek, datetime] = field(default_factory=dict)
    papers: dict[str, IsoWeek] = field(default_factory=dict)  # paper id -> the latest week that lists it

    @property
    def latest(self) -> IsoWeek | None:
        return self.weeks[0] if self.weeks else None

    def neighbours(self, week: IsoWeek) -> tuple[IsoWeek | None, IsoWeek | None]:
        """(the week before, the week after) among the site's weeks."""
        if week not in self.weeks:
            return None, None
        i = self.weeks.index(week)
        return (self.weeks[i + 1] if i + 1 < len(self.weeks) else None), (self.weeks[i - 1] if i > 0 else None)


@dataclass(frozen=True)
class PaperView:
    """One paper's page: as ranked in its week, its translation (None: pending) and deep brief."""

    item: DigestItem
    week: IsoWeek
    brief: Brief | None

    @property
    def paper(self) -> Paper:
        return self.item.paper

    @property
    def translation(self) -> Translation | None:
        return self.item.translation


class WebData:
    def __init__(
        self,
        digests: DigestService,
        translator: Translator,
        archive: ArchiveIndex,
        briefs: Briefs | None,
        *,
        papers: PaperStore,
        top_n: int,
        tz: ZoneInfo,
        clock: Callable[[], datetime],
        max_weeks: int | None = None,
    ) -> None:
        self._digests = digests
        self._translator = translator
        self._archive = archive
        self._briefs = briefs
        self._papers = papers
        self.top_n = top_n
        self.tz = tz
        self._clock = clock
        self._max_weeks = max_weeks  # a static export of the latest N weeks only
        self._index = SiteIndex(-1, ())
        self._building = asyncio.Lock()

    async def versions(self) -> tuple[int, int]:
        """(archive version, content version): one Redis round trip."""
        return await self._papers.versions()

    async def index(self, archive_version: int) -> SiteIndex:
        """The site's weeks, rebuilt (every snapshot read once) when `archive_version` moved."""
        if self._index.archive_version == archive_version:
            return self._index
        async with self._building:
            if self._index.archive_version != archive_version:
                self._index = self._build_index(archive_version, await self._papers.all_snapshots())
        return self._index

    def _build_index(self, version: int, snapshots: Sequence[Snapshot]) -> SiteIndex:
        now = self._clock()
        frozen = [s for s in snapshots if s.week.is_completed(now, self.tz) and len(s.papers) >= self.top_n]
        frozen.sort(key=lambda s: s.week, reverse=True)
        frozen = frozen[: self._max_weeks] if self._max_weeks is not None else frozen
        papers: dict[str, IsoWeek] = {}
        for snapshot in reversed(frozen):  # oldest first: a paper listed twice belongs to its latest week
            for paper in snapshot.papers[: self.top_n]:
                papers[paper.id] = snapshot.week
        return SiteIndex(version, tuple(s.week for s in frozen), {s.week: s.fetched_at for s in frozen}, papers)

    async def week(self, week: IsoWeek) -> Digest | None:
        """The week's top papers as Redis holds them now (pending where no translation is cached)."""
        return await self._digests.current(week, top_n=self.top_n)

    async def weeks(self, weeks: Sequence[IsoWeek]) -> list[Digest]:
        found = [await self.week(week) for week in weeks]
        return [digest for digest in found if digest is not None]

    async def paper(self, paper_id: str, index: SiteIndex) -> PaperView | None:
        """A paper of a week on the site, with its cached brief; None when the site does not show it."""
        week = index.papers.get(paper_id)
        digest = await self.week(week) if week is not None else None
        if week is None or digest is None:
            return None
        item = next((item for item in digest.items if item.paper.id == paper_id), None)
        if item is None:
            return None
        brief = None
        if self._briefs is not None and item.status is Status.TRANSLATED:
            brief = await self._briefs.cached(item.paper)
        return PaperView(item, week, brief)

    async def search(self, query: str, index: SiteIndex, *, limit: int = 20) -> list[Hit]:
        """The bot's /search (bot/search.py), narrowed to the papers the site shows."""
        hits = await search_with_titles(self._archive, self._translator, query, limit=limit * 5)
        return [hit for hit in hits if hit.paper.id in index.papers][:limit]
