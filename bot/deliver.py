"""Broadcaster: a week's digest to every recipient, exactly once, within Telegram's flood limits.

A run is for some weekly slots (the scheduler), or for all of them (an admin's publish); it sends to
the chats of those slots and to the chats the week is owed to (bot/audience.py). Each chat gets the
digest in its own view (form, count, English titles, topics): the messages are laid out once per view
and week, and the layout is kept, so a chat's messages are always those it was first sent.

A run reads as: the chat's view's messages → for each chat: its next part → take a send slot → mark the part
in doubt → send → transition (bot/ledger.py) → save. The ledger entry is saved immediately before
each request is written and again the moment its outcome is known, so a run that is killed and
started again sends every chat only what it is missing (and repeats only a request that was in
flight). A failed or doubtful send is retried by a later run, with backoff, for hours before the
chat is given up. A Redis lock, renewed while the run lasts, keeps a second process from sending
the same week; a Redis failure stops the run (nothing could be recorded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot import texts
from bot.alerts import Alerts
from bot.audience import ALL, Audience, AudienceFinder
from bot.config import Settings
from bot.digest import DigestService
from bot.errors import AlreadyPublishing, HeldError, StoreError
from bot.layout import depth, papers_of, plan_digest, render_plan
from bot.ledger import LedgerEntry, Outcome, Report, Skip, begin, new_entry, record, sending, sent_any
from bot.limiter import Priority, SendLimiter
from bot.metrics import MESSAGES
from bot.models import ALL_SLOT_KEYS, ChatKind, Digest, HealRecord, View
from bot.refs import Kind, Ref, member, text_hash
from bot.sendpolicy import Bot, PlainResend, Recipient, send_part
from bot.store import Layout, Store
from bot.subscriptions import Subscriptions
from bot.week import IsoWeek

log = logging.getLogger(__name__)

UNRESOLVED_RETRY = timedelta(minutes=10)  # a configured @channel that could not be looked up

Clock = Callable[[], datetime]
Notify = Callable[[str], Awaitable[None]]


@dataclass
class _Run:
    week: IsoWeek
    digest: Digest
    ledger: dict[int, LedgerEntry]
    report: Report
    lock_lost: asyncio.Event  # set by the lock's renewal when the lock is lost: start no new chat
    layouts: dict[str, Layout]  # by view key: the week's layouts kept so far
    owed: set[int]  # chats the week was owed to when the run began
    messages_by_view: dict[str, asyncio.Future[list[str]]] = field(default_factory=dict)  # rendered once each
    claimed: set[int] = field(default_factory=set)  # chats a worker has taken this run (each once)
    still_owed: set[int] = field(default_factory=set)  # chats a later run must try (again)
    told_plain: bool = False  # admins were told this run that a part went out as plain text

    @property
    def stopped(self) -> bool:
        return self.lock_lost.is_set()

    async def messages(self, store: Store, username: str | None, key: str, view: View) -> list[str]:
        """The week's messages for a view (by its kept layout, kept now if it has none), rendered once
        per run: chats with the same view share them."""
        future = self.messages_by_view.get(key)
        if future is None:
            future = self.messages_by_view[key] = asyncio.ensure_future(self._render(store, username, key, view))
        return await future

    async def _render(self, store: Store, username: str | None, key: str, view: View) -> list[str]:
        layout = self.layouts.get(key)
        if layout is None:
            plan = plan_digest(self.digest, view, bot_username=username)
            layout = self.layouts[key] = await store.keep_layout(self.week, key, Layout(view, plan))
        self.report.renders += 1
        messages = render_plan(self.digest, layout.view, layout.plan, bot_username=username)
        shown = papers_of(self.digest, layout.plan)  # the paper→message index: what each message shows
        await store.index_refs({self.ref(key, i): papers for i, papers in enumerate(shown)})
        return messages

    def ref(self, key: str, part: int) -> Ref:
        return Ref(Kind.DIGEST, str(self.week), key, part)


class Broadcaster:
    def __init__(
        self,
        bot: Bot,
        store: Store,
        digests: DigestService,
        subscriptions: Subscriptions,
        limiter: SendLimiter,
        settings: Settings,
        *,
        clock: Clock,
        notify: Notify,
        alerts: Alerts,
    ) -> None:
        self._alerts = alerts
        self._bot = bot
        self._store = store
        self._subscriptions = subscriptions
        self._digests = digests
        self._limiter = limiter
        self._settings = settings
        self._clock = clock
        self._notify = notify
        self._shutdown = False
        self.audiences = AudienceFinder(bot, store, settings, alerts)

    def stop(self) -> None:
        """Finish the sends in flight (and their ledger entries), start no new chat: for shutdown."""
        self._shutdown = True

    @property
    def stopping(self) -> bool:
        return self._shutdown

    async def prepare(
        self, week: IsoWeek, *, refresh: bool = False, views: Iterable[View] = (), at_least: int = 0
    ) -> Digest:
        """The digest behind the source gate, deep enough for `views` (and `at_least` papers: the kept
        layouts' deepest rank). `refresh` fetches the ranking again: what a run held for too few
        papers needs."""
        needed = max(depth(self._settings.top_n, views), at_least)
        digest = await self._digests.build(week, refresh=refresh, top_n=needed)
        if len(digest.items) < self._settings.top_n:
            raise HeldError(
                f"{week} has {len(digest.items)} papers with title and abstract; {self._settings.top_n} are needed"
            )
        return digest

    async def publish(
        self, week: IsoWeek, *, refresh: bool = False, wait: float = 0.0, slots: Sequence[str] | None = ALL
    ) -> Report:
        """Send the week's digest to the chats of `slots` (ALL: every chat, whatever its slot) and to
        those owed it, each that does not have it yet; then the slots have delivered the week.

        `wait`: seconds to wait for another process's publish of the week to end (a process that died
        holding the lock releases it after `publish_lock_seconds`); else AlreadyPublishing at once."""
        timeout = timedelta(seconds=self._settings.publish_lock_seconds)
        lock = self._store.publish_lock(week, timeout=timeout)
        if not await lock.acquire(wait):
            raise AlreadyPublishing(f"another process is publishing {week}")
        started, lost = time.monotonic(), asyncio.Event()
        report = Report(week=str(week), started=self._clock())
        renewal = asyncio.create_task(lock.keep(lost, every=timeout / 3, what=f"publishing {week}"))  # now: a
        try:  # first build takes longer than the lock lasts
            audience = await self.audiences.find(week, slots)
            if not audience.recipients and not audience.unresolved:  # nobody to send to: no digest needed
                await self._store.mark_slots_done(week, list(ALL_SLOT_KEYS if slots is ALL else slots))
                await self._store.set_owed(week, (), audience.dropped)
                await self._store.end_retries_if_nothing_owed(week)  # the owed chats paused or left
                return report
            layouts = await self._store.layouts(week)  # a chat sent part of a layout is continued in it
            deepest = max((rank for kept in layouts.values() for part in kept.plan.parts for rank in part), default=0)
            views = (r.view for r in audience.recipients)
            digest = await self.prepare(week, refresh=refresh, views=views, at_least=deepest)
            if lost.is_set():
                raise AlreadyPublishing(f"lost the publish lock of {week} while building it")
            # Read once: while this process holds the lock, no one else writes this week's ledger.
            ledger = await self._store.ledger_entries(week, [r.chat_id for r in audience.recipients])
            run = _Run(week, digest, ledger, report, lost, layouts, audience.owed)
            await self._publish(run, audience)
            report.seconds = time.monotonic() - started
            await self._finish(run, audience, slots)
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            await lock.release()
        return report

    async def _publish(self, run: _Run, audience: Audience) -> None:
        recipients, unresolved, report = audience.recipients, audience.unresolved, run.report
        report.chats, report.pending_papers = len(recipients), len(run.digest.pending)
        report.views = len({r.view for r in recipients})
        report.unresolved = len(unresolved)
        if unresolved:
            report.errors[f"channel not found: {', '.join(unresolved)}"[:80]] = len(unresolved)
            report.next_retry = self._clock() + UNRESOLVED_RETRY
        log.info("Publishing %s to %d chats in %d views", run.week, len(recipients), report.views)
        await self._store.keep_ledger(run.week)
        queue: asyncio.Queue[Recipient] = asyncio.Queue()
        for recipient in recipients:
            queue.put_nowait(recipient)

        async def worker() -> None:
            while not queue.empty() and not (self._shutdown or run.stopped):
                await self._deliver(run, queue.get_nowait())

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self._settings.broadcast_concurrency, len(recipients))):
                    group.create_task(worker())
        except* StoreError as failures:  # Redis gone: the run stops; the ledger has what was sent
            raise failures.exceptions[0] from None
        report.complete = queue.empty() and not (self._shutdown or run.stopped)
        while not queue.empty():  # not tried (shutdown, lock lost): owed to the next run
            run.still_owed.add(queue.get_nowait().chat_id)

    async def _deliver(self, run: _Run, to: Recipient) -> None:
        """One chat: its next part, a slot, in doubt, send, transition, save; until every part is sent
        or a send did not succeed (the chat is then retried by a later run)."""
        if to.chat_id in run.claimed:  # e.g. a migrated group's new id, subscribed on its own too
            return
        run.claimed.add(to.chat_id)
        entry = run.ledger.get(to.chat_id)
        if entry is not None:  # skipped (sent already, waiting…) before anything is rendered for it
            skip = begin(entry, len(entry.parts), self._clock(), came_back=to.subscribed)
            if isinstance(skip, Skip):
                run.report.count(entry, skip)
                if skip is Skip.WAITING:
                    run.still_owed.add(to.chat_id)
                return
        key = entry.layout if entry is not None and sent_any(entry) else to.view.key
        layout = run.layouts.get(key)
        parts = await run.messages(self._store, self._bot.username, key, layout.view if layout else to.view)
        entry = entry or new_entry(to.chat_id, to.kind, to.thread_id, len(parts), self._clock(), key)
        started = begin(entry, len(parts), self._clock(), came_back=to.subscribed, layout=key)
        assert not isinstance(started, Skip)
        entry, result = started, None
        while (part := entry.next_part()) is not None and part < len(parts):
            await self._limiter.acquire(to.chat_id, Priority.BROADCAST)
            entry = sending(entry, part, self._clock())
            await self._store.save_ledger_entry(run.week, entry)  # immediately before the request
            result = await send_part(self._bot, self._limiter, to, parts[part], run.week, self._plain_text_resend(run))
            entry = record(entry, part, result, self._clock())
            shown = None
            if result.message_id is not None:  # indexed in the same round trip: the editor can find it
                shown = (str(run.ref(key, part)), member(to.chat_id, result.message_id), text_hash(parts[part]))
            await self._store.save_ledger_entry(run.week, entry, shown)
            MESSAGES.labels(result.outcome.value).inc()
            if result.outcome is not Outcome.SENT:
                break
            run.report.messages += 1
        run.ledger[to.chat_id] = entry
        run.report.count(entry)
        if entry.owed:
            run.still_owed.add(to.chat_id)
        if result is not None and result.outcome is Outcome.INACTIVE:
            await self._deactivate(to, result.error)
        elif result is not None and result.outcome is Outcome.MIGRATED and result.new_chat_id is not None:
            if result.new_chat_id not in run.ledger:  # the supergroup may have had the week in a slot of its own
                run.ledger.update(await self._store.ledger_entries(run.week, [result.new_chat_id]))
            await self._deliver(run, await self._migrate(to, result.new_chat_id))

    def _plain_text_resend(self, run: _Run) -> PlainResend:
        async def resend(to: Recipient, reason: str) -> None:
            log.warning(
                "Telegram could not parse a part for chat %s (%s): resending it as plain text", to.chat_id, reason
            )
            run.report.plain_resends += 1
            if not run.told_plain:
                run.told_plain = True
                await self._notify(texts.PLAIN_RESENT.format(week=run.week, chat=to.chat_id, reason=reason))

        return resend

    async def _deactivate(self, to: Recipient, reason: str) -> None:
        if to.subscribed:
            await self._subscriptions.deactivate(to.chat_id, reason)
        else:
            await self._notify(texts.CHANNEL_UNREACHABLE.format(chat=to.chat_id, reason=reason))

    async def _migrate(self, to: Recipient, new_id: int) -> Recipient:
        log.info("Chat %s became supergroup %s: resending there", to.chat_id, new_id)
        if to.subscribed:
            await self._subscriptions.migrate(to.chat_id, new_id)
        return replace(to, chat_id=new_id, kind=ChatKind.SUPERGROUP)

    async def _finish(self, run: _Run, audience: Audience, slots: Sequence[str] | None) -> None:
        report, week = run.report, run.week
        if report.messages:  # a paper translated or corrected during the run: its messages sent since
            current = await self._digests.current(week, top_n=len(run.digest.items))  # show the old text
            for old, now in zip(run.digest.items, current.items if current else (), strict=False):
                if old.paper.id == now.paper.id and old.translation != now.translation:
                    await self._store.paper_changed(now.paper.id)
        if not report.complete:
            why = "for shutdown" if self._shutdown else "(publish lock lost)"
            log.info("Stopped publishing %s %s; the next run sends the rest: %s", week, why, report.line())
        elif report.owed:
            log.warning(
                "Published %s; %d chats are owed a retry from %s", report.line(), report.owed, report.next_retry
            )
        else:
            log.info("Published %s", report.line())
        # The latest run that did anything is what /status shows (not a slot run that found all sent).
        await self._store.save_report(report, done=report.done, as_last=slots is ALL or report.chats > report.already)
        paid = (audience.owed - run.still_owed) | set(audience.dropped)
        await self._store.set_owed(week, sorted(run.still_owed), sorted(paid))
        if report.complete:  # a run that stopped early runs its slots again (the ledger skips who has it)
            await self._store.mark_slots_done(week, list(ALL_SLOT_KEYS if slots is ALL else slots))
        # Chats owed a retry are retried by the scheduler when due, whichever week it is; a run that
        # stopped early is due at once. Every run includes every chat owed the week, so this run's
        # earliest retry is the week's.
        if run.still_owed or report.unresolved:
            await self._store.set_retry_at(week, report.next_retry or self._clock())
        else:
            await self._store.end_retries_if_nothing_owed(week)
        await self._store.save_hold(week, None)  # it passed the source gate: no longer held
        digest = run.digest
        if (
            digest.pending
            and report.messages
            and await self._store.heal_record(week) is None
            and not await self._store.marked(f"heal-gave-up:{week}")  # not started again once given up
        ):
            await self._store.save_heal(week, HealRecord(since=self._clock(), papers=len(digest.pending), indexed=True))
            await self._notify(texts.PENDING_SENT.format(week=week, count=len(digest.pending)))
        if report.given_up:
            listed = "\n".join(report.given_up[:20])
            await self._notify(texts.CHATS_GIVEN_UP.format(week=week, count=len(report.given_up), chats=listed))
        if report.failed or report.unknown or report.unresolved:  # once per 10 minutes, not every retry run
            errors = report.errors
            await self._alerts.alert(
                f"owed:{week}", texts.RUN_OWED.format(line=report.line(), retry=report.next_retry, errors=errors)
            )
