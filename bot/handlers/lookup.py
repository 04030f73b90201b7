"""What /paper, the deep brief and /ask (bot/handlers/paper.py, brief.py, ask.py) share: finding a paper
(or saying why not), and telling a person and the admins that asking Claude failed."""

from __future__ import annotations

import logging

from telegram import Message, Update

from bot import texts
from bot.errors import SourceError, StoreError
from bot.handlers.common import Context, Deps, deps, edit, reply
from bot.logs import redact
from bot.ondemand import Found, Missing
from bot.render import esc

log = logging.getLogger(__name__)


async def found_or_said(update: Update, context: Context, paper_id: str) -> Found | None:
    """The paper (archive, Hugging Face, arXiv); None once the person was told why there is none."""
    d = deps(context)
    if d.ondemand is None:  # no translator: only papers of the archive, in English
        await reply(update, context, texts.PAPER_UNKNOWN)
        return None
    try:
        found = await d.ondemand.find(paper_id)
    except SourceError as exc:
        log.warning("/paper %s: %s", paper_id, exc)
        await reply(update, context, texts.PAPER_SOURCE_DOWN.format(paper=esc(paper_id)))
        return None
    if found is Missing.WITHDRAWN:
        await reply(update, context, texts.PAPER_WITHDRAWN.format(paper=esc(paper_id)))
        return None
    if not isinstance(found, Found):
        await reply(update, context, texts.PAPER_NOT_FOUND.format(paper=esc(paper_id)))
        return None
    return found


async def tell_failure(d: Deps, placeholder: Message, exc: Exception, what: str) -> None:
    """The placeholder says so rather than staying "생성 중…"; admins are told (secrets masked)."""
    log.error("%s failed", what, exc_info=exc)
    detail = redact(str(exc), d.settings.secrets())[:500]
    await d.alerts.alert(type(exc).__name__, texts.ALERT.format(kind=type(exc).__name__, detail=esc(detail)))
    await edit(placeholder, texts.STORE_DOWN if isinstance(exc, StoreError) else texts.SORRY)
