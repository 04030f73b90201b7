"""arXiv's export API: one paper by id (`GET /api/query?id_list=…`, an Atom feed), for papers Hugging
Face has not indexed. The feed is parsed with feedparser; the retry policy is every source's
(bot/sources/http.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp

from bot.errors import SourceError
from bot.models import Paper
from bot.sources.http import Fetcher

log = logging.getLogger(__name__)


class ArxivError(SourceError):
    """arXiv could not answer; the message names the URL and the problem."""


@dataclass(frozen=True)
class Withdrawn:
    """arXiv has the paper, withdrawn by its authors: there is no abstract to translate."""

    paper_id: str
    title: str


def _clean(text: str) -> str:
    return " ".join(text.split())


class ArxivSource:
    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, *, attempts: int = 4, backoff: float = 0.5
    ) -> None:
        self._base = base_url.rstrip("/")
        self._fetch = Fetcher(session, ArxivError, attempts=attempts, backoff=backoff)

    async def fetch_paper(self, paper_id: str) -> Paper | Withdrawn | None:
        """The paper (upvotes 0: arXiv has none), Withdrawn, or None when arXiv has no such paper."""
        url = f"{self._base}/api/query"
        body = await self._fetch.get(url, {"id_list": paper_id, "max_results": "1"})
        assert body is not None
        return parse_feed(body, paper_id, where=f"{url}?id_list={paper_id}")


def parse_feed(body: str, paper_id: str, *, where: str) -> Paper | Withdrawn | None:
    import feedparser  # here, not at the top: a command that never asks arXiv does not pay its import

    feed = feedparser.parse(body)
    if feed.bozo and not feed.entries:
        raise ArxivError(f"{where}: not an Atom feed ({feed.get('bozo_exception')})")
    for entry in feed.entries:
        entry_id = str(entry.get("id", ""))
        if "/api/errors" in entry_id:  # arXiv answers a malformed id with an error entry
            log.info("arXiv refused id %s: %s", paper_id, _clean(str(entry.get("summary", ""))))
            return None
        if not entry_id.split("/abs/")[-1].startswith(paper_id):
            continue
        title, abstract = _clean(str(entry.get("title", ""))), _clean(str(entry.get("summary", "")))
        comment = str(entry.get("arxiv_comment", ""))
        if "withdrawn" in comment.lower() or abstract.lower().startswith("this paper has been withdrawn"):
            return Withdrawn(paper_id, title)
        if title and abstract:
            return Paper(id=paper_id, title=title, abstract=abstract, upvotes=0)
    return None
