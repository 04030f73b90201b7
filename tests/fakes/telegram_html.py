"""Telegram's HTML parse mode, as the Bot API checks it (https://core.telegram.org/bots/api#html-style).

`parse_telegram_html` raises TelegramHTMLError where Telegram answers "can't parse entities", and
returns the text as Telegram would show it (whose UTF-16 length is what the 4096 limit counts);
`telegram_entities` the entities Telegram returns with the sent message.
"""

from __future__ import annotations

import functools
from html.parser import HTMLParser

MAX_TEXT = 4096

# tag -> attributes it may carry
ALLOWED: dict[str, set[str]] = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "span": {"class"},
    "tg-spoiler": set(),
    "a": {"href"},
    "tg-emoji": {"emoji-id"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class TelegramHTMLError(ValueError):
    pass


ENTITY_TYPES = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
                "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "span": "spoiler",
                "tg-spoiler": "spoiler", "a": "text_link", "tg-emoji": "custom_emoji", "code": "code", "pre": "pre",
                "blockquote": "blockquote"}  # fmt: skip


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.opened: list[tuple[int, dict[str, object]]] = []  # (offset, entity) per open tag
        self.entities: list[dict[str, object]] = []
        self.length = 0  # UTF-16 units so far

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            raise TelegramHTMLError(f"unsupported start tag {tag!r}")
        for name, value in attrs:
            if name not in ALLOWED[tag]:
                raise TelegramHTMLError(f"unsupported attribute {name!r} of tag {tag!r}")
            if tag == "span" and value != "tg-spoiler":
                raise TelegramHTMLError("span needs class=tg-spoiler")
            if tag == "a" and not value:
                raise TelegramHTMLError("a without href")
        entity: dict[str, object] = {"type": ENTITY_TYPES[tag]}
        if tag == "a":
            entity["url"] = dict(attrs)["href"]
        if tag == "blockquote" and "expandable" in dict(attrs):
            entity["type"] = "expandable_blockquote"
        self.stack.append(tag)
        self.opened.append((self.length, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise TelegramHTMLError(f"unmatched end tag {tag!r} (open: {self.stack})")
        self.stack.pop()
        offset, entity = self.opened.pop()
        if self.length > offset:
            self.entities.append({**entity, "offset": offset, "length": self.length - offset})

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise TelegramHTMLError(f"self-closing tag {tag!r}")

    def handle_data(self, data: str) -> None:
        for ch in "<>&":
            if ch in data:
                raise TelegramHTMLError(f"unescaped {ch!r} in text near {data[:40]!r}")
        self._add(data)

    def _add(self, text: str) -> None:
        self.text.append(text)
        self.length += utf16_length(text)

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES:
            raise TelegramHTMLError(f"unsupported entity &{name};")
        self._add(NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
            self._add(chr(code))
        except ValueError as exc:
            raise TelegramHTMLError(f"bad character reference &#{name};") from exc

    def handle_comment(self, data: str) -> None:
        raise TelegramHTMLError("comments are not supported")

    def handle_decl(self, decl: str) -> None:
        raise TelegramHTMLError("declarations are not supported")


def parse_telegram_html(text: str) -> str:
    """The text a reader sees; raises TelegramHTMLError where Telegram refuses the HTML."""
    return _parsed(text)[0]


def telegram_entities(text: str) -> list[dict[str, object]]:
    """The message entities Telegram reports for this HTML (offsets and lengths in UTF-16 units), as
    it returns them with every message sent."""
    return _parsed(text)[1]


@functools.lru_cache(maxsize=512)
def _parsed(text: str) -> tuple[str, list[dict[str, object]]]:
    """Kept per text: the same digest goes to hundreds of chats, and a fake that re-parses each one in
    Python costs more CPU than the bot it is measuring (bench/week_query.py). A refusal is not kept."""
    parser = _Parser()
    parser.feed(text)
    parser.close()
    if parser.rawdata:
        raise TelegramHTMLError(f"unparsed trailing text {parser.rawdata[:40]!r}")
    if parser.stack:
        raise TelegramHTMLError(f"unclosed tags {parser.stack}")
    return "".join(parser.text), sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))  # type: ignore[operator]


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
