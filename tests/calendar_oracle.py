"""The minute-stepping oracle of business time and the calendar strategies that the calendar
(SL2-SL4) and SLA (SL5-SL7) tests share."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from deskcore.models.calendar import BusinessCalendar

MINUTE = timedelta(minutes=1)

ZONES = {
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1)),
    "Europe/Berlin": (date(2026, 3, 29), date(2026, 10, 25)),
    "Australia/Lord_Howe": (date(2026, 4, 5), date(2026, 10, 4)),
    "Asia/Tokyo": (date(2026, 6, 10),),
}
"""Zones to generate calendars in, with dates near their offset changes (Tokyo has none)."""


def open_at(calendar: BusinessCalendar, wall: datetime) -> bool:
    """Is the naive local ``wall`` minute inside a shift? Shifts belong to the day they start."""
    day, minute = wall.date(), wall.hour * 60 + wall.minute
    for s, e in calendar.intervals_on(day):
        if (s < e and s <= minute < e) or (e < s and minute >= s):
            return True
    return any(e < s and minute < e for s, e in calendar.intervals_on(day - timedelta(days=1)))


def business_minutes(calendar: BusinessCalendar, start: datetime, end: datetime) -> list[datetime]:
    """The business minutes in ``[start, end)`` (minute-aligned), stepping minute by minute;
    through a fold the local wall clock is held at its high-water mark (its first occurrence)."""
    zone = ZoneInfo(calendar.timezone)
    moment = start.astimezone(UTC) - timedelta(hours=3)  # history for the high-water mark
    mark: datetime | None = None
    counted = []
    while moment < end:
        wall = moment.astimezone(zone).replace(tzinfo=None)
        mark = wall if mark is None or wall > mark else mark
        if moment >= start and open_at(calendar, mark):
            counted.append(moment)
        moment += MINUTE
    return counted


@st.composite
def day_intervals(draw: st.DrawFn) -> list[tuple[int, int]]:
    """Up to two intervals of a day on half hours, sometimes an overnight shift to 04:00."""
    points = sorted(draw(st.sets(st.integers(0, 48), max_size=4)))
    pairs = [(a * 30, b * 30) for a, b in zip(points[::2], points[1::2], strict=False)]
    last = pairs[-1][1] if pairs else 0
    if last < 1410 and draw(st.booleans()):
        start = draw(st.integers(last // 30, 47)) * 30
        pairs.append((start, draw(st.integers(1, 8)) * 30))  # overnight, ends by 04:00
    return [(a, b) for a, b in pairs if a != b]
