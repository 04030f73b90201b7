"""Limits kept in Redis: the send limiter's state, users' build allowance, admin alert throttling."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from redis.asyncio import Redis

from bot.store.base import StoreBase, call

ALERT_EVERY = timedelta(minutes=10)  # one admin alert per kind of problem in this time

# GCRA, one reservation per call: the slot after the last one reserved (or now), less the burst
# allowance; returns how long the caller waits for it. Time is Redis's, so every process agrees.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
if at < now then at = now end
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.6f', at + interval), 'EX', math.ceil(at + interval - now) + 1)
return string.format('%.6f', math.max(0, at - tolerance - now))
"""
# A flood wait: no slot before now + ARGV[1] seconds. Returns that time (epoch seconds).
_PUSH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
local wait_until = now + tonumber(ARGV[1])
if wait_until > at then
  redis.call('SET', KEYS[1], string.format('%.6f', wait_until), 'EX', math.ceil(wait_until - now) + 1)
  at = wait_until
end
return string.format('%.6f', at)
"""


class LimitStore(StoreBase):
    def __init__(self, redis: Redis, prefix: str = "hfweekly") -> None:
        super().__init__(redis, prefix)
        self._reserve = redis.register_script(_RESERVE)
        self._push = redis.register_script(_PUSH)

    # --- the send limiter (bot/limiter.py) -------------------------------------------------------

    async def reserve_send(self, chat_id: int | str | None, *, interval: float, burst: int = 1) -> float:
        """Reserve the next send slot of the bot (chat_id None) or of one chat; seconds to wait for it."""
        key = self._key("send", "all") if chat_id is None else self._key("send", "chat", str(chat_id))
        return float(await call(self._reserve(keys=[key], args=[interval, interval * (burst - 1)])))

    async def push_flood_wait(self, seconds: float) -> float:
        """Telegram asked us to wait: no send slot before now + `seconds`. Returns until when (epoch s)."""
        return float(await call(self._push(keys=[self._key("send", "all")], args=[seconds])))

    async def flood_wait_until(self) -> float:
        """Epoch seconds before which no message may be sent (in the past when no flood wait is on)."""
        raw = await self._get(self._key("send", "all"))
        return float(raw) if raw else 0.0

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
