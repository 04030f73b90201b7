"""Weekly slots and settings as people write them: pure functions, tested by tables."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.models import DEFAULT_SLOT, ChatSettings, Form
from bot.preferences import SettingError, apply, describe, parse_pairs
from bot.slots import due, last_fire, owed_after_move
from bot.week import IsoWeek

SEOUL = ZoneInfo("Asia/Seoul")
W38, W39 = IsoWeek(2025, 38), IsoWeek(2025, 39)  # W39: 2025-09-22 (Mon) … 09-28 (Sun)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Seoul time in 2025-W39 (day 0 = Monday 2025-09-22); day 7 = the next Monday."""
    return datetime(2025, 9, 22, hour, minute, tzinfo=SEOUL) + timedelta(days=day)


@pytest.fixture
def config() -> Settings:
    return Settings(schedule="0 9 * * mon", catch_up=timedelta(days=3))


@pytest.mark.parametrize(
    ("slot", "now", "fire"),
    [
        ("4-18", at(4, 18), at(4, 18)),  # the slot's own time
        ("4-18", at(4, 17, 59), at(-3, 18)),  # a minute before: last week's
        ("0-00", at(2, 12), at(0, 0)),
        ("6-23", at(0, 9), at(-1, 23)),
        (DEFAULT_SLOT, at(2, 12), at(0, 9)),
    ],
)
def test_last_fire(config: Settings, slot: str, now: datetime, fire: datetime) -> None:
    assert last_fire(config, slot, now) == fire


def test_a_friday_slot_delivers_the_week_that_ended_last_sunday(config: Settings) -> None:
    friday = due(config, at(4, 18, 1))
    assert "4-18" in friday[W38]
    assert "1-19" in friday[W38] and "1-18" not in friday[W38]  # the slots of the last three days (catch_up)
    assert DEFAULT_SLOT not in friday[W38]  # Monday 09:00 is more than three days ago
    assert all(slot != "4-18" for slots in due(config, at(4, 17)).values() for slot in slots if slots)


@pytest.mark.parametrize(
    ("now", "slot", "week"),
    [
        (at(0, 9), DEFAULT_SLOT, W38),
        (at(3, 8, 59), DEFAULT_SLOT, W38),  # Monday 09:00 + 3 days − 1 minute: caught up
        (at(3, 9, 1), DEFAULT_SLOT, None),  # later: too late, skipped
        (at(6, 23), "6-23", W38),  # Sunday night: still the week before
        (at(7, 0), "0-00", W39),  # Monday 00:00: the week that just ended
    ],
)
def test_catch_up_window(config: Settings, now: datetime, slot: str, week: IsoWeek | None) -> None:
    found = [w for w, slots in due(config, now).items() if slot in slots]
    assert found == ([week] if week else [])


@pytest.mark.parametrize(
    ("old", "new", "now", "owed"),
    [
        ("4-18", "1-10", at(2, 12), W38),  # Friday → Tuesday on Wednesday: Tuesday has passed, Friday not yet
        ("4-18", "5-10", at(2, 12), None),  # → Saturday: still ahead, nothing lost
        (DEFAULT_SLOT, "1-10", at(2, 12), None),  # Monday's slot delivered the week already
        ("1-10", "4-18", at(2, 12), None),  # moving later after getting it: nothing owed (and no resend)
        ("4-18", "0-08", at(6, 12), None),  # Friday's slot delivered the week already
        ("4-18", DEFAULT_SLOT, at(3, 12), W38),  # Thursday: Monday 09:00 is past catch_up, Friday still ahead
        ("6-20", DEFAULT_SLOT, at(5, 12), W38),  # Saturday: Sunday 20:00 was still to come
        ("4-18", "4-18", at(5, 12), None),
    ],
)
def test_moving_a_slot_never_loses_a_week(
    config: Settings, old: str, new: str, now: datetime, owed: IsoWeek | None
) -> None:
    assert owed_after_move(config, old, new, now) == owed


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (["count=5"], ChatSettings(count=5)),
        (["day=fri", "hour=18"], ChatSettings(day=4, hour=18)),
        (["day=Friday"], ChatSettings(day=4, hour=9)),  # the hour of the global schedule
        (["hour=7"], ChatSettings(day=0, hour=7)),  # the day of the global schedule
        (["form=brief", "english=off"], ChatSettings(form=Form.BRIEF, english=False)),
        (["topics=diffusion, RL", "only_topics=yes"], ChatSettings(topics=("diffusion", "RL"), only_topics=True)),
        (["paused=yes", "paused=no"], ChatSettings()),
        (["day=fri", "day=default"], ChatSettings()),
    ],
)
def test_settings_from_the_command_line(pairs: list[str], expected: ChatSettings) -> None:
    settings = ChatSettings()
    for key, value in parse_pairs(pairs):
        settings = apply(settings, key, value, default_slot=(0, 9))
    assert settings == expected


@pytest.mark.parametrize(
    ("pair", "listed"),
    [
        ("count=7", "5 | 10 | 20"),
        ("day=someday", "mon | tue"),
        ("hour=24", "0 … 23"),
        ("form=long", "brief | summary | full"),
        ("english=maybe", "on | off"),
        ("topics=" + "x" * 41, "at most 40 characters"),
        ("colour=blue", "count, day, hour, form, english, topics, only_topics, paused"),
        ("count", "not key=value"),
    ],
)
def test_unknown_keys_and_values_list_the_valid_ones(pair: str, listed: str) -> None:
    with pytest.raises(SettingError, match=listed.replace("|", r"\|").replace("+", r"\+")):
        for key, value in parse_pairs([pair]):
            apply(ChatSettings(), key, value, default_slot=(0, 9))


def test_describe_is_what_set_reads() -> None:
    line = describe(ChatSettings(count=5, day=4, hour=18, form=Form.BRIEF, english=False, topics=("RL",)))
    assert line == "count=5 day=fri hour=18 form=brief english=off topics='RL' only_topics=no paused=no"
