"""The public web listener (aiohttp): pages and feeds from `Site`, with ETag, Last-Modified and 304s.

Off by default. `hfweekly run` starts it with HFWEEKLY_WEB=true on HFWEEKLY_WEB_HOST:HFWEEKLY_WEB_PORT
(default 127.0.0.1:8081: put a reverse proxy in front for TLS, README), apart from the operator's
/healthz and /metrics listener; `hfweekly web` serves it alone (no Telegram). Only GET and HEAD.
A failure inside is a Korean 500 page and a log line, never a traceback to the reader; Redis down
is a 503.
"""

from __future__ import annotations

import logging
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web

from bot.errors import StoreError
from bot.web.site import Answer, Site, answer

log = logging.getLogger(__name__)

CACHE_CONTROL = "public, max-age=60"  # proxies and browsers revalidate after a minute (a 304 is cheap)


def _not_modified(request: web.Request, found: Answer) -> bool:
    """If-None-Match (when sent, it alone decides), else If-Modified-Since."""
    tags = request.headers.get("If-None-Match")
    if tags is not None:
        return any(tag.strip().removeprefix("W/") in (found.etag, "*") for tag in tags.split(","))
    since = request.headers.get("If-Modified-Since")
    if since is None or found.last_modified is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return found.last_modified.replace(microsecond=0) <= when


def respond(request: web.Request, found: Answer) -> web.Response:
    headers = {"ETag": found.etag, "Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
    if found.last_modified is not None:
        headers["Last-Modified"] = format_datetime(found.last_modified.astimezone(UTC), usegmt=True)
    if found.status == 200 and _not_modified(request, found):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = found.content_type
    return web.Response(status=found.status, body=found.body, headers=headers)


def web_app(site: Site) -> web.Application:
    """The routes: / · /weeks · /weeks/<week> · /papers/<id> · /search?q= · /feed.atom · /feed.json ·
    /papers.atom · /topics/<topic>.atom; anything else a Korean 404."""

    async def serve(request: web.Request, kind: str, key: str = "") -> web.Response:
        try:
            found = await site.get(kind, key)
        except StoreError as exc:
            log.warning("Web %s: %s", request.path, exc)
            found = answer(503, site.pages.error("잠시 후 다시 시도해 주세요", "저장소에 연결할 수 없습니다."))
        except Exception:
            log.exception("Web %s failed", request.path)
            found = answer(500, site.pages.error("오류가 났습니다", "잠시 후 다시 시도해 주세요."))
        return respond(request, found)

    async def home(request: web.Request) -> web.Response:
        return await serve(request, "home")

    async def archive(request: web.Request) -> web.Response:
        return await serve(request, "archive")

    async def week(request: web.Request) -> web.Response:
        return await serve(request, "week", request.match_info["week"])

    async def paper(request: web.Request) -> web.Response:
        return await serve(request, "paper", request.match_info["paper"])

    async def search(request: web.Request) -> web.Response:
        return await serve(request, "search", request.query.get("q", "")[:100])

    async def feed(request: web.Request) -> web.Response:
        return await serve(request, "feed", request.path.lstrip("/"))

    async def topic(request: web.Request) -> web.Response:
        return await serve(request, "topic", request.match_info["topic"])

    async def missing(request: web.Request) -> web.Response:
        return await serve(request, "missing", request.path)

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/weeks", archive)
    app.router.add_get("/weeks/", archive)
    app.router.add_get("/weeks/{week}", week)
    app.router.add_get("/papers/{paper}", paper)
    app.router.add_get("/search", search)
    for name in ("/feed.atom", "/feed.json", "/papers.atom"):
        app.router.add_get(name, feed)
    app.router.add_get("/topics/{topic}.atom", topic)
    app.router.add_get("/{tail:.*}", missing)
    return app


class WebServer:
    """The listener's life: `start` (a port in use is said at once), `stop`."""

    def __init__(self, site: Site, host: str, port: int) -> None:
        self.site = site
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port = port  # the port bound (port 0: the one the system chose)

    async def start(self) -> None:
        self._runner = web.AppRunner(web_app(self.site), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        log.info("Web pages and feeds on http://%s:%d/", self._host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
