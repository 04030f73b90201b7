"""Who a publish run sends to, each with its view of the digest: the chats of the slots the run is
for (or of every slot), the chats owed the week by an earlier run, and the configured channels.

Only the chats of the run are read (the slot index, then their subscriptions and settings by id), so
the work of a run is proportional to the chats it is for, not to every subscriber.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from telegram.error import BadRequest, Forbidden, TelegramError

from bot import texts
from bot.alerts import Alerts
from bot.config import Settings
from bot.models import ALL_SLOT_KEYS, DEFAULT_SLOT, ChatKind, ChatSettings, View
from bot.sendpolicy import Bot, Recipient
from bot.store import ChatStore, DeliveryStore
from bot.week import IsoWeek

log = logging.getLogger("bot.deliver")

ALL = None  # a run for every slot (an admin's /publish, `hfweekly publish WEEK`)


@dataclass
class Audience:
    recipients: list[Recipient]
    unresolved: list[str]  # configured @channels that could not be looked up: tried again later
    owed: set[int]  # the chats the week's owed set held when the run began
    dropped: list[int] = field(default_factory=list)  # owed chats no longer to be sent (paused, gone)


class AudienceFinder:
    def __init__(
        self, bot: Bot, settings: Settings, alerts: Alerts, *, chats: ChatStore, delivery: DeliveryStore
    ) -> None:
        self._bot = bot
        self._chats = chats  # the slots' chats, their subscriptions and settings
        self._delivery = delivery  # the chats owed the week, the slots that have had it
        self._settings = settings
        self._alerts = alerts

    def view(self, settings: ChatSettings | None) -> View:
        return (settings or ChatSettings()).view(self._settings.top_n)

    async def find(self, week: IsoWeek, slots: Sequence[str] | None) -> Audience:
        """The run's recipients: the chats of `slots` (ALL: every slot; none: a retry run), and always
        the chats owed the week. The configured channels go with the default slot."""
        owed = set(await self._delivery.owed_chats(week))
        ids = set(owed)
        for slot in ALL_SLOT_KEYS if slots is ALL else slots:
            ids.update(await self._chats.slot_chats(slot))
        ordered = sorted(ids)
        subs = await self._chats.subscriptions_of(ordered)
        settings = await self._chats.settings_of(ordered)
        found: dict[int, Recipient] = {}
        dropped = []
        for chat_id in ordered:
            sub, chosen = subs.get(chat_id), settings.get(chat_id)
            if sub is None or not sub.active or (chosen is not None and chosen.paused):
                dropped.append(chat_id)  # e.g. an owed chat that paused or left since
                continue
            found[chat_id] = Recipient(chat_id, sub.kind, sub.thread_id, view=self.view(chosen))
        unresolved: list[str] = []
        # The channels go with the default slot (and with retries once it has delivered the week).
        with_channels = slots is ALL or DEFAULT_SLOT in slots
        if not with_channels and not slots:
            with_channels = DEFAULT_SLOT in await self._delivery.done_slots(week)
        if with_channels:
            unresolved = await self._channels(found)
        dropped = [chat_id for chat_id in dropped if chat_id not in found]
        return Audience(list(found.values()), unresolved, owed, dropped)

    async def _channels(self, found: dict[int, Recipient]) -> list[str]:
        """Add the configured channels (by numeric id, each once); the @names that could not be looked
        up are returned (never sent under a second identity)."""
        unresolved = []
        for channel in self._settings.channels:
            if channel.removeprefix("-").isdigit():
                chat_id = int(channel)
            else:
                try:
                    chat_id = (await self._bot.get_chat(channel)).id
                except (BadRequest, Forbidden) as exc:  # no such channel (to this bot): the setting is wrong
                    log.error("Configured channel %s cannot be found (%s): skipped", channel, exc.message)
                    await self._alerts.alert(
                        f"channel:{channel}", texts.CHANNEL_UNKNOWN.format(chat=channel, reason=exc)
                    )
                    continue
                except TelegramError as exc:  # Telegram unreachable: a later run looks it up again
                    log.warning("Cannot look up channel %s (%s): it is tried again by a later run", channel, exc)
                    unresolved.append(channel)
                    continue
            found.setdefault(chat_id, Recipient(chat_id, ChatKind.CHANNEL, subscribed=False, view=self.view(None)))
        return unresolved
