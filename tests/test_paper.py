"""/paper, pasted links, /search and inline mode through the real Application and the fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.ext import TypeHandler

from bot.app import App, open_app, running_bot
from bot.config import Settings
from bot.week import IsoWeek
from tests.conftest import ADMIN, ALICE, BOB, GROUP
from tests.fakes.anthropic import FakeClaude
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.hf import FakeHF, item_2026
from tests.fakes.telegram import BOT_USERNAME, TOKEN, FakeTelegram, Sent
from tests.fakes.telegram_html import parse_telegram_html
from tests.test_bot import HANDLED_GROUP, ask

W38 = IsoWeek(2025, 38)
LONG_ABSTRACT = " ".join(
    f"Sentence {i} describes the method in detail and improves the score by {i}%." for i in range(100)
)
SHORT = "We explain the method step by step, and show on every benchmark we tried that it works as claimed"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 9, 24, 3, 0, tzinfo=UTC)  # Wednesday noon in Seoul

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def running(settings: Settings, fake_tg: FakeTelegram, clock: Clock, **overrides: object) -> AsyncIterator[App]:
    configured = settings.model_copy(
        update={"telegram_bot_token": SecretStr(TOKEN), "telegram_api_base_url": f"{fake_tg.url}/bot",
                "admins": [ADMIN], **overrides}
    )  # fmt: skip
    async with open_app(configured, clock=clock) as app, running_bot(app, poll_timeout=1, schedule=False) as bot:

        async def handled(update: Update, context: object) -> None:
            fake_tg.mark_handled(update.update_id)

        bot.application.add_handler(TypeHandler(Update, handled), group=HANDLED_GROUP)
        yield app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_arxiv: FakeArxiv, clock: Clock
) -> AsyncIterator[App]:
    fake_hf.papers["2601.00001"] = item_2026(
        "2601.00001", "Only on Hugging Face", f"We show that X beats Y by 5%. {SHORT}.", 77
    )
    fake_hf.papers["2601.00002"] = item_2026("2601.00002", "A long one", LONG_ABSTRACT, 3)
    fake_arxiv.add("2509.99999", "Only on arXiv", f"We prove a bound of 3 for the problem. {SHORT}.")
    fake_arxiv.add("2401.00002", "Gone", "This paper has been withdrawn by the author.", comment="withdrawn")
    async with running(settings, fake_tg, clock, paper_daily_limit=3) as app:
        yield app


def text(sent: list[Sent]) -> str:
    return "\n".join(parse_telegram_html(s.text) for s in sent)


async def test_a_paper_of_a_digest_costs_nothing(bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude) -> None:
    await bot.digests.build(W38)
    calls = fake_claude.calls
    sent = await ask(fake_tg, ALICE, "/paper https://arxiv.org/abs/2509.13310v2")
    answer = text(sent)
    assert "한국어 제목: Scaling Agents via Continual Pre-training" in answer and "초록 번역" in answer
    assert "2025-W38" in answer and "▲ " in answer and "생성 중" not in answer
    assert fake_claude.calls == calls  # cached for the digest: no Claude


async def test_a_papers_code_repository_with_its_stars_and_project_page_are_shown(
    bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    fake_hf.papers["2601.00009"] = item_2026(
        "2601.00009", "A paper with code", f"It improves by 7%. {SHORT}.", 4, with_links=True
    )  # Hugging Face's real 2026 item: githubRepo, githubStars 9, projectPage
    sent = await ask(fake_tg, ALICE, "/paper 2601.00009")
    answer = sent[-1].text
    assert '<a href="https://github.com/marco-garosi/CIRCLE">코드 ★9</a>' in answer
    assert '<a href="https://circle-lmm.github.io/">프로젝트</a>' in answer


async def test_a_paper_only_on_hugging_face_is_translated_with_a_placeholder(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    sent = await ask(fake_tg, ALICE, "/paper huggingface.co/papers/2601.00001")
    assert "생성 중" in parse_telegram_html(sent[0].text)
    assert sent[1].method == "editMessageText" and sent[1].message_id == sent[0].message_id
    answer = parse_telegram_html(sent[1].text)
    assert "한국어 제목: Only on Hugging Face" in answer and "▲ 77" in answer and "남음" in answer
    assert fake_claude.calls == 1
    again = await ask(fake_tg, BOB, "/paper 2601.00001")  # someone else: cached, free
    assert len(again) == 1 and "한국어 제목: Only on Hugging Face" in text(again) and fake_claude.calls == 1


async def test_arxiv_is_asked_when_hugging_face_does_not_have_it(
    bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_arxiv: FakeArxiv
) -> None:
    sent = await ask(fake_tg, ALICE, "/paper arxiv.org/pdf/2509.99999")
    assert "한국어 제목: Only on arXiv" in text(sent)
    assert any("/api/papers/2509.99999" in r for r in fake_hf.requests) and fake_arxiv.requests


@pytest.mark.parametrize(
    ("message", "answer"),
    [
        ("/paper 2509.00000", "어디에도 2509.00000 논문이 없습니다"),
        ("/paper 2401.00002", "철회한 논문"),
        ("/paper 12345", "arXiv 논문 id나 링크가 아닙니다"),
        ("/paper <b>x</b>", "‘&lt;b&gt;x&lt;/b&gt;’"),
        ("/paper", "arXiv id나 링크를 알려 주세요"),
    ],
)
async def test_bad_or_unknown_papers_get_a_short_answer_with_an_example(
    bot: App, fake_tg: FakeTelegram, message: str, answer: str
) -> None:
    [reply] = await ask(fake_tg, ALICE, message)
    assert answer in reply.text
    assert "/paper 2509.13310" in parse_telegram_html(reply.text) or "철회" in answer or "없습니다" in answer


async def test_a_long_abstract_is_split_over_messages(bot: App, fake_tg: FakeTelegram) -> None:
    sent = await ask(fake_tg, ALICE, "/paper 2601.00002")
    parts = [s for s in sent if s.method == "sendMessage"]
    assert len(parts) >= 2
    assert "(수치: 99 99%)" in text(sent[1:])  # the whole abstract, to its last sentence


async def test_links_are_picked_up_in_private_chats_only(bot: App, fake_tg: FakeTelegram) -> None:
    sent = await ask(fake_tg, ALICE, "이 논문 어때요? https://huggingface.co/papers/2601.00001")
    assert "한국어 제목: Only on Hugging Face" in text(sent)
    assert await ask(fake_tg, ALICE, "https://arxiv.org/abs/2601.00001", chat=GROUP) == []
    in_group = await ask(fake_tg, ALICE, "/paper 2601.00001", chat=GROUP)
    assert "한국어 제목: Only on Hugging Face" in text(in_group)


async def test_a_person_has_a_daily_allowance_of_new_translations(
    bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_claude: FakeClaude, clock: Clock
) -> None:
    for i in range(3, 8):
        fake_hf.papers[f"2601.0000{i}"] = item_2026(f"2601.0000{i}", f"Paper {i}", f"It improves by {i}%. {SHORT}.", i)
    for i in range(3, 6):
        await ask(fake_tg, ALICE, f"/paper 2601.0000{i}")
    refused = await ask(fake_tg, ALICE, "/paper 2601.00006")
    assert "하루 3편까지" in text(refused) and fake_claude.calls == 3
    cached = await ask(fake_tg, ALICE, "/paper 2601.00003")  # translated already: always free
    assert "한국어 제목: Paper 3" in text(cached)
    other = await ask(fake_tg, BOB, "/paper 2601.00006")  # someone else has their own allowance
    assert "한국어 제목: Paper 6" in text(other)
    clock.now += timedelta(days=1)
    tomorrow = await ask(fake_tg, ALICE, "/paper 2601.00007")
    assert "한국어 제목: Paper 7" in text(tomorrow) and "2편 남음" in text(tomorrow)


async def test_a_failed_translation_costs_the_person_nothing(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    fake_claude.default = "overloaded"
    sent = await ask(fake_tg, ALICE, "/paper 2601.00001")
    assert "번역 준비 중" in text(sent) and "다시" in text(sent)
    assert (
        await bot.store.take_paper_allowance(ALICE, bot.clock().astimezone(bot.settings.tz).date(), limit=3) == 2
    )  # none used


async def test_the_daily_token_budget_stops_new_translations_not_the_digest(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_claude: FakeClaude, clock: Clock
) -> None:
    fake_hf.papers["2601.00001"] = item_2026("2601.00001", "Only on Hugging Face", f"We show X by 5%. {SHORT}.", 7)
    fake_hf.papers["2601.00003"] = item_2026("2601.00003", "Another", f"We show Z by 9%. {SHORT}.", 7)
    async with running(settings, fake_tg, clock, on_demand_daily_tokens=1) as app:
        await ask(fake_tg, ALICE, "/paper 2601.00001")  # the first one spends the tiny budget
        refused = await ask(fake_tg, BOB, "/paper 2601.00003")
        assert "내일 다시" in text(refused)
        await ask(fake_tg, ALICE, "/paper 2601.00003")
        told = [s for s in fake_tg.to(ADMIN) if "토큰 예산" in s.text]
        assert len(told) == 1  # admins are told once
        digest = await app.digests.build(W38)  # the weekly digest has its own budget
        assert not digest.pending
        [status] = await ask(fake_tg, ADMIN, "/status")
        assert "주문형 번역" in status.text and "호출 1" in parse_telegram_html(status.text).split("주문형")[1]


async def test_search_ranks_titles_first_then_upvotes_and_escapes(
    bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    await bot.digests.build(W38)
    [reply] = await ask(fake_tg, ALICE, "/search agents")
    answer = parse_telegram_html(reply.text)
    lines = [line for line in answer.splitlines() if line[:1].isdigit() and ". " in line]
    assert lines and all("Agent" in line or "agent" in line.lower() for line in lines[:3])
    assert "한국어 제목:" in answer and "2025-W38" in answer
    assert reply.button_data[0].startswith(f"https://t.me/{BOT_USERNAME}?start=p_")
    [none] = await ask(fake_tg, ALICE, "/search <script>zzqx</script>")
    assert "&lt;script&gt;" in none.text and "찾지 못했습니다" in none.text
    [empty] = await ask(fake_tg, ALICE, "/search")
    assert "찾을 낱말" in empty.text
    [long] = await ask(fake_tg, ALICE, "/search " + "x" * 101)
    assert "100자까지" in long.text


async def test_search_fills_from_hugging_face_when_the_archive_has_few(
    bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    fake_hf.search_results["quantum"] = [item_2026("2601.01000", "Quantum things", "Abstract.", 5)]
    [reply] = await ask(fake_tg, ALICE, "/search quantum")
    answer = parse_telegram_html(reply.text)
    assert "Hugging Face 검색 결과" in answer and "Quantum things" in answer


async def test_inline_week_paper_and_search_never_ask_claude(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    await bot.digests.build(W38)
    calls = fake_claude.calls
    await fake_tg.handled_update(fake_tg.inline(ALICE, "2025-W38"))
    week = fake_tg.inline_answers[-1]
    assert len(week["results"]) == 11 and int(week["cache_time"]) >= 60
    assert "Top 10" in parse_telegram_html(week["results"][0]["input_message_content"]["message_text"])
    await fake_tg.handled_update(fake_tg.inline(ALICE, "2509.13310"))
    [paper] = fake_tg.inline_answers[-1]["results"]
    assert "한국어 제목" in paper["input_message_content"]["message_text"]
    assert paper["reply_markup"]["inline_keyboard"][0][0]["url"].endswith("start=p_2509_13310")
    await fake_tg.handled_update(fake_tg.inline(ALICE, "2601.00001"))  # never looked up: a link into the bot
    [unknown] = fake_tg.inline_answers[-1]["results"]
    assert unknown["reply_markup"]["inline_keyboard"][0][0]["url"].endswith("start=p_2601_00001")
    await fake_tg.handled_update(fake_tg.inline(ALICE, "agents"))
    assert fake_tg.inline_answers[-1]["results"]
    await fake_tg.handled_update(fake_tg.inline(ALICE, "2025-W37"))  # not built: no build, no Claude
    assert "아직 만들어지지" in fake_tg.inline_answers[-1]["results"][0]["title"]
    assert fake_claude.calls == calls


async def test_two_people_asking_for_the_same_new_paper_make_one_claude_call(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    fake_claude.gate.clear()  # Claude "thinks" until both have asked
    first = fake_tg.message(ALICE, ALICE, "/paper 2601.00001")
    await fake_tg.wait_for(lambda: any("생성 중" in s.text for s in fake_tg.to(ALICE)))
    second = fake_tg.message(BOB, BOB, "/paper 2601.00001")
    await fake_tg.wait_for(lambda: any("생성 중" in s.text for s in fake_tg.to(BOB)))
    fake_claude.gate.set()
    await fake_tg.handled_update(first)
    await fake_tg.handled_update(second)
    assert fake_claude.calls == 1
    for user in (ALICE, BOB):
        assert "한국어 제목: Only on Hugging Face" in parse_telegram_html(
            fake_tg.messages[(user, fake_tg.to(user)[0].message_id)].text
        )
    today = bot.clock().astimezone(bot.settings.tz).date()
    assert await bot.store.take_paper_allowance(BOB, today, limit=3) == 2  # Bob waited for Alice's: free
