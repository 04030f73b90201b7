"""/start (with its deep links), /help, and what the bot says to anything else in a private chat."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot import texts
from bot.errors import WeekError
from bot.handlers.brief import show_brief
from bot.handlers.common import Context, deps, reply
from bot.handlers.paper import show_any_paper
from bot.handlers.reports import ask_reason
from bot.handlers.week import show_week
from bot.paperid import find_paper_link, from_deep_link, parse_paper_id
from bot.subscriptions import Change
from bot.week import IsoWeek


async def start(update: Update, context: Context) -> None:
    chat = update.effective_chat
    assert chat is not None
    payload = context.args[0] if context.args else ""
    if payload.startswith("p_"):  # a paper: p_2509_13310
        paper_id = parse_paper_id(from_deep_link(payload[2:]))
        if paper_id is None:
            await reply(update, context, texts.PAPER_UNKNOWN)
        else:
            await show_any_paper(update, context, paper_id)
        return
    if payload.startswith("b_"):  # a paper's deep brief: b_2509_13310 (the full digest's 🔎 links)
        paper_id = parse_paper_id(from_deep_link(payload[2:]))
        await (
            reply(update, context, texts.PAPER_UNKNOWN) if paper_id is None else show_brief(update, context, paper_id)
        )
        return
    if payload.startswith("w_"):  # a week: w_2025-W38
        await show_week(update, context, payload[2:])
        return
    if payload.startswith("r_") and chat.type == ChatType.PRIVATE:  # 🚩 pressed in a group: report here
        paper_id = parse_paper_id(from_deep_link(payload[2:]))
        await (
            reply(update, context, texts.PAPER_UNKNOWN) if paper_id is None else ask_reason(update, context, paper_id)
        )
        return
    text = texts.WELCOME
    if chat.type == ChatType.PRIVATE:  # someone who blocked the bot and came back is subscribed again
        change = await deps(context).subscriptions.reactivate(chat.id)
        if change is Change.RESTARTED:
            text += texts.WELCOME_BACK
        elif change is Change.ALREADY:
            text += texts.WELCOME_SUBSCRIBED
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.BUTTON_SUBSCRIBE, callback_data="sub"),
          InlineKeyboardButton(texts.BUTTON_LAST_WEEK, callback_data="w:last")]]
    )  # fmt: skip
    await reply(update, context, text, markup)


async def help_command(update: Update, context: Context) -> None:
    admin = deps(context).is_admin(update.effective_user)
    await reply(update, context, texts.HELP + (texts.ADMIN_HELP if admin else ""))


async def unknown(update: Update, context: Context) -> None:
    await reply(update, context, texts.UNKNOWN)


async def plain_text(update: Update, context: Context) -> None:
    """A private message that is not a command: a paper link or id gets the paper in Korean; a week
    (`2025-W38`, `지난주`) gets its digest."""
    d = deps(context)
    text = update.effective_message.text if update.effective_message else None
    paper_id = parse_paper_id(text or "") or find_paper_link(text or "")
    if paper_id is not None:
        await show_any_paper(update, context, paper_id)
        return
    try:
        IsoWeek.parse(text or "", now=d.clock(), tz=d.settings.tz)
    except WeekError:
        await reply(update, context, texts.PLAIN_TEXT)
        return
    await show_week(update, context, text or "")


HANDLERS: list[BaseHandler] = [  # type: ignore[type-arg]
    CommandHandler("start", start),
    CommandHandler("help", help_command),
]
# Added after every other handler: they answer what no command handler took.
FALLBACKS: list[BaseHandler] = [  # type: ignore[type-arg]
    MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, unknown),
    MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, plain_text),
]
