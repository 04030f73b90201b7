"""Limits kept in Redis: the send limiter's state, users' build allowance, admin alert throttling, and the
notices to admins Telegram did not take (the outbox: bot/outbox.py)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis.asyncio import Redis

from bot.store.base import StoreBase, call, dumps
from bot.store.runs import PublishLock
from bot.week import IsoWeek

log = logging.getLogger("bot.store")

ALERT_EVERY = timedelta(minutes=10)  # one admin alert per kind of problem in this time
OUTBOX_CAP = 100  # notices kept while Telegram does not take them (past it, the oldest are dropped)
OUTBOX_TTL = timedelta(days=7)  # an outbox nobody added to for this long is dropped

PAID_TTL = timedelta(days=400)  # the count of a week's paid broadcast messages, as long as its usage

# The send limiter's slots (bot/limiter.py): `all` (the bot's free budget), `paid` (the paid broadcast
# budget), `chat:<id>` (one group or channel). Each key holds a GCRA's next slot time; Redis's clock,
# so every process agrees, and every script answers in seconds from now (never an epoch time, so a
# caller's clock, skewed or a test's, never meets Redis's).

# GCRA, one reservation per call: the slot after the last one reserved (or now), less the burst
# allowance (ARGV[2]); returns how long the caller waits for it.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
if at < now then at = now end
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.6f', at + interval), 'EX', math.ceil(at + interval - now) + 1)
return string.format('%.6f', math.max(0, at - tolerance - now))
"""
# Telegram asked for a wait: no slot of this key before now + ARGV[1] seconds (its burst allowance,
# ARGV[2], is spent too: after the wait, the pace). Returns the seconds left (a longer wait stays).
_PUSH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
local tolerance = tonumber(ARGV[2])
local wait_until = now + tonumber(ARGV[1]) + tolerance
if wait_until > at then
  redis.call('SET', KEYS[1], string.format('%.6f', wait_until), 'EX', math.ceil(wait_until - now) + 1)
  at = wait_until
end
return string.format('%.6f', math.max(0, at - tolerance - now))
"""
# Seconds before the next slot of a key (ARGV[1]: its burst allowance), without reserving it.
_LEFT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
return string.format('%.6f', math.max(0, at - tonumber(ARGV[1]) - now))
"""
# A counter with a TTL, in one round trip: INCRBY and EXPIRE.
_COUNT = """
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return n
"""


@dataclass(frozen=True)
class Notice:
    """A message to one chat (an admin) that Telegram did not take; sent again when it answers."""

    chat_id: int
    text: str
    html: bool  # parse_mode HTML (an admin command's answer), else plain text (alerts)
    at: datetime  # when it was first meant to go
    thread_id: int | None = None  # the forum topic it answers in
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


def _notice(raw: str) -> Notice | None:
    try:
        data = json.loads(raw)
        thread = int(data["thread"]) if data.get("thread") is not None else None
        at = datetime.fromisoformat(data["at"])
        return Notice(int(data["chat"]), str(data["text"]), bool(data["html"]), at, thread, str(data["id"]))
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("Ignoring an unreadable kept notice: %s", exc)
        return None


def _encoded(notice: Notice) -> str:
    return dumps({"id": notice.id, "chat": notice.chat_id, "thread": notice.thread_id, "text": notice.text,
                  "html": notice.html, "at": notice.at.isoformat()})  # fmt: skip


HF_WINDOW = timedelta(minutes=5)  # Hugging Face limits calls per 5-minute window


class LimitStore(StoreBase):
    def __init__(self, redis: Redis, prefix: str = "hfweekly") -> None:
        super().__init__(redis, prefix)
        self._reserve = redis.register_script(_RESERVE)
        self._push = redis.register_script(_PUSH)
        self._left = redis.register_script(_LEFT)
        self._count = redis.register_script(_COUNT)

    # --- the send limiter (bot/limiter.py) -------------------------------------------------------

    async def reserve_send(self, slot: str, *, interval: float, burst: int = 1) -> float:
        """Reserve the next send slot of `slot` (`all`, `paid` or `chat:<id>`); seconds to wait for it."""
        args = [interval, interval * (burst - 1)]
        return float(await call(self._reserve(keys=[self._key("send", slot)], args=args)))

    async def push_send_wait(self, slot: str, seconds: float, *, tolerance: float = 0.0) -> float:
        """Telegram asked us to wait: no slot of `slot` before now + `seconds` (`tolerance`: its GCRA's
        burst allowance). Returns the seconds left (more, when a longer wait was on already)."""
        return float(await call(self._push(keys=[self._key("send", slot)], args=[seconds, tolerance])))

    async def send_wait_left(self, slot: str, *, tolerance: float = 0.0) -> float:
        """Seconds before `slot`'s next send may go (0: it may go now); nothing is reserved."""
        return float(await call(self._left(keys=[self._key("send", slot)], args=[tolerance])))

    async def count_paid(self, week: IsoWeek | str, messages: int = 1) -> int:
        """Count messages of `week`'s broadcast sent as paid broadcasts; the week's count now."""
        key = self._key("paid", str(week))
        return int(await call(self._count(keys=[key], args=[messages, int(PAID_TTL.total_seconds())])))

    async def paid_count(self, week: IsoWeek | str) -> int:
        """Messages of `week`'s broadcast sent as paid broadcasts (for /status)."""
        return int(await self._get(self._key("paid", str(week))) or 0)

    # --- Hugging Face's calls ---------------------------------------------------------------------

    async def count_hf_call(self, now: float) -> None:
        """One request to Hugging Face, counted in the 5-minute window (epoch-aligned) of `now`."""
        key = self._key("hf", "calls", str(int(now // HF_WINDOW.total_seconds())))
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, HF_WINDOW * 2)
            await call(pipe.execute())

    async def hf_calls(self, now: float) -> int:
        """Requests to Hugging Face in the window of `now`, by every process (for /status)."""
        return int(await self._get(self._key("hf", "calls", str(int(now // HF_WINDOW.total_seconds())))) or 0)

    # --- users and admins ------------------------------------------------------------------------

    async def take_week_build(self, user_id: int, *, limit: int, window: timedelta) -> bool:
        """Count one build of a new week for the user; False (and nothing counted) past `limit` in `window`."""
        key = self._key("ratelimit", "week", str(user_id))
        now, member = time.time(), uuid.uuid4().hex
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, 0, now - window.total_seconds())
            pipe.zadd(key, {member: now})
            pipe.zcard(key)
            pipe.expire(key, window)
            _, _, count, _ = await call(pipe.execute())
        if count > limit:
            await call(self._redis.zrem(key, member))
            return False
        return True

    async def alert_once(self, kind: str) -> bool:
        """True the first time in ALERT_EVERY for this kind of alert (across every process), False after."""
        return await self.first_time(f"alert:{kind}", ttl=ALERT_EVERY)

    # --- the outbox: notices Telegram did not take (bot/outbox.py) -------------------------------

    async def keep_notice(self, notice: Notice) -> None:
        """Keep `notice` after the others (the newest OUTBOX_CAP are kept, for OUTBOX_TTL)."""
        key = self._key("outbox")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, _encoded(notice))
            pipe.ltrim(key, -OUTBOX_CAP, -1)
            pipe.expire(key, OUTBOX_TTL)
            await call(pipe.execute())

    async def kept_notices(self) -> int:
        return int(await call(self._redis.llen(self._key("outbox"))))

    async def first_notice(self) -> Notice | None:
        """The oldest kept notice (unreadable ones are dropped on the way)."""
        key = self._key("outbox")
        while (raw := await call(self._redis.lindex(key, 0))) is not None:
            if (notice := _notice(raw)) is not None:
                return notice
            await call(self._redis.lrem(key, 1, raw))
        return None

    async def drop_notice(self, notice: Notice) -> None:
        """`notice` was sent (or can never be): out of the outbox."""
        await call(self._redis.lrem(self._key("outbox"), 1, _encoded(notice)))

    def outbox_lock(self, *, timeout: timedelta) -> PublishLock:
        """One process at a time sends the kept notices (so that each goes once, oldest first)."""
        return PublishLock(
            self._redis.lock(self._key("lock", "outbox"), timeout=timeout.total_seconds(), blocking=False)
        )
