"""Telling admins about a problem: once per kind of problem every ALERT_EVERY, across every process
(the throttle lives in Redis), or in this process alone while Redis cannot be asked — an outage of
Redis is exactly when admins must still hear about it. A notice Telegram does not take (an outage of
Telegram) is kept and sent when it answers again (bot/outbox.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from bot.config import Settings
from bot.errors import StoreError
from bot.logs import redact
from bot.outbox import Outbox
from bot.store import LimitStore
from bot.store.limits import ALERT_EVERY

log = logging.getLogger(__name__)

Notify = Callable[[str], Awaitable[None]]
NOTICE_LIMIT = 4000  # characters of one notice to admins (Telegram's limit is 4096, less NOTICE_LATE)


def admin_notifier(outbox: Outbox, settings: Settings) -> Notify:
    """Tell every admin something in a private message (plain text, secrets masked, cut to fit one
    message); what Telegram does not take now is sent when it answers again; never raises."""

    async def notify(text: str) -> None:
        text = redact(text, settings.secrets())
        text = text if len(text) <= NOTICE_LIMIT else text[: NOTICE_LIMIT - 1] + "…"
        for admin in settings.admins:
            await outbox.send(admin, text)

    return notify


class Alerts:
    def __init__(self, limits: LimitStore, notify: Notify) -> None:
        self._limits = limits
        self._notify = notify
        self._told: dict[str, float] = {}  # kind -> when this process last told (monotonic)

    async def alert(self, kind: str, text: str) -> None:
        """Tell the admins `text`, unless this kind of problem was told of within ALERT_EVERY."""
        try:
            first = await self._limits.alert_once(kind)
        except StoreError as exc:
            log.warning("Could not throttle the admin alert through Redis (%s): throttling in this process", exc)
            first = time.monotonic() - self._told.get(kind, float("-inf")) >= ALERT_EVERY.total_seconds()
        if first:
            self._told[kind] = time.monotonic()
            await self._notify(text)

    async def tell(self, text: str) -> None:
        """Tell the admins `text` now (the caller throttles it, if it must be)."""
        await self._notify(text)
