"""Limits kept in Redis: the send limiter's state, users' build allowance, admin alert throttling."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from redis.asyncio import Redis

from bot.store.base import StoreBase, call
from bot.week import IsoWeek

ALERT_EVERY = timedelta(minutes=10)  # one admin alert per kind of problem in this time

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
