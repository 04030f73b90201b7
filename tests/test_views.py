"""Each chat's own digest: every setting changes what reaches the fake Telegram; slots and catch-up with
an injected clock; the ledger stays per (week, chat); healing edits each chat in its own layout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import App
from bot.models import ChatKind, ChatSettings, Form
from bot.render import telegram_length
from tests.conftest import ALICE, BOB, GROUP
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF, item_2026
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_html import parse_telegram_html
from tests.test_broadcast import (  # noqa: F401  (fixtures)
    W38,
    Bot,
    Clock,
    app,
    broadcast_settings,
    broadcaster,
    clock,
    digest_parts,
    heal,
    publish,
    scheduler,
    subscribe,
    tg_bot,
)

TOPICAL = {3: "A robot that learns to walk", 7: "RL-based planning at scale", 12: "Robots in the kitchen",
           25: "Diffusion models for RL agents", 40: "Reinforcement (RL) from feedback"}  # fmt: skip


def thirty_papers() -> list[dict[str, object]]:
    """2025-W38 with 45 papers: some about robots or RL (by rank), one about CURL (not RL)."""
    return [
        item_2026(
            f"2509.1{i:04d}",
            TOPICAL.get(i, "CURL: contrastive features" if i == 5 else f"Paper {i} on language models"),
            " ".join(f"Sentence {k} of paper {i} studies the topic and improves it by {k}%." for k in range(1, 7)),
            1000 - i,
        )
        for i in range(1, 46)
    ]


def text_of(fake: FakeTelegram, chat: int) -> str:
    return "\n".join(parse_telegram_html(t) for t in digest_parts(fake, chat))


async def chat(app: App, fake: FakeTelegram, chat_id: int, **settings: object) -> int:
    fake.add_chat(chat_id, "private")
    await subscribe(app, chat_id, ChatKind.PRIVATE)
    if settings:
        await app.subscriptions.change_settings(chat_id, ChatSettings(**settings))  # type: ignore[arg-type]
    return chat_id


async def test_every_setting_changes_what_arrives(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    fake_hf.weeks[str(W38)] = thirty_papers()
    default = await chat(app, fake_tg, 3001)
    five = await chat(app, fake_tg, 3002, count=5)
    twenty = await chat(app, fake_tg, 3003, count=20)
    brief = await chat(app, fake_tg, 3004, form=Form.BRIEF, count=20)
    full = await chat(app, fake_tg, 3005, form=Form.FULL)
    korean_only = await chat(app, fake_tg, 3006, english=False)
    starred = await chat(app, fake_tg, 3007, topics=("robot", "RL"))
    only = await chat(app, fake_tg, 3008, topics=("robot", "RL"), only_topics=True)
    nothing = await chat(app, fake_tg, 3009, topics=("quantum teleportation",), only_topics=True)
    paused = await chat(app, fake_tg, 3010, paused=True)
    same_as_default = await chat(app, fake_tg, 3011, count=10)
    report = await publish(app, tg_bot, clock)
    assert report.chats == 10 and report.sent == 10  # the paused chat is no recipient
    assert report.views == 9 and report.renders == 9  # one render per view, not per chat

    assert "Top 10" in text_of(fake_tg, default) and text_of(fake_tg, default).count("▲ ") == 10
    assert digest_parts(fake_tg, same_as_default) == digest_parts(fake_tg, default)
    assert "Top 5" in text_of(fake_tg, five) and text_of(fake_tg, five).count("▲ ") == 5
    assert "Top 20" in text_of(fake_tg, twenty) and text_of(fake_tg, twenty).count("▲ ") == 20
    [one] = digest_parts(fake_tg, brief)  # brief: numbered titles with links, one message
    assert "▲" not in parse_telegram_html(one) and "20. " in parse_telegram_html(one) and one.count("<a href") == 21
    full_text = text_of(fake_tg, full)
    assert full_text.count("초록 번역") == 10 and "원문의 이 문장은" in full_text
    assert len(digest_parts(fake_tg, full)) > len(digest_parts(fake_tg, default))
    assert all(telegram_length(t) <= 4096 for t in digest_parts(fake_tg, full))
    assert "<i>" in digest_parts(fake_tg, default)[0] and "<i>" not in "".join(digest_parts(fake_tg, korean_only))

    text = text_of(fake_tg, starred)  # matches first, in a section of their own, the topic named
    assert text.index("⭐ 관심 주제") < text.index("3. ") < text.index("7. ") < text.index("그 밖의 인기 논문")
    assert "⭐ robot" in text and "⭐ RL" in text and text.count("▲ ") == 10
    assert text.index("그 밖의 인기 논문") < text.index("1. ")
    assert "5. " in text and "⭐" not in text.split("5. ")[1].split("▲")[0]  # CURL is not RL

    text = text_of(fake_tg, only)  # only matches, among the top 50, at most the chat's count
    assert "관심 주제 5편" in text and text.count("▲ ") == 5
    assert all(f"{rank}. " in text for rank in TOPICAL) and "Paper 1 on" not in text

    text = text_of(fake_tg, nothing)  # no match: one line says so, and the top 3
    assert "관심 주제(quantum teleportation)에 맞는 논문이 없어" in text and text.count("▲ ") == 3
    assert digest_parts(fake_tg, paused) == []

    again = await publish(app, tg_bot, clock)
    assert (again.sent, again.already, again.renders) == (0, 10, 0)  # nothing to send: nothing rendered


async def test_settings_changed_after_the_week_never_resend_it(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    alice = await chat(app, fake_tg, ALICE)
    await publish(app, tg_bot, clock)
    sent = digest_parts(fake_tg, alice)
    await app.subscriptions.change_settings(alice, ChatSettings(form=Form.BRIEF, day=4, hour=18))
    report = await publish(app, tg_bot, clock)
    assert report.already == 1 and digest_parts(fake_tg, alice) == sent


async def test_each_chat_gets_the_week_at_its_own_slot(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    monday = await chat(app, fake_tg, ALICE)
    friday = await chat(app, fake_tg, BOB, day=4, hour=18)
    jobs = await scheduler(app, tg_bot, clock)
    await jobs.tick()  # Monday 09:00:30 Seoul
    assert digest_parts(fake_tg, monday) and digest_parts(fake_tg, friday) == []
    clock.now = datetime(2025, 9, 26, 8, 59, tzinfo=UTC)  # Friday 17:59
    await jobs.tick()
    assert digest_parts(fake_tg, friday) == []
    clock.now = datetime(2025, 9, 26, 9, 0, 20, tzinfo=UTC)  # Friday 18:00:20
    await jobs.tick()
    parts = digest_parts(fake_tg, friday)
    assert parts and "2025-W38" in parse_telegram_html(parts[0])  # the week that ended last Sunday
    clock.now += timedelta(minutes=1)
    await jobs.tick()
    assert digest_parts(fake_tg, friday) == parts and len(digest_parts(fake_tg, monday)) == len(parts)


async def test_a_slot_missed_while_down_is_caught_up_per_chat(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    wednesday = await chat(app, fake_tg, 3101, day=2, hour=10)
    saturday = await chat(app, fake_tg, 3102, day=5, hour=10)
    clock.now = datetime(2025, 9, 27, 0, 30, tzinfo=UTC)  # Saturday 09:30 Seoul: down since Tuesday
    await (await scheduler(app, tg_bot, clock)).tick()
    assert digest_parts(fake_tg, wednesday)  # Wednesday 10:00 was 2 days ago: caught up
    assert digest_parts(fake_tg, saturday) == []  # not yet
    clock.now = datetime(2025, 9, 29, 3, 0, tzinfo=UTC)  # Monday noon: Saturday 10:00 is within 3 days
    await (await scheduler(app, tg_bot, clock)).tick()
    assert "2025-W38" in parse_telegram_html(digest_parts(fake_tg, saturday)[0])
    assert len(digest_parts(fake_tg, wednesday)) == len(digest_parts(fake_tg, saturday))  # not W39 yet: its slot


async def test_a_slot_too_long_ago_is_skipped(app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram) -> None:
    tuesday = await chat(app, fake_tg, 3201, day=1, hour=8)
    clock.now = datetime(2025, 9, 26, 0, 0, tzinfo=UTC)  # Friday 09:00: Tuesday 08:00 was 3 days and 1 hour ago
    await (await scheduler(app, tg_bot, clock)).tick()
    assert digest_parts(fake_tg, tuesday) == []


async def test_moving_to_a_slot_that_has_passed_never_loses_the_week(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    friday = await chat(app, fake_tg, BOB, day=4, hour=18)
    jobs = await scheduler(app, tg_bot, clock)
    clock.now = datetime(2025, 9, 24, 3, 0, tzinfo=UTC)  # Wednesday noon
    await jobs.tick()  # Monday and Tuesday slots: nothing for Bob
    assert digest_parts(fake_tg, friday) == []
    await app.subscriptions.change_settings(friday, ChatSettings(day=1, hour=10))  # Tuesday 10:00: passed
    clock.now += timedelta(minutes=1)
    await jobs.tick()
    assert "2025-W38" in parse_telegram_html(digest_parts(fake_tg, friday)[0])
    await app.subscriptions.change_settings(friday, ChatSettings(day=4, hour=18))  # back to Friday: not twice
    clock.now = datetime(2025, 9, 26, 9, 1, tzinfo=UTC)
    await jobs.tick()
    assert len(digest_parts(fake_tg, friday)) == 1


async def test_a_manual_publish_sends_to_every_slot_and_skips_paused_chats(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    friday = await chat(app, fake_tg, BOB, day=4, hour=18)
    paused = await chat(app, fake_tg, ALICE, paused=True)
    await publish(app, tg_bot, clock)
    assert digest_parts(fake_tg, friday) and digest_parts(fake_tg, paused) == []
    clock.now = datetime(2025, 9, 26, 9, 1, tzinfo=UTC)
    await (await scheduler(app, tg_bot, clock)).tick()  # Friday's slot: Bob has it already
    assert len(digest_parts(fake_tg, friday)) == 1
    await app.subscriptions.change_settings(paused, ChatSettings())  # resumed: from its next slot on
    assert await app.store.slot_chats("default") == [ALICE]


async def test_a_held_week_delays_every_slot_until_it_passes(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    monday, monday_noon = await chat(app, fake_tg, ALICE), await chat(app, fake_tg, BOB, day=0, hour=12)
    papers = fake_hf.weeks[str(W38)]
    fake_hf.weeks[str(W38)] = papers[:4]  # too few: held
    jobs = await scheduler(app, tg_bot, clock)
    await jobs.tick()
    assert await app.store.get_hold(W38) is not None
    clock.now = datetime(2025, 9, 22, 3, 1, tzinfo=UTC)  # Monday 12:01, 3 hours later: still short
    await jobs.tick()
    assert digest_parts(fake_tg, monday) == digest_parts(fake_tg, monday_noon) == []
    fake_hf.weeks[str(W38)] = papers
    clock.now += timedelta(minutes=31)
    await jobs.tick()  # passes: both slots, at once
    assert digest_parts(fake_tg, monday) and digest_parts(fake_tg, monday_noon)
    assert await app.store.get_hold(W38) is None


async def test_healing_edits_each_chat_in_its_own_layout(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    summary = await chat(app, fake_tg, ALICE)
    brief = await chat(app, fake_tg, BOB, form=Form.BRIEF, count=5)
    full = await chat(app, fake_tg, GROUP - 1, form=Form.FULL, topics=("agent",))
    fake_claude.default = "overloaded"
    await publish(app, tg_bot, clock)
    before = {c: len(digest_parts(fake_tg, c)) for c in (summary, brief, full)}
    await app.subscriptions.change_settings(summary, ChatSettings(form=Form.FULL))  # after it was sent
    fake_claude.default = "good"
    await heal(app, tg_bot, clock)
    for c in (summary, brief, full):
        now = [fake_tg.messages[(c, s.message_id)] for s in fake_tg.to(c) if s.method == "sendMessage"]
        assert len(now) == before[c] and all(m.method == "editMessageText" for m in now)
        assert "번역 준비 중" not in "".join(parse_telegram_html(m.text) for m in now)
    brief_now = parse_telegram_html(fake_tg.messages[(brief, fake_tg.to(brief)[0].message_id)].text)
    assert "한국어 제목" in brief_now and "▲" not in brief_now and "Top 5" in brief_now
    summary_now = "".join(
        parse_telegram_html(fake_tg.messages[(summary, s.message_id)].text) for s in fake_tg.to(summary)
    )
    assert "초록 번역" not in summary_now  # the layout it was sent with, not its new form
    full_now = "".join(parse_telegram_html(fake_tg.messages[(full, s.message_id)].text) for s in fake_tg.to(full))
    assert "초록 번역" in full_now and "⭐ agent" in full_now


async def test_a_group_that_migrated_to_a_supergroup_with_the_week_already_is_not_sent_twice(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    from tests.fakes.telegram import migrated

    supergroup = -1009999
    fake_tg.add_chat(supergroup, "supergroup", "ML 스터디")
    await subscribe(app, GROUP, ChatKind.GROUP)  # the default slot: Monday 09:00
    await subscribe(app, supergroup, ChatKind.SUPERGROUP)
    await app.subscriptions.change_settings(supergroup, ChatSettings(day=0, hour=8))
    jobs = await scheduler(app, tg_bot, clock)
    clock.now = datetime(2025, 9, 21, 23, 1, tzinfo=UTC)  # Monday 08:01 Seoul: the supergroup's slot
    await jobs.tick()
    sent = digest_parts(fake_tg, supergroup)
    assert sent
    fake_tg.fail_next(GROUP, migrated(supergroup))
    clock.now = datetime(2025, 9, 22, 0, 1, tzinfo=UTC)  # 09:01: the group's send finds it migrated
    await jobs.tick()
    assert digest_parts(fake_tg, supergroup) == sent  # it had the week: not again


async def test_a_retry_whose_chats_all_left_ends(app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram) -> None:
    from tests.fakes.telegram import ApiError

    alice = await chat(app, fake_tg, ALICE)
    fake_tg.fail_next(alice, ApiError(500, "Internal Server Error"))
    jobs = await scheduler(app, tg_bot, clock)
    await jobs.tick()
    assert await app.store.retry_at(W38) is not None  # owed a retry
    await app.subscriptions.change_settings(alice, ChatSettings(paused=True))  # …and paused meanwhile
    clock.now += timedelta(minutes=5)
    await jobs.tick()
    assert await app.store.retry_at(W38) is None and await app.store.owed_chats(W38) == []
    assert digest_parts(fake_tg, alice) == []
