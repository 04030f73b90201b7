"""Exactly once when runs overlap, break or are cut off: the fenced publish, failures that stay with
their chat, a run's end recorded however it ends, and ledger entries that cannot be read."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from bot.app import App
from bot.layout import Plan
from bot.ledger import State
from bot.models import ChatKind, ChatSettings, Form, Subscription
from bot.store import Layout
from tests.conftest import ADMIN, ALICE, BOB, GROUP
from tests.fakes.hf import FakeHF, long_papers
from tests.fakes.telegram import ApiError, FakeTelegram
from tests.test_broadcast import (  # noqa: F401  (fixtures)
    W38,
    Bot,
    Clock,
    app,
    broadcast_settings,
    broadcaster,
    clock,
    digest_parts,
    publish,
    subscribe,
    tg_bot,
)


async def full_form(app: App, chat_id: int, kind: ChatKind = ChatKind.PRIVATE, count: int | None = None) -> None:
    now = datetime(2025, 9, 1, tzinfo=UTC)
    sub = Subscription(chat_id=chat_id, kind=kind, title=f"chat {chat_id}", active=True, since=now, updated=now)
    await app.store.save_chats([(sub, ChatSettings(form=Form.FULL, count=count))])


def sends_to(fake: FakeTelegram, chat: int) -> Counter[str]:
    return Counter(digest_parts(fake, chat))


# --- 1. a fenced publish -------------------------------------------------------------------------


async def test_a_run_that_lost_its_lock_sends_no_further_part_while_another_run_goes_on(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    """The lock expires while a many-part chat is being sent, and a second run starts at that moment:
    each part reaches the chat once, but for the one that was in flight (sent again at most once)."""
    fake_hf.weeks[str(W38)] = long_papers()
    await full_form(app, ALICE, count=20)  # the full abstracts of twenty papers: many messages
    fake_tg.delay = 0.3  # every send takes a while: a part is in flight when the lock changes hands
    long_lock = app.settings.model_copy(update={"publish_lock_seconds": 600})  # it never expires by itself
    first = asyncio.create_task((await broadcaster(app, tg_bot, clock, long_lock)).publish(W38))
    await fake_tg.wait_for(lambda: len(fake_tg.sent) >= 2, within=60)
    await app.store.expire_publish_lock(W38)  # as if the first process had stalled for as long
    second = await publish(app, tg_bot, clock)
    stopped = await first
    assert not stopped.complete and second.complete and second.sent == 1
    entry = (await app.store.ledger(W38))[ALICE]
    parts = len(entry.parts)
    assert parts >= 5 and entry.state is State.SENT
    counts = sends_to(fake_tg, ALICE)
    assert len(counts) == parts  # every part arrived…
    assert sum(counts.values()) <= parts + 1  # …once, but for at most the one in flight at the handover


# --- 2. failures stay with their chat ------------------------------------------------------------


async def test_a_chat_whose_digest_cannot_be_rendered_fails_alone_and_is_retried(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await subscribe(app, GROUP, ChatKind.GROUP)
    await full_form(app, BOB)
    await full_form(app, -2002, ChatKind.GROUP)
    fake_tg.add_chat(-2002, "group")
    full = ChatSettings(form=Form.FULL).view(app.settings.top_n)
    damaged = Plan(parts=((0,),), starred=((0, ("agents",)),))  # a kept layout that breaks the renderer
    await app.store.keep_layout(W38, full.key, Layout(full, damaged))
    with caplog.at_level(logging.ERROR, logger="bot.deliver"):
        report = await publish(app, tg_bot, clock)
    assert report.sent == 2 and report.failed == 2 and report.complete
    assert digest_parts(fake_tg, ALICE) and digest_parts(fake_tg, GROUP)
    assert not digest_parts(fake_tg, BOB) and not digest_parts(fake_tg, -2002)
    ledger = await app.store.ledger(W38)
    for chat in (BOB, -2002):
        assert ledger[chat].state is State.FAILED and "IndexError" in ledger[chat].last_error
        assert ledger[chat].retry_at is not None
    failures = [r for r in caplog.records if "failed: IndexError" in r.getMessage()]
    assert len(failures) == 2 and sum(r.exc_info is not None for r in failures) == 1  # one traceback
    assert await app.store.owed_chats(W38) == sorted([BOB, -2002])  # the run's end was recorded
    assert await app.store.retry_at(W38) == ledger[BOB].retry_at


async def cut_off_run(
    app: App, tg_bot: Bot, clock: Clock, fake: FakeTelegram, chats: list[int], *, concurrency: int, after: int
) -> None:
    """Publish W38 to these private chats and cancel the run (the shutdown's grace ran out) once `after`
    messages went out and the ledger has recorded one of them; the fake holds every later message
    meanwhile, so the run cannot finish first however slow the machine is. The hold ends after."""
    for chat in chats:
        fake.add_chat(chat, "private")
        await subscribe(app, chat, ChatKind.PRIVATE)
    fake.delay, fake.hold_sends_after = 0.05, after
    settings = app.settings.model_copy(update={"broadcast_concurrency": concurrency})
    run = asyncio.create_task((await broadcaster(app, tg_bot, clock, settings)).publish(W38))
    await fake.wait_for(lambda: len(fake.sent) >= after, within=60)
    for _ in range(3000):  # up to a minute: polled, as the ledger lives in Redis
        if any(e.state is not State.SENDING for e in (await app.store.ledger(W38)).values()):
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the ledger recorded none of the messages sent")
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    fake.hold_sends_after = None
    fake.sends_go.set()


async def test_a_cancelled_run_records_who_is_still_owed(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    """Cancelled mid-run (the shutdown's grace ran out): the chats not yet sent are owed the week, due
    at once, and the report says the run stopped early."""
    chats = list(range(7100, 7120))
    await cut_off_run(app, tg_bot, clock, fake_tg, chats, concurrency=2, after=4)
    ledger = await app.store.ledger(W38)
    done = {chat for chat, entry in ledger.items() if entry.state is State.SENT}
    assert 0 < len(done) < len(chats)
    # Every chat not known to have it is owed the week (those never tried, and those cut off mid-send;
    # one whose last write landed as the run was cut off may be owed too: the ledger skips it).
    assert set(chats) - done <= set(await app.store.owed_chats(W38)) <= set(chats)
    assert await app.store.retry_at(W38) == clock()  # due at once
    last = await app.store.last_report()
    assert last is not None and last.week == str(W38) and not last.complete
    rest = await publish(app, tg_bot, clock, W38)
    assert rest.complete and {s.chat_id for s in fake_tg.sent} >= set(chats)


async def test_a_run_cut_off_after_a_failure_is_due_again_at_once(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    """The chats it never tried must not wait for the backoff of the one that failed."""
    chats = list(range(7200, 7212))
    fake_tg.fail_next(chats[0], ApiError(500, "Internal Server Error"))
    await cut_off_run(app, tg_bot, clock, fake_tg, chats, concurrency=1, after=2)
    assert (await app.store.ledger(W38))[chats[0]].state is State.FAILED  # its retry: in 2 minutes
    assert await app.store.retry_at(W38) == clock()  # the untried chats: at once


async def test_a_chat_owed_the_week_during_a_run_keeps_its_earlier_retry_time(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await subscribe(app, BOB, ChatKind.PRIVATE)
    fake_tg.delay = 0.3
    fake_tg.fail_next(BOB, ApiError(500, "Internal Server Error"))  # BOB is owed a retry in 2 minutes
    run = asyncio.create_task(publish(app, tg_bot, clock))
    await fake_tg.wait_for(lambda: fake_tg.in_flight > 0, within=30)
    await app.store.owe_now(W38, 4242, clock())  # a chat moved to a slot that had the week: due now
    report = await run
    assert report.failed == 1 and report.next_retry is not None and report.next_retry > clock()
    assert await app.store.retry_at(W38) == clock()  # the earlier time stays


# --- 3. ledger entries that cannot be read -------------------------------------------------------


async def test_an_unreadable_entry_is_never_taken_for_a_chat_that_was_not_sent(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, redis: Redis, prefix: str
) -> None:
    """A release that added a ledger state, rolled back: the older code cannot read those entries.
    Their chats are skipped (never sent again), counted, and admins hear of it once."""
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await subscribe(app, BOB, ChatKind.PRIVATE)
    newer = '{"chat_id": 1002, "kind": "private", "parts": [5], "state": "delivered_v9", "created": "2025-09-22"}'
    await redis.hset(f"{prefix}:ledger:{W38}", str(BOB), newer)
    report = await publish(app, tg_bot, clock)
    assert report.sent == 1 and report.unreadable == 1 and report.complete
    assert digest_parts(fake_tg, ALICE) and not digest_parts(fake_tg, BOB)
    told = [s.text for s in fake_tg.to(ADMIN) if "읽을 수 없는" in s.text]
    assert len(told) == 1 and str(BOB) in told[0]
    # Not forgotten either: owed, looked at again hourly (a later release may read it again).
    assert BOB in await app.store.owed_chats(W38)
    assert await app.store.retry_at(W38) == clock() + timedelta(hours=1)
    again = await publish(app, tg_bot, clock)
    assert again.unreadable == 1 and not digest_parts(fake_tg, BOB)
    assert len([s for s in fake_tg.to(ADMIN) if "읽을 수 없는" in s.text]) == 1  # told once
