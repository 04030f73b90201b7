"""The gate of a deep brief (pure): Claude's answer becomes a brief only when it is the JSON object
asked for, each of its four parts Korean, of 1–5 sentences (2–4 asked; one either way tolerated, not
worth a re-ask) and at most MAX_PART characters, with no link the paper lacks, and — the faithfulness
gate of translations (bot/faithful.py `check_text`) against the paper's FULL text — no name, number or
script the text does not contain, and no English drift. Each rejection has a reason code (as
translations': bot/validate.py, bot/faithful.py)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from bot.faithful import check_text
from bot.glossary import Glossary
from bot.validate import MIN_HANGUL_SHARE, Rejected, foreign_links, hangul_share, parsed_answer

MIN_SENTENCES, MAX_SENTENCES = 1, 5
MAX_PART = 900  # characters of one part: four sentences are far shorter
NO_LIMITATIONS = "논문에 밝힌 한계 없음"
_SENTENCE_END = re.compile(r"[.!?。](?=\s|$)")


class BriefParts(BaseModel):
    """The four parts of a brief, as Claude answered them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
    problem: str
    method: str
    results: str
    limitations: str


def sentences(text: str) -> int:
    """Sentences of a part: its sentence ends (a last sentence without one counts)."""
    text = text.strip()
    if not text:
        return 0
    return len(_SENTENCE_END.findall(text)) + (0 if text[-1] in ".!?。" else 1)


def gate_brief(source: str, message: object, glossary: Glossary) -> BriefParts:
    """The brief in Claude's answer, or Rejected with the reason. `source`: the paper's title, abstract
    and full text (bot/brief_prompt.py `source_text`)."""
    parts = parsed_answer(message, BriefParts)
    fields = parts.model_dump()
    for field, text in fields.items():
        if not text:
            raise Rejected("empty", f"{field} is empty")
        if field == "limitations" and text.rstrip(".") == NO_LIMITATIONS:
            continue
        if (share := hangul_share(text)) < MIN_HANGUL_SHARE:
            raise Rejected("not_korean", f"{field} is not Korean (Hangul is {share:.0%} of its letters)")
        if len(text) > MAX_PART:
            raise Rejected("length", f"{field} has {len(text)} characters; at most {MAX_PART} (2-4 sentences)")
        if not MIN_SENTENCES <= (count := sentences(text)) <= MAX_SENTENCES:
            raise Rejected("sentences", f"{field} has {count} sentences; it must have 2 to 4")
    if links := foreign_links(source, "\n".join(fields.values())):
        raise Rejected("foreign_link", f"the brief contains links the paper does not have: {', '.join(links[:3])}")
    check_text(source, fields, glossary, where="the paper's full text", titles=())
    return parts
