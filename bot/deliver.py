"""Broadcaster: a week's digest to every subscriber, exactly once, within Telegram's flood limits.

The Redis ledger holds, per (week, chat), the message id of every part sent. A part is marked
UNKNOWN *before* its request goes out and gets its message id the moment Telegram answers, so a run
that is killed and started again sends every chat only what it is missing; a part whose outcome
cannot be known (the process died, or the request timed out) is sent once more, and only once. A
Redis lock, renewed while the run lasts, keeps a second instance from sending the same week.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.config import Settings
from bot.digest import DigestService
from bot.metrics import MESSAGES
from bot.models import ChatKind, Digest
from bot.render import plain_text, plan_parts, render_parts
from bot.store import Store
from bot.telegram_http import NotSent
from bot.week import IsoWeek

log = logging.getLogger(__name__)

UNKNOWN = -1  # a part whose request went out but whose outcome is not known
MAX_RUNS = 5  # a chat that keeps failing is tried by this many runs (the scheduler: 10 minutes apart)
HEAL_WINDOW = timedelta(hours=72)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

Clock = Callable[[], datetime]
Notify = Callable[[str], Awaitable[None]]


class HeldError(Exception):
    """The source gate held the publish: too few papers, or papers without title or abstract."""


class AlreadyPublishing(Exception):
    """Another process holds this week's publish lock."""


@dataclass(frozen=True)
class Recipient:
    key: str  # the ledger's key: the chat id as text, or @username for configured channels
    chat_id: int | str
    kind: ChatKind
    thread_id: int | None = None
    subscribed: bool = True  # False for channels that come from the `channels` setting only


@dataclass
class Report:
    week: str
    started: str = ""
    seconds: float = 0.0
    chats: int = 0
    parts: int = 0
    sent: int = 0  # chats completed by this run
    already: int = 0  # chats completed by an earlier run
    failed: int = 0
    inactive: int = 0
    unknown: int = 0  # chats with a part whose outcome stays unknown
    migrated: int = 0
    messages: int = 0  # messages sent by this run
    gave_up: int = 0  # chats that failed in MAX_RUNS runs (or twice without an answer): not retried
    plain_resends: int = 0  # parts Telegram could not parse, resent as plain text
    pending_papers: int = 0
    complete: bool = True  # False when the run was stopped (shutdown) before every chat was tried
    errors: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"{self.week}: {self.chats} chats, sent {self.sent}, already sent {self.already}, failed {self.failed}, "
            f"inactive {self.inactive}, unknown {self.unknown}, migrated {self.migrated}, gave up {self.gave_up}; "
            f"{self.messages} messages "
            f"in {self.seconds:.1f} s; {self.pending_papers} papers pending translation"
        )


def _seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Broadcaster:
    def __init__(
        self,
        bot: Bot,
        store: Store,
        digests: DigestService,
        settings: Settings,
        *,
        clock: Clock,
        notify: Notify,
    ) -> None:
        self._bot = bot
        self._store = store
        self._digests = digests
        self._settings = settings
        self._clock = clock
        self._notify = notify
        rate = settings.broadcast_rate
        # Capacity one, refilled `rate` times a second: an even pace, never a burst over Telegram's limit.
        self._overall = AsyncLimiter(1, 1 / rate) if rate else None
        self._per_chat: dict[str, AsyncLimiter] = {}
        self._flood_until = 0.0  # epoch seconds
        self._lock_timeout = timedelta(seconds=settings.publish_lock_seconds)
        self._shutdown = False  # for good: the process is stopping
        self._halt = False  # for this run: its lock was lost

    def stop(self) -> None:
        """Finish the sends in flight (and their ledger entries), start no new chat: for shutdown."""
        self._shutdown = True

    @property
    def stopping(self) -> bool:
        return self._shutdown

    # --- recipients ------------------------------------------------------------------------------

    async def recipients(self) -> list[Recipient]:
        """Active subscriptions, and the configured channels (by id, so that none gets the digest twice)."""
        found: dict[str, Recipient] = {}
        for sub in await self._store.list_subscriptions():
            if sub.active:
                found[str(sub.chat_id)] = Recipient(str(sub.chat_id), sub.chat_id, sub.kind, sub.thread_id)
        for channel in self._settings.channels:
            chat_id: int | str = int(channel) if channel.removeprefix("-").isdigit() else channel
            if isinstance(chat_id, str):
                try:
                    chat_id = (await self._bot.get_chat(channel)).id
                except TelegramError as exc:
                    log.warning("Cannot look up channel %s (%s): sending to it by name", channel, exc)
            found.setdefault(str(chat_id), Recipient(str(chat_id), chat_id, ChatKind.CHANNEL, subscribed=False))
        return list(found.values())

    # --- publish ---------------------------------------------------------------------------------

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
        return digest, await self._messages(week, digest, keep_plan=keep_plan)

    async def _messages(self, week: IsoWeek, digest: Digest, *, keep_plan: bool) -> list[str]:
        """The week's messages by its kept plan (which papers go in which message), or by a new plan."""
        plan = await self._store.get_json("ledger", str(week), "plan")
        if plan is None:
            plan = plan_parts(digest, bot_username=self._bot.username)
            if keep_plan:
                await self._store.set_json(plan, "ledger", str(week), "plan", ttl=timedelta(days=400))
        return render_parts(digest, plan, bot_username=self._bot.username)

    async def publish(self, week: IsoWeek, *, refresh: bool = False, wait: float = 0.0) -> Report:
        """Send the week's digest to every recipient that does not have it yet.

        `wait`: seconds to wait for another process's publish of the week to end (a process that died
        holding the lock releases it after `publish_lock_seconds`); else AlreadyPublishing at once."""
        lock = self._store.lock(f"publish:{week}", timeout=self._lock_timeout)
        if not await lock.acquire(blocking=wait > 0, blocking_timeout=wait or None):
            raise AlreadyPublishing(f"another process is publishing {week}")
        self._halt = False
        renewal = asyncio.create_task(self._renew(lock, week))
        try:
            return await self._publish(week, refresh)
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            with contextlib.suppress(Exception):  # expired or lost: nothing left to release
                await lock.release()

    async def _renew(self, lock: Any, week: IsoWeek) -> None:
        while True:
            await asyncio.sleep(self._lock_timeout.total_seconds() / 3)
            try:
                await lock.reacquire()
            except Exception as exc:  # Redis down, or the lock expired: another process may take over
                log.error("Lost the publish lock of %s (%s): this run starts no new chat", week, exc)
                self._halt = True
                return

    async def _publish(self, week: IsoWeek, refresh: bool) -> Report:
        started = time.monotonic()
        report = Report(week=str(week), started=self._clock().isoformat())
        digest, parts = await self.prepare(week, refresh=refresh)
        recipients = await self.recipients()
        report.chats, report.parts, report.pending_papers = len(recipients), len(parts), len(digest.pending)
        log.info("Publishing %s to %d chats, %d messages each", week, len(recipients), len(parts))
        await self._load_flood_wait()
        await self._store.keep_ledger(week)
        # Read once: while this process holds the lock, no one else writes this week's ledger.
        ledger = await self._store.ledger(week)
        unknown: list[Recipient] = []
        await self._run_all(recipients, lambda r: self._send_chat(week, r, parts, report, unknown, ledger))
        if unknown:  # sends whose outcome we could not learn: once more, at the end
            log.info("Resending %d chats whose last send has an unknown outcome", len(unknown))
            report.unknown = 0
            await self._run_all(unknown, lambda r: self._send_chat(week, r, parts, report, [], ledger))
        report.seconds = time.monotonic() - started
        if self._shutdown or self._halt:
            report.complete = False
            why = "for shutdown" if self._shutdown else "(publish lock lost)"
            log.info("Stopped publishing %s %s; the next run sends the rest: %s", week, why, report.line())
            await self._store.set_json(asdict(report), "publish", "last")
            return report
        await self._store.set_json(asdict(report), "publish", "last")
        if report.failed or report.unknown:  # some chats are owed a retry: the week is not done yet
            report.complete = False
            log.warning("Published %s; the failed chats are retried by the next run", report.line())
        else:
            log.info("Published %s", report.line())
            await self._store.set_json(asdict(report), "publish", "done", str(week), ttl=timedelta(days=400))
        if digest.pending:
            record = {"since": self._clock().isoformat(), "attempts": 0, "papers": len(digest.pending)}
            await self._store.set_heal(week, record)
            await self._notify(
                f"⏳ {week}: 번역 대기 {len(digest.pending)}편을 원문으로 보냈습니다. 번역되면 보낸 메시지를 고칩니다."
            )
        if report.failed or report.unknown:
            await self._notify(f"⚠️ 발행 결과 {report.line()}\n오류: {report.errors}")
        return report

    async def _run_all(self, recipients: list[Recipient], work: Callable[[Recipient], Awaitable[None]]) -> None:
        queue: asyncio.Queue[Recipient] = asyncio.Queue()
        for recipient in recipients:
            queue.put_nowait(recipient)

        async def worker() -> None:
            while not queue.empty() and not (self._shutdown or self._halt):
                await work(queue.get_nowait())

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self._settings.broadcast_concurrency, len(recipients))):
                    group.create_task(worker())
        except* Exception as failures:  # e.g. Redis gone: the run stops, the ledger has what was sent
            for extra in failures.exceptions[1:]:
                log.error("Also failed during the same run: %r", extra)
            raise failures.exceptions[0] from None

    async def _send_chat(
        self,
        week: IsoWeek,
        to: Recipient,
        parts: list[str],
        report: Report,
        unknown: list[Recipient],
        ledger: dict[str, dict[str, Any]],
    ) -> None:
        entry = ledger.get(to.key)
        if entry is None or len(entry["parts"]) != len(parts):
            entry = {"state": "sending", "parts": [None] * len(parts), "resent": [False] * len(parts),
                     "attempts": 0, "runs": 0, "last_error": "", "kind": str(to.kind), "thread_id": to.thread_id,
                     "created": self._clock().isoformat()}  # fmt: skip
            ledger[to.key] = entry
        state = entry["state"]
        if state == "sent":
            report.already += 1
            return
        if state == "migrated" or (state == "failed" and entry.get("final")):
            report.gave_up += state == "failed"
            return
        # "inactive" here means the chat was reactivated since (only active chats are recipients): try again.
        entry["runs"] = entry.get("runs", 0) + 1
        for i, text in enumerate(parts):
            if entry["parts"][i] not in (None, UNKNOWN):
                continue
            if entry["parts"][i] == UNKNOWN:
                if entry["resent"][i]:  # sent twice, both times without an answer: a third copy is too many
                    entry["final"] = True
                    await self._finish(week, to, entry, "failed", "outcome unknown twice", report)
                    return
                entry["resent"][i] = True  # its outcome is unknown: this part is sent once more, no more
            entry["parts"][i] = UNKNOWN
            entry["attempts"] += 1
            await self._store.save_ledger_entry(week, to.key, entry)  # before the request goes out
            outcome = await self._send_part(week, to, text, entry, report)
            MESSAGES.labels(
                outcome if isinstance(outcome, str) else "sent" if isinstance(outcome, Message) else "migrated"
            ).inc()
            if isinstance(outcome, Message):
                entry["parts"][i] = outcome.message_id
                report.messages += 1
                await self._store.save_ledger_entry(week, to.key, entry)
                continue
            if isinstance(outcome, int):  # the group became a supergroup with this id
                moved = await self._migrate(week, to, outcome, entry, report)
                await self._send_chat(week, moved, parts, report, unknown, ledger)
            elif outcome == "unknown":
                report.unknown += 1
                unknown.append(to)
                await self._store.save_ledger_entry(week, to.key, entry)
            else:  # not sent: "inactive", or "failed" (retried by the next runs, MAX_RUNS in all)
                entry["parts"][i] = None
                entry["final"] = outcome == "failed" and entry["runs"] >= MAX_RUNS
                await self._finish(week, to, entry, outcome, entry["last_error"], report)
            return
        await self._finish(week, to, entry, "sent", "", report)

    async def _finish(
        self, week: IsoWeek, to: Recipient, entry: dict[str, Any], state: str, error: str, report: Report
    ) -> None:
        entry.update(state=state, last_error=error, updated=self._clock().isoformat())
        await self._store.save_ledger_entry(week, to.key, entry)
        if state == "sent":
            report.sent += 1
        elif state == "inactive":
            report.inactive += 1
        elif state == "failed":
            report.failed += 1
            report.errors[error[:80]] = report.errors.get(error[:80], 0) + 1

    async def _send_part(
        self, week: IsoWeek, to: Recipient, text: str, entry: dict[str, Any], report: Report
    ) -> Message | int | str:
        """Message on success; the new chat id if the group migrated; else "unknown", "inactive" or "failed"."""
        plain = False
        while True:
            try:
                return await self._send(to, text, plain=plain)
            except NotSent as exc:  # no connection: nothing reached Telegram
                entry["last_error"] = f"not sent: {exc.message}"
                return "failed"
            except RetryAfter as exc:
                await self._flood_wait(_seconds(exc.retry_after))
            except ChatMigrated as exc:
                return exc.new_chat_id
            except Forbidden as exc:
                entry["last_error"] = exc.message
                await self._deactivate(to, exc.message)
                return "inactive"
            except BadRequest as exc:
                entry["last_error"] = exc.message
                if "chat not found" in exc.message.lower():
                    await self._deactivate(to, exc.message)
                    return "inactive"
                if "can't parse entities" in exc.message.lower() and not plain:
                    log.warning(
                        "Telegram could not parse a part for chat %s (%s): resending it as plain text",
                        to.key,
                        exc.message,
                    )
                    await self._notify(
                        f"⚠️ {week}: 텔레그램이 HTML을 거부해 평문으로 다시 보냈습니다 ({to.key}): {exc.message}"
                    )
                    text, plain = plain_text(text), True
                    continue
                return "failed"
            except NetworkError as exc:  # TimedOut included: the message may or may not have arrived
                entry["last_error"] = f"{type(exc).__name__}: {exc.message}"
                return "unknown"
            except TelegramError as exc:
                entry["last_error"] = f"{type(exc).__name__}: {exc.message}"
                return "failed"

    async def _send(self, to: Recipient, text: str, *, plain: bool = False) -> Message:
        await self._pace(to)
        return await self._bot.send_message(
            to.chat_id,
            text,
            parse_mode=None if plain else ParseMode.HTML,
            message_thread_id=to.thread_id,
            link_preview_options=NO_PREVIEW,
        )

    async def _pace(self, to: Recipient) -> None:
        """Wait out a flood wait, the per-chat limit (groups and channels) and the overall limit."""
        if (wait := self._flood_until - time.time()) > 0:  # a wait that grows meanwhile answers RetryAfter again
            await asyncio.sleep(wait)
        per_minute = self._settings.group_rate_per_minute
        if per_minute and to.kind is not ChatKind.PRIVATE:
            limiter = self._per_chat.setdefault(to.key, AsyncLimiter(1, 60 / per_minute))
            await limiter.acquire()
        if self._overall is not None:
            await self._overall.acquire()

    async def _flood_wait(self, seconds: float) -> None:
        until = time.time() + seconds
        if until > self._flood_until:
            self._flood_until = until
            log.warning("Telegram asked us to wait %.0f s (flood control)", seconds)
            # Kept in Redis so that a restart does not hammer Telegram before the wait is over.
            await self._store.set_json(until, "floodwait", ttl=timedelta(seconds=seconds + 1))
        await asyncio.sleep(max(0.0, until - time.time()))

    async def _load_flood_wait(self) -> None:
        until = await self._store.get_json("floodwait")
        if until and until > time.time():
            log.info("Waiting %.0f s: Telegram's flood wait from an earlier run is not over", until - time.time())
            self._flood_until = max(self._flood_until, float(until))

    async def _deactivate(self, to: Recipient, reason: str) -> None:
        log.info("Chat %s cannot receive messages (%s): subscription kept, inactive", to.key, reason)
        if to.subscribed and isinstance(to.chat_id, int):
            await self._store.set_subscription_active(to.chat_id, False, self._clock())
        elif not to.subscribed:
            await self._notify(f"⚠️ 설정된 채널 {to.key}에 보낼 수 없습니다: {reason}")

    async def _migrate(
        self, week: IsoWeek, to: Recipient, new_id: int, entry: dict[str, Any], report: Report
    ) -> Recipient:
        log.info("Chat %s became supergroup %s: moving its subscription and resending there", to.key, new_id)
        if isinstance(to.chat_id, int):
            await self._store.move_subscription(to.chat_id, new_id, self._clock())
        entry.update(state="migrated", migrated_to=new_id, parts=[None] * len(entry["parts"]))
        await self._store.save_ledger_entry(week, to.key, entry)
        report.migrated += 1
        return Recipient(str(new_id), new_id, ChatKind.SUPERGROUP, to.thread_id, to.subscribed)

    # --- healing ---------------------------------------------------------------------------------

    async def heal(self) -> None:
        """Retranslate the pending papers of sent weeks; once a week has none, edit its messages in place."""
        now = self._clock()
        for name, record in (await self._store.heal_weeks()).items():
            year, number = name.split("-W")
            week = IsoWeek(int(year), int(number))
            if now - datetime.fromisoformat(record["since"]) > HEAL_WINDOW:
                await self._store.set_heal(week, None)
                await self._notify(f"⚠️ {week}: 72시간 동안 번역되지 않은 논문이 있어 자동 수정을 멈춥니다.")
                continue
            digest = await self._digests.build(week)  # the translator retries what is pending
            if digest.pending:
                record["attempts"] = record.get("attempts", 0) + 1
                record["papers"] = len(digest.pending)
                await self._store.set_heal(week, record)
                log.info("Heal %s: %d papers still pending", week, len(digest.pending))
                continue
            parts = await self._messages(week, digest, keep_plan=False)
            edited, retry = 0, 0
            for key, entry in (await self._store.ledger(week)).items():
                entry_edited, entry_retry = await self._edit_entry(key, entry, parts)
                edited, retry = edited + entry_edited, retry + entry_retry
            if retry:  # Telegram unreachable for some: the next heal edits again ("not modified" is harmless)
                record["attempts"] = record.get("attempts", 0) + 1
                await self._store.set_heal(week, record)
                log.warning("Heal %s: edited %d messages, %d to try again", week, edited, retry)
                continue
            await self._store.set_heal(week, None)
            log.info("Healed %s: edited %d messages", week, edited)
            await self._notify(f"✅ {week}: 대기 중이던 번역을 마쳤고, 보낸 메시지 {edited}개를 고쳤습니다.")

    async def _edit_entry(self, key: str, entry: dict[str, Any], parts: list[str]) -> tuple[int, int]:
        """Edit every message the ledger entry records: (edited, failed for a reason that may pass)."""
        chat_id = int(key) if key.removeprefix("-").isdigit() else key
        to = Recipient(key, chat_id, ChatKind(entry.get("kind", ChatKind.CHANNEL)))
        edited = failed = 0
        for i, message_id in enumerate(entry["parts"]):
            if message_id in (None, UNKNOWN) or i >= len(parts):
                continue
            outcome = await self._edit(to, message_id, parts[i])
            edited += outcome == "edited"
            failed += outcome == "retry"
        return edited, failed

    async def _edit(self, to: Recipient, message_id: int, text: str) -> str:
        """ "edited"; "same" (nothing to change, or it cannot be edited: deleted, blocked); "retry"."""
        while True:
            try:
                await self._pace(to)
                await self._bot.edit_message_text(
                    text,
                    chat_id=to.chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                )
                return "edited"
            except RetryAfter as exc:
                await self._flood_wait(_seconds(exc.retry_after))
            except (BadRequest, Forbidden) as exc:
                if "not modified" not in exc.message.lower():
                    log.warning("Cannot edit message %s in chat %s: %s", message_id, to.key, exc.message)
                return "same"
            except TelegramError as exc:  # network trouble: the next heal tries again
                log.warning("Could not edit message %s in chat %s: %s", message_id, to.key, exc)
                return "retry"
