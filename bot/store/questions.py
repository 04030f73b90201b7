"""Questions answered from a paper (bot/ask.py): each person's recent questions and answers per paper,
which paper a bot message shows (a reply to it is a question about that paper), and each person's
questions of the day.

    qa:<user id>:<paper id>        list of JSON {"q", "a", "at"}: the person's last questions about the
                                   paper and the answers, oldest first (HISTORY kept), 1 hour after the last
    msgpaper:<chat id>:<msg id>    the paper a message of the bot's shows (a paper's answer, an answer to
                                   a question), 30 days
    ask:user:<user id>:<date>      how many questions the person asked that day (the bot's time zone), 2 days
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.store.base import StoreBase, call, dumps, log

HISTORY = 3  # questions and answers kept per person and paper
HISTORY_TTL = timedelta(hours=1)
MESSAGE_TTL = timedelta(days=30)


@dataclass(frozen=True)
class Exchange:
    """One question about a paper and the answer the person was shown."""

    question: str
    answer: str
    at: datetime


class QuestionStore(StoreBase):
    async def history(self, user_id: int, paper_id: str, *, now: datetime) -> list[Exchange]:
        """The person's last HISTORY questions about the paper and their answers, oldest first, within
        the last hour (`now` decides: the key's TTL is the backstop)."""
        raw: list[str] = await call(self._redis.lrange(self._key("qa", str(user_id), paper_id), 0, -1))
        kept = []
        for item in raw:
            try:
                data = json.loads(item)
                exchange = Exchange(str(data["q"]), str(data["a"]), datetime.fromisoformat(data["at"]))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("Ignoring an unreadable question of %s about %s: %s", user_id, paper_id, exc)
                continue
            if now - exchange.at < HISTORY_TTL:
                kept.append(exchange)
        return kept[-HISTORY:]

    async def add_exchange(self, user_id: int, paper_id: str, exchange: Exchange) -> None:
        """Keep a question and its answer (the oldest beyond HISTORY dropped); an hour from now."""
        key = self._key("qa", str(user_id), paper_id)
        item = dumps({"q": exchange.question, "a": exchange.answer, "at": exchange.at.isoformat()})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, item)
            pipe.ltrim(key, -HISTORY, -1)
            pipe.expire(key, HISTORY_TTL)
            await call(pipe.execute())

    async def remember_paper_messages(self, chat_id: int, message_ids: Iterable[int], paper_id: str) -> None:
        """These messages of the bot's show the paper: a reply to one of them asks about it."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for message_id in message_ids:
                pipe.set(self._key("msgpaper", str(chat_id), str(message_id)), paper_id, ex=MESSAGE_TTL)
            await call(pipe.execute())

    async def paper_of_message(self, chat_id: int, message_id: int) -> str | None:
        return await self._get(self._key("msgpaper", str(chat_id), str(message_id)))

    async def take_question(self, user_id: int, day: date, *, limit: int) -> int | None:
        """Count one question of the person's today: how many they have left after it, or None (nothing
        counted) when they have none left."""
        used = await self._count_up_to(self._question_key(user_id, day), limit, ttl=timedelta(days=2))
        return None if used is None else limit - used

    async def give_back_question(self, user_id: int, day: date) -> None:
        """A question that could not be answered costs the person nothing."""
        await call(self._redis.decr(self._question_key(user_id, day)))

    def _question_key(self, user_id: int, day: date) -> str:
        return self._key("ask", "user", str(user_id), day.isoformat())
