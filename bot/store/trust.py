"""What keeps translations trustworthy: the chat's glossary edits, admins' correction instructions per
paper, the gate's rejections and glossary misses per week, and readers' reports."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from pydantic import TypeAdapter

from bot.models import ReaderReport
from bot.store.base import StoreBase, call, dumps
from bot.week import IsoWeek

GATE_TTL = timedelta(days=60)
RECENT_MISSES = 20  # glossary misses listed in /status
REPORT_TTL = timedelta(days=90)  # an open report nobody closed is forgotten after this
PROMPT_TTL = timedelta(days=1)  # how long a report's "add a comment" prompt takes a reply

_REPORT = TypeAdapter(ReaderReport)


def instructions_hash(instructions: Sequence[str]) -> str:
    """The part of a translation's cache key that names the admins' instructions ("" without any)."""
    return hashlib.sha256("\n".join(instructions).encode()).hexdigest()[:12] if instructions else ""


@dataclass(frozen=True)
class GateCounts:
    """A week's rejections by reason, and its glossary misses by term (with the latest papers)."""

    rejected: dict[str, int]
    missed: dict[str, int]
    recent: list[str]  # "paper: term", newest first


class TrustStore(StoreBase):
    # --- the glossary's chat edits (bot/glossary.py) ----------------------------------------------

    async def glossary_overrides(self) -> dict[str, str]:
        """English term (lower case) -> "English=한국어" added or changed in chat, or "" removed."""
        found: dict[str, str] = await call(self._redis.hgetall(self._key("glossary")))
        return found

    async def set_glossary_term(self, key: str, value: str) -> None:
        """Add or change a term (`value`), or mark a default term removed ("")."""
        await call(self._redis.hset(self._key("glossary"), key, value))

    async def drop_glossary_edit(self, key: str) -> None:
        """Forget the chat's edit of a term (a term added in chat is then gone; a default is back)."""
        await call(self._redis.hdel(self._key("glossary"), key))

    # --- admins' instructions per paper (/retranslate) ---------------------------------------------

    async def instructions(self, paper_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The instructions kept for each of these papers (those that have any)."""
        if not paper_ids:
            return {}
        raw: list[str | None] = await call(self._redis.hmget(self._key("instructions"), list(paper_ids)))
        return {pid: tuple(json.loads(value)) for pid, value in zip(paper_ids, raw, strict=True) if value}

    async def set_instructions(self, paper_id: str, instructions: Sequence[str]) -> None:
        key = self._key("instructions")
        await call(
            self._redis.hset(key, paper_id, dumps(list(instructions)))
            if instructions
            else self._redis.hdel(key, paper_id)
        )

    # --- the gate's counts (/status) ------------------------------------------------------------

    async def count_rejection(self, week: IsoWeek, reason: str) -> None:
        key = self._key("gate", str(week))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, reason, 1)
            pipe.expire(key, GATE_TTL)
            await call(pipe.execute())

    async def count_glossary_misses(self, week: IsoWeek, paper_id: str, terms: Sequence[str]) -> None:
        counts, recent = self._key("gate", str(week), "glossary"), self._key("gate", str(week), "recent")
        async with self._redis.pipeline(transaction=True) as pipe:
            for term in terms:
                pipe.hincrby(counts, term, 1)
                pipe.lpush(recent, f"{paper_id}: {term}")
            pipe.ltrim(recent, 0, RECENT_MISSES - 1)
            pipe.expire(counts, GATE_TTL)
            pipe.expire(recent, GATE_TTL)
            await call(pipe.execute())

    async def gate_counts(self, week: IsoWeek) -> GateCounts:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._key("gate", str(week)))
            pipe.hgetall(self._key("gate", str(week), "glossary"))
            pipe.lrange(self._key("gate", str(week), "recent"), 0, -1)
            rejected, missed, recent = await call(pipe.execute())
        return GateCounts(
            {k: int(v) for k, v in rejected.items()}, {k: int(v) for k, v in missed.items()}, list(recent)
        )

    # --- readers' reports ------------------------------------------------------------------------

    async def add_report(self, report: ReaderReport, *, daily_limit: int, day: date) -> str:
        """Keep a report: "added", "already" (this person has an open report of the paper) or "limit"
        (they made `daily_limit` reports today; nothing kept)."""
        paper, counter = (
            self._key("reports", report.paper_id),
            self._key("reports", "day", str(report.user_id), str(day)),
        )
        if await call(self._redis.hexists(paper, str(report.user_id))):
            return "already"
        if await self._count_up_to(counter, daily_limit, ttl=timedelta(days=2)) is None:
            return "limit"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(paper, str(report.user_id), _REPORT.dump_json(report))
            pipe.expire(paper, REPORT_TTL)
            pipe.zadd(self._key("reports", "open"), {report.paper_id: report.at.timestamp()})
            added, _, _ = await call(pipe.execute())
        if not added:  # a double tap: the other press kept it
            await call(self._redis.decr(counter))
            return "already"
        return "added"

    async def has_report(self, paper_id: str, user_id: int) -> bool:
        return bool(await call(self._redis.hexists(self._key("reports", paper_id), str(user_id))))

    async def comment_report(self, paper_id: str, user_id: int, comment: str) -> bool:
        """Add the reader's comment to their open report; False when it is closed (or was never made)."""
        key = self._key("reports", paper_id)
        raw = await call(self._redis.hget(key, str(user_id)))
        report = self._decode(_REPORT, raw, f"report of {paper_id}") if raw else None
        if report is None:
            return False
        await call(self._redis.hset(key, str(user_id), _REPORT.dump_json(replace(report, comment=comment))))
        return True

    async def open_reports(self) -> list[ReaderReport]:
        """Every open report, newest first."""
        papers: list[str] = await call(self._redis.zrevrange(self._key("reports", "open"), 0, -1))
        found: list[ReaderReport] = []
        for paper in papers:
            raw: dict[str, str] = await call(self._redis.hgetall(self._key("reports", paper)))
            if not raw:  # its reports expired (REPORT_TTL): no longer open
                await call(self._redis.zrem(self._key("reports", "open"), paper))
            found += [r for v in raw.values() if (r := self._decode(_REPORT, v, f"report of {paper}")) is not None]
        return sorted(found, key=lambda r: r.at, reverse=True)

    async def reports_of(self, paper_id: str) -> list[ReaderReport]:
        raw: dict[str, str] = await call(self._redis.hgetall(self._key("reports", paper_id)))
        return [r for v in raw.values() if (r := self._decode(_REPORT, v, f"report of {paper_id}")) is not None]

    async def close_reports(self, paper_id: str) -> list[ReaderReport]:
        """Close every open report of the paper; the reports closed (their reporters are told)."""
        reports = await self.reports_of(paper_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key("reports", paper_id))
            pipe.zrem(self._key("reports", "open"), paper_id)
            await call(pipe.execute())
        return reports

    async def remember_prompt(self, chat_id: int, message_id: int, paper_id: str) -> None:
        """The message that asks a reporter for a comment, so that a reply to it finds the report."""
        await call(
            self._redis.set(self._key("reports", "prompt", str(chat_id), str(message_id)), paper_id, ex=PROMPT_TTL)
        )

    async def prompted_paper(self, chat_id: int, message_id: int) -> str | None:
        return await self._get(self._key("reports", "prompt", str(chat_id), str(message_id)))
