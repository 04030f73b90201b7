"""Is Claude's answer a usable translation? Pure checks, each failure a reason code (counted) and a
reason in English (the re-ask quotes it to Claude): a Messages response at all, not cut or refused, the
JSON object asked for, Korean, of sensible length, every number of the abstract kept, and no link the
paper never had; then faithfulness (bot/faithful.py): no name, number or script the paper lacks."""

from __future__ import annotations

import re
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.models import Paper, Translation
from bot.numbers import missing

M = TypeVar("M", bound=BaseModel)

MIN_HANGUL_SHARE = 0.35  # of letters (Hangul syllables vs Latin letters); English terms are allowed
MIN_SUMMARY_SENTENCES, MAX_SUMMARY_SENTENCES = 2, 4  # asked for 2–3; one more is tolerated, not worth a re-ask
MIN_LENGTH_RATIO = 0.25  # Korean is shorter than English, but not by four times: below that it is cut
MAX_TITLE = 300  # characters of title_ko (any real title is far shorter), or twice the English title
MAX_SUMMARY = 600  # characters of summary_ko: two or three sentences
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_SENTENCE_END = re.compile(r"[.!?。](?=\s)")
# A URL, or a bare domain name (labels of letters, digits and hyphens; a top-level part of letters).
_LINK = re.compile(r"https?://[^\s<>\"')\]]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,24}\b(?:/[^\s<>\"')\]]*)?", re.IGNORECASE)


class Rejected(Exception):
    """An answer that is not a usable translation; `reason` is its kind (a metric label), the message
    says exactly what was wrong."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title_ko: str
    summary_ko: str
    abstract_ko: str


def missing_numbers(source: str, translation: str) -> list[str]:
    """The numbers of the source the Korean lost, by value (bot/numbers.py: percentages stay so; 1M may
    be 100만)."""
    return missing(source, translation)


def hangul_share(text: str) -> float:
    hangul, latin = len(_HANGUL.findall(text)), len(_ASCII_LETTER.findall(text))
    return hangul / (hangul + latin) if hangul + latin else 0.0


def foreign_links(source: str, translation: str) -> list[str]:
    """URLs and domain names in `translation` that `source` does not contain (case aside)."""
    known = source.lower()
    return sorted({m.rstrip(".,;:") for m in _LINK.findall(translation) if m.rstrip(".,;:").lower() not in known})


def text_of(message: object) -> str:
    """The text blocks of a Messages response, joined ("" for anything else)."""
    content = getattr(message, "content", None)
    if not isinstance(content, list):
        return ""
    return "".join(getattr(block, "text", "") for block in content if getattr(block, "type", None) == "text")


def answer_text(message: object) -> str:
    """The text of a Messages response; Rejected when `message` is none (a proxy's page, `{}`) or it
    was cut short or refused."""
    if getattr(message, "type", None) != "message" or not isinstance(getattr(message, "content", None), list):
        raise Rejected(
            "not_a_message", f"the answer is not a Messages response ({type(message).__name__} without content)"
        )
    stop = getattr(message, "stop_reason", None)
    if stop == "max_tokens":
        raise Rejected("truncated", "the answer was cut off at the token limit (truncated)")
    if stop == "refusal":
        raise Rejected("refused", "the model refused to answer")
    return text_of(message)


def parsed_answer(message: object, model: type[M]) -> M:
    """Claude's answer as `model` (the JSON its schema asked for), or Rejected: not a Messages answer, cut
    short, refused (`answer_text`), or not that JSON object."""
    try:
        return model.model_validate_json(answer_text(message))
    except ValidationError as exc:
        raise Rejected("not_json", f"the answer is not the required JSON object ({exc.error_count()} errors)") from exc


def validate(paper: Paper, message: object) -> Translation:
    """The translation in Claude's answer, or Rejected with the reason."""
    answer = parsed_answer(message, _Answer)
    for field in ("title_ko", "summary_ko", "abstract_ko"):
        if not getattr(answer, field):
            raise Rejected("empty", f"{field} is empty")
    for field in ("abstract_ko", "summary_ko"):
        share = hangul_share(getattr(answer, field))
        if share < MIN_HANGUL_SHARE:
            raise Rejected("not_korean", f"{field} is not Korean (Hangul is {share:.0%} of its letters)")
    if not any("\uac00" <= ch <= "\ud7a3" for ch in answer.title_ko):
        raise Rejected("not_korean", "title_ko has no Korean in it")
    if len(answer.title_ko) > max(MAX_TITLE, 2 * len(paper.title)):
        raise Rejected(
            "length", f"title_ko has {len(answer.title_ko)} characters: translate the title only, as a title"
        )
    if len(answer.summary_ko) > MAX_SUMMARY:
        raise Rejected(
            "length", f"summary_ko has {len(answer.summary_ko)} characters; at most {MAX_SUMMARY} (2-3 sentences)"
        )
    sentences = len(_SENTENCE_END.findall(answer.summary_ko.strip() + " "))
    if not MIN_SUMMARY_SENTENCES <= sentences <= MAX_SUMMARY_SENTENCES:
        raise Rejected("sentences", f"summary_ko has {sentences} sentences; it must have 2 or 3")
    if len(answer.abstract_ko) < MIN_LENGTH_RATIO * len(paper.abstract):
        raise Rejected(
            "incomplete",
            f"abstract_ko has {len(answer.abstract_ko)} characters for an abstract of {len(paper.abstract)}: "
            "it is not a complete translation",
        )
    if missing := missing_numbers(paper.abstract, answer.abstract_ko):
        raise Rejected("numbers_lost", f"abstract_ko lost numbers of the abstract: {', '.join(missing)}")
    translated = f"{answer.title_ko}\n{answer.summary_ko}\n{answer.abstract_ko}"
    if links := foreign_links(f"{paper.title}\n{paper.abstract}", translated):
        raise Rejected(
            "foreign_link", f"the translation contains links the paper does not have: {', '.join(links[:3])}"
        )
    return Translation(title_ko=answer.title_ko, summary_ko=answer.summary_ko, abstract_ko=answer.abstract_ko)
