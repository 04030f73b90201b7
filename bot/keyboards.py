"""Buttons under messages that the editor may edit again (an edit without its buttons would drop them):
◀ ▶ under a digest sent in answer to /week, and 🚩 under a paper's translation."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.week import FIRST_WEEK, IsoWeek

REPORT_BUTTON = texts.REPORT_BUTTON
REPORT_PREFIX = "rp:"  # rp:<paper id>: a reader reports the paper's translation


def week_nav(week: IsoWeek, last: IsoWeek) -> InlineKeyboardMarkup:
    """◀ ▶ to the neighbouring weeks that have papers (none before FIRST_WEEK, none after `last`, the
    last completed week)."""
    row = []
    if week > FIRST_WEEK:
        row.append(InlineKeyboardButton(f"◀ {week.previous()}", callback_data=f"w:{week.previous()}"))
    if week.next() <= last:
        row.append(InlineKeyboardButton(f"{week.next()} ▶", callback_data=f"w:{week.next()}"))
    return InlineKeyboardMarkup([row] if row else [])


def report_button(paper_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(REPORT_BUTTON, callback_data=f"{REPORT_PREFIX}{paper_id}")]])
