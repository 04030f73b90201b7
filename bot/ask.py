"""Questions answered from a paper (`/ask <id or link> <질문>`, or a reply to a message of the bot's that
shows one paper): Claude answers in Korean from the paper's full text only (bot/sources/fulltext.py),
cites the section it used, and says "논문에 나오지 않는 내용입니다" when the paper does not say.

- The prompt (bot/ask_prompt.py): the instructions, then the full text as a cached block; then the
  person's last three questions and answers about the paper (kept an hour: bot/store/questions.py), then
  the question. A follow-up within five minutes reads the paper from the prompt cache.
- The gate (bot/ask_prompt.py `gate_answer`): every name and number of the answer is in the paper, the
  section is one of its sections. A rejected answer is re-asked once naming the violation; rejected
  twice, the person is told the answer could not be checked (nothing of it shown), and nothing counted.
- When the full text is only the abstract, the answer says so (`Answer.abstract_only`).
- Limits: `ask_daily_limit` questions a person a day (the bot's time zone; taken before Claude is asked,
  given back when no answer could be had), and the on-demand token budget of the day shared with /paper
  (`on_demand_daily_tokens`: the answers' tokens are counted in it by `Claude.ask(on_demand=True)`).
  Questions over `ask_max_chars` characters are refused before anything is asked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.ask_prompt import (
    ASK_SCHEMA,
    AskAnswer,
    gate_answer,
    paper_source,
    prepare,
    question_text,
    reask,
    system_blocks,
)
from bot.claude import Claude, describe
from bot.config import Settings
from bot.glossary import Glossary
from bot.metrics import VALIDATION_REJECTED
from bot.models import Paper
from bot.ondemand import OnDemand
from bot.sources.fulltext import FullTextSource
from bot.store import QuestionStore
from bot.store.questions import Exchange
from bot.validate import Rejected, text_of
from bot.week import IsoWeek

if TYPE_CHECKING:
    from anthropic.types import MessageParam

log = logging.getLogger(__name__)

ANSWER_MAX_TOKENS = 1024


class AskRefused(StrEnum):
    TOO_LONG = "too_long"  # over ask_max_chars: nothing asked
    USER_LIMIT = "user_limit"  # the person's questions for today are used up
    BUDGET = "budget"  # everyone's on-demand tokens for today are spent


@dataclass(frozen=True)
class Answered:
    answer: AskAnswer
    abstract_only: bool  # the paper's body could not be had: answered from its abstract
    remaining: int  # the person's questions left today


@dataclass(frozen=True)
class Unanswered:
    reason: str  # "unchecked" (rejected twice by the gate) or "api_error"; nothing was counted


class Questions:
    def __init__(
        self,
        ondemand: OnDemand,
        fulltext: FullTextSource,
        claude: Claude,
        glossary: Callable[[], Awaitable[Glossary]],
        settings: Settings,
        *,
        questions: QuestionStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._ondemand = ondemand  # finding papers, and the on-demand budget shared with /paper
        self._fulltext = fulltext
        self._claude = claude
        self._glossary = glossary
        self._settings = settings
        self._questions = questions
        self._clock = clock

    @property
    def ondemand(self) -> OnDemand:
        return self._ondemand

    def until_reset(self) -> timedelta:
        """How long until the daily limits start again (midnight in the bot's time zone)."""
        now = self._clock().astimezone(self._settings.tz)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=self._settings.tz)
        return midnight - now

    async def remember(self, chat_id: int, message_ids: list[int], paper_id: str) -> None:
        """These messages show the paper: a reply to one of them is a question about it."""
        await self._questions.remember_paper_messages(chat_id, message_ids, paper_id)

    async def paper_of(self, chat_id: int, message_id: int) -> str | None:
        """The paper a message of the bot's shows (None: not a paper's message, or too old)."""
        return await self._questions.paper_of_message(chat_id, message_id)

    def refusal(self, question: str) -> AskRefused | None:
        """Why the question is refused before anything is asked (too long), or None."""
        return AskRefused.TOO_LONG if len(question) > self._settings.ask_max_chars else None

    async def ask(self, paper: Paper, user_id: int, question: str) -> Answered | Unanswered | AskRefused:
        """The answer to the person's question about the paper, within their and everyone's limits."""
        if (refused := self.refusal(question)) is not None:
            return refused
        now = self._clock()
        today = now.astimezone(self._settings.tz).date()
        if await self._ondemand.budget_spent(today):
            return AskRefused.BUDGET
        limit = self._settings.ask_daily_limit
        remaining = await self._questions.take_question(user_id, today, limit=limit)
        if remaining is None:
            return AskRefused.USER_LIMIT
        outcome: Answered | Unanswered | None = None
        try:
            outcome = await self._answer(paper, user_id, question, now, remaining)
        finally:  # an error, a cancellation or no answer: the question costs nothing
            if not isinstance(outcome, Answered):
                await self._questions.give_back_question(user_id, today)
        return outcome

    async def _answer(
        self, paper: Paper, user_id: int, question: str, now: datetime, remaining: int
    ) -> Answered | Unanswered:
        """Ask Claude (one re-ask on an answer the gate rejects); the answer kept for follow-ups."""
        full = await self._fulltext.get(paper)
        history = await self._questions.history(user_id, paper.id, now=now)
        messages: list[MessageParam] = []
        for exchange in history:
            messages.append({"role": "user", "content": question_text(exchange.question)})
            messages.append({"role": "assistant", "content": exchange.answer})
        messages.append({"role": "user", "content": question_text(question)})
        system = system_blocks(paper, full)
        glossary = await self._glossary()
        sdk = await self._claude.sdk()
        week = IsoWeek.current(now, self._settings.tz)
        # The gate's index of the paper's names and numbers (worked out once per paper and text, about
        # 12 ms for 60,000 characters) is made in a thread while Claude answers, not after.
        prepared = asyncio.ensure_future(asyncio.to_thread(prepare, paper_source(paper, full), glossary))
        try:
            for attempt in (1, 2):
                try:
                    message = await self._claude.ask(
                        system, messages, week, on_demand=True, schema=ASK_SCHEMA, max_tokens=ANSWER_MAX_TOKENS
                    )
                except sdk.APIError as exc:
                    log.warning("Question about %s failed: Claude API error: %s", paper.id, describe(exc))
                    return Unanswered("api_error")
                await prepared
                try:
                    answer = gate_answer(paper, full, message, glossary)
                except Rejected as exc:
                    VALIDATION_REJECTED.labels(exc.reason).inc()
                    log.info("Answer about %s rejected (attempt %d): %s", paper.id, attempt, exc)
                    messages = [
                        *messages,
                        {"role": "assistant", "content": text_of(message) or "{}"},
                        {"role": "user", "content": reask(str(exc))},
                    ]
                    continue
                await self._questions.add_exchange(user_id, paper.id, Exchange(question, answer.as_json(), now))
                return Answered(answer, full.source == "abstract", remaining)
            return Unanswered("unchecked")
        finally:
            await asyncio.wait([prepared])  # never left behind (it takes at most those milliseconds)
