"""A chat's settings as people write them: `count=5 day=fri hour=18 form=brief english=off topics="RL"`
(the command line), and the same names behind the /settings buttons. Pure: no I/O."""

from __future__ import annotations

from dataclasses import replace

from bot.models import COUNTS, ChatSettings, Form
from bot.slots import DAY_NAMES, parse_slot
from bot.topics import TopicError, parse_topics

_YES = {"yes", "on", "true", "1", "y"}
_NO = {"no", "off", "false", "0", "n"}

VALID = {
    "count": " | ".join(map(str, COUNTS)) + " | default",
    "day": " | ".join(DAY_NAMES) + " | default (with hour: the weekly slot; default: the global schedule)",
    "hour": "0 … 23 (in the bot's timezone)",
    "form": " | ".join(f.value for f in Form),
    "english": "on | off",
    "topics": 'up to 10 comma-separated topics of at most 40 characters each, e.g. "diffusion, RL"; "" for none',
    "only_topics": "yes | no",
    "paused": "yes | no",
}


class SettingError(ValueError):
    """A key or value people wrote that is no setting; the message lists what is valid."""


def _flag(key: str, value: str) -> bool:
    if value.lower() in _YES:
        return True
    if value.lower() in _NO:
        return False
    raise SettingError(f"{key}={value!r}: valid values are {VALID[key]}")


def apply(current: ChatSettings, key: str, value: str, *, default_slot: tuple[int, int]) -> ChatSettings:
    """`current` with one setting changed; SettingError for an unknown key or value. `default_slot`:
    the global schedule's (weekday, hour), the other half of a slot when only a day or hour is given."""
    key = key.strip().lower().replace("-", "_")
    value = value.strip()
    day, hour = parse_slot(current.slot) or default_slot
    if key == "count":
        if value.lower() == "default":
            return replace(current, count=None)
        if not value.isdigit() or int(value) not in COUNTS:
            raise SettingError(f"count={value!r}: valid values are {VALID['count']}")
        return replace(current, count=int(value))
    if key == "day":
        if value.lower() == "default":
            return replace(current, day=None, hour=None)
        if value.lower()[:3] not in DAY_NAMES:
            raise SettingError(f"day={value!r}: valid values are {VALID['day']}")
        return replace(current, day=DAY_NAMES.index(value.lower()[:3]), hour=hour)
    if key == "hour":
        if not value.isdigit() or not 0 <= int(value) <= 23:
            raise SettingError(f"hour={value!r}: valid values are {VALID['hour']}")
        return replace(current, day=day, hour=int(value))
    if key == "form":
        if value.lower() not in {f.value for f in Form}:
            raise SettingError(f"form={value!r}: valid values are {VALID['form']}")
        return replace(current, form=Form(value.lower()))
    if key == "english":
        return replace(current, english=_flag(key, value))
    if key == "topics":
        if not value:
            return replace(current, topics=(), only_topics=False)
        try:
            return replace(current, topics=parse_topics(value))
        except TopicError as exc:
            raise SettingError(f"topics={value!r}: {exc}; valid: {VALID['topics']}") from exc
    if key == "only_topics":
        return replace(current, only_topics=_flag(key, value))
    if key == "paused":
        return replace(current, paused=_flag(key, value))
    raise SettingError(f"unknown setting {key!r}; the settings are: {', '.join(VALID)}")


def parse_pairs(pairs: list[str]) -> list[tuple[str, str]]:
    """`key=value` words (the shell has removed the quotes); SettingError for a word without `=`."""
    found = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SettingError(f"{pair!r} is not key=value; the settings are: {', '.join(VALID)}")
        found.append((key, value))
    return found


def describe(settings: ChatSettings) -> str:
    """One line, as the command line writes them: count=10 day=fri hour=18 form=brief …"""
    slot = parse_slot(settings.slot)
    when = f"day={DAY_NAMES[slot[0]]} hour={slot[1]}" if slot else "day=default"
    return (
        f"count={settings.count or 'default'} {when} form={settings.form} "
        f"english={'on' if settings.english else 'off'} topics={','.join(settings.topics)!r} "
        f"only_topics={'yes' if settings.only_topics else 'no'} paused={'yes' if settings.paused else 'no'}"
    )
