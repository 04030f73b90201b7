"""Store: every Redis key, its TTL and its encoding live here.

Keys (all under `<prefix>:`):
  snapshot:<week>                           JSON Snapshot: the frozen ranking of a week
  tr:<paper id>:<content hash>:<model>:<prompt hash>   JSON Translation
  usage:<week>                              hash of Claude token counts for the week's builds
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.models import Paper, Snapshot, Translation
from bot.week import IsoWeek

log = logging.getLogger(__name__)

SNAPSHOT_TTL = timedelta(days=400)  # a completed week's ranking is kept for good (a year and more)
PROVISIONAL_SNAPSHOT_TTL = timedelta(minutes=30)  # a week still running: upvotes are still moving
TRANSLATION_TTL = timedelta(days=400)
USAGE_TTL = timedelta(days=400)

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
        await self._call(self._redis.set(self._key("snapshot", str(snapshot.week)), _dumps(data), ex=ttl))

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

    # --- Claude usage ----------------------------------------------------------------------------

    async def add_usage(self, week: IsoWeek, usage: dict[str, int]) -> None:
        key = self._key("usage", str(week))
        async with self._redis.pipeline(transaction=True) as pipe:
            for field, value in usage.items():
                if value:
                    pipe.hincrby(key, field, value)
            pipe.expire(key, USAGE_TTL)
            await self._call(pipe.execute())

    async def get_usage(self, week: IsoWeek) -> dict[str, int]:
        raw: dict[str, str] = await self._call(self._redis.hgetall(self._key("usage", str(week))))
        return {field: int(raw.get(field, 0)) for field in USAGE_FIELDS}

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


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
