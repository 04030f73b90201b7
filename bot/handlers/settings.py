"""/settings (a message of buttons that edits itself), /topics, and who may change a chat's settings:
in a private chat the person, in a group its admins (an anonymous admin too), a channel's from a
private chat by an admin of the channel (`/settings @channel`). The rules are bot/subscriptions.py's."""

from __future__ import annotations

from dataclasses import dataclass, replace

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import texts
from bot.handlers.common import Context, Deps, answer_quietly, deps, edit, reply
from bot.handlers.settings_menu import Press, hour_menu, main_menu, parse_press, topic_tag, topics_menu, when_menu
from bot.handlers.subscribe import BotFacts, _info, _refused
from bot.models import COUNTS, ChatSettings, Form
from bot.render import esc, plain_text
from bot.slots import describe
from bot.subscriptions import Refusal, channel_target
from bot.topics import TopicError, parse_topics


@dataclass(frozen=True)
class Target:
    """The chat whose settings are shown or changed, and how answers name it."""

    chat_id: int
    where: str
    channel: str | None = None  # how the admin named the channel (for the /topics hint)


async def _here(update: Update, context: Context, *, button: bool = False) -> Target | str:
    """The chat the update came from, if its sender may change its settings; else why not."""
    chat, message, user = update.effective_chat, update.effective_message, update.effective_user
    assert chat is not None
    as_chat = (
        not button and message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id
    )
    info = _info(chat)
    refusal = await deps(context).subscriptions.may_manage_here(
        BotFacts(context.bot), info, user.id if user else None, as_chat=as_chat
    )
    if refusal is Refusal.GROUP_ADMINS_ONLY:
        return texts.SETTINGS_ADMINS_ONLY
    if refusal is not None:
        return _refused(refusal, context, info.title)
    where = texts.HERE_PRIVATE if chat.type == ChatType.PRIVATE else texts.HERE_GROUP
    return Target(chat.id, where)


async def _channel(update: Update, context: Context, name: str) -> Target | str:
    """A channel named from a private chat, if the sender administers it; else why not."""
    user = update.effective_user
    channel, refusal = await deps(context).subscriptions.channel(
        BotFacts(context.bot), name, user.id if user else None, to_post=False
    )
    if refusal is Refusal.NOT_CHANNEL_ADMIN and channel is not None:
        return texts.SETTINGS_NOT_CHANNEL_ADMIN.format(name=esc(channel.title or name))
    if refusal is not None or channel is None:
        return _refused(refusal or Refusal.CHANNEL_NOT_FOUND, context, channel.title if channel else name)
    return Target(channel.id, texts.HERE_CHANNEL.format(name=esc(channel.title or name)), name)


async def _of_button(update: Update, context: Context, chat_id: int) -> Target | str:
    """The chat a button names, if the person pressing it may change its settings from here."""
    chat = update.effective_chat
    assert chat is not None
    if chat_id == chat.id:
        return await _here(update, context, button=True)
    if chat.type == ChatType.PRIVATE:  # a channel's settings, in its admin's private chat
        return await _channel(update, context, str(chat_id))
    return texts.SETTINGS_STALE  # a button naming another chat: forged


async def _menu(d: Deps, target: Target) -> tuple[str, InlineKeyboardMarkup]:
    settings = await d.subscriptions.settings(target.chat_id)
    sub = await d.subscriptions.get(target.chat_id)
    when = describe(d.settings, settings.slot, d.clock())
    subscribed = sub is not None and sub.active
    return main_menu(d.settings, target.chat_id, target.where, settings, subscribed=subscribed, now_when=when)


async def settings_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    assert chat is not None
    if context.args and chat.type != ChatType.PRIVATE:
        await reply(update, context, texts.SETTINGS_CHANNEL_IN_GROUP)
        return
    target = await (_channel(update, context, context.args[0]) if context.args else _here(update, context))
    if isinstance(target, str):
        await reply(update, context, target)
        return
    text, markup = await _menu(deps(context), target)
    await reply(update, context, text, markup)


async def topics_command(update: Update, context: Context) -> None:
    chat, message = update.effective_chat, update.effective_message
    assert chat is not None and message is not None
    words = (message.text or "").split(maxsplit=1)
    rest = words[1].strip() if len(words) > 1 else ""
    first = rest.split(maxsplit=1)[0] if rest else ""
    if chat.type == ChatType.PRIVATE and first and channel_target(first) is not None and first.startswith(("@", "-")):
        target = await _channel(update, context, first)
        rest = rest[len(first) :].strip()
    else:
        target = await _here(update, context)
    if isinstance(target, str):
        await reply(update, context, target)
        return
    d = deps(context)
    current = await d.subscriptions.settings(target.chat_id)
    if not rest:
        shown = esc(", ".join(current.topics)) if current.topics else texts.NO_TOPICS
        await reply(update, context, texts.TOPICS_NOW.format(topics=shown))
        return
    if rest.lower() in texts.TOPICS_CLEAR_WORDS:
        await d.subscriptions.change_settings(target.chat_id, lambda now: replace(now, topics=(), only_topics=False))
        await reply(update, context, texts.TOPICS_CLEARED.format(where=target.where))
        return
    try:
        topics = parse_topics(rest)
    except TopicError as exc:
        await reply(update, context, texts.TOPIC_ERRORS[exc.reason].format(topic=esc(exc.topic[:60])))
        return
    await d.subscriptions.change_settings(target.chat_id, lambda now: replace(now, topics=topics))
    await reply(update, context, texts.TOPICS_SET.format(where=target.where, topics=esc(", ".join(topics))))


def _changed(current: ChatSettings, press: Press) -> ChatSettings | None:
    """The settings a press asks for; None when its value is not one a button of ours has."""
    value = press.value or ""
    flag = {"1": True, "0": False}.get(value)
    if press.action == "c" and value.isdigit() and int(value) in COUNTS:
        return replace(current, count=int(value))
    if press.action == "f" and value in {f.value for f in Form}:
        return replace(current, form=Form(value))
    if press.action == "e" and flag is not None:
        return replace(current, english=flag)
    if press.action == "o" and flag is not None:  # (topics removed by a tap meanwhile: not turned on)
        return replace(current, only_topics=flag and bool(current.topics))
    if press.action == "p" and flag is not None:
        return replace(current, paused=flag)
    if press.action == "d" and value == "x":
        return replace(current, day=None, hour=None)
    if press.action == "h":
        day, _, hour = value.partition("-")
        if day.isdigit() and hour.isdigit() and int(day) <= 6 and int(hour) <= 23:
            return replace(current, day=int(day), hour=int(hour))
    if press.action == "tr" and any(topic_tag(t) == value for t in current.topics):
        topics = tuple(t for t in current.topics if topic_tag(t) != value)
        return replace(current, topics=topics, only_topics=current.only_topics and bool(topics))
    if press.action == "tc" and press.value is None:
        return replace(current, topics=(), only_topics=False)
    return None


async def settings_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    press = parse_press(query.data or "")
    message = query.message if isinstance(query.message, Message) else None
    if press is None or message is None:
        await answer_quietly(query, texts.SETTINGS_STALE)
        return
    target = await _of_button(update, context, press.chat_id)
    if isinstance(target, str):
        await answer_quietly(query, plain_text(target))  # a pop-up shows plain text
        return
    d = deps(context)
    current = await d.subscriptions.settings(target.chat_id)
    if press.action in ("m", "w", "t") and press.value is None:  # a page of the menu: nothing changes
        await answer_quietly(query)
        if press.action == "w":
            await edit(message, *when_menu(d.settings, target.chat_id, current))
        elif press.action == "t":
            await edit(message, *topics_menu(target.chat_id, current, target.channel))
        else:
            await edit(message, *await _menu(d, target))
        return
    if press.action == "d" and press.value is not None and press.value.isdigit() and int(press.value) <= 6:
        await answer_quietly(query)
        await edit(message, *hour_menu(d.settings, target.chat_id, int(press.value), current))
        return
    if press.action == "o" and press.value == "1" and not current.topics:
        await answer_quietly(query, texts.SETTINGS_ONLY_NEEDS_TOPICS)
        return
    if _changed(current, press) is None:
        await answer_quietly(query, texts.SETTINGS_STALE)
        return
    # Applied to the settings as they are when written (another tap may have changed them meanwhile).
    new = await d.subscriptions.change_settings(target.chat_id, lambda now: _changed(now, press) or now)
    await answer_quietly(query, texts.SETTINGS_SAVED)
    if press.action in ("tr", "tc"):
        await edit(message, *topics_menu(target.chat_id, new, target.channel))
    else:
        await edit(message, *await _menu(d, target))


HANDLERS: list[BaseHandler] = [  # type: ignore[type-arg]
    CommandHandler("settings", settings_command),
    CommandHandler("topics", topics_command),
    CallbackQueryHandler(settings_button, pattern=r"^s:"),
]
