"""Inline mode (`@bot 2025-W38`, `@bot 2509.13310`, `@bot 확산 모델` in any chat): a week's digest and
its papers, one paper, or search results, as articles in the bot's own Telegram HTML, each with a
button that opens the full translation in the bot. Never asks Claude (nor builds a week): what is
not translated yet is shown in English with "번역 보기", which deep-links into the bot."""

from __future__ import annotations

import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, InlineQueryHandler

from bot import texts
from bot import texts_brief as tb
from bot.digest import DigestService
from bot.errors import WeekError
from bot.handlers.common import Context, Deps, deps
from bot.models import Digest, Form, Paper, Translation, View
from bot.paperid import parse_paper_id
from bot.render import render_paper_card, render_telegram
from bot.search import MAX_QUERY, ArchiveIndex
from bot.tghtml import brief_deep_link, paper_deep_link, shorten
from bot.translate import Translator
from bot.week import FIRST_WEEK, IsoWeek

log = logging.getLogger(__name__)

CACHE_FIXED = 300  # seconds Telegram may keep the answer of a week or a paper (they change rarely)
CACHE_SEARCH = 60
MAX_RESULTS = 20
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _article(
    key: str,
    title: str,
    description: str,
    html: str,
    button: InlineKeyboardButton | None,
    *extra: InlineKeyboardButton,
) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=key,
        title=shorten(title, 100),
        description=shorten(description, 150),
        input_message_content=InputTextMessageContent(html, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW),
        reply_markup=InlineKeyboardMarkup([[button, *extra]]) if button else None,
    )


def _paper_article(
    key: str, paper: Paper, tr: Translation | None, week: IsoWeek | None, username: str
) -> InlineQueryResultArticle:
    label = texts.BUTTON_FULL if tr is not None else texts.BUTTON_TRANSLATE
    button = InlineKeyboardButton(label, url=paper_deep_link(username, paper.id))
    title = tr.title_ko if tr else paper.title
    description = tr.summary_ko if tr else f"{paper.id} · {texts.BUTTON_TRANSLATE}"
    brief = InlineKeyboardButton(tb.BRIEF_BUTTON, url=brief_deep_link(username, paper.id))  # 🔎 in the bot
    return _article(key, title, description, render_paper_card(paper, tr, week), button, brief)


async def week_results(digests: DigestService, week: IsoWeek, username: str) -> list[InlineQueryResultArticle]:
    """A week's digest (one message, brief) and then each of its papers; a week not built yet: a
    link into the bot (building asks Claude, which inline answers never do)."""
    digest: Digest | None = await digests.cached(week)
    open_bot = InlineKeyboardButton(texts.INLINE_OPEN_BOT, url=f"https://t.me/{username}?start=w_{week}")
    if digest is None:  # building a week asks Claude: only the bot itself does that
        text = texts.INLINE_NOT_BUILT.format(week=week)
        return [_article("w", text, texts.INLINE_OPEN_BOT, text, open_bot)]
    brief = render_telegram(digest, bot_username=username, view=View(form=Form.BRIEF, count=len(digest.items)))[0]
    results = [_article("w", texts.INLINE_DIGEST.format(week=week), f"Top {len(digest.items)}", brief, open_bot)]
    for item in digest.items[: MAX_RESULTS - 1]:
        results.append(_paper_article(f"w{item.rank}", item.paper, item.translation, week, username))
    return results


async def _paper(d: Deps, paper_id: str, username: str) -> list[InlineQueryResultArticle]:
    known = await d.digests.known_paper(paper_id)
    if known is None:  # never looked up: the bot finds (and translates) it when opened
        button = InlineKeyboardButton(texts.BUTTON_TRANSLATE, url=paper_deep_link(username, paper_id))
        title = texts.INLINE_UNKNOWN_PAPER.format(paper=paper_id)
        return [_article("p", title, f"https://arxiv.org/abs/{paper_id}", f"https://arxiv.org/abs/{paper_id}", button)]
    paper, week = known
    tr = (await d.translator.cached([paper])).get(paper.id) if d.translator else None
    return [_paper_article("p", paper, tr, week, username)]


async def search_results(
    archive: ArchiveIndex | None, translator: Translator | None, query: str, username: str
) -> list[InlineQueryResultArticle]:
    """Search results as articles: the archive's hits with their translations when cached."""
    if archive is None:
        return []
    hits = await archive.search(query[:MAX_QUERY], limit=MAX_RESULTS)
    found = (await translator.cached([h.paper for h in hits])) if translator else {}
    return [_paper_article(f"s{i}", h.paper, found.get(h.paper.id), h.week, username) for i, h in enumerate(hits)]


def _week_of(d: Deps, text: str) -> IsoWeek | None:
    try:
        week = IsoWeek.parse(text, now=d.clock(), tz=d.settings.tz)
    except WeekError:
        return None
    return week if FIRST_WEEK <= week <= d.last_week() else None


async def inline_query(update: Update, context: Context) -> None:
    query = update.inline_query
    assert query is not None
    d, text, username = deps(context), query.query.strip(), context.bot.username
    if not text:
        text = "last"
    if (week := _week_of(d, text)) is not None:
        results, cache = await week_results(d.digests, week, username), CACHE_FIXED
    elif (paper_id := parse_paper_id(text)) is not None:
        results, cache = await _paper(d, paper_id, username), CACHE_FIXED
    else:
        results, cache = await search_results(d.archive, d.translator, text, username), CACHE_SEARCH
    await query.answer(results, cache_time=cache, is_personal=False)


HANDLERS: list[BaseHandler] = [InlineQueryHandler(inline_query)]  # type: ignore[type-arg]
