"""GET with the retry policy every source shares: bounded attempts with exponential backoff, honouring
Retry-After (up to a bound) on 429 and 5xx, timeouts and dropped connections retried, bodies read in
chunks and refused past a size. Errors are the source's own class (a SourceError).

A 429 without Retry-After is waited out by the IETF `RateLimit` header Hugging Face sends
(`"api";r=0;t=42`: 42 seconds until the window resets), or the older `RateLimit-Reset`. A source may
add headers to every request (Hugging Face's token: never logged, the request line names no header)
and be told of every request it makes (`on_request`: Hugging Face's calls counted per window)."""

from __future__ import annotations

import email.utils
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.errors import SourceError

MAX_BODY = 20 * 1024 * 1024  # bytes: a real page of 100 items is about 0.5 MB; more is a broken answer
log = logging.getLogger(__name__)
_RESET = re.compile(r"(?:^|[;,\s])t=(\d+(?:\.\d+)?)")  # the seconds to a window's reset in `RateLimit`


class _Transient(Exception):
    """Worth retrying: 429, 5xx, timeouts, dropped connections."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Fetcher:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        error: type[SourceError],
        *,
        attempts: int = 4,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
        timeout: float = 30.0,
        max_body: int = MAX_BODY,
        headers: Mapping[str, str] | None = None,
        on_request: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._session = session
        self._headers = dict(headers or {})
        self._on_request = on_request
        self._error = error
        self._attempts = attempts
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_body = max_body

    async def get(self, url: str, params: dict[str, str], *, missing_ok: bool = False) -> str | None:
        """The body of a 200 answer; None for a 404 when `missing_ok`; else the source's error."""
        page = await self.get_page(url, params, missing_ok=missing_ok)
        return page[0] if page is not None else None

    async def get_page(self, url: str, params: dict[str, str], *, missing_ok: bool = False) -> tuple[str, str] | None:
        """As `get`, with the address the body came from after redirects (what its relative links are
        relative to): (body, final URL)."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._get_once(url, params, missing_ok)
        except _Transient as exc:
            raise self._error(str(exc)) from exc
        raise AssertionError("unreachable: tenacity either returns or reraises")

    def _wait(self, state: RetryCallState) -> float:
        """Honour Retry-After when the server sends it; otherwise exponential backoff."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return exc.retry_after
        return float(wait_exponential(multiplier=self._backoff, max=8)(state))

    async def _get_once(self, url: str, params: dict[str, str], missing_ok: bool) -> tuple[str, str] | None:
        where = f"{url}?{'&'.join(f'{k}={v}' for k, v in params.items())}" if params else url
        if self._on_request is not None:
            try:
                await self._on_request()
            except Exception as exc:  # counting a request never fails it (e.g. Redis away)
                log.debug("Could not count a request to %s: %s", url, exc)
        try:
            async with self._session.get(url, params=params, timeout=self._timeout, headers=self._headers) as response:
                body = await self._read(response, where)
                if response.status == 429 or response.status >= 500:
                    retry_after = _retry_after(response.headers.get("Retry-After"))
                    if retry_after is None and response.status == 429:
                        retry_after = _window_reset(response.headers)
                    if retry_after is not None and retry_after > self._max_retry_after:
                        raise self._error(f"{where}: HTTP {response.status}, asked to wait {retry_after:.0f}s")
                    raise _Transient(f"{where}: HTTP {response.status}", retry_after)
                if response.status == 404 and missing_ok:
                    return None
                if response.status != 200:
                    raise self._error(f"{where}: HTTP {response.status}")
                return body, str(response.url)
        except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise _Transient(f"{where}: {type(exc).__name__}: {str(exc) or 'timed out'}") from exc

    async def _read(self, response: aiohttp.ClientResponse, where: str) -> str:
        """The body as text, read in chunks and refused past `max_body` bytes (before it fills memory)."""
        too_big = self._error(f"{where}: the answer is larger than {self._max_body // (1024 * 1024)} MB; refused")
        if (response.content_length or 0) > self._max_body:
            raise too_big
        body = bytearray()
        async for chunk in response.content.iter_chunked(1 << 16):
            body += chunk
            if len(body) > self._max_body:
                raise too_big
        return body.decode(response.charset or "utf-8", errors="replace")


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: a number of seconds or an HTTP date."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds()) if when.tzinfo else None


def _window_reset(headers: Mapping[str, str]) -> float | None:
    """Seconds until the rate-limit window resets, by `RateLimit` (`"api";r=0;t=42`) or `RateLimit-Reset`."""
    if (found := _RESET.search(headers.get("RateLimit", ""))) is not None:
        return float(found.group(1))
    try:
        return max(0.0, float(headers["RateLimit-Reset"]))
    except (KeyError, ValueError):
        return None
