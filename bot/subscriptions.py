"""Subscriptions: who may subscribe what, and a subscription's life (start, move, stop, deactivate when
the bot is blocked or removed, reactivate, follow a group that became a supergroup).

The rules live here once. The chat handlers, `hfweekly subscribers` and the broadcaster all call this
service; what it must know about Telegram (a chat, someone's membership) it asks through `Facts`,
which the handlers implement with the Bot API, so this module imports no Telegram library.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.config import Settings
from bot.models import ChatKind, ChatSettings, Subscription, View
from bot.slots import next_run, owed_after_move
from bot.store import ChatStore, DeliveryStore

log = logging.getLogger(__name__)

ADMIN_STATUSES = frozenset({"creator", "administrator"})


class Refusal(StrEnum):
    """Why a subscription change is not made (texts.py says each in Korean)."""

    GROUP_ADMINS_ONLY = "group_admins_only"
    CHANNEL_FROM_PRIVATE = "channel_from_private"
    NOT_A_CHANNEL_NAME = "not_a_channel_name"
    CHANNEL_NOT_FOUND = "channel_not_found"
    NOT_A_CHANNEL = "not_a_channel"
    BOT_NOT_ADMIN = "bot_not_admin"
    BOT_CANNOT_POST = "bot_cannot_post"
    NOT_CHANNEL_ADMIN = "not_channel_admin"


class Change(StrEnum):
    STARTED = "started"
    RESTARTED = "restarted"  # an inactive or unsubscribed-before chat subscribed again
    ALREADY = "already"
    MOVED = "moved"  # the forum topic it goes to changed


@dataclass(frozen=True)
class ChatInfo:
    id: int
    kind: ChatKind
    title: str


@dataclass(frozen=True)
class Member:
    status: str  # creator, administrator, member, restricted, left, kicked
    can_post_messages: bool = False


class Facts(Protocol):
    """What the rules need to know from Telegram (implemented by the handlers over the Bot API)."""

    @property
    def bot_id(self) -> int: ...

    async def chat(self, target: int | str) -> ChatInfo | None:
        """The chat `target` (id or @username) names; None if Telegram does not know it (to the bot)."""

    async def member(self, chat_id: int, user_id: int) -> Member | None:
        """Someone's membership of a chat; None if Telegram will not say."""


def kind_of(chat_id: int) -> ChatKind:
    """A chat's kind as its id tells it (positive: a person; -100…: a supergroup or channel)."""
    if chat_id > 0:
        return ChatKind.PRIVATE
    return ChatKind.SUPERGROUP if str(chat_id).startswith("-100") else ChatKind.GROUP


def channel_target(text: str) -> int | str | None:
    """`@name` or a numeric id, as a user may name a channel; None for anything else."""
    if text.startswith("@") and len(text) > 1:
        return text
    return int(text) if text.removeprefix("-").isdigit() else None


class Subscriptions:
    def __init__(
        self, clock: Callable[[], datetime], config: Settings, *, chats: ChatStore, delivery: DeliveryStore
    ) -> None:
        self._chats = chats
        self._delivery = delivery  # a chat moved to a slot that had the week already is owed it
        self._clock = clock
        self._config = config

    # --- what people ask for in chats --------------------------------------------------------------

    async def may_manage_here(
        self, facts: Facts, chat: ChatInfo, user_id: int | None, *, as_chat: bool
    ) -> Refusal | None:
        """May this person change the subscription of the chat they write in? `as_chat`: the message
        was sent on behalf of the chat itself (an anonymous group administrator)."""
        if chat.kind is ChatKind.CHANNEL:
            return Refusal.CHANNEL_FROM_PRIVATE
        if chat.kind is ChatKind.PRIVATE or as_chat:
            return None
        member = await facts.member(chat.id, user_id) if user_id is not None else None
        return None if member is not None and member.status in ADMIN_STATUSES else Refusal.GROUP_ADMINS_ONLY

    async def channel(
        self, facts: Facts, target_text: str, user_id: int | None, *, to_post: bool
    ) -> tuple[ChatInfo | None, Refusal | None]:
        """The channel `target_text` names (once Telegram shows it), and why this person may not change
        its subscription (None: they may). `to_post`: the bot must be able to post there too. The bot
        is checked first: Telegram shows a channel's members to a bot only if it is an admin there."""
        target = channel_target(target_text)
        if target is None:
            return None, Refusal.NOT_A_CHANNEL_NAME
        chat = await facts.chat(target)
        if chat is None:
            return None, Refusal.CHANNEL_NOT_FOUND
        if chat.kind is not ChatKind.CHANNEL:
            return chat, Refusal.NOT_A_CHANNEL
        if to_post:
            me = await facts.member(chat.id, facts.bot_id)
            if me is None or me.status != "administrator":
                return chat, Refusal.BOT_NOT_ADMIN
            if not me.can_post_messages:
                return chat, Refusal.BOT_CANNOT_POST
        member = await facts.member(chat.id, user_id) if user_id is not None else None
        if member is None or member.status not in ADMIN_STATUSES:
            return chat, Refusal.NOT_CHANNEL_ADMIN
        return chat, None

    # --- a subscription's life ---------------------------------------------------------------------

    async def subscribe(self, chat: ChatInfo, *, thread_id: int | None = None, by_user: int | None = None) -> Change:
        now = self._clock()

        def already(existing: Subscription | None) -> bool:
            return (
                existing is not None
                and existing.active
                and (existing.thread_id, existing.kind) == (thread_id, chat.kind)
            )

        def subscribed(existing: Subscription | None) -> Subscription | None:
            if already(existing):
                return existing
            return Subscription(
                chat_id=chat.id,
                kind=chat.kind,
                title=chat.title or (existing.title if existing else ""),
                active=True,
                since=existing.since if existing else now,
                updated=now,
                thread_id=thread_id,
                by_user=by_user if by_user is not None else (existing.by_user if existing else None),
            )

        before, _ = await self._chats.change_subscription(chat.id, subscribed)
        existing = before.sub
        if already(existing):
            return Change.ALREADY
        log.info("Subscribed chat %s (%s, topic %s)", chat.id, chat.kind, thread_id)
        if existing is None:
            return Change.STARTED
        return Change.MOVED if existing.active else Change.RESTARTED

    async def unsubscribe(self, chat_id: int) -> bool:
        """Remove the subscription; False if there was none."""
        removed = await self._chats.delete_subscription(chat_id)
        if removed:
            log.info("Unsubscribed chat %s", chat_id)
        return removed

    async def reactivate(self, chat_id: int) -> Change | None:
        """The person came back (/start): an inactive subscription is active again (RESTARTED);
        ALREADY when it was active; None when the chat has none."""
        before = await self._set_active(chat_id, True)
        if before is None:
            return None
        return Change.ALREADY if before.active else Change.RESTARTED

    async def deactivate(self, chat_id: int, reason: str) -> None:
        """The bot was blocked or removed, or the chat is gone: kept (with its settings), inactive."""
        before = await self._set_active(chat_id, False)
        if before is not None and before.active:
            log.info("Chat %s cannot receive messages (%s): subscription kept, inactive", chat_id, reason)

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its subscription follows it to the new id."""
        if await self._chats.move_subscription(old_chat_id, new_chat_id, self._clock()) is not None:
            log.info("Chat %s became supergroup %s: subscription moved", old_chat_id, new_chat_id)

    # --- a chat's own digest (/settings) ------------------------------------------------------------

    async def settings(self, chat_id: int) -> ChatSettings:
        return await self._chats.get_settings(chat_id) or ChatSettings()

    def view(self, settings: ChatSettings) -> View:
        return settings.view(self._config.top_n)

    def default_slot(self) -> tuple[int, int]:
        """The global schedule's next (weekday, hour): the other half of a slot given half."""
        fire = next_run(self._config, self._clock())
        return (fire.weekday(), fire.hour) if fire else (0, 9)

    async def change_settings(
        self, chat_id: int, change: ChatSettings | Callable[[ChatSettings], ChatSettings]
    ) -> ChatSettings:
        """Change a chat's settings: `change` is a function of its settings as they are when written
        (pure: it runs again when they changed meanwhile, so two changes at once both stay), or the
        whole new settings. A chat that moves to a slot which has delivered a week its old slot had not
        yet is owed that week at once: changing the slot never loses a week (nor resends one: the
        ledger has what each chat got). The settings as saved."""

        def apply(current: ChatSettings) -> ChatSettings:
            return change if isinstance(change, ChatSettings) else change(current)

        before, after = await self._chats.change_settings(chat_id, apply)
        old, new = before.settings or ChatSettings(), after.settings or ChatSettings()
        if new.slot != old.slot and not new.paused:
            week = owed_after_move(self._config, old.slot, new.slot, self._clock())
            if week is not None and after.sub is not None and after.sub.active:
                log.info("Chat %s moved to slot %s, past for %s: owed it now", chat_id, new.slot, week)
                await self._delivery.owe_now(week, chat_id, self._clock())
        if new != old:
            log.info("Settings of chat %s: %s", chat_id, new)
        return new

    async def get(self, chat_id: int) -> Subscription | None:
        return await self._chats.get_subscription(chat_id)

    async def all(self) -> list[Subscription]:
        return await self._chats.list_subscriptions()

    async def _set_active(self, chat_id: int, active: bool) -> Subscription | None:
        """The subscription as it was before (None: the chat has none)."""
        now = self._clock()

        def set_active(sub: Subscription | None) -> Subscription | None:
            return sub if sub is None or sub.active == active else replace(sub, active=active, updated=now)

        before, _ = await self._chats.change_subscription(chat_id, set_active)
        return before.sub
