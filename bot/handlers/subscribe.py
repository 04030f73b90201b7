"""/subscribe and /unsubscribe (here, or a channel from a private chat), the subscribe button, and the
bot being blocked or removed (my_chat_member). The rules are bot/subscriptions.py's; this module asks
Telegram the facts they need."""

from __future__ import annotations

from telegram import Bot, Chat, ChatFullInfo, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden
from telegram.ext import BaseHandler, CallbackQueryHandler, ChatMemberHandler, CommandHandler

from bot import texts
from bot.handlers.common import Context, Deps, answer_quietly, deps, reply, thread_of
from bot.models import ChatKind
from bot.render import esc
from bot.slots import when
from bot.subscriptions import ChatInfo, Member, Refusal


class BotFacts:
    """bot/subscriptions.py's Facts, asked of the Bot API."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    @property
    def bot_id(self) -> int:
        return self._bot.id

    async def chat(self, target: int | str) -> ChatInfo | None:
        try:
            chat = await self._bot.get_chat(target)
        except (BadRequest, Forbidden):
            return None
        return _info(chat)

    async def member(self, chat_id: int, user_id: int) -> Member | None:
        try:
            found = await self._bot.get_chat_member(chat_id, user_id)
        except (BadRequest, Forbidden):  # e.g. a channel's members are hidden from a bot that is no admin
            return None
        return Member(str(found.status), can_post_messages=bool(getattr(found, "can_post_messages", False)))


def _info(chat: Chat | ChatFullInfo) -> ChatInfo:
    return ChatInfo(chat.id, ChatKind(chat.type), chat.title or chat.full_name or chat.username or str(chat.id))


def _refused(refusal: Refusal, context: Context, name: str) -> str:
    return texts.REFUSALS[refusal].format(name=esc(name), bot=esc(context.bot.username))


async def _here(update: Update, context: Context, *, subscribe: bool, button: bool = False) -> str:
    """(Un)subscribe the chat the update came from, if its sender may."""
    d = deps(context)
    chat, message, user = update.effective_chat, update.effective_message, update.effective_user
    assert chat is not None
    # A message sent on behalf of the group itself comes from one of its anonymous administrators.
    as_chat = (
        not button and message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id
    )
    here = _info(chat)
    refusal = await d.subscriptions.may_manage_here(
        BotFacts(context.bot), here, user.id if user else None, as_chat=as_chat
    )
    if refusal is not None:
        return _refused(refusal, context, here.title)
    thread = thread_of(message) if chat.is_forum else None
    where = texts.HERE_TOPIC if thread else (texts.HERE_GROUP if chat.type != ChatType.PRIVATE else texts.HERE_PRIVATE)
    where = where if subscribe else texts.HERE_PRIVATE
    return await _change(d, here, where, subscribe=subscribe, thread=thread, by_user=user.id if user else None)


async def _channel(update: Update, context: Context, target: str, *, subscribe: bool) -> str:
    """(Un)subscribe a channel named from a private chat, if the sender administers it."""
    d = deps(context)
    user = update.effective_user
    channel, refusal = await d.subscriptions.channel(
        BotFacts(context.bot), target, user.id if user else None, to_post=subscribe
    )
    if refusal is not None or channel is None:
        return _refused(refusal or Refusal.CHANNEL_NOT_FOUND, context, channel.title if channel else target)
    where = texts.HERE_CHANNEL.format(name=esc(channel.title or target))
    return await _change(d, channel, where, subscribe=subscribe, thread=None, by_user=user.id if user else None)


async def _change(
    d: Deps, chat: ChatInfo, where: str, *, subscribe: bool, thread: int | None, by_user: int | None
) -> str:
    """Subscribe or unsubscribe `chat`; the answer, naming `where` the digest goes (or went)."""
    if subscribe:
        change = await d.subscriptions.subscribe(chat, thread_id=thread, by_user=by_user)
        settings = await d.subscriptions.settings(chat.id)
        answer = texts.SUBSCRIBED[change].format(where=where, when=when(d.settings, settings.slot, d.clock()))
        return answer + (texts.SUBSCRIBED_PAUSED if settings.paused else "")
    done = await d.subscriptions.unsubscribe(chat.id)
    return (texts.UNSUBSCRIBED if done else texts.NOT_SUBSCRIBED).format(where=where)


async def _command(update: Update, context: Context, *, subscribe: bool) -> None:
    chat = update.effective_chat
    assert chat is not None
    if not context.args:
        await reply(update, context, await _here(update, context, subscribe=subscribe))
    elif chat.type != ChatType.PRIVATE:
        await reply(update, context, texts.REFUSALS[Refusal.CHANNEL_FROM_PRIVATE])
    else:
        await reply(update, context, await _channel(update, context, context.args[0], subscribe=subscribe))


async def subscribe_command(update: Update, context: Context) -> None:
    await _command(update, context, subscribe=True)


async def unsubscribe_command(update: Update, context: Context) -> None:
    await _command(update, context, subscribe=False)


async def subscribe_button(update: Update, context: Context) -> None:
    assert update.callback_query is not None
    await answer_quietly(update.callback_query)
    await reply(update, context, await _here(update, context, subscribe=True, button=True))


async def bot_membership(update: Update, context: Context) -> None:
    """The bot was blocked, kicked or left a chat: its subscription is kept, inactive."""
    change = update.my_chat_member
    assert change is not None
    status = change.new_chat_member.status
    if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        await deps(context).subscriptions.deactivate(change.chat.id, f"bot {status}")


HANDLERS: list[BaseHandler] = [  # type: ignore[type-arg]
    CommandHandler("subscribe", subscribe_command),
    CommandHandler("unsubscribe", unsubscribe_command),
    CallbackQueryHandler(subscribe_button, pattern=r"^sub$"),
    ChatMemberHandler(bot_membership, ChatMemberHandler.MY_CHAT_MEMBER),
]
