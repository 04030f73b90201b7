"""/week, /latest, the ◀ ▶ buttons, week and paper deep links: a week's digest, built when needed."""

from __future__ import annotations

import hashlib
import logging

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import texts
from bot.errors import EmptyWeekError, SourceError, StoreError, WeekError
from bot.handlers.common import (
    Context,
    Deps,
    answer_quietly,
    deps,
    echoed,
    edit,
    index_sent,
    reply,
    retry_if_interrupted,
)
from bot.keyboards import week_nav
from bot.layout import Layout, depth, laid_out, papers_of
from bot.metrics import WEEK_REPLIES
from bot.models import Digest, View
from bot.refs import Kind, Ref
from bot.week import FIRST_WEEK, IsoWeek, weeks_in_year

log = logging.getLogger(__name__)


def week_error(exc: WeekError, text: str) -> str:
    """Why `text` names no week, in Korean (the input echoed, shortened and escaped)."""
    if exc.reason == "no_such_week" and exc.year is not None:
        return texts.NO_SUCH_WEEK.format(year=exc.year, weeks=weeks_in_year(exc.year))
    template = texts.BAD_DATE if exc.reason == "bad_date" else texts.NOT_A_WEEK
    return template.format(text=echoed(text))


def parse_week(d: Deps, text: str, *, future: bool = False) -> IsoWeek | str:
    """The week `text` names, or the Korean answer saying why there is no digest for it (`future`:
    a week that has not started is fine)."""
    now = d.clock()
    try:
        week = IsoWeek.parse(text, now=now, tz=d.settings.tz)
    except WeekError as exc:
        return week_error(exc, text)
    if week < FIRST_WEEK:
        return texts.TOO_EARLY.format(first=FIRST_WEEK)
    if not future and not week.has_started(now, d.settings.tz):
        return texts.FUTURE.format(week=week, last=d.last_week())
    return week


def nav(d: Deps, week: IsoWeek) -> InlineKeyboardMarkup:
    return week_nav(week, d.last_week())


async def show_week(update: Update, context: Context, text: str, *, placeholder: Message | None = None) -> None:
    """The week's digest in this chat; a week not built yet shows "생성 중…" first (in `placeholder`,
    when given: the message a ◀ ▶ button is under), then that message becomes the digest."""
    d = deps(context)
    week = parse_week(d, text)
    if isinstance(week, str):
        await reply(update, context, week)
        return
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    view = d.subscriptions.view(await d.subscriptions.settings(chat.id))  # the chat's own form, count, topics
    needed = depth(d.settings.top_n, [view])
    digest = await d.digests.cached(week, top_n=needed)
    if digest is None:
        building = (chat.id, week)
        if building in d.building:
            return  # asked again while it builds for this chat: the one placeholder becomes the digest
        d.building.add(building)  # before anything is awaited: a double tap arrives meanwhile
        try:
            built = await _build(update, context, d, week, user.id if user else chat.id, placeholder, needed)
        finally:
            d.building.discard(building)
        if built is None:
            return
        digest, placeholder = built
    await send_digest(update, context, digest, placeholder=placeholder, markup=nav(d, week), view=view)
    WEEK_REPLIES.inc()


async def _build(
    update: Update, context: Context, d: Deps, week: IsoWeek, user_id: int, placeholder: Message | None, top_n: int
) -> tuple[Digest, Message] | None:
    """Build a week for a chat within the user's allowance, "생성 중…" meanwhile (in `placeholder`
    when given); the digest and the message that is to become it, or None when it answered."""
    if not await d.week_builds.take(user_id):
        limit, window = d.settings.week_build_limit, d.settings.week_build_window_minutes
        await reply(update, context, texts.RATE_LIMITED.format(limit=limit, window=window))
        return None
    if placeholder is not None:  # a ◀ ▶ button's message: no longer the week it was indexed under
        try:
            await d.editor.forget_message(placeholder.chat_id, placeholder.message_id)
        except StoreError as exc:
            log.warning("Could not take message %s out of the index: %s", placeholder.message_id, exc)
        await edit(placeholder, texts.BUILDING.format(week=week))
    else:
        placeholder = await reply(update, context, texts.BUILDING.format(week=week))
    try:
        async with retry_if_interrupted(placeholder):  # the bot stopping cancels the build
            return await d.digests.build(week, top_n=top_n), placeholder
    except EmptyWeekError:
        await edit(placeholder, texts.EMPTY.format(week=week), nav(d, week))
    except SourceError as exc:
        log.warning("/week %s: %s", week, exc)
        await edit(placeholder, texts.SOURCE_DOWN.format(week=week), nav(d, week))
    except StoreError as exc:  # the placeholder says so rather than staying "생성 중…"
        log.warning("/week %s: %s", week, exc)
        await edit(placeholder, texts.STORE_DOWN)
    return None


async def send_digest(
    update: Update,
    context: Context,
    digest: Digest,
    *,
    placeholder: Message | None = None,
    markup: InlineKeyboardMarkup | None = None,
    view: View | None = None,
) -> None:
    """The digest's parts (in the chat's `view`); the first replaces `placeholder` when given; the
    buttons go on the last. With a `view` (an answer to /week), the messages are indexed under the
    layout they were sent in, so that the editor brings them up to date when a paper in them changes."""
    username = context.bot.username
    shown = view or View(count=len(digest.items))
    plan, parts = laid_out(digest, shown, bot_username=username)
    sent = []
    for i, part in enumerate(parts):
        buttons = markup if i == len(parts) - 1 else None
        if i == 0 and placeholder is not None:
            await edit(placeholder, part, buttons)
            sent.append(placeholder)
        else:
            sent.append(await reply(update, context, part, buttons))
    chat, d = update.effective_chat, deps(context)
    frozen = digest.week.is_completed(d.clock(), d.settings.tz) and len(digest.items) >= d.settings.top_n
    if view is None or chat is None or not frozen:  # a running week's ranking still moves: nothing to edit by
        return
    key = f"{view.key}@{hashlib.sha256(repr(plan).encode()).hexdigest()[:8]}"  # a view's layouts differ by week
    refs = [Ref(Kind.REPLY, str(digest.week), key, i) for i in range(len(parts))]
    papers = dict(zip(refs, papers_of(digest, plan), strict=True))
    await index_sent(
        d, chat.id, list(zip(refs, sent, parts, strict=True)), papers,
        reused=placeholder, layout=(digest.week, key, Layout(view, plan)), with_buttons=sent[-1] if markup else None,
    )  # fmt: skip


async def week_command(update: Update, context: Context) -> None:
    await show_week(update, context, " ".join(context.args or []) or "last")


async def latest_command(update: Update, context: Context) -> None:
    await show_week(update, context, "last")


async def week_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    await answer_quietly(query)
    message = query.message if isinstance(query.message, Message) else None
    await show_week(update, context, query.data.removeprefix("w:"), placeholder=message)


HANDLERS: list[BaseHandler] = [  # type: ignore[type-arg]
    CommandHandler("week", week_command),
    CommandHandler("latest", latest_command),
    CallbackQueryHandler(week_button, pattern=r"^w:"),
]
