"""Translator: one Claude call per paper, structured output, through the gate, cached in Redis.

Every answer passes the gate (bot/faithful.py: form and faithfulness). A rejected answer is re-asked
once, naming what was wrong; a glossary miss is re-asked once, naming the terms, then accepted and
counted (style, not fact). A translation that cannot be had (API errors after the SDK's retries, or
an answer rejected twice) is `None`: the paper is then `pending`. Nothing of an error ever becomes
text. A paper whose abstract is too short or a placeholder is never sent to Claude.

The cache key holds the paper's title and abstract, the model, config/prompt.md and an admin's
instructions for the paper (a correction, /retranslate); not the glossary, so that a glossary change
applies to new translations without retranslating every cached one. A translation saved means the
paper's text changed: the messages that show it are queued for the editor (bot/editor.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.claude import Claude, describe
from bot.errors import StoreError
from bot.faithful import gate, unsummarisable
from bot.glossary import Glossary, Miss, override_value
from bot.metrics import GLOSSARY_MISSED, TRANSLATION_CACHE, TRANSLATIONS, VALIDATION_REJECTED
from bot.models import Paper, Translation
from bot.prompt import PromptConfig, reask, system_blocks, user_text
from bot.store import EditStore, PaperStore, TrustStore
from bot.store.trust import instructions_hash
from bot.validate import Rejected, text_of
from bot.week import IsoWeek

if TYPE_CHECKING:
    from anthropic.types import MessageParam

log = logging.getLogger(__name__)

Counter = Callable[[int, int], None]  # (done, total)


def content_hash(paper: Paper) -> str:
    return hashlib.sha256(f"{paper.title}\n{paper.abstract}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Outcome:
    translation: Translation | None
    reason: str = ""  # why there is none (the gate's last word, or an API error), in English
    kind: str = ""  # the gate's reason code (bot/validate.py, bot/faithful.py), "" for anything else


class Translator:
    def __init__(
        self,
        claude: Claude,
        prompt: PromptConfig,
        *,
        papers: PaperStore,
        trust: TrustStore,
        edits: EditStore,
        tz: ZoneInfo,
        clock: Callable[[], datetime],
    ) -> None:
        self._claude = claude
        self._papers = papers  # the cache
        self._trust = trust  # the glossary's edits, admins' instructions, the gate's counts
        self._edits = edits  # a translation saved queues the messages that show it
        self._prompt = prompt
        self._tz = tz
        self._clock = clock
        self._glossary: tuple[dict[str, str], Glossary] = ({}, prompt.glossary)

    @property
    def model(self) -> str:
        return self._claude.model

    @property
    def claude(self) -> Claude:
        """The one Claude client (its concurrency and token counts), for other questions than translations."""
        return self._claude

    @property
    def default_glossary(self) -> Glossary:
        """config/glossary.toml's terms, before the chat's edits."""
        return self._prompt.glossary

    async def aclose(self) -> None:
        await self._claude.aclose()

    async def glossary(self) -> Glossary:
        """The glossary as it stands: config/glossary.toml with the chat's edits (/glossary) on top."""
        overrides = await self._trust.glossary_overrides()
        if overrides != self._glossary[0]:  # compiled once per change
            self._glossary = (overrides, self._prompt.glossary.with_overrides(overrides))
        return self._glossary[1]

    async def add_term(self, english: str, korean: str) -> None:
        """An admin's term (/glossary add), or a new rendering of a term the glossary has."""
        await self._trust.set_glossary_term(english.lower(), override_value(english, korean))

    async def remove_term(self, english: str) -> bool:
        """Take a term out of the glossary (/glossary remove); False when the glossary has no such term."""
        if (await self.glossary()).find(english) is None:
            return False
        if self.default_glossary.find(english) is not None:
            await self._trust.set_glossary_term(english.lower(), "")  # a default term: kept out of the file's list
        else:
            await self._trust.drop_glossary_edit(english.lower())
        return True

    async def instructions(self, paper_id: str) -> tuple[str, ...]:
        """The admins' instructions kept for a paper (/retranslate), oldest first."""
        return (await self._trust.instructions([paper_id])).get(paper_id, ())

    # --- the cache ---------------------------------------------------------------------------------

    def key(self, paper: Paper, instructions: Sequence[str] = ()) -> str:
        return self._papers.translation_key(
            paper.id, content_hash(paper), self.model, self._prompt.hash, instructions_hash(instructions)
        )

    async def cache_keys(self, papers: Sequence[Paper]) -> dict[str, str]:
        """Each paper's cache key (by id), with the instructions kept for it."""
        instructions = await self._trust.instructions([p.id for p in papers])
        return {p.id: self.key(p, instructions.get(p.id, ())) for p in papers}

    async def cached(self, papers: Iterable[Paper]) -> dict[str, Translation]:
        papers = list(papers)
        keys = await self.cache_keys(papers)
        found = await self._papers.get_translations([keys[p.id] for p in papers])
        hits = {p.id: t for p, t in zip(papers, found, strict=True) if t is not None}
        TRANSLATION_CACHE.labels("hit").inc(len(hits))
        TRANSLATION_CACHE.labels("miss").inc(len(papers) - len(hits))
        return hits

    async def recently_failed(self, papers: Iterable[Paper]) -> set[str]:
        """Ids of the papers whose translation failed in the last FAILURE_MEMORY."""
        keys = {key: pid for pid, key in (await self.cache_keys(list(papers))).items()}
        return {keys[key] for key in await self._papers.recently_failed(list(keys))}

    # --- translating -------------------------------------------------------------------------------

    async def translate_many(
        self, papers: Iterable[Paper], *, week: IsoWeek, progress: Counter | None = None
    ) -> dict[str, Translation | None]:
        """Every paper's translation (cached, or asked of Claude with bounded concurrency); None = pending
        (or a paper with nothing to translate: `unsummarisable`)."""
        papers = list(papers)
        results: dict[str, Translation | None] = dict(await self.cached(papers))
        results.update({p.id: None for p in papers if p.id not in results and unsummarisable(p)})
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
        if (why := unsummarisable(paper)) is not None:
            log.info("Not translating %s: %s", paper.id, why)
            return None
        instructions = await self.instructions(paper.id)
        outcome = await self._translate(paper, week, instructions, on_demand=on_demand)
        if outcome.translation is None:
            await self._papers.mark_failed(self.key(paper, instructions))
            return None
        await self._save(self.key(paper, instructions), paper, outcome.translation)
        return outcome.translation

    async def correct(self, paper: Paper, week: IsoWeek, instructions: Sequence[str]) -> Outcome:
        """An admin's correction: translate again with `instructions` (kept with the translation: part
        of its key); on success it replaces the paper's translation, marked corrected, and the
        instructions are kept for later translations of the paper. On failure nothing changes."""
        if (why := unsummarisable(paper)) is not None:
            return Outcome(None, why, "no_abstract")
        previous = (await self.cached([paper])).get(paper.id)
        outcome = await self._translate(paper, week, instructions, on_demand=False)
        if outcome.translation is None:
            return outcome
        first = previous.translated_at if previous is not None else None
        corrected = replace(outcome.translation, translated_at=first or self._clock(), corrected_at=self._clock())
        await self._save(self.key(paper, instructions), paper, corrected, instructions=instructions)
        return Outcome(corrected)

    async def _save(
        self, key: str, paper: Paper, translation: Translation, *, instructions: Sequence[str] | None = None
    ) -> None:
        """Cache the translation (and, for a correction, the instructions its key names: before anyone
        is told, so that every process reads the new one), then queue the messages that show it."""
        await self._papers.save_translation(key, translation)
        if instructions is not None:
            await self._trust.set_instructions(paper.id, instructions)
        TRANSLATIONS.labels("translated").inc()
        await self._edits.paper_changed(paper.id)  # messages showing it are brought up to date

    async def _translate(self, paper: Paper, week: IsoWeek, instructions: Sequence[str], *, on_demand: bool) -> Outcome:
        """Ask, gate, re-ask once: the translation (with its maker and date), or why there is none."""
        sdk = await self._claude.sdk()
        glossary = await self.glossary()
        system = system_blocks(self._prompt, glossary)
        messages: list[MessageParam] = [{"role": "user", "content": user_text(paper, instructions)}]
        reason, kind = "", ""
        kept: tuple[Translation, list[Miss]] | None = None  # passed the gate, but missed the glossary
        for attempt in (1, 2):
            try:
                message = await self._claude.ask(system, messages, week, on_demand=on_demand)
            except sdk.APIError as exc:
                log.warning("Translation of %s failed: Claude API error: %s", paper.id, describe(exc))
                TRANSLATIONS.labels("api_error").inc()
                return Outcome(None, f"Claude API error: {describe(exc)}", "api_error")
            misses: list[Miss] = []
            try:
                translation = gate(paper, message, glossary)
                misses = glossary.misses(paper.abstract, translation.abstract_ko)
            except Rejected as exc:
                reason, kind = str(exc), exc.reason
                await self._rejected(exc.reason)
                log.info("Translation of %s rejected (attempt %d): %s", paper.id, attempt, reason)
            else:
                if not misses or attempt == 2:
                    return await self._accepted(paper, translation, misses)
                kept = (translation, misses)
                log.info("Translation of %s missed the glossary: %s", paper.id, [m.term.english for m in misses])
            previous = text_of(message) or "{}"
            messages = [
                *messages,
                {"role": "assistant", "content": previous},
                {"role": "user", "content": reask(reason if not misses else None, misses)},
            ]
            reason = reason if not misses else ""
        if kept is not None:  # the re-ask for style went wrong: the first answer was sound
            return await self._accepted(paper, *kept)
        log.warning("Translation of %s failed after a re-ask: %s", paper.id, reason)
        return Outcome(None, reason, kind)

    async def _accepted(self, paper: Paper, translation: Translation, misses: Sequence[Miss]) -> Outcome:
        if misses:
            await self._missed(paper, misses)
        return Outcome(replace(translation, model=self.model, translated_at=self._clock()))

    async def _rejected(self, reason: str) -> None:
        VALIDATION_REJECTED.labels(reason).inc()
        TRANSLATIONS.labels("rejected").inc()
        try:
            await self._trust.count_rejection(self._this_week(), reason)
        except StoreError as exc:  # bookkeeping only
            log.warning("Could not count a rejected translation: %s", exc)

    async def _missed(self, paper: Paper, misses: Sequence[Miss]) -> None:
        GLOSSARY_MISSED.inc(len(misses))
        log.info("Translation of %s accepted with glossary misses: %s", paper.id, [m.term.english for m in misses])
        try:
            await self._trust.count_glossary_misses(self._this_week(), paper.id, [m.term.english for m in misses])
        except StoreError as exc:  # bookkeeping only
            log.warning("Could not count glossary misses: %s", exc)

    def _this_week(self) -> IsoWeek:
        return IsoWeek.current(self._clock(), self._tz)
