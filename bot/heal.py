"""Healing: papers that went out pending are translated again; once a sent week has none pending, every
message sent for it is edited in place (the same papers per message, by the layout of the view the
chat was sent: bot/layout.py), and
admins are told. Weeks are given up after HEAL_WINDOW."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from enum import StrEnum

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import texts
from bot.deliver import Clock, Notify
from bot.digest import DigestService
from bot.layout import render_plan
from bot.ledger import LedgerEntry
from bot.limiter import PACED, Priority, SendLimiter, seconds
from bot.sendpolicy import NO_PREVIEW, Bot
from bot.store import Store

log = logging.getLogger(__name__)

HEAL_WINDOW = timedelta(hours=72)
GAVE_UP_FOR = timedelta(days=14)


class Edit(StrEnum):
    EDITED = "edited"
    SAME = "same"  # nothing to change, or it cannot be edited (deleted, bot blocked): nothing to retry
    RETRY = "retry"  # Telegram could not be reached: the next heal tries again


class Healer:
    def __init__(
        self, bot: Bot, store: Store, digests: DigestService, limiter: SendLimiter, *, clock: Clock, notify: Notify
    ) -> None:
        self._bot = bot
        self._store = store
        self._digests = digests
        self._limiter = limiter
        self._clock = clock
        self._notify = notify

    async def heal(self) -> None:
        """Retranslate the pending papers of sent weeks; once a week has none, edit its messages."""
        now = self._clock()
        for week, record in (await self._store.heal_records()).items():
            if now - record.since > HEAL_WINDOW:
                await self._store.first_time(f"heal-gave-up:{week}", ttl=GAVE_UP_FOR)  # later runs of the week
                await self._store.save_heal(week, None)  # (other slots) do not start healing it again
                await self._notify(texts.HEAL_GIVEN_UP.format(week=week))
                continue
            layouts = await self._store.layouts(week)
            sent = {rank for layout in layouts.values() for part in layout.plan.parts for rank in part}
            # The translator retries what is pending, of the papers any chat was sent.
            digest = await self._digests.build(week, top_n=max(sent, default=0) or None)
            if digest.pending:
                await self._store.save_heal(
                    week, replace(record, attempts=record.attempts + 1, papers=len(digest.pending))
                )
                log.info("Heal %s: %d papers still pending", week, len(digest.pending))
                continue
            rendered: dict[str, list[str]] = {}  # by view: each rendered once
            edits = []
            for entry in (await self._store.ledger(week)).values():
                layout = layouts.get(entry.layout)
                if layout is None:  # sent before layouts were kept, with no plan left: cannot be matched
                    log.warning("Heal %s: no layout %r kept for chat %s", week, entry.layout, entry.chat_id)
                    continue
                if entry.layout not in rendered:
                    rendered[entry.layout] = render_plan(
                        digest, layout.view, layout.plan, bot_username=self._bot.username
                    )
                edits += await self._edit_all(entry, rendered[entry.layout])
            edited, retry = edits.count(Edit.EDITED), edits.count(Edit.RETRY)
            if retry:  # the next heal edits again ("not modified" is harmless)
                await self._store.save_heal(week, replace(record, attempts=record.attempts + 1))
                log.warning("Heal %s: edited %d messages, %d to try again", week, edited, retry)
                continue
            await self._store.save_heal(week, None)
            log.info("Healed %s: edited %d messages", week, edited)
            await self._notify(texts.HEALED.format(week=week, edited=edited))

    async def _edit_all(self, entry: LedgerEntry, parts: list[str]) -> list[Edit]:
        """Edit every message the ledger entry records."""
        return [
            await self._edit(entry.chat_id, message_id, parts[i])
            for i, message_id in entry.delivered()
            if i < len(parts)
        ]

    async def _edit(self, chat_id: int, message_id: int, text: str) -> Edit:
        while True:
            await self._limiter.acquire(chat_id, Priority.BROADCAST)
            try:
                await self._bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW, rate_limit_args=PACED,
                )  # fmt: skip
                return Edit.EDITED
            except RetryAfter as exc:  # every sender waits, then this edit goes again
                await self._limiter.flood(seconds(exc.retry_after))
            except (BadRequest, Forbidden) as exc:
                if "not modified" not in exc.message.lower():
                    log.warning("Cannot edit message %s in chat %s: %s", message_id, chat_id, exc.message)
                return Edit.SAME
            except TelegramError as exc:
                log.warning("Could not edit message %s in chat %s: %s", message_id, chat_id, exc)
                return Edit.RETRY
