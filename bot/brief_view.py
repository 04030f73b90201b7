"""A deep brief as a Telegram message (pure): the paper's Korean title (else its English one), the four
parts under their headings, what it was written from, who wrote it and when, and the links. Everything
from the paper or Claude is escaped. A paper without a brief (it could not be made): the English
abstract, marked as pending, never a guess."""

from __future__ import annotations

from datetime import UTC, tzinfo

from bot import texts_brief as tb
from bot.models import Brief, Paper, Translation
from bot.render import model_name
from bot.texts import PENDING_KO
from bot.tghtml import esc, shorten

PART_LIMIT = 900  # characters shown of one part (the gate allows no more)


def _head(paper: Paper, translation: Translation | None) -> str:
    if translation is None:
        return f"<b>{esc(shorten(paper.title, 300))}</b>"
    return f"<b>{esc(shorten(translation.title_ko, 300))}</b>\n<i>{esc(shorten(paper.title, 300))}</i>"


def _links(paper: Paper) -> str:
    return f'<a href="{esc(paper.hf_url)}">HF</a> · <a href="{esc(paper.arxiv_url)}">arXiv</a>'


def render_brief(paper: Paper, brief: Brief, translation: Translation | None, *, tz: tzinfo = UTC) -> str:
    """The brief, in one message (four parts of a few sentences each stay far within 4096)."""
    lines = [_head(paper, translation), _links(paper), "", tb.BRIEF_HEADING]
    if brief.source == "abstract":
        lines.append(tb.BRIEF_ABSTRACT_ONLY)
    for field, heading in tb.BRIEF_PARTS.items():
        lines += ["", f"<b>{heading}</b>", esc(shorten(getattr(brief, field), PART_LIMIT))]
    made = model_name(brief.model or "claude")
    if brief.made_at is not None:
        made += tb.BRIEF_MADE_ON.format(day=brief.made_at.astimezone(tz).date().isoformat())
    source = tb.BRIEF_SOURCES.get(brief.source, brief.source)
    lines += ["", tb.BRIEF_SOURCE_LINE.format(source=esc(source)), f"✍️ {esc(made)}", tb.BRIEF_NOTICE]
    return "\n".join(lines)


def render_no_brief(paper: Paper, translation: Translation | None) -> str:
    """No brief could be made: the English abstract, marked as pending, and how to ask again."""
    return (
        f"{_head(paper, translation)}\n{_links(paper)}\n\n{tb.BRIEF_FAILED.format(paper=esc(paper.id))}\n\n"
        f"⏳ <b>{PENDING_KO}</b>\n<b>Abstract</b>\n<blockquote expandable>{esc(shorten(paper.abstract, 3000))}</blockquote>"
    )
