"""Pure rendering: Digest -> seed-format text | Telegram HTML parts | JSON."""

from __future__ import annotations

import json

from bot.layout import AI_NOTICE, PENDING_KO, render_view, translated
from bot.models import Digest, Paper, Status, Translation, View
from bot.tghtml import TELEGRAM_LIMIT, esc, plain_text, shorten, telegram_length, utf16_length
from bot.week import IsoWeek

__all__ = ["PENDING_KO", "TELEGRAM_LIMIT", "esc", "plain_text", "telegram_length"]

PART_SEPARATOR = "=" * 5

PENDING_TEXT = "(번역 준비 중입니다. 번역이 끝나면 이 자리에 한국어 초록이 실립니다.)"
UNTRANSLATED_TEXT = "(번역하지 않았습니다: --no-translate)"


# --- the old weekly file's layout ----------------------------------------------------------------


def render_text(digest: Digest) -> str:
    kind = "번역본" if translated(digest) else "원문"
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


# --- Telegram HTML (the digest's layout per view is bot/layout.py) ----------------------------------


def render_telegram(digest: Digest, *, bot_username: str | None = None, view: View | None = None) -> list[str]:
    """The digest as Telegram HTML messages, split only between papers, each within Telegram's limit;
    every paper it holds in the default form unless a chat's `view` is given."""
    return render_view(digest, view or View(count=len(digest.items)), bot_username=bot_username)


def _split(text: str, first: int, rest: int) -> list[str]:
    """`text` in pieces of at most `first` (then `rest`) UTF-16 units, cut after a sentence or a space."""
    pieces: list[str] = []
    while text:
        budget = first if not pieces else rest
        if utf16_length(text) <= budget:
            pieces.append(text)
            break
        cut = budget
        while utf16_length(text[:cut]) > budget:
            cut -= 1
        window = text[:cut]
        at = max(window.rfind(". "), window.rfind("다. "), window.rfind("\n"))
        at = at + 1 if at > budget // 2 else (window.rfind(" ") if window.rfind(" ") > budget // 2 else cut)
        pieces.append(text[:at].rstrip())
        text = text[at:].lstrip()
    return pieces


def _paper_meta(paper: Paper, week: IsoWeek | None) -> str:
    """Upvotes and week (when it was on Hugging Face's lists), then the HF and arXiv links."""
    facts = [f"▲ {paper.upvotes}"] if paper.upvotes or week else []
    facts += [str(week)] if week else []
    links = f'<a href="{esc(paper.hf_url)}">HF</a> · <a href="{esc(paper.arxiv_url)}">arXiv</a>'
    return " · ".join([*facts, links])


def render_paper_parts(paper: Paper, translation: Translation | None, week: IsoWeek | None) -> list[str]:
    """One paper in full (/paper): Korean title, summary and the whole Korean abstract, over as many
    messages as it needs; upvotes and week when it was on Hugging Face's lists; HF and arXiv links.
    Untranslated (pending): the English abstract, marked as pending."""
    meta = _paper_meta(paper, week)
    if translation is None:
        head = f"<b>{esc(shorten(paper.title, 300))}</b>\n{meta}\n\n⏳ <b>{PENDING_KO}</b>\n<b>Abstract</b>\n"
        body, tail = paper.abstract, ""
    else:
        head = (
            f"<b>{esc(shorten(translation.title_ko, 300))}</b>\n<i>{esc(shorten(paper.title, 300))}</i>\n{meta}\n\n"
            f"<b>요약</b>\n{esc(shorten(translation.summary_ko, 1000))}\n\n<b>초록 번역</b>\n"
        )
        body, tail = translation.abstract_ko, f"\n\n{AI_NOTICE}"
    first = TELEGRAM_LIMIT - telegram_length(head) - telegram_length(tail) - 8
    pieces = _split(body, first, TELEGRAM_LIMIT - telegram_length(tail) - 16)
    parts = [esc(piece) for piece in pieces] or [""]
    parts[0] = head + parts[0]
    parts[-1] += tail
    return parts


def render_paper_card(paper: Paper, translation: Translation | None, week: IsoWeek | None) -> str:
    """One paper in one short message (shared inline): titles, facts, links, and the Korean summary —
    or, untranslated, the English abstract shortened (the button under it opens the translation)."""
    meta = _paper_meta(paper, week)
    if translation is None:
        return f"<b>{esc(shorten(paper.title, 300))}</b>\n{meta}\n\n{esc(shorten(paper.abstract, 700))}"
    return (
        f"<b>{esc(shorten(translation.title_ko, 300))}</b>\n<i>{esc(shorten(paper.title, 300))}</i>\n{meta}\n\n"
        f"{esc(shorten(translation.summary_ko, 1000))}\n\n{AI_NOTICE}"
    )
