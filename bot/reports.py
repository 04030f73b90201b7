"""Readers' reports of wrong translations (kept in Redis: bot/store/trust.py): one open report per person
and paper within a daily limit, the comment a reply to the bot's prompt adds, admins told once per paper
while it has open reports, and closing them (a correction, or an admin's /reports done). The handlers
(bot/handlers/reports.py, bot/handlers/trust.py) do the talking."""

from __future__ import annotations

from enum import StrEnum

from bot.config import Settings
from bot.models import ReaderReport
from bot.store import TrustStore
from bot.store.trust import REPORT_TTL


class Kept(StrEnum):
    ADDED = "added"
    ALREADY = "already"  # the person has an open report of the paper
    LIMIT = "limit"  # the person made their daily limit of reports: nothing kept


class Reports:
    def __init__(self, trust: TrustStore, settings: Settings) -> None:
        self._trust = trust
        self._settings = settings  # read when asked: the daily limit may change while the bot runs

    async def has(self, paper_id: str, user_id: int) -> bool:
        """Has this person an open report of the paper?"""
        return await self._trust.has_report(paper_id, user_id)

    async def add(self, report: ReaderReport) -> Kept:
        """Keep a report, within the person's daily limit (the day of `report.at` where the bot is)."""
        day = report.at.astimezone(self._settings.tz).date()
        return Kept(await self._trust.add_report(report, daily_limit=self._settings.report_daily_limit, day=day))

    async def first_of(self, paper_id: str) -> bool:
        """True for the first report of a paper while it has open reports (admins are told then), across
        processes; True again once they are closed."""
        return await self._trust.first_time(f"report:{paper_id}", ttl=REPORT_TTL)

    async def remember_prompt(self, chat_id: int, message_id: int, paper_id: str) -> None:
        """The message that asks the reporter for a comment: a reply to it is the comment."""
        await self._trust.remember_prompt(chat_id, message_id, paper_id)

    async def comment(self, chat_id: int, prompt_id: int, user_id: int, comment: str) -> bool:
        """Add a reply to the prompt `prompt_id` as the comment of the person's report; False when the
        prompt is unknown (or too old) or the report is closed."""
        paper_id = await self._trust.prompted_paper(chat_id, prompt_id)
        return paper_id is not None and await self._trust.comment_report(paper_id, user_id, comment)

    async def open(self) -> list[ReaderReport]:
        """Every open report, newest first."""
        return await self._trust.open_reports()

    async def close(self, paper_id: str) -> list[ReaderReport]:
        """Close the paper's open reports (a new one tells the admins again); the reports closed."""
        closed = await self._trust.close_reports(paper_id)
        await self._trust.forget_once(f"report:{paper_id}")
        return closed
