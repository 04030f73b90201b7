"""The send limiter with the real Redis: one budget for every sender, replies first, flood waits shared."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.limiter import GROUP_BURST, Priority, SendLimiter
from bot.store import Store
from tests.conftest import free_port, start_redis_server


@pytest.fixture
def store(redis: Redis, prefix: str) -> Store:
    return Store(redis, prefix=prefix)


async def started(store: Store, rate: float, group_per_minute: float = 0) -> SendLimiter:
    limiter = SendLimiter(store, rate=rate, group_per_minute=group_per_minute)
    await limiter.initialize()
    return limiter


@pytest.fixture
async def limiter(store: Store) -> AsyncIterator[SendLimiter]:
    limiter = await started(store, rate=20)
    yield limiter
    await limiter.shutdown()


async def test_replies_go_before_the_broadcast(limiter: SendLimiter) -> None:
    order: list[str] = []
    under_way = asyncio.Event()

    async def send(name: str, priority: Priority) -> None:
        await limiter.acquire(1, priority)
        order.append(name)
        under_way.set()

    broadcast = [asyncio.create_task(send(f"b{i}", Priority.BROADCAST)) for i in range(10)]
    await under_way.wait()
    reply = asyncio.create_task(send("reply", Priority.REPLY))
    await asyncio.gather(*broadcast, reply)
    assert order.index("reply") <= 2  # the next slot or the one after, not the 11th


async def test_two_senders_share_one_budget(store: Store) -> None:
    """Two processes sending with one token: together, not each, at the rate."""
    first, second = await started(store, rate=20), await started(store, rate=20)
    begun = time.monotonic()
    await asyncio.gather(*(limiter.acquire(1) for limiter in (first, second) for _ in range(10)))
    assert time.monotonic() - begun >= 19 / 20 * 0.95
    for limiter in (first, second):
        await limiter.shutdown()


async def test_a_flood_wait_holds_every_sender(store: Store) -> None:
    told, other = await started(store, rate=20), await started(store, rate=20)
    begun = time.monotonic()
    await told.flood(1.0)  # Telegram answered 429 with retry_after 1 to one of them
    late = await started(store, rate=0)  # a process started meanwhile (limits off) reads it from Redis
    assert await store.flood_wait_until() > time.time()

    async def waited(limiter: SendLimiter) -> float:
        await limiter.acquire(1, Priority.REPLY)
        return time.monotonic() - begun

    assert min(await asyncio.gather(waited(told), waited(other), waited(late))) >= 0.9
    for limiter in (told, other, late):
        await limiter.shutdown()


async def test_a_group_gets_a_burst_then_its_per_minute_pace(store: Store) -> None:
    limiter = await started(store, rate=0, group_per_minute=122)  # after the burst: one per 0.5 s
    group, person = -2001, 1001
    begun = time.monotonic()
    for _ in range(GROUP_BURST):
        await limiter.acquire(group)
    assert time.monotonic() - begun < 0.4  # the burst goes at once
    for _ in range(10):
        await limiter.acquire(person)  # people are not held by the group's pace
    assert time.monotonic() - begun < 0.4
    await limiter.acquire(group)
    await limiter.acquire(group)
    assert time.monotonic() - begun >= 2 * 0.5 * 0.9


async def test_without_redis_it_paces_in_process(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    proc = await start_redis_server(port)
    redis = Redis(port=port, decode_responses=True)
    limiter = await started(Store(redis, prefix="gone"), rate=20)
    proc.terminate()
    await proc.wait()
    begun = time.monotonic()
    for _ in range(6):
        await limiter.acquire(1)
    assert time.monotonic() - begun >= 5 / 20 * 0.9
    assert "pacing this process's sends alone" in caplog.text
    await limiter.shutdown()
    await redis.aclose()
