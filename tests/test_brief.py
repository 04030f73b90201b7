"""Deep briefs (심층 요약): made when a digest is built and on demand (`/paper <id> 심층`, the 🔎 button, the
full digest's `b_` link), through the real Application and the fakes; the gate against the full text."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from bot.app import App
from bot.brief_gate import gate_brief
from bot.config import Settings
from bot.glossary import Glossary
from bot.models import Form, View
from bot.render import render_telegram, telegram_length
from bot.validate import Rejected
from tests.conftest import ALICE, BOB, GROUP
from tests.fakes.anthropic import FakeClaude
from tests.fakes.anthropic_brief import is_brief
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.hf import FakeHF, item_2026
from tests.fakes.papers_text import paper_markdown, sample_body
from tests.fakes.telegram import BOT_USERNAME, FakeTelegram
from tests.fakes.telegram_html import parse_telegram_html
from tests.test_bot import ask, press
from tests.test_paper import SHORT, W38, Clock, running, text

PAPER = "2601.00001"
ABSTRACT = f"We show that X beats Y by 5%. {SHORT}."


def body_with_results() -> list[tuple[str, list[str]]]:
    """Sections of a paper whose experiments report 81.2% and 64.5% and which states its limitations."""
    body = sample_body(40)
    body[3] = ("Experiments", ["Our model reaches 81.2% accuracy, against 64.5% for the baseline."])
    return body


def brief_calls(fake: FakeClaude) -> list[dict[str, Any]]:
    return [r for r in fake.requests if is_brief(r["output_config"]["format"]["schema"])]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_arxiv: FakeArxiv, clock: Clock
) -> AsyncIterator[App]:
    fake_hf.papers[PAPER] = item_2026(PAPER, "Only on Hugging Face", ABSTRACT, 77)
    fake_hf.markdown[PAPER] = paper_markdown("Only on Hugging Face", ABSTRACT, body_with_results())
    async with running(settings, fake_tg, clock, paper_daily_limit=3) as app:
        yield app


def today(app: App) -> date:
    return app.clock().astimezone(app.settings.tz).date()


async def test_a_brief_on_demand_is_made_from_the_full_text_then_cached(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    sent = await ask(fake_tg, ALICE, f"/paper {PAPER} 심층")
    assert "심층 요약을 만드는 중" in parse_telegram_html(sent[0].text)
    assert sent[-1].method == "editMessageText" and sent[-1].message_id == sent[0].message_id
    answer = parse_telegram_html(sent[-1].text)
    for heading in ("문제", "방법", "결과", "한계", "Only on Hugging Face", "Hugging Face 전문"):
        assert heading in answer
    assert "‘1 Introduction’ 절부터" in answer  # the full text reached Claude: its first section
    assert "81.2%, 64.5%" in answer  # the numbers of its Experiments section
    assert "한계 절에서" in answer and "2편 남음" in answer and "초록만으로" not in answer
    assert len(brief_calls(fake_claude)) == 1
    again = await ask(fake_tg, BOB, f"/paper {PAPER} 심층")  # someone else: cached, at once, free
    assert len(again) == 1 and "81.2%" in text(again) and len(brief_calls(fake_claude)) == 1
    assert await bot.store.take_paper_allowance(BOB, today(bot), limit=3) == 2  # Bob's none was used


async def test_the_button_under_a_paper_and_the_deep_link_give_the_brief(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    [*_, paper] = await ask(fake_tg, ALICE, f"/paper {PAPER}", chat=GROUP)
    assert paper.button_data == [f"bf:{PAPER}", f"rp:{PAPER}"]  # 🔎 next to 🚩
    pressed = await press(fake_tg, BOB, paper, f"bf:{PAPER}")
    assert all(s.chat_id == GROUP for s in pressed)  # in a group, the answer is the group's
    assert "81.2%" in text(pressed) and fake_tg.callback_answers
    [linked] = await ask(fake_tg, ALICE, "/start b_2601_00001")  # the full digest's link: cached now
    assert "‘1 Introduction’ 절부터" in parse_telegram_html(linked.text) and len(brief_calls(fake_claude)) == 1


async def test_a_brief_naming_what_the_paper_lacks_is_rejected_and_never_shown(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    fake_claude.script.extend(["invented_name", "invented_name"])
    sent = await ask(fake_tg, ALICE, f"/paper {PAPER} 심층")
    answer = text(sent)
    assert "GPT-7" not in answer and "심층 요약 준비 중" in answer and "번역 준비 중" in answer
    assert "We show that X beats Y by 5%" in answer  # the English original instead
    calls = brief_calls(fake_claude)
    assert len(calls) == 2  # one re-ask, naming what was wrong
    reask = calls[1]["messages"][-1]["content"]
    assert "GPT-7" in reask and "full text" in reask
    assert await bot.store.take_paper_allowance(ALICE, today(bot), limit=3) == 2  # the failure cost nothing
    fake_claude.script.append("good")
    retry = await ask(fake_tg, ALICE, f"/paper {PAPER} 심층")  # failed lately: not asked again yet
    assert "심층 요약 준비 중" in text(retry) and len(brief_calls(fake_claude)) == 2


async def test_a_changed_number_is_re_asked_and_the_second_answer_shown(
    bot: App, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    fake_claude.script.append("changed_number")
    sent = await ask(fake_tg, ALICE, f"/paper {PAPER} 심층")
    assert "97.3" not in text(sent) and "81.2%" in text(sent)
    calls = brief_calls(fake_claude)
    assert len(calls) == 2 and "97.3" in json.dumps(calls[1]["messages"], ensure_ascii=False)


async def test_a_brief_from_the_abstract_alone_says_so(
    bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_arxiv: FakeArxiv
) -> None:
    fake_hf.papers["2601.00003"] = item_2026("2601.00003", "No body anywhere", f"It gains 7%. {SHORT}.", 3)
    sent = await ask(fake_tg, ALICE, "/paper 2601.00003 deep")
    answer = text(sent)
    assert "초록만으로 쓴 요약" in answer and "근거: 초록만" in answer
    assert "‘Abstract’ 절부터" in answer and "7%" in answer and "논문에 밝힌 한계 없음" in answer


async def test_hostile_html_in_a_title_is_escaped(bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF) -> None:
    title = "<b>Bold</b> & <script>alert(1)</script>"
    fake_hf.papers["2601.00004"] = item_2026("2601.00004", title, f"It gains 7%. {SHORT}.", 3)
    sent = await ask(fake_tg, ALICE, "/paper 2601.00004 심층")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sent[-1].text and "<script>" not in sent[-1].text
    assert "<script>alert(1)</script>" in parse_telegram_html(sent[-1].text)  # shown as written


async def test_the_persons_daily_limit_counts_briefs_with_translations(
    bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_claude: FakeClaude
) -> None:
    for i in range(5, 9):
        fake_hf.papers[f"2601.0000{i}"] = item_2026(f"2601.0000{i}", f"Paper {i}", f"It gains {i}%. {SHORT}.", i)
    await ask(fake_tg, ALICE, "/paper 2601.00005")  # a new translation: one of three
    for i in (6, 7):
        await ask(fake_tg, ALICE, f"/paper 2601.0000{i} 심층")
    calls = fake_claude.calls
    refused = await ask(fake_tg, ALICE, "/paper 2601.00008 심층")
    assert "하루 3편까지" in text(refused) and fake_claude.calls == calls
    other = await ask(fake_tg, BOB, "/paper 2601.00008 심층")
    assert "8%" in text(other)


async def test_the_daily_token_budget_stops_new_briefs(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_claude: FakeClaude, clock: Clock
) -> None:
    fake_hf.papers[PAPER] = item_2026(PAPER, "Only on Hugging Face", ABSTRACT, 7)
    fake_hf.papers["2601.00003"] = item_2026("2601.00003", "Another", f"We show Z by 9%. {SHORT}.", 7)
    async with running(settings, fake_tg, clock, on_demand_daily_tokens=1):
        await ask(fake_tg, ALICE, f"/paper {PAPER} 심층")  # the first one spends the tiny budget
        calls = fake_claude.calls
        refused = await ask(fake_tg, BOB, "/paper 2601.00003 심층")
        assert "내일 다시" in text(refused) and fake_claude.calls == calls


async def test_briefs_are_made_for_the_top_papers_when_the_digest_is_built(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_claude: FakeClaude, clock: Clock
) -> None:
    async with running(settings, fake_tg, clock, brief_top=2) as app:
        top = [p.id for p in (await app.digests.snapshot(W38)).papers[:3]]
        fake_hf.markdown[top[0]] = paper_markdown("Top paper", "It is 12% better.", body_with_results())
        digest = await app.digests.build(W38)
        assert not digest.pending and app.briefs is not None
        await app.briefs.settled()  # made in the background
        made = brief_calls(fake_claude)
        assert len(made) == 2 and (await app.store.get_usage(W38)).calls == len(digest.items) + 2  # the week's
        asked = sorted(json.dumps(r["messages"], ensure_ascii=False) for r in made)
        assert sum("## 1 Introduction" in a for a in asked) == 1  # the top paper's full text reached Claude
        calls = fake_claude.calls
        [brief] = await ask(fake_tg, ALICE, f"/paper {top[0]} 심층")  # made already: at once
        assert "81.2%" in parse_telegram_html(brief.text) and "Hugging Face 전문" in parse_telegram_html(brief.text)
        assert fake_claude.calls == calls
        later = await ask(fake_tg, ALICE, f"/paper {top[2]} 심층")  # not in the top 2: made on demand
        assert "심층 요약을 만드는 중" in text(later) and fake_claude.calls == calls + 1


async def test_a_claude_failure_on_briefs_never_holds_the_digest(
    settings: Settings, fake_tg: FakeTelegram, fake_claude: FakeClaude, clock: Clock
) -> None:
    async with running(settings, fake_tg, clock, brief_top=3) as app:
        snapshot = await app.digests.snapshot(W38)
        assert app.translator is not None and app.briefs is not None
        await app.translator.translate_many(snapshot.papers[:10], week=W38)  # the translations, cached
        fake_claude.default = "status:500"  # every brief (and its SDK retry) fails ...
        fake_claude.gate.clear()  # ... after Claude "thought" on it: the digest does not wait for that
        async with asyncio.timeout(30):  # generous: it takes no Claude call at all
            digest = await app.digests.build(W38)
        assert not digest.pending and len(digest.items) == 10
        fake_claude.gate.set()
        await app.briefs.settled()
        assert len(brief_calls(fake_claude)) == 3 * 2  # each brief asked (and retried by the SDK), then given up


async def test_the_full_form_links_each_papers_brief_within_telegrams_limit(app: App) -> None:
    digest = await app.digests.build(W38)
    full = render_telegram(digest, bot_username=BOT_USERNAME, view=View(form=Form.FULL, count=10))
    joined = "".join(full)
    for item in digest.items:
        link = f'https://t.me/{BOT_USERNAME}?start=b_{item.paper.id.replace(".", "_")}">🔎 심층 요약</a>'
        assert link in joined
    assert all(telegram_length(part) <= 4096 for part in full) and len(full) > 1
    brief = render_telegram(digest, bot_username=BOT_USERNAME, view=View(form=Form.BRIEF, count=10))
    assert "start=b_" not in "".join(brief)  # only the full form


def _message(parts: dict[str, str]) -> object:
    block = SimpleNamespace(type="text", text=json.dumps(parts, ensure_ascii=False))
    return SimpleNamespace(type="message", content=[block], stop_reason="end_turn")


GOOD = {
    "problem": "이 논문은 X가 Y보다 나은지 묻는다. 이 질문은 중요하다.",
    "method": "저자들은 새 방법을 제안한다. 방법의 단계를 설명한다.",
    "results": "X는 Y보다 5% 낫다. 결과는 일관된다.",
    "limitations": "논문에 밝힌 한계 없음",
}
SOURCE = "A title\nWe show that X beats Y by 5%.\n\nExperiments\nIt works."


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({}, None),
        ({"results": ""}, "empty"),
        ({"method": "We propose a new method and describe each of its steps in detail here."}, "not_korean"),
        ({"problem": " ".join(["문제를 다룬다."] * 6)}, "sentences"),
        ({"problem": "문제를 다룬다. " * 120}, "length"),
        ({"method": "저자들은 Llama-9를 쓴다. 방법을 설명한다."}, "invented_name"),
        ({"results": "X는 Y보다 7% 낫다. 결과는 일관된다."}, "changed_number"),
        ({"results": "X는 Y보다 5% 낫다. 자세한 것은 https://evil.example 에 있다."}, "foreign_link"),
        ({"limitations": "한계는 있다"}, None),  # one sentence without a full stop is one sentence
    ],
)
def test_the_brief_gate(change: dict[str, str], reason: str | None) -> None:
    message = _message({**GOOD, **change})
    if reason is None:
        assert gate_brief(SOURCE, message, Glossary(())).results
    else:
        with pytest.raises(Rejected) as rejected:
            gate_brief(SOURCE, message, Glossary(()))
        assert rejected.value.reason == reason
