"""Korean a reader can trust, through the real Application, the fake Telegram and the fake Claude: the gate
re-asks unfaithful answers and never publishes them, the glossary is enforced and edited in chat, readers
report wrong translations with buttons, and an admin's correction reaches every message already sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple

import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.ext import TypeHandler

from bot.app import App, open_app, running_bot
from bot.config import Settings
from bot.editor import Editor
from bot.handlers.common import DEPS, Deps
from bot.limiter import SendLimiter
from bot.models import ChatKind, ChatSettings, Form, ReaderReport, ReportReason, Status, Subscription
from bot.render import render_json, render_text
from bot.week import IsoWeek
from tests.conftest import ADMIN, ALICE, BOB, GROUP
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF, item_2026, week_items
from tests.fakes.telegram import BOT_USERNAME, TOKEN, FakeTelegram, Sent
from tests.fakes.telegram_html import parse_telegram_html
from tests.test_bot import HANDLED_GROUP, NOW, ask, press

W38 = IsoWeek(2025, 38)
TOP = "2509.13310"  # rank 1 of 2025-W38: Scaling Agents via Continual Pre-training
OTHER = "2509.12201"  # rank 2


class Running(NamedTuple):
    app: App
    deps: Deps
    telegram: Any  # the Application's bot (python-telegram-bot's ExtBot)


@asynccontextmanager
async def running(settings: Settings, fake_tg: FakeTelegram, **overrides: object) -> AsyncIterator[Running]:
    configured = settings.model_copy(
        update={"telegram_bot_token": SecretStr(TOKEN), "telegram_api_base_url": f"{fake_tg.url}/bot",
                "admins": [ADMIN], **overrides}
    )  # fmt: skip
    async with open_app(configured, clock=lambda: NOW) as app, running_bot(app, poll_timeout=1, schedule=False) as bot:

        async def handled(update: Update, context: object) -> None:
            fake_tg.mark_handled(update.update_id)

        bot.application.add_handler(TypeHandler(Update, handled), group=HANDLED_GROUP)
        deps = bot.application.bot_data[DEPS]
        assert isinstance(deps, Deps)
        yield Running(app, deps, bot.application.bot)


@pytest.fixture
async def bot(settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF) -> AsyncIterator[Running]:
    async with running(settings, fake_tg, report_daily_limit=3) as running_app:
        yield running_app


def shown(sent: Sent) -> str:
    return parse_telegram_html(sent.text)


def now_text(fake: FakeTelegram, chat: int, message_id: int) -> str:
    return shown(fake.messages[(chat, message_id)])


def user_turns(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "user" and isinstance(m["content"], str)]


def to_admin(fake: FakeTelegram) -> list[str]:
    return [s.text for s in fake.to(ADMIN)]


# --- the gate through the translator -----------------------------------------------------------------


async def test_an_invented_name_is_asked_again_naming_it_and_counted(
    bot: Running, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    app = bot.app
    fake_claude.script.extend(["invented_name"])
    digest = await app.digests.build(W38, top_n=1)
    [item] = digest.items
    assert item.status is Status.TRANSLATED and item.translation is not None
    assert "GPT-7" not in item.translation.summary_ko
    assert fake_claude.calls == 2
    reask = user_turns(fake_claude.requests[1])[-1]
    assert 'summary_ko mentions "GPT-7", which the paper\'s title and abstract do not contain' in reask
    [status] = await ask(fake_tg, ADMIN, "/status")
    assert "번역 검증(이번 주): 거절 1 (원문에 없는 이름 1)" in shown(status)


@pytest.mark.parametrize("behaviour", ["chinese", "changed_number", "drift", "invented_name"])
async def test_an_answer_unfaithful_twice_stays_pending_and_is_never_shown(
    bot: Running, fake_tg: FakeTelegram, fake_claude: FakeClaude, behaviour: str
) -> None:
    app = bot.app
    fake_claude.script.extend([behaviour, behaviour])
    digest = await app.digests.build(W38, top_n=1)
    assert [i.status for i in digest.items] == [Status.PENDING]
    sent = await ask(fake_tg, ALICE, "/paper 2509.13310")
    text = "\n".join(shown(s) for s in sent)
    assert "번역 준비 중" in text and "模型" not in text and "GPT-7" not in text and "97.3" not in text


async def test_a_glossary_miss_is_asked_again_then_accepted_and_listed(
    bot: Running, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    app = bot.app
    fake_claude.script.extend(["no_glossary", "no_glossary"])
    digest = await app.digests.build(W38, top_n=1)
    assert digest.items[0].status is Status.TRANSLATED  # style, not fact: accepted after one re-ask
    reask = user_turns(fake_claude.requests[1])[-1]
    assert (
        "the glossary was not followed" in reask
        and '"large language model" must be translated as 대규모 언어 모델' in reask
    )
    [status] = await ask(fake_tg, ADMIN, "/status")
    assert "용어집 누락(받아들임) " in shown(status) and f"{TOP}: large language model" in shown(status)


async def test_a_paper_without_an_abstract_is_not_sent_to_claude(
    bot: Running, fake_tg: FakeTelegram, fake_claude: FakeClaude, fake_hf: FakeHF
) -> None:
    app = bot.app
    items = week_items("2025-W37")
    items[0]["paper"].update(summary="Abstract.", upvotes=10_000)
    fake_hf.weeks["2025-W37"] = items
    digest = await app.digests.build(IsoWeek(2025, 37))
    assert digest.items[0].status is Status.NO_ABSTRACT and fake_claude.calls == 9
    [first] = json.loads(render_json(digest))["papers"][:1]
    assert (first["status"], first["title_ko"], first["abstract_ko"]) == ("no_abstract", None, None)
    assert "(초록이 없어 번역·요약하지 않았습니다.)" in render_text(digest)
    sent = await ask(fake_tg, ALICE, "/week 2025-W37")
    assert "초록이 없어 번역·요약하지 않았습니다" in "".join(shown(s) for s in sent)
    fake_hf.papers["2601.00009"] = item_2026("2601.00009", "Nothing to read", "N/A", 3)
    [answer] = await ask(fake_tg, ALICE, "/paper 2601.00009")
    assert "초록이 없어" in shown(answer) and fake_claude.calls == 9 and not answer.buttons


# --- readers' reports ----------------------------------------------------------------------------------


async def report(fake: FakeTelegram, user: int, reason: str, paper: str = TOP) -> list[Sent]:
    """/paper, then 🚩, then a reason: what the bot sent meanwhile."""
    sent = await ask(fake, user, f"/paper {paper}")
    flag = sent[-1]
    assert flag.button_data == [f"bf:{paper}", f"rp:{paper}"]  # 🔎 (the deep brief) next to 🚩
    question = [s for s in await press(fake, user, flag, f"rp:{paper}") if s.chat_id == user]
    assert "무엇이 잘못되었나요" in shown(question[-1])
    assert question[-1].button_data == [f"rr:{r}:{paper}" for r in ("mis", "term", "fact", "other")]
    return await press(fake, user, question[-1], f"rr:{reason}:{paper}")


async def test_a_reader_reports_a_translation_with_buttons_and_a_comment(bot: Running, fake_tg: FakeTelegram) -> None:
    app = bot.app
    await app.digests.build(W38)
    after = await report(fake_tg, ALICE, "mis")
    assert any("신고가 접수되었습니다" in (a.get("text") or "") for a in fake_tg.callback_answers)
    prompt = next(s for s in after if s.chat_id == ALICE and "덧붙일 말" in s.text)
    assert prompt.params["reply_markup"]["force_reply"] is True
    assert any("번역 신고: 2509.13310 (오역)" in t for t in to_admin(fake_tg))

    before = len(fake_tg.sent)
    update = fake_tg.message(ALICE, ALICE, "두 번째 문장의 주어가 틀렸어요", reply_to=prompt)
    await fake_tg.handled_update(update)
    assert [shown(s) for s in fake_tg.sent[before:]] == ["✅ 덧붙인 말을 신고에 넣었습니다. 고맙습니다."]

    again = (await ask(fake_tg, ALICE, f"/paper {TOP}"))[-1]
    await press(fake_tg, ALICE, again, f"rp:{TOP}")
    assert fake_tg.callback_answers[-1]["text"].startswith("이미 신고하셨어요")

    await report(fake_tg, BOB, "term")  # a second reader: admins were told of this paper already
    assert sum("번역 신고: 2509.13310" in t for t in to_admin(fake_tg)) == 1

    [listing] = await ask(fake_tg, ADMIN, "/reports")
    text = shown(listing)
    assert "열린 신고 2건" in text and "2509.13310 — 2건" in text and "‘두 번째 문장의 주어가 틀렸어요’" in text
    assert listing.button_data == [f"https://t.me/{BOT_USERNAME}?start=p_2509_13310"]
    assert [shown(s) for s in await ask(fake_tg, ALICE, "/reports")] == [
        "알 수 없는 명령어입니다. /help 를 보내 보세요."
    ]

    [done] = [s for s in await ask(fake_tg, ADMIN, f"/reports done {TOP}") if s.chat_id == ADMIN]
    assert "열린 신고 2건을 닫고 신고자 2명에게 알렸습니다" in shown(done)
    assert any("검토했습니다" in t for t in fake_tg.texts(BOB))
    [empty] = await ask(fake_tg, ADMIN, "/reports")
    assert shown(empty) == "열린 신고가 없습니다."


async def test_reports_have_a_daily_limit_and_untranslated_papers_cannot_be_reported(
    bot: Running, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    app = bot.app
    digest = await app.digests.build(W38)
    papers = [item.paper.id for item in digest.items]
    for paper in papers[:3]:
        await report(fake_tg, ALICE, "other", paper)
    flag = (await ask(fake_tg, ALICE, f"/paper {papers[3]}"))[-1]
    question = [s for s in await press(fake_tg, ALICE, flag, f"rp:{papers[3]}") if s.chat_id == ALICE][-1]
    await press(fake_tg, ALICE, question, f"rr:fact:{papers[3]}")
    assert fake_tg.callback_answers[-1]["text"] == "신고는 하루 3건까지 할 수 있어요. 내일 다시 신고해 주세요."
    assert len(await app.store.open_reports()) == 3

    fake_claude.default = "overloaded"  # a pending paper carries no 🚩
    sent = await ask(fake_tg, BOB, "/paper 2509.99998")
    assert all(not any(b.startswith("rp:") for b in s.button_data) for s in sent)


async def test_a_report_from_a_group_continues_in_the_private_chat(bot: Running, fake_tg: FakeTelegram) -> None:
    app = bot.app
    await app.digests.build(W38)
    flag = (await ask(fake_tg, ALICE, f"/paper {TOP}", chat=GROUP))[-1]
    assert flag.chat_id == GROUP and flag.button_data == [f"bf:{TOP}", f"rp:{TOP}"]
    assert await press(fake_tg, ALICE, flag, f"rp:{TOP}") == []  # nothing posted in the group
    assert fake_tg.callback_answers[-1]["url"] == f"https://t.me/{BOT_USERNAME}?start=r_2509_13310"
    [question] = await ask(fake_tg, ALICE, "/start r_2509_13310")
    assert question.chat_id == ALICE and "무엇이 잘못되었나요" in shown(question)


# --- corrections that reach every message ------------------------------------------------------------------


async def subscribe(app: App, chat: int, kind: ChatKind, settings: ChatSettings) -> None:
    when = datetime(2025, 9, 1, tzinfo=UTC)
    await app.store.save_subscription(Subscription(chat, kind, f"chat {chat}", True, when, when))
    await app.subscriptions.change_settings(chat, settings)


async def test_a_correction_is_edited_into_every_message_that_shows_the_paper(
    bot: Running, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    app, deps = bot.app, bot.deps
    await subscribe(app, ALICE, ChatKind.PRIVATE, ChatSettings())
    await subscribe(app, BOB, ChatKind.PRIVATE, ChatSettings(form=Form.FULL))
    await subscribe(app, GROUP, ChatKind.GROUP, ChatSettings(form=Form.BRIEF, count=5))
    await ask(fake_tg, ADMIN, "/publish 2025-W38")
    week_reply = await ask(fake_tg, BOB, "/week 2025-W38")
    answer = await ask(fake_tg, ALICE, f"/paper {TOP}")
    unrelated = await ask(fake_tg, ALICE, f"/paper {OTHER}")
    await report(fake_tg, BOB, "term")
    before = {key: m.text for key, m in fake_tg.messages.items()}

    sent = await ask(fake_tg, ADMIN, f'/retranslate {TOP} "alignment"은 정렬로, 첫 문장의 주어를 모델로')
    assert deps.editor is not None
    await deps.editor.idle()
    done = shown([s for s in sent if s.chat_id == ADMIN][-1])
    assert "고쳤습니다: 교정된 한국어 제목(첫째): Scaling Agents via Continual Pre-training" in done
    assert "첫 문장의 주어를 모델로" in user_turns(fake_claude.requests[-1])[0]  # the instruction reached Claude

    changed = {key for key, text in before.items() if fake_tg.messages[key].text != text}  # edited in place
    showing = {key for key in changed if "교정된 한국어 제목(첫째): Scaling Agents" in now_text(fake_tg, *key)}
    broadcast = {chat: fake_tg.to(chat)[0].message_id for chat in (ALICE, BOB, GROUP)}  # each digest's first part
    assert {(chat, first) for chat, first in broadcast.items()} <= showing  # every view: summary, full, brief
    assert (BOB, week_reply[0].message_id) in showing  # the /week answer, its first part
    assert (ALICE, answer[0].message_id) in showing  # the paper answer (its first part: the titles)
    assert (ALICE, unrelated[0].message_id) not in changed  # a paper that did not change
    assert len(fake_tg.to(BOB)) > 3 and changed == showing  # nothing else was touched (BOB's other parts)
    for key in showing:
        assert "✏️ 번역 수정됨" in now_text(fake_tg, *key)
    assert "· 2025-09-24 수정" in "".join(now_text(fake_tg, ALICE, s.message_id) for s in answer)
    assert fake_tg.messages[(ALICE, answer[-1].message_id)].params["reply_markup"]["inline_keyboard"]  # 🚩 kept
    assert any("번역을 고쳤습니다" in t for t in fake_tg.texts(BOB))  # the reporter is told
    assert await app.store.open_reports() == []

    edits = len([s for s in fake_tg.sent if s.method == "editMessageText"])
    assert (await deps.editor.run()).edited == 0  # nothing left to edit: no message is edited twice
    assert len([s for s in fake_tg.sent if s.method == "editMessageText"]) == edits

    calls = fake_claude.calls
    assert (await app.digests.build(W38)).items[0].translation.title_ko.startswith("교정된")  # type: ignore[union-attr]
    assert fake_claude.calls == calls  # the corrected translation is what the cache holds now
    await ask(fake_tg, ADMIN, f"/retranslate {TOP}")  # a later retranslation keeps the instruction
    assert "첫 문장의 주어를 모델로" in user_turns(fake_claude.requests[-1])[0]


async def test_a_failed_correction_keeps_the_translation_there_was(
    bot: Running, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    app = bot.app
    await app.digests.build(W38)
    answer = await ask(fake_tg, ALICE, f"/paper {TOP}")
    fake_claude.default = "overloaded"
    sent = [s for s in await ask(fake_tg, ADMIN, f"/retranslate {TOP} 더 쉽게") if s.chat_id == ADMIN]
    assert "다시 번역하지 못했습니다" in shown(sent[-1]) and "이전 번역을 그대로 둡니다" in shown(sent[-1])
    assert fake_tg.messages[(ALICE, answer[0].message_id)].method == "sendMessage"  # not edited
    assert await app.store.instructions([TOP]) == {}
    [bad] = await ask(fake_tg, ADMIN, "/retranslate not-an-id")
    assert "논문 id나 링크가 아닙니다" in shown(bad)


async def test_the_full_translation_names_its_maker_and_date(bot: Running, fake_tg: FakeTelegram) -> None:
    app = bot.app
    await app.digests.build(W38)
    answer = "".join(shown(s) for s in await ask(fake_tg, ALICE, f"/paper {TOP}"))
    assert "✍️ Claude Sonnet 5.5 · 2025-09-24 번역" in answer and "수정" not in answer


# --- the glossary in chat ----------------------------------------------------------------------------------


async def test_admins_edit_the_glossary_in_chat(bot: Running, fake_tg: FakeTelegram, fake_claude: FakeClaude) -> None:
    app = bot.app
    [listing] = await ask(fake_tg, ADMIN, "/glossary")
    assert "reinforcement learning → 강화학습(reinforcement learning, RL)" in shown(listing)
    [added] = await ask(fake_tg, ADMIN, "/glossary add tool use = 도구 사용")
    assert "도구 사용(tool use)" in shown(added)
    [removed] = await ask(fake_tg, ADMIN, "/glossary remove token")
    assert "뺐습니다" in shown(removed)
    [listing] = await ask(fake_tg, ADMIN, "/glossary")
    assert "✎ tool use → 도구 사용(tool use)" in shown(listing) and "token →" not in shown(listing)
    [bad] = await ask(fake_tg, ADMIN, "/glossary add tool use = tool use")
    assert "한글로" in shown(bad)
    [unknown] = await ask(fake_tg, ADMIN, "/glossary remove quantum")
    assert "없습니다" in shown(unknown)
    assert [shown(s) for s in await ask(fake_tg, ALICE, "/glossary")] == [
        "알 수 없는 명령어입니다. /help 를 보내 보세요."
    ]

    await app.digests.build(W38, top_n=1)
    system = fake_claude.requests[-1]["system"][-1]["text"]
    assert "tool use → 도구 사용" in system and "- token →" not in system
    digest = await app.digests.build(W38, top_n=1)
    assert digest.items[0].translation is not None and "도구 사용(tool use)" in digest.items[0].translation.abstract_ko


async def test_a_message_a_button_turned_into_another_week_is_not_edited_back(
    bot: Running, fake_tg: FakeTelegram
) -> None:
    app, deps = bot.app, bot.deps
    await app.subscriptions.change_settings(ALICE, ChatSettings(form=Form.FULL))  # a digest of several messages
    sent = await ask(fake_tg, ALICE, "/week 2025-W38")
    assert len({s.message_id for s in sent}) > 1
    last = fake_tg.messages[(ALICE, sent[-1].message_id)]
    assert "w:2025-W37" in last.button_data
    await press(fake_tg, ALICE, last, "w:2025-W37")  # the message now shows 2025-W37
    reused = fake_tg.messages[(ALICE, last.message_id)]
    assert "2025-W37" in shown(reused)
    await ask(fake_tg, ADMIN, f"/retranslate {TOP} 더 쉽게")
    assert deps.editor is not None
    await deps.editor.idle()
    assert fake_tg.messages[(ALICE, last.message_id)].text == reused.text  # not turned back into 2025-W38
    first = fake_tg.messages[(ALICE, sent[0].message_id)]
    assert "교정된 한국어 제목(첫째)" in shown(first) and first.method == "editMessageText"


async def test_a_message_turned_into_another_week_during_a_pass_is_left_alone(
    bot: Running, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    app = bot.app
    await app.digests.build(W38)
    alice = (await ask(fake_tg, ALICE, "/week 2025-W38"))[-1]
    bob = (await ask(fake_tg, BOB, "/week 2025-W38"))[-1]  # the same view: both under one ref
    assert app.translator is not None
    found = await app.store.get_paper(TOP)
    assert found is not None and (await app.translator.correct(found[0], W38, ["더 쉽게"])).translation
    editor = Editor(  # one message at a time
        bot.telegram, app.digests, app.translator, SendLimiter(app.store, rate=0, group_per_minute=0),
        edits=app.store, delivery=app.store, tz=app.settings.tz, clock=lambda: NOW, concurrency=1,
    )  # fmt: skip
    fake_tg.hold_edits_in = {ALICE}  # ALICE's message first (the members go in order): held at "Telegram"
    passing = asyncio.create_task(editor.run())
    await fake_tg.wait_for(lambda: fake_tg.in_flight >= 1)
    await press(fake_tg, BOB, fake_tg.messages[(BOB, bob.message_id)], "w:2025-W37")  # meanwhile BOB goes back
    fake_tg.edits_go.set()
    await passing
    assert "2025-W37" in shown(fake_tg.messages[(BOB, bob.message_id)])  # not edited back into 2025-W38
    assert "교정된 한국어 제목(첫째)" in shown(fake_tg.messages[(ALICE, alice.message_id)])
    assert not await app.store.shows_message(
        next(iter(await app.store.refs_showing(TOP) - {""})), f"{BOB}:{bob.message_id}"
    )


async def test_a_sound_answer_is_kept_when_the_glossary_re_ask_goes_wrong(
    bot: Running, fake_claude: FakeClaude
) -> None:
    app = bot.app
    fake_claude.script.extend(["no_glossary", "invented_name"])
    digest = await app.digests.build(W38, top_n=1)
    [item] = digest.items
    assert item.status is Status.TRANSLATED and item.translation is not None  # the first answer
    assert "GPT-7" not in item.translation.summary_ko and fake_claude.calls == 2


async def test_a_long_list_of_reports_fits_one_message(bot: Running, fake_tg: FakeTelegram) -> None:
    app = bot.app
    digest = await app.digests.build(W38)
    for user in range(20):
        for item in digest.items:
            report = ReaderReport(
                item.paper.id, 5000 + user, 5000 + user, ReportReason.OTHER, NOW, comment="가<b>" * 100
            )
            assert await app.store.add_report(report, daily_limit=100, day=NOW.date()) == "added"
    [listing] = await ask(fake_tg, ADMIN, "/reports")
    assert "열린 신고 200건" in shown(listing) and len(shown(listing)) < 4096 and "&lt;b&gt;" in listing.text


async def test_a_running_week_is_not_indexed(bot: Running, fake_tg: FakeTelegram, fake_hf: FakeHF) -> None:
    app = bot.app
    fake_hf.weeks["2025-W39"] = week_items("2025-W39")
    sent = await ask(fake_tg, ALICE, "/week 이번주")
    assert "2025-W39" in shown(sent[-1])
    assert await app.store.reply_layouts(IsoWeek(2025, 39)) == {}  # its ranking still moves
