"""DigestService: week -> snapshot (frozen ranking) -> translations -> Digest.

One pipeline for the CLI, the bot's /week and the weekly job.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.brief import Briefs
from bot.errors import DigestError, EmptyWeekError, FutureWeekError, TooEarlyWeekError
from bot.faithful import unsummarisable
from bot.metrics import BUILD_SECONDS
from bot.models import Digest, DigestItem, Paper, Snapshot, Status, Translation, week_page_url
from bot.sources.hf import HFSource
from bot.store import PaperStore
from bot.translate import Translator
from bot.week import FIRST_WEEK, IsoWeek

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
K = TypeVar("K")
T = TypeVar("T")
Progress = Callable[[str], None]

MEMO_SECONDS = 60.0  # how long a complete digest of a finished week is served from memory
SNAPSHOT_SIZE = 50  # papers kept in a week's snapshot: the most any digest shows (top_n ≤ 50)
SHORT_RECHECK = timedelta(minutes=5)  # a finished week with fewer than top_n papers is fetched again after this


def _shared(runs: dict[K, asyncio.Future[T]], key: K, start: Callable[[], Coroutine[Any, Any, T]]) -> Awaitable[T]:
    """One run of `start()` per key at a time: a caller that comes while it runs awaits the same run.
    Shielded: one caller giving up (a cancelled handler) does not cancel the others' run."""
    run = runs.get(key)
    if run is None:
        run = asyncio.ensure_future(start())
        runs[key] = run
        run.add_done_callback(lambda done: runs.pop(key) if runs.get(key) is done else None)
        # Whoever waits gets the outcome; if all of them gave up, it is still retrieved (not "never retrieved").
        run.add_done_callback(lambda done: done.cancelled() or done.exception())
    return asyncio.shield(run)


def utcnow() -> datetime:
    return datetime.now(UTC)


class DigestService:
    def __init__(
        self,
        source: HFSource,
        papers: PaperStore,
        translator: Translator | None,
        *,
        top_n: int,
        tz: ZoneInfo,
        clock: Clock = utcnow,
        briefs: Briefs | None = None,
    ) -> None:
        self._source = source
        self._briefs = briefs  # the top papers' deep briefs, made after the translations of a build
        self._papers = papers
        self._translator = translator
        self._top_n = top_n
        self._tz = tz
        self._clock = clock
        self._inflight: dict[tuple[IsoWeek, bool, bool, int], asyncio.Future[Digest]] = {}
        self._memo: dict[tuple[IsoWeek, int], tuple[float, Digest]] = {}
        self._forgets = 0

    async def snapshot(self, week: IsoWeek, *, refresh: bool = False, progress: Progress | None = None) -> Snapshot:
        """The week's frozen ranking; fetched (and frozen) on first use or when `refresh` is asked."""
        now = self._clock()
        if not week.has_started(now, self._tz):
            last = IsoWeek.last_completed(now, self._tz)
            raise FutureWeekError(f"{week} is in the future; the last completed week is {last}")
        if week < FIRST_WEEK:
            raise TooEarlyWeekError(
                f"Hugging Face has no papers before {FIRST_WEEK} (its daily papers began in May 2023)"
            )
        if not refresh and (cached := await self._papers.get_snapshot(week)) is not None and not self._short(cached):
            return cached
        if progress:
            progress(f"fetching {week} from Hugging Face")
        papers = await self._source.fetch_week(week)  # SourceError when Hugging Face fails
        if not papers:
            raise EmptyWeekError(f"Hugging Face lists no papers for {week}")
        snapshot = Snapshot(
            week=week,
            papers=tuple(papers[:SNAPSHOT_SIZE]),
            fetched_at=now,
            source_url=week_page_url(week),
        )
        # Frozen only when it passes the source gate: a glitchy answer with too few papers is kept
        # briefly and fetched again, never frozen for good.
        final = week.is_completed(now, self._tz) and len(snapshot.papers) >= self._top_n
        await self._papers.save_snapshot(snapshot, final=final)
        log.info("%s %s: %d papers", "Froze" if final else "Kept for now (not frozen)", week, len(snapshot.papers))
        return snapshot

    def _short(self, snapshot: Snapshot) -> bool:
        """A finished week kept with fewer than top_n papers, long enough ago to ask Hugging Face again."""
        now = self._clock()
        return (
            len(snapshot.papers) < self._top_n
            and snapshot.week.is_completed(now, self._tz)
            and now - snapshot.fetched_at >= SHORT_RECHECK
        )

    async def cached(self, week: IsoWeek, *, top_n: int | None = None) -> Digest | None:
        """The week's digest if everything it needs is in Redis already (no HF, no Claude); else None.

        A complete digest of a completed week is also kept in memory for MEMO_SECONDS, so a burst of
        /week for the same week costs no Redis round trips; `forget` drops it (e.g. after /retranslate;
        another instance's change shows here within MEMO_SECONDS)."""
        key = (week, top_n or self._top_n)
        memo = self._memo.get(key)
        if memo is not None and memo[0] > time.monotonic():
            return memo[1]
        forgets = self._forgets
        snapshot = await self._papers.get_snapshot(week)
        if snapshot is None or self._translator is None or self._short(snapshot):
            return None
        papers = snapshot.papers[: key[1]]
        translations = await self._translator.cached(papers)
        missing = [p for p in papers if p.id not in translations and not unsummarisable(p)]
        if missing and len(await self._translator.recently_failed(missing)) < len(missing):
            return None  # some were never tried (or not lately): a build is needed
        # Papers whose translation failed lately are shown as pending: the heal job or a later build
        # retries them; a view does not ask Claude again at once.
        digest = _assemble(snapshot, papers, dict(translations), translate=True)
        if not missing and week.is_completed(self._clock(), self._tz) and forgets == self._forgets:
            self._memo[key] = (time.monotonic() + MEMO_SECONDS, digest)
        return digest

    async def known_paper(self, paper_id: str) -> tuple[Paper, IsoWeek | None] | None:
        """A paper known without asking anyone (Redis only): of a week's ranking (with that week), else
        found on demand lately (no week); None when unknown."""
        return await self._papers.known_paper(paper_id)

    async def current(self, week: IsoWeek, *, top_n: int) -> Digest | None:
        """The week's digest as Redis holds it now, never asking Hugging Face or Claude (what is not
        translated is pending): what the editor renders sent messages from. None without a snapshot."""
        snapshot = await self._papers.get_snapshot(week)
        if snapshot is None or self._translator is None:
            return None
        papers = snapshot.papers[:top_n]
        return _assemble(snapshot, papers, dict(await self._translator.cached(papers)), translate=True)

    def cancel_builds(self) -> None:
        """Cancel every build under way (shutdown: whoever waits for one gets CancelledError)."""
        for run in list(self._inflight.values()):
            run.cancel()

    def forget(self, week: IsoWeek) -> None:
        """Drop the in-memory copies of a week's digest (its translations or ranking changed)."""
        self._forgets += 1  # a read under way when this is called must not memoize what it read
        for key in [k for k in self._memo if k[0] == week]:
            del self._memo[key]

    async def build(
        self,
        week: IsoWeek,
        *,
        translate: bool = True,
        refresh: bool = False,
        top_n: int | None = None,
        progress: Progress | None = None,
    ) -> Digest:
        """Build (or rebuild from the cache) the week's digest. Simultaneous builds of the same digest
        share one run: the second caller waits for the first one's result."""
        key = (week, translate, refresh, top_n or self._top_n)
        return await _shared(self._inflight, key, lambda: self._build(week, translate, refresh, top_n, progress))

    async def _build(
        self, week: IsoWeek, translate: bool, refresh: bool, top_n: int | None, progress: Progress | None
    ) -> Digest:
        with BUILD_SECONDS.time():
            return await self._build_timed(week, translate, refresh, top_n, progress)

    async def _build_timed(
        self, week: IsoWeek, translate: bool, refresh: bool, top_n: int | None, progress: Progress | None
    ) -> Digest:
        self.forget(week)
        snapshot = await self.snapshot(week, refresh=refresh, progress=progress)
        papers = snapshot.papers[: top_n or self._top_n]
        translations: dict[str, Translation | None] = {}
        if translate:
            if self._translator is None:
                raise DigestError("translation was asked for but no translator is configured")

            def on_translated(done: int, total: int) -> None:
                if progress:
                    progress(f"translating {done}/{total}")

            translations = await self._translator.translate_many(papers, week=week, progress=on_translated)
            self._make_briefs(week, papers)
        return _assemble(snapshot, papers, translations, translate=translate)

    def _make_briefs(self, week: IsoWeek, papers: Sequence[Paper]) -> None:
        """Start the top papers' deep briefs (bot/brief.py, in the background: the digest does not wait);
        a failure is logged, never the digest's."""
        if self._briefs is None:
            return
        try:
            self._briefs.for_digest(week, papers)
        except Exception:
            log.exception("Briefs of %s failed (the digest goes on)", week)


def _status(paper: Paper, translation: Translation | None, translate: bool) -> Status:
    if not translate:
        return Status.UNTRANSLATED
    if translation is not None:
        return Status.TRANSLATED
    return Status.NO_ABSTRACT if unsummarisable(paper) else Status.PENDING


def _assemble(
    snapshot: Snapshot, papers: Sequence[Paper], translations: Mapping[str, Translation | None], *, translate: bool
) -> Digest:
    items = []
    for rank, paper in enumerate(papers, start=1):
        translation = translations.get(paper.id)
        status = _status(paper, translation, translate)
        items.append(DigestItem(rank=rank, paper=paper, translation=translation, status=status))
    return Digest(
        week=snapshot.week,
        start=snapshot.week.monday(),
        end=snapshot.week.sunday(),
        source_url=snapshot.source_url,
        fetched_at=snapshot.fetched_at,
        items=tuple(items),
    )
