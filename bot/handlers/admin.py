"""Admin commands (HFWEEKLY_ADMINS): /status, /preview, /publish (corrections, reports and the glossary:
bot/handlers/trust.py). To anyone else they are unknown commands."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler

from bot import texts
from bot import texts_trust as tt
from bot.errors import AlreadyPublishing, DigestError, HeldError
from bot.handlers.common import Context, Deps, deps, edit, reply, retry_if_interrupted, thread_of
from bot.handlers.week import parse_week, send_digest
from bot.models import ChatKind
from bot.render import esc
from bot.slots import next_run
from bot.status import Figures
from bot.week import IsoWeek

log = logging.getLogger(__name__)

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]

PAID_STARS = 0.1  # Telegram's fee for a message beyond the free broadcasting limit (Bot API: allow_paid_broadcast)


def admins_only(handler: Handler) -> Handler:
    """Run `handler` for admins; to anyone else it is an unknown command (answered in private chats)."""

    async def guarded(update: Update, context: Context) -> None:
        if deps(context).is_admin(update.effective_user):
            await handler(update, context)
        elif update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE:
            await reply(update, context, texts.UNKNOWN)

    return guarded


async def _week_argument(update: Update, context: Context) -> IsoWeek | None:
    """The week an admin command names (default: last week); None when it answered already."""
    week = parse_week(deps(context), " ".join(context.args or []) or "last", future=True)
    if isinstance(week, str):
        await reply(update, context, week)
        return None
    return week


async def status(update: Update, context: Context) -> None:
    d = deps(context)
    subs = await d.subscriptions.all()
    lines = [texts.STATUS_HEAD]
    for kind in ChatKind:
        active = sum(1 for s in subs if s.kind is kind and s.active)
        lines.append(
            texts.STATUS_KIND.format(
                kind=kind.value, active=active, inactive=sum(s.kind is kind for s in subs) - active
            )
        )
    f = await d.status.figures()
    lines += ["", texts.STATUS_CACHE.format(count=f.translations),
              texts.STATUS_USAGE.format(week=f.week, u=f.usage),
              texts.STATUS_ON_DEMAND.format(u=f.on_demand),
              ""]  # fmt: skip
    lines += _trust(f)
    lines += ["", texts.STATUS_RUNS]
    lines += await _runs(d, f)
    await reply(update, context, "\n".join(lines))


def _trust(f: Figures) -> list[str]:
    """The gate's week (rejections by reason, glossary misses), readers' open reports, the editor."""
    gate = f.gate
    reasons = ", ".join(
        f"{tt.GATE_REASONS.get(r, r)} {n}" for r, n in sorted(gate.rejected.items(), key=lambda x: -x[1])
    )
    lines = [tt.STATUS_GATE.format(
        rejected=sum(gate.rejected.values()), reasons=f" ({reasons})" if reasons else "", missed=sum(gate.missed.values())
    )]  # fmt: skip
    if gate.recent:
        lines.append(tt.STATUS_GATE_RECENT.format(items=esc(", ".join(gate.recent[:8]))))
    lines.append(tt.STATUS_REPORTS.format(count=len(f.reports), papers=len({r.paper_id for r in f.reports})))
    lines.append(tt.STATUS_EDITS.format(s=f.edits))
    return lines


async def _runs(d: Deps, f: Figures) -> list[str]:
    last = f.last
    lines = [texts.STATUS_LAST.format(r=last, started=last.started.strftime("%Y-%m-%d %H:%M")) if last
             else texts.STATUS_NO_LAST]  # fmt: skip
    if last and (f.paid or d.settings.paid_broadcast):
        lines.append(texts.STATUS_PAID.format(week=last.week, count=f.paid, stars=f.paid * PAID_STARS))
    upcoming = next_run(d.settings, d.clock())
    when = upcoming.strftime("%Y-%m-%d %H:%M %Z") if upcoming else "-"
    lines.append(texts.STATUS_NEXT.format(when=when, schedule=esc(d.settings.schedule)))
    token = texts.STATUS_HF_TOKEN if d.settings.hf_token else texts.STATUS_HF_ANONYMOUS
    lines.append(texts.STATUS_HF.format(calls=f.hf_calls, token=token))
    if f.owed is not None and f.retry is not None:
        lines.append(
            texts.STATUS_RETRY.format(week=f.owed, when=f.retry.astimezone(d.settings.tz).strftime("%m-%d %H:%M"))
        )
    if f.owed is not None and f.hold is not None:
        state = texts.STATUS_HOLD_GIVEN_UP if f.hold.gave_up else texts.STATUS_HOLD_RETRYING
        lines.append(texts.STATUS_HOLD.format(week=f.owed, reason=esc(f.hold.reason), state=state))
    if f.healing:
        lines.append(texts.STATUS_HEALING.format(weeks=", ".join(str(w) for w in f.healing)))
    if d.leadership is not None:
        leader = await d.leadership.leader() or texts.STATUS_NO_LEADER
        lines.append(texts.STATUS_LEADER.format(leader=esc(leader), this=esc(d.leadership.name)))
    return lines


async def publish(update: Update, context: Context) -> None:
    """Publish a week now. Telegram failing the "started" reply does not stop the publish, and its
    result reaches the admin when Telegram answers again (bot/outbox.py)."""
    d = deps(context)
    if (week := await _week_argument(update, context)) is None:
        return
    if not week.is_completed(d.clock(), d.settings.tz):
        await reply(update, context, texts.PUBLISH_NOT_ENDED.format(week=week))
        return
    try:
        await reply(update, context, texts.PUBLISH_STARTED.format(week=week))
    except TelegramError as exc:
        log.warning("Could not say that the publish of %s started (%s): publishing all the same", week, exc)
    try:
        report = await d.broadcaster.publish(week)
    except (HeldError, DigestError) as exc:
        result = texts.PUBLISH_HELD.format(week=week, reason=esc(str(exc)))
    except AlreadyPublishing:
        result = texts.PUBLISH_BUSY.format(week=week)
    else:
        result = texts.PUBLISH_DONE.format(week=week, r=report)
    chat = update.effective_chat
    assert chat is not None
    await d.outbox.send(chat.id, result, html=True, thread_id=thread_of(update.effective_message))


async def preview(update: Update, context: Context) -> None:
    d = deps(context)
    if (week := await _week_argument(update, context)) is None:
        return
    if not week.has_started(d.clock(), d.settings.tz):
        await reply(update, context, texts.FUTURE.format(week=week, last=d.last_week()))
        return
    placeholder = await reply(update, context, texts.BUILDING.format(week=week))
    try:
        async with retry_if_interrupted(placeholder):
            digest = await d.digests.build(week)
    except DigestError as exc:
        await edit(placeholder, texts.PREVIEW_FAILED.format(reason=esc(str(exc))))
        return
    await edit(placeholder, texts.PREVIEW_HEAD.format(week=week, pending=len(digest.pending)))
    await send_digest(update, context, digest)


HANDLERS: list[BaseHandler] = [  # type: ignore[type-arg]
    CommandHandler(name, admins_only(callback))
    for name, callback in (("status", status), ("preview", preview), ("publish", publish))
]
