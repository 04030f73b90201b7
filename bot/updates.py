"""How updates reach the Application, and that each is handled once across processes.

- Webhook mode: every replica serves the webhook (a load balancer spreads Telegram's POSTs).
- Polling mode: only the leader polls (bot/leader.py): Telegram lets one getUpdates wait at a time and
  ends the other with 409, so two pollers would steal each other's polls and answer some updates twice.
  Polling starts when this process comes to lead and stops at once when it no longer does.
- Either way, every update is claimed in Redis by its id before any handler sees it (a handler in the
  group before all of ours): an update another process already claimed (a new leader polling from the
  last offset Telegram saw confirmed, an update redelivered to another replica) is dropped. While Redis
  is unreachable the update is handled all the same: answering "try again later" beats silence.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.config import Settings
from bot.errors import StoreError
from bot.health import TelegramHealth
from bot.store import LeaseStore

log = logging.getLogger(__name__)

CLAIM_GROUP = -1  # before every group of ours (they start at 0)


def claim_updates(application: Application[Any, Any, Any, Any, Any, Any], leases: LeaseStore) -> None:
    """Every update is handled by the first process that claims its id, and only there."""

    async def claim(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            first = await leases.claim_update(context.bot.id, update.update_id)
        except StoreError as exc:
            log.debug("Update %d handled unclaimed: %s", update.update_id, exc)
            return
        if not first:
            log.info("Update %d was claimed by another process (or delivered twice): not handled again",
                     update.update_id)  # fmt: skip
            raise ApplicationHandlerStop

    application.add_handler(TypeHandler(Update, claim), group=CLAIM_GROUP)


class Updates:
    """The Application's updater, run as this process's role says (webhook: always; polling: while it leads)."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        settings: Settings,
        telegram: TelegramHealth,
        *,
        poll_timeout: int,
    ) -> None:
        updater = application.updater
        assert updater is not None
        self._updater = updater
        self._settings = settings
        self._telegram = telegram
        self._poll_timeout = poll_timeout
        self._username = application.bot.username

    async def webhook(self, url: str) -> None:
        settings = self._settings
        await self._updater.start_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(url).path.lstrip("/"),
            webhook_url=url,
            secret_token=settings.webhook_secret(),
            allowed_updates=Update.ALL_TYPES,
        )
        log.info("Bot @%s receives updates at %s (port %d)", self._username, url, settings.webhook_port)

    async def on_leadership(self, leading: bool) -> None:
        """A Leadership listener: poll while this process leads."""
        if leading and not self._updater.running:
            await self._updater.start_polling(
                timeout=self._poll_timeout,
                allowed_updates=Update.ALL_TYPES,
                error_callback=self._telegram.polling_error,
            )
            log.info("Bot @%s is polling for updates (this process leads)", self._username)
        elif not leading and self._updater.running:
            await self.stop()
            log.info("Stopped polling: another process leads, or this one is stopping")

    async def stop(self) -> None:
        """No new updates (those fetched already are still handled)."""
        if not self._updater.running:
            return
        try:
            await self._updater.stop()
        except TelegramError as exc:  # the polling loop had ended already on this error (a refused token)
            log.info("The update loop had already stopped: %s", exc)
