"""Notices to admins that a Telegram outage must not lose: an alert, or the answer to an admin's command
that took long (/publish). What Telegram does not take (no connection, a timeout, a 5xx, a flood
wait) is kept in Redis, oldest first (bot/store/limits.py: at most OUTBOX_CAP, for OUTBOX_TTL), and
sent when Telegram answers again: by the next notice, and by `run`, which `hfweekly run` keeps going
(every NOTICES_EVERY seconds it looks whether anything is kept). One process at a time sends them
(a lock in Redis), each once, the oldest first, saying when it was meant to go.

What Telegram refuses for good (the admin blocked the bot, a bad request) is not kept: sending it
again would fail the same way. While Redis is away a notice is sent at once and, if Telegram does not
take it either, only logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import texts
from bot.digest import utcnow
from bot.errors import StoreError
from bot.store import LimitStore, Notice

log = logging.getLogger(__name__)

NOTICES_EVERY = 5.0  # seconds between looks at the outbox in a running bot (one LLEN)
NOTICES_AT_MOST = 60.0  # while Telegram still does not take them, the looks grow apart up to this
LOCK_TIMEOUT = timedelta(seconds=60)  # renewed after every notice sent


class Outbox:
    def __init__(self, bot: Any, limits: LimitStore, tz: ZoneInfo, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._bot = bot
        self._clock = clock
        self._limits = limits
        self._tz = tz
        self._running: asyncio.Task[None] | None = None

    async def send(self, chat_id: int, text: str, *, html: bool = False, thread_id: int | None = None) -> None:
        """Send `text` now, or behind the notices still kept; kept when Telegram does not take it.
        Never raises (a notice that cannot be sent or kept is logged)."""
        notice = Notice(chat_id, text, html, self._clock(), thread_id)
        if not await self._waiting():  # nothing kept (or Redis away): straight to Telegram
            if not await self._deliver(notice, late=False):
                await self._keep(notice)
            return
        if await self._keep(notice):  # behind the older ones, which go first
            await self.flush()
        else:  # Redis refused it: now or never
            await self._deliver(notice, late=False)

    async def flush(self) -> int:
        """Send the kept notices, oldest first, until one is not taken (Telegram still away) or none is
        left; another process doing it meanwhile is left to it. How many went."""
        try:
            lock = self._limits.outbox_lock(timeout=LOCK_TIMEOUT)
            if not await lock.acquire(0):
                return 0
        except StoreError as exc:
            log.warning("Could not send the kept notices: %s", exc)
            return 0
        sent = 0
        try:
            while (notice := await self._limits.first_notice()) is not None:
                if not await self._deliver(notice, late=True):
                    break
                await self._limits.drop_notice(notice)
                await lock.renew()
                sent += 1
        except StoreError as exc:
            log.warning("Stopped sending the kept notices: %s", exc)
        finally:
            await lock.release()
        if sent:
            log.info("Sent %d notice(s) kept while Telegram did not answer", sent)
        return sent

    def start(self) -> None:
        """Send what is kept once Telegram answers again, until `stop` (`hfweekly run`)."""
        self._running = asyncio.create_task(self.run())

    async def stop(self) -> None:
        if self._running is not None:
            self._running.cancel()
            await asyncio.wait({self._running})
            self._running = None

    async def run(self, every: float = NOTICES_EVERY) -> None:
        """Look at the outbox every `every` seconds (longer, up to NOTICES_AT_MOST, while Telegram does
        not take what is kept) and send what is kept."""
        wait = every
        while True:
            await asyncio.sleep(wait)
            try:
                left = await self._limits.kept_notices() and (await self.flush() == 0)
            except StoreError as exc:
                log.info("Could not look at the kept notices: %s", exc)
                left = False
            wait = min(wait * 2, NOTICES_AT_MOST) if left else every

    async def _deliver(self, notice: Notice, *, late: bool) -> bool:
        """Send one notice; False when Telegram did not take it and it is worth trying again."""
        from telegram.constants import ParseMode
        from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

        text = notice.text
        if late:
            text = texts.NOTICE_LATE.format(at=notice.at.astimezone(self._tz).strftime("%m-%d %H:%M")) + text
        try:
            await self._bot.send_message(
                notice.chat_id,
                text,
                message_thread_id=notice.thread_id,
                parse_mode=ParseMode.HTML if notice.html else None,
            )
        except (RetryAfter, NetworkError) as exc:
            if isinstance(exc, BadRequest):  # a NetworkError to python-telegram-bot, but an answer for good
                log.warning("Telegram refused a notice to chat %s: %s", notice.chat_id, exc)
                return True
            log.warning("Telegram did not take a notice to chat %s (%s): kept for later", notice.chat_id, exc)
            return False
        except TelegramError as exc:  # blocked, chat gone: it would fail the same way again
            log.warning("Could not tell chat %s: %s", notice.chat_id, exc)
        return True

    async def _waiting(self) -> bool:
        try:
            return await self._limits.kept_notices() > 0
        except StoreError as exc:
            log.warning("Could not look at the kept notices (%s): sending this one at once", exc)
            return False

    async def _keep(self, notice: Notice) -> bool:
        try:
            await self._limits.keep_notice(notice)
        except StoreError as exc:
            log.error(
                "A notice to chat %s is lost: Telegram did not take it and Redis failed (%s)", notice.chat_id, exc
            )
            return False
        return True
