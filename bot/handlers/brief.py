"""A paper's deep brief (심층 요약, bot/brief.py) for a reader: `/paper <id> 심층`, the 🔎 button under
a paper's answer (`bf:<id>`; in a group the answer goes to the group, as the button's message did), and
the full digest's `b_<id>` deep link. Cached: answered at once. Else a "심층 요약을 만드는 중…" message,
edited into the brief, within /paper's per-person limit and daily token budget (bot/ondemand.py). A
brief that cannot be made (rejected twice, Claude failing) is never shown: the English abstract is,
marked as pending."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot import texts_brief as tb
from bot.brief_view import render_brief, render_no_brief
from bot.handlers.common import Context, answer_quietly, deps, edit, reply, retry_if_interrupted
from bot.handlers.lookup import found_or_said, tell_failure
from bot.keyboards import BRIEF_PREFIX
from bot.ondemand import Refused
from bot.paperid import parse_paper_id
from bot.render import esc
from bot.texts import PAPER_UNKNOWN
from bot.tghtml import brief_deep_link


async def show_brief(update: Update, context: Context, paper_id: str) -> None:
    d = deps(context)
    if d.ondemand is None or d.ondemand.briefs is None:
        await reply(update, context, tb.BRIEF_UNAVAILABLE)
        return
    found = await found_or_said(update, context, paper_id)
    if found is None:
        return
    paper, tz = found.paper, d.settings.tz
    translation = await d.ondemand.cached(paper)
    if (brief := await d.ondemand.briefs.cached(paper)) is not None:
        await reply(update, context, render_brief(paper, brief, translation, tz=tz))
        return
    user, chat = update.effective_user, update.effective_chat
    assert chat is not None
    placeholder = await reply(update, context, tb.BRIEF_MAKING.format(paper=esc(paper.id)))
    try:
        async with retry_if_interrupted(placeholder):  # the bot stopping cancels the brief
            outcome = await d.ondemand.brief(found, user.id if user else chat.id)
    except Exception as exc:
        await tell_failure(d, placeholder, exc, f"Brief of {paper.id}")
        return
    link = f'<a href="{esc(paper.arxiv_url)}">arXiv</a>'
    if outcome is Refused.USER_LIMIT:
        await edit(placeholder, tb.BRIEF_USER_LIMIT.format(limit=d.settings.paper_daily_limit, link=link))
    elif outcome is Refused.BUDGET:
        await edit(placeholder, tb.BRIEF_BUDGET.format(link=link))
    elif isinstance(outcome, Refused):  # no other refusal exists
        raise AssertionError(outcome)
    elif outcome.brief is None:
        await edit(placeholder, render_no_brief(paper, translation))
    else:
        note = tb.BRIEF_REMAINING.format(remaining=outcome.remaining) if outcome.remaining is not None else ""
        await edit(placeholder, render_brief(paper, outcome.brief, translation, tz=tz) + note)


async def brief_pressed(update: Update, context: Context) -> None:
    """🔎 under a paper's answer: the brief in the chat the button is in (a group's too)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    paper_id = parse_paper_id(query.data.removeprefix(BRIEF_PREFIX))
    if update.effective_chat is None:  # a message sent inline: the bot's private chat opens on the brief
        if paper_id is not None:
            await query.answer(url=brief_deep_link(context.bot.username, paper_id))
        return
    await answer_quietly(query)
    if paper_id is None:
        await reply(update, context, PAPER_UNKNOWN)
        return
    await show_brief(update, context, paper_id)


HANDLERS: list[BaseHandler] = [  # type: ignore[type-arg]
    CallbackQueryHandler(brief_pressed, pattern=rf"^{BRIEF_PREFIX}"),
]
