"""Hugging Face: "papers of the week", one paper (`/api/papers/{id}`), and paper search.

Primary path: the paged JSON API `GET /api/daily_papers?week=2025-W38&limit=100&p=N`, read until a
short page. Fallback: the week page `/papers/week/2025-W38`, which embeds the same items as HTML-escaped
JSON in a `data-props` attribute. Items are parsed at this boundary into `Paper`s; nothing downstream
sees a raw dict.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.errors import SourceError
from bot.models import Paper
from bot.sources.http import MAX_BODY, Fetcher
from bot.week import IsoWeek

log = logging.getLogger(__name__)

PAGE_LIMIT = 100  # the API's maximum page size (101 is refused)
MAX_PAGES = 30  # 3,000 papers: far above any real week; a guard against a server that never ends


class HFError(SourceError):
    """Hugging Face could not give us the week; the message names the week, the URL and the problem."""


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
        token: str | None = None,
        on_request: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`token`: Hugging Face's access token, sent on every request (a larger rate limit); `on_request`:
        told of every request (the calls are counted per rate-limit window for /status)."""
        self._base = base_url.rstrip("/")
        self._fetch = Fetcher(
            session, HFError, attempts=attempts, backoff=backoff, max_retry_after=max_retry_after,
            timeout=timeout, max_body=max_body, headers={"Authorization": f"Bearer {token}"} if token else None,
            on_request=on_request,
        )  # fmt: skip

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
        body = await self._fetch.get(url, params)
        assert body is not None  # only a `missing_ok` get answers None
        return body

    async def fetch_paper(self, paper_id: str) -> Paper | None:
        """One paper from `GET /api/papers/{id}` (title, abstract, upvotes); None when Hugging Face
        has not indexed it (404)."""
        url = f"{self._base}/api/papers/{paper_id}"
        body = await self._fetch.get(url, {}, missing_ok=True)
        if body is None:
            return None
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise HFError(f"{url} is not JSON: {exc}") from exc
        return _parse_item({"paper": data})

    async def search(self, query: str, *, limit: int = 10) -> list[Paper]:
        """Hugging Face's paper search (`GET /api/papers/search?q=…`), as Hugging Face orders it."""
        url = f"{self._base}/api/papers/search"
        body = await self._get(url, {"q": query})
        try:
            items = json.loads(body)
        except ValueError as exc:
            raise HFError(f"{url} is not JSON: {exc}") from exc
        if not isinstance(items, list):
            raise HFError(f"{url} answered a {type(items).__name__}, not a list of papers")
        return [paper for item in items[:limit] if (paper := _parse_item(item)) is not None]


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
    stars = paper.get("githubStars")
    return Paper(
        id=pid.strip(), title=title, abstract=abstract, upvotes=upvotes,
        github_repo=_web_url(paper.get("githubRepo")),
        github_stars=stars if isinstance(stars, int) and not isinstance(stars, bool) and stars >= 0 else None,
        project_page=_web_url(paper.get("projectPage")), authors=_authors(paper.get("authors")),
    )  # fmt: skip


MAX_AUTHORS = 100  # a collaboration's paper lists hundreds: the pages name the first hundred


def _authors(value: object) -> tuple[str, ...]:
    """The names of Hugging Face's author records (`[{"name": …, "hidden": false}, …]`), hidden ones left
    out; anything malformed is skipped."""
    if not isinstance(value, list):
        return ()
    names = (a.get("name") for a in value if isinstance(a, dict) and not a.get("hidden"))
    return tuple(_clean_line(n)[:200] for n in names if isinstance(n, str) and n.strip())[:MAX_AUTHORS]


def _web_url(value: object) -> str | None:
    """An http(s) URL with a host, as Hugging Face gives a paper's links; anything else is dropped."""
    if not isinstance(value, str) or len(value) > 500:
        return None
    url = urlsplit(value.strip())
    return url.geturl() if url.scheme in ("http", "https") and url.netloc and " " not in url.netloc else None


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
