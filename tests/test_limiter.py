"""The send limiter with the real Redis: one budget for every sender, replies first, what Telegram
paused waits (one chat, or a budget), paid broadcasts on a budget of their own.

Every limiter here runs on a FakeClock (tests/fakes/clock.py): a sleep moves it on at once and is
recorded, so the tests say what was waited for, never how long the machine took. Redis's scripts
answer in seconds to wait (on Redis's own clock), which the tests read as such.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from telegram.ext import ExtBot

from bot.floods import ChatFloods, Scope, scope_of
from bot.limiter import FREE, GROUP_BURST, PAID, Paced, Priority, SendLimiter
from bot.store import Store
from bot.telegram_http import AiohttpRequest
from bot.week import IsoWeek
from tests.conftest import ALICE, BOB, CHANNEL, GROUP, free_port, start_redis_server
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import TOKEN, FakeTelegram, retry_after

OTHER_GROUP = -2002


@pytest.fixture
def store(redis: Redis, prefix: str) -> Store:
    return Store(redis, prefix=prefix)


async def started(
    store: Store, clock: FakeClock, rate: float, group_per_minute: float = 0, paid_rate: float = 0
) -> SendLimiter:
    limiter = SendLimiter(
        store, rate=rate, group_per_minute=group_per_minute, paid_rate=paid_rate, clock=clock, sleep=clock.sleep
    )
    await limiter.initialize()
    return limiter


@pytest.fixture
async def limiter(store: Store) -> AsyncIterator[SendLimiter]:
    limiter = await started(store, FakeClock(), rate=20)
    yield limiter
    await limiter.shutdown()


# --- which limit a 429 was for (bot/floods.py) ----------------------------------------------------


@pytest.mark.parametrize(
    ("chat", "wait", "scope"),
    [
        (GROUP, 30, Scope.CHAT),  # a group's per-minute limit
        (CHANNEL, 60, Scope.CHAT),
        ("@hf_weekly_ko", 5, Scope.CHAT),  # a channel by name
        (GROUP, 61, Scope.BOT),  # more than one chat's minute explains
        (ALICE, 3, Scope.BOT),  # a private chat has no per-minute limit
        (None, 3, Scope.BOT),  # no chat named
    ],
)
def test_which_limit_a_429_was_for(chat: object, wait: float, scope: Scope) -> None:
    assert scope_of(chat, wait) is scope


def test_two_groups_told_to_wait_at_once_are_the_bot_told() -> None:
    clock = FakeClock()
    floods = ChatFloods(clock)
    assert floods.scope(GROUP, 20) is Scope.CHAT
    assert floods.scope(GROUP, 20) is Scope.CHAT  # the same group again: still its own limit
    clock.now += 0.5
    assert floods.scope(OTHER_GROUP, 20) is Scope.BOT  # another group half a second later
    clock.now += 5
    assert floods.scope(CHANNEL, 20) is Scope.CHAT  # seconds apart: each its own


# --- the budget -----------------------------------------------------------------------------------


async def test_replies_go_before_the_broadcast(limiter: SendLimiter) -> None:
    order: list[str] = []
    under_way = asyncio.Event()

    async def send(name: str, priority: Priority) -> None:
        await limiter.acquire(ALICE, priority)
        order.append(name)
        under_way.set()

    broadcast = [asyncio.create_task(send(f"b{i}", Priority.BROADCAST)) for i in range(10)]
    await under_way.wait()
    reply = asyncio.create_task(send("reply", Priority.REPLY))
    await asyncio.gather(*broadcast, reply)
    assert order.index("reply") <= 2  # the next slot or the one after, not the 11th


async def test_two_senders_share_one_budget(store: Store) -> None:
    """Two processes sending with one token: together, not each, at the rate (20 slots at 20/s: the
    last is 0.95 s after the first, whoever takes it)."""
    clocks = FakeClock(), FakeClock()
    first, second = [await started(store, clock, rate=20) for clock in clocks]
    begun = time.monotonic()
    await asyncio.gather(*(limiter.acquire(ALICE) for limiter in (first, second) for _ in range(10)))
    latest = max(clocks[0].slept + clocks[1].slept)
    assert latest + (time.monotonic() - begun) >= 19 / 20 * 0.95  # waited for, or gone by meanwhile
    assert clocks[0].slept and clocks[1].slept  # each waited its turns
    for limiter in (first, second):
        await limiter.shutdown()


async def test_a_flood_wait_holds_every_sender(store: Store) -> None:
    told_clock, other_clock, late_clock = FakeClock(), FakeClock(), FakeClock()
    told, other = await started(store, told_clock, rate=20), await started(store, other_clock, rate=20)
    await told.flood(30.0, ALICE, Priority.REPLY)  # Telegram answered 429 to a private chat: the bot's budget
    assert 29 < await store.send_wait_left(FREE) <= 30
    late = await started(store, late_clock, rate=0)  # a process started meanwhile (limits off) reads it from Redis
    for limiter in (told, other, late):
        await limiter.acquire(BOB, Priority.REPLY)
    for clock in (told_clock, other_clock, late_clock):
        assert 29 < clock.waited <= 30.1  # the wait (and a slot of the 20/s after it)
    for limiter in (told, other, late):
        await limiter.shutdown()


async def test_a_groups_429_pauses_that_group_only(store: Store) -> None:
    """Telegram paused one group: it waits in every process; other chats, and other groups, do not."""
    told_clock, other_clock = FakeClock(), FakeClock()
    told = await started(store, told_clock, rate=0, group_per_minute=20)
    other = await started(store, other_clock, rate=0, group_per_minute=20)
    await told.flood(30.0, GROUP, Priority.BROADCAST)
    assert await store.send_wait_left(FREE) == 0  # nobody else's send waits
    await told.acquire(ALICE, Priority.BROADCAST)
    await told.acquire(OTHER_GROUP, Priority.BROADCAST)
    assert told_clock.slept == []
    await other.acquire(GROUP, Priority.REPLY)  # another process, a reply to the paused group
    assert 29 < other_clock.waited <= 30 + 1e-6
    await told.acquire(GROUP, Priority.BROADCAST)  # the pause, then the slot after the reply's: the group's pace
    assert told_clock.waited == pytest.approx(30 + 60 / (20 - GROUP_BURST + 1), abs=0.5)


async def test_a_wait_longer_than_a_groups_minute_is_the_bots(store: Store) -> None:
    clock = FakeClock()
    limiter = await started(store, clock, rate=0)
    await limiter.flood(90.0, GROUP, Priority.BROADCAST)
    assert 89 < await store.send_wait_left(FREE) <= 90
    await limiter.acquire(ALICE, Priority.REPLY)
    assert 89 < clock.waited <= 90


async def test_a_group_gets_a_burst_then_its_per_minute_pace(store: Store) -> None:
    clock = FakeClock()
    limiter = await started(store, clock, rate=0, group_per_minute=122)  # after the burst: one per 0.5 s
    for _ in range(GROUP_BURST):
        await limiter.acquire(GROUP)
    for _ in range(10):
        await limiter.acquire(ALICE)  # people are not held by the group's pace
    assert clock.slept == []  # the burst went at once
    await limiter.acquire(GROUP)
    await limiter.acquire(GROUP)
    assert clock.slept == [pytest.approx(0.5, abs=0.1), pytest.approx(1.0, abs=0.1)]


# --- paid broadcasts ------------------------------------------------------------------------------


async def test_paid_broadcasts_have_a_budget_of_their_own(store: Store) -> None:
    clock = FakeClock()
    limiter = await started(store, clock, rate=20, paid_rate=1000)
    for chat in range(10_000, 10_050):
        await limiter.acquire(chat, Priority.BROADCAST)
    assert max(clock.slept) <= 0.05  # 50 slots at 1,000/s, not at the free 20/s (that is 2.45 s)
    assert await store.send_wait_left(FREE) == 0  # the free budget was not touched: replies go at once
    clock.slept.clear()
    await limiter.acquire(ALICE, Priority.REPLY)
    await limiter.acquire(BOB, Priority.EDIT)
    assert clock.waited < 0.5  # the free budget's own pace (two slots at 20/s), no more

    await limiter.flood(2.0, 10_000, Priority.BROADCAST)  # 429 to a paid send: the paid budget is over
    assert 1.9 < await store.send_wait_left(PAID) <= 2
    assert await store.send_wait_left(FREE) < 0.5  # the two replies' slots, no flood wait
    clock.slept.clear()
    await limiter.acquire(ALICE, Priority.REPLY)
    assert clock.waited < 0.5
    await limiter.acquire(10_001, Priority.BROADCAST)
    assert 1.9 < clock.waited <= 2.1
    await limiter.shutdown()


async def test_paid_slots_are_reserved_ten_at_a_time_and_still_shared(store: Store) -> None:
    """A process reserves a batch of the paid budget's slots at once; another one's come after them."""
    first_clock, second_clock = FakeClock(), FakeClock()
    first = await started(store, first_clock, rate=0, paid_rate=1000)
    second = await started(store, second_clock, rate=0, paid_rate=1000)
    await first.acquire(10_000, Priority.BROADCAST)  # reserves 10 ms of slots: 10_000's and 9 more
    await second.acquire(10_001, Priority.BROADCAST)  # its batch starts after them
    assert first_clock.slept == [] and second_clock.slept == [pytest.approx(0.010, abs=0.005)]
    for chat in range(10_002, 10_011):
        await first.acquire(chat, Priority.BROADCAST)  # the rest of its batch, 1 ms apart
    assert first_clock.slept == [pytest.approx(0.001, abs=1e-6)] * 9


async def test_paid_messages_are_counted_per_week_and_saved_at_shutdown(store: Store) -> None:
    clock = FakeClock()
    limiter = await started(store, clock, rate=20, paid_rate=1000)
    for _ in range(3):
        limiter.count_paid(IsoWeek(2025, 38))
    limiter.count_paid(IsoWeek(2025, 39))
    await limiter.shutdown()  # whatever a second's batch has not saved yet
    assert (await store.paid_count(IsoWeek(2025, 38)), await store.paid_count("2025-W39")) == (3, 1)


async def test_paid_broadcasts_keep_a_groups_pace(store: Store) -> None:
    """Telegram lifts its broadcasting limit for a fee, not a group's own per-minute limit."""
    clock = FakeClock()
    limiter = await started(store, clock, rate=20, group_per_minute=122, paid_rate=1000)
    for _ in range(GROUP_BURST + 2):
        await limiter.acquire(GROUP, Priority.BROADCAST)
    assert [s for s in clock.slept if s > 0.1] == [pytest.approx(0.5, abs=0.1), pytest.approx(1.0, abs=0.1)]


# --- what python-telegram-bot sends through it (real HTTP to the fake Telegram) --------------------


@pytest.fixture
async def bot_clock(store: Store, fake_tg: FakeTelegram) -> AsyncIterator[tuple[ExtBot[Paced], FakeClock]]:
    clock = FakeClock()
    limiter = SendLimiter(store, rate=20, group_per_minute=0, clock=clock, sleep=clock.sleep)
    bot: ExtBot[Paced] = ExtBot(
        TOKEN, base_url=f"{fake_tg.url}/bot", request=AiohttpRequest(connections=4), rate_limiter=limiter
    )
    async with bot:
        yield bot, clock


async def test_a_429_for_a_call_that_is_not_a_message_waits_for_that_call_only(
    store: Store, fake_tg: FakeTelegram, bot_clock: tuple[ExtBot[Paced], FakeClock]
) -> None:
    bot, clock = bot_clock
    fake_tg.method_failures["answerCallbackQuery"].append(retry_after(5))
    assert await bot.answer_callback_query("cb1")
    assert clock.slept == [5.0] and len(fake_tg.callback_answers) == 1  # waited, then answered
    assert await store.send_wait_left(FREE) == 0  # no message waits for it
    await bot.send_message(ALICE, "hi")
    assert clock.slept == [5.0]


async def test_a_429_for_a_reply_to_a_group_pauses_that_group(
    store: Store, fake_tg: FakeTelegram, bot_clock: tuple[ExtBot[Paced], FakeClock]
) -> None:
    bot, clock = bot_clock
    fake_tg.fail_next(GROUP, retry_after(30))
    await bot.send_message(GROUP, "hi")  # refused, waited out, sent again
    assert [s.chat_id for s in fake_tg.sent] == [GROUP]
    assert 29 < clock.waited <= 30.1  # the group's pause (and the retry's slot of the bot's 20/s)
    assert await store.send_wait_left(FREE) < 0.5  # the bot's pace, no flood wait
    other = FakeClock()
    limiter = await started(store, other, rate=0)
    await limiter.acquire(ALICE, Priority.REPLY)
    assert other.waited < 0.5  # another process's reply to a person goes at once (at most the bot's pace)


async def test_without_redis_it_paces_in_process(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    proc = await start_redis_server(port)
    redis = Redis(port=port, decode_responses=True)
    clock = FakeClock()
    limiter = await started(Store(redis, prefix="gone"), clock, rate=20)
    proc.terminate()
    await proc.wait()
    for _ in range(6):
        await limiter.acquire(ALICE)
    assert clock.waited == pytest.approx(5 / 20)  # the same pace, kept by this process alone
    assert "pacing this process's sends alone" in caplog.text
    await limiter.flood(10.0, ALICE, Priority.REPLY)  # and a flood wait it hears of is kept here
    assert "this process waits it out alone" in caplog.text
    before = clock.waited
    await limiter.acquire(BOB, Priority.REPLY)
    assert clock.waited - before == pytest.approx(10.0, abs=0.1)
    await limiter.shutdown()
    await redis.aclose()
