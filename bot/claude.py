"""Asking Claude: the SDK imported once off the event loop, the client made on the first question, at
most `concurrency` questions at once, and every answer's tokens counted (against the digest's week, or
the on-demand budget)."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.errors import StoreError
from bot.metrics import CLAUDE_TOKENS
from bot.models import Usage
from bot.prompt import OUTPUT_SCHEMA
from bot.store import PaperStore
from bot.week import IsoWeek

if TYPE_CHECKING:  # the SDK itself is imported where Claude is asked: it takes about 1.5 s to import
    import anthropic
    from anthropic.types import MessageParam

log = logging.getLogger(__name__)

TIMEOUT = 180.0  # seconds for one answer of Claude's


def usage_of(message: object) -> Usage | None:
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


def describe(exc: Exception) -> str:
    import anthropic

    if isinstance(exc, anthropic.APIStatusError):
        return f"HTTP {exc.status_code} ({type(exc).__name__})"
    return type(exc).__name__


def sdk_client(api_key: str, *, base_url: str | None, max_retries: int) -> Callable[[], anthropic.AsyncAnthropic]:
    """What makes the SDK's client: called on the first question to Claude (importing the SDK is slow)."""

    def make() -> anthropic.AsyncAnthropic:
        from anthropic import AsyncAnthropic

        # The SDK retries 408/409/429/5xx/529 `max_retries` times.
        return AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=TIMEOUT)

    return make


class Claude:
    def __init__(
        self,
        client: Callable[[], anthropic.AsyncAnthropic],
        papers: PaperStore,
        *,
        model: str,
        tz: ZoneInfo,
        clock: Callable[[], datetime],
        concurrency: int = 5,
        max_tokens: int = 8192,
    ) -> None:
        self.model = model
        self._make_client = client  # called on the first question: a cached digest never needs the SDK
        self._client: anthropic.AsyncAnthropic | None = None
        self._papers = papers
        self._tz = tz
        self._clock = clock
        self._max_tokens = max_tokens
        self._limit = asyncio.Semaphore(concurrency)
        self._sdk_import: asyncio.Future[ModuleType] | None = None

    async def sdk(self) -> ModuleType:
        """The SDK's first import takes a second or more: it is done in a thread, once, and every
        caller waits for that one (an `import` on the event loop meanwhile would block it on the
        import lock: lock renewals and replies would stall)."""
        importing = self._sdk_import
        if importing is None:
            importing = self._sdk_import = asyncio.ensure_future(
                asyncio.to_thread(importlib.import_module, "anthropic")
            )
        return await asyncio.shield(importing)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def ask(
        self,
        system: Sequence[dict[str, object]],
        messages: list[MessageParam],
        week: IsoWeek,
        *,
        on_demand: bool,
        schema: dict[str, object] = OUTPUT_SCHEMA,
        max_tokens: int | None = None,
    ) -> object:
        """Claude's answer in the JSON of `schema` (a translation's by default): a Message, or whatever a
        proxy in between answered 200 with. API errors (after the SDK's retries) are raised as the SDK's."""
        await self.sdk()
        if self._client is None:
            self._client = self._make_client()
        blocks: Any = list(system)
        async with self._limit:
            message = await self._client.messages.create(
                model=self.model,
                max_tokens=max_tokens or self._max_tokens,
                system=blocks,
                messages=messages,
                output_config={"format": {"type": "json_schema", "schema": schema}},
            )
        usage = usage_of(message)
        if usage is None:  # not a Messages response: the gate says so, and the paper is re-asked
            return message
        for kind, count in asdict(usage).items():
            if kind != "calls":
                CLAUDE_TOKENS.labels(kind.removesuffix("_tokens")).inc(count)
        now = self._clock()
        try:
            if on_demand:
                await self._papers.add_on_demand_usage(
                    usage, day=now.astimezone(self._tz).date(), spent=IsoWeek.current(now, self._tz)
                )
            else:
                await self._papers.add_usage(week, usage, spent=IsoWeek.current(now, self._tz))
        except StoreError as exc:  # bookkeeping only: never worth losing a translation over
            log.warning("Could not record Claude usage for %s: %s", week, exc)
        return message
