"""Subscriptions, the delivery ledger and the publish state: reports, holds, retries, healing, the lock."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from redis.exceptions import RedisError

from bot.ledger import LedgerEntry, Report, State
from bot.models import ChatKind, HealRecord, Hold, Subscription
from bot.store.base import StoreBase, call, log
from bot.week import IsoWeek

LEDGER_TTL = timedelta(days=400)
HOLD_TTL = timedelta(days=30)

_SUBSCRIPTION = TypeAdapter(Subscription)
_ENTRY = TypeAdapter(LedgerEntry)
_REPORT = TypeAdapter(Report)
_HOLD = TypeAdapter(Hold)
_HEAL = TypeAdapter(HealRecord)
_PLAN = TypeAdapter(list[list[int]])


class PublishLock:
    """redis-py's lock for one week's publish, every Redis failure turned into StoreError."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock

    async def acquire(self, wait: float) -> bool:
        """True once held; False if another process holds it after `wait` seconds (0: at once)."""
        held: bool = await call(self._lock.acquire(blocking=wait > 0, blocking_timeout=wait or None))
        return held

    async def renew(self) -> None:
        """Restart the lock's time; StoreError when it was lost (expired, taken) or Redis fails."""
        await call(self._lock.reacquire())

    async def release(self) -> None:
        try:
            await self._lock.release()
        except RedisError as exc:  # expired or Redis gone: nothing left to release
            log.info("Publish lock already gone at release: %s", exc)


class DeliveryStore(StoreBase):
    # --- subscriptions ---------------------------------------------------------------------------

    async def get_subscription(self, chat_id: int) -> Subscription | None:
        raw = await call(self._redis.hget(self._key("subs"), str(chat_id)))
        return self._decode(_SUBSCRIPTION, raw, f"subscription {chat_id}") if raw else None

    async def list_subscriptions(self) -> list[Subscription]:
        raw: dict[str, str] = await call(self._redis.hgetall(self._key("subs")))
        subs = (self._decode(_SUBSCRIPTION, value, f"subscription {chat}") for chat, value in raw.items())
        return sorted((s for s in subs if s is not None), key=lambda s: s.chat_id)

    async def save_subscription(self, sub: Subscription) -> None:
        await call(self._redis.hset(self._key("subs"), str(sub.chat_id), _SUBSCRIPTION.dump_json(sub)))

    async def delete_subscription(self, chat_id: int) -> bool:
        return bool(await call(self._redis.hdel(self._key("subs"), str(chat_id))))

    async def move_subscription(self, old_chat_id: int, new_chat_id: int, now: datetime) -> Subscription | None:
        """A group became a supergroup: the subscription follows it to its new id (a subscription the
        supergroup has of its own already stays as it is)."""
        sub = await self.get_subscription(old_chat_id)
        if sub is None:
            return None
        moved = await self.get_subscription(new_chat_id) or replace(
            sub, chat_id=new_chat_id, kind=ChatKind.SUPERGROUP, updated=now
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key("subs"), str(new_chat_id), _SUBSCRIPTION.dump_json(moved))
            pipe.hdel(self._key("subs"), str(old_chat_id))
            await call(pipe.execute())
        return moved

    # --- the delivery ledger ---------------------------------------------------------------------

    async def ledger(self, week: IsoWeek) -> dict[int, LedgerEntry]:
        raw: dict[str, str] = await call(self._redis.hgetall(self._key("ledger", str(week))))
        entries = {}
        for chat, value in raw.items():
            if chat.removeprefix("-").isdigit() and (entry := _ledger_entry(int(chat), value)) is not None:
                entries[entry.chat_id] = entry
        return entries

    async def save_ledger_entry(self, week: IsoWeek, entry: LedgerEntry) -> None:
        """One HSET: on the hot path of a broadcast (twice per message). `keep_ledger` sets the TTL."""
        await call(self._redis.hset(self._key("ledger", str(week)), str(entry.chat_id), _ENTRY.dump_json(entry)))

    async def keep_ledger(self, week: IsoWeek) -> None:
        """(Re)start the ledger's TTL: called once per publish run."""
        key = self._key("ledger", str(week))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "_ttl", "1")  # so that the key exists for EXPIRE; ledger() skips it
            pipe.expire(key, LEDGER_TTL)
            await call(pipe.execute())

    async def get_plan(self, week: IsoWeek) -> list[list[int]] | None:
        """Which paper ranks went into which message when the week was first sent (for healing)."""
        raw = await self._get(self._key("ledger", str(week), "plan"))
        return self._decode(_PLAN, raw, f"plan of {week}") if raw else None

    async def save_plan(self, week: IsoWeek, plan: list[list[int]]) -> None:
        await call(self._redis.set(self._key("ledger", str(week), "plan"), _PLAN.dump_json(plan), ex=LEDGER_TTL))

    # --- publish runs ----------------------------------------------------------------------------

    async def save_report(self, report: Report, *, done: bool) -> None:
        """The latest run's report; with `done`, also the week's completion marker."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key("publish", "last"), _REPORT.dump_json(report))
            if done:
                pipe.set(self._key("publish", "done", report.week), _REPORT.dump_json(report), ex=LEDGER_TTL)
            await call(pipe.execute())

    async def last_report(self) -> Report | None:
        raw = await self._get(self._key("publish", "last"))
        return self._decode(_REPORT, raw, "last publish report") if raw else None

    async def done_report(self, week: IsoWeek) -> Report | None:
        raw = await self._get(self._key("publish", "done", str(week)))
        return self._decode(_REPORT, raw, f"report of {week}") if raw else None

    async def retry_at(self, week: IsoWeek) -> datetime | None:
        """When the week's chats that are owed a retry are next due, if any are."""
        score = await call(self._redis.zscore(self._key("publish", "retries"), str(week)))
        return datetime.fromtimestamp(score, UTC) if score is not None else None

    async def set_retry_at(self, week: IsoWeek, at: datetime | None) -> None:
        key = self._key("publish", "retries")
        await call(self._redis.zadd(key, {str(week): at.timestamp()}) if at else self._redis.zrem(key, str(week)))

    async def due_retries(self, now: datetime) -> list[IsoWeek]:
        """Every week with chats owed a retry that is due by `now` (any week, not only the latest)."""
        names: list[str] = await call(
            self._redis.zrangebyscore(self._key("publish", "retries"), "-inf", now.timestamp())
        )
        return [IsoWeek(int(name[:4]), int(name[6:])) for name in names]

    async def get_hold(self, week: IsoWeek) -> Hold | None:
        raw = await self._get(self._key("publish", "hold", str(week)))
        return self._decode(_HOLD, raw, f"hold of {week}") if raw else None

    async def save_hold(self, week: IsoWeek, hold: Hold | None) -> None:
        key = self._key("publish", "hold", str(week))
        await call(self._redis.set(key, _HOLD.dump_json(hold), ex=HOLD_TTL) if hold else self._redis.delete(key))

    async def heal_records(self) -> dict[IsoWeek, HealRecord]:
        raw: dict[str, str] = await call(self._redis.hgetall(self._key("heal")))
        records = {}
        for name, value in raw.items():
            year, number = name.split("-W")
            if (record := self._decode(_HEAL, value, f"heal record of {name}")) is not None:
                records[IsoWeek(int(year), int(number))] = record
        return records

    async def heal_record(self, week: IsoWeek) -> HealRecord | None:
        raw = await call(self._redis.hget(self._key("heal"), str(week)))
        return self._decode(_HEAL, raw, f"heal record of {week}") if raw else None

    async def save_heal(self, week: IsoWeek, record: HealRecord | None) -> None:
        key = self._key("heal")
        await call(
            self._redis.hset(key, str(week), _HEAL.dump_json(record)) if record else self._redis.hdel(key, str(week))
        )

    def publish_lock(self, week: IsoWeek, *, timeout: timedelta) -> PublishLock:
        """The week's publish lock; the holder must renew it before `timeout` passes."""
        key = self._key("lock", "publish", str(week))
        return PublishLock(self._redis.lock(key, timeout=timeout.total_seconds(), blocking=False))

    async def expire_publish_lock(self, week: IsoWeek) -> None:
        """Drop the week's publish lock as if it had expired (an operator clearing a stuck lock; tests)."""
        await call(self._redis.delete(self._key("lock", "publish", str(week))))


def _ledger_entry(chat_id: int, raw: str) -> LedgerEntry | None:
    try:
        data = json.loads(raw)
        data.setdefault("chat_id", chat_id)
        if data.get("final"):  # an entry written before the ledger had a state for a chat given up
            data["state"] = State.GAVE_UP
        data.setdefault("updated", data.get("created"))
        return _ENTRY.validate_python(data)
    except (ValueError, ValidationError) as exc:
        log.warning("Ignoring unreadable ledger entry of chat %s: %s", chat_id, exc)
        return None
