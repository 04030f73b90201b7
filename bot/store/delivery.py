"""Subscriptions, the delivery ledger and the publish state: reports, holds, retries, healing, the lock."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from bot.layout import Layout, Plan
from bot.ledger import LedgerEntry, Report, State
from bot.models import HealRecord, Hold, View
from bot.store.base import StoreBase, call, log
from bot.store.chats import chunks
from bot.store.runs import LEDGER_TTL
from bot.week import IsoWeek

HOLD_TTL = timedelta(days=30)

_ENTRY = TypeAdapter(LedgerEntry)
_REPORT = TypeAdapter(Report)
_HOLD = TypeAdapter(Hold)
_HEAL = TypeAdapter(HealRecord)
_PLAN = TypeAdapter(list[list[int]])


_LAYOUT = TypeAdapter(Layout)


@dataclass
class LedgerRead:
    """Some chats' ledger entries, and the chats whose entry exists but cannot be read."""

    entries: dict[int, LedgerEntry] = field(default_factory=dict)
    unreadable: set[int] = field(default_factory=set)


class DeliveryStore(StoreBase):
    # --- the delivery ledger ---------------------------------------------------------------------

    async def ledger(self, week: IsoWeek) -> dict[int, LedgerEntry]:
        raw: dict[str, str] = await call(self._redis.hgetall(self._key("ledger", str(week))))
        entries = {}
        for chat, value in raw.items():
            if chat.removeprefix("-").isdigit() and (entry := _ledger_entry(int(chat), value)) is not None:
                entries[entry.chat_id] = entry
        return entries

    async def keep_ledger(self, week: IsoWeek) -> None:
        """(Re)start the ledger's TTL: called once per publish run."""
        key = self._key("ledger", str(week))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "_ttl", "1")  # so that the key exists for EXPIRE; ledger() skips it
            pipe.expire(key, LEDGER_TTL)
            await call(pipe.execute())

    async def ledger_entries(self, week: IsoWeek, ids: Sequence[int]) -> LedgerRead:
        """The entries of these chats (those that have one), read in chunks: a run reads only its chats.
        An entry that cannot be read (written by a newer release, damaged) is reported, not dropped:
        a chat whose entry is unreadable must not be taken for one that was never sent the week."""
        key, read = self._key("ledger", str(week)), LedgerRead()
        for part in chunks(ids):
            raw: list[str | None] = await call(self._redis.hmget(key, [str(i) for i in part]))
            for chat_id, value in zip(part, raw, strict=True):
                if not value:
                    continue
                if (entry := _ledger_entry(chat_id, value)) is None:
                    read.unreadable.add(chat_id)
                else:
                    read.entries[chat_id] = entry
        return read

    async def layouts(self, week: IsoWeek) -> dict[str, Layout]:
        """How each view of the week was laid out when first sent: which papers in which message (and
        starred for which topics), by view key. The key "" is the plan of a week sent before views."""
        raw: dict[str, str] = await call(self._redis.hgetall(self._key("ledger", str(week), "layouts")))
        found = {k: v for k, v in ((k, self._decode(_LAYOUT, v, f"layout {k} of {week}")) for k, v in raw.items()) if v}
        legacy = await self._get(self._key("ledger", str(week), "plan"))
        if legacy and (plan := self._decode(_PLAN, legacy, f"plan of {week}")) is not None:
            found.setdefault("", Layout(View(count=sum(map(len, plan))), Plan(tuple(map(tuple, plan)))))
        return found

    async def keep_layout(self, week: IsoWeek, key: str, layout: Layout) -> Layout:
        """The week's layout of a view: the one kept already, or `layout`, kept from now on."""
        name = self._key("ledger", str(week), "layouts")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(name, key, _LAYOUT.dump_json(layout))
            pipe.hget(name, key)
            pipe.expire(name, LEDGER_TTL)
            _, raw, _ = await call(pipe.execute())
        return self._decode(_LAYOUT, raw, f"layout {key} of {week}") or layout

    # --- who is owed a week, and which slots have had it -----------------------------------------

    async def owed_chats(self, week: IsoWeek) -> list[int]:
        """Chats owed the week by a later run: a failed send, a run stopped early, a slot moved."""
        members: set[str] = await call(self._redis.smembers(self._key("ledger", str(week), "owed")))
        return sorted(int(m) for m in members)

    async def owe_now(self, week: IsoWeek, chat_id: int, now: datetime) -> None:
        """A chat is owed the week at once (it moved to a slot that has delivered it already)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self._key("ledger", str(week), "owed"), str(chat_id))
            pipe.expire(self._key("ledger", str(week), "owed"), LEDGER_TTL)
            pipe.zadd(self._key("publish", "retries"), {str(week): now.timestamp()}, lt=True)  # adds, or makes sooner
            pipe.incr(self._key("ledger", str(week), "owed", "gen"))  # a run going now keeps this sooner time
            pipe.expire(self._key("ledger", str(week), "owed", "gen"), LEDGER_TTL)
            await call(pipe.execute())

    async def done_slots(self, week: IsoWeek) -> set[str]:
        found: set[str] = await call(self._redis.smembers(self._key("ledger", str(week), "slots")))
        return found

    async def mark_slots_done(self, week: IsoWeek, slots: Sequence[str]) -> None:
        if not slots:
            return
        key = self._key("ledger", str(week), "slots")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(key, *slots)
            pipe.expire(key, LEDGER_TTL)
            await call(pipe.execute())

    # --- publish runs ----------------------------------------------------------------------------

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
