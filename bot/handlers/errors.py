"""The one error handler: whatever a handler raises is logged with its traceback, admins are told
(once per 10 minutes per kind of error) and the person gets a short apology — never a traceback."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot import texts
from bot.errors import StoreError
from bot.handlers.common import Context, deps, thread_of
from bot.logs import redact
from bot.render import esc

log = logging.getLogger(__name__)


def _describe(update: object) -> str:
    if isinstance(update, Update):
        chat = update.effective_chat
        return f"update {update.update_id} (chat {chat.id if chat else '-'})"
    return repr(update)[:200]


async def on_error(update: object, context: Context) -> None:
    error = context.error
    log.error("Handler failed on %s", _describe(update), exc_info=error)
    if error is None:
        return
    d = deps(context)
    kind = type(error).__name__
    try:
        if d.settings.admins and await d.store.alert_once(kind):
            detail = esc(redact(str(error), d.settings.secrets()))[:1000]
            for admin in d.settings.admins:
                try:
                    await context.bot.send_message(admin, texts.ALERT.format(kind=esc(kind), detail=detail))
                except TelegramError as exc:
                    log.warning("Could not alert admin %s: %s", admin, exc)
    except StoreError as exc:
        log.warning("Could not throttle the admin alert: %s", exc)
    if isinstance(update, Update) and update.effective_chat is not None:
        text = texts.STORE_DOWN if isinstance(error, StoreError) else texts.SORRY
        try:
            await context.bot.send_message(
                update.effective_chat.id, text, message_thread_id=thread_of(update.effective_message)
            )
        except TelegramError as exc:
            log.warning("Could not apologise in chat %s: %s", update.effective_chat.id, exc)
