"""One send limiter for everything the bot sends: replies, edits and the broadcast, replies first.

Telegram counts what one bot token sends together: about 30 messages a second overall, about 20 a
minute to one group or channel. So every message goes through this limiter, which python-telegram-bot
calls for each request (it is the bot's `BaseRateLimiter`):

- Replies to people (any send the limiter was not told about) take the next free slot, ahead of the
  broadcast: within a process, slots go to waiting replies first.
- The broadcaster takes its slot itself (`acquire(chat, Priority.BROADCAST)`), then marks the part
  in doubt in its ledger, then sends with `rate_limit_args=PACED` so the request is not paced twice.
- A 429 anywhere is a flood wait for every sender: it pushes the shared slot time forward by
  `retry_after` (kept in Redis, so another process and a restarted one wait it out too). A reply is
  then sent again, not apologised for; the broadcaster is told (it keeps its own ledger).

Why our own pacing instead of PTB's AIORateLimiter: that one keeps its state in the process and has
no priorities, but the budget is shared by every process sending with the token (the bot, webhook
replicas, `hfweekly publish` from cron), so the slots are reserved in Redis (a GCRA in one Lua
script, bot/store/limits.py; one call per message). While Redis cannot be reached, aiolimiter paces
in this process alone.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from enum import IntEnum
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.errors import StoreError
from bot.store import Store

log = logging.getLogger(__name__)

# What Telegram counts as sending a message: these wait for a slot; other calls only for a flood wait.
PACED_METHODS = frozenset(
    {
        "sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption", "sendPhoto",
        "sendDocument", "sendMediaGroup", "copyMessage", "forwardMessage",
    }
)  # fmt: skip
GROUP_BURST = 3  # a group or channel may get this many messages at once, then its per-minute pace
REDIS_PAUSE = 5.0  # after Redis failed the limiter, it paces in-process this many seconds before asking again
MAX_REPLY_ATTEMPTS = 5  # a reply answered 429 is sent again after each wait, this many times in all


class Priority(IntEnum):
    REPLY = 0
    BROADCAST = 1
    EDIT = 2  # the editor (bot/editor.py): behind replies and the broadcast


class Paced:
    """`rate_limit_args` of a request whose slot the caller already took with `acquire`."""


PACED = Paced()


def _is_group(chat_id: object) -> bool:
    """Groups, supergroups and channels have negative ids (or are named by @username)."""
    return isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)


def seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SendLimiter(BaseRateLimiter[Paced]):
    def __init__(self, store: Store, *, rate: float, group_per_minute: float) -> None:
        """`rate`: messages a second over all chats; `group_per_minute`: to one group or channel (0: none)."""
        self._store = store
        self._interval = 1 / rate if rate else 0.0
        self._group_interval = 60 / max(1.0, group_per_minute - GROUP_BURST + 1) if group_per_minute else 0.0
        self._waiters: list[tuple[Priority, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._pump: asyncio.Task[None] | None = None
        self._flood_until = 0.0  # epoch seconds
        self._local = AsyncLimiter(1, self._interval) if self._interval else None  # while Redis is away
        self._local_groups: dict[object, AsyncLimiter] = {}
        self._redis_after = 0.0  # monotonic time before which Redis is not asked (it failed just now)

    async def initialize(self) -> None:
        try:  # a flood wait an earlier process was told about is not over just because we restarted
            self._flood_until = await self._store.flood_wait_until()
        except StoreError as exc:
            log.warning("Cannot read the shared flood wait (%s): pacing in this process", exc)
        if (wait := self._flood_until - time.time()) > 1:
            log.info("Telegram's flood wait from an earlier run has %.0f s left", wait)

    async def shutdown(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        for _, _, waiter in self._waiters:
            waiter.cancel()
        self._waiters.clear()

    async def acquire(self, chat_id: int | str | None, priority: Priority = Priority.BROADCAST) -> None:
        """Wait for a slot to send one message to `chat_id`: its group's slot, then the bot's."""
        if self._group_interval and _is_group(chat_id):
            await self._group_slot(chat_id)
        if not self._interval:
            await self._flood_pause()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), waiter))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._hand_out(), name="send-limiter")
        await waiter

    async def flood(self, wait: float) -> None:
        """Telegram answered 429: nobody sends for `wait` seconds (every process, through Redis)."""
        until = time.time() + wait
        if until > self._flood_until:
            log.warning("Telegram asked us to wait %.1f s (flood control): every send waits", wait)
            self._flood_until = until
        try:
            self._flood_until = max(self._flood_until, await self._store.push_flood_wait(wait))
        except StoreError as exc:
            log.warning("Could not share the flood wait (%s): this process waits it out alone", exc)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Paced | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        paced = isinstance(rate_limit_args, Paced)
        for attempt in itertools.count(1):
            if endpoint in PACED_METHODS and not paced:
                await self.acquire(data.get("chat_id"), Priority.REPLY)
            else:
                await self._flood_pause()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if paced:  # the broadcaster (or healer) decides about its own sends, and records the wait
                    raise
                await self.flood(seconds(exc.retry_after))
                if attempt >= MAX_REPLY_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    # --- slots -----------------------------------------------------------------------------------

    async def _hand_out(self) -> None:
        """Reserve the bot's slots one at a time while anyone waits; each goes to the first waiter in
        priority order at the moment it comes (so a reply that arrives meanwhile goes first)."""
        try:
            while self._waiters:
                await self._flood_pause()
                await self._slot()
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

    async def _slot(self) -> None:
        assert self._local is not None
        if (delay := await self._reserve(None, self._interval, 1)) is None:
            await self._local.acquire()
        elif delay > 0:
            await asyncio.sleep(delay)

    async def _group_slot(self, chat_id: object) -> None:
        key = chat_id if isinstance(chat_id, int) else str(chat_id)
        if (delay := await self._reserve(key, self._group_interval, GROUP_BURST)) is None:
            local = self._local_groups.setdefault(key, AsyncLimiter(GROUP_BURST, GROUP_BURST * self._group_interval))
            await local.acquire()
        elif delay > 0:
            await asyncio.sleep(delay)

    async def _reserve(self, key: int | str | None, interval: float, burst: int) -> float | None:
        """The shared slot's wait, or None while Redis cannot be asked (pace in this process then)."""
        if time.monotonic() < self._redis_after:
            return None
        try:
            return await self._store.reserve_send(key, interval=interval, burst=burst)
        except (StoreError, ValueError) as exc:  # unreachable, or an answer that is not a number
            log.warning("Send limiter cannot use Redis (%s): pacing this process's sends alone", exc)
            self._redis_after = time.monotonic() + REDIS_PAUSE
            return None

    async def _flood_pause(self) -> None:
        # A loop, not one sleep: another 429 may push the flood wait further meanwhile.
        while (wait := self._flood_until - time.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
