"""The glossary, by tables: when a term is in the English, where it must be in the Korean (the first time
as 한국어(English)), how the chat's edits sit on top of config/glossary.toml, what an admin may add."""

from __future__ import annotations

import pytest

from bot.config import DEFAULTS
from bot.glossary import Glossary, Term, entry_problem, override_value, parse_edit

DEFAULT = Glossary.load(DEFAULTS / "glossary.toml")
RL = Term.parse("reinforcement learning", "강화학습(reinforcement learning, RL)")


def test_an_entry_names_its_rendering_and_what_the_parentheses_hold() -> None:
    assert (RL.korean, RL.gloss, RL.first_use) == (
        "강화학습",
        "reinforcement learning, RL",
        "강화학습(reinforcement learning, RL)",
    )
    plain = Term.parse("reward model", "보상 모델")
    assert (plain.korean, plain.gloss, plain.first_use, plain.entry) == (
        "보상 모델",
        "reward model",
        "보상 모델(reward model)",
        "보상 모델",
    )


@pytest.mark.parametrize(
    ("english", "term", "present"),
    [
        ("We use reinforcement learning.", "reinforcement learning", True),
        ("Reinforcement-Learning agents", "reinforcement learning", True),  # case and hyphen
        ("We study agents.", "agent", True),  # plural
        ("agentic systems", "agent", False),  # another word
        ("AgentFounder is ours", "agent", False),  # inside a name
        ("Reasoning-V1 is a model", "reasoning", False),  # a name's part
        ("LLM-based reasoning", "reasoning", True),
        ("pretraining and Pre-training", "pre-training", True),
        ("tokens per second", "token", True),
        ("tokenizer", "token", False),
    ],
)
def test_when_a_term_is_in_the_english(english: str, term: str, present: bool) -> None:
    found = DEFAULT.find(term)
    assert found is not None and found.occurs_in(english) is present


@pytest.mark.parametrize(
    ("korean", "why"),
    [
        ("강화학습(reinforcement learning)으로 학습하고 강화학습을 확장한다.", None),
        ("강화학습(RL)으로 학습한다.", None),  # an abbreviation the entry names
        ("강화 학습(Reinforcement Learning)으로 학습한다.", None),  # spacing and case
        ("강화학습 (reinforcement learning)으로", None),  # a space before the parentheses
        ("강화학습으로 학습하고 강화학습(reinforcement learning)을 쓴다.", "unglossed"),  # not at the first
        ("강화학습으로 학습한다.", "unglossed"),
        ("RL로 학습한다.", "missing"),
        ("보상을 최대화하는 학습이다.", "missing"),
    ],
)
def test_where_the_rendering_must_be_in_the_korean(korean: str, why: str | None) -> None:
    assert RL.miss(korean) == why


def test_two_terms_with_one_rendering_are_each_glossed_somewhere() -> None:
    english = "Better reasoning at inference time."
    both = "더 나은 추론(reasoning)과 추론(inference) 시간."
    assert DEFAULT.misses(english, both) == []
    [miss] = DEFAULT.misses(english, "더 나은 추론(reasoning)과 추론 시간.")
    assert miss.term.english == "inference" and miss.why == "unglossed"
    assert "추론(inference)" in miss.describe()


def test_the_chats_edits_sit_on_top_of_the_file() -> None:
    edited = DEFAULT.with_overrides(
        {
            "reward hacking": override_value("reward hacking", "보상 해킹"),
            "agent": override_value("agent", "행위자(agent)"),
            "token": "",  # removed
        }
    )
    assert edited.find("reward hacking") is not None and edited.find("token") is None
    agent = edited.find("agent")
    assert agent is not None and agent.korean == "행위자"
    assert edited.edited == {"reward hacking", "agent", "token"}
    assert len(edited.terms) == len(DEFAULT.terms)  # one added, one removed
    assert "- reward hacking → 보상 해킹 (처음 나올 때: 보상 해킹(reward hacking))" in edited.prompt_block()
    assert "llm" in edited.names and "sota" in edited.names and "cot" in edited.names


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("reward hacking = 보상 해킹", None),
        ("mixture of experts = 전문가 혼합(mixture of experts, MoE)", None),
        ("reward hacking 보상 해킹", "syntax"),
        (" = 보상 해킹", "english"),
        ("보상 = 보상 해킹", "english"),
        ("reward hacking = reward hacking", "hangul"),
        ("reward hacking = 보상 해킹(reward", "parens"),
        ("reward hacking = " + "가" * 61, "korean"),
    ],
)
def test_what_an_admin_may_add(text: str, problem: str | None) -> None:
    parsed = parse_edit(text)
    found = "syntax" if parsed is None else entry_problem(*parsed)
    assert found == problem


def test_the_file_is_checked_at_start(tmp_path: object) -> None:
    from pathlib import Path

    bad = Path(str(tmp_path)) / "glossary.toml"
    bad.write_text('[terms]\n"agent" = "agent"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="written in Hangul"):
        Glossary.load(bad)
