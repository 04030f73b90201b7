"""ISO weeks: parsing what users type, ISO-year arithmetic, date ranges in a timezone.

Everything here is pure: "now" is always a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import WeekError

EXAMPLES = "2025-W38, 2025W38, 2025-09-15, last (지난주), this (이번주)"

MIN_YEAR, MAX_YEAR = 1000, 9998  # four-digit years whose neighbouring weeks exist too
_WEEK_RE = re.compile(r"^(\d{4})\s*-?\s*w\s*(\d{1,2})$", re.IGNORECASE)
_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_LAST = {"last", "latest", "지난주", "지난 주", "저번주", "저번 주"}
_THIS = {"this", "current", "이번주", "이번 주", "금주"}


def weeks_in_year(year: int) -> int:
    """52 or 53: December 28th always falls in the ISO year's last week."""
    return date(year, 12, 28).isocalendar().week


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise WeekError(f"year {self.year} is out of range", reason="bad_date")
        if not 1 <= self.week <= weeks_in_year(self.year):
            raise WeekError(
                f"{self.year} has {weeks_in_year(self.year)} ISO weeks, not {self.week}",
                reason="no_such_week",
                year=self.year,
            )

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def current(cls, now: datetime, tz: ZoneInfo) -> IsoWeek:
        """The week that contains `now` (an aware datetime) in `tz`."""
        return cls.of(now.astimezone(tz).date())

    @classmethod
    def last_completed(cls, now: datetime, tz: ZoneInfo) -> IsoWeek:
        return cls.current(now, tz).previous()

    @classmethod
    def parse(cls, text: str, *, now: datetime, tz: ZoneInfo) -> IsoWeek:
        """Parse `2025-W38`, `2025W38`, `2025-w38`, `2025-09-15`, `last`/`지난주`, `this`/`이번주`."""
        raw = " ".join(text.split())
        key = raw.lower()
        if key in _LAST:
            return cls.last_completed(now, tz)
        if key in _THIS:
            return cls.current(now, tz)
        if m := _WEEK_RE.match(raw):
            year, week = int(m[1]), int(m[2])
            if not MIN_YEAR <= year <= MAX_YEAR:
                raise WeekError(f"{year} is out of range. Examples: {EXAMPLES}", reason="bad_date")
            if week == 0 or week > weeks_in_year(year):
                raise WeekError(
                    f"{year} has {weeks_in_year(year)} ISO weeks; there is no week {week}. Examples: {EXAMPLES}",
                    reason="no_such_week",
                    year=year,
                )
            return cls(year, week)
        if m := _DATE_RE.match(raw):
            try:
                day = date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError as exc:
                raise WeekError(
                    f"{raw!r} is not a valid date ({exc}). Examples: {EXAMPLES}", reason="bad_date"
                ) from exc
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                raise WeekError(f"{raw!r} is out of range. Examples: {EXAMPLES}", reason="bad_date")
            return cls.of(day)
        raise WeekError(
            f"{raw!r} is not a week. Examples: {EXAMPLES}" if raw else f"No week given. Examples: {EXAMPLES}"
        )

    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def sunday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 7)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the week as aware datetimes in `tz`: Monday 00:00 to the next Monday 00:00."""
        start = datetime.combine(self.monday(), time(), tzinfo=tz)
        end = datetime.combine(self.monday() + timedelta(days=7), time(), tzinfo=tz)
        return start, end

    def previous(self) -> IsoWeek:
        return IsoWeek.of(self.monday() - timedelta(days=7))

    def next(self) -> IsoWeek:
        return IsoWeek.of(self.monday() + timedelta(days=7))

    def is_completed(self, now: datetime, tz: ZoneInfo) -> bool:
        return now >= self.bounds(tz)[1]

    def has_started(self, now: datetime, tz: ZoneInfo) -> bool:
        return now >= self.bounds(tz)[0]


FIRST_WEEK = IsoWeek(2023, 18)  # Hugging Face's daily papers began on 2023-05-04: no week before has any
