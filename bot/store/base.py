"""What every part of the store shares: the client, the key prefix, error mapping and decoding."""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError, WatchError

from bot.errors import StoreError

log = logging.getLogger("bot.store")

T = TypeVar("T")

PROBE_TTL = timedelta(minutes=1)


async def call(awaitable: Awaitable[Any]) -> Any:
    """Await a Redis command; any Redis failure (down, full, read-only, lock lost) is a StoreError."""
    try:
        return await awaitable
    except RedisError as exc:
        raise StoreError(f"Redis failed: {exc}") from exc


def process_name() -> str:
    """How this process names itself to others (lock tokens, the leader lease, health): host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class StoreBase:
    def __init__(self, redis: Redis, prefix: str = "hfweekly") -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    def _shown(self, ref: str) -> str:
        """The hash of the messages that show a ref (bot/store/edits.py; written by the broadcast too)."""
        return self._key("shown", ref)

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except RedisError as exc:
            raise StoreError(f"Redis does not answer: {exc}") from exc

    async def probe(self) -> None:
        """Redis answers and accepts a write (a full or read-only Redis answers reads but not this)."""
        await self.ping()
        await call(self._redis.set(self._key("health"), "1", ex=PROBE_TTL))

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def first_time(self, what: str, *, ttl: timedelta) -> bool:
        """True the first time `what` is asked within `ttl` (across every process), False after."""
        return bool(await call(self._redis.set(self._key("once", what), "1", nx=True, ex=ttl)))

    async def forget_once(self, what: str) -> None:
        """`first_time(what)` is true again."""
        await call(self._redis.delete(self._key("once", what)))

    async def marked(self, what: str) -> bool:
        """Was `first_time(what)` asked within its time?"""
        return bool(await call(self._redis.exists(self._key("once", what))))

    async def _watching(
        self, key: str, step: Callable[[Pipeline], Awaitable[T]], *, default: T, attempts: int = 10
    ) -> T:
        """Optimistic locking: `step` reads under WATCH `key`, then calls `pipe.multi()`, queues its writes
        and executes them (or returns early); it runs again when another client wrote `key` meanwhile.
        `default` after `attempts` such collisions."""
        for _ in range(attempts):
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    return await step(pipe)
                except WatchError:
                    continue
                except RedisError as exc:
                    raise StoreError(f"Redis failed: {exc}") from exc
        return default

    async def _count_up_to(self, key: str, limit: int, *, ttl: timedelta) -> int | None:
        """Count one more in `key` (a daily counter): the count now, or None (nothing counted) past `limit`."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, ttl)
            used, _ = await call(pipe.execute())
        if used > limit:
            await call(self._redis.decr(key))
            return None
        return int(used)

    async def _get(self, key: str) -> str | None:
        value: str | None = await call(self._redis.get(key))
        return value

    async def _scan(self, match: str) -> list[str]:
        try:
            return [key async for key in self._redis.scan_iter(match=match, count=1000)]
        except RedisError as exc:
            raise StoreError(f"Redis failed: {exc}") from exc

    @staticmethod
    def _decode(adapter: TypeAdapter[T], raw: str | bytes, what: str) -> T | None:
        """The value, or None (logged) when what Redis holds cannot be read as one."""
        try:
            return adapter.validate_json(raw)
        except ValidationError as exc:
            log.warning("Ignoring unreadable %s: %s", what, exc)
            return None
