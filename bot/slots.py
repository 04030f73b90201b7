"""Weekly slots: when each chat gets its digest. Pure: time is always a parameter.

A slot is `default` (the global `schedule`, a cron expression) or a weekday and an hour in the
configured timezone (`0-09` is Monday 09:00, `4-18` Friday 18:00). A slot fires once a week (the
default: whenever its cron fires) and then delivers the last completed week as of that moment: a
Friday 18:00 chat gets, on Friday, the week that ended the Sunday before.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot import texts
from bot.config import Settings
from bot.models import ALL_SLOT_KEYS, DEFAULT_SLOT
from bot.week import IsoWeek

DAYS = texts.DAYS
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ONE_MICROSECOND = timedelta(microseconds=1)
WEEK = timedelta(days=7)


def slot_key(day: int, hour: int) -> str:
    return f"{day}-{hour:02d}"


def parse_slot(slot: str) -> tuple[int, int] | None:
    """(weekday, hour) of a weekday slot; None for the default slot or anything unreadable."""
    day, _, hour = slot.partition("-")
    if not (day.isdigit() and hour.isdigit()):
        return None
    if not (0 <= int(day) <= 6 and 0 <= int(hour) <= 23):
        return None
    return int(day), int(hour)


ALL_SLOTS = ALL_SLOT_KEYS


def fire_times(settings: Settings, start: datetime, end: datetime) -> list[datetime]:
    """The default slot's times in [start, end] (the cron trigger in the configured timezone)."""
    trigger = CronTrigger.from_crontab(settings.schedule, timezone=settings.tz)
    times = []
    current = start.astimezone(settings.tz)
    while (fire := trigger.get_next_fire_time(None, current)) is not None and fire <= end:
        times.append(fire)
        current = fire + ONE_MICROSECOND
    return times


def next_run(settings: Settings, now: datetime) -> datetime | None:
    """The default slot's next time after `now`."""
    trigger = CronTrigger.from_crontab(settings.schedule, timezone=settings.tz)
    fire: datetime | None = trigger.get_next_fire_time(None, now.astimezone(settings.tz))
    return fire


def last_fire(settings: Settings, slot: str, now: datetime) -> datetime | None:
    """The slot's latest time at or before `now` (the default slot: within the last two weeks)."""
    day_hour = parse_slot(slot)
    if day_hour is None:
        times = fire_times(settings, now - 2 * WEEK, now)
        return times[-1] if times else None
    day, hour = day_hour
    local = now.astimezone(settings.tz)
    date = local.date() - timedelta(days=(local.weekday() - day) % 7)
    fire = datetime.combine(date, time(hour), tzinfo=settings.tz)
    return fire if fire <= local else datetime.combine(date - WEEK, time(hour), tzinfo=settings.tz)


def next_fire(settings: Settings, slot: str, now: datetime) -> datetime | None:
    """The slot's next time after `now`."""
    if parse_slot(slot) is None:
        return next_run(settings, now)
    last = last_fire(settings, slot, now)
    return None if last is None else last + WEEK


def week_of(settings: Settings, fire: datetime) -> IsoWeek:
    """The week a slot's firing at `fire` delivers: the last completed one."""
    return IsoWeek.last_completed(fire, settings.tz)


def due(settings: Settings, now: datetime) -> dict[IsoWeek, list[str]]:
    """Every slot whose latest time is within the catch-up window, by the week it delivers."""
    weeks: dict[IsoWeek, list[str]] = {}
    earliest = now - settings.catch_up
    default = fire_times(settings, earliest, now)
    if default:
        weeks.setdefault(week_of(settings, default[-1]), []).append(DEFAULT_SLOT)
    for slot in ALL_SLOTS[1:]:
        fire = last_fire(settings, slot, now)
        if fire is not None and fire >= earliest:
            weeks.setdefault(week_of(settings, fire), []).append(slot)
    return weeks


def owed_week(settings: Settings, now: datetime) -> IsoWeek | None:
    """The week the default slot's latest time within the catch-up window delivers, if any."""
    times = fire_times(settings, now - settings.catch_up, now)
    return week_of(settings, times[-1]) if times else None


def owed_after_move(settings: Settings, old: str, new: str, now: datetime) -> IsoWeek | None:
    """A chat moved from slot `old` to `new`: the week it would now miss (the new slot has delivered it
    already, the old one has not yet), which it is then owed at once; None when it misses nothing.
    However long ago the new slot's time was: the old slot was still to deliver that week."""
    if old == new:
        return None
    fired = last_fire(settings, new, now)
    if fired is None:
        return None
    week = week_of(settings, fired)
    old_fired = last_fire(settings, old, now)
    if old_fired is not None and week_of(settings, old_fired) >= week:
        return None  # the old slot has delivered that week (or a later one) already
    return week


def when(settings: Settings, slot: str, now: datetime) -> str:
    """The slot's time in Korean, e.g. "금요일 18시" (the default: its cron's next time, "월요일 9시")."""
    day_hour = parse_slot(slot)
    if day_hour is not None:
        return texts.SLOT_TIME.format(day=DAYS[day_hour[0]], hour=day_hour[1])
    fire = next_run(settings, now)
    if fire is None:
        return texts.SLOT_DEFAULT
    minute = texts.SLOT_MINUTE.format(minute=fire.minute) if fire.minute else ""
    return texts.SLOT_TIME.format(day=DAYS[fire.weekday()], hour=fire.hour) + minute


def describe(settings: Settings, slot: str, now: datetime) -> str:
    """The slot in Korean for the settings message: "금요일 18시", or "기본 (월요일 9시)"."""
    time_of = when(settings, slot, now)
    return time_of if parse_slot(slot) is not None else texts.SLOT_DEFAULT_AT.format(time=time_of)
