"""The one editor of sent messages, against the fake Telegram and real Redis: it edits only the messages
that show a changed paper, resumes after a kill without showing any message a change twice, drops
messages that are gone, retries failures in a later pass, runs one at a time across processes, and
never delays a due slot (its edits wait behind the broadcast in the one send limiter)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import App
from bot.editor import Editor
from bot.limiter import SendLimiter
from bot.models import DEFAULT_SLOT, ChatKind, ChatSettings, Form, Subscription
from bot.refs import Ref, text_hash
from bot.schedule import WeeklyScheduler
from tests.conftest import ALICE, BOB, GROUP
from tests.fakes.anthropic import FakeClaude
from tests.fakes.telegram import ApiError, FakeTelegram
from tests.test_broadcast import (  # noqa: F401  (fixtures)
    W38,
    Bot,
    Clock,
    app,
    broadcast_settings,
    broadcaster,
    clock,
    healer,
    publish,
    subscribe,
    tg_bot,
)

TOP = "2509.13310"  # rank 1 of 2025-W38


def editor(app: App, bot: Bot, clock: Clock, limiter: SendLimiter | None = None, **kw: object) -> Editor:
    limiter = limiter or SendLimiter(app.store, rate=0, group_per_minute=0)
    return Editor(
        bot, app.digests, app.translator, limiter, edits=app.store, delivery=app.store, tz=app.settings.tz,
        clock=clock, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


async def many(app: App, fake: FakeTelegram, first: int, count: int, slot: ChatSettings | None = None) -> list[int]:
    chats = list(range(first, first + count))
    when = datetime(2025, 9, 1, tzinfo=UTC)
    for chat in chats:
        fake.add_chat(chat, "private")
    await app.store.save_chats([(Subscription(c, ChatKind.PRIVATE, "", True, when, when), slot) for c in chats])
    return chats


async def correct(app: App) -> None:
    """An admin's correction of the week's top paper (the fake Claude marks corrected titles)."""
    assert app.translator is not None
    found = await app.store.get_paper(TOP)
    assert found is not None
    outcome = await app.translator.correct(found[0], W38, ["첫 문장의 주어를 모델로"])
    assert outcome.translation is not None


def accepted_edits(fake: FakeTelegram) -> Counter[tuple[int, int]]:
    return Counter((s.chat_id, s.message_id) for s in fake.sent if s.method == "editMessageText")


async def test_a_killed_editor_resumes_and_shows_each_message_the_change_once(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    chats = await many(app, fake_tg, 50_000, 300)
    await publish(app, tg_bot, clock)
    await correct(app)
    fake_tg.hold_edits_after = 100  # the 101st edit and those after it wait at "Telegram"
    first = editor(app, tg_bot, clock)
    killed = asyncio.create_task(first.run())
    await fake_tg.wait_for(lambda: fake_tg.edits_applied() == 100 and fake_tg.in_flight >= 16)
    killed.cancel()  # killed with 16 edits in flight, their progress not written
    with pytest.raises(asyncio.CancelledError):
        await killed
    fake_tg.edits_go.set()
    await fake_tg.idle()  # the requests in flight at the kill land meanwhile, unrecorded
    assert len(accepted_edits(fake_tg)) == 116
    resumed = await editor(app, tg_bot, clock).run()
    edits = accepted_edits(fake_tg)
    assert set(edits) == {(chat, fake_tg.to(chat)[0].message_id) for chat in chats}  # each digest's first part
    assert set(edits.values()) == {1}  # no message shows the change twice
    refused = [r for r in fake_tg.rejected if r[0].lower() == "editmessagetext"]
    assert len(refused) == 16 and all("not modified" in r[2] for r in refused)  # those in flight, sent again
    assert resumed.same == len(refused)  # the resumed pass found those already showing the change
    assert await app.store.dirty_refs() == []
    stats = await app.store.edit_stats()
    assert (stats.dirty, stats.pending, stats.edited) == (0, 0, 300 - len(refused))  # landed, and recorded


async def test_only_messages_that_show_the_paper_are_edited(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await app.subscriptions.change_settings(ALICE, ChatSettings(form=Form.FULL))
    await publish(app, tg_bot, clock)
    parts = [s.message_id for s in fake_tg.to(ALICE)]
    assert len(parts) >= 2
    await correct(app)
    await editor(app, tg_bot, clock).run()
    edited = {m for (_, m) in accepted_edits(fake_tg)}
    with_top = {m for m in parts if "Continual Pre-training" in fake_tg.messages[(ALICE, m)].text}
    assert edited == with_top and len(with_top) == 1


async def test_gone_messages_leave_the_index_and_failures_wait_for_a_later_pass(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    for chat, kind in ((ALICE, ChatKind.PRIVATE), (BOB, ChatKind.PRIVATE), (GROUP, ChatKind.GROUP)):
        await subscribe(app, chat, kind)
    await publish(app, tg_bot, clock)
    await correct(app)
    fake_tg.fail_next(ALICE, ApiError(400, "Bad Request: message to edit not found"))
    fake_tg.fail_next(BOB, ApiError(502, "Bad Gateway"))
    first = await editor(app, tg_bot, clock).run()
    assert (first.edited, first.gone, first.retry) == (1, 1, 1)
    assert len(await app.store.dirty_refs()) == 1  # the ref with BOB's message stays due
    second = await editor(app, tg_bot, clock).run()
    assert (second.edited, second.gone, second.retry) == (1, 0, 0)  # BOB now; ALICE's is not tried again
    assert await app.store.dirty_refs() == []
    assert set(accepted_edits(fake_tg)) == {
        (BOB, fake_tg.to(BOB)[0].message_id),
        (GROUP, fake_tg.to(GROUP)[0].message_id),
    }


async def test_one_editor_at_a_time(app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await publish(app, tg_bot, clock)
    await correct(app)
    other = app.store.editor_lock(timeout=timedelta(seconds=30))
    assert await other.acquire(0)  # another process is editing
    busy = await editor(app, tg_bot, clock).run()
    assert busy.busy and busy.edited == 0 and not accepted_edits(fake_tg)
    await other.release()
    assert (await editor(app, tg_bot, clock).run()).edited == 1


async def test_a_due_slot_is_not_delayed_while_two_thousand_messages_are_edited(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await many(app, fake_tg, 60_000, 2_000)
    await (await broadcaster(app, tg_bot, clock)).publish(W38, slots=[DEFAULT_SLOT])  # the default slot has had it
    await correct(app)
    slot_chats = await many(app, fake_tg, 70_000, 5, ChatSettings(day=0, hour=9))  # Monday 09:00, due now
    limiter = SendLimiter(app.store, rate=200, group_per_minute=0)  # 2,000 edits: about 10 s
    await limiter.initialize()
    edits = editor(app, tg_bot, clock, limiter)
    caster = await broadcaster(app, tg_bot, clock)
    caster._limiter = limiter  # the one limiter of the process, as app.py shares it
    jobs = WeeklyScheduler(
        caster, healer(app, tg_bot, clock, edits), app.store, app.settings, clock=clock,
        notify=caster._notify, alerts=caster._alerts, editor=edits,
    )  # fmt: skip
    edits.wake()
    await fake_tg.wait_for(lambda: len(accepted_edits(fake_tg)) >= 50)
    at_tick = len(accepted_edits(fake_tg))
    await jobs.tick()  # the slot's run; the tick does no editing itself
    at_end = len(accepted_edits(fake_tg))
    for chat in slot_chats:
        assert "2025-W38" in fake_tg.texts(chat)[0]
    assert at_end - at_tick <= 40  # the slot's messages went ahead of the edits (40 edits = 0.2 s at 200/s)
    assert at_end < 1_500  # and it did not wait for the editing, which goes on
    await edits.stop()
    await limiter.shutdown()


async def test_a_week_sent_before_the_index_is_indexed_from_its_ledger_and_healed(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await subscribe(app, GROUP, ChatKind.GROUP)
    fake_claude.default = "overloaded"
    await publish(app, tg_bot, clock)
    redis, prefix = app.store._redis, app.store._prefix
    old = [k async for k in redis.scan_iter(match=f"{prefix}:show*")]
    await redis.delete(*old)  # as a week sent before there was an index
    record = await app.store.heal_record(W38)
    assert record is not None
    await app.store.save_heal(W38, replace(record, indexed=False))
    fake_claude.default = "good"
    edits = editor(app, tg_bot, clock)
    await healer(app, tg_bot, clock, edits).heal()
    await edits.idle()
    for chat in (ALICE, GROUP):
        now = [fake_tg.messages[(chat, s.message_id)] for s in fake_tg.to(chat) if s.method == "sendMessage"]
        assert all(m.method == "editMessageText" for m in now)
        assert "번역 준비 중" not in "".join(m.text for m in now)


async def test_a_changed_paper_is_looked_at_once_more_for_replies_sent_from_a_stale_memory(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await publish(app, tg_bot, clock)
    await correct(app)
    assert (await editor(app, tg_bot, clock).run()).edited == 1
    # Another process, serving the week from its in-memory digest (up to 60 s old), sends the old text
    # after the pass, and indexes it under the same ref.
    ref = next(iter(await app.store.refs_showing(TOP)))
    stale = await tg_bot.send_message(BOB, "the digest as it read before the correction")
    await app.store.index_messages(BOB, [(Ref.parse(ref), stale.message_id, text_hash("old"))], {})  # type: ignore[list-item]
    assert (await editor(app, tg_bot, clock).run()).edited == 0  # nothing is due now
    assert await app.store.promote_rechecks(now=time.time() + 91) == 1  # the second look, 90 s on
    assert (await editor(app, tg_bot, clock).run()).edited == 1
    assert "교정된 한국어 제목" in fake_tg.messages[(BOB, stale.message_id)].text


async def test_a_correction_made_during_a_broadcast_reaches_the_messages_sent_after_it(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    chats = await many(app, fake_tg, 80_000, 60)
    fake_tg.delay = 0.01  # a broadcast that takes a while
    sending = asyncio.create_task(publish(app, tg_bot, clock))
    await fake_tg.wait_for(lambda: len(fake_tg.sent) >= 20)
    await correct(app)  # the run goes on with the digest it built
    assert (await editor(app, tg_bot, clock).run()).edited >= 20  # a pass while the broadcast goes on
    await sending
    await editor(app, tg_bot, clock).run()  # the run queued the paper again as it ended
    for chat in chats:
        assert "교정된 한국어 제목" in fake_tg.messages[(chat, fake_tg.to(chat)[0].message_id)].text
