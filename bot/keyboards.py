"""Buttons under messages that the editor may edit again (an edit without its buttons would drop them):
◀ ▶ under a digest sent in answer to /week, and 🔎 (the deep brief) with 🚩 under a paper's answer."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot import texts_brief as tb
from bot.week import FIRST_WEEK, IsoWeek

REPORT_BUTTON = texts.REPORT_BUTTON
REPORT_PREFIX = "rp:"  # rp:<paper id>: a reader reports the paper's translation
BRIEF_PREFIX = "bf:"  # bf:<paper id>: a reader asks for the paper's deep brief (bot/handlers/brief.py)


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


def paper_buttons(paper_id: str, *, reportable: bool, briefable: bool = True) -> InlineKeyboardMarkup | None:
    """Under a paper's answer: 🔎 (its deep brief) unless it has nothing worth summarising (no
    abstract), 🚩 when it shows a translation; None when neither."""
    row = [InlineKeyboardButton(tb.BRIEF_BUTTON, callback_data=f"{BRIEF_PREFIX}{paper_id}")] if briefable else []
    if reportable:
        row.append(InlineKeyboardButton(REPORT_BUTTON, callback_data=f"{REPORT_PREFIX}{paper_id}"))
    return InlineKeyboardMarkup([row]) if row else None
