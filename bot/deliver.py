"""Broadcaster: a week's digest to every recipient, exactly once, within Telegram's flood limits.

A run reads as: plan the messages → for each chat: its next part → take a send slot → mark the part
in doubt → send → transition (bot/ledger.py) → save. The ledger entry is saved immediately before
each request is written and again the moment its outcome is known, so a run that is killed and
started again sends every chat only what it is missing (and repeats only a request that was in
flight). A failed or doubtful send is retried by a later run, with backoff, for hours before the
chat is given up. A Redis lock, renewed while the run lasts, keeps a second process from sending
the same week; a Redis failure stops the run (nothing could be recorded).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import texts
from bot.config import Settings
from bot.digest import DigestService
from bot.errors import AlreadyPublishing, HeldError, StoreError
from bot.ledger import LedgerEntry, Outcome, Report, Result, Skip, begin, new_entry, record, sending
from bot.limiter import PACED, Priority, SendLimiter, seconds
from bot.metrics import MESSAGES
from bot.models import ChatKind, Digest, HealRecord
from bot.render import plain_text, plan_parts, render_parts
from bot.store import PublishLock, Store
from bot.subscriptions import Subscriptions
from bot.telegram_http import NotSent
from bot.week import IsoWeek

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
UNRESOLVED_RETRY = timedelta(minutes=10)  # a configured @channel that could not be looked up

Clock = Callable[[], datetime]
Notify = Callable[[str], Awaitable[None]]
Bot = Any  # python-telegram-bot's ExtBot with our SendLimiter (typed loosely: its generics add nothing here)


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    kind: ChatKind
    thread_id: int | None = None
    subscribed: bool = True  # False for channels that come from the `channels` setting only


@dataclass
class _Run:
    week: IsoWeek
    parts: list[str]
    ledger: dict[int, LedgerEntry]
    report: Report
    told_plain: bool = False  # admins were told this run that a part went out as plain text
    stopped: bool = False  # the lock was lost: start no new chat


async def kept_messages(store: Store, week: IsoWeek, digest: Digest, username: str | None, *, keep: bool) -> list[str]:
    """The week's messages by the plan it was first sent with (which papers in which message), so an
    edit replaces exactly what each message holds; a new plan (kept with `keep`) when there is none."""
    plan = await store.get_plan(week)
    if plan is None:
        plan = plan_parts(digest, bot_username=username)
        if keep:
            await store.save_plan(week, plan)
    return render_parts(digest, plan, bot_username=username)


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
    ) -> None:
        self._bot = bot
        self._store = store
        self._subscriptions = subscriptions
        self._digests = digests
        self._limiter = limiter
        self._settings = settings
        self._clock = clock
        self._notify = notify
        self._shutdown = False

    def stop(self) -> None:
        """Finish the sends in flight (and their ledger entries), start no new chat: for shutdown."""
        self._shutdown = True

    @property
    def stopping(self) -> bool:
        return self._shutdown

    async def recipients(self) -> tuple[list[Recipient], list[str]]:
        """Active subscriptions and the configured channels, each once, by numeric id; and the
        configured @names that could not be looked up (never sent under a second identity)."""
        found: dict[int, Recipient] = {}
        for sub in await self._subscriptions.all():
            if sub.active:
                found[sub.chat_id] = Recipient(sub.chat_id, sub.kind, sub.thread_id)
        unresolved = []
        for channel in self._settings.channels:
            if channel.removeprefix("-").isdigit():
                chat_id = int(channel)
            else:
                try:
                    chat_id = (await self._bot.get_chat(channel)).id
                except TelegramError as exc:
                    log.warning("Cannot look up channel %s (%s): it is tried again by a later run", channel, exc)
                    unresolved.append(channel)
                    continue
            found.setdefault(chat_id, Recipient(chat_id, ChatKind.CHANNEL, subscribed=False))
        return list(found.values()), unresolved

    async def prepare(
        self, week: IsoWeek, *, keep_plan: bool = True, refresh: bool = False
    ) -> tuple[Digest, list[str]]:
        """The digest behind the source gate, and its messages (the week's plan is kept for healing).
        `refresh` fetches the ranking again: what a run held for too few papers needs."""
        digest = await self._digests.build(week, refresh=refresh)
        if len(digest.items) < self._settings.top_n:
            raise HeldError(
                f"{week} has {len(digest.items)} papers with title and abstract; {self._settings.top_n} are needed"
            )
        return digest, await kept_messages(self._store, week, digest, self._bot.username, keep=keep_plan)

    async def publish(self, week: IsoWeek, *, refresh: bool = False, wait: float = 0.0) -> Report:
        """Send the week's digest to every recipient that does not have it yet (and is due).

        `wait`: seconds to wait for another process's publish of the week to end (a process that died
        holding the lock releases it after `publish_lock_seconds`); else AlreadyPublishing at once."""
        timeout = timedelta(seconds=self._settings.publish_lock_seconds)
        lock = self._store.publish_lock(week, timeout=timeout)
        if not await lock.acquire(wait):
            raise AlreadyPublishing(f"another process is publishing {week}")
        started = time.monotonic()
        report = Report(week=str(week), started=self._clock())
        try:
            digest, parts = await self.prepare(week, refresh=refresh)
            # Read once: while this process holds the lock, no one else writes this week's ledger.
            run = _Run(week, parts, await self._store.ledger(week), report)
            renewal = asyncio.create_task(self._renew(lock, run, every=timeout / 3))
            try:
                await self._publish(run, digest)
                report.seconds = time.monotonic() - started
                await self._finish(run, digest)
            finally:
                renewal.cancel()
        finally:
            await lock.release()
        return report

    async def _renew(self, lock: PublishLock, run: _Run, *, every: timedelta) -> None:
        while True:
            await asyncio.sleep(every.total_seconds())
            try:
                await lock.renew()
            except StoreError as exc:  # Redis down, or the lock expired: another process may take over
                log.error("Lost the publish lock of %s (%s): this run starts no new chat", run.week, exc)
                run.stopped = True
                return

    async def _publish(self, run: _Run, digest: Digest) -> None:
        recipients, unresolved = await self.recipients()
        report = run.report
        report.chats, report.parts, report.pending_papers = len(recipients), len(run.parts), len(digest.pending)
        report.unresolved = len(unresolved)
        if unresolved:
            report.errors[f"channel not found: {', '.join(unresolved)}"[:80]] = len(unresolved)
            report.next_retry = self._clock() + UNRESOLVED_RETRY
        log.info("Publishing %s to %d chats, %d messages each", run.week, len(recipients), len(run.parts))
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

    async def _deliver(self, run: _Run, to: Recipient) -> None:
        """One chat: its next part, a slot, in doubt, send, transition, save; until every part is sent
        or a send did not succeed (the chat is then retried by a later run)."""
        entry = run.ledger.get(to.chat_id) or new_entry(
            to.chat_id, to.kind, to.thread_id, len(run.parts), self._clock()
        )
        started = begin(entry, len(run.parts), self._clock())
        if isinstance(started, Skip):
            run.report.count(entry, started)
            return
        entry, result = started, None
        while (part := entry.next_part()) is not None:
            await self._limiter.acquire(to.chat_id, Priority.BROADCAST)
            entry = sending(entry, part, self._clock())
            await self._store.save_ledger_entry(run.week, entry)  # immediately before the request
            result = await self._send(run, to, part)
            entry = record(entry, part, result, self._clock())
            await self._store.save_ledger_entry(run.week, entry)
            MESSAGES.labels(result.outcome.value).inc()
            if result.outcome is not Outcome.SENT:
                break
            run.report.messages += 1
        run.ledger[to.chat_id] = entry
        run.report.count(entry)
        if result is not None and result.outcome is Outcome.INACTIVE:
            await self._deactivate(to, result.error)
        elif result is not None and result.outcome is Outcome.MIGRATED and result.new_chat_id is not None:
            await self._deliver(run, await self._migrate(to, result.new_chat_id))

    async def _send(self, run: _Run, to: Recipient, part: int) -> Result:
        """Send one part (its slot taken); how it went. Never raises but for the run's own end."""
        text, plain, thread = run.parts[part], False, to.thread_id
        while True:
            try:
                message = await self._bot.send_message(
                    to.chat_id, text, parse_mode=None if plain else ParseMode.HTML, message_thread_id=thread,
                    link_preview_options=NO_PREVIEW, rate_limit_args=PACED,
                )  # fmt: skip
                return Result(Outcome.SENT, message_id=message.message_id)
            except RetryAfter as exc:  # nothing was sent: every sender waits, then this part goes again
                await self._limiter.flood(seconds(exc.retry_after))
                await self._limiter.acquire(to.chat_id, Priority.BROADCAST)
            except ChatMigrated as exc:
                return Result(Outcome.MIGRATED, new_chat_id=exc.new_chat_id)
            except Forbidden as exc:
                return Result(Outcome.INACTIVE, error=exc.message)
            except BadRequest as exc:
                reason = exc.message.lower()
                if "chat not found" in reason:
                    return Result(Outcome.INACTIVE, error=exc.message)
                if "thread not found" in reason and thread is not None:
                    log.info("Forum topic %s of chat %s is gone: sending to the chat itself", thread, to.chat_id)
                    thread = None
                elif "can't parse entities" in reason and not plain:
                    await self._plain_text_resend(run, to, exc.message)
                    text, plain = plain_text(text), True
                else:
                    return Result(Outcome.FAILED, error=exc.message)
            except NotSent as exc:  # no connection: nothing reached Telegram
                return Result(Outcome.FAILED, error=f"not sent: {exc.message}")
            except NetworkError as exc:  # a timeout, a 5xx: the message may or may not have arrived
                return Result(Outcome.UNKNOWN, error=f"{type(exc).__name__}: {exc.message}")
            except TelegramError as exc:
                return Result(Outcome.FAILED, error=f"{type(exc).__name__}: {exc.message}")
            except Exception as exc:  # e.g. an answer the client could not read, after the request went out
                log.exception("Sending %s to chat %s failed unexpectedly", run.week, to.chat_id)
                return Result(Outcome.UNKNOWN, error=f"{type(exc).__name__}: {exc}"[:300])

    async def _plain_text_resend(self, run: _Run, to: Recipient, reason: str) -> None:
        log.warning("Telegram could not parse a part for chat %s (%s): resending it as plain text", to.chat_id, reason)
        run.report.plain_resends += 1
        if not run.told_plain:
            run.told_plain = True
            await self._notify(texts.PLAIN_RESENT.format(week=run.week, chat=to.chat_id, reason=reason))

    async def _deactivate(self, to: Recipient, reason: str) -> None:
        if to.subscribed:
            await self._subscriptions.deactivate(to.chat_id, reason)
        else:
            await self._notify(texts.CHANNEL_UNREACHABLE.format(chat=to.chat_id, reason=reason))

    async def _migrate(self, to: Recipient, new_id: int) -> Recipient:
        log.info("Chat %s became supergroup %s: resending there", to.chat_id, new_id)
        if to.subscribed:
            await self._subscriptions.migrate(to.chat_id, new_id)
        return Recipient(new_id, ChatKind.SUPERGROUP, to.thread_id, to.subscribed)

    async def _finish(self, run: _Run, digest: Digest) -> None:
        report, week = run.report, run.week
        if not report.complete:
            why = "for shutdown" if self._shutdown else "(publish lock lost)"
            log.info("Stopped publishing %s %s; the next run sends the rest: %s", week, why, report.line())
        elif report.owed:
            log.warning(
                "Published %s; %d chats are owed a retry from %s", report.line(), report.owed, report.next_retry
            )
        else:
            log.info("Published %s", report.line())
        await self._store.save_report(report, done=report.done)
        await self._store.set_retry_at(week, None if report.done else report.next_retry)
        if digest.pending and await self._store.heal_record(week) is None:
            await self._store.save_heal(week, HealRecord(since=self._clock(), papers=len(digest.pending)))
            await self._notify(texts.PENDING_SENT.format(week=week, count=len(digest.pending)))
        if report.given_up:
            listed = "\n".join(report.given_up[:20])
            await self._notify(texts.CHATS_GIVEN_UP.format(week=week, count=len(report.given_up), chats=listed))
        if report.failed or report.unknown or report.unresolved:
            await self._notify(texts.RUN_OWED.format(line=report.line(), retry=report.next_retry, errors=report.errors))
