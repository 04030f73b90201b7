"""Store: every Redis key, its TTL and its encoding live here.

Keys (all under `<prefix>:`):
  snapshot:<week>                           JSON Snapshot: the frozen ranking of a week
  paper:<paper id>                          JSON Paper and the week it was ranked in (deep links)
  tr:<paper id>:<content hash>:<model>:<prompt hash>   JSON Translation
  tr:…:failed                               marker: translating it failed recently (TTL 15 minutes)
  usage:<week>                              hash of Claude token counts spent building that week's digest
  usage:spent:<week>                        hash of Claude token counts spent during that week
  subs                                      hash chat id -> JSON Subscription (no TTL: subscriptions are kept)
  ratelimit:<name>:<user id>                sorted set of recent hits (sliding window), TTL = the window
  once:<name>                               a marker that something was done recently (SET NX EX)
  ledger:<week>                             hash chat -> JSON delivery record (state, message ids, …)
  ledger:<week>:plan                        JSON: which paper ranks went into which message part
  publish:done:<week>                       JSON report of the finished publish of a week
  publish:last                              JSON report of the latest publish run (any week)
  publish:hold:<week>                       JSON: a publish held by the source gate, and since when
  heal                                      hash week -> JSON: weeks whose sent messages await healing
  floodwait                                 epoch seconds until which Telegram asked us to wait
  lock:publish:<week>                       the publish lock of a week (one sender at a time)
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import RedisError

from bot.models import ChatKind, Paper, Snapshot, Subscription, Translation
from bot.week import IsoWeek

log = logging.getLogger(__name__)

SNAPSHOT_TTL = timedelta(days=400)  # a completed week's ranking is kept for good (a year and more)
PROVISIONAL_SNAPSHOT_TTL = timedelta(minutes=30)  # a week still running: upvotes are still moving
TRANSLATION_TTL = timedelta(days=400)
USAGE_TTL = timedelta(days=400)
LEDGER_TTL = timedelta(days=400)

USAGE_FIELDS = (
    "calls",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


class StoreError(Exception):
    """Redis could not be reached or answered something we cannot read."""


class Store:
    def __init__(self, redis: Redis, prefix: str = "hfweekly") -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except RedisError as exc:
            raise StoreError(f"Redis does not answer: {exc}") from exc

    async def aclose(self) -> None:
        await self._redis.aclose()

    # --- snapshots -------------------------------------------------------------------------------

    async def get_snapshot(self, week: IsoWeek) -> Snapshot | None:
        raw = await self._get(self._key("snapshot", str(week)))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return Snapshot(
                week=week,
                papers=tuple(Paper(**p) for p in data["papers"]),
                fetched_at=datetime.fromisoformat(data["fetched_at"]),
                source_url=data["source_url"],
            )
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("Ignoring unreadable snapshot of %s: %s", week, exc)
            return None

    async def save_snapshot(self, snapshot: Snapshot, *, final: bool) -> None:
        data = {
            "week": str(snapshot.week),
            "fetched_at": snapshot.fetched_at.isoformat(),
            "source_url": snapshot.source_url,
            "papers": [asdict(p) for p in snapshot.papers],
        }
        ttl = SNAPSHOT_TTL if final else PROVISIONAL_SNAPSHOT_TTL
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key("snapshot", str(snapshot.week)), _dumps(data), ex=ttl)
            for paper in snapshot.papers:
                record = {"week": str(snapshot.week), **asdict(paper)}
                pipe.set(self._key("paper", paper.id), _dumps(record), ex=SNAPSHOT_TTL)
            await self._call(pipe.execute())

    async def get_paper(self, paper_id: str) -> tuple[Paper, IsoWeek] | None:
        """A paper seen in some week's ranking, and that week (for deep links and /retranslate)."""
        raw = await self._get(self._key("paper", paper_id))
        if raw is None:
            return None
        data = json.loads(raw)
        year, week = data.pop("week").split("-W")
        return Paper(**data), IsoWeek(int(year), int(week))

    # --- translation cache -----------------------------------------------------------------------

    def translation_key(self, paper_id: str, content_hash: str, model: str, prompt_hash: str) -> str:
        return self._key("tr", paper_id, content_hash, model, prompt_hash)

    async def get_translations(self, keys: list[str]) -> list[Translation | None]:
        if not keys:
            return []
        raws: list[str | None] = await self._call(self._redis.mget(keys))
        result: list[Translation | None] = []
        for key, raw in zip(keys, raws, strict=True):
            translation = None
            if raw is not None:
                try:
                    translation = Translation(**json.loads(raw))
                except (ValueError, TypeError) as exc:
                    log.warning("Ignoring unreadable cached translation %s: %s", key, exc)
            result.append(translation)
        return result

    async def save_translation(self, key: str, translation: Translation) -> None:
        await self._call(self._redis.set(key, _dumps(asdict(translation)), ex=TRANSLATION_TTL))

    async def mark_failed(self, key: str, ttl: timedelta) -> None:
        """Remember that translating `key` failed just now (so views do not ask Claude again at once)."""
        await self._call(self._redis.set(f"{key}:failed", "1", ex=ttl))

    async def recently_failed(self, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        found = await self._call(self._redis.mget([f"{key}:failed" for key in keys]))
        return {key for key, value in zip(keys, found, strict=True) if value is not None}

    async def delete_translations(self, paper_id: str) -> int:
        """Drop every cached translation of a paper (any model, prompt or abstract version)."""
        keys = [key async for key in self._redis.scan_iter(match=self._key("tr", paper_id, "*"), count=1000)]
        return int(await self._call(self._redis.delete(*keys))) if keys else 0

    async def count_translations(self) -> int:
        count = 0
        async for key in self._redis.scan_iter(match=self._key("tr", "*"), count=1000):
            count += not key.endswith(":failed")
        return count

    # --- Claude usage ----------------------------------------------------------------------------

    async def add_usage(self, week: IsoWeek, usage: dict[str, int], *, spent: IsoWeek) -> None:
        """Count tokens against the digest's week and against the week they were spent in."""
        keys = (self._key("usage", str(week)), self._key("usage", "spent", str(spent)))
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                for field, value in usage.items():
                    if value:
                        pipe.hincrby(key, field, value)
                pipe.expire(key, USAGE_TTL)
            await self._call(pipe.execute())

    async def get_usage(self, week: IsoWeek, *, spent: bool = False) -> dict[str, int]:
        key = self._key("usage", "spent", str(week)) if spent else self._key("usage", str(week))
        raw: dict[str, str] = await self._call(self._redis.hgetall(key))
        return {field: int(raw.get(field, 0)) for field in USAGE_FIELDS}

    # --- subscriptions ---------------------------------------------------------------------------

    async def get_subscription(self, chat_id: int) -> Subscription | None:
        raw = await self._call(self._redis.hget(self._key("subs"), str(chat_id)))
        return _subscription(raw) if raw else None

    async def list_subscriptions(self) -> list[Subscription]:
        raw: dict[str, str] = await self._call(self._redis.hgetall(self._key("subs")))
        return sorted((_subscription(v) for v in raw.values()), key=lambda s: s.chat_id)

    async def save_subscription(self, sub: Subscription) -> None:
        data = asdict(sub) | {"since": sub.since.isoformat(), "updated": sub.updated.isoformat()}
        await self._call(self._redis.hset(self._key("subs"), str(sub.chat_id), _dumps(data)))

    async def delete_subscription(self, chat_id: int) -> bool:
        return bool(await self._call(self._redis.hdel(self._key("subs"), str(chat_id))))

    async def move_subscription(self, old_chat_id: int, new_chat_id: int, now: datetime) -> Subscription | None:
        """A group became a supergroup: the subscription follows it to its new id."""
        sub = await self.get_subscription(old_chat_id)
        if sub is None:
            return None
        moved = replace(sub, chat_id=new_chat_id, kind=ChatKind.SUPERGROUP, updated=now)
        await self.save_subscription(moved)
        await self.delete_subscription(old_chat_id)
        return moved

    async def set_subscription_active(self, chat_id: int, active: bool, now: datetime) -> Subscription | None:
        """Mark a subscription (in)active; None if the chat has none."""
        sub = await self.get_subscription(chat_id)
        if sub is None:
            return None
        if sub.active != active:
            sub = replace(sub, active=active, updated=now)
            await self.save_subscription(sub)
        return sub

    # --- delivery ledger and publish state ---------------------------------------------------------

    async def ledger(self, week: IsoWeek) -> dict[str, dict[str, Any]]:
        raw: dict[str, str] = await self._call(self._redis.hgetall(self._key("ledger", str(week))))
        return {chat: json.loads(value) for chat, value in raw.items() if not chat.startswith("_")}

    async def save_ledger_entry(self, week: IsoWeek, chat: str, entry: dict[str, Any]) -> None:
        """One HSET: on the hot path of a broadcast (twice per message). `keep_ledger` sets the TTL."""
        await self._call(self._redis.hset(self._key("ledger", str(week)), chat, _dumps(entry)))

    async def keep_ledger(self, week: IsoWeek) -> None:
        """(Re)start the ledger's TTL: called once per publish run."""
        key = self._key("ledger", str(week))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "_ttl", "1")  # so that the key exists for EXPIRE; ledger() skips "_" fields
            pipe.expire(key, LEDGER_TTL)
            await self._call(pipe.execute())

    async def get_json(self, *parts: str) -> Any:
        raw = await self._get(self._key(*parts))
        return json.loads(raw) if raw else None

    async def set_json(self, value: object, *parts: str, ttl: timedelta | None = None) -> None:
        await self._call(self._redis.set(self._key(*parts), _dumps(value), ex=ttl))

    async def delete(self, *parts: str) -> None:
        await self._call(self._redis.delete(self._key(*parts)))

    async def heal_weeks(self) -> dict[str, dict[str, Any]]:
        raw: dict[str, str] = await self._call(self._redis.hgetall(self._key("heal")))
        return {week: json.loads(value) for week, value in raw.items()}

    async def set_heal(self, week: IsoWeek, record: dict[str, Any] | None) -> None:
        if record is None:
            await self._call(self._redis.hdel(self._key("heal"), str(week)))
        else:
            await self._call(self._redis.hset(self._key("heal"), str(week), _dumps(record)))

    def lock(self, name: str, *, timeout: timedelta) -> Lock:
        """A Redis lock (redis-py's) under our prefix; the holder must extend it before `timeout` passes."""
        return self._redis.lock(self._key("lock", name), timeout=timeout.total_seconds(), blocking=False)

    # --- limits ----------------------------------------------------------------------------------

    async def hit_rate_limit(self, name: str, user_id: int, *, limit: int, window: timedelta) -> bool:
        """Record one hit for the user; False (and the hit taken back) when it would exceed `limit` in `window`."""
        key = self._key("ratelimit", name, str(user_id))
        now, member = time.time(), uuid.uuid4().hex
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, 0, now - window.total_seconds())
            pipe.zadd(key, {member: now})
            pipe.zcard(key)
            pipe.expire(key, window)
            _, _, count, _ = await self._call(pipe.execute())
        if count > limit:
            await self._call(self._redis.zrem(key, member))
            return False
        return True

    async def once(self, name: str, ttl: timedelta) -> bool:
        """True the first time in `ttl` (across every process sharing this Redis), False after."""
        return bool(await self._call(self._redis.set(self._key("once", name), "1", nx=True, ex=ttl)))

    # --- plumbing --------------------------------------------------------------------------------

    async def _get(self, key: str) -> str | None:
        value: str | None = await self._call(self._redis.get(key))
        return value

    @staticmethod
    async def _call(awaitable: Any) -> Any:
        try:
            return await awaitable
        except RedisError as exc:
            raise StoreError(f"Redis failed: {exc}") from exc


def _subscription(raw: str) -> Subscription:
    data = json.loads(raw)
    return Subscription(
        chat_id=int(data["chat_id"]),
        kind=ChatKind(data["kind"]),
        title=data.get("title", ""),
        active=bool(data["active"]),
        since=datetime.fromisoformat(data["since"]),
        updated=datetime.fromisoformat(data["updated"]),
        thread_id=data.get("thread_id"),
        by_user=data.get("by_user"),
    )


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
