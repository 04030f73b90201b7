"""The real Application from app.py, long polling the fake Telegram; fake HF and Claude; real Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp
import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.ext import TypeHandler

from bot.app import App, open_app, running_bot
from bot.config import Settings
from bot.models import ChatKind, Subscription
from bot.week import IsoWeek
from tests.conftest import ADMIN, ALICE, BOB, CHANNEL, FORUM, GROUP, eventually, free_port, start_redis_server
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF, item_2026, week_items
from tests.fakes.telegram import BOT_ID, BOT_USERNAME, TOKEN, ApiError, FakeTelegram, Sent, retry_after
from tests.fakes.telegram_html import parse_telegram_html

HANDLED_GROUP = 1000  # after every group the bot uses
NOW = datetime(2025, 9, 24, 3, 0, tzinfo=UTC)  # Wednesday of 2025-W39: 2025-W38 is the last completed week


@asynccontextmanager
async def running(settings: Settings, fake_tg: FakeTelegram, **overrides: object) -> AsyncIterator[App]:
    """The bot, long polling the fake; every update it has finished handling is reported to the fake
    (a handler in a group after all of ours), so tests wait for that instead of for quiet."""
    configured = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TOKEN),
            "telegram_api_base_url": f"{fake_tg.url}/bot",
            "admins": [ADMIN],
            **overrides,
        }
    )
    async with (
        open_app(configured, clock=lambda: NOW) as app,
        running_bot(app, poll_timeout=1, schedule=False) as bot,
    ):

        async def handled(update: Update, context: object) -> None:
            fake_tg.mark_handled(update.update_id)

        bot.application.add_handler(TypeHandler(Update, handled), group=HANDLED_GROUP)
        yield app


@pytest.fixture
async def bot(settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF) -> AsyncIterator[App]:
    fake_hf.weeks["2025-W37"] = week_items("2025-W37")
    async with running(settings, fake_tg) as app:
        yield app


async def ask(fake: FakeTelegram, user: int, text: str, chat: int | None = None, **kw: object) -> list[Sent]:
    """Send a message as `user`; once the bot has handled it, what it sent (or edited) meanwhile."""
    before = len(fake.sent)
    update_id = fake.message(user, chat if chat is not None else user, text, **kw)  # type: ignore[arg-type]
    await fake.handled_update(update_id)
    return fake.sent[before:]


async def press(fake: FakeTelegram, user: int, message: Sent, data: str) -> list[Sent]:
    before = len(fake.sent)
    await fake.handled_update(fake.press(user, message, data))
    return fake.sent[before:]


def shown(sent: Sent) -> str:
    return parse_telegram_html(sent.text)


def current(fake: FakeTelegram, chat: int) -> list[Sent]:
    """Every message in the chat as it reads now (after edits), oldest first."""
    return [m for (c, _), m in sorted(fake.messages.items()) if c == chat]


# --- start, help, unknown ------------------------------------------------------------------------


async def test_start_registers_korean_commands_and_welcomes(bot: App, fake_tg: FakeTelegram) -> None:
    assert {c["command"] for c in fake_tg.commands} >= {"week", "latest", "subscribe", "unsubscribe", "help"}
    assert all(any("\uac00" <= ch <= "\ud7a3" for ch in c["description"]) for c in fake_tg.commands)
    [reply] = await ask(fake_tg, ALICE, "/start")
    assert "HF Weekly" in shown(reply) and "/week" in shown(reply) and "/subscribe" in shown(reply)
    assert reply.button_data == ["sub", "w:last"]


async def test_help_has_examples_and_admin_section_for_admins(bot: App, fake_tg: FakeTelegram) -> None:
    [reply] = await ask(fake_tg, ALICE, "/help")
    assert "/week 2025-W38" in shown(reply) and "/retranslate" not in shown(reply)
    [reply] = await ask(fake_tg, ADMIN, "/help")
    assert "/retranslate" in shown(reply)


async def test_unknown_commands_and_plain_text(bot: App, fake_tg: FakeTelegram) -> None:
    [reply] = await ask(fake_tg, ALICE, "/frobnicate")
    assert shown(reply) == "알 수 없는 명령어입니다. /help 를 보내 보세요."
    [reply] = await ask(fake_tg, ALICE, "안녕하세요")
    assert "/help" in shown(reply)
    assert await ask(fake_tg, ALICE, "그냥 하는 말", chat=GROUP) == []
    assert await ask(fake_tg, ALICE, "/frobnicate", chat=GROUP) == []


# --- /week ---------------------------------------------------------------------------------------


async def test_week_cold_says_building_then_edits_into_the_digest(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    sent = await ask(fake_tg, ALICE, "/week 2025-W38")
    assert "생성 중" in shown(sent[0])
    assert sent[1].method == "editMessageText" and sent[1].message_id == sent[0].message_id
    parts = current(fake_tg, ALICE)
    assert parts[0].message_id == sent[0].message_id
    text = "".join(shown(p) for p in parts)
    assert "Hugging Face 주간 인기 논문 Top 10" in text and "2025-W38" in text and "생성 중" not in text
    assert text.count("▲ ") == 10
    assert f"https://t.me/{BOT_USERNAME}?start=p_2509_13310" in "".join(p.text for p in parts)
    assert [p.button_data for p in parts][-1] == ["w:2025-W37"]  # no ▶: 2025-W39 has not ended
    assert all(not p.button_data for p in parts[:-1])
    assert fake_claude.calls == 10


async def test_week_warm_answers_at_once(bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude) -> None:
    await ask(fake_tg, ALICE, "/week 2025-W38")
    sent = await ask(fake_tg, BOB, "/latest")
    assert all("생성 중" not in shown(s) for s in sent)
    assert "2025-W38" in shown(sent[0])
    assert fake_claude.calls == 10


async def test_navigation_edits_the_message(bot: App, fake_tg: FakeTelegram) -> None:
    sent = await ask(fake_tg, ALICE, "/week 2025-W38")
    message = fake_tg.messages[(ALICE, sent[-1].message_id)]
    await press(fake_tg, ALICE, message, "w:2025-W37")
    edited = fake_tg.messages[(ALICE, message.message_id)]
    assert "2025-W37" in shown(edited)
    later = [s for s in fake_tg.to(ALICE) if s.button_data]
    assert later[-1].button_data == ["w:2025-W36", "w:2025-W38"]
    assert fake_tg.callback_answers  # the button's spinner was stopped


async def test_week_bad_input_future_and_empty(bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF) -> None:
    [reply] = await ask(fake_tg, ALICE, "/week hello<b>")
    assert "‘hello<b>’은(는) 알아볼 수 있는 주가 아닙니다" in shown(reply) and "/week 2025-W38" in shown(reply)
    [reply] = await ask(fake_tg, ALICE, "/week 2025-W54")
    assert "2025년에는 52주까지만 있습니다" in shown(reply)
    [reply] = await ask(fake_tg, ALICE, "/week 2099-W01")
    assert "미래의 주" in shown(reply) and "2025-W38" in shown(reply)
    sent = await ask(fake_tg, ALICE, "/week 2023-W30")
    assert "2023-W30에는 Hugging Face에 올라온 논문이 없습니다" in shown(fake_tg.messages[(ALICE, sent[0].message_id)])
    assert all("Traceback" not in shown(s) for s in fake_tg.to(ALICE))


@pytest.mark.parametrize("text", ["/week 1000-W01", "/week 1000-01-05", "/week 2023-W17", "/week 2022-12-31"])
async def test_weeks_before_hugging_face_began(bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF, text: str) -> None:
    [reply] = await ask(fake_tg, ALICE, text)
    assert "2023-W18(2023년 5월)부터 있습니다" in shown(reply) and "/week 2025-W38" in shown(reply)
    assert fake_hf.requests == []


async def test_buttons_never_point_outside_the_weeks_that_have_papers(bot: App, fake_tg: FakeTelegram) -> None:
    fake_tg.add_chat(ALICE, "private")
    first = await ask(fake_tg, ALICE, "/week 2023-W18")  # the first week: no ◀ (the fake has no papers for it)
    edited = fake_tg.messages[(ALICE, first[0].message_id)]
    assert edited.button_data == ["w:2023-W19"]
    forged = await press(fake_tg, ALICE, edited, "w:1000-W01")  # a button nobody was shown
    assert "2023-W18(2023년 5월)부터" in shown(forged[-1])


async def test_long_input_is_not_echoed_back(bot: App, fake_tg: FakeTelegram) -> None:
    [reply] = await ask(fake_tg, ALICE, "/week " + "가나다라" * 1000)
    assert len(shown(reply)) < 300 and "가나다라가나다…’" in shown(reply)


async def test_simultaneous_requests_share_one_build(bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude) -> None:
    fake_claude.delay = 0.3
    fake_tg.message(ALICE, ALICE, "/week 2025-W38")
    fake_tg.message(BOB, BOB, "/week 2025-09-17")
    fake_tg.message(ADMIN, ADMIN, "/week 2025W38")

    def all_built() -> bool:
        firsts = [fake_tg.to(u)[0] for u in (ALICE, BOB, ADMIN) if fake_tg.to(u)]
        return len(firsts) == 3 and all("Top 10" in shown(fake_tg.messages[(f.chat_id, f.message_id)]) for f in firsts)

    await fake_tg.wait_for(all_built, within=30)
    assert fake_claude.calls == 10


async def test_per_user_limit_on_new_weeks_only(bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF) -> None:
    bot.settings.week_build_limit = 2
    for week in ("2025-W20", "2025-W21"):
        fake_hf.weeks[week] = [item_2026(f"2505.0000{i}", f"P{i}", f"A {i}.", i) for i in range(3)]
    await ask(fake_tg, ALICE, "/week 2025-W38")
    await ask(fake_tg, ALICE, "/week 2025-W20")
    [reply] = await ask(fake_tg, ALICE, "/week 2025-W21")
    assert "10분에 2번까지" in shown(reply)
    sent = await ask(fake_tg, ALICE, "/week 2025-W38")  # built already: not limited
    assert "Top 10" in shown(sent[0])
    sent = await ask(fake_tg, BOB, "/week 2025-W21")  # another user has a budget of their own
    assert "Top 3" in shown(fake_tg.messages[(BOB, sent[0].message_id)])


async def test_pending_papers_are_not_retried_by_every_view(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    fake_claude.default = "overloaded"
    await ask(fake_tg, ALICE, "/week 2025-W38")  # built while Claude is down: all ten pending
    calls = fake_claude.calls
    for _ in range(6):  # more than the per-user limit: served from what is there, not rebuilt
        sent = await ask(fake_tg, BOB, "/week 2025-W38")
        text = "".join(shown(s) for s in sent)
        assert "번역 준비 중" in text and "생성 중" not in text and "10분에" not in text
    assert fake_claude.calls == calls


async def test_preview_of_a_future_week(bot: App, fake_tg: FakeTelegram) -> None:
    [reply] = await ask(fake_tg, ADMIN, "/preview 2099-W01")
    assert "미래의 주" in shown(reply)


async def test_hostile_paper_title(bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF) -> None:
    hostile = 'Attack </a><script>alert("x")</script> & <b>bold'
    fake_hf.weeks["2025-W30"] = [item_2026("2507.00001", hostile, "We gain 5% on <tasks> & more.", 9)]
    sent = await ask(fake_tg, ALICE, "/week 2025-W30")
    final = fake_tg.messages[(ALICE, sent[0].message_id)]
    assert hostile in shown(final)
    assert fake_tg.rejected == []


# --- deep links ----------------------------------------------------------------------------------


async def test_deep_link_to_a_paper(bot: App, fake_tg: FakeTelegram) -> None:
    await ask(fake_tg, ALICE, "/week 2025-W38")
    [reply] = await ask(fake_tg, BOB, "/start p_2509_13310")
    text = shown(reply)
    assert "한국어 제목: Scaling Agents via Continual Pre-training" in text
    assert "요약" in text and "초록 번역" in text and "39.9%" in text
    assert "https://arxiv.org/abs/2509.13310" in reply.text
    [reply] = await ask(fake_tg, BOB, "/start p_9999_00000")  # asked of Hugging Face, then arXiv
    assert "9999.00000 논문이 없습니다" in shown(reply)


async def test_deep_link_to_a_week(bot: App, fake_tg: FakeTelegram) -> None:
    sent = await ask(fake_tg, BOB, "/start w_2025-W38")
    assert "2025-W38" in shown(fake_tg.messages[(BOB, sent[0].message_id)])


# --- subscriptions -------------------------------------------------------------------------------


async def test_private_subscribe_twice_and_unsubscribe(bot: App, fake_tg: FakeTelegram) -> None:
    [reply] = await ask(fake_tg, ALICE, "/subscribe")
    assert "구독을 시작했습니다" in shown(reply)
    sub = await bot.store.get_subscription(ALICE)
    assert sub is not None and sub.active and sub.kind is ChatKind.PRIVATE
    [reply] = await ask(fake_tg, ALICE, "/subscribe")
    assert "이미 구독 중" in shown(reply)
    [reply] = await ask(fake_tg, ALICE, "/unsubscribe")
    assert "해지했습니다" in shown(reply)
    assert await bot.store.get_subscription(ALICE) is None
    [reply] = await ask(fake_tg, ALICE, "/unsubscribe")
    assert "구독하고 있지 않습니다" in shown(reply)


async def test_subscribe_button(bot: App, fake_tg: FakeTelegram) -> None:
    [welcome] = await ask(fake_tg, BOB, "/start")
    await press(fake_tg, BOB, welcome, "sub")
    assert "구독을 시작했습니다" in fake_tg.texts(BOB)[-1]
    assert await bot.store.get_subscription(BOB) is not None


async def test_group_needs_an_admin(bot: App, fake_tg: FakeTelegram) -> None:
    [reply] = await ask(fake_tg, BOB, "/subscribe", chat=GROUP)
    assert "관리자만" in shown(reply)
    assert await bot.store.get_subscription(GROUP) is None
    [reply] = await ask(fake_tg, ALICE, f"/subscribe@{BOT_USERNAME}", chat=GROUP)
    assert "구독을 시작했습니다" in shown(reply)
    sub = await bot.store.get_subscription(GROUP)
    assert sub is not None and sub.kind is ChatKind.GROUP and sub.title == "ML 스터디" and sub.by_user == ALICE
    [reply] = await ask(fake_tg, BOB, "/unsubscribe", chat=GROUP)
    assert "관리자만" in shown(reply)
    assert await bot.store.get_subscription(GROUP) is not None


async def test_anonymous_admin_posting_as_the_group(bot: App, fake_tg: FakeTelegram) -> None:
    [reply] = await ask(fake_tg, None, "/subscribe", chat=GROUP, sender_chat_id=GROUP)  # type: ignore[arg-type]
    assert "구독을 시작했습니다" in shown(reply)


async def test_forum_topic_is_remembered(bot: App, fake_tg: FakeTelegram) -> None:
    [reply] = await ask(fake_tg, ALICE, "/subscribe", chat=FORUM, thread_id=42)
    assert reply.params.get("message_thread_id") == 42
    sub = await bot.store.get_subscription(FORUM)
    assert sub is not None and sub.thread_id == 42 and sub.kind is ChatKind.SUPERGROUP
    [reply] = await ask(fake_tg, ALICE, "/subscribe", chat=FORUM, thread_id=77)
    assert "옮겼습니다" in shown(reply)
    sub = await bot.store.get_subscription(FORUM)
    assert sub is not None and sub.thread_id == 77


async def test_channel_from_private_checks_everything(bot: App, fake_tg: FakeTelegram) -> None:
    [reply] = await ask(fake_tg, ALICE, "/subscribe @no_such_channel")
    assert "찾지 못했습니다" in shown(reply)
    [reply] = await ask(fake_tg, ALICE, "/subscribe hf_weekly_ko")
    assert "@채널이름" in shown(reply)
    [reply] = await ask(fake_tg, ALICE, "/subscribe @hf_weekly_ko")
    assert "봇이 채널 HF 주간 논문의 관리자가 아닙니다" in shown(reply)  # checked first: only then are members visible

    fake_tg.set_member(CHANNEL, BOT_ID, "administrator", can_post_messages=False)
    [reply] = await ask(fake_tg, ALICE, "/subscribe @hf_weekly_ko")
    assert "‘메시지 게시’ 권한이 없습니다" in shown(reply)

    fake_tg.set_member(CHANNEL, BOT_ID, "administrator", can_post_messages=True)
    [reply] = await ask(fake_tg, ALICE, "/subscribe @hf_weekly_ko")
    assert "관리자만" in shown(reply)  # Alice does not administer the channel

    fake_tg.set_member(CHANNEL, ALICE, "administrator", can_post_messages=True)
    fake_tg.set_member(CHANNEL, BOT_ID, "administrator", can_post_messages=True)
    [reply] = await ask(fake_tg, ALICE, f"/subscribe {CHANNEL}")
    assert "구독을 시작했습니다" in shown(reply) and "채널 HF 주간 논문" in shown(reply)
    sub = await bot.store.get_subscription(CHANNEL)
    assert sub is not None and sub.kind is ChatKind.CHANNEL and sub.active
    [reply] = await ask(fake_tg, ALICE, "/subscribe @hf_weekly_ko")
    assert "이미 구독 중" in shown(reply)
    [reply] = await ask(fake_tg, BOB, "/unsubscribe @hf_weekly_ko")
    assert "관리자만" in shown(reply)
    [reply] = await ask(fake_tg, ALICE, "/unsubscribe @hf_weekly_ko")
    assert "해지했습니다" in shown(reply)


async def test_blocked_then_start_reactivates(bot: App, fake_tg: FakeTelegram) -> None:
    await ask(fake_tg, ALICE, "/subscribe")
    await fake_tg.handled_update(fake_tg.my_chat_member(ALICE, ALICE, "member", "kicked"))
    sub = await bot.store.get_subscription(ALICE)
    assert sub is not None and not sub.active  # kept, inactive
    [reply] = await ask(fake_tg, ALICE, "/start")
    assert "다시 시작했습니다" in shown(reply)
    sub = await bot.store.get_subscription(ALICE)
    assert sub is not None and sub.active


async def test_removed_from_group_then_subscribe_reactivates(bot: App, fake_tg: FakeTelegram) -> None:
    await ask(fake_tg, ALICE, "/subscribe", chat=GROUP)
    await fake_tg.handled_update(fake_tg.my_chat_member(GROUP, ALICE, "member", "left"))
    sub = await bot.store.get_subscription(GROUP)
    assert sub is not None and not sub.active
    [reply] = await ask(fake_tg, ALICE, "/subscribe", chat=GROUP)
    assert "다시 시작했습니다" in shown(reply)


# --- admins --------------------------------------------------------------------------------------


async def test_admin_commands_are_unknown_to_others(bot: App, fake_tg: FakeTelegram) -> None:
    for command in ("/status", "/preview 2025-W38", "/retranslate 2509.13310", "/publish 2025-W38"):
        [reply] = await ask(fake_tg, ALICE, command)
        assert shown(reply) == "알 수 없는 명령어입니다. /help 를 보내 보세요."


async def test_status(bot: App, fake_tg: FakeTelegram) -> None:
    await ask(fake_tg, ALICE, "/subscribe")
    await ask(fake_tg, BOB, "/subscribe")
    await fake_tg.handled_update(fake_tg.my_chat_member(BOB, BOB, "member", "kicked"))
    await ask(fake_tg, ALICE, "/week 2025-W38")
    [reply] = await ask(fake_tg, ADMIN, "/status")
    text = shown(reply)
    assert "private: 활성 1 · 비활성 1" in text
    assert "번역 캐시: 10편" in text
    assert "호출 10" in text
    # Hugging Face's calls in its 5-minute window: the /week build asked it once (the week's list).
    assert "Hugging Face 호출: 지금 5분 창에 1회" in text and "토큰 없음" in text


async def test_paid_broadcasts_are_flagged_and_shown_in_status(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    async with running(settings, fake_tg, paid_broadcast=True) as app:
        await ask(fake_tg, ALICE, "/subscribe")
        await ask(fake_tg, BOB, "/subscribe")
        before = len(fake_tg.sent)
        await ask(fake_tg, ADMIN, "/publish 2025-W38")
        paid = [s for s in fake_tg.sent[before:] if s.paid]
        assert {s.chat_id for s in paid} == {ALICE, BOB}  # the broadcast, and nothing else
        assert all(s.chat_id != ADMIN for s in paid)  # replies stay on the free budget

        async def counted() -> bool:  # the count is saved within a second (bot/limiter.py)
            return await app.store.paid_count(IsoWeek(2025, 38)) == len(paid)

        await eventually(counted)
        [reply] = await ask(fake_tg, ADMIN, "/status")
        assert f"유료 발행(paid broadcast): 2025-W38 메시지 {len(paid)}건" in shown(reply)


async def test_preview_goes_to_the_admin_only(bot: App, fake_tg: FakeTelegram) -> None:
    await ask(fake_tg, ALICE, "/subscribe")
    sent = await ask(fake_tg, ADMIN, "/preview 2025-W38")
    assert {s.chat_id for s in sent} == {ADMIN}
    assert any("미리보기" in shown(s) for s in fake_tg.to(ADMIN))
    assert any("Top 10" in shown(s) for s in fake_tg.to(ADMIN))


async def test_retranslate(bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude) -> None:
    await ask(fake_tg, ALICE, "/week 2025-W38")
    sent = [s for s in await ask(fake_tg, ADMIN, "/retranslate 2509.13310") if s.chat_id == ADMIN]
    assert "다시 번역하는 중" in shown(sent[0]) and "고쳤습니다" in shown(sent[-1])
    assert fake_claude.calls == 11
    [reply] = await ask(fake_tg, ADMIN, "/retranslate 1234.5678")
    assert "찾지 못했습니다" in shown(reply)


# --- errors --------------------------------------------------------------------------------------


async def test_a_failing_handler_apologises_alerts_admins_and_the_bot_goes_on(
    bot: App, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    fake_tg.fail_next(ALICE, ApiError(400, "Bad Request: something unexpected"))
    sent = await ask(fake_tg, ALICE, "/help")
    assert [shown(s) for s in sent if s.chat_id == ALICE] == [
        "죄송합니다, 처리하는 중에 문제가 생겼습니다. 잠시 후 다시 시도해 주세요."
    ]
    alerts = [shown(s) for s in sent if s.chat_id == ADMIN]
    assert len(alerts) == 1 and "BadRequest" in alerts[0] and "Traceback" not in alerts[0]
    assert "Handler failed" in caplog.text and "Traceback" in caplog.text
    assert TOKEN not in caplog.text

    fake_tg.fail_next(ALICE, ApiError(400, "Bad Request: something unexpected"))
    sent = await ask(fake_tg, ALICE, "/help")
    assert [s.chat_id for s in sent] == [ALICE]  # the same kind of error within 10 minutes: no new alert
    [reply] = await ask(fake_tg, ALICE, "/help")
    assert "사용법" in shown(reply)


async def test_replies_go_out_concurrently(bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude) -> None:
    """A build waiting for Claude does not hold up another user's /help."""
    fake_claude.gate.clear()  # Claude thinks until the gate opens
    building = fake_tg.message(ALICE, ALICE, "/week 2025-W38")
    await fake_tg.wait_for(lambda: fake_claude.in_flight > 0)
    [reply] = await ask(fake_tg, BOB, "/help")
    assert "사용법" in shown(reply) and building not in fake_tg.handled  # answered while Alice's build waits
    fake_claude.gate.set()
    await fake_tg.handled_update(building)
    assert "Top 10" in shown(current(fake_tg, ALICE)[0])


# --- the Telegram edge: one limiter, start-up, stale buttons ---------------------------------------


async def test_a_429_on_a_reply_is_waited_out_and_the_reply_sent(
    bot: App, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    fake_tg.fail_next(ALICE, retry_after(1))
    [reply] = await ask(fake_tg, ALICE, "/help")
    assert "사용법" in shown(reply)  # sent once the wait was over, not an apology
    assert [r[2] for r in fake_tg.rejected] == ["Too Many Requests: retry after 1"]
    assert "flood control" in caplog.text  # a private chat's 429: the bot's budget (tests/test_limiter.py)


async def test_a_failed_command_menu_does_not_stop_the_bot(
    settings: Settings, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    fake_tg.method_failures["setMyCommands"].append(ApiError(500, "Internal Server Error"))
    async with running(settings, fake_tg):
        [reply] = await ask(fake_tg, ALICE, "/help")
        assert "사용법" in shown(reply)
    assert "Could not set the bot's command menu" in caplog.text


async def test_a_stale_button_press_still_does_what_it_says(bot: App, fake_tg: FakeTelegram) -> None:
    sent = await ask(fake_tg, ALICE, "/week 2025-W38")
    message = fake_tg.messages[(ALICE, sent[-1].message_id)]
    too_old = ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
    fake_tg.method_failures["answerCallbackQuery"].append(too_old)
    answer = await press(fake_tg, ALICE, message, "w:2025-W37")
    assert "2025-W37" in shown(fake_tg.messages[(ALICE, message.message_id)])
    assert not any("죄송합니다" in shown(s) for s in answer)


async def test_asking_again_during_a_build_shares_its_placeholder(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    bot.settings.week_build_limit = 2
    fake_claude.gate.clear()
    first = fake_tg.message(ALICE, ALICE, "/week 2025-W38")
    await fake_tg.wait_for(lambda: fake_claude.in_flight > 0)
    for _ in range(5):  # impatient: the same week again and again while it builds
        assert await ask(fake_tg, ALICE, "/week 2025-W38") == []
    fake_claude.gate.set()
    await fake_tg.handled_update(first)
    [digest] = current(fake_tg, ALICE)
    assert "Top 10" in shown(digest)
    sent = await ask(fake_tg, ALICE, "/week 2025-W37")  # the repeats did not use up the allowance
    assert "2025-W37" in shown(fake_tg.messages[(ALICE, sent[0].message_id)])


# --- what Telegram and Redis may do to a running bot ------------------------------------------------


async def healthz(port: int) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as response:
        return response.status, (await response.json()).get("reason", "")


async def test_another_instance_polling_is_said_once_and_outlasted(
    settings: Settings, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.health")
    port = free_port()
    async with running(settings, fake_tg, http_port=port), aiohttp.ClientSession() as other:
        assert await healthz(port) == (200, "")
        polling = True

        async def other_instance() -> None:  # another `hfweekly run` with the same token
            while polling:
                async with other.post(f"{fake_tg.url}/bot{TOKEN}/getUpdates", json={"timeout": 1, "offset": -1}):
                    pass

        task = asyncio.create_task(other_instance())
        await fake_tg.wait_for(lambda: "Another instance is polling with this token" in caplog.text, within=30)
        status, reason = await healthz(port)
        assert status == 503 and "another instance is polling with this token" in reason
        await fake_tg.wait_for(lambda: fake_tg.conflicts >= 6, within=30)  # it goes on
        assert caplog.text.count("Another instance is polling") == 1 and "Traceback" not in caplog.text
        polling = False
        await task
        # python-telegram-bot waits longer after each conflict (up to 30 s) before it polls again.
        await fake_tg.wait_for(lambda: "Polling again" in caplog.text, within=90)
        assert await healthz(port) == (200, "")
        [reply] = await ask(fake_tg, ALICE, "/help")
        assert "사용법" in shown(reply)


async def test_a_refused_token_turns_healthz_503(settings: Settings, fake_tg: FakeTelegram) -> None:
    port = free_port()
    async with running(settings, fake_tg, http_port=port):
        fake_tg.method_failures["getUpdates"].append(ApiError(401, "Unauthorized"))
        fake_tg.message(ALICE, ALICE, "/help")  # ends the poll under way; the next one is refused
        await fake_tg.wait_for(lambda: any(m == "getUpdates" and "Unauthorized" in r for m, _, r in fake_tg.rejected))
        status, reason = await healthz(port)
        assert status == 503 and "the bot's token was refused (401 Unauthorized)" in reason


async def test_nobody_sees_an_error_once_redis_is_back(settings: Settings, fake_tg: FakeTelegram) -> None:
    """Pooled connections that sat idle through a Redis restart are replaced, not handed to users."""
    port = free_port()
    redis_proc = await start_redis_server(port)
    try:
        async with running(settings, fake_tg, redis_url=f"redis://127.0.0.1:{port}/0"):
            users = range(7000, 7020)
            await asyncio.gather(*(ask(fake_tg, user, "/start") for user in users))  # the pool fills
            redis_proc.terminate()
            await redis_proc.wait()
            redis_proc = await start_redis_server(port)  # back (empty)
            before = len(fake_tg.sent)
            ids = [fake_tg.message(user, user, "/start") for user in users]
            await asyncio.gather(*(fake_tg.handled_update(i) for i in ids))
            replies = [shown(s) for s in fake_tg.sent[before:]]
            assert len(replies) == 20 and all("HF Weekly" in text for text in replies)
    finally:
        if redis_proc.returncode is None:
            redis_proc.terminate()
            await redis_proc.wait()


# --- the weekly broadcast inside the bot ---------------------------------------------------------


async def test_admin_publish_is_idempotent_and_status_shows_the_run(bot: App, fake_tg: FakeTelegram) -> None:
    await ask(fake_tg, ALICE, "/subscribe")
    await ask(fake_tg, BOB, "/subscribe")
    sent = await ask(fake_tg, ADMIN, "/publish 2025-W38")
    assert any("발행 끝: 대화 2 · 새로 보냄 2" in shown(s) for s in sent if s.chat_id == ADMIN)
    assert any("Top 10" in shown(s) for s in sent if s.chat_id == ALICE)
    sent = await ask(fake_tg, ADMIN, "/publish 2025-W38")
    assert [s.chat_id for s in sent] == [ADMIN, ADMIN]  # nobody got it twice
    assert "새로 보냄 0 · 이미 보냄 2" in shown(sent[-1])
    [reply] = await ask(fake_tg, ADMIN, "/status")
    text = shown(reply)
    assert "지난 발행: 2025-W38" in text and "보냄 0" in text and "이미 보냄 2" in text
    assert "다음 발행: 2025-09-29 09:00 KST (0 9 * * mon)" in text
    [reply] = await ask(fake_tg, ADMIN, "/publish 이번주")
    assert "아직 끝나지 않았습니다" in shown(reply)


async def test_the_running_bot_catches_up_a_missed_publish_at_start(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    configured = settings.model_copy(
        update={"telegram_bot_token": SecretStr(TOKEN), "telegram_api_base_url": f"{fake_tg.url}/bot"}
    )
    async with open_app(configured, clock=lambda: NOW) as app:
        now = datetime(2025, 9, 1, tzinfo=UTC)
        await app.store.save_subscription(Subscription(ALICE, ChatKind.PRIVATE, "Alice", True, now, now))
        async with running_bot(app, poll_timeout=1):  # Wednesday: Monday's run was missed
            await fake_tg.wait_for(lambda: bool(fake_tg.to(ALICE)), within=20)
    assert "2025-W38" in shown(fake_tg.to(ALICE)[0])
