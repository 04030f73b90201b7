"""A paper's first figure for /paper: the image arXiv's HTML shows first (bot/sources/fulltext.py
`first_figure`) with its caption in Korean, sent after the text answer (bot/handlers/paper.py).

- The caption: one small question to Claude (`caption_ko`, counted in the on-demand budget), through
  the faithfulness gate against the English caption (bot/faithful.py `check_text`: every name and number
  of the Korean occurs in it; Korean, no link it lacks); one re-ask naming what was wrong. A good answer
  is kept in Redis by paper, model and caption (`figcap:`, 400 days); a caption Claude could not translate
  faithfully is kept as "" for a day. When Claude fails, the budget is spent or the gate rejects twice, the
  English caption is shown marked "번역 준비 중": never a guess.
- Telegram's limit: a photo's caption is at most 1,024 UTF-16 units after entity parsing; a longer one is
  cut at a sentence (else a word) boundary with "…". Everything is HTML-escaped.
- Background work: `spawn` runs a figure's sending as a task of its own, tracked; `stop` cancels those
  still running (shutdown). A failure there is logged, never told to the reader.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.claude import Claude, describe
from bot.faithful import check_text
from bot.glossary import Glossary
from bot.models import Figure, Paper
from bot.sources.fulltext import FullTextSource
from bot.store import PaperStore
from bot.store.fulltext import FullTextStore
from bot.texts import PENDING_KO
from bot.tghtml import esc, plain_text, utf16_length
from bot.validate import Rejected, answer_text, foreign_links, text_of
from bot.week import IsoWeek

if TYPE_CHECKING:
    from anthropic.types import MessageParam

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024  # UTF-16 units of a photo's caption after entity parsing (Telegram's limit)
CAPTION_MAX_TOKENS = 2048  # a caption's translation is short: a cut answer is rejected and re-asked
CAPTION_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {"caption_ko": {"type": "string"}},
    "required": ["caption_ko"],
    "additionalProperties": False,
}
CAPTION_SYSTEM = (
    "You translate the caption of a figure of a machine-learning paper into natural Korean for Korean "
    "researchers. Keep every name (models, datasets, methods, benchmarks) exactly as written, every number "
    "and unit exactly as written, and LaTeX as it is. Add nothing the caption does not say: no explanation, "
    'no numbers, no names of your own. Answer with JSON: {"caption_ko": "..."}.'
)
PENDING_MARK = f"\n\n⏳ <b>{esc(PENDING_KO)}</b>"
_SENTENCE_END = re.compile(r"[.!?。](?=\s)")


def caption_prompt(caption: str) -> str:
    return f"그림 캡션:\n{caption}"


def cut(text: str, limit: int) -> str:
    """`text` within `limit` UTF-16 units: whole when it fits, else cut at the last sentence end (or, when
    that would drop more than half, the last space) before the limit, with "…"."""
    if utf16_length(text) <= limit:
        return text
    head = text[: limit - 1]
    while utf16_length(head) > limit - 1:
        head = head[:-1]
    ends = [m.end() for m in _SENTENCE_END.finditer(head) if m.end() >= len(head) // 2]
    if ends:
        head = head[: ends[-1]]
    elif (space := head.rfind(" ")) >= len(head) // 2:
        head = head[:space]
    return head.rstrip() + "…"


def caption_html(english: str, korean: str | None) -> str:
    """The photo's caption (Telegram HTML within CAPTION_LIMIT): the Korean caption, else the English one
    marked "번역 준비 중"; "" for a figure without a caption."""
    if not english:
        return ""
    if korean:
        return esc(cut(korean, CAPTION_LIMIT))
    return esc(cut(english, CAPTION_LIMIT - utf16_length(plain_text(PENDING_MARK)))) + PENDING_MARK


def gate_caption(english: str, message: object, glossary: Glossary) -> str:
    """Claude's answer as a Korean caption that passed the gate, or Rejected with the reason."""
    try:
        data = json.loads(answer_text(message))
    except ValueError as exc:
        raise Rejected("not_json", f"the answer is not the JSON object asked for ({exc})") from exc
    korean = data.get("caption_ko") if isinstance(data, dict) else None
    if not isinstance(korean, str) or not korean.strip():
        raise Rejected("schema", 'the answer has no "caption_ko" text')
    korean = " ".join(korean.split())
    if not re.search(r"[\uac00-\ud7a3]", korean):
        raise Rejected("not_korean", "caption_ko is not Korean")
    if links := foreign_links(english, korean):
        raise Rejected("link", f"caption_ko has a link the caption does not: {links[0]}")
    check_text(english, {"caption_ko": korean}, glossary)
    return korean


@dataclass(frozen=True)
class FigurePost:
    """What is sent: the image's URL and its caption (Telegram HTML; "" for none)."""

    url: str
    caption: str
    translated: bool  # the caption is Claude's Korean (False: English marked 번역 준비 중, or none)


class CaptionTranslator:
    def __init__(
        self,
        claude: Claude,
        glossary: Callable[[], Awaitable[Glossary]],
        *,
        papers: PaperStore,
        cache: FullTextStore,
        daily_tokens: int,
        tz: ZoneInfo,
        clock: Callable[[], datetime],
    ) -> None:
        self._claude = claude
        self._glossary = glossary
        self._papers = papers  # the on-demand budget
        self._cache = cache
        self._daily_tokens = daily_tokens
        self._tz = tz
        self._clock = clock
        self._inflight: dict[str, asyncio.Future[str | None]] = {}  # by cache key: one question each

    def key(self, paper_id: str, caption: str) -> str:
        return f"{paper_id}:{self._claude.model}:{hashlib.sha256(caption.encode()).hexdigest()[:16]}"

    async def korean(self, paper_id: str, caption: str) -> str | None:
        """The caption in Korean, from Redis or Claude; None when there is none to show (Claude failed,
        the day's on-demand budget is spent, the gate rejected it twice)."""
        key = self.key(paper_id, caption)
        cached = await self._cache.get_caption_ko(key)
        if cached is not None:
            return cached or None
        running = self._inflight.get(key)
        if running is None:
            running = asyncio.ensure_future(self._translate(paper_id, caption, key))
            self._inflight[key] = running
            running.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(running)

    async def _translate(self, paper_id: str, caption: str, key: str) -> str | None:
        now = self._clock()
        spent = await self._papers.on_demand_usage(day=now.astimezone(self._tz).date())
        if spent.input_tokens + spent.output_tokens >= self._daily_tokens:
            log.info("Caption of %s's figure left in English: the on-demand budget is spent", paper_id)
            return None
        sdk = await self._claude.sdk()
        glossary = await self._glossary()
        system: list[dict[str, object]] = [{"type": "text", "text": CAPTION_SYSTEM}]
        messages: list[MessageParam] = [{"role": "user", "content": caption_prompt(caption)}]
        for attempt in (1, 2):
            try:
                message = await self._claude.ask(
                    system, messages, IsoWeek.current(now, self._tz), on_demand=True, schema=CAPTION_SCHEMA,
                    max_tokens=CAPTION_MAX_TOKENS,
                )  # fmt: skip
            except sdk.APIError as exc:
                log.warning("Caption of %s's figure: Claude API error: %s", paper_id, describe(exc))
                return None
            try:
                korean = gate_caption(caption, message, glossary)
            except Rejected as exc:
                log.info("Caption of %s's figure rejected (attempt %d): %s", paper_id, attempt, exc)
                messages = [
                    *messages,
                    {"role": "assistant", "content": text_of(message) or "{}"},
                    {"role": "user", "content": f"Rejected: {exc}. Translate the caption again, faithfully."},
                ]
                continue
            await self._cache.save_caption_ko(key, korean)
            return korean
        await self._cache.save_caption_ko(key, "")
        return None


class Figures:
    """The first figure of a paper as /paper sends it, and the tasks that send it."""

    def __init__(self, source: FullTextSource, captions: CaptionTranslator) -> None:
        self._source = source
        self._captions = captions
        self._tasks: set[asyncio.Task[None]] = set()

    async def post(self, paper: Paper) -> FigurePost | None:
        """The paper's first figure with its caption (None: it has none). SourceError/StoreError as the
        sources and Redis raise them."""
        figure: Figure | None = await self._source.first_figure(paper)
        if figure is None:
            return None
        korean = await self._captions.korean(paper.id, figure.caption) if figure.caption else None
        return FigurePost(figure.url, caption_html(figure.caption, korean), korean is not None)

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run `work` in the background (its failure logged); `stop` cancels it."""

        async def logged() -> None:
            try:
                await work
            except Exception:  # background work: nobody to raise to; the reader is told nothing
                log.warning("%s failed", name, exc_info=True)

        task = asyncio.get_running_loop().create_task(logged(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def wait_idle(self) -> None:
        """Wait until every figure under way has been sent (or given up): for tests and benchmarks."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel the figures still being prepared or sent (shutdown), and wait for them to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
