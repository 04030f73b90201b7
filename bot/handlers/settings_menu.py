"""The /settings message: its text and buttons for a chat's settings (pure), and the buttons' data.

A button's data is `s:<chat id>:<action>[:<value>]`; the chat id is the chat whose settings it changes
(a channel's, when the message is in its admin's private chat). Anything else is stale or forged.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.config import Settings
from bot.models import COUNTS, ChatSettings, Form
from bot.render import esc
from bot.slots import DAYS

_DATA = re.compile(r"^s:(-?\d{1,20}):([a-z]{1,2})(?::([0-9a-z-]{1,12}))?$")
ACTIONS = frozenset({"c", "f", "e", "o", "p", "w", "d", "h", "t", "tr", "tc", "m"})
TOPIC_BUTTON = 30  # characters of a topic shown on its button


@dataclass(frozen=True)
class Press:
    chat_id: int
    action: str
    value: str | None


def topic_tag(topic: str) -> str:
    """A topic as a button names it: a short hash, so a button under an old menu removes the topic it
    shows or nothing (never the topic that has moved to its place)."""
    return hashlib.sha256(topic.encode()).hexdigest()[:8]


def parse_press(data: str) -> Press | None:
    """The button pressed, or None for data that is not one of ours (stale or forged)."""
    match = _DATA.match(data)
    if match is None or match[2] not in ACTIONS:
        return None
    return Press(int(match[1]), match[2], match[3])


def _button(text: str, chat_id: int, action: str, value: object | None = None) -> InlineKeyboardButton:
    data = f"s:{chat_id}:{action}" + (f":{value}" if value is not None else "")
    return InlineKeyboardButton(text, callback_data=data)


def _mark(text: str, chosen: bool) -> str:
    return f"{text} ✓" if chosen else text


def main_menu(
    config: Settings, chat_id: int, where: str, settings: ChatSettings, *, subscribed: bool, now_when: str
) -> tuple[str, InlineKeyboardMarkup]:
    count = settings.count or config.top_n
    topics = esc(", ".join(settings.topics)) if settings.topics else texts.NO_TOPICS
    if settings.topics and settings.only_topics:
        topics += texts.SETTINGS_ONLY_TOPICS
    body = texts.SETTINGS_BODY.format(
        count=count,
        when=now_when,
        form=texts.FORMS[settings.form],
        english=texts.SHOWN if settings.english else texts.HIDDEN,
        topics=topics,
        state=texts.STATE_PAUSED if settings.paused else texts.STATE_ON,
    )
    text = texts.SETTINGS_HEAD.format(where=where) + "\n\n" + body
    if not subscribed:
        text += texts.SETTINGS_NOT_SUBSCRIBED
    on_off = {True: texts.BUTTON_ON, False: texts.BUTTON_OFF}
    rows = [
        [_button(_mark(texts.COUNT_BUTTON.format(n=n), n == count), chat_id, "c", n) for n in COUNTS],
        [_button(_mark(texts.FORMS[f], f is settings.form), chat_id, "f", f.value) for f in Form],
        [
            _button(
                texts.BUTTON_ENGLISH.format(state=on_off[settings.english]), chat_id, "e", int(not settings.english)
            ),
            _button(
                texts.BUTTON_ONLY.format(state=on_off[settings.only_topics]),
                chat_id,
                "o",
                int(not settings.only_topics),
            ),
        ],
        [_button(texts.BUTTON_WHEN.format(when=now_when), chat_id, "w")],
        [_button(texts.BUTTON_TOPICS.format(count=len(settings.topics)), chat_id, "t")],
        [
            _button(
                texts.BUTTON_RESUME if settings.paused else texts.BUTTON_PAUSE, chat_id, "p", int(not settings.paused)
            )
        ],
    ]
    return text, InlineKeyboardMarkup(rows)


def when_menu(config: Settings, chat_id: int, settings: ChatSettings) -> tuple[str, InlineKeyboardMarkup]:
    days = [_button(_mark(day, settings.day == i), chat_id, "d", i) for i, day in enumerate(DAYS)]
    rows = [days[:4], days[4:], [_button(_mark(texts.BUTTON_DEFAULT_SLOT, settings.day is None), chat_id, "d", "x")]]
    rows.append([_button(texts.BUTTON_BACK, chat_id, "m")])
    return texts.SETTINGS_WHEN.format(tz=config.timezone), InlineKeyboardMarkup(rows)


def hour_menu(config: Settings, chat_id: int, day: int, settings: ChatSettings) -> tuple[str, InlineKeyboardMarkup]:
    hours = [
        _button(
            _mark(texts.HOUR_BUTTON.format(h=h), (settings.day, settings.hour) == (day, h)), chat_id, "h", f"{day}-{h}"
        )
        for h in range(24)
    ]
    rows = [hours[i : i + 6] for i in range(0, 24, 6)] + [[_button(texts.BUTTON_BACK, chat_id, "w")]]
    return texts.SETTINGS_HOUR.format(day=DAYS[day], tz=config.timezone), InlineKeyboardMarkup(rows)


def topics_menu(chat_id: int, settings: ChatSettings, channel: str | None) -> tuple[str, InlineKeyboardMarkup]:
    topics = esc(", ".join(settings.topics)) if settings.topics else texts.NO_TOPICS
    target = f" {esc(channel)}" if channel else ""
    rows = [
        [
            _button(
                f"❌ {topic if len(topic) <= TOPIC_BUTTON else topic[: TOPIC_BUTTON - 1] + '…'}",
                chat_id,
                "tr",
                topic_tag(topic),
            )
        ]
        for topic in settings.topics
    ]
    if settings.topics:
        rows.append([_button(texts.BUTTON_CLEAR_TOPICS, chat_id, "tc")])
    rows.append([_button(texts.BUTTON_BACK, chat_id, "m")])
    return texts.SETTINGS_TOPICS.format(topics=topics, target=target), InlineKeyboardMarkup(rows)
