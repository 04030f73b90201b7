"""A week's digest as Telegram HTML messages for one view: a chat's form (brief, summary, full), count,
English titles and topics. Pure.

A digest is laid out once per view and week (`plan_digest`): which papers go into which message, and
which were starred for which topics. The plan is kept with the ledger, so that healing edits every
message with exactly the papers it was sent with (`render_plan`), whatever the chat changed since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot import texts
from bot.links import code_link, extra_links
from bot.models import Digest, DigestItem, Form, Status, View
from bot.texts_brief import BRIEF_LINK
from bot.tghtml import TELEGRAM_LIMIT, brief_deep_link, esc, paper_deep_link, shorten, telegram_length
from bot.topics import match_items

PENDING_KO, CORRECTED_KO, AI_NOTICE = texts.PENDING_KO, texts.CORRECTED_KO, texts.AI_NOTICE
NO_ABSTRACT_KO = texts.NO_ABSTRACT_KO
TOPIC_POOL = 50  # an only-topics digest picks among the week's top 50
FALLBACK_COUNT = 3  # …and shows the top 3 when none matches

# Long texts are cut step by step until a paper fits one message (a brief digest: its titles, until
# the whole list fits one message).
_CUTS = {Form.BRIEF: (150, 100, 70, 40, 25), Form.SUMMARY: (2000, 1500, 1000, 500, 250, 0)}
_CUTS[Form.FULL] = _CUTS[Form.SUMMARY]


@dataclass(frozen=True)
class Plan:
    """Which papers (by rank) go into which message, and the topics each starred paper matched."""

    parts: tuple[tuple[int, ...], ...]
    starred: tuple[tuple[int, tuple[str, ...]], ...] = ()
    fallback: bool = False  # an only-topics view with no match: the week's top 3 instead


@dataclass(frozen=True)
class Layout:
    """A view of a week as first sent: the view, and its plan (kept per week: bot/store/delivery.py)."""

    view: View
    plan: Plan


def depth(top_n: int, views: Iterable[View]) -> int:
    """How many of the week's papers a digest must hold (and translate) to show these views."""
    needed = top_n
    for view in views:
        needed = max(needed, TOPIC_POOL if view.only_topics else view.count)
    return needed


def translated(digest: Digest) -> bool:
    """Was translation asked for (translated or pending), or is this the English digest?"""
    return any(item.status is not Status.UNTRANSLATED for item in digest.items)


def select(digest: Digest, view: View) -> tuple[list[DigestItem], dict[int, tuple[str, ...]], bool]:
    """The papers a view shows, in order; the starred ones with their topics; and whether an
    only-topics view found nothing (then the week's top 3 are shown)."""
    if view.only_topics and view.topics:
        found = match_items(digest.items[:TOPIC_POOL], view.topics)[: view.count]
        if not found:
            return list(digest.items[:FALLBACK_COUNT]), {}, True
        return [m.item for m in found], {m.item.rank: m.topics for m in found}, False
    items = list(digest.items[: view.count])
    starred = {m.item.rank: m.topics for m in match_items(items, view.topics)} if view.topics else {}
    return [i for i in items if i.rank in starred] + [i for i in items if i.rank not in starred], starred, False


def _date_range(start: date, end: date) -> str:
    tail = texts.DATE_SAME_YEAR if start.year == end.year else texts.DATE_FULL
    return texts.DATE_RANGE.format(
        start=texts.DATE_FULL.format(year=start.year, month=start.month, day=start.day),
        end=tail.format(year=end.year, month=end.month, day=end.day),
    )


def _header(digest: Digest, view: View, shown: int, fallback: bool) -> str:
    when = f"{digest.week} · {_date_range(digest.start, digest.end)}"
    topics = esc(", ".join(view.topics))
    if fallback:
        return texts.DIGEST_HEADER_FALLBACK.format(shown=shown, when=when, pool=TOPIC_POOL, topics=topics)
    if view.only_topics and view.topics:
        return texts.DIGEST_HEADER_TOPICS.format(shown=shown, when=when, topics=topics)
    return texts.DIGEST_HEADER.format(shown=shown, when=when)


def _footer(digest: Digest) -> str:
    shown = digest.source_url.removeprefix("https://")
    notice = AI_NOTICE if translated(digest) else texts.ORIGINAL_NOTICE
    return texts.DIGEST_SOURCE.format(url=esc(digest.source_url), shown=esc(shown), notice=notice)


def _block(item: DigestItem, view: View, topics: tuple[str, ...], username: str | None, limit: int | None) -> str:
    """One paper in the view's form. With `limit`, its long texts are cut to `limit` characters (a
    brief line: its titles), and a summary's titles to 200."""
    paper, tr = item.paper, item.translation
    star = f"⭐ {esc(', '.join(topics))}" if topics else ""
    if view.form is Form.BRIEF:

        def title_cut(text: str) -> str:
            return esc(shorten(text, limit) if limit is not None else text)

        title = title_cut(tr.title_ko if tr else paper.title)
        line = f'{item.rank}. <a href="{esc(paper.hf_url)}">{title}</a>'
        line += f" ⏳ {PENDING_KO}" if item.status is Status.PENDING else ""
        line += f" {texts.NO_ABSTRACT_SHORT}" if item.status is Status.NO_ABSTRACT else ""
        line += f" {CORRECTED_KO}" if tr is not None and tr.corrected_at is not None else ""
        line += f" · {code}" if (code := code_link(paper)) is not None else ""
        line += f" {star}" if star else ""
        with_english = tr is not None and view.english and (limit is None or limit > 40)  # the last cuts drop it
        return line + (f"\n    <i>{title_cut(paper.title)}</i>" if with_english else "")

    def cut(text: str, size: int) -> str:
        return esc(shorten(text, size) if limit is not None else text)

    body_limit, title_limit = limit or 0, max(limit or 0, 200)
    links = [
        f'<a href="{esc(paper.hf_url)}">HF</a>',
        f'<a href="{esc(paper.arxiv_url)}">arXiv</a>',
        *extra_links(paper),
    ]
    if username and tr is not None:
        links.append(f'<a href="{esc(paper_deep_link(username, paper.id))}">{texts.FULL_TRANSLATION_LINK}</a>')
    if username and view.form is Form.FULL:  # the full form links each paper's deep brief (bot/brief.py)
        links.append(f'<a href="{esc(brief_deep_link(username, paper.id))}">{BRIEF_LINK}</a>')
    corrected = [CORRECTED_KO] if tr is not None and tr.corrected_at is not None else []
    meta = f"▲ {paper.upvotes} · " + " · ".join([*links, *corrected]) + (f"\n{star}" if star else "")
    if tr is not None:
        english = f"<i>{cut(paper.title, title_limit)}</i>\n" if view.english else ""
        text = f"<b>{item.rank}. {cut(tr.title_ko, title_limit)}</b>\n{english}{meta}\n{cut(tr.summary_ko, body_limit)}"
        if view.form is Form.FULL:
            text += f"\n\n{texts.ABSTRACT_HEADING}\n{cut(tr.abstract_ko, body_limit)}"
        return text
    if item.status is Status.NO_ABSTRACT:
        return f"<b>{item.rank}. {cut(paper.title, title_limit)}</b>\n{meta}\n{texts.NO_ABSTRACT_LINE}"
    marker = f"⏳ <b>{PENDING_KO}</b>\n" if item.status is Status.PENDING else ""
    quote = "blockquote" if view.form is Form.FULL else "blockquote expandable"
    return (
        f"<b>{item.rank}. {cut(paper.title, title_limit)}</b>\n{meta}\n{marker}"
        f"<{quote}>{cut(paper.abstract, body_limit)}</blockquote>"
    )


class Composer:
    """Composes a view's messages: its header, footer and paper blocks, each measured once (a kept
    `Layout`, bot/store/delivery.py, is what it composed: the view and its plan). Lengths add up: every piece is
    whole HTML, so pieces joined by a separator measure their sum plus the separators."""

    def __init__(self, digest: Digest, view: View, username: str | None, plan: Plan | None = None) -> None:
        if plan is None:
            items, starred, fallback = select(digest, view)
        else:
            by_rank = {item.rank: item for item in digest.items}
            items = [by_rank[r] for part in plan.parts for r in part if r in by_rank]
            starred, fallback = dict(plan.starred), plan.fallback
        self.view, self.username, self.items = view, username, items
        self.starred, self.fallback = starred, fallback
        self.header, self.footer = _header(digest, view, len(items), fallback), _footer(digest)
        self.sep = "\n" if view.form is Form.BRIEF else "\n\n"
        self.frame = telegram_length(self.header) + telegram_length(self.footer) + 4  # two blank lines
        self.sections = self._sections()
        self.blocks = self._fitted()

    def _sections(self) -> dict[int, str]:
        """The section title a paper's block starts with, if it is the first of its section."""
        if not self.starred or self.fallback or self.view.only_topics:
            return {}
        titles = {}
        first_other = next((i.rank for i in self.items if i.rank not in self.starred), None)
        titles[self.items[0].rank] = texts.STARRED_SECTION
        if first_other is not None:
            titles[first_other] = texts.OTHERS_SECTION
        return titles

    def block(self, item: DigestItem, limit: int | None) -> str:
        text = _block(item, self.view, self.starred.get(item.rank, ()), self.username, limit)
        section = self.sections.get(item.rank)
        return f"{section}\n{text}" if section else text

    def _fitted(self) -> dict[int, tuple[str, int]]:
        if self.view.form is Form.BRIEF:  # one message: every title is cut alike until the list fits
            for limit in (None, *_CUTS[Form.BRIEF]):
                blocks = {i.rank: self._measured(i, limit) for i in self.items}
                if self._size(list(blocks.values())) <= TELEGRAM_LIMIT:
                    break
            return blocks
        fitted = {}
        for item in self.items:  # each paper alone fits one message beside the header and footer
            block = self._measured(item, None)
            for limit in _CUTS[self.view.form]:
                if self.frame + block[1] <= TELEGRAM_LIMIT:
                    break
                block = self._measured(item, limit)
            fitted[item.rank] = block
        return fitted

    def _measured(self, item: DigestItem, limit: int | None) -> tuple[str, int]:
        text = self.block(item, limit)
        return text, telegram_length(text)

    def _size(self, blocks: list[tuple[str, int]]) -> int:
        return self.frame + sum(length for _, length in blocks) + len(self.sep) * max(0, len(blocks) - 1)

    def plan(self) -> Plan:
        """Greedily, splitting only between papers; every message is sized as if it had the header
        and the footer (the worst case). A brief digest is one message."""
        parts: list[list[int]] = [[]]
        size = self.frame
        for rank, (_, length) in self.blocks.items():
            if parts[-1] and size + length + len(self.sep) > TELEGRAM_LIMIT and self.view.form is not Form.BRIEF:
                parts.append([])
                size = self.frame
            parts[-1].append(rank)
            size += length + len(self.sep)
        starred = tuple((rank, topics) for rank, topics in self.starred.items())
        return Plan(tuple(tuple(part) for part in parts), starred, self.fallback)

    def render(self, plan: Plan) -> list[str]:
        """The messages of `plan`, header on the first and footer on the last. A part that no longer
        fits (a kept plan whose papers were translated since) is shortened, never split."""
        by_rank = {item.rank: item for item in self.items}
        texts = []
        for i, ranks in enumerate(plan.parts):
            head, foot = [self.header] * (i == 0), [self.footer] * (i == len(plan.parts) - 1)
            blocks = [self.blocks[r][0] for r in ranks if r in self.blocks]
            text = "\n\n".join(head + [self.sep.join(blocks)] * bool(blocks) + foot)
            for limit in _CUTS[self.view.form][1:]:
                if telegram_length(text) <= TELEGRAM_LIMIT:
                    break
                blocks = [self.block(by_rank[r], limit) for r in ranks if r in by_rank]
                text = "\n\n".join(head + [self.sep.join(blocks)] * bool(blocks) + foot)
            texts.append(text)
        return texts


def papers_of(digest: Digest, plan: Plan) -> list[list[str]]:
    """The ids of the papers each message of a plan shows (what the editor's index is told)."""
    by_rank = {item.rank: item.paper.id for item in digest.items}
    return [[by_rank[rank] for rank in ranks if rank in by_rank] for ranks in plan.parts]


def plan_digest(digest: Digest, view: View, *, bot_username: str | None = None) -> Plan:
    return Composer(digest, view, bot_username).plan()


def render_plan(digest: Digest, view: View, plan: Plan, *, bot_username: str | None = None) -> list[str]:
    return Composer(digest, view, bot_username, plan).render(plan)


def render_view(digest: Digest, view: View, *, bot_username: str | None = None) -> list[str]:
    """The digest as this view's Telegram HTML messages, each within Telegram's limit."""
    return laid_out(digest, view, bot_username=bot_username)[1]


def laid_out(digest: Digest, view: View, *, bot_username: str | None = None) -> tuple[Plan, list[str]]:
    """The view's plan and its messages, laid out once."""
    layout = Composer(digest, view, bot_username)
    plan = layout.plan()
    return plan, layout.render(plan)
