"""Hugging Face "papers of the week".

Primary path: the paged JSON API `GET /api/daily_papers?week=2025-W38&limit=100&p=N`, read until a
short page. Fallback: the week page `/papers/week/2025-W38`, which embeds the same items as HTML-escaped
JSON in a `data-props` attribute. Items are parsed at this boundary into `Paper`s; nothing downstream
sees a raw dict.
"""

from __future__ import annotations

import email.utils
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from bot.errors import SourceError
from bot.models import Paper
from bot.week import IsoWeek

log = logging.getLogger(__name__)

PAGE_LIMIT = 100  # the API's maximum page size (101 is refused)
MAX_BODY = 20 * 1024 * 1024  # bytes: a real page of 100 items is about 0.5 MB; more is a broken answer
MAX_PAGES = 30  # 3,000 papers: far above any real week; a guard against a server that never ends


class HFError(SourceError):
    """Hugging Face could not give us the week; the message names the week, the URL and the problem."""


class _Transient(HFError):
    """Worth retrying: 429, 5xx, timeouts, dropped connections."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HFSource:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        attempts: int = 4,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
        timeout: float = 30.0,
        max_body: int = MAX_BODY,
    ) -> None:
        self._max_body = max_body
        self._session = session
        self._base = base_url.rstrip("/")
        self._attempts = attempts
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def api_url(self, week: IsoWeek) -> str:
        return f"{self._base}/api/daily_papers?week={week}"

    def page_url(self, week: IsoWeek) -> str:
        return f"{self._base}/papers/week/{week}"

    async def fetch_week(self, week: IsoWeek) -> list[Paper]:
        """Every paper of the week, best first (upvotes descending, then arXiv id)."""
        try:
            papers = parse_items(await self._api_items(week), where=f"{week} at {self.api_url(week)}")
        except HFError as api_error:
            log.warning("Hugging Face API failed for %s (%s); trying the week page", week, api_error)
            try:
                papers = parse_items(await self._page_items(week), where=f"{week} at {self.page_url(week)}")
            except HFError as page_error:
                raise HFError(
                    f"could not fetch {week} from Hugging Face: API: {api_error}; week page: {page_error}"
                ) from page_error
        return rank(papers)

    async def _api_items(self, week: IsoWeek) -> list[object]:
        items: list[object] = []
        url = f"{self._base}/api/daily_papers"
        for page in range(MAX_PAGES):
            params = {"week": str(week), "limit": str(PAGE_LIMIT), "p": str(page)}
            body = await self._get(url, params)
            try:
                batch = json.loads(body)
            except ValueError as exc:
                raise HFError(f"{url} page {page} for {week} is not JSON: {exc}") from exc
            if not isinstance(batch, list):
                raise HFError(f"{url} page {page} for {week} is a {type(batch).__name__}, not a list of papers")
            items.extend(batch)
            if len(batch) < PAGE_LIMIT:
                return items
        log.warning("Stopped paging %s for %s after %d pages", url, week, MAX_PAGES)
        return items

    async def _page_items(self, week: IsoWeek) -> list[object]:
        url = self.page_url(week)
        return extract_page_items(await self._get(url, {}), where=f"{week} at {url}")

    async def _get(self, url: str, params: dict[str, str]) -> str:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._get_once(url, params)
        raise AssertionError("unreachable: tenacity either returns or reraises")

    def _wait(self, state: RetryCallState) -> float:
        """Honour Retry-After when the server sends it; otherwise exponential backoff."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return exc.retry_after
        return float(wait_exponential(multiplier=self._backoff, max=8)(state))

    async def _get_once(self, url: str, params: dict[str, str]) -> str:
        where = f"{url}?{'&'.join(f'{k}={v}' for k, v in params.items())}" if params else url
        try:
            async with self._session.get(url, params=params, timeout=self._timeout) as response:
                body = await self._read(response, where)
                if response.status == 429 or response.status >= 500:
                    retry_after = _retry_after(response.headers.get("Retry-After"))
                    if retry_after is not None and retry_after > self._max_retry_after:
                        raise HFError(f"{where}: HTTP {response.status}, asked to wait {retry_after:.0f}s")
                    raise _Transient(f"{where}: HTTP {response.status}", retry_after)
                if response.status != 200:
                    raise HFError(f"{where}: HTTP {response.status}")
                return body
        except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise _Transient(f"{where}: {type(exc).__name__}: {str(exc) or 'timed out'}") from exc

    async def _read(self, response: aiohttp.ClientResponse, where: str) -> str:
        """The body as text, read in chunks and refused past `max_body` bytes (before it fills memory)."""
        too_big = HFError(f"{where}: the answer is larger than {self._max_body // (1024 * 1024)} MB; refused")
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


class _DailyPapersProps(HTMLParser):
    """Finds the `data-props` JSON that holds a `dailyPapers` list, whatever element carries it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[object] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.items is not None:
            return
        props = dict(attrs).get("data-props")
        if not props or "dailyPapers" not in props:
            return
        try:
            data = json.loads(props)  # HTMLParser has already unescaped the attribute
        except ValueError:
            return
        if isinstance(data, dict) and isinstance(data.get("dailyPapers"), list):
            self.items = data["dailyPapers"]


def extract_page_items(html_text: str, *, where: str) -> list[object]:
    parser = _DailyPapersProps()
    parser.feed(html_text)
    parser.close()
    if parser.items is None:
        raise HFError(f"{where}: no data-props with a dailyPapers list in the page")
    return parser.items


def _clean_line(text: str) -> str:
    return " ".join(text.split())


def _clean_paragraphs(text: str) -> str:
    """arXiv's hard line breaks go; paragraph breaks (blank lines) stay."""
    paragraphs = (_clean_line(p) for p in text.replace("\r\n", "\n").split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def _parse_item(item: object) -> Paper | None:
    if not isinstance(item, dict):
        return None
    paper: Any = item.get("paper")
    if not isinstance(paper, dict):
        return None
    pid, upvotes = paper.get("id"), paper.get("upvotes")
    title = paper.get("title") or item.get("title")
    abstract = paper.get("summary") or item.get("summary")
    if not (isinstance(pid, str) and pid.strip() and isinstance(title, str) and isinstance(abstract, str)):
        return None
    if isinstance(upvotes, bool) or not isinstance(upvotes, int):
        return None
    title, abstract = _clean_line(title), _clean_paragraphs(abstract)
    if not title or not abstract:
        return None
    return Paper(id=pid.strip(), title=title, abstract=abstract, upvotes=upvotes)


def parse_items(items: Iterable[object], *, where: str) -> list[Paper]:
    """Both item shapes (2024's and 2026's); items without id, title, abstract or upvotes are skipped."""
    papers: dict[str, Paper] = {}
    bad = 0
    total = 0
    for item in items:
        total += 1
        paper = _parse_item(item)
        if paper is None:
            bad += 1
        elif paper.id not in papers:
            papers[paper.id] = paper
    if total and not papers:
        raise HFError(f"{where}: none of the {total} items has the shape of a paper (paper.id/title/summary/upvotes)")
    if bad:
        log.warning("%s: skipped %d of %d items without id, title, abstract or upvotes", where, bad, total)
    return list(papers.values())


def rank(papers: Iterable[Paper]) -> list[Paper]:
    """Upvotes descending; ties by arXiv id (the earlier submission first), so the order is stable."""
    return sorted(papers, key=lambda p: (-p.upvotes, p.id))
