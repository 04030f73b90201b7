"""The operator's HTTP endpoints inside `hfweekly run`: /healthz and /metrics (aiohttp)."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from telegram.ext import Application

from bot.errors import StoreError
from bot.metrics import LAST_PUBLISH, PENDING, SUBSCRIBERS
from bot.models import ChatKind
from bot.store import Store

log = logging.getLogger(__name__)


class HealthServer:
    def __init__(self, store: Store, application: Application, port: int) -> None:  # type: ignore[type-arg]
        self._store = store
        self._application = application
        self._port = port
        self._runner: web.AppRunner | None = None
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        self._app = app

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "0.0.0.0", self._port).start()
        log.info("Health and metrics on port %d (/healthz, /metrics)", self._port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def healthz(self, request: web.Request) -> web.Response:
        problems = []
        try:
            await self._store.ping()
        except StoreError as exc:
            problems.append(f"redis: {exc}")
        updater = self._application.updater
        if not self._application.running or (updater is not None and not updater.running):
            problems.append("telegram: the update loop is not running")
        if problems:
            return web.json_response({"ok": False, "reason": "; ".join(problems)}, status=503)
        return web.json_response({"ok": True})

    async def metrics(self, request: web.Request) -> web.Response:
        try:
            subs = await self._store.list_subscriptions()
            for kind in ChatKind:
                SUBSCRIBERS.labels(kind.value).set(sum(1 for s in subs if s.kind is kind and s.active))
            last = await self._store.last_report()
            if last is not None and last.done:
                LAST_PUBLISH.set(last.started.timestamp() + last.seconds)
            PENDING.set(sum(record.papers for record in (await self._store.heal_records()).values()))
        except StoreError as exc:  # the counters are still worth serving
            log.warning("Metrics without the stored gauges: %s", exc)
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
