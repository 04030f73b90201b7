"""The archive index for /search and inline queries: every paper of every week the bot has built (the
snapshots kept: frozen weeks, and a running week's provisional ranking), with its Korean title and
text once translated.

Built in memory from the snapshots on the first query, and rebuilt when a week is frozen (the store
bumps a version) or every REBUILD_EVERY (translations made since); a query otherwise costs one GET of
that version and no scan. Ranking: papers whose title (English or Korean) has every word of the
query come first, then those with every word anywhere (title or abstract); upvotes decide within
each. Words match by the topic rules (bot/topics.py): whole words for Latin, substrings for Hangul.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, replace

from bot.models import Paper, Translation
from bot.store import PaperStore
from bot.topics import matches
from bot.translate import Translator
from bot.week import IsoWeek

log = logging.getLogger(__name__)

REBUILD_EVERY = 600.0  # seconds: translations made since the last build show up after at most this
MAX_QUERY = 100  # characters


@dataclass(frozen=True)
class Hit:
    paper: Paper
    week: IsoWeek | None
    title_ko: str | None
    in_title: bool


@dataclass
class _Entry:
    paper: Paper
    week: IsoWeek
    title: str  # lowercased English and Korean titles
    text: str  # lowercased title, abstract and Korean text
    title_ko: str | None
    words: frozenset[str]  # the Latin words of `text` (and their singulars)
    title_words: frozenset[str]


_TOKEN = re.compile(r"[^\W_]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")


def _words(text: str) -> frozenset[str]:
    """Lowercased words, each also without a plural "s"/"es": what topics.matches counts as a whole
    word (a query word matches if it is one of them)."""
    found = set()
    for token in _TOKEN.findall(text):
        found.add(token)
        if token.endswith("es"):
            found.add(token[:-2])
        if token.endswith("s"):
            found.add(token[:-1])
    return frozenset(found)


def words_of(query: str) -> list[str]:
    return [w for w in query.split() if w][:10]


class ArchiveIndex:
    def __init__(self, papers: PaperStore, translator: Translator | None) -> None:
        self._papers = papers
        self._translator = translator
        self._entries: list[_Entry] = []
        self._postings: dict[str, list[int]] = {}  # a Latin word -> the entries that have it
        self._version = -1
        self._built = 0.0
        self._building: asyncio.Lock = asyncio.Lock()

    @property
    def size(self) -> int:
        return len(self._entries)

    async def ensure(self) -> None:
        """Rebuild when a week was frozen since, or the index is old; otherwise one GET."""
        version = await self._papers.archive_version()
        if version == self._version and time.monotonic() - self._built < REBUILD_EVERY:
            return
        async with self._building:
            if version != self._version or time.monotonic() - self._built >= REBUILD_EVERY:
                await self._rebuild(version)

    async def _rebuild(self, version: int) -> None:
        started = time.monotonic()
        newest: dict[str, tuple[Paper, IsoWeek]] = {}
        for snapshot in await self._papers.all_snapshots():  # a paper listed in two weeks: its latest
            for paper in snapshot.papers:
                newest[paper.id] = (paper, snapshot.week)
        papers = [paper for paper, _ in newest.values()]
        translations: dict[str, Translation] = {}
        if self._translator is not None:
            for start in range(0, len(papers), 1000):
                translations.update(await self._translator.cached(papers[start : start + 1000]))
        # About a second of CPU for 5,000 papers: in a thread, so that the event loop goes on meanwhile.
        self._entries, self._postings = await asyncio.to_thread(_index, newest, translations)
        self._version, self._built = version, time.monotonic()
        log.info("Search index: %d papers of the archive in %.2f s", len(self._entries), time.monotonic() - started)

    async def search(self, query: str, *, limit: int = 10) -> list[Hit]:
        await self.ensure()
        return self.lookup(query, limit=limit)

    def lookup(self, query: str, *, limit: int = 10) -> list[Hit]:
        """The best `limit` papers for `query` in the index as it is (pure; no I/O). A Latin word is
        looked up among the papers' words (a posting list); Hangul, and words with punctuation,
        are matched in the text by the rules of bot/topics.py."""
        words = words_of(query[:MAX_QUERY])
        if not words:
            return []
        candidates: set[int] | None = None
        for word in words:
            found = self._matching(word)
            candidates = found if candidates is None else candidates & found
            if not candidates:
                return []
        assert candidates is not None
        scored = []
        for i in candidates:
            entry = self._entries[i]
            in_title = all(self._in_title(entry, word) for word in words)
            scored.append((in_title, entry.paper.upvotes, entry))
        scored.sort(key=lambda s: (not s[0], -s[1], s[2].paper.id))  # titles first, then upvotes, then id
        return [Hit(e.paper, e.week, e.title_ko, in_title) for in_title, _, e in scored[:limit]]

    def _matching(self, word: str) -> set[int]:
        low = word.lower()
        if _TOKEN.fullmatch(low) and not _HANGUL.search(low):
            return set(self._postings.get(low, ()))
        return {i for i, e in enumerate(self._entries) if low in e.text and matches(word, e.text)}

    @staticmethod
    def _in_title(entry: _Entry, word: str) -> bool:
        low = word.lower()
        if _TOKEN.fullmatch(low) and not _HANGUL.search(low):
            return low in entry.title_words
        return low in entry.title and matches(word, entry.title)


async def search_with_titles(
    archive: ArchiveIndex, translator: Translator | None, query: str, *, limit: int = 10
) -> list[Hit]:
    """The archive's hits, each with its Korean title as cached now (one MGET: translations made
    since the index was built show too)."""
    hits = await archive.search(query, limit=limit)
    if translator is None or not hits:
        return hits
    found = await translator.cached([hit.paper for hit in hits])
    return [
        replace(hit, title_ko=found[hit.paper.id].title_ko if hit.paper.id in found else hit.title_ko) for hit in hits
    ]


def _index(
    newest: dict[str, tuple[Paper, IsoWeek]], translations: dict[str, Translation]
) -> tuple[list[_Entry], dict[str, list[int]]]:
    entries = [_entry(paper, week, translations.get(paper.id)) for paper, week in newest.values()]
    postings: dict[str, list[int]] = {}
    for i, entry in enumerate(entries):
        for word in entry.words:
            postings.setdefault(word, []).append(i)
    return entries, postings


def _entry(paper: Paper, week: IsoWeek, translation: Translation | None) -> _Entry:
    korean = [translation.title_ko, translation.summary_ko, translation.abstract_ko] if translation else []
    title = "\n".join([paper.title, *korean[:1]]).lower()
    text = "\n".join([paper.title, paper.abstract, *korean]).lower()
    return _Entry(paper, week, title, text, translation.title_ko if translation else None, _words(text), _words(title))
