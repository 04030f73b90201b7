"""Topic matching and parsing: one rule per row (the digest, /week and the tests share this code)."""

from __future__ import annotations

import pytest

from bot.models import DigestItem, Paper, Status, Translation
from bot.topics import TopicError, match_items, matches, parse_topics


@pytest.mark.parametrize(
    ("topic", "text", "hit"),
    [
        ("RL", "An RL-based planner", True),  # Latin: whole words; a hyphen ends a word
        ("RL", "CURL: contrastive learning", False),  # …not inside another word
        ("RL", "rl from human feedback", True),  # case-insensitive
        ("RL", "RLHF at scale", False),
        ("robot", "Robots that learn", True),  # a plural "s" is the same word
        ("agent", "Agentic search", False),
        ("diffusion model", "Latent Diffusion  Models for video", True),  # words in order, any spacing
        ("diffusion model", "model-based diffusion", False),
        ("diffusion model", "diffusion-model guidance", True),
        ("확산", "확산 모델을 개선한다", True),  # Hangul: a substring (particles attach to words)
        ("확산 모델", "새로운 확산 모델을 제안한다", True),
        ("확산 모델", "확산된 모델", False),
        ("LLM 추론", "llm 추론 능력", True),  # Hangul in a topic: substring, case-insensitive
        ("C++", "Written in C++ for speed", True),  # punctuation is matched as written
        ("4D", "4D world modeling", True),
        ("", "anything", False),
    ],
)
def test_matching_rules(topic: str, text: str, hit: bool) -> None:
    assert matches(topic, text) is hit


def test_a_paper_matches_on_its_korean_translation_too() -> None:
    paper = Paper("2509.00001", "Latent denoising for images", "We propose a method.", 10)
    korean = Translation("이미지를 위한 잠재 확산", "확산 모델을 쓴다.", "우리는 확산 모델을 제안한다.")
    items = [
        DigestItem(1, paper, korean, Status.TRANSLATED),
        DigestItem(2, Paper("2509.00002", "Robot RL", "Robots.", 5), None, Status.PENDING),
    ]
    found = match_items(items, ["확산", "robot", "RL"])
    assert [(m.item.rank, m.topics) for m in found] == [(1, ("확산",)), (2, ("robot", "RL"))]


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("확산 모델, RL, robot", ("확산 모델", "RL", "robot")),
        ("RL,rl , RL", ("RL",)),  # each once, the first spelling kept
        ("a、b;c\nd", ("a", "b", "c", "d")),
        ("  spaced   out  ", ("spaced out",)),
    ],
)
def test_parse_topics(text: str, topics: tuple[str, ...]) -> None:
    assert parse_topics(text) == topics


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "empty"), (" , ,", "empty"), ("x" * 41, "too_long"), (",".join(f"t{i}" for i in range(11)), "too_many")],
)
def test_bad_topic_lists(text: str, reason: str) -> None:
    with pytest.raises(TopicError) as caught:
        parse_topics(text)
    assert caught.value.reason == reason
