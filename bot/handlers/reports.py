"""Readers' reports of wrong translations: 🚩 under a paper's translation → what is wrong (four buttons)
→ kept (one open report per person and paper, a daily limit), admins told once per paper → an optional
one-line comment as a reply to the bot's question. In a group the button opens the bot's private chat
(`/start r_<id>`): a report and its questions are the reader's own."""

from __future__ import annotations

import logging

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot import texts_trust as tt
from bot.handlers.common import Context, Deps, answer_quietly, deps, edit, reply
from bot.keyboards import REPORT_PREFIX
from bot.metrics import READER_REPORTS
from bot.models import Paper, ReaderReport, ReportReason, Translation
from bot.paperid import deep_link_id, parse_paper_id
from bot.render import esc
from bot.reports import Kept
from bot.week import IsoWeek

log = logging.getLogger(__name__)

REASON_PREFIX = "rr:"  # rr:<reason>:<paper id>


async def _translated(d: Deps, paper_id: str) -> tuple[Paper, IsoWeek | None, Translation | None] | None:
    """The paper (from the archive or found lately), its week, its translation; None when unknown."""
    known = await d.digests.known_paper(paper_id)
    if known is None:
        return None
    paper, week = known
    translation = (await d.translator.cached([paper])).get(paper.id) if d.translator else None
    return paper, week, translation


async def _refusal(d: Deps, paper_id: str, user_id: int) -> str | None:
    """Why this person cannot report this paper now (plain text), or None."""
    found = await _translated(d, paper_id)
    if found is None:
        return tt.REPORT_UNKNOWN
    if found[2] is None:
        return tt.REPORT_NOT_TRANSLATED
    if await d.reports.has(paper_id, user_id):
        return tt.REPORT_ALREADY
    return None


async def ask_reason(update: Update, context: Context, paper_id: str) -> None:
    """The question "what is wrong?" with its four buttons (or why there is nothing to report)."""
    d, user = deps(context), update.effective_user
    if user is None:
        return
    if (refusal := await _refusal(d, paper_id, user.id)) is not None:
        await reply(update, context, refusal)
        return
    found = await _translated(d, paper_id)
    assert found is not None and found[2] is not None
    buttons = [
        InlineKeyboardButton(label, callback_data=f"{REASON_PREFIX}{reason.value}:{paper_id}")
        for reason, label in tt.REASONS.items()
    ]
    title = esc(found[2].title_ko[:200])
    await reply(update, context, tt.REPORT_ASK.format(title=title), InlineKeyboardMarkup([buttons[:2], buttons[2:]]))


async def report_pressed(update: Update, context: Context) -> None:
    """🚩 under a paper: the question in a private chat; in a group, the bot's private chat opens."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and query.data is not None and chat is not None
    paper_id = parse_paper_id(query.data.removeprefix(REPORT_PREFIX))
    if paper_id is None or user is None:
        await answer_quietly(query, tt.REPORT_UNKNOWN)
        return
    if chat.type != ChatType.PRIVATE:  # Telegram opens t.me/<bot>?start=… links given to a button's answer
        try:
            await query.answer(url=f"https://t.me/{context.bot.username}?start=r_{deep_link_id(paper_id)}")
        except TelegramError as exc:
            log.info("Could not send %s to the bot's private chat: %s", user.id, exc)
        return
    if (refusal := await _refusal(deps(context), paper_id, user.id)) is not None:
        await answer_quietly(query, refusal)  # a pop-up: the chat stays as it is
        return
    await answer_quietly(query)
    await ask_reason(update, context, paper_id)


async def reason_pressed(update: Update, context: Context) -> None:
    """One of the four reasons: the report is kept, admins told (once per paper), a comment asked for."""
    d, query, chat, user = deps(context), update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and query.data is not None and chat is not None
    code, _, raw_id = query.data.removeprefix(REASON_PREFIX).partition(":")
    paper_id = parse_paper_id(raw_id)
    found = await _translated(d, paper_id) if paper_id else None
    if user is None or paper_id is None or found is None or code not in {r.value for r in ReportReason}:
        await answer_quietly(query, tt.REPORT_UNKNOWN)
        return
    paper, week, translation = found
    reason = ReportReason(code)
    kept = await d.reports.add(
        ReaderReport(paper.id, user.id, chat.id, reason, d.clock(), week=str(week) if week else "")
    )
    if kept is not Kept.ADDED:
        limit = d.settings.report_daily_limit
        await answer_quietly(query, tt.REPORT_ALREADY if kept is Kept.ALREADY else tt.REPORT_LIMIT.format(limit=limit))
        return
    READER_REPORTS.labels(reason.value).inc()
    await answer_quietly(query, tt.REPORT_RECEIVED.format(reason=tt.REASONS[reason]))
    if isinstance(query.message, Message):
        await edit(query.message, tt.REPORT_RECEIVED.format(reason=tt.REASONS[reason]))
    prompt = await context.bot.send_message(
        chat.id, tt.REPORT_COMMENT_ASK, reply_markup=ForceReply(input_field_placeholder=tt.REPORT_COMMENT_PLACEHOLDER)
    )
    await d.reports.remember_prompt(chat.id, prompt.message_id, paper.id)
    if await d.reports.first_of(paper.id):  # admins: once per paper while open
        title = translation.title_ko if translation else paper.title
        await d.alerts.tell(tt.REPORT_ALERT.format(paper=paper.id, reason=tt.REASONS[reason], title=title[:300]))


class _ReplyToPrompt(filters.MessageFilter):
    """A reply to the bot's "add a comment" question."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return (
            replied is not None
            and replied.from_user is not None
            and replied.from_user.is_bot
            and (replied.text or "").startswith(tt.REPORT_COMMENT_ASK[:12])
        )


async def comment_replied(update: Update, context: Context) -> None:
    d, message, chat, user = deps(context), update.effective_message, update.effective_chat, update.effective_user
    assert message is not None and message.reply_to_message is not None and chat is not None
    line = " ".join((message.text or "").split())[: tt.REPORT_COMMENT_MAX]
    prompt_id = message.reply_to_message.message_id
    if user is None or not line or not await d.reports.comment(chat.id, prompt_id, user.id, line):
        await reply(update, context, tt.REPORT_COMMENT_CLOSED)
        return
    await reply(update, context, tt.REPORT_COMMENT_SAVED)


HANDLERS: list[BaseHandler] = [  # type: ignore[type-arg]
    CallbackQueryHandler(report_pressed, pattern=rf"^{REPORT_PREFIX}"),
    CallbackQueryHandler(reason_pressed, pattern=rf"^{REASON_PREFIX}"),
    MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & _ReplyToPrompt(), comment_replied),
]
