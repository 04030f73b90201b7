"""The operator's view of a running bot: /healthz and /metrics (aiohttp), and what Telegram told us
that keeps the bot from working (a refused token, another instance polling with the same token)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.errors import StoreError, UsageError
from bot.leader import Leadership
from bot.metrics import LAST_PUBLISH, PENDING, SUBSCRIBERS
from bot.models import ChatKind
from bot.store import ChatStore, DeliveryStore

log = logging.getLogger(__name__)


class TelegramHealth:
    """Watches the status of every Bot API answer (the transport's observer, bot/telegram_http.py).

    - 401 on any call: Telegram no longer accepts the token (revoked or changed). Nothing will work
      until an operator sets a new one, so `fatal` is set: `hfweekly run` stops and exits 1, and the
      supervisor (docker compose's restart policy) starts it again, which fails at getMe until the
      token is fixed. Logged at CRITICAL once.
    - 409 on getUpdates: another process is polling with this token. Reported (once per episode) and
      in /healthz while it lasts; python-telegram-bot retries with growing waits (up to 30 s), and a
      getUpdates that succeeds again ends the episode.
    """

    def __init__(self) -> None:
        self.problems: dict[str, str] = {}
        self.fatal = asyncio.Event()

    def observe(self, method: str, status: int) -> None:
        if status == 401:
            if not self.fatal.is_set():
                log.critical(
                    "Telegram refuses the bot's token (401 Unauthorized on %s): the bot stops. Set a valid "
                    "TELEGRAM_BOT_TOKEN (from @BotFather) and start it again",
                    method,
                )
                self.problems["token"] = "telegram: the bot's token was refused (401 Unauthorized)"
                self.fatal.set()
        elif method == "getUpdates" and status == 409:
            if "conflict" not in self.problems:
                log.error("Another instance is polling with this token (409 Conflict): only one may; retrying")
            self.problems["conflict"] = "telegram: another instance is polling with this token"
        elif method == "getUpdates" and status == 200 and "conflict" in self.problems:
            del self.problems["conflict"]
            log.info("Polling again: no other instance takes this token's updates now")

    def polling_error(self, error: Exception) -> None:
        """python-telegram-bot's error callback for polling: one line, no traceback (409 is said above)."""
        if "conflict" not in type(error).__name__.lower():
            log.warning("Polling for updates failed (%s: %s); retrying", type(error).__name__, error)


class HealthServer:
    def __init__(
        self,
        application: Any,
        telegram: TelegramHealth,
        host: str,
        port: int,
        *,
        chats: ChatStore,
        delivery: DeliveryStore,
        leadership: Leadership,
        polling: bool,
    ) -> None:
        self._leadership = leadership
        self._polling = polling  # polling mode: only the leader polls; a standby waiting is healthy
        self._chats = chats  # probed (a write), and the subscribers' gauge
        self._delivery = delivery  # the last publish, the papers awaiting healing
        self._application = application
        self._telegram = telegram
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        self._app = app

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=2)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self._host, self._port).start()
        except OSError as exc:
            await self._runner.cleanup()
            raise UsageError(
                f"cannot serve /healthz and /metrics on {self._host}:{self._port} ({exc.strerror}); "
                "set HFWEEKLY_HTTP_PORT to a free port (0 turns them off)"
            ) from exc
        log.info("Health and metrics on %s:%d (/healthz, /metrics)", self._host, self._port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def healthz(self, request: web.Request) -> web.Response:
        """`ok`, and this process's `role` (leader or standby), its name and the leader's (host:pid);
        `updates`: how this process receives them (webhook, polling, or none: a standby in polling mode)."""
        problems = []
        try:
            await self._chats.probe()  # a write: a full or read-only Redis answers reads but refuses this
        except StoreError as exc:
            problems.append(f"redis: {exc}")
        leading, updater = self._leadership.leading, self._application.updater
        receives = (updater is not None and updater.running) or (self._polling and not leading)
        if not self._application.running or not receives:
            problems.append("telegram: the update loop is not running")
        problems += self._telegram.problems.values()
        role = {
            "role": "leader" if leading else "standby",
            "process": self._leadership.name,
            "leader": await self._leadership.leader(),
            "updates": "polling" if self._polling and leading else "none" if self._polling else "webhook",
        }
        if problems:
            return web.json_response({"ok": False, "reason": "; ".join(problems), **role}, status=503)
        return web.json_response({"ok": True, **role})

    async def metrics(self, request: web.Request) -> web.Response:
        try:
            subs = await self._chats.list_subscriptions()
            for kind in ChatKind:
                SUBSCRIBERS.labels(kind.value).set(sum(1 for s in subs if s.kind is kind and s.active))
            last = await self._delivery.last_report()
            if last is not None and last.done:
                LAST_PUBLISH.set(last.started.timestamp() + last.seconds)
            PENDING.set(sum(record.papers for record in (await self._delivery.heal_records()).values()))
        except StoreError as exc:  # the counters are still worth serving
            log.warning("Metrics without the stored gauges: %s", exc)
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
