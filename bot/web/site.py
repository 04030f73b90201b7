"""`Site`: a page or feed by what it is (`kind`, `key`), rendered from `WebData`, cached in memory.

Caching: each answer is kept (an LRU of CACHE_SIZE) under the content version read from Redis on
every request (one MGET, bot/store/papers.py `versions`). The version is bumped when a week is
frozen, a translation saved (a correction, /retranslate, too) or a deep brief saved, so a change shows
at the next request, in every process; no timer. An answer carries a strong ETag (a hash of the body)
and, where its data says when it changed, a Last-Modified.

Errors are pages: an unknown or malformed week or paper is a Korean 404, a bad topic a Korean 400.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.errors import WeekError
from bot.paperid import parse_paper_id
from bot.topics import TopicError, parse_topics
from bot.web.data import SiteIndex, WebData
from bot.web.feeds import FEED_WEEKS, PAPER_WEEKS, TOPIC_WEEKS, Feed, Feeds, updated
from bot.web.links import Links
from bot.web.pages import HOME_TITLE, Pages
from bot.week import IsoWeek

CACHE_SIZE = 4096  # answers kept per content version (searches and topics are keyed by their text)
HTML = "text/html; charset=utf-8"
KINDS = ("home", "archive", "week", "paper", "search", "feed", "topic")
FEEDS = ("feed.atom", "feed.json", "papers.atom")

_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str
    etag: str
    last_modified: datetime | None = None


def answer(status: int, text: str, content_type: str = HTML, last_modified: datetime | None = None) -> Answer:
    body = text.encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
    return Answer(status, body, content_type, etag, last_modified)


def parse_week_path(text: str) -> IsoWeek | None:
    """`2025-W38` (exactly so) as a week; None for anything else."""
    match = _WEEK.fullmatch(text)
    if match is None:
        return None
    try:
        return IsoWeek(int(match[1]), int(match[2]))
    except WeekError:
        return None


class Site:
    def __init__(self, data: WebData, links: Links, *, bot_username: str | None, tz: tzinfo) -> None:
        self.data = data
        self.links = links
        self.pages = Pages(links, bot_username=bot_username, tz=tz)
        self.feeds = Feeds(links, self.pages)
        self._cache: OrderedDict[tuple[str, str], Answer] = OrderedDict()
        self._version: tuple[int, int] | None = None
        self._lock = asyncio.Lock()  # one render of a missed page at a time: a burst renders it once

    async def get(self, kind: str, key: str = "") -> Answer:
        """The answer for a page or feed; from the cache while the content version stays."""
        versions = await self.data.versions()
        if versions != self._version:
            self._cache.clear()
            self._version = versions
        if (hit := self._cache.get((kind, key))) is not None:
            self._cache.move_to_end((kind, key))
            return hit
        async with self._lock:
            if (hit := self._cache.get((kind, key))) is not None and self._version == versions:
                return hit
            made = await self._render(kind, key, await self.data.index(versions[0]))
            if self._version == versions:  # not when the content changed meanwhile
                self._cache[(kind, key)] = made
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return made

    def _missing(self, title: str, message: str, status: int = 404) -> Answer:
        return answer(status, self.pages.error(title, message))

    async def _render(self, kind: str, key: str, index: SiteIndex) -> Answer:
        if kind in ("home", "week"):
            return await self._week(key, index, home=kind == "home")
        if kind == "paper":
            return await self._paper(key, index)
        if kind == "archive":
            return answer(200, self.pages.archive(index), last_modified=max(index.fetched.values(), default=None))
        if kind == "search":
            hits = await self.data.search(key, index) if key.strip() else []
            return answer(200, self.pages.search(key, hits, index))
        if kind == "feed" and key in FEEDS:
            return self._feed(await self._feed_of(key, index))
        if kind == "topic":
            return await self._topic(key, index)
        return self._missing("페이지를 찾을 수 없습니다", "주소를 확인해 주세요.")

    async def _week(self, key: str, index: SiteIndex, *, home: bool) -> Answer:
        week = index.latest if home else parse_week_path(key)
        if week is None and home:
            return answer(200, self.pages.error(HOME_TITLE, "아직 공개된 주가 없습니다. 곧 첫 주의 논문이 올라옵니다."))
        if week is None:
            return self._missing("주를 찾을 수 없습니다", f"‘{key[:40]}’은(는) 주 이름이 아닙니다. 예: 2025-W38")
        digest = await self.data.week(week) if week in index.weeks else None
        if digest is None:
            return self._missing("주를 찾을 수 없습니다", f"{week}의 논문은 공개되지 않았습니다.")
        return answer(200, self.pages.week(digest, index, home=home), last_modified=updated(digest))

    async def _paper(self, key: str, index: SiteIndex) -> Answer:
        paper_id = parse_paper_id(key) if len(key) <= 40 else None
        view = await self.data.paper(paper_id, index) if paper_id is not None else None
        if view is None:
            shown = f"‘{key[:40]}’" if paper_id is None else paper_id
            return self._missing("논문을 찾을 수 없습니다", f"{shown}은(는) 공개된 주의 논문이 아닙니다.")
        digest = await self.data.week(view.week)
        changed = updated(digest, [view.item]) if digest is not None else None
        if view.brief is not None and view.brief.made_at is not None and changed is not None:
            changed = max(changed, view.brief.made_at)
        return answer(200, self.pages.paper(view), last_modified=changed)

    async def _feed_of(self, name: str, index: SiteIndex) -> Feed:
        if name == "papers.atom":
            return self.feeds.papers_atom(await self.data.weeks(index.weeks[:PAPER_WEEKS]))
        digests = await self.data.weeks(index.weeks[:FEED_WEEKS])
        return self.feeds.weeks_json(digests) if name == "feed.json" else self.feeds.weeks_atom(digests)

    async def _topic(self, key: str, index: SiteIndex) -> Answer:
        try:
            topics = parse_topics(key)
        except TopicError:
            topics = ()
        if len(topics) != 1:
            return self._missing(
                "주제가 올바르지 않습니다", "주제는 하나, 40자 이내로 적어 주세요. 예: /topics/diffusion.atom", 400
            )
        digests = await self.data.weeks(index.weeks[:TOPIC_WEEKS])
        return self._feed(self.feeds.papers_atom(digests, name=f"topics/{topics[0]}.atom", topic=topics[0]))

    @staticmethod
    def _feed(feed: Feed) -> Answer:
        return answer(200, feed.body, feed.content_type, feed.updated)
