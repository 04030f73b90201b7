"""Topics a chat cares about: parsing what people type, and matching papers. One code path for the
weekly digest, /week and the tests.

Matching is case-insensitive. Latin text matches whole words (a trailing plural "s" allowed): "RL"
matches "RL-based" but not "CURL", "robot" matches "robots". A topic with Hangul in it matches as a
substring, since Korean attaches particles to words: "확산" matches "확산 모델을". A paper matches on
its English title and abstract, and on its Korean title, summary and abstract once translated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from bot.models import MAX_TOPIC_LENGTH, MAX_TOPICS, DigestItem

_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_SEPARATORS = re.compile(r"[,，、;\n]")
_WORD = r"[^\W_]"  # a letter or digit, any script


class TopicError(ValueError):
    """Why a topic list is refused; `reason` names it (texts.py says each in Korean)."""

    _ENGLISH: ClassVar[dict[str, str]] = {
        "empty": "no topic given",
        "too_long": "a topic is longer than 40 characters",
        "too_many": "more than 10 topics",
    }

    def __init__(self, reason: str, topic: str = "") -> None:
        english = self._ENGLISH.get(reason, reason)
        super().__init__(f"{english}: {topic!r}" if topic else english)
        self.reason = reason
        self.topic = topic


def parse_topics(text: str) -> tuple[str, ...]:
    """The topics in `text` (comma-separated), each once, in the order given. TopicError when the
    list is empty, too long, or a topic is longer than MAX_TOPIC_LENGTH."""
    topics: list[str] = []
    seen: set[str] = set()
    for raw in _SEPARATORS.split(text):
        topic = " ".join(raw.split())
        if not topic:
            continue
        if len(topic) > MAX_TOPIC_LENGTH:
            raise TopicError("too_long", topic)
        if topic.casefold() not in seen:
            seen.add(topic.casefold())
            topics.append(topic)
    if not topics:
        raise TopicError("empty")
    if len(topics) > MAX_TOPICS:
        raise TopicError("too_many")
    return tuple(topics)


@lru_cache(maxsize=4096)
def _pattern(topic: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in topic.split()]
    body = r"[\s\-]+".join(words)
    if _HANGUL.search(topic):
        return re.compile(body, re.IGNORECASE)
    plural = "(?:s|es)?" if topic[-1:].isalpha() else ""
    return re.compile(rf"(?<!{_WORD}){body}{plural}(?!{_WORD})", re.IGNORECASE)


def matches(topic: str, text: str) -> bool:
    """Does `topic` occur in `text` by the rules above?"""
    return bool(topic.strip()) and _pattern(" ".join(topic.split())).search(text) is not None


def item_text(item: DigestItem) -> str:
    paper, tr = item.paper, item.translation
    parts = [paper.title, paper.abstract]
    if tr is not None:
        parts += [tr.title_ko, tr.summary_ko, tr.abstract_ko]
    return "\n".join(parts)


@dataclass(frozen=True)
class Match:
    item: DigestItem
    topics: tuple[str, ...]  # the chat's topics it matches, in the chat's order


def match_items(items: Sequence[DigestItem], topics: Sequence[str]) -> list[Match]:
    """The items that match any topic, in their order, each with the topics it matches."""
    found = []
    for item in items:
        text = item_text(item)
        hit = tuple(topic for topic in topics if matches(topic, text))
        if hit:
            found.append(Match(item, hit))
    return found
