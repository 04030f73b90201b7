"""What every handler shares: the services it uses (one typed object, passed in `bot_data`), and
replying in the chat (and forum topic) an update came from."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot import texts
from bot.alerts import Alerts
from bot.allowance import WeekBuilds
from bot.ask import Questions
from bot.config import Settings
from bot.deliver import Broadcaster
from bot.digest import DigestService
from bot.editor import Editor
from bot.errors import StoreError
from bot.figure import Figures
from bot.layout import Layout
from bot.leader import Leadership
from bot.ondemand import OnDemand
from bot.outbox import Outbox
from bot.refs import Ref, text_hash
from bot.render import esc
from bot.reports import Reports
from bot.search import ArchiveIndex
from bot.status import Status
from bot.subscriptions import Subscriptions
from bot.translate import Translator
from bot.week import IsoWeek

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
DEPS = "deps"
ECHOED = 40  # characters of someone's input an answer quotes back
INTERRUPTED_EDIT = 5.0  # seconds a placeholder's last edit may take while the bot stops


def command_text(update: Update) -> str:
    """Everything after the command, as typed (quotes and spacing kept)."""
    message = update.effective_message
    words = (message.text or "").split(maxsplit=1) if message else []
    return words[1].strip() if len(words) > 1 else ""


def echoed(text: str) -> str:
    """Someone's input as an answer quotes it: shortened and escaped."""
    return esc(text if len(text) <= ECHOED else text[: ECHOED - 1] + "…")


@dataclass
class Deps:
    """The services handlers use, built once by the composition root (bot/app.py). Handlers never see
    the store: what they keep or read goes through these (tests/test_layout.py checks)."""

    settings: Settings
    digests: DigestService
    translator: Translator | None
    subscriptions: Subscriptions
    broadcaster: Broadcaster
    alerts: Alerts
    outbox: Outbox  # a notice (to an admin) that Telegram does not take now is sent when it answers again
    clock: Callable[[], datetime]
    editor: Editor  # indexes what answers show; brings sent messages up to date when a paper's text changes
    reports: Reports  # readers' reports
    status: Status  # /status's figures
    week_builds: WeekBuilds  # each person's allowance of new weeks built
    ondemand: OnDemand | None = None
    archive: ArchiveIndex | None = None
    leadership: Leadership | None = None  # which process leads (`hfweekly run` sets it; /status)
    questions: Questions | None = None  # questions answered from a paper (/ask, replies)
    figures: Figures | None = None  # /paper's first figure (None: no translator, or HFWEEKLY_PAPER_FIGURE off)
    # (chat, week) of the builds under way for a chat: asked again meanwhile, the one "생성 중…" is shared
    building: set[tuple[int, IsoWeek]] = field(default_factory=set)

    def last_week(self) -> IsoWeek:
        return IsoWeek.last_completed(self.clock(), self.settings.tz)

    def is_admin(self, user: User | None) -> bool:
        return user is not None and user.id in self.settings.admins


def deps(context: Context) -> Deps:
    found = context.bot_data[DEPS]
    assert isinstance(found, Deps), "the composition root puts Deps in bot_data"
    return found


def thread_of(message: Message | None) -> int | None:
    """The forum topic a message was written in (None outside forum topics)."""
    return message.message_thread_id if message is not None and message.is_topic_message else None


async def reply(update: Update, context: Context, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send `text` to the chat (and forum topic) the update came from."""
    chat = update.effective_chat
    assert chat is not None
    return await context.bot.send_message(
        chat.id, text, message_thread_id=thread_of(update.effective_message), reply_markup=markup
    )


async def edit(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace a message's text ("not modified" is no failure)."""
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


@asynccontextmanager
async def retry_if_interrupted(placeholder: Message) -> AsyncIterator[None]:
    """Work for a "생성 중…" placeholder that shutdown cancels (the bot stops: SIGTERM) leaves it saying
    to send the request again, rather than "생성 중…" for ever."""
    try:
        yield
    except asyncio.CancelledError:
        try:
            async with asyncio.timeout(INTERRUPTED_EDIT):
                await edit(placeholder, texts.INTERRUPTED)
        except (TelegramError, TimeoutError) as exc:
            log.warning("Could not tell chat %s that its request was interrupted: %s", placeholder.chat_id, exc)
        raise


async def index_sent(
    d: Deps,
    chat_id: int,
    sent: Sequence[tuple[Ref, Message, str]],
    papers: Mapping[Ref, list[str]],
    *,
    reused: Message | None = None,
    layout: tuple[IsoWeek, str, Layout] | None = None,
    with_buttons: Message | None = None,
) -> None:
    """Index messages just sent as (ref, message, its text), so that the editor finds them when a paper
    they show changes (`reused`: a message that showed something else before; `layout`: the one they
    were laid out in; `with_buttons`: the one a ◀ ▶ button may turn into another week). Best effort:
    the answer has reached the person, a failure is only logged."""
    try:
        await d.editor.index_messages(
            chat_id, [(ref, m.message_id, text_hash(text)) for ref, m, text in sent], papers,
            reused=[reused.message_id] if reused is not None else (), layout=layout,
            with_buttons=with_buttons.message_id if with_buttons is not None else None,
        )  # fmt: skip
    except StoreError as exc:
        log.warning("Could not index the messages sent to chat %s: %s", chat_id, exc)


async def answer_quietly(query: CallbackQuery, text: str | None = None) -> None:
    """Stop the button's spinner. Best effort: Telegram refuses queries older than a few minutes
    (pressed while the bot was down), and the press must still do what it says."""
    try:
        await query.answer(text)
    except TelegramError as exc:
        log.info("Could not answer callback query %s: %s", query.id, exc)
