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
chat is given up.

Failures stay with their chat: anything that breaks while one chat is handled (a render, a layout, a
bug) fails that chat only (recorded on its entry, retried later, its traceback logged once). Two
things stop the whole run: a Redis failure (nothing could be recorded), and the loss of the publish
lock. The lock is renewed while the run lasts, and every ledger write of the run is fenced by its
token (bot/store/runs.py): a run that lost it is refused before its next part and stops at once.
However a run ends, its end is recorded (bot/run.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import timedelta

from bot import texts
from bot.alerts import Alerts
from bot.audience import ALL, Audience, AudienceFinder
from bot.config import Settings
from bot.digest import DigestService
from bot.errors import AlreadyPublishing, HeldError, StoreError
from bot.layout import depth
from bot.ledger import Outcome, Report, Skip, begin, fail, new_entry, record, sending, sent_any
from bot.limiter import Priority, SendLimiter
from bot.metrics import MESSAGES
from bot.models import ChatKind, Digest, View
from bot.refs import member, text_hash
from bot.run import Clock as Clock
from bot.run import Finisher, Run, slot_keys
from bot.run import Notify as Notify
from bot.sendpolicy import Bot, PlainResend, Recipient, send_part
from bot.store import ChatStore, DeliveryStore, EditStore, LockLost, RunStore
from bot.subscriptions import Subscriptions
from bot.week import IsoWeek

log = logging.getLogger(__name__)

UNRESOLVED_RETRY = timedelta(minutes=10)  # a configured @channel that could not be looked up
OnChat = Callable[[int, int], None]  # (chats settled, chats in all): a progress bar's


class Broadcaster:
    def __init__(
        self,
        bot: Bot,
        digests: DigestService,
        subscriptions: Subscriptions,
        limiter: SendLimiter,
        settings: Settings,
        *,
        chats: ChatStore,
        delivery: DeliveryStore,
        runs: RunStore,
        edits: EditStore,
        clock: Clock,
        notify: Notify,
        alerts: Alerts,
    ) -> None:
        self._alerts = alerts
        self._bot = bot
        self._delivery = delivery  # the ledger as read, the week's layouts
        self._runs = runs  # the publish lock, and every ledger write under it
        self._edits = edits  # what each message sent shows (the editor's index)
        self._subscriptions = subscriptions
        self._digests = digests
        self._limiter = limiter
        self._settings = settings
        self._clock = clock
        self._notify = notify
        self._shutdown = False
        self.audiences = AudienceFinder(bot, settings, alerts, chats=chats, delivery=delivery)
        self._ender = Finisher(
            digests, runs=runs, delivery=delivery, edits=edits, clock=clock, notify=notify, alerts=alerts
        )

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
        self, week: IsoWeek, *, refresh: bool = False, wait: float = 0.0, slots: Sequence[str] | None = ALL,
        on_chat: OnChat | None = None,
    ) -> Report:  # fmt: skip
        """Send the week's digest to the chats of `slots` (ALL: every chat, whatever its slot) and to
        those owed it, each that does not have it yet; then the slots have delivered the week.

        `wait`: seconds to wait for another process's publish of the week to end (a process that died
        holding the lock releases it after `publish_lock_seconds`); else AlreadyPublishing at once.
        `on_chat(done, total)`: told the number of chats, then after each chat (a progress bar)."""
        timeout = timedelta(seconds=self._settings.publish_lock_seconds)
        lock = self._runs.publish_lock(week, timeout=timeout)
        if not await lock.acquire(wait):
            raise AlreadyPublishing(f"another process is publishing {week}")
        started, lost = time.monotonic(), asyncio.Event()
        report = Report(week=str(week), started=self._clock())
        renewal = asyncio.create_task(lock.keep(lost, every=timeout / 3, what=f"publishing {week}"))  # now: a
        try:  # first build takes longer than the lock lasts
            generation = await self._runs.owed_generation(week)  # before reading who is owed the week
            audience = await self.audiences.find(week, slots)
            if not audience.recipients and not audience.unresolved:  # nobody to send to: no digest needed
                await self._runs.finish_run(  # the owed chats paused or left: the week's retries end
                    report, owed=(), paid=audience.dropped, slots=slot_keys(slots), retry_at=None,
                    generation=generation, as_last=False, done=False, end_hold=False,
                )  # fmt: skip
                return report
            layouts = await self._delivery.layouts(week)  # a chat sent part of a layout is continued in it
            deepest = max((rank for kept in layouts.values() for part in kept.plan.parts for rank in part), default=0)
            views = (r.view for r in audience.recipients)
            digest = await self.prepare(week, refresh=refresh, views=views, at_least=deepest)
            if lost.is_set():
                raise AlreadyPublishing(f"lost the publish lock of {week} while building it")
            # Read once: while this run holds the lock, no one else writes this week's ledger (fenced).
            read = await self._delivery.ledger_entries(week, [r.chat_id for r in audience.recipients])
            run = Run(
                week, digest, read.entries, report, lost, layouts, audience.owed, lock, generation, read.unreadable
            )
            try:
                await self._publish(run, audience, on_chat or (lambda done, total: None))
            except BaseException:  # a Redis failure, a cancellation (shutdown after its grace): recorded too
                report.seconds = time.monotonic() - started
                try:
                    await asyncio.shield(self._ender.finish(run, audience, slots, why="(interrupted)"))
                except Exception as exc:  # e.g. Redis is what failed: the ledger has what was sent
                    log.error("Could not record the end of the interrupted run of %s: %s", week, exc)
                raise
            report.seconds = time.monotonic() - started
            why = "for shutdown" if self._shutdown else "(publish lock lost)" if run.stopped else ""
            await self._ender.finish(run, audience, slots, why=why)
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            await lock.release()
        return report

    async def _publish(self, run: Run, audience: Audience, on_chat: OnChat) -> None:
        recipients, unresolved, report = audience.recipients, audience.unresolved, run.report
        report.chats, report.pending_papers = len(recipients), len(run.digest.pending)
        report.views = len({r.view for r in recipients})
        report.unresolved = len(unresolved)
        if unresolved:
            report.errors[f"channel not found: {', '.join(unresolved)}"[:80]] = len(unresolved)
            report.next_retry = self._clock() + UNRESOLVED_RETRY
        log.info("Publishing %s to %d chats in %d views", run.week, len(recipients), report.views)
        await self._delivery.keep_ledger(run.week)
        queue: asyncio.Queue[Recipient] = asyncio.Queue()
        for recipient in recipients:
            queue.put_nowait(recipient)

        on_chat(0, len(recipients))
        settled = itertools.count(1)

        async def worker() -> None:
            while not queue.empty() and not (self._shutdown or run.stopped):
                await self._deliver_safely(run, queue.get_nowait())
                on_chat(next(settled), len(recipients))

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self._settings.broadcast_concurrency, len(recipients))):
                    group.create_task(worker())
        except* StoreError as failures:  # Redis gone: the run stops; the ledger has what was sent
            raise failures.exceptions[0] from None

    async def _deliver_safely(self, run: Run, to: Recipient) -> None:
        """One chat, whatever happens to it: a failure that is not Redis's (a render, a layout, a bug)
        fails this chat only, recorded on its entry and retried by a later run; a write refused because
        the run lost its lock stops the run at once (the other run carries on)."""
        try:
            try:
                await self._deliver(run, to)
            except (StoreError, LockLost):
                raise
            except Exception as exc:
                await self._chat_failed(run, to, exc)
        except LockLost as exc:
            if not run.stopped:
                log.error("Stopping the run of %s at once: %s", run.week, exc)
            run.lock_lost.set()

    async def _chat_failed(self, run: Run, to: Recipient, exc: Exception) -> None:
        why = f"{type(exc).__name__}: {exc}"[:300]
        if why in run.tracebacks:
            log.error("Publishing %s to chat %s failed: %s (traceback logged above)", run.week, to.chat_id, why)
        else:
            run.tracebacks.add(why)
            log.error("Publishing %s to chat %s failed: %s", run.week, to.chat_id, why, exc_info=exc)
        if to.chat_id in run.settled:  # it failed after its entry was final (deactivating it, say)
            return
        now = self._clock()
        entry = run.ledger.get(to.chat_id) or new_entry(to.chat_id, to.kind, to.thread_id, 0, now, to.view.key)
        entry = fail(entry, why, now)
        await self._runs.save_ledger_entry(run.week, entry, run.lock)
        run.settle(entry)

    async def _deliver(self, run: Run, to: Recipient) -> None:
        """One chat: its next part, a slot, in doubt, send, transition, save; until every part is sent
        or a send did not succeed (the chat is then retried by a later run)."""
        if to.chat_id in run.claimed:  # e.g. a migrated group's new id, subscribed on its own too
            return
        run.claimed.add(to.chat_id)
        if to.chat_id in run.unreadable:  # fail closed: never taken for a chat that has not had the week
            run.report.unreadable += 1
            return
        entry = run.ledger.get(to.chat_id)
        if entry is not None:  # skipped (sent already, waiting…) before anything is rendered for it
            skip = begin(entry, len(entry.parts), self._clock(), came_back=to.subscribed)
            if isinstance(skip, Skip):
                run.report.count(entry, skip)
                run.settled.add(to.chat_id)
                if skip is Skip.WAITING:
                    run.still_owed.add(to.chat_id)
                return
        key = entry.layout if entry is not None and sent_any(entry) else to.view.key
        layout = run.layouts.get(key)
        view = layout.view if layout else to.view
        parts = await run.messages(self._bot.username, key, view, delivery=self._delivery, edits=self._edits)
        entry = entry or new_entry(to.chat_id, to.kind, to.thread_id, len(parts), self._clock(), key)
        started = begin(entry, len(parts), self._clock(), came_back=to.subscribed, layout=key)
        assert not isinstance(started, Skip)
        entry, result = started, None
        while (part := entry.next_part()) is not None and part < len(parts):
            await self._limiter.acquire(to.chat_id, Priority.BROADCAST)
            entry = in_doubt = sending(entry, part, self._clock())
            await self._runs.save_ledger_entry(run.week, entry, run.lock)  # immediately before the request
            run.ledger[to.chat_id] = entry  # what a failure of this chat starts from
            result = await send_part(self._bot, self._limiter, to, parts[part], run.week, self._plain_text_resend(run))
            entry = record(entry, part, result, self._clock())
            shown = None
            if result.message_id is not None:  # indexed in the same write: the editor can find it
                shown = (str(run.ref(key, part)), member(to.chat_id, result.message_id), text_hash(parts[part]))
            await self._runs.save_ledger_entry(run.week, entry, run.lock, shown, follows=in_doubt)
            run.ledger[to.chat_id] = entry
            MESSAGES.labels(result.outcome.value).inc()
            if result.outcome is not Outcome.SENT:
                break
            run.report.messages += 1
        run.settle(entry)
        if result is not None and result.outcome is Outcome.INACTIVE:
            await self._deactivate(to, result.error)
        elif result is not None and result.outcome is Outcome.MIGRATED and result.new_chat_id is not None:
            if result.new_chat_id not in run.ledger:  # the supergroup may have had the week in a slot of its own
                read = await self._delivery.ledger_entries(run.week, [result.new_chat_id])
                run.ledger.update(read.entries)
                run.unreadable |= read.unreadable
            await self._deliver_safely(run, await self._migrate(to, result.new_chat_id))

    def _plain_text_resend(self, run: Run) -> PlainResend:
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
