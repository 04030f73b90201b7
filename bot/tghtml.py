"""Telegram HTML primitives: escaping, length as Telegram counts it, shortening, links into the bot."""

from __future__ import annotations

import html
import re

from bot.paperid import deep_link_id

TELEGRAM_LIMIT = 4096  # UTF-16 code units of a message's text after entity parsing

_TAG = re.compile(r"<[^>]*>")


def esc(text: str) -> str:
    """Escape data for Telegram HTML (text and attribute values alike)."""
    return html.escape(text, quote=True)


def plain_text(html_text: str) -> str:
    """The text of a Telegram HTML message without its markup (what a reader would see)."""
    return html.unescape(_TAG.sub("", html_text))


def utf16_length(text: str) -> int:
    """UTF-16 code units: what Telegram counts its limits in."""
    return len(text.encode("utf-16-le")) // 2


def telegram_length(html_text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units of the text once tags and entities are parsed."""
    return utf16_length(plain_text(html_text))


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def paper_deep_link(bot_username: str, paper_id: str) -> str:
    return f"https://t.me/{bot_username}?start=p_{deep_link_id(paper_id)}"


def brief_deep_link(bot_username: str, paper_id: str) -> str:
    """The bot's private chat opening on the paper's deep brief (`/start b_<id>`)."""
    return f"https://t.me/{bot_username}?start=b_{deep_link_id(paper_id)}"
