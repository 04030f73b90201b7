"""Pure rendering: Digest -> seed-format text | Telegram HTML parts | JSON."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, tzinfo

from bot import texts as ko
from bot.faithful import unsummarisable
from bot.layout import render_view, translated
from bot.links import extra_links
from bot.models import Digest, Paper, Status, Translation, View
from bot.texts import AI_NOTICE, CORRECTED_KO, PENDING_KO
from bot.tghtml import TELEGRAM_LIMIT, esc, plain_text, shorten, telegram_length, utf16_length
from bot.week import IsoWeek

__all__ = ["PENDING_KO", "TELEGRAM_LIMIT", "esc", "model_name", "plain_text", "provenance", "telegram_length"]

PART_SEPARATOR = "=" * 5

PENDING_TEXT, UNTRANSLATED_TEXT, NO_ABSTRACT_TEXT = ko.FILE_PENDING, ko.FILE_UNTRANSLATED, ko.FILE_NO_ABSTRACT


# --- the old weekly file's layout ----------------------------------------------------------------


def render_text(digest: Digest) -> str:
    kind = ko.FILE_TRANSLATED if translated(digest) else ko.FILE_ORIGINAL
    lines = [
        ko.FILE_HEADER.format(count=len(digest.items), week=digest.week, kind=kind),
        ko.FILE_SOURCE.format(url=digest.source_url),
        "",
    ]
    for item in digest.items:
        if item.translation is not None:
            korean = item.translation.abstract_ko
        else:
            korean = {Status.PENDING: PENDING_TEXT, Status.NO_ABSTRACT: NO_ABSTRACT_TEXT}.get(
                item.status, UNTRANSLATED_TEXT
            )
        lines += [
            f"--- {item.rank}. {item.paper.title} ---",
            f"Link: {item.paper.hf_url}",
            "",
            "## Abstract (Original)",
            item.paper.abstract,
            "",
            ko.FILE_KOREAN_HEADING,
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


def _split_into(text: str, count: int, first: int, rest: int) -> list[str]:
    """`text` in exactly `count` pieces within the budgets (a message already sent is edited, never
    added): evened out by sentences when it needs fewer; the last cut short when it needs more."""
    pieces = _split(text, first, rest)
    if len(pieces) > count:
        tail = " ".join(pieces[count - 1 :])
        budget = first if count == 1 else rest
        pieces = [*pieces[: count - 1], shorten(tail, max(1, budget - 2))]
        while utf16_length(pieces[-1]) > budget:
            pieces[-1] = shorten(pieces[-1], len(pieces[-1]) - 16)
        return pieces
    while len(pieces) < count:  # split the longest piece at its middle sentence
        longest = max(range(len(pieces)), key=lambda i: len(pieces[i]))
        sentences = re.split(r"(?<=[.!?])\s+", pieces[longest])
        if len(sentences) > 1:
            half = len(sentences) // 2
            left, right = " ".join(sentences[:half]), " ".join(sentences[half:])
        else:
            middle = len(pieces[longest]) // 2
            left, right = pieces[longest][:middle], pieces[longest][middle:]
        pieces[longest : longest + 1] = [left.strip() or "…", right.strip() or "…"]
    return pieces


def _paper_meta(paper: Paper, week: IsoWeek | None, translation: Translation | None = None) -> str:
    """Upvotes and week (when it was on Hugging Face's lists), then the HF and arXiv links, and the code
    repository (with its stars) and project page when Hugging Face lists them."""
    facts = [f"▲ {paper.upvotes}"] if paper.upvotes or week else []
    facts += [str(week)] if week else []
    links = [
        f'<a href="{esc(paper.hf_url)}">HF</a>',
        f'<a href="{esc(paper.arxiv_url)}">arXiv</a>',
        *extra_links(paper),
    ]
    corrected = [CORRECTED_KO] if translation is not None and translation.corrected_at is not None else []
    return " · ".join([*facts, *links, *corrected])


def model_name(model: str) -> str:
    """ "claude-sonnet-5-5" → "Claude Sonnet 5.5" (a date suffix dropped): who translated, for readers."""
    words: list[str] = []
    for part in model.split("-"):
        if part.isdigit() and len(part) == 8:  # a snapshot date
            continue
        if part.isdigit() and words and words[-1][-1].isdigit():
            words[-1] += f".{part}"
        else:
            words.append(part.capitalize() if not part.isdigit() else part)
    return " ".join(words) or "Claude"


def provenance(translation: Translation, tz: tzinfo = UTC) -> str:
    """Who translated it and when (and when it was corrected): one line under the full translation."""

    def day(at: datetime) -> str:
        return at.astimezone(tz).date().isoformat()

    line = model_name(translation.model or "claude")
    if translation.translated_at is not None:
        line += ko.TRANSLATED_ON.format(day=day(translation.translated_at))
    if translation.corrected_at is not None:
        line += ko.CORRECTED_ON.format(day=day(translation.corrected_at))
    return f"✍️ {esc(line)}"


def render_paper_parts(
    paper: Paper,
    translation: Translation | None,
    week: IsoWeek | None,
    *,
    tz: tzinfo = UTC,
    parts: int | None = None,
) -> list[str]:
    """One paper in full (/paper): Korean title, summary and the whole Korean abstract, over as many
    messages as it needs (exactly `parts` when given: a sent answer edited in place); upvotes and week
    when it was on Hugging Face's lists; HF and arXiv links; who translated it and when. Untranslated
    (pending): the English abstract, marked as pending; no abstract worth the name: a note."""
    meta = _paper_meta(paper, week, translation)
    if translation is None and unsummarisable(paper) is not None:
        head = f"<b>{esc(shorten(paper.title, 300))}</b>\n{meta}\n\n{ko.NO_ABSTRACT_LINE}"
        body, tail = "", ""
    elif translation is None:
        head = f"<b>{esc(shorten(paper.title, 300))}</b>\n{meta}\n\n⏳ <b>{PENDING_KO}</b>\n<b>Abstract</b>\n"
        body, tail = paper.abstract, ""
    else:
        head = (
            f"<b>{esc(shorten(translation.title_ko, 300))}</b>\n<i>{esc(shorten(paper.title, 300))}</i>\n{meta}\n\n"
            f"{ko.SUMMARY_HEADING}\n{esc(shorten(translation.summary_ko, 1000))}\n\n{ko.ABSTRACT_HEADING}\n"
        )
        body, tail = translation.abstract_ko, f"\n\n{provenance(translation, tz)}\n{AI_NOTICE}"
    first = TELEGRAM_LIMIT - telegram_length(head) - telegram_length(tail) - 8
    rest = TELEGRAM_LIMIT - telegram_length(tail) - 16
    pieces = _split_into(body, parts, first, rest) if parts is not None and body else _split(body, first, rest)
    texts = [esc(piece) for piece in pieces] or [""]
    while parts is not None and len(texts) < parts:  # nothing left to show there (an abstract gone)
        texts.append("…")
    texts[0] = head + texts[0]
    texts[-1] += tail
    return texts


def render_paper_card(paper: Paper, translation: Translation | None, week: IsoWeek | None) -> str:
    """One paper in one short message (shared inline): titles, facts, links, and the Korean summary —
    or, untranslated, the English abstract shortened (the button under it opens the translation)."""
    meta = _paper_meta(paper, week, translation)
    if translation is None:
        return f"<b>{esc(shorten(paper.title, 300))}</b>\n{meta}\n\n{esc(shorten(paper.abstract, 700))}"
    return (
        f"<b>{esc(shorten(translation.title_ko, 300))}</b>\n<i>{esc(shorten(paper.title, 300))}</i>\n{meta}\n\n"
        f"{esc(shorten(translation.summary_ko, 1000))}\n\n{AI_NOTICE}"
    )
