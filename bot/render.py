"""Pure rendering: Digest -> seed-format text | Telegram HTML parts | JSON."""

from __future__ import annotations

import html
import json
import re
from datetime import date

from bot.models import Digest, DigestItem, Paper, Status, Translation
from bot.week import IsoWeek

TELEGRAM_LIMIT = 4096  # UTF-16 code units of a message's text after entity parsing
PART_SEPARATOR = "=" * 5

PENDING_KO = "번역 준비 중"
PENDING_TEXT = "(번역 준비 중입니다. 번역이 끝나면 이 자리에 한국어 초록이 실립니다.)"
UNTRANSLATED_TEXT = "(번역하지 않았습니다: --no-translate)"
AI_NOTICE = "🤖 Claude가 번역·요약한 AI 번역입니다. 정확한 내용은 원문을 확인해 주세요."
ORIGINAL_NOTICE = "번역하지 않은 원문입니다."


# --- the old weekly file's layout ----------------------------------------------------------------


def _translated(digest: Digest) -> bool:
    """Was translation asked for (translated or pending), or is this the English digest?"""
    return any(item.status is not Status.UNTRANSLATED for item in digest.items)


def render_text(digest: Digest) -> str:
    kind = "번역본" if _translated(digest) else "원문"
    lines = [
        f"Hugging Face 주간 인기 논문 Top {len(digest.items)} ({digest.week}) - {kind}",
        f"출처: {digest.source_url}",
        "",
    ]
    for item in digest.items:
        if item.translation is not None:
            korean = item.translation.abstract_ko
        else:
            korean = PENDING_TEXT if item.status is Status.PENDING else UNTRANSLATED_TEXT
        lines += [
            f"--- {item.rank}. {item.paper.title} ---",
            f"Link: {item.paper.hf_url}",
            "",
            "## Abstract (Original)",
            item.paper.abstract,
            "",
            "## 초록 (Korean)",
            korean,
            "",
        ]
    return "\n".join(lines) + "\n"


# --- JSON ----------------------------------------------------------------------------------------


def digest_to_dict(digest: Digest) -> dict[str, object]:
    return {
        "week": str(digest.week),
        "range": [digest.start.isoformat(), digest.end.isoformat()],
        "source_url": digest.source_url,
        "fetched_at": digest.fetched_at.isoformat(),
        "papers": [
            {
                "rank": item.rank,
                "id": item.paper.id,
                "title": item.paper.title,
                "title_ko": item.translation.title_ko if item.translation else None,
                "summary_ko": item.translation.summary_ko if item.translation else None,
                "abstract": item.paper.abstract,
                "abstract_ko": item.translation.abstract_ko if item.translation else None,
                "upvotes": item.paper.upvotes,
                "hf_url": item.paper.hf_url,
                "arxiv_url": item.paper.arxiv_url,
                "status": str(item.status),
            }
            for item in digest.items
        ],
    }


def render_json(digest: Digest) -> str:
    return json.dumps(digest_to_dict(digest), ensure_ascii=False, indent=2)


# --- Telegram HTML -------------------------------------------------------------------------------


def esc(text: str) -> str:
    """Escape data for Telegram HTML (text and attribute values alike)."""
    return html.escape(text, quote=True)


_TAG = re.compile(r"<[^>]*>")


def telegram_length(html_text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units of the text once tags and entities are parsed."""
    return len(plain_text(html_text).encode("utf-16-le")) // 2


def plain_text(html_text: str) -> str:
    """The text of a Telegram HTML message without its markup (what a reader would see)."""
    return html.unescape(_TAG.sub("", html_text))


def paper_deep_link(bot_username: str, paper_id: str) -> str:
    return f"https://t.me/{bot_username}?start=p_{paper_id.replace('.', '_')}"


def _date_range(start: date, end: date) -> str:
    tail = f"{end.month}월 {end.day}일" if start.year == end.year else f"{end.year}년 {end.month}월 {end.day}일"
    return f"{start.year}년 {start.month}월 {start.day}일 ~ {tail}"


def _header(digest: Digest) -> str:
    return (
        f"<b>🤗 Hugging Face 주간 인기 논문 Top {len(digest.items)}</b>\n"
        f"{digest.week} · {_date_range(digest.start, digest.end)}"
    )


def _footer(digest: Digest) -> str:
    shown = digest.source_url.removeprefix("https://")
    notice = AI_NOTICE if _translated(digest) else ORIGINAL_NOTICE
    return f'출처: <a href="{esc(digest.source_url)}">{esc(shown)}</a>\n{notice}'


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def _item_block(item: DigestItem, bot_username: str | None, limit: int | None = None) -> str:
    """One paper. With `limit`, its long text is cut to `limit` characters and its titles to 200."""
    paper = item.paper
    links = [f'<a href="{esc(paper.hf_url)}">HF</a>', f'<a href="{esc(paper.arxiv_url)}">arXiv</a>']
    if bot_username and item.translation is not None:
        links.append(f'<a href="{esc(paper_deep_link(bot_username, paper.id))}">전문 번역</a>')
    meta = f"▲ {paper.upvotes} · " + " · ".join(links)

    def cut(text: str, size: int) -> str:
        return esc(_shorten(text, size) if limit is not None else text)

    body_limit, title_limit = limit or 0, max(limit or 0, 200)
    if item.translation is not None:
        return (
            f"<b>{item.rank}. {cut(item.translation.title_ko, title_limit)}</b>\n"
            f"<i>{cut(paper.title, title_limit)}</i>\n"
            f"{meta}\n"
            f"{cut(item.translation.summary_ko, body_limit)}"
        )
    marker = f"⏳ <b>{PENDING_KO}</b>\n" if item.status is Status.PENDING else ""
    return (
        f"<b>{item.rank}. {cut(paper.title, title_limit)}</b>\n"
        f"{meta}\n"
        f"{marker}"
        f"<blockquote expandable>{cut(paper.abstract, body_limit)}</blockquote>"
    )


def _fitted_block(item: DigestItem, bot_username: str | None, frame: int) -> tuple[str, int]:
    """The item's block, shortened step by step until it fits one message beside `frame` units, and
    its length as Telegram counts it."""
    block = _item_block(item, bot_username)
    length = telegram_length(block)
    for limit in (2000, 1500, 1000, 500, 250, 0):
        if frame + length <= TELEGRAM_LIMIT:
            break
        block = _item_block(item, bot_username, limit)
        length = telegram_length(block)
    return block, length


class _Layout:
    """A digest's header, footer and fitted paper blocks, each measured once. Lengths add up: every
    piece is whole HTML, so the length of pieces joined by a blank line is their sum plus 2 each."""

    def __init__(self, digest: Digest, bot_username: str | None) -> None:
        self.digest, self.bot_username = digest, bot_username
        self.header, self.footer = _header(digest), _footer(digest)
        self.frame = telegram_length(self.header) + telegram_length(self.footer) + 4  # the blank lines
        self.blocks = {item.rank: _fitted_block(item, bot_username, self.frame) for item in digest.items}

    def plan(self) -> list[list[int]]:
        """Which papers (by rank) go into which message: greedily, splitting only between papers.
        Every message is sized as if it had the header and the footer (the worst case)."""
        plan: list[list[int]] = [[]]
        size = self.frame
        for rank, (_, length) in self.blocks.items():
            if plan[-1] and size + length + 2 > TELEGRAM_LIMIT:
                plan.append([])
                size = self.frame
            plan[-1].append(rank)
            size += length + 2
        return plan

    def render(self, plan: list[list[int]]) -> list[str]:
        by_rank = {item.rank: item for item in self.digest.items}
        texts = []
        for i, ranks in enumerate(plan):
            blocks = [self.blocks[r][0] for r in ranks if r in self.blocks]
            chunk = [self.header] * (i == 0) + blocks + [self.footer] * (i == len(plan) - 1)
            limit = 1000
            while telegram_length("\n\n".join(chunk)) > TELEGRAM_LIMIT and limit >= 0:  # a kept plan, now too long
                blocks = [_item_block(by_rank[r], self.bot_username, limit) for r in ranks if r in by_rank]
                chunk = [self.header] * (i == 0) + blocks + [self.footer] * (i == len(plan) - 1)
                limit -= 250
            texts.append("\n\n".join(chunk))
        return texts


def plan_parts(digest: Digest, *, bot_username: str | None = None) -> list[list[int]]:
    """Which papers (by rank) go into which message: greedily, splitting only between papers."""
    return _Layout(digest, bot_username).plan()


def render_parts(digest: Digest, plan: list[list[int]], *, bot_username: str | None = None) -> list[str]:
    """The messages of `plan` (ranks per message), header on the first and footer on the last.

    A sent digest is edited in place with the same plan when its pending papers are translated, so
    every message keeps its papers. A plan's part that no longer fits is shortened, never split."""
    return _Layout(digest, bot_username).render(plan)


def render_telegram(digest: Digest, *, bot_username: str | None = None) -> list[str]:
    """The digest as Telegram HTML messages, split only between papers, each within Telegram's limit."""
    layout = _Layout(digest, bot_username)
    return layout.render(layout.plan())


def render_paper(paper: Paper, translation: Translation | None, week: IsoWeek) -> str:
    """One paper in full (the deep link `/start p_<id>`): Korean summary and the whole Korean abstract,
    within one message whatever it is given (titles and summary shortened first, then the abstract)."""
    meta = (
        f"▲ {paper.upvotes} · {week} · "
        f'<a href="{esc(paper.hf_url)}">HF</a> · <a href="{esc(paper.arxiv_url)}">arXiv</a>'
    )
    title = esc(_shorten(paper.title, 300))
    if translation is None:
        head = f"<b>{title}</b>\n{meta}\n\n⏳ <b>{PENDING_KO}</b>\n"
        body = f"<b>Abstract</b>\n<blockquote expandable>{{}}</blockquote>\n\n{AI_NOTICE}"
        text = paper.abstract
    else:
        head = (
            f"<b>{esc(_shorten(translation.title_ko, 300))}</b>\n<i>{title}</i>\n{meta}\n\n"
            f"<b>요약</b>\n{esc(_shorten(translation.summary_ko, 1000))}\n\n"
        )
        body = f"<b>초록 번역</b>\n{{}}\n\n{AI_NOTICE}"
        text = translation.abstract_ko
    budget = TELEGRAM_LIMIT - telegram_length(head + body.format(""))
    return head + body.format(esc(_shorten(text, budget)))
