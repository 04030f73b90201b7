"""python-telegram-bot handlers by concern; `register` puts them and their dependencies on the Application.

Every update, in polling and webhook mode alike, goes through these (one path). Handlers are thin:
parse, call a service, reply; the services they use come from `Deps` (bot/handlers/common.py).
"""

from __future__ import annotations

from typing import Any

from telegram import BotCommand
from telegram.ext import Application

from bot import texts
from bot.handlers import admin, ask, brief, inline, paper, reports, settings, start, subscribe, trust, week
from bot.handlers.common import DEPS, Deps
from bot.handlers.errors import on_error

COMMANDS = [BotCommand(name, description) for name, description in texts.COMMANDS]


def register(application: Application[Any, Any, Any, Any, Any, Any], deps: Deps) -> None:
    application.bot_data[DEPS] = deps
    for handlers in (
        start.HANDLERS,
        week.HANDLERS,
        paper.HANDLERS,
        inline.HANDLERS,
        subscribe.HANDLERS,
        settings.HANDLERS,
        admin.HANDLERS,
        trust.HANDLERS,
        reports.HANDLERS,  # before ask's replies: a reply to a report's "add a comment" is the comment
        brief.HANDLERS,
        ask.HANDLERS,  # before the fallbacks: a reply to a paper's message is a question about it
        start.FALLBACKS,
    ):
        application.add_handlers(handlers)
    application.add_error_handler(on_error)
