from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import WeekError
from bot.week import IsoWeek, weeks_in_year

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2025, 9, 24, 3, 0, tzinfo=UTC)  # Wednesday of 2025-W39 in Seoul


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-W38", IsoWeek(2025, 38)),
        ("2025W38", IsoWeek(2025, 38)),
        ("2025-w38", IsoWeek(2025, 38)),
        ("2025-W01", IsoWeek(2025, 1)),
        ("2025-W1", IsoWeek(2025, 1)),
        ("  2025-W38 ", IsoWeek(2025, 38)),
        ("2025-09-15", IsoWeek(2025, 38)),  # the Monday
        ("2025-09-21", IsoWeek(2025, 38)),  # the Sunday
        ("2025-09-22", IsoWeek(2025, 39)),
        ("2024-12-30", IsoWeek(2025, 1)),  # ISO year, not calendar year
        ("2027-01-01", IsoWeek(2026, 53)),  # a Friday that belongs to the previous ISO year
        ("2021-01-03", IsoWeek(2020, 53)),
        ("2020-W53", IsoWeek(2020, 53)),
        ("2026-W53", IsoWeek(2026, 53)),
        ("last", IsoWeek(2025, 38)),
        ("LAST", IsoWeek(2025, 38)),
        ("지난주", IsoWeek(2025, 38)),
        ("this", IsoWeek(2025, 39)),
        ("이번주", IsoWeek(2025, 39)),
        ("이번 주", IsoWeek(2025, 39)),
    ],
)
def test_parse(text: str, expected: IsoWeek) -> None:
    assert IsoWeek.parse(text, now=NOW, tz=SEOUL) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2021-W53", "2021 has 52 ISO weeks"),
        ("2025-W54", "2025 has 52 ISO weeks"),
        ("2025-W00", "no week 0"),
        ("2025-02-30", "not a valid date"),
        ("next week", "is not a week"),
        ("W38", "is not a week"),
        ("", "No week given"),
        ("2025-W38; DROP", "is not a week"),
    ],
)
def test_parse_rejects_with_examples(text: str, message: str) -> None:
    with pytest.raises(WeekError) as info:
        IsoWeek.parse(text, now=NOW, tz=SEOUL)
    assert message in str(info.value)
    assert "2025-W38" in str(info.value) or "No week" in str(info.value)


@pytest.mark.parametrize(
    ("year", "weeks"),
    [(2015, 53), (2019, 52), (2020, 53), (2021, 52), (2024, 52), (2025, 52), (2026, 53), (2032, 53)],
)
def test_weeks_in_year(year: int, weeks: int) -> None:
    assert weeks_in_year(year) == weeks


def test_str_and_dates() -> None:
    week = IsoWeek(2025, 1)
    assert str(week) == "2025-W01"
    assert week.monday() == date(2024, 12, 30)
    assert week.sunday() == date(2025, 1, 5)
    start, end = IsoWeek(2025, 38).bounds(SEOUL)
    assert start == datetime(2025, 9, 15, tzinfo=SEOUL)
    assert end == datetime(2025, 9, 22, tzinfo=SEOUL)
    assert start.astimezone(UTC) == datetime(2025, 9, 14, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("week", "previous", "following"),
    [
        (IsoWeek(2025, 1), IsoWeek(2024, 52), IsoWeek(2025, 2)),
        (IsoWeek(2021, 1), IsoWeek(2020, 53), IsoWeek(2021, 2)),
        (IsoWeek(2020, 53), IsoWeek(2020, 52), IsoWeek(2021, 1)),
        (IsoWeek(2025, 52), IsoWeek(2025, 51), IsoWeek(2026, 1)),
    ],
)
def test_previous_and_next(week: IsoWeek, previous: IsoWeek, following: IsoWeek) -> None:
    assert week.previous() == previous
    assert week.next() == following
    assert previous < week < following


@pytest.mark.parametrize(
    ("now", "tz", "last", "current"),
    [
        # Monday 00:30 in Seoul is still Sunday in UTC: Seoul has moved to the next week already.
        (datetime(2025, 9, 21, 15, 30, tzinfo=UTC), "Asia/Seoul", IsoWeek(2025, 38), IsoWeek(2025, 39)),
        (datetime(2025, 9, 21, 15, 30, tzinfo=UTC), "UTC", IsoWeek(2025, 37), IsoWeek(2025, 38)),
        # Sunday 23:59 in Seoul: the week is not over yet.
        (datetime(2025, 9, 21, 14, 59, tzinfo=UTC), "Asia/Seoul", IsoWeek(2025, 37), IsoWeek(2025, 38)),
        # New Year: 2025-01-01 is in 2025-W01, whose predecessor is 2024-W52.
        (datetime(2025, 1, 1, 12, 0, tzinfo=UTC), "Asia/Seoul", IsoWeek(2024, 52), IsoWeek(2025, 1)),
        # 2021-01-04 (Monday) 09:00 Seoul: last completed is 2020-W53.
        (datetime(2021, 1, 4, 0, 0, tzinfo=UTC), "Asia/Seoul", IsoWeek(2020, 53), IsoWeek(2021, 1)),
        # Los Angeles is behind UTC: still Sunday there.
        (
            datetime(2025, 9, 22, 6, 0, tzinfo=UTC),
            "America/Los_Angeles",
            IsoWeek(2025, 37),
            IsoWeek(2025, 38),
        ),
    ],
)
def test_last_completed_and_current(now: datetime, tz: str, last: IsoWeek, current: IsoWeek) -> None:
    zone = ZoneInfo(tz)
    assert IsoWeek.last_completed(now, zone) == last
    assert IsoWeek.current(now, zone) == current
    assert last.is_completed(now, zone)
    assert not current.is_completed(now, zone)
    assert current.has_started(now, zone)
    assert not current.next().has_started(now, zone)


def test_invalid_weeks_cannot_be_constructed() -> None:
    with pytest.raises(WeekError):
        IsoWeek(2021, 53)
    with pytest.raises(WeekError):
        IsoWeek(2025, 0)
