"""One publish run's state (`Run`), and its end (`Finisher`): what every run does when it stops, however
it stops (done, shutdown, lock lost, cancelled, a Redis failure it could still record).

The end is written in one atomic step (bot/store/runs.py `finish_run`): the chats a later run owes the
week, the slots that delivered it, the week's retry time, the report. Which chats are owed follows
from one rule: a recipient the run did not settle (never tried, or cut off mid-send) is owed, as is
one whose entry says it is still owed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import texts
from bot.alerts import Alerts
from bot.audience import ALL, Audience
from bot.digest import DigestService
from bot.layout import papers_of, plan_digest, render_plan
from bot.ledger import LedgerEntry, Report
from bot.models import ALL_SLOT_KEYS, Digest, HealRecord, View
from bot.refs import Kind, Ref
from bot.store import DeliveryStore, EditStore, Layout, PublishLock, RunStore
from bot.week import IsoWeek

log = logging.getLogger("bot.deliver")

Clock = Callable[[], datetime]
Notify = Callable[[str], Awaitable[None]]
UNREADABLE_TOLD_FOR = timedelta(days=30)  # admins hear once of a week's unreadable ledger entries
UNREADABLE_RETRY = timedelta(hours=1)  # chats whose entries cannot be read are looked at again this often


@dataclass
class Run:
    week: IsoWeek
    digest: Digest
    ledger: dict[int, LedgerEntry]  # each chat's entry as last saved by this run (or read at its start)
    report: Report
    lock_lost: asyncio.Event  # set when the lock is lost (renewal failed, a write refused): start nothing new
    layouts: dict[str, Layout]  # by view key: the week's layouts kept so far
    owed: set[int]  # chats the week was owed to when the run began
    lock: PublishLock  # its token fences every ledger write of the run
    generation: str  # the week's owed generation when the run began (bot/store/runs.py)
    unreadable: set[int] = field(default_factory=set)  # chats whose entry cannot be read: skipped
    messages_by_view: dict[str, asyncio.Future[list[str]]] = field(default_factory=dict)  # rendered once each
    claimed: set[int] = field(default_factory=set)  # chats a worker has taken this run (each once)
    settled: set[int] = field(default_factory=set)  # chats this run is done with (their entry says how)
    still_owed: set[int] = field(default_factory=set)  # chats a later run must try (again)
    tracebacks: set[str] = field(default_factory=set)  # chat failures whose traceback was logged
    told_plain: bool = False  # admins were told this run that a part went out as plain text

    @property
    def stopped(self) -> bool:
        return self.lock_lost.is_set()

    async def messages(
        self, username: str | None, key: str, view: View, *, delivery: DeliveryStore, edits: EditStore
    ) -> list[str]:
        """The week's messages for a view (by its kept layout, kept now if it has none), rendered once
        per run: chats with the same view share them (what each shows goes into the `edits` index)."""
        future = self.messages_by_view.get(key)
        if future is None:
            rendering = self._render(username, key, view, delivery, edits)
            future = self.messages_by_view[key] = asyncio.ensure_future(rendering)
        return await future

    async def _render(
        self, username: str | None, key: str, view: View, delivery: DeliveryStore, edits: EditStore
    ) -> list[str]:
        layout = self.layouts.get(key)
        if layout is None:
            plan = plan_digest(self.digest, view, bot_username=username)
            layout = self.layouts[key] = await delivery.keep_layout(self.week, key, Layout(view, plan))
        self.report.renders += 1
        messages = render_plan(self.digest, layout.view, layout.plan, bot_username=username)
        shown = papers_of(self.digest, layout.plan)  # the paper→message index: what each message shows
        await edits.index_refs({self.ref(key, i): papers for i, papers in enumerate(shown)})
        return messages

    def ref(self, key: str, part: int) -> Ref:
        return Ref(Kind.DIGEST, str(self.week), key, part)

    def settle(self, entry: LedgerEntry) -> None:
        """The run is done with this chat: counted by its entry, owed again if the entry says so."""
        self.ledger[entry.chat_id] = entry
        self.settled.add(entry.chat_id)
        self.report.count(entry)
        if entry.owed:
            self.still_owed.add(entry.chat_id)


def slot_keys(slots: Sequence[str] | None) -> list[str]:
    return list(ALL_SLOT_KEYS if slots is ALL else (slots or ()))


class Finisher:
    def __init__(
        self,
        digests: DigestService,
        *,
        runs: RunStore,
        delivery: DeliveryStore,
        edits: EditStore,
        clock: Clock,
        notify: Notify,
        alerts: Alerts,
    ) -> None:
        self._runs = runs  # the run's end, in one write
        self._delivery = delivery  # heal records
        self._edits = edits  # papers changed during the run: their messages queued for the editor
        self._digests = digests
        self._clock = clock
        self._notify = notify
        self._alerts = alerts

    async def finish(self, run: Run, audience: Audience, slots: Sequence[str] | None, *, why: str) -> None:
        """Record how the run ended (one atomic write), then tell what needs telling. `why`: why it
        stopped early, if it did ("" when it ran to its end)."""
        report, week, now = run.report, run.week, self._clock()
        # Not settled: never tried, or cut off mid-send (a migrated group's new id included: it is no
        # recipient of the run's). Unreadable entries stay owed, retried slowly until they can be read.
        untried = ({r.chat_id for r in audience.recipients} | run.claimed) - run.settled - run.unreadable
        run.still_owed |= untried | run.unreadable
        report.complete = not why and not untried
        if not report.complete:
            log.info("Stopped publishing %s %s; the next run sends the rest: %s", week, why, report.line())
        elif report.owed:
            log.warning(
                "Published %s; %d chats are owed a retry from %s", report.line(), report.owed, report.next_retry
            )
        else:
            log.info("Published %s", report.line())
        paid = (audience.owed - run.still_owed) | set(audience.dropped)
        # Chats owed a retry are retried by the scheduler when due, whichever week it is. A run that
        # stopped early is due at once, and never puts off a time another run set (it may have lost
        # the lock to it). Every run includes every chat owed the week, so a complete run's earliest
        # retry is the week's (unless a chat was owed it meanwhile: the earlier time stays).
        if not report.complete:
            retry: datetime | None = now
        elif run.still_owed - run.unreadable or report.unresolved:
            retry = report.next_retry or now
        else:
            retry = now + UNREADABLE_RETRY if run.unreadable else None
        await self._runs.finish_run(
            report,
            owed=sorted(run.still_owed),
            paid=sorted(paid),
            slots=slot_keys(slots) if report.complete else (),  # stopped early: its slots run again
            retry_at=retry,
            earlier_only=not report.complete,
            generation=run.generation,
            as_last=slots is ALL or report.chats > report.already,  # what /status shows: a run that did anything
            done=report.done,
        )
        await self._tell(run)

    async def _tell(self, run: Run) -> None:
        report, week, digest = run.report, run.week, run.digest
        if report.messages:  # a paper translated or corrected during the run: its messages sent since
            current = await self._digests.current(week, top_n=len(digest.items))  # show the old text
            for old, now in zip(digest.items, current.items if current else (), strict=False):
                if old.paper.id == now.paper.id and old.translation != now.translation:
                    await self._edits.paper_changed(now.paper.id)
        if (
            digest.pending
            and report.messages
            and await self._delivery.heal_record(week) is None
            and not await self._delivery.marked(f"heal-gave-up:{week}")  # not started again once given up
        ):
            await self._delivery.save_heal(
                week, HealRecord(since=self._clock(), papers=len(digest.pending), indexed=True)
            )
            await self._notify(texts.PENDING_SENT.format(week=week, count=len(digest.pending)))
        if report.given_up:
            listed = "\n".join(report.given_up[:20])
            await self._notify(texts.CHATS_GIVEN_UP.format(week=week, count=len(report.given_up), chats=listed))
        if run.unreadable and await self._delivery.first_time(f"unreadable:{week}", ttl=UNREADABLE_TOLD_FOR):
            chats = ", ".join(map(str, sorted(run.unreadable)[:20]))
            await self._notify(texts.LEDGER_UNREADABLE.format(week=week, count=len(run.unreadable), chats=chats))
        if report.failed or report.unknown or report.unresolved:  # once per 10 minutes, not every retry run
            errors = report.errors
            await self._alerts.alert(
                f"owed:{week}", texts.RUN_OWED.format(line=report.line(), retry=report.next_retry, errors=errors)
            )
