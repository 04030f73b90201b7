"""One send limiter for everything the bot sends: replies, edits and the broadcast, replies first.

Telegram counts what one bot token sends together: about 30 messages a second overall, about 20 a
minute to one group or channel. So every message goes through this limiter, which python-telegram-bot
calls for each request (it is the bot's `BaseRateLimiter`):

- Replies to people (any send the limiter was not told about) take the next free slot, ahead of the
  broadcast: within a process, slots go to waiting replies first.
- The broadcaster takes its slot itself (`acquire(chat, Priority.BROADCAST)`), then marks the part
  in doubt in its ledger, then sends with `rate_limit_args=PACED` so the request is not paced twice.
- With paid broadcasts on (`paid_rate`), the broadcast's slots come from a budget of their own at
  that rate (its messages go with `allow_paid_broadcast`); replies and edits keep the free budget.
  A group's per-minute pace holds for both: Telegram lifts its broadcasting limit for a fee, not a
  chat's own.
- A 429 for a message pauses what Telegram paused (bot/floods.py says how it tells): one group or
  channel (its slot is pushed forward, other chats go on), or a budget (every sender of it waits).
  Either is kept in Redis, so another process and a restarted one wait it out too. A reply is then
  sent again, not apologised for; the broadcaster and the editor are told (they keep their own
  records). A 429 for a call that is not a message (answerCallbackQuery, …) waits for that call only.

Why our own pacing instead of PTB's AIORateLimiter: that one keeps its state in the process, has no
priorities, and stops every request on any 429, but the budget is shared by every process sending
with the token (the bot, webhook replicas, `hfweekly publish` from cron), so the slots are reserved
in Redis (a GCRA in one Lua script, bot/store/limits.py; one call per message, or per ten of the paid
broadcast's). While Redis cannot be reached, the same GCRA paces this process alone (bot/floods.py's
`LocalSlots`).

Time is injected: `clock` (epoch seconds) and `sleep`, so tests drive a clock of their own. Redis's
scripts answer in seconds to wait, never in its own time, so the two clocks never meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.errors import StoreError
from bot.floods import ChatFloods, Clock, LocalSlots, Scope, Sleep, SlotBatches, is_group
from bot.store import LimitStore
from bot.week import IsoWeek

log = logging.getLogger(__name__)

# What Telegram counts as sending a message: these wait for a slot; other calls are not paced.
PACED_METHODS = frozenset(
    {
        "sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption", "sendPhoto",
        "sendDocument", "sendMediaGroup", "copyMessage", "forwardMessage",
    }
)  # fmt: skip
GROUP_BURST = 3  # a group or channel may get this many messages at once, then its per-minute pace
REDIS_PAUSE = 5.0  # after Redis failed the limiter, it paces in-process this many seconds before asking again
MAX_REPLY_ATTEMPTS = 5  # a reply answered 429 is sent again after each wait, this many times in all
PAID_BATCH = 10  # paid broadcast slots reserved in Redis at once (10 ms of them at 1,000 a second)
PAID_SAVE_EVERY = 1.0  # seconds: the count of paid broadcast messages is saved this often while they go
FREE, PAID = "all", "paid"  # the slots of the bot's two budgets (bot/store/limits.py)
BUDGETS = {FREE: "free", PAID: "paid broadcast"}


class Priority(IntEnum):
    REPLY = 0
    BROADCAST = 1
    EDIT = 2  # the editor (bot/editor.py): behind replies and the broadcast


class Paced:
    """`rate_limit_args` of a request whose slot the caller already took with `acquire`."""


PACED = Paced()


def seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def chat_slot(chat_id: int | str) -> str:
    return f"chat:{chat_id}"


class PaidCounter:
    """Messages sent as paid broadcasts, per week, saved to Redis (for /status) once a second rather than
    once a message: one round trip less per message at 1,000 a second. A process killed outright loses
    at most the last second's count; a count Redis refused is logged, not worth stopping a broadcast for
    (the ledger has what was sent)."""

    def __init__(self, store: LimitStore, sleep: Sleep) -> None:
        self._store, self._sleep = store, sleep
        self._unsaved: Counter[str] = Counter()
        self._timer: asyncio.Task[None] | None = None
        self._writing = False

    def count(self, week: IsoWeek) -> None:
        self._unsaved[str(week)] += 1
        if self._timer is None or self._timer.done():
            self._timer = asyncio.create_task(self._save_soon(), name="paid-count")

    async def _save_soon(self) -> None:
        await self._sleep(PAID_SAVE_EVERY)
        self._writing = True
        try:
            await self._write()
        finally:
            self._writing = False

    async def save(self) -> None:
        """Save what was counted now (at shutdown); a save under way is finished, not cut short."""
        if (timer := self._timer) is not None and not timer.done():
            if not self._writing:
                timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
        await self._write()

    async def _write(self) -> None:
        unsaved, self._unsaved = self._unsaved, Counter()
        for week, messages in unsaved.items():
            try:
                await self._store.count_paid(week, messages)
            except StoreError as exc:
                log.warning("Could not count %d paid broadcast messages of %s: %s", messages, week, exc)


class SendLimiter(BaseRateLimiter[Paced]):
    def __init__(
        self,
        store: LimitStore,
        *,
        rate: float,
        group_per_minute: float,
        paid_rate: float = 0.0,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """`rate`: messages a second over all chats; `group_per_minute`: to one group or channel;
        `paid_rate`: the broadcast's messages a second as paid broadcasts (0: paid broadcasts off). 0
        turns a limit off (a wait Telegram asked for is kept all the same)."""
        self._store = store
        self._clock, self._sleep = clock, sleep
        self._interval = 1 / rate if rate else 0.0
        self._paid_interval = 1 / paid_rate if paid_rate else 0.0
        self.paid_broadcast = bool(paid_rate)
        self._group_interval = 60 / max(1.0, group_per_minute - GROUP_BURST + 1) if group_per_minute else 0.0
        self._waiters: list[tuple[Priority, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._pump: asyncio.Task[None] | None = None
        self._local = LocalSlots(clock)  # the pace while Redis is away, and the waits this process heard of
        self._chat_floods = ChatFloods(clock)
        self._redis_after = 0.0  # clock time before which Redis is not asked (it failed just now)
        self._paid = PaidCounter(store, sleep)
        self._paid_slots = SlotBatches(self._reserve_paid, self._paid_interval, PAID_BATCH, clock, sleep)

    async def initialize(self) -> None:
        for budget in (FREE, PAID) if self.paid_broadcast else (FREE,):
            try:  # a flood wait an earlier process was told about is not over just because we restarted
                left = await self._store.send_wait_left(budget)
            except StoreError as exc:
                log.warning("Cannot read the shared flood wait (%s): pacing in this process", exc)
                return
            if left > 0:
                self._local.pause(budget, left)
            if left > 1:
                log.info("Telegram's flood wait from an earlier run has %.0f s left", left)

    async def shutdown(self) -> None:
        await self._paid.save()
        if self._pump is not None:
            self._pump.cancel()
        for _, _, waiter in self._waiters:
            waiter.cancel()
        self._waiters.clear()

    def _budget(self, priority: Priority) -> str:
        return PAID if self.paid_broadcast and priority is Priority.BROADCAST else FREE

    async def acquire(self, chat_id: int | str | None, priority: Priority = Priority.BROADCAST) -> None:
        """Wait for a slot to send one message to `chat_id`: its group's slot, then its budget's."""
        if chat_id is not None and is_group(chat_id):
            await self._take(chat_slot(chat_id), self._group_interval, GROUP_BURST)
        budget = self._budget(priority)
        if budget == PAID:
            await self._paid_slots.take()
        elif self._interval:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiters, (priority, next(self._order), waiter))
            if self._pump is None or self._pump.done():
                self._pump = asyncio.create_task(self._hand_out(), name="send-limiter")
            await waiter
        # A 429 heard while this slot was being waited for: its wait is still kept. A loop, not one
        # sleep: another 429 may push it further meanwhile.
        while (left := max(self._local.paused(budget), self._chat_paused(chat_id))) > 0:
            await self._sleep(left)

    def _chat_paused(self, chat_id: int | str | None) -> float:
        return self._local.paused(chat_slot(chat_id)) if chat_id is not None and is_group(chat_id) else 0.0

    async def flood(self, wait: float, chat_id: int | str | None = None, priority: Priority = Priority.REPLY) -> None:
        """Telegram answered 429 to a message to `chat_id` (sent at `priority`): pause that chat, or
        the budget the message was sent from, for `wait` seconds (every process, through Redis)."""
        if chat_id is not None and self._chat_floods.scope(chat_id, wait) is Scope.CHAT:
            slot, tolerance = chat_slot(chat_id), self._group_interval * (GROUP_BURST - 1)
            log.info("Telegram paused chat %s for %.1f s (its own limit): other chats go on", chat_id, wait)
        else:
            slot, tolerance = self._budget(priority), 0.0
            if wait > self._local.paused(slot):
                log.warning(
                    "Telegram asked us to wait %.1f s (flood control): every %s send waits", wait, BUDGETS[slot]
                )
        self._local.pause(slot, wait)
        if slot == PAID:
            self._paid_slots.drop()
        try:
            self._local.pause(slot, await self._store.push_send_wait(slot, wait, tolerance=tolerance))
        except StoreError as exc:
            log.warning("Could not share the flood wait (%s): this process waits it out alone", exc)

    def count_paid(self, week: IsoWeek) -> None:
        """One message of `week` went as a paid broadcast (for /status; saved within PAID_SAVE_EVERY)."""
        self._paid.count(week)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Paced | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        paced, message, chat_id = isinstance(rate_limit_args, Paced), endpoint in PACED_METHODS, data.get("chat_id")
        for attempt in itertools.count(1):
            if message and not paced:
                await self.acquire(chat_id, Priority.REPLY)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if paced:  # the broadcaster (or editor) decides about its own sends, and records the wait
                    raise
                wait = seconds(exc.retry_after)
                if message:
                    await self.flood(wait, chat_id, Priority.REPLY)
                else:  # not a message: Telegram limits this call, not the bot's messages
                    log.info("Telegram asked for %.1f s before %s again: that call waits", wait, endpoint)
                    await self._sleep(wait)
                if attempt >= MAX_REPLY_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    # --- slots -----------------------------------------------------------------------------------

    async def _hand_out(self) -> None:
        """Reserve the free budget's slots one at a time while anyone waits; each goes to the first
        waiter in priority order at the moment it comes (so a reply that arrives meanwhile goes first)."""
        try:
            while self._waiters:
                await self._take(FREE, self._interval)
                while self._waiters:
                    _, _, waiter = heapq.heappop(self._waiters)
                    if not waiter.done():  # a waiter that gave up (cancelled) gets nothing
                        waiter.set_result(None)
                        break
        except Exception as exc:  # no waiter may hang on a pump that died: each gets the error
            log.exception("The send limiter failed")
            while self._waiters:
                if not (waiter := heapq.heappop(self._waiters)[2]).done():
                    waiter.set_exception(exc)

    async def _take(self, slot: str, interval: float, burst: int = 1) -> None:
        """Reserve `slot`'s next send (in Redis, or in this process while Redis is away) and wait for it."""
        if delay := await self._reserve(slot, interval, burst):
            await self._sleep(delay)

    async def _reserve_paid(self, interval: float) -> float:
        return await self._reserve(PAID, interval, 1)

    async def _reserve(self, slot: str, interval: float, burst: int) -> float:
        if self._clock() >= self._redis_after:
            try:
                return await self._store.reserve_send(slot, interval=interval, burst=burst)
            except (StoreError, ValueError) as exc:  # unreachable, or an answer that is not a number
                log.warning("Send limiter cannot use Redis (%s): pacing this process's sends alone", exc)
                self._redis_after = self._clock() + REDIS_PAUSE
        return self._local.reserve(slot, interval, burst)
