"""What Claude is told: the system prompt (config/prompt.md, then the glossary), the user message for one
paper (with an admin's instructions, if any), the JSON schema of the answer, and the re-ask."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable

from bot.glossary import Glossary, Miss
from bot.models import Paper

# The JSON schema Claude must answer with (structured outputs: output_config.format).
OUTPUT_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {
        "title_ko": {"type": "string", "description": "제목의 한국어 번역"},
        "summary_ko": {"type": "string", "description": "핵심을 담은 2–3문장 한국어 요약"},
        "abstract_ko": {"type": "string", "description": "초록 전체의 완전하고 충실한 한국어 번역"},
    },
    "required": ["title_ko", "summary_ko", "abstract_ko"],
    "additionalProperties": False,
}

REASK = (
    "The previous answer was rejected: {reasons}. Translate the same paper again and answer with the "
    "complete JSON object (title_ko, summary_ko, abstract_ko): every name and number exactly as the paper "
    "writes them, nothing the paper does not say, Korean throughout."
)


@dataclass(frozen=True)
class PromptConfig:
    """config/prompt.md (its hash is part of the translation cache key) and config/glossary.toml (the
    default glossary: not part of the key, so that a glossary change does not retranslate everything)."""

    system: str
    hash: str
    glossary: Glossary

    @classmethod
    def load(cls, prompt_file: Traversable, glossary_file: Traversable) -> PromptConfig:
        """Read the prompt and the glossary (bot/config.py's config_file finds them); ValueError with
        the file and the problem if they are unusable."""
        try:
            prompt = prompt_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read the translation prompt {prompt_file}: {exc}") from exc
        if not prompt:
            raise ValueError(f"{prompt_file} is empty")
        glossary = Glossary.load(glossary_file)
        return cls(system=prompt, hash=hashlib.sha256(prompt.encode()).hexdigest()[:16], glossary=glossary)


def system_blocks(prompt: PromptConfig, glossary: Glossary) -> list[dict[str, object]]:
    """The system prompt: the instructions, then the glossary; cached up to its end (it changes rarely)."""
    blocks: list[dict[str, object]] = [{"type": "text", "text": prompt.system}]
    if block := glossary.prompt_block():
        blocks.append({"type": "text", "text": block})
    blocks[-1]["cache_control"] = {"type": "ephemeral"}
    return blocks


def user_text(paper: Paper, instructions: Sequence[str] = ()) -> str:
    text = f"제목: {paper.title}\n\n초록:\n{paper.abstract}"
    if instructions:
        text += "\n\n추가 지시(관리자의 교정, 반드시 따를 것):\n" + "\n".join(f"- {i}" for i in instructions)
    return text


def reask(reason: str | None, misses: Sequence[Miss]) -> str:
    """The re-ask after a rejected answer or a glossary miss, naming what was wrong."""
    reasons = [reason] if reason else []
    if misses:
        reasons.append("the glossary was not followed: " + "; ".join(m.describe() for m in misses))
    return REASK.format(reasons="; ".join(reasons))
