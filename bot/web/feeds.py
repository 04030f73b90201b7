"""The feeds: Atom (feedgen) and JSON Feed 1.1, in Korean (`language: ko`).

- `/feed.atom`, `/feed.json`: one entry per week (the latest FEED_WEEKS), the week's digest as HTML.
- `/papers.atom`: one entry per paper of the latest PAPER_WEEKS weeks (Korean title and summary).
- `/topics/<topic>.atom`: the papers of the latest TOPIC_WEEKS weeks that match a topic by the rules
  of a chat's topics (bot/topics.py `match_items`).

Entry ids are the pages' canonical URLs when a public URL is set, else `tag:` URIs (stable either way).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator

from bot.models import Digest, DigestItem
from bot.topics import match_items
from bot.web.links import Links
from bot.web.pages import SITE_DESCRIPTION, SITE_NAME, Pages, week_title

FEED_WEEKS = 20
PAPER_WEEKS = 4
TOPIC_WEEKS = 12
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML


def clean(text: str) -> str:
    return _CONTROL.sub("", text)


def updated(digest: Digest, items: Iterable[DigestItem] | None = None) -> datetime:
    """When a digest (or some of its items) last changed: its snapshot, or a translation or correction."""
    times = [digest.fetched_at]
    for item in digest.items if items is None else items:
        if item.translation is not None:
            times += [t for t in (item.translation.translated_at, item.translation.corrected_at) if t is not None]
    return max(times)


@dataclass(frozen=True)
class Feed:
    body: str
    content_type: str
    updated: datetime | None


class Feeds:
    def __init__(self, links: Links, pages: Pages) -> None:
        self._links = links
        self._pages = pages

    def _id(self, target: str, tag: str) -> str:
        return self._links.absolute(target) if self._links.public_url else f"tag:hfweekly,2023:{tag}"

    def _atom(self, name: str, title: str, subtitle: str) -> FeedGenerator:
        gen = FeedGenerator()
        gen.id(self._id(self._links.feed(name), name))
        gen.title(title)
        gen.subtitle(subtitle)
        gen.language("ko")
        gen.author({"name": SITE_NAME})
        gen.link(href=self._links.absolute(self._links.home()), rel="alternate", type="text/html")
        gen.link(href=self._links.absolute(self._links.feed(name)), rel="self", type="application/atom+xml")
        return gen

    def _fragment(self, digest: Digest) -> str:
        return clean(self._pages.fragment(digest, self._links.absolute))

    def weeks_atom(self, digests: Sequence[Digest]) -> Feed:
        gen = self._atom("feed.atom", SITE_NAME, SITE_DESCRIPTION)
        last = None
        for digest in digests[:FEED_WEEKS]:
            entry = gen.add_entry(order="append")
            page = self._links.week(digest.week)
            entry.id(self._id(page, f"week/{digest.week}"))
            entry.title(week_title(digest.week))
            entry.link(href=self._links.absolute(page), rel="alternate", type="text/html")
            entry.published(digest.fetched_at)
            entry.updated(updated(digest))
            entry.content(self._fragment(digest), type="html")
            last = max(last or updated(digest), updated(digest))
        return self._finish(gen, last)

    def _finish(self, gen: FeedGenerator, last: datetime | None) -> Feed:
        if last is not None:
            gen.updated(last)
        body: bytes = gen.atom_str(pretty=True)
        return Feed(body.decode(), "application/atom+xml; charset=utf-8", last)

    def weeks_json(self, digests: Sequence[Digest]) -> Feed:
        items = []
        for digest in digests[:FEED_WEEKS]:
            page = self._links.week(digest.week)
            items.append({
                "id": self._id(page, f"week/{digest.week}"),
                "url": self._links.absolute(page),
                "title": week_title(digest.week),
                "content_html": self._fragment(digest),
                "date_published": digest.fetched_at.isoformat(),
                "date_modified": updated(digest).isoformat(),
                "language": "ko",
            })  # fmt: skip
        feed: dict[str, object] = {
            "version": JSON_FEED_VERSION,
            "title": SITE_NAME,
            "description": SITE_DESCRIPTION,
            "home_page_url": self._links.absolute(self._links.home()),
            "feed_url": self._links.absolute(self._links.feed("feed.json")),
            "language": "ko",
            "authors": [{"name": SITE_NAME}],
            "items": items,
        }
        last = max((updated(d) for d in digests[:FEED_WEEKS]), default=None)
        return Feed(json.dumps(feed, ensure_ascii=False, indent=1), "application/feed+json; charset=utf-8", last)

    def papers_atom(self, digests: Sequence[Digest], *, name: str = "papers.atom", topic: str | None = None) -> Feed:
        """One entry per paper of the latest weeks; with `topic`, those that match it only."""
        weeks = TOPIC_WEEKS if topic else PAPER_WEEKS
        title = f"{SITE_NAME}: {topic}" if topic else f"{SITE_NAME}: 논문별"
        gen = self._atom(name, title, f"‘{topic}’ 주제의 논문" if topic else SITE_DESCRIPTION)
        last = None
        for digest in digests[:weeks]:
            items = [m.item for m in match_items(digest.items, [topic])] if topic else list(digest.items)
            for item in items:
                self._paper_entry(gen, digest, item)
                last = max(last or updated(digest, [item]), updated(digest, [item]))
        return self._finish(gen, last)

    def _paper_entry(self, gen: FeedGenerator, digest: Digest, item: DigestItem) -> None:
        paper, tr = item.paper, item.translation
        page = self._links.paper(paper.id)
        entry = gen.add_entry(order="append")
        entry.id(self._id(page, f"paper/{paper.id}"))
        entry.title(clean(tr.title_ko if tr else paper.title))
        entry.link(href=self._links.absolute(page), rel="alternate", type="text/html")
        entry.link(href=paper.arxiv_url, rel="related", type="text/html")
        entry.published(digest.fetched_at)
        entry.updated(updated(digest, [item]))
        entry.summary(clean(tr.summary_ko if tr else f"번역 준비 중 · {paper.title}"))
