"""python-telegram-bot over aiohttp: a `BaseRequest` (PTB's documented extension point for transports).

Why not PTB's default httpx transport: bench/broadcast.py and bench/week_query.py showed httpx and
httpcore taking about two thirds of the CPU of each Bot API call here (httpcore re-scans its pool on
every request state change), which capped a broadcast at about 200 messages/s on one core. aiohttp,
already our HTTP client for Hugging Face, does the same work for a fraction of that. Everything
above the transport (methods, types, errors, retries, rate limits) is still python-telegram-bot's.
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class NotSent(NetworkError):
    """The request never reached Telegram (no connection): safe to send again."""


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
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._connections))

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
        if self._session is None:
            await self.initialize()
        assert self._session is not None
        if request_data is not None and request_data.contains_files:
            # This bot sends text only; uploads would need multipart encoding that nothing here uses.
            raise NetworkError("file uploads are not supported by this bot's transport")
        connect, pool = self._pick("connect", connect_timeout), self._pick("pool", pool_timeout)
        # aiohttp has no write timeout of its own: a request body this small is written at once.
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,  # aiohttp counts the pool wait here
            sock_connect=connect,
            sock_read=self._pick("read", read_timeout),
        )
        data = request_data.json_parameters if request_data is not None else None
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientConnectorError as exc:  # says host and port only: the URL carries the token
            raise NotSent(f"cannot connect to {exc.host}:{exc.port} ({exc.os_error})") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp: {type(exc).__name__}") from exc
