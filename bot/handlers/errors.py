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
    await d.alerts.alert(kind, texts.ALERT.format(kind=kind, detail=redact(str(error), d.settings.secrets())[:1000]))
    if isinstance(update, Update) and update.effective_chat is not None:
        text = texts.STORE_DOWN if isinstance(error, StoreError) else texts.SORRY
        try:
            await context.bot.send_message(
                update.effective_chat.id, text, message_thread_id=thread_of(update.effective_message)
            )
        except TelegramError as exc:
            log.warning("Could not apologise in chat %s: %s", update.effective_chat.id, exc)
