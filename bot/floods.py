"""Telegram's 429s: which limit one was for, and the pacing the send limiter keeps in this process.

Telegram answers every flood with the same "429 Too Many Requests: retry after N" and does not say
which of its limits was hit. The limits it documents (Bots FAQ, "Broadcasting to users"): about 30
messages a second from one bot over all chats; no more than 20 a minute to one group or channel
(python-telegram-bot's docs: a bot over one group's limit "might still be allowed to send messages
in another group or with allow_paid_broadcast"); about one a second to one chat, short bursts
allowed; with `allow_paid_broadcast`, up to 1,000 a second, billed in Stars. The rule here
(`scope_of`):

- A 429 for a message to a group or channel (a negative id, or an @username) whose `retry_after` is
  at most a minute is that chat's per-minute limit: that chat alone is paused for `retry_after`.
- Anything else is the bot's budget (a private chat has no per-minute limit, and one digest of a few
  parts never strains its one-a-second; a wait longer than a minute is more than one chat's minute
  explains): every send of that budget waits (the free one, or the paid broadcast's own).
- A group told to wait while another group was told so less than `CHAT_429_SPREAD` ago is taken for
  the bot's budget too: two groups at their limits at the same moment is the less likely story.
- A 429 for a call that is not a message (answerCallbackQuery, getChat, …) is about that call: it
  waits and goes again, and nothing else waits for it.

A 429 taken for one chat's that was in truth the bot's costs one more 429: the next send to another
chat is refused too, and that one stops everyone. The other mistake would stop every chat for a
minute because one group is busy.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from enum import StrEnum

GROUP_WINDOW = 60.0  # seconds: a group's limit is per minute, so its 429 asks for at most this
CHAT_429_SPREAD = 1.0  # seconds: per-chat 429s for two chats this close together are the bot's

Clock = Callable[[], float]  # epoch seconds (time.time), or a test's clock
Sleep = Callable[[float], Awaitable[None]]


class Scope(StrEnum):
    CHAT = "chat"  # one group or channel
    BOT = "bot"  # the bot's budget (free or paid)


def is_group(chat_id: object) -> bool:
    """Groups, supergroups and channels have negative ids (or are named by @username)."""
    return isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)


def scope_of(chat_id: object, retry_after: float) -> Scope:
    """Which limit a 429 for a message to `chat_id` asking for `retry_after` seconds was about."""
    return Scope.CHAT if is_group(chat_id) and retry_after <= GROUP_WINDOW else Scope.BOT


class ChatFloods:
    """The rule that several groups told to wait at once is the bot being told (see the module)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last: tuple[float, object] | None = None  # when a group was last told to wait, and which

    def scope(self, chat_id: object, retry_after: float) -> Scope:
        scope, now = scope_of(chat_id, retry_after), self._clock()
        if scope is Scope.CHAT:
            last, self._last = self._last, (now, chat_id)
            if last is not None and last[1] != chat_id and now - last[0] < CHAT_429_SPREAD:
                return Scope.BOT
        return scope


class LocalSlots:
    """The GCRA of bot/store/limits.py kept in this process on the limiter's clock: the pace while
    Redis cannot be asked, and Telegram's waits as this process heard them.

    Not aiolimiter (which paced here before): it reads the event loop's clock, and the limiter's
    tests drive a clock of their own; the whole algorithm is the four lines of `reserve`."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._at: dict[str, float] = {}  # slot -> the next slot's time (epoch s)
        self._paused: dict[str, float] = {}  # slot -> until when Telegram asked it to wait

    def reserve(self, slot: str, interval: float, burst: int = 1) -> float:
        """Reserve `slot`'s next send; the seconds to wait for it."""
        now = self._clock()
        at = max(self._at.get(slot, 0.0), now)
        self._at[slot] = at + interval
        return max(0.0, at - interval * (burst - 1) - now, self.paused(slot))

    def pause(self, slot: str, seconds: float) -> None:
        """Nothing of `slot` goes for `seconds` (a longer pause on already stays)."""
        self._paused[slot] = max(self._paused.get(slot, 0.0), self._clock() + seconds)

    def paused(self, slot: str) -> float:
        """Seconds `slot` is still paused for (0: not paused)."""
        until = self._paused.get(slot)
        if until is None:
            return 0.0
        if (left := until - self._clock()) <= 0:
            del self._paused[slot]  # over: forgotten, so a broadcast to many groups leaves nothing behind
            return 0.0
        return left


class SlotBatches:
    """A budget's slots reserved `size` at a time (one Redis round trip for `size` messages: at 1,000 a
    second, the reservation was a fifth of the publisher's CPU) and handed out here at the budget's
    pace. The budget is still shared: another process reserving meanwhile gets the slots after these."""

    def __init__(
        self, reserve: Callable[[float], Awaitable[float]], interval: float, size: int, clock: Clock, sleep: Sleep
    ) -> None:
        self._reserve, self._interval, self._size = reserve, interval, size
        self._clock, self._sleep = clock, sleep
        self._times: deque[float] = deque()  # the batch's slots not taken yet (clock times)
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        """Wait for the next slot (reserving the next batch when this one is used up)."""
        async with self._lock:
            if not self._times:
                start = self._clock() + await self._reserve(self._interval * self._size)
                self._times.extend(start + i * self._interval for i in range(self._size))
            at = self._times.popleft()
        if (wait := at - self._clock()) > 0:
            await self._sleep(wait)

    def drop(self) -> None:
        """Forget the slots reserved (Telegram asked this budget to wait: they are not to be used)."""
        self._times.clear()
