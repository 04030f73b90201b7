"""/paper (and, in private chats, a pasted arXiv or Hugging Face link; and the `p_` deep link): any
paper in Korean (`/paper <id> 심층`: its deep brief, bot/handlers/brief.py); /search across every week the bot has built. The rules are bot/ondemand.py's and
bot/search.py's; this module parses, asks them, and replies."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler

from bot import texts
from bot.errors import SourceError, StoreError
from bot.faithful import unsummarisable
from bot.figure import Figures
from bot.handlers.brief import show_brief
from bot.handlers.common import (
    Context,
    command_text,
    deps,
    echoed,
    edit,
    index_sent,
    reply,
    retry_if_interrupted,
    thread_of,
)
from bot.handlers.lookup import found_or_said, tell_failure
from bot.keyboards import paper_buttons
from bot.models import Paper
from bot.ondemand import Refused
from bot.paperid import parse_paper_id
from bot.refs import paper_refs
from bot.render import esc, render_paper_parts
from bot.search import MAX_QUERY, Hit, search_with_titles
from bot.texts_brief import BRIEF_WORDS
from bot.tghtml import paper_deep_link

log = logging.getLogger(__name__)


async def show_any_paper(update: Update, context: Context, paper_id: str) -> None:
    """The paper in full; Claude is asked (within the limits) when it was never translated, with a
    "생성 중…" message that becomes the answer."""
    d = deps(context)
    found = await found_or_said(update, context, paper_id)
    if found is None or d.ondemand is None:
        return
    translation = await d.ondemand.cached(found.paper)
    if translation is not None or unsummarisable(found.paper) is not None:  # nothing to ask Claude
        parts = render_paper_parts(found.paper, translation, found.week, tz=d.settings.tz)
        briefable = unsummarisable(found.paper) is None
        await _send(
            update, context, parts, paper_id=found.paper.id, reportable=translation is not None, briefable=briefable
        )
        _figure_later(update, context, found.paper)
        return
    user = update.effective_user
    chat = update.effective_chat
    assert chat is not None
    link = f'<a href="{esc(found.paper.arxiv_url)}">arXiv</a>'
    placeholder = await reply(update, context, texts.PAPER_TRANSLATING.format(paper=esc(found.paper.id)))
    try:
        async with retry_if_interrupted(placeholder):  # the bot stopping cancels the translation
            outcome = await d.ondemand.translate(found, user.id if user else chat.id)
    except Exception as exc:  # the placeholder says so rather than staying "생성 중…"; admins are told
        await tell_failure(d, placeholder, exc, f"/paper {found.paper.id}")
        return
    if outcome is Refused.USER_LIMIT:
        await edit(placeholder, texts.PAPER_USER_LIMIT.format(limit=d.settings.paper_daily_limit, link=link))
        return
    if outcome is Refused.BUDGET:
        await edit(placeholder, texts.PAPER_BUDGET.format(link=link))
        return
    assert not isinstance(outcome, Refused)
    parts = render_paper_parts(found.paper, outcome.translation, found.week, tz=d.settings.tz)
    note = texts.PAPER_REMAINING.format(remaining=outcome.remaining) if outcome.remaining is not None else ""
    if outcome.translation is None:
        note = texts.PAPER_FAILED.format(paper=esc(found.paper.id))
    parts[-1] += note
    await _send(
        update, context, parts, placeholder, paper_id=found.paper.id, reportable=outcome.translation is not None
    )
    _figure_later(update, context, found.paper)


def _figure_later(update: Update, context: Context, paper: Paper) -> None:
    """The paper's first figure, after its text answer, in the background (bot/figure.py): the answer
    never waits for it, and a failure is only logged."""
    figures, chat = deps(context).figures, update.effective_chat
    if figures is not None and chat is not None:
        work = _send_figure(context.bot, figures, chat.id, thread_of(update.effective_message), paper)
        figures.spawn(work, name=f"figure of {paper.id} for chat {chat.id}")


async def _send_figure(bot: Bot, figures: Figures, chat_id: int, thread: int | None, paper: Paper) -> None:
    post = await figures.post(paper)
    if post is None:
        log.info("/paper %s: no figure to send", paper.id)
        return
    try:  # Telegram fetches the image by its URL itself, and may refuse it (too big, not an image, unreachable)
        await bot.send_photo(chat_id, post.url, caption=post.caption or None, message_thread_id=thread)
    except TelegramError as exc:
        log.warning("/paper %s: Telegram did not take the figure %s for chat %s: %s", paper.id, post.url, chat_id, exc)


async def _send(
    update: Update,
    context: Context,
    parts: list[str],
    placeholder: Message | None = None,
    *,
    paper_id: str,
    reportable: bool,
    briefable: bool = True,
) -> None:
    """A paper's answer (the first part into `placeholder`, when given), 🔎 (its deep brief) under its
    last part, and 🚩 when it is a translation; indexed, so that a correction or a late translation edits it in place."""
    sent = []
    for i, part in enumerate(parts):
        markup = paper_buttons(paper_id, reportable=reportable, briefable=briefable) if i == len(parts) - 1 else None
        if i == 0 and placeholder is not None:
            await edit(placeholder, part, markup)
            sent.append(placeholder)
        else:
            sent.append(await reply(update, context, part, markup))
    chat = update.effective_chat
    assert chat is not None
    refs = paper_refs(paper_id, len(parts))
    d = deps(context)
    await index_sent(d, chat.id, list(zip(refs, sent, parts, strict=True)), {r: [paper_id] for r in refs})
    if d.questions is not None:  # a reply to any of them is a question about the paper (bot/ask.py)
        try:
            await d.questions.remember(chat.id, [m.message_id for m in sent], paper_id)
        except StoreError as exc:  # best effort: the answer has reached the person
            log.warning("Could not remember the paper of the messages sent to chat %s: %s", chat.id, exc)


async def paper_command(update: Update, context: Context) -> None:
    text = " ".join(context.args or []).strip()
    if not text:
        await reply(update, context, texts.PAPER_USAGE)
        return
    words = text.split()
    deep = len(words) > 1 and words[-1].lower() in BRIEF_WORDS  # `/paper <id> 심층`: its deep brief
    if deep:
        text = " ".join(words[:-1])
    paper_id = parse_paper_id(text)
    if paper_id is None:
        await reply(update, context, texts.PAPER_BAD_ID.format(text=echoed(text)))
        return
    await (show_brief if deep else show_any_paper)(update, context, paper_id)


def search_answer(
    query: str, hits: list[Hit], extra: list[Hit], username: str | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The /search message: numbered results with their week and Korean title, and a button each."""
    shown = [*hits, *extra]
    if not shown:
        return texts.SEARCH_NONE.format(query=echoed(query)), None
    lines = [texts.SEARCH_HEAD.format(query=echoed(query), count=len(shown))]
    for i, hit in enumerate(shown, start=1):
        if i == len(hits) + 1:
            lines.append(f"\n<i>{texts.SEARCH_FROM_HF}</i>")
        title = hit.title_ko or hit.paper.title
        where = f"{hit.week} · " if hit.week else ""
        lines.append(f"\n<b>{i}. {esc(title[:200])}</b>\n{where}▲ {hit.paper.upvotes} · {esc(hit.paper.id)}")
    if not username:
        return "\n".join(lines), None
    buttons = [
        InlineKeyboardButton(str(i), url=paper_deep_link(username, hit.paper.id)) for i, hit in enumerate(shown, 1)
    ]
    return "\n".join(lines), InlineKeyboardMarkup([buttons[i : i + 5] for i in range(0, len(buttons), 5)])


async def find(context: Context, query: str) -> tuple[list[Hit], list[Hit]]:
    """The archive's hits, and (when it has fewer than 3) Hugging Face's search to fill the list."""
    d = deps(context)
    hits = await search_with_titles(d.archive, d.translator, query) if d.archive is not None else []
    extra: list[Hit] = []
    if len(hits) < 3 and d.ondemand is not None:
        try:
            known = {h.paper.id for h in hits}
            found = await d.ondemand.search_hf(query, limit=10 - len(hits))
            extra = [Hit(p, None, None, False) for p in found if p.id not in known]
        except SourceError as exc:
            log.info("Hugging Face search for %r failed: %s", query, exc)
    return hits, extra


async def search_command(update: Update, context: Context) -> None:
    query = command_text(update)
    if not query:
        await reply(update, context, texts.SEARCH_USAGE)
        return
    if len(query) > MAX_QUERY:
        await reply(update, context, texts.SEARCH_TOO_LONG)
        return
    hits, extra = await find(context, query)
    text, markup = search_answer(query, hits, extra, context.bot.username)
    await reply(update, context, text, markup)


HANDLERS: list[BaseHandler] = [  # type: ignore[type-arg]
    CommandHandler("paper", paper_command),
    CommandHandler("search", search_command),
]
