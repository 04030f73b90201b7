"""Translator: one Claude call per paper, structured output, validated, cached in Redis.

A translation that cannot be had (API errors after the SDK's retries, or an answer that fails
validation twice) is `None`: the paper is then `pending`. Nothing of an error ever becomes text.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.errors import StoreError
from bot.metrics import CLAUDE_TOKENS, TRANSLATION_CACHE, TRANSLATIONS
from bot.models import Paper, Translation, Usage
from bot.store import Store
from bot.week import IsoWeek

if TYPE_CHECKING:  # the SDK itself is imported where Claude is asked: it takes about 1.5 s to import
    import anthropic
    from anthropic.types import Message, MessageParam

log = logging.getLogger(__name__)

Counter = Callable[[int, int], None]  # (done, total)

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

MIN_HANGUL_SHARE = 0.35  # of letters (Hangul syllables vs Latin letters); English terms are allowed
MIN_SUMMARY_SENTENCES, MAX_SUMMARY_SENTENCES = 2, 4  # asked for 2–3; one more is tolerated, not worth a re-ask
_SENTENCE_END = re.compile(r"[.!?。](?=\s)")
MIN_LENGTH_RATIO = 0.25  # Korean is shorter than English, but not by four times: below that it is cut
REASK = (
    "The previous answer was rejected: {reason}. Translate the same paper again and answer with the "
    "complete JSON object (title_ko, summary_ko, abstract_ko), every number kept exactly."
)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title_ko: str
    summary_ko: str
    abstract_ko: str


class Rejected(Exception):
    """An answer that parsed as a response but is not a usable translation."""


@dataclass(frozen=True)
class PromptConfig:
    """The system prompt (config/prompt.md + config/glossary.toml) and its hash for the cache key."""

    system: str
    hash: str

    @classmethod
    def load(cls, directory: Path) -> PromptConfig:
        """Read the prompt and glossary; ValueError with the file and the problem if they are unusable."""
        try:
            prompt = (directory / "prompt.md").read_text(encoding="utf-8").strip()
            with (directory / "glossary.toml").open("rb") as fh:
                glossary = tomllib.load(fh)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read the translation prompt in {directory}: {exc}") from exc
        terms = glossary.get("terms", {})
        if not prompt or not isinstance(terms, dict) or not all(isinstance(v, str) for v in terms.values()):
            raise ValueError(f'{directory}: prompt.md is empty or glossary.toml\'s [terms] is not term = "번역" pairs')
        lines = [f"- {english} → {korean}" for english, korean in sorted(terms.items())]
        system = prompt + ("\n\n## 용어집 (반드시 따를 것)\n" + "\n".join(lines) if lines else "")
        return cls(system=system, hash=hashlib.sha256(system.encode()).hexdigest()[:16])


def content_hash(paper: Paper) -> str:
    return hashlib.sha256(f"{paper.title}\n{paper.abstract}".encode()).hexdigest()[:16]


_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# A number not glued to a preceding ASCII letter, digit or dot (so "Qwen2.5" is a name, not a number),
# with its percent sign if it has one.
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)(\s*(?:%|％|퍼센트))?")


def numbers_in(text: str) -> set[str]:
    return {m[1] + ("%" if m[2] else "") for m in _NUMBER.finditer(_THOUSANDS.sub("", text))}


def missing_numbers(source: str, translation: str) -> list[str]:
    return sorted(numbers_in(source) - numbers_in(translation))


def hangul_share(text: str) -> float:
    hangul = sum(1 for ch in text if "\uac00" <= ch <= "\ud7a3")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return hangul / (hangul + latin) if hangul + latin else 0.0


def validate(paper: Paper, message: Message) -> Translation:
    """The translation in Claude's answer, or Rejected with the reason (in English, for the re-ask)."""
    if message.stop_reason == "max_tokens":
        raise Rejected("the answer was cut off at the token limit (truncated)")
    if message.stop_reason == "refusal":
        raise Rejected("the model refused to answer")
    text = "".join(block.text for block in message.content if block.type == "text")
    try:
        answer = _Answer.model_validate_json(text)
    except ValidationError as exc:
        raise Rejected(f"the answer is not the required JSON object ({exc.error_count()} errors)") from exc
    for field in ("title_ko", "summary_ko", "abstract_ko"):
        if not getattr(answer, field):
            raise Rejected(f"{field} is empty")
    for field in ("abstract_ko", "summary_ko"):
        share = hangul_share(getattr(answer, field))
        if share < MIN_HANGUL_SHARE:
            raise Rejected(f"{field} is not Korean (Hangul is {share:.0%} of its letters)")
    if not any("\uac00" <= ch <= "\ud7a3" for ch in answer.title_ko):
        raise Rejected("title_ko has no Korean in it")
    sentences = len(_SENTENCE_END.findall(answer.summary_ko.strip() + " "))
    if not MIN_SUMMARY_SENTENCES <= sentences <= MAX_SUMMARY_SENTENCES:
        raise Rejected(f"summary_ko has {sentences} sentences; it must have 2 or 3")
    if len(answer.abstract_ko) < MIN_LENGTH_RATIO * len(paper.abstract):
        raise Rejected(
            f"abstract_ko has {len(answer.abstract_ko)} characters for an abstract of {len(paper.abstract)}: "
            "it is not a complete translation"
        )
    if missing := missing_numbers(paper.abstract, answer.abstract_ko):
        raise Rejected(f"abstract_ko lost numbers of the abstract: {', '.join(missing)}")
    return Translation(title_ko=answer.title_ko, summary_ko=answer.summary_ko, abstract_ko=answer.abstract_ko)


def _usage(message: Message) -> Usage:
    u = message.usage
    return Usage(
        calls=1,
        input_tokens=u.input_tokens,
        output_tokens=u.output_tokens,
        cache_creation_input_tokens=u.cache_creation_input_tokens or 0,
        cache_read_input_tokens=u.cache_read_input_tokens or 0,
    )


def _user_text(paper: Paper) -> str:
    return f"제목: {paper.title}\n\n초록:\n{paper.abstract}"


class Translator:
    def __init__(
        self,
        client: Callable[[], anthropic.AsyncAnthropic],
        store: Store,
        prompt: PromptConfig,
        *,
        model: str,
        tz: ZoneInfo,
        clock: Callable[[], datetime],
        concurrency: int = 5,
        max_tokens: int = 8192,
    ) -> None:
        self._tz = tz
        self._clock = clock
        self._make_client = client  # called on the first question: a cached digest never needs the SDK
        self._client: anthropic.AsyncAnthropic | None = None
        self._store = store
        self._prompt = prompt
        self._model = model
        self._max_tokens = max_tokens
        self._limit = asyncio.Semaphore(concurrency)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def cache_key(self, paper: Paper) -> str:
        return self._store.translation_key(paper.id, content_hash(paper), self._model, self._prompt.hash)

    async def cached(self, papers: Iterable[Paper]) -> dict[str, Translation]:
        papers = list(papers)
        found = await self._store.get_translations([self.cache_key(p) for p in papers])
        hits = {p.id: t for p, t in zip(papers, found, strict=True) if t is not None}
        TRANSLATION_CACHE.labels("hit").inc(len(hits))
        TRANSLATION_CACHE.labels("miss").inc(len(papers) - len(hits))
        return hits

    async def recently_failed(self, papers: Iterable[Paper]) -> set[str]:
        """Ids of the papers whose translation failed in the last FAILURE_MEMORY."""
        papers = list(papers)
        keys = {self.cache_key(p): p.id for p in papers}
        return {keys[key] for key in await self._store.recently_failed(list(keys))}

    async def translate_many(
        self, papers: Iterable[Paper], *, week: IsoWeek, progress: Counter | None = None
    ) -> dict[str, Translation | None]:
        """Every paper's translation (cached, or asked of Claude with bounded concurrency); None = pending."""
        papers = list(papers)
        results: dict[str, Translation | None] = dict(await self.cached(papers))
        todo = [p for p in papers if p.id not in results]
        total = len(papers)

        def report() -> None:
            if progress is not None:
                progress(len(results), total)

        report()

        async def one(paper: Paper) -> None:
            results[paper.id] = await self.translate(paper, week=week)
            report()

        try:
            async with asyncio.TaskGroup() as group:
                for paper in todo:
                    group.create_task(one(paper))
        except* StoreError as failures:  # Redis went away mid-run: one plain StoreError for the caller
            raise failures.exceptions[0] from None
        return results

    async def translate(self, paper: Paper, *, week: IsoWeek) -> Translation | None:
        """Ask Claude (one re-ask on a bad answer); cache and return the translation, or None."""
        import anthropic

        messages: list[MessageParam] = [{"role": "user", "content": _user_text(paper)}]
        reason = ""
        for attempt in (1, 2):
            try:
                message = await self._ask(messages, week)
            except anthropic.APIError as exc:
                log.warning("Translation of %s failed: Claude API error: %s", paper.id, _describe(exc))
                TRANSLATIONS.labels("api_error").inc()
                await self._store.mark_failed(self.cache_key(paper))
                return None
            try:
                translation = validate(paper, message)
            except Rejected as exc:
                reason = str(exc)
                TRANSLATIONS.labels("rejected").inc()
                log.info("Translation of %s rejected (attempt %d): %s", paper.id, attempt, reason)
                previous = "".join(b.text for b in message.content if b.type == "text") or "{}"
                messages = [
                    *messages,
                    {"role": "assistant", "content": previous},
                    {"role": "user", "content": REASK.format(reason=reason)},
                ]
                continue
            await self._store.save_translation(self.cache_key(paper), translation)
            TRANSLATIONS.labels("translated").inc()
            return translation
        log.warning("Translation of %s failed after a re-ask: %s", paper.id, reason)
        await self._store.mark_failed(self.cache_key(paper))
        return None

    async def _ask(self, messages: list[MessageParam], week: IsoWeek) -> Message:
        system: Any = [{"type": "text", "text": self._prompt.system, "cache_control": {"type": "ephemeral"}}]
        if self._client is None:
            self._client = self._make_client()
        async with self._limit:
            message = await self._client.messages.create(
                model=self._model,
                max_tokens=self._max_tokens,
                system=system,
                messages=messages,
                output_config={"format": {"type": "json_schema", "schema": OUTPUT_SCHEMA}},
            )
        usage = _usage(message)
        for kind, count in asdict(usage).items():
            if kind != "calls":
                CLAUDE_TOKENS.labels(kind.removesuffix("_tokens")).inc(count)
        try:
            await self._store.add_usage(week, usage, spent=IsoWeek.current(self._clock(), self._tz))
        except StoreError as exc:  # bookkeeping only: never worth losing a translation over
            log.warning("Could not record Claude usage for %s: %s", week, exc)
        return message


def _describe(exc: anthropic.APIError) -> str:
    import anthropic

    if isinstance(exc, anthropic.APIStatusError):
        return f"HTTP {exc.status_code} ({type(exc).__name__})"
    return type(exc).__name__
