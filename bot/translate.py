"""Translator: one Claude call per paper, structured output, validated, cached in Redis.

A translation that cannot be had (API errors after the SDK's retries, or an answer that fails
validation twice) is `None`: the paper is then `pending`. Nothing of an error ever becomes text.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import logging
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.errors import StoreError
from bot.metrics import CLAUDE_TOKENS, TRANSLATION_CACHE, TRANSLATIONS
from bot.models import Paper, Translation, Usage
from bot.store import Store
from bot.validate import Rejected, text_of, validate
from bot.week import IsoWeek

if TYPE_CHECKING:  # the SDK itself is imported where Claude is asked: it takes about 1.5 s to import
    import anthropic
    from anthropic.types import MessageParam

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

REASK = (
    "The previous answer was rejected: {reason}. Translate the same paper again and answer with the "
    "complete JSON object (title_ko, summary_ko, abstract_ko), every number kept exactly."
)


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


def _usage(message: object) -> Usage | None:
    """The tokens an answer cost; None when the answer carries no usage (it is not a Messages response)."""
    u = getattr(message, "usage", None)
    if u is None:
        return None
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
        self._sdk_import: asyncio.Future[ModuleType] | None = None

    async def _sdk_imported(self) -> None:
        """The SDK's first import takes a second or more: it is done in a thread, once, and every
        caller waits for that one (an `import` on the event loop meanwhile would block it on the
        import lock: lock renewals and replies would stall)."""
        importing = self._sdk_import
        if importing is None:
            importing = self._sdk_import = asyncio.ensure_future(
                asyncio.to_thread(importlib.import_module, "anthropic")
            )
        await asyncio.shield(importing)

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

    async def translate(self, paper: Paper, *, week: IsoWeek, on_demand: bool = False) -> Translation | None:
        """Ask Claude (one re-ask on a bad answer); cache and return the translation, or None.
        `on_demand`: asked by someone (/paper), its tokens counted apart from the weekly digests'."""
        await self._sdk_imported()
        import anthropic

        messages: list[MessageParam] = [{"role": "user", "content": _user_text(paper)}]
        reason = ""
        for attempt in (1, 2):
            try:
                message = await self._ask(messages, week, on_demand)
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
                previous = text_of(message) or "{}"
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

    async def _ask(self, messages: list[MessageParam], week: IsoWeek, on_demand: bool) -> object:
        """Claude's answer: a Message, or whatever a proxy in between answered 200 with."""
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
        if usage is None:  # not a Messages response: validate() says so, and the paper is re-asked
            return message
        for kind, count in asdict(usage).items():
            if kind != "calls":
                CLAUDE_TOKENS.labels(kind.removesuffix("_tokens")).inc(count)
        now = self._clock()
        try:
            if on_demand:
                await self._store.add_on_demand_usage(
                    usage, day=now.astimezone(self._tz).date(), spent=IsoWeek.current(now, self._tz)
                )
            else:
                await self._store.add_usage(week, usage, spent=IsoWeek.current(now, self._tz))
        except StoreError as exc:  # bookkeeping only: never worth losing a translation over
            log.warning("Could not record Claude usage for %s: %s", week, exc)
        return message


def _describe(exc: anthropic.APIError) -> str:
    import anthropic

    if isinstance(exc, anthropic.APIStatusError):
        return f"HTTP {exc.status_code} ({type(exc).__name__})"
    return type(exc).__name__
