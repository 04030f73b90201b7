"""What Claude is told for a deep brief (bot/brief.py): the system prompt (bot/defaults/brief.md (or its override), hashed into
the brief's cache key, then the glossary), the user message (the paper's title and full text), the JSON
schema of the four parts, and the re-ask naming what was wrong."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources.abc import Traversable

from bot.models import FullText, Paper

PARTS = ("problem", "method", "results", "limitations")  # the schema's fields, in the order shown

# The JSON schema of a brief (structured outputs). The fake Claude (tests/fakes/anthropic.py) knows a
# brief's request by its `limitations` property.
BRIEF_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {
        "problem": {"type": "string", "description": "문제: 무엇을 풀려 하는지, 왜 중요한지 (2–4문장)"},
        "method": {"type": "string", "description": "방법: 저자들이 한 일 (2–4문장)"},
        "results": {"type": "string", "description": "결과: 주요 결과와 논문의 수치 (2–4문장)"},
        "limitations": {
            "type": "string",
            "description": "한계: 논문이 밝힌 한계 (2–4문장), 없으면 '논문에 밝힌 한계 없음'",
        },
    },
    "required": list(PARTS),
    "additionalProperties": False,
}

REASK = (
    "The previous answer was rejected: {reason}. Write the brief of the same paper again and answer with "
    "the complete JSON object (problem, method, results, limitations), each 2-4 Korean sentences: only what "
    "the text states, every name and number exactly as the text writes it, nothing the text does not contain."
)
MAX_TOKENS = 4096  # four short parts


@dataclass(frozen=True)
class BriefPrompt:
    """bot/defaults/brief.md (or its override) and its hash (part of a brief's cache key)."""

    system: str
    hash: str

    @classmethod
    def load(cls, file: Traversable) -> BriefPrompt:
        """Read the prompt (bot/config.py's config_file finds it); ValueError with the file and the
        problem if it is unusable."""
        try:
            prompt = file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read the brief prompt {file}: {exc}") from exc
        if not prompt:
            raise ValueError(f"{file} is empty")
        return cls(system=prompt, hash=hashlib.sha256(prompt.encode()).hexdigest()[:16])


def source_text(paper: Paper, full: FullText) -> str:
    """Everything a brief may draw on: the paper's title, abstract and every section of its full text
    (titles and texts): what the gate checks names and numbers against."""
    sections = "\n\n".join(f"{title}\n{text}" for title, text in full.sections)
    return f"{paper.title}\n{paper.abstract}\n\n{sections}"


def user_text(paper: Paper, full: FullText) -> str:
    """The paper as Claude gets it: its title, then its sections, each under `## <title>`."""
    note = "\n(본문을 구하지 못해 초록만 있습니다.)" if full.source == "abstract" else ""
    sections = "\n\n".join(f"## {title}\n{text}" for title, text in full.sections)
    return f"제목: {paper.title}{note}\n\n본문:\n{sections}"


def reask(reason: str) -> str:
    return REASK.format(reason=reason)
