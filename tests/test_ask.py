"""Questions answered from a paper (/ask and replies) through the real Application and the fakes: the
answer from the section the question is about, follow-ups, the prompt cache, the gate, the limits."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import App
from bot.ask import Answered
from bot.ask_prompt import ABSTRACT_ONLY, NOT_IN_PAPER, AskAnswer
from bot.config import Settings
from bot.handlers.ask import answer_html, section_label
from bot.models import Paper
from tests.conftest import ALICE, BOB, GROUP
from tests.fakes.anthropic import FakeClaude
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.hf import FakeHF, item_2026
from tests.fakes.papers_text import latexml_paper
from tests.fakes.prompt_cache import PromptCache
from tests.fakes.telegram import FakeTelegram, Sent
from tests.test_bot import ask
from tests.test_paper import Clock, running

PAPER, SHORT_PAPER = "2601.00010", "2601.00011"
TITLE = "Foo: Reasoning at Scale"
ABSTRACT = (
    "We present Foo-7B, a reasoning model trained on curated data. It improves accuracy by 4% over "
    "strong baselines on every benchmark we tried, and we release the weights and the code for everyone."
)
FILLER = " ".join(f"filler{i}" for i in range(120))
BODY = [
    ("Introduction", [f"Reasoning models matter. Foo-7B is our answer to this. {FILLER}"]),
    ("Method", [f"We train Foo-7B on 128 GPUs using the Lumen corpus of curated proofs. {FILLER}"]),
    ("Experiments", [f"On MMLU, the model reaches 81.2% accuracy, beating every baseline. {FILLER}"]),
    ("Limitations", [f"Training takes 3 days, which limits how often we can retrain the model. {FILLER}"]),
]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_arxiv: FakeArxiv, clock: Clock
) -> AsyncIterator[App]:
    fake_hf.papers[PAPER] = item_2026(PAPER, TITLE, ABSTRACT, 12)
    fake_arxiv.html[PAPER] = latexml_paper(TITLE, ABSTRACT, BODY)
    fake_hf.papers[SHORT_PAPER] = item_2026(SHORT_PAPER, "Only an abstract", ABSTRACT, 3)
    async with running(settings, fake_tg, clock, ask_daily_limit=6) as app:
        yield app


def question_requests(fake: FakeClaude) -> list[dict[str, Any]]:
    return [r for r in fake.requests if "answer" in r["output_config"]["format"]["schema"]["properties"]]


def answer_of(sent: list[Sent]) -> Sent:
    """The placeholder's last edit (the answer)."""
    assert "답을 찾는 중" in sent[0].text, [s.text for s in sent]
    assert sent[-1].method == "editMessageText" and sent[-1].message_id == sent[0].message_id
    return sent[-1]


async def test_ask_answers_from_the_section_the_question_is_about_and_cites_it(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    answer = answer_of(await ask(fake_tg, ALICE, f"/ask {PAPER} MMLU accuracy는 얼마인가요?"))
    assert (
        "81.2%" in answer.text and "MMLU" in answer.text and "<i>(3 실험)</i>" in answer.text
    )  # cited as `3 Experiments`
    assert "오늘 남은 질문: 5개" in answer.text and TITLE in answer.text
    [request] = question_requests(fake_claude)
    instructions, paper = request["system"]
    assert "cache_control" not in instructions and paper["cache_control"] == {"type": "ephemeral"}
    assert "### 3 Experiments" in paper["text"] and "81.2%" in paper["text"]
    assert request["messages"] == [{"role": "user", "content": "질문: MMLU accuracy는 얼마인가요?"}]
    assert request["max_tokens"] == 1024
    spent = await bot.store.on_demand_usage(day=clock_day(bot))
    assert spent.calls == 1 and spent.output_tokens > 0  # in the on-demand budget, with /paper's


def clock_day(app: App) -> Any:
    return app.clock().astimezone(app.settings.tz).date()


async def test_a_question_the_paper_does_not_answer(bot: App, fake_tg: FakeTelegram) -> None:
    answer = answer_of(await ask(fake_tg, ALICE, f"/ask https://arxiv.org/abs/{PAPER}v2 내일 날씨는?"))
    assert NOT_IN_PAPER in answer.text and "<i>(" not in answer.text


async def test_a_reply_to_a_papers_message_in_private_is_a_question_and_follow_ups_keep_three(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude, clock: Clock
) -> None:
    shown = await ask(fake_tg, ALICE, f"/paper {PAPER}")  # translated on demand: the paper's message
    message = shown[-1]
    answer = answer_of(await ask(fake_tg, ALICE, "Lumen corpus는 무엇인가요?", reply_to=message))
    assert "<i>(2 방법)</i>" in answer.text and "128" in answer.text
    questions = ["GPUs는 몇 개?", "MMLU 결과는?", "Training days는?", "Lumen 데이터는?"]
    for question in questions:  # each a reply to the previous answer
        answer = answer_of(await ask(fake_tg, ALICE, question, reply_to=answer))
    fifth = question_requests(fake_claude)[-1]["messages"]
    asked = [m["content"] for m in fifth if m["role"] == "user"]
    assert asked == [f"질문: {q}" for q in questions]  # the last three and the new one: the first dropped
    sections = [json.loads(m["content"])["section"] for m in fifth if m["role"] == "assistant"]
    assert sections == ["2 Method", "3 Experiments", "4 Limitations"]  # the answers go back as given
    clock.now += timedelta(minutes=61)  # an hour later the history is gone
    await ask(fake_tg, ALICE, "MMLU 결과는?", reply_to=answer)
    assert len(question_requests(fake_claude)[-1]["messages"]) == 1
    ttl = await bot.store._redis.ttl(f"{bot.settings.redis_prefix}:qa:{ALICE}:{PAPER}")
    assert 0 < ttl <= 3600


async def test_follow_ups_read_the_paper_from_the_prompt_cache(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    first = answer_of(await ask(fake_tg, ALICE, f"/ask {PAPER} MMLU accuracy는?"))
    await ask(fake_tg, ALICE, "Lumen corpus는?", reply_to=first)
    await ask(fake_tg, BOB, f"/ask {PAPER} GPUs는?")  # someone else: the same paper, the same cached block
    one, two, three = fake_claude.cache.prefixes[-3:]
    assert one is not None and one == two == three
    spent = await bot.store.on_demand_usage(day=clock_day(bot))
    assert (
        spent.cache_creation_input_tokens > 1024
        and spent.cache_read_input_tokens == 2 * spent.cache_creation_input_tokens
    )


async def test_questions_in_a_group_and_replies_to_the_bots_paper_messages_only(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    answer = answer_of(await ask(fake_tg, BOB, f"/ask {PAPER} MMLU accuracy는?", GROUP))
    assert "81.2%" in answer.text
    follow = answer_of(await ask(fake_tg, ALICE, "Lumen corpus는?", GROUP, reply_to=answer))
    assert "<i>(2 방법)</i>" in follow.text
    calls = fake_claude.calls
    [help_answer] = await ask(fake_tg, ALICE, "/help", GROUP)
    assert await ask(fake_tg, BOB, "MMLU는?", GROUP, reply_to=help_answer) == []  # not a paper's message
    update = fake_tg.message(BOB, GROUP, "MMLU는?")  # a reply to someone else's message
    fake_tg.updates[-1]["message"]["reply_to_message"] = {
        "message_id": 1, "date": int(time.time()), "chat": fake_tg.chats[GROUP], "from": fake_tg.user(ALICE),
        "text": f"/ask {PAPER} 질문",
    }  # fmt: skip
    before = len(fake_tg.sent)
    await fake_tg.handled_update(update)
    assert fake_tg.sent[before:] == [] and fake_claude.calls == calls


async def test_a_reply_to_another_bot_message_in_private_is_read_as_text(bot: App, fake_tg: FakeTelegram) -> None:
    [help_answer] = await ask(fake_tg, ALICE, "/help")
    [answer] = await ask(fake_tg, ALICE, "안녕하세요", reply_to=help_answer)
    assert "답을 찾는 중" not in answer.text  # the plain-text answer, not a question


@pytest.mark.parametrize(
    ("behaviour", "named"), [("changed_number", "97.3"), ("invented_name", "GPT-7"), ("bad_section", "Nonexistent")]
)
async def test_an_unfaithful_answer_is_reasked_once_naming_the_violation(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude, behaviour: str, named: str
) -> None:
    fake_claude.script.append(behaviour)
    answer = answer_of(await ask(fake_tg, ALICE, f"/ask {PAPER} MMLU accuracy는?"))
    assert "81.2%" in answer.text and named not in answer.text
    second = question_requests(fake_claude)[-1]["messages"]
    assert len(second) == 3 and named in second[-1]["content"] and "rejected" in second[-1]["content"]


async def test_an_answer_rejected_twice_is_not_shown_and_not_counted(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    fake_claude.script.extend(["invented_name", "invented_name"])
    answer = answer_of(await ask(fake_tg, ALICE, f"/ask {PAPER} MMLU accuracy는?"))
    assert "답을 확인하지 못했습니다" in answer.text and "GPT-7" not in answer.text
    again = answer_of(await ask(fake_tg, ALICE, f"/ask {PAPER} MMLU accuracy는?"))
    assert "오늘 남은 질문: 5개" in again.text  # the unchecked one cost nothing


async def test_claude_failing_costs_nothing(bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude) -> None:
    fake_claude.script.extend(["status:500", "status:500"])  # the SDK retries once (claude_max_retries=1)
    answer = answer_of(await ask(fake_tg, ALICE, f"/ask {PAPER} MMLU accuracy는?"))
    assert "답을 만들 수 없습니다" in answer.text
    again = answer_of(await ask(fake_tg, ALICE, f"/ask {PAPER} MMLU accuracy는?"))
    assert "오늘 남은 질문: 5개" in again.text


async def test_the_daily_limit_per_person_says_how_many_remain_and_when(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    for _ in range(6):
        await ask(fake_tg, ALICE, f"/ask {PAPER} MMLU accuracy는?")
    calls = fake_claude.calls
    refusal = answer_of(await ask(fake_tg, ALICE, f"/ask {PAPER} MMLU accuracy는?"))
    assert "하루 6개까지" in refusal.text and "남은 질문: 0개" in refusal.text
    assert "Asia/Seoul 기준 자정" in refusal.text and "약 12시간 뒤" in refusal.text  # 12:00 in Seoul
    assert fake_claude.calls == calls
    assert "오늘 남은 질문: 5개" in answer_of(await ask(fake_tg, BOB, f"/ask {PAPER} MMLU는?")).text


async def test_the_on_demand_budget_refuses_questions_once_spent(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_arxiv: FakeArxiv, fake_claude: FakeClaude
) -> None:
    fake_hf.papers[PAPER] = item_2026(PAPER, TITLE, ABSTRACT, 12)
    async with running(settings, fake_tg, Clock(), on_demand_daily_tokens=1):
        assert "남은 질문: 19개" in answer_of(await ask(fake_tg, ALICE, f"/ask {PAPER} accuracy는?")).text
        calls = fake_claude.calls
        refusal = answer_of(await ask(fake_tg, BOB, f"/ask {PAPER} accuracy는?"))
        assert "한도를 다 써서" in refusal.text and "남은 질문: 0개" in refusal.text and "자정" in refusal.text
        assert fake_claude.calls == calls


@pytest.mark.parametrize(
    ("message", "answer"),
    [
        ("/ask", "논문 id나 링크와 질문을 함께"),
        ("/ask 12345 무엇?", "arXiv 논문 id나 링크가 아닙니다"),
        ("/ask <b>x</b> 무엇?", "‘&lt;b&gt;x&lt;/b&gt;’"),
        (f"/ask {PAPER}", "무엇이 궁금한지"),
        (f"/ask {PAPER} " + "가" * 501, "질문이 너무 깁니다 (501자). 500자 이내로"),
    ],
)
async def test_bad_questions_get_a_clear_answer_and_ask_nothing(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude, message: str, answer: str
) -> None:
    [reply] = await ask(fake_tg, ALICE, message)
    assert answer in reply.text and fake_claude.calls == 0


async def test_html_in_a_question_is_echoed_escaped(bot: App, fake_tg: FakeTelegram) -> None:
    answer = answer_of(await ask(fake_tg, ALICE, f"/ask {PAPER} <b>hi</b> MMLU?"))
    assert "&lt;b&gt;hi&lt;/b&gt; MMLU?" in answer.text and "<b>hi</b>" not in answer.text


async def test_a_paper_without_its_body_is_answered_from_the_abstract_and_says_so(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    answer = answer_of(await ask(fake_tg, ALICE, f"/ask {SHORT_PAPER} Foo-7B accuracy는?"))
    assert "초록만 보고 답했습니다" in answer.text and "<i>(초록)</i>" in answer.text
    assert ABSTRACT_ONLY in question_requests(fake_claude)[-1]["system"][1]["text"]


def test_the_fake_prompt_cache_reports_usage_as_the_real_api_does() -> None:
    now = [0.0]
    cache = PromptCache(clock=lambda: now[0])
    paper = {"type": "text", "text": "x" * 8000, "cache_control": {"type": "ephemeral"}}
    body = {"model": "m", "system": [{"type": "text", "text": "y" * 400}, paper], "messages": [
        {"role": "user", "content": "z" * 40}]}  # fmt: skip
    assert cache.usage(body) == {"input_tokens": 10, "cache_creation_input_tokens": 2100, "cache_read_input_tokens": 0}
    now[0] = 299.0
    assert cache.usage(body)["cache_read_input_tokens"] == 2100
    now[0] = 550.0
    assert cache.usage(body)["cache_read_input_tokens"] == 2100  # the hit at 299 s refreshed the 5 minutes
    now[0] = 550.0 + 301.0
    assert cache.usage(body)["cache_creation_input_tokens"] == 2100  # gone after 5 minutes unused
    assert cache.usage({**body, "model": "other"})["cache_creation_input_tokens"] == 2100  # per model
    small = {**body, "system": [{"type": "text", "text": "short", "cache_control": {"type": "ephemeral"}}]}
    assert cache.usage(small) == {"input_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}


def test_an_answer_full_of_markup_stays_within_one_message() -> None:
    paper = Paper(PAPER, TITLE, ABSTRACT, 1)
    answered = Answered(AskAnswer("가" + "&<" * 749, "3 Experiments", True), False, 3)
    text = answer_html(paper, "<b>" * 100, answered)
    assert len(text) < 4096 and "<b><b>" not in text and "&amp;&lt;" in text


@pytest.mark.parametrize(
    ("title", "shown"),
    [("4.2 Experiments", "4.2 실험"), ("3. Method", "3. 방법"), ("Limitations", "한계"), ("5 Scaling Laws", "5 Scaling Laws"),
     ("Experiments on <b>MMLU</b>", "Experiments on <b>MMLU</b>")],
)  # fmt: skip
def test_a_cited_section_shows_its_usual_name_in_korean(title: str, shown: str) -> None:
    assert section_label(title) == shown
