"""python-telegram-bot over aiohttp: a `BaseRequest` (PTB's documented extension point for transports).

Why not PTB's default httpx transport: `python -m bench.transport` sends the same messages to the
fake Telegram through both and measures the CPU each spends per call; httpx and httpcore spent
about three times as much as aiohttp here (httpcore re-scans its pool on every request state
change), which capped a broadcast at about 200 messages/s on one core. aiohttp is already our HTTP
client for Hugging Face. Everything above the transport (methods, types, errors, rate limits) is
python-telegram-bot's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from http import HTTPStatus

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON = {"Content-Type": "application/json"}

StatusObserver = Callable[[str, int], None]  # (Bot API method, HTTP status) of every answer


class NotSent(NetworkError):
    """The request never reached Telegram (no connection): safe to send again."""


class ServerError(NetworkError):
    """Telegram (or the gateway in front of it) answered with a 5xx status. Telegram's answer means
    the call failed, except for 504, where the gateway gave up waiting for an answer of its own."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{description} ({status})")
        self.status = status


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
        observer: StatusObserver | None = None,
    ) -> None:
        self._connections = connections
        self._timeouts = {"read": read_timeout, "write": write_timeout, "connect": connect_timeout,
                          "pool": pool_timeout}  # fmt: skip
        self._observer = observer
        self._session: aiohttp.ClientSession | None = None
        self._closed = False  # shut down: nothing more is sent (a late sender must not reopen it)

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        self._closed = False
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                # The Bot API sets no cookies, and the default jar's filtering cost 0.2 ms per request.
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        """Close the session (idempotent: the composition root calls it even after a failed start)."""
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _pick(self, name: str, value: object) -> float | None:
        # BaseRequest documents `is BaseRequest.DEFAULT_NONE` as the test for "not passed".
        if value is BaseRequest.DEFAULT_NONE:
            return self._timeouts[name]
        return float(value) if isinstance(value, int | float) else None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            # This bot sends text only; uploads would need multipart encoding that nothing here uses.
            raise NetworkError("file uploads are not supported by this bot's transport")
        connect, pool = self._pick("connect", connect_timeout), self._pick("pool", pool_timeout)
        # aiohttp has no write timeout of its own: a request body this small is written at once.
        limits = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,  # aiohttp counts the pool wait here
            sock_connect=connect,
            sock_read=self._pick("read", read_timeout),
        )
        # The parameters go as JSON, not as a url-encoded form: urllib's quote_plus escapes a 3 KB
        # Korean digest byte by byte in Python, which cost more than the rest of a reply. (The Bot API
        # takes either; a JSON-serialized field such as reply_markup may be a string of JSON.)
        data = None if request_data is None else _json_bytes(request_data.json_parameters)
        if self._closed:
            raise NotSent("the bot is shutting down")
        if self._session is None:
            await self.initialize()
        assert self._session is not None
        try:
            async with self._session.request(
                method, url, data=data, headers=_JSON if data is not None else None, timeout=limits
            ) as response:
                status, body = response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise ConnectTimedOut from exc
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientConnectorError as exc:  # says host and port only: the URL carries the token
            raise NotSent(f"cannot connect to {exc.host}:{exc.port} ({exc.os_error})") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp: {type(exc).__name__}") from exc
        if self._observer is not None:
            self._observer(url.rsplit("/", 1)[-1], status)
        if status >= 500:  # raised here, where the status is known (PTB makes every 5xx a NetworkError)
            raise ServerError(status, _description(body) or HTTPStatus(status).phrase)
        return status, body


def _description(body: bytes) -> str:
    try:
        answer = json.loads(body)
    except ValueError:
        return ""
    return str(answer.get("description", "")) if isinstance(answer, dict) else ""


def _json_bytes(payload: Mapping[str, object]) -> bytes:
    # UTF-8 rather than \u escapes: a Korean text is half the size, and quicker to read on both ends.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
