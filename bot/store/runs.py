"""A publish run's writes: its lock, the fenced ledger writes, and its end, each atomic.

Fencing: a run holds the week's publish lock (redis-py's lock, with a token of the run's own) and
every ledger write of the run goes through one script that writes only while the lock still holds
that token. A run whose lock expired (a process that stalled longer than the lock lasts) and was
taken by another run is refused at its next write (before its next part), so two runs never both
send a chat's remaining parts; at most the part that was in flight when the lock changed hands is
sent twice (it is in doubt in the ledger, and the new run sends it again).

A run's end (`finish_run`) is one script too: the owed set, the slots that delivered the week, the
week's retry time, the reports and the hold change together or not at all. A chat owed the week
while the run went (`owe_now`, a slot moved) bumps the week's owed generation; a run that sees it
changed keeps the earlier of the two retry times.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.errors import StoreError
from bot.ledger import LedgerEntry, Report
from bot.store.base import StoreBase, call, dumps, log, process_name
from bot.week import IsoWeek

LEDGER_TTL = timedelta(days=400)

_ENTRY = TypeAdapter(LedgerEntry)
_REPORT = TypeAdapter(Report)

# KEYS: lock, ledger[, shown]; ARGV: token, chat, entry, entry it follows ("": none)[, member, text hash].
# Written while the lock holds the token; else only the outcome of a send that was in flight, and only
# if nobody touched the chat's entry since (it is still what this run wrote before the send).
# 1 written, 0 refused.
_FENCED_WRITE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  if ARGV[4] == '' or redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[4] then return 0 end
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
if KEYS[3] then redis.call('HSET', KEYS[3], ARGV[5], ARGV[6]) end
return 1
"""
# KEYS: owed, slots, retries, generation, last report, done report, hold.
# ARGV: week, owed (JSON list), paid (JSON list), slots (JSON list), retry at (epoch s, or ""),
#       generation seen at the start, report (JSON), as last ("1"), done ("1"), TTL (s), the retry time
#       only if earlier ("1"), the hold ends ("1").
_FINISH = """
local function each(list, command, key)
  for i = 1, #list, 1000 do
    redis.call(command, key, unpack(list, i, math.min(i + 999, #list)))
  end
end
local owed, paid, slots = cjson.decode(ARGV[2]), cjson.decode(ARGV[3]), cjson.decode(ARGV[4])
local ttl = tonumber(ARGV[10])
each(owed, 'SADD', KEYS[1])
each(paid, 'SREM', KEYS[1])
if #owed > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
if #slots > 0 then
  each(slots, 'SADD', KEYS[2])
  redis.call('EXPIRE', KEYS[2], ttl)
end
local changed = (redis.call('GET', KEYS[4]) or '0') ~= ARGV[6]
if ARGV[5] ~= '' then
  if changed or ARGV[11] == '1' then
    redis.call('ZADD', KEYS[3], 'LT', ARGV[5], ARGV[1])
  else
    redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
  end
elseif redis.call('SCARD', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
end
if ARGV[8] == '1' then redis.call('SET', KEYS[5], ARGV[7]) end
if ARGV[9] == '1' then redis.call('SET', KEYS[6], ARGV[7], 'EX', ttl) end
if ARGV[12] == '1' then redis.call('DEL', KEYS[7]) end
return 1
"""


class LockLost(Exception):
    """A run's write was refused: its publish lock expired or another run holds it now."""


class PublishLock:
    """redis-py's lock for one week's publish, with a token of this run's own (the fence of its
    writes); every Redis failure is turned into StoreError."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self.token = f"{uuid.uuid4().hex} {process_name()}"  # unique; says who holds it
        self.key: str = lock.name

    async def acquire(self, wait: float) -> bool:
        """True once held; False if another process holds it after `wait` seconds (0: at once)."""
        held: bool = await call(self._lock.acquire(blocking=wait > 0, blocking_timeout=wait or None, token=self.token))
        return held

    async def renew(self) -> None:
        """Restart the lock's time; StoreError when it was lost (expired, taken) or Redis fails."""
        await call(self._lock.reacquire())

    async def release(self) -> None:
        try:
            await self._lock.release()
        except RedisError as exc:  # expired or Redis gone: nothing left to release
            log.info("Lock %s already gone at release: %s", self.key, exc)

    async def keep(self, lost: asyncio.Event, *, every: timedelta, what: str) -> None:
        """Renew the lock every `every` while the holder works (run it as a task); when it is lost
        (expired, taken, Redis down) `lost` is set and this ends: the holder must start nothing new."""
        while True:
            await asyncio.sleep(every.total_seconds())
            try:
                await self.renew()
            except StoreError as exc:
                log.error("Lost the lock of %s (%s): starting nothing new", what, exc)
                lost.set()
                return


class RunStore(StoreBase):
    def __init__(self, redis: Redis, prefix: str = "hfweekly") -> None:
        super().__init__(redis, prefix)
        self._fenced_write = redis.register_script(_FENCED_WRITE)
        self._finish = redis.register_script(_FINISH)

    def publish_lock(self, week: IsoWeek, *, timeout: timedelta) -> PublishLock:
        """The week's publish lock; the holder must renew it before `timeout` passes."""
        key = self._key("lock", "publish", str(week))
        return PublishLock(self._redis.lock(key, timeout=timeout.total_seconds(), blocking=False))

    async def expire_publish_lock(self, week: IsoWeek) -> None:
        """Drop the week's publish lock as if it had expired (an operator clearing a stuck lock; tests)."""
        await call(self._redis.delete(self._key("lock", "publish", str(week))))

    async def save_ledger_entry(
        self,
        week: IsoWeek,
        entry: LedgerEntry,
        lock: PublishLock,
        shown: tuple[str, str, str] | None = None,
        *,
        follows: LedgerEntry | None = None,
    ) -> None:
        """One fenced write (on the hot path of a broadcast: twice per message); LockLost when the run
        no longer holds `lock`. `follows`: the entry this run saved before the send whose outcome
        `entry` records; that outcome is kept even when the lock was lost meanwhile, as long as no
        other run touched the chat. `shown`: (ref, "chat:message", text hash) of the message just
        sent, indexed in the same write (bot/store/edits.py). `keep_ledger` sets the ledger's TTL."""
        keys = [lock.key, self._key("ledger", str(week))]
        before = _ENTRY.dump_json(follows) if follows is not None else b""
        args: list[str | bytes] = [lock.token, str(entry.chat_id), _ENTRY.dump_json(entry), before]
        if shown is not None:
            ref, member, digest = shown
            keys.append(self._shown(ref))
            args += [member, digest]
        if not await call(self._fenced_write(keys=keys, args=args)):
            raise LockLost(f"the publish lock of {week} is no longer this run's")

    async def owed_generation(self, week: IsoWeek) -> str:
        """Bumped by every `owe_now` of the week: a run reads it before it reads who is owed."""
        return await self._get(self._key("ledger", str(week), "owed", "gen")) or "0"

    async def finish_run(
        self,
        report: Report,
        *,
        owed: Sequence[int],
        paid: Sequence[int],
        slots: Sequence[str],
        retry_at: datetime | None,
        generation: str,
        as_last: bool,
        done: bool,
        earlier_only: bool = False,
        end_hold: bool = True,
    ) -> None:
        """A run's end, atomically: `owed` added to and `paid` removed from the week's owed chats;
        `slots` have delivered it; its retries are due at `retry_at` (the earlier time kept when a chat
        was owed it meanwhile), or end when no chat is owed it; the report kept (as the latest with
        `as_last`; as the week's completion with `done`); the week no longer held (`end_hold`: it passed
        the source gate). `earlier_only`: `retry_at` only if sooner than the time set (a run that stopped
        early, perhaps for another that holds the lock now)."""
        week = report.week
        keys = [
            self._key("ledger", week, "owed"),
            self._key("ledger", week, "slots"),
            self._key("publish", "retries"),
            self._key("ledger", week, "owed", "gen"),
            self._key("publish", "last"),
            self._key("publish", "done", week),
            self._key("publish", "hold", week),
        ]
        args = [
            week,
            dumps([str(c) for c in owed]),
            dumps([str(c) for c in paid]),
            dumps(list(slots)),
            repr(retry_at.timestamp()) if retry_at else "",
            generation,
            _REPORT.dump_json(report).decode(),
            "1" if as_last else "0",
            "1" if done else "0",
            str(int(LEDGER_TTL.total_seconds())),
            "1" if earlier_only else "0",
            "1" if end_hold else "0",
        ]
        await call(self._finish(keys=keys, args=args))
