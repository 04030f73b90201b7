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

log = logging.getLogger("bot.store")

ALERT_EVERY = timedelta(minutes=10)  # one admin alert per kind of problem in this time
OUTBOX_CAP = 100  # notices kept while Telegram does not take them (past it, the oldest are dropped)
OUTBOX_TTL = timedelta(days=7)  # an outbox nobody added to for this long is dropped

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
