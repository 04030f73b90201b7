"""The fake Claude's answers to questions about a paper (bot/ask.py), so that tests can tell which part
of the full text it was given: it reads the paper's sections from the system blocks (`### <title>`),
picks the one whose words overlap the question most, and answers with a Korean sentence carrying that
section's first name-like word and first number, citing its title. No overlap at all, or a question
about the weather (날씨), gets "논문에 나오지 않는 내용입니다". Behaviours: `invented_name` (a model the
paper never names), `changed_number` (97.3%), `bad_section` (a section the paper lacks)."""

from __future__ import annotations

import re
from typing import Any

NOT_IN_PAPER = "논문에 나오지 않는 내용입니다"
_HEADING = re.compile(r"^### (.+)$", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{2,}|[\uac00-\ud7a3]{2,}")
_NUMBER = re.compile(r"(?<![A-Za-z0-9.^{])\d+(?:\.\d+)?%?(?![A-Za-z0-9}])")
_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9._+-]*[A-Za-z0-9+]")
_STOP = {"the", "and", "with", "what", "which", "this", "that", "for", "how", "does", "paper", "논문", "무엇"}


def is_question(schema: dict[str, Any]) -> bool:
    return "answer" in (schema.get("properties") or {})


def sections(system: str) -> list[tuple[str, str]]:
    """(title, text) of each section of the paper block."""
    parts = _HEADING.split(system)
    return [(parts[i].strip(), parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOP


def _name(text: str) -> str | None:
    """The first name-like token (a digit, or a capital after the first letter): `Foo-7B`, `MMLU`."""
    return next((t for t in _TOKEN.findall(text) if any(c.isdigit() or c.isupper() for c in t[1:])), None)


def answer(body: dict[str, Any], behaviour: str) -> dict[str, Any]:
    system = "\n".join(b.get("text", "") for b in body.get("system") or [] if isinstance(b, dict))
    spoken = [m["content"] if isinstance(m["content"], str) else m["content"][0]["text"] for m in body["messages"]]
    asked_last = [s for s in spoken if s.startswith("질문: ")] or spoken  # a re-ask follows the question it repeats
    question = asked_last[-1].removeprefix("질문: ")
    asked = _words(question)
    scored = [(len(asked & _words(f"{title} {text}")), i) for i, (title, text) in enumerate(sections(system))]
    best = max(scored, key=lambda s: (s[0], -s[1]), default=(0, -1))
    if "날씨" in question or best[0] == 0:
        return {"answer": NOT_IN_PAPER, "section": "", "found": False}
    title, text = sections(system)[best[1]]
    name, number = _name(text), next(iter(_NUMBER.findall(text)), None)
    said = f"이 절에 따르면 {name}의 결과는 " if name else "이 절에 따르면 그 결과는 "
    said += f"{number}입니다." if number else "논문에 자세히 나옵니다."
    if behaviour == "invented_name":
        said += " GPT-7보다도 낫습니다."
    elif behaviour == "changed_number":
        said = "이 절에 따르면 결과는 97.3%입니다."
    elif behaviour == "bad_section":
        title = "9 Nonexistent Section"
    return {"answer": said, "section": title, "found": True}
