"""python-telegram-bot over aiohttp: a `BaseRequest` (PTB's documented extension point for transports).

Why not PTB's default httpx transport: bench/broadcast.py and bench/week_query.py showed httpx and
httpcore taking about two thirds of the CPU of each Bot API call here (httpcore re-scans its pool on
every request state change), which capped a broadcast at about 200 messages/s on one core. aiohttp,
already our HTTP client for Hugging Face, does the same work for a fraction of that. Everything
above the transport (methods, types, errors, retries, rate limits) is still python-telegram-bot's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON = {"Content-Type": "application/json"}


class NotSent(NetworkError):
    """The request never reached Telegram (no connection): safe to send again."""


class ConnectTimedOut(TimedOut):
    """No connection within the connect (and pool) timeout: nothing reached Telegram. A TimedOut,
    so callers that only know PTB's errors treat it as any timeout."""


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        *,
        connections: int = 8,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 30.0,
    ) -> None:
        self._connections = connections
        self._timeouts = {
            "read": read_timeout,
            "write": write_timeout,
            "connect": connect_timeout,
            "pool": pool_timeout,
        }
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                # The Bot API sets no cookies, and the default jar's filtering cost 0.2 ms per request.
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _pick(self, name: str, value: ODVInput[float]) -> float | None:
        return self._timeouts[name] if isinstance(value, DefaultValue) else value

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            # This bot sends text only; uploads would need multipart encoding that nothing here uses.
            raise NetworkError("file uploads are not supported by this bot's transport")
        limits = _limits(
            self._pick("connect", connect_timeout), self._pick("pool", pool_timeout), self._pick("read", read_timeout)
        )
        # The parameters go as JSON, not as a url-encoded form: urllib's quote_plus escapes a 3 KB
        # Korean digest byte by byte in Python, which cost more than the rest of a reply. (The Bot API
        # takes either; a JSON-serialized field such as reply_markup may be a string of JSON.)
        data = None if request_data is None else json_bytes(request_data.json_parameters)
        return await self._send(method, url, data, limits)

    async def post_json(self, url: str, body: bytes) -> tuple[int, bytes]:
        """POST a JSON `body` with the default timeouts; the HTTP status and body, as do_request."""
        limits = _limits(self._timeouts["connect"], self._timeouts["pool"], self._timeouts["read"])
        return await self._send("POST", url, body, limits)

    async def _send(
        self, method: str, url: str, data: bytes | None, limits: aiohttp.ClientTimeout
    ) -> tuple[int, bytes]:
        if self._session is None:
            await self.initialize()
        assert self._session is not None
        headers = _JSON if data is not None else None
        try:
            async with self._session.request(method, url, data=data, headers=headers, timeout=limits) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise ConnectTimedOut from exc
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientConnectorError as exc:  # says host and port only: the URL carries the token
            raise NotSent(f"cannot connect to {exc.host}:{exc.port} ({exc.os_error})") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp: {type(exc).__name__}") from exc


def _limits(connect: float | None, pool: float | None, read: float | None) -> aiohttp.ClientTimeout:
    # aiohttp has no write timeout of its own: a request body this small is written at once.
    return aiohttp.ClientTimeout(
        total=None,
        connect=None if connect is None or pool is None else connect + pool,  # aiohttp counts the pool wait here
        sock_connect=connect,
        sock_read=read,
    )


def json_bytes(payload: Mapping[str, object]) -> bytes:
    # UTF-8 rather than \u escapes: a Korean text is half the size, and quicker to read on both ends.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class UpdatesRequest(AiohttpRequest):
    """The transport of getUpdates alone (ApplicationBuilder.get_updates_request). When `take` is
    set, each fetched update is offered to it before python-telegram-bot parses the batch; an update
    it takes (True) is answered elsewhere and is not handed to the Application (see bot/fastlane.py).
    `parse_json_payload` is PTB's documented hook for reading a response body."""

    take: Callable[[JSONDict], bool] | None = None

    def parse_json_payload(self, payload: bytes) -> JSONDict:  # type: ignore[override]
        data = BaseRequest.parse_json_payload(payload)
        updates = data.get("result")
        if self.take is None or data.get("ok") is not True or not isinstance(updates, list) or not updates:
            return data
        kept = [update for update in updates if not self.take(update)]
        if not kept or kept[-1] is not updates[-1]:
            # The Updater confirms a batch by the id of its last update: keep that id, with no content
            # (an Update that no handler matches), so the taken updates are not fetched again.
            kept.append({"update_id": updates[-1]["update_id"]})
        data["result"] = kept
        return data
