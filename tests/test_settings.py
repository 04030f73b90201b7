"""/settings, /topics and a chat's own /week, through the real Application and the fake Telegram."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bot.app import App
from bot.config import Settings
from bot.models import ChatKind, ChatSettings, Form
from bot.subscriptions import ChatInfo
from tests.conftest import ALICE, BOB, CHANNEL, GROUP
from tests.fakes.hf import FakeHF, week_items
from tests.fakes.telegram import BOT_ID, FakeTelegram, Sent
from tests.test_bot import ask, current, press, running, shown


@pytest.fixture
async def bot(settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF) -> AsyncIterator[App]:
    fake_hf.weeks["2025-W37"] = week_items("2025-W37")
    async with running(settings, fake_tg) as app:
        yield app


def button(message: Sent, label: str) -> str:
    """The callback data of the button whose text starts with `label`."""
    for row in message.buttons:
        for b in row:
            if b["text"].startswith(label):
                data: str = b["callback_data"]
                return data
    raise AssertionError(f"no button {label!r} in {[b['text'] for row in message.buttons for b in row]}")


async def open_settings(fake_tg: FakeTelegram, user: int, chat: int | None = None, text: str = "/settings") -> Sent:
    [menu] = await ask(fake_tg, user, text, chat=chat)
    return menu


async def test_settings_message_edits_itself_and_saves_each_choice(bot: App, fake_tg: FakeTelegram) -> None:
    menu = await open_settings(fake_tg, ALICE)
    assert "이 대화의 다이제스트 설정" in shown(menu) and "편수: 10편" in shown(menu) and "형식: 요약" in shown(menu)
    assert "구독하지 않아" in shown(menu)  # the settings also shape /week; subscribing is offered
    checks: list[tuple[str, Callable[[ChatSettings], bool]]] = [
        ("5편", lambda s: s.count == 5),
        ("간단히", lambda s: s.form is Form.BRIEF),
        ("영어 제목", lambda s: s.english is False),
        ("⏸ 일시 정지", lambda s: s.paused),
    ]
    for label, check in checks:
        latest = current(fake_tg, ALICE)[-1]
        sent = await press(fake_tg, ALICE, latest, button(latest, label))
        assert [s.method for s in sent] == ["editMessageText"] and sent[0].message_id == menu.message_id
        assert check(await bot.subscriptions.settings(ALICE)), label
    assert fake_tg.callback_answers[-1]["text"] == "저장했습니다"
    latest = current(fake_tg, ALICE)[-1]
    assert "편수: 5편" in shown(latest) and "형식: 간단히" in shown(latest) and "일시 정지" in shown(latest)
    assert "▶️ 다시 받기" in [b["text"] for row in latest.buttons for b in row]
    assert len(current(fake_tg, ALICE)) == 1  # one message, edited in place


async def test_slot_is_chosen_by_day_then_hour(bot: App, fake_tg: FakeTelegram) -> None:
    menu = await open_settings(fake_tg, ALICE)
    [days] = await press(fake_tg, ALICE, menu, button(menu, "📅 받는 때"))
    assert "요일을 고르세요" in shown(days)
    [hours] = await press(fake_tg, ALICE, days, button(days, "금"))
    assert "금요일 몇 시" in shown(hours)
    [done] = await press(fake_tg, ALICE, hours, button(hours, "18시"))
    assert "받는 때: 금요일 18시" in shown(done)
    assert (await bot.subscriptions.settings(ALICE)).slot == "4-18"
    [days] = await press(fake_tg, ALICE, done, button(done, "📅 받는 때"))
    [back] = await press(fake_tg, ALICE, days, button(days, "기본 일정"))
    assert "받는 때: 기본 (월요일 9시)" in shown(back)


async def test_topics_command_and_their_menu(bot: App, fake_tg: FakeTelegram) -> None:
    [answer] = await ask(fake_tg, ALICE, "/topics 확산 모델, RL, robot, rl")
    assert "확산 모델, RL, robot" in shown(answer)  # each once
    assert (await bot.subscriptions.settings(ALICE)).topics == ("확산 모델", "RL", "robot")
    menu = await open_settings(fake_tg, ALICE)
    [topics] = await press(fake_tg, ALICE, menu, button(menu, "🏷 관심 주제 (3)"))
    [fewer] = await press(fake_tg, ALICE, topics, button(topics, "❌ RL"))
    assert (await bot.subscriptions.settings(ALICE)).topics == ("확산 모델", "robot")
    [back] = await press(fake_tg, ALICE, fewer, button(fewer, "← 설정으로"))
    [only] = await press(fake_tg, ALICE, back, button(back, "관심 주제만"))
    assert (await bot.subscriptions.settings(ALICE)).only_topics and "관심 주제 논문만" in shown(only)
    [cleared] = await ask(fake_tg, ALICE, "/topics 없음")
    assert "지웠습니다" in shown(cleared)
    assert (await bot.subscriptions.settings(ALICE)) == ChatSettings()


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/topics " + "x" * 41, "40자까지"),
        ("/topics " + ", ".join(f"t{i}" for i in range(11)), "10개까지"),
        ("/topics , ,", "쉼표로 나눠"),
    ],
)
async def test_bad_topics_change_nothing(bot: App, fake_tg: FakeTelegram, text: str, answer: str) -> None:
    await ask(fake_tg, ALICE, "/topics RL")
    [reply] = await ask(fake_tg, ALICE, text)
    assert answer in shown(reply)
    assert (await bot.subscriptions.settings(ALICE)).topics == ("RL",)


@pytest.mark.parametrize(
    "data", ["s:1001:zz:1", "s:1001:c:7", "s:1001:f:huge", "s:1001:h:9-30", "garbage", "s:1001:tr:5"]
)
async def test_stale_or_forged_buttons_change_nothing(bot: App, fake_tg: FakeTelegram, data: str) -> None:
    menu = await open_settings(fake_tg, ALICE)
    sent = await press(fake_tg, ALICE, menu, data.replace("1001", str(ALICE)) if data.startswith("s:") else "s:" + data)
    assert sent == []
    assert "더 이상 쓸 수 없어요" in fake_tg.callback_answers[-1]["text"]
    assert await bot.store.get_settings(ALICE) is None


async def test_a_button_naming_another_chat_is_refused(bot: App, fake_tg: FakeTelegram) -> None:
    menu = await open_settings(fake_tg, ALICE, chat=GROUP)  # Alice administers the group
    assert await press(fake_tg, ALICE, menu, f"s:{BOB}:c:5") == []
    assert "더 이상 쓸 수 없어요" in fake_tg.callback_answers[-1]["text"]
    assert await bot.store.get_settings(BOB) is None


async def test_in_a_group_only_admins_change_settings(bot: App, fake_tg: FakeTelegram) -> None:
    [refused] = await ask(fake_tg, BOB, "/settings", chat=GROUP)
    assert "그룹 관리자만" in shown(refused)
    menu = await open_settings(fake_tg, ALICE, chat=GROUP)
    assert "이 그룹의 다이제스트 설정" in shown(menu)
    assert await press(fake_tg, BOB, menu, button(menu, "20편")) == []  # a member presses Alice's menu
    assert "그룹 관리자만" in fake_tg.callback_answers[-1]["text"]
    [_] = await press(fake_tg, ALICE, menu, button(menu, "20편"))
    assert (await bot.subscriptions.settings(GROUP)).count == 20
    [refused] = await ask(fake_tg, BOB, "/topics RL", chat=GROUP)
    assert "그룹 관리자만" in shown(refused) and (await bot.subscriptions.settings(GROUP)).topics == ()
    [anonymous] = await ask(fake_tg, None, "/topics RL", chat=GROUP, sender_chat_id=GROUP)  # type: ignore[arg-type]
    assert "RL" in shown(anonymous) and (await bot.subscriptions.settings(GROUP)).topics == ("RL",)


async def test_a_channel_is_set_from_its_admins_private_chat(bot: App, fake_tg: FakeTelegram) -> None:
    fake_tg.set_member(CHANNEL, BOT_ID, "administrator", can_post_messages=True)
    [refused] = await ask(fake_tg, ALICE, "/settings @hf_weekly_ko")
    assert "관리자만 설정을" in shown(refused)  # Alice is no admin of the channel
    fake_tg.set_member(CHANNEL, ALICE, "administrator")
    menu = await open_settings(fake_tg, ALICE, text="/settings @hf_weekly_ko")
    assert "채널 HF 주간 논문의 다이제스트 설정" in shown(menu)
    [_] = await press(fake_tg, ALICE, menu, button(menu, "자세히"))
    assert (await bot.subscriptions.settings(CHANNEL)).form is Form.FULL
    assert await bot.store.get_settings(ALICE) is None
    [topics] = await ask(fake_tg, ALICE, "/topics @hf_weekly_ko robot, RL")
    assert "채널 HF 주간 논문" in shown(topics)
    assert (await bot.subscriptions.settings(CHANNEL)).topics == ("robot", "RL")
    fake_tg.set_member(CHANNEL, ALICE, "member")  # no longer an admin: the old menu's buttons refuse
    assert await press(fake_tg, ALICE, menu, button(menu, "5편")) == []
    assert (await bot.subscriptions.settings(CHANNEL)).count is None
    [in_group] = await ask(fake_tg, ALICE, "/settings @hf_weekly_ko", chat=GROUP)
    assert "개인 대화에서" in shown(in_group)


async def test_week_answers_in_the_chats_form_count_and_topics(bot: App, fake_tg: FakeTelegram) -> None:
    await bot.subscriptions.change_settings(ALICE, ChatSettings(count=5, form=Form.BRIEF, english=False))
    await ask(fake_tg, ALICE, "/week 2025-W38")
    [digest] = current(fake_tg, ALICE)
    text = shown(digest)
    assert "Top 5" in text and "▲" not in text  # brief: titles only, one message
    assert text.count("\n1. ") + text.count("\n2. ") == 2 and "6. " not in text
    assert digest.button_data == ["w:2025-W37"]
    await bot.subscriptions.change_settings(BOB, ChatSettings(topics=("agent",)))
    await ask(fake_tg, BOB, "/latest")
    first = shown(current(fake_tg, BOB)[0])
    assert "⭐ 관심 주제" in first and "⭐ agent" in first
    await bot.subscriptions.subscribe(ChatInfo(GROUP, ChatKind.GROUP, "g"))
    assert (await bot.subscriptions.settings(GROUP)) == ChatSettings()


async def test_two_settings_pressed_at_the_same_moment_both_stay(bot: App, fake_tg: FakeTelegram) -> None:
    """Two taps on different settings reach the bot in one getUpdates answer and are handled at once
    (python-telegram-bot runs updates concurrently): neither may undo the other, any round."""
    menu = await open_settings(fake_tg, ALICE)
    assert {f"s:{ALICE}:f:{Form.BRIEF.value}", f"s:{ALICE}:e:0"} <= set(menu.button_data)
    for round_ in range(50):
        form, english = (Form.BRIEF, False) if round_ % 2 == 0 else (Form.FULL, True)
        pressed = [
            fake_tg.press(ALICE, menu, f"s:{ALICE}:f:{form.value}"),
            fake_tg.press(ALICE, menu, f"s:{ALICE}:e:{int(english)}"),
        ]
        for update_id in pressed:
            await fake_tg.handled_update(update_id)
        settings = await bot.subscriptions.settings(ALICE)
        assert (settings.form, settings.english) == (form, english), f"round {round_}: {settings}"
    assert fake_tg.callback_answers[-1]["text"] == "저장했습니다"
