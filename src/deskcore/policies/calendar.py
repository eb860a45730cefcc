"""Business-time arithmetic on a :class:`~deskcore.models.calendar.BusinessCalendar` (SL2-SL4).

Pure functions: ``add``, ``elapsed``, ``next_open`` and ``business_intervals``. Instants may
carry any tzinfo (``zoneinfo``, ``dateutil.tz``, a fixed offset): only the instant is used, and
every returned datetime is in UTC. Durations are real elapsed time, to the microsecond.

How wall intervals become instants (SL4): each shift's start and end are wall times on the
local date the shift starts (the end on the next date for an overnight shift, 24:00 being the
next midnight), each resolved on its own: a wall time that exists twice (the clocks went back)
means its first occurrence, one that does not exist (the clocks went forward) means the first
valid instant after it. So a shift spanning the spring-forward gap is an hour shorter in real
time, one spanning the fall-back hour an hour longer, and one starting in a skipped hour starts
at the transition. A holiday blanks every shift starting on its local date, whatever the
length of that day (23 or 25 hours).

Speed (PF3): the walk goes day by day only near the ends of a span and around daylight-saving
transitions. In between, where the zone's offset is constant, whole runs of days are counted
arithmetically: whole weeks times the weekly total, plus the partial week, plus the difference
each holiday or exceptional day makes, read from prefix sums over the sorted special dates
with :func:`bisect.bisect_left`. A span's cost grows with the number of transitions it crosses
(two a year at most), not with its length. A search finds no more business time beyond
:data:`SEARCH_YEARS` and raises :class:`~deskcore.errors.NoBusinessTimeError`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from deskcore.errors import InvalidModelError, NaiveDatetimeError, NoBusinessTimeError
from deskcore.models._validate import is_aware
from deskcore.models.calendar import BusinessCalendar
from deskcore.models.schedule import zone

__all__ = ["SEARCH_YEARS", "add", "business_intervals", "elapsed", "next_open"]

SEARCH_YEARS = 100
"""How far (in years) ``add`` and ``next_open`` look for business time before raising."""
MIN_YEAR, MAX_YEAR = 1900, 9000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_SECOND = 1_000_000
_MINUTE = 60 * _SECOND
_DAY = 86_400 * _SECOND
_ONE_DAY = timedelta(days=1)
_YEAR = 31_556_952 * _SECOND  # a mean Gregorian year
_SEARCH = timedelta(days=365 * SEARCH_YEARS + 25)
_LAST_DAY = date(MAX_YEAR, 12, 31)
_HORIZON = 400  # days one arithmetic skip may cover; a longer span takes several


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the arithmetic precomputes once per calendar."""

    calendar: BusinessCalendar
    tz: ZoneInfo
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date]
    exceptions: dict[date, tuple[tuple[int, int], ...]]
    overnight: bool  # some shift crosses midnight
    week: int  # wall microseconds of a regular week
    daily: tuple[int, ...]  # wall microseconds of each weekday
    special_totals: tuple[int, ...]  # wall microseconds of each special date
    cyclic: tuple[int, ...]  # prefix sums of the weekday totals over two weeks
    specials: tuple[int, ...]  # ordinals of the holidays and exception dates, sorted
    deltas: tuple[int, ...]  # prefix sums of (own total - weekday total) over ``specials``
    last_special: date | None


def _total(intervals: tuple[tuple[int, int], ...]) -> int:
    return sum(((e - s) % 1440 or 1440) * _MINUTE for s, e in intervals)


@lru_cache(maxsize=64)
def _plan(calendar: BusinessCalendar) -> _Plan:
    weekly = tuple(calendar.weekly[day] for day in range(7))
    daily = [_total(intervals) for intervals in weekly]
    cyclic = [0]
    for weekday in range(14):
        cyclic.append(cyclic[-1] + daily[weekday % 7])
    specials = tuple(sorted(calendar.holidays | set(calendar.exceptions)))
    deltas = [0]
    for day in specials:
        deltas.append(deltas[-1] + _total(calendar.intervals_on(day)) - daily[day.weekday()])
    every = [*weekly, *calendar.exceptions.values()]
    return _Plan(
        calendar=calendar,
        tz=zone(calendar.timezone),
        weekly=weekly,
        holidays=calendar.holidays,
        exceptions=dict(calendar.exceptions),
        overnight=any(e < s for intervals in every for s, e in intervals),
        week=sum(daily),
        daily=tuple(daily),
        special_totals=tuple(_total(calendar.intervals_on(day)) for day in specials),
        cyclic=tuple(cyclic),
        specials=tuple(day.toordinal() for day in specials),
        deltas=tuple(deltas),
        last_special=specials[-1] if specials else None,
    )


def _intervals(plan: _Plan, day: date) -> tuple[tuple[int, int], ...]:
    special = plan.exceptions.get(day)
    if special is not None:
        return special
    if day in plan.holidays:
        return ()
    return plan.weekly[day.weekday()]


# -- instants ------------------------------------------------------------------------------------


def _us(instant: datetime) -> int:
    return (instant - _EPOCH) // _US


def _datetime(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _instant(value: object, function: str, field: str) -> int:
    if not isinstance(value, datetime):
        raise InvalidModelError(function, field, f"expected a datetime, got {type(value).__name__}")
    if not is_aware(value):
        raise NaiveDatetimeError(
            function, field, f"naive datetime {value.isoformat()}; give it a time zone (T1)"
        )
    utc = value.astimezone(UTC)
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise InvalidModelError(
            function, field, f"{utc.isoformat()} is outside {MIN_YEAR}-{MAX_YEAR}"
        )
    return _us(utc)


def _calendar(value: object, function: str) -> _Plan:
    if not isinstance(value, BusinessCalendar):
        raise InvalidModelError(
            function, "calendar", f"expected a BusinessCalendar, got {type(value).__name__}"
        )
    return _plan(value)


def _resolve(day: date, minutes: int, tz: ZoneInfo) -> int:
    """The instant of a wall time: the first if it exists twice, the transition if skipped."""
    local = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    first = local.replace(tzinfo=tz)
    utc = first.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) == local:
        return _us(utc)
    # A gap: fold=0 and fold=1 read the wall time with the offsets on either side of the
    # transition, giving instants on either side of it; find it (a whole second) by bisection.
    other = _us(local.replace(tzinfo=tz, fold=1).astimezone(UTC)) // _SECOND
    low, high = sorted((_us(utc) // _SECOND, other))
    while high - low > 1:
        middle = (low + high) // 2
        wall = datetime.fromtimestamp(middle, tz).replace(tzinfo=None)
        if wall >= local:
            high = middle
        else:
            low = middle
    return high * _SECOND


def _local_date(us: int, tz: ZoneInfo) -> date:
    return _datetime(us).astimezone(tz).date()


@lru_cache(maxsize=1024)
def _transitions(key: str, year: int) -> tuple[int, ...]:
    """Instants (us) in ``(Jan 1, next Jan 1]`` UTC of ``year`` where the zone's offset changes.

    Sampled daily, then bisected to the second; no zone changes its offset twice in a day.
    """
    tz = zone(key)
    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    found: list[int] = []

    def offset(second: int) -> timedelta | None:
        return datetime.fromtimestamp(second, tz).utcoffset()

    previous = offset(start)
    for n in range(1, days + 1):
        second = start + n * 86_400
        current = offset(second)
        if current != previous:
            low, high = second - 86_400, second
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == previous:
                    low = middle
                else:
                    high = middle
            found.append(high * _SECOND)
            previous = current
    return tuple(found)


def _year(us: int) -> int:
    """The UTC year of an instant, give or take one (callers widen their range by one)."""
    return 1970 + us // _YEAR


_WEEK = 7 * _DAY
_STEADY = 2 * _DAY + 3_600 * _SECOND  # two days and an hour's margin


@lru_cache(maxsize=4096)
def _changes(key: str, week: int) -> tuple[int, ...]:
    """The zone's offset changes from two weeks before UTC week ``week`` to a horizon after it."""
    low = (week - 2) * _WEEK
    high = (week + 1) * _WEEK + (_HORIZON + 8) * _DAY
    found: list[int] = []
    for year in range(max(_year(low) - 1, 1), _year(high) + 2):
        found.extend(c for c in _transitions(key, year) if low <= c <= high)
    return tuple(found)


def _calm_around(key: str, instant: int) -> tuple[int, int]:
    """``[from, until)`` around ``instant`` without an offset change (cached per week).

    ``from`` is the last change at or before ``instant`` (or a week before it), ``until`` the
    next one (or the horizon).
    """
    week = instant // _WEEK
    changes = _changes(key, week)
    index = bisect_right(changes, instant)
    calm_from = changes[index - 1] if index else (week - 2) * _WEEK
    calm_until = (
        changes[index] if index < len(changes) else (week + 1) * _WEEK + (_HORIZON + 8) * _DAY
    )
    return calm_from, calm_until


# -- the walk ------------------------------------------------------------------------------------


def _shifts(plan: _Plan, day: date, midnight: int, steady: bool) -> Iterator[tuple[int, int]]:
    """Instants of the shifts starting on ``day``, in order (possibly empty in a gap).

    ``steady``: the offset holds from ``midnight`` to the end of the next day, so wall time is
    real time from ``midnight``.
    """
    intervals = _intervals(plan, day)
    if steady:
        for s, e in intervals:
            yield midnight + s * _MINUTE, midnight + (e if e > s else e + 1440) * _MINUTE
        return
    tz = plan.tz
    for s, e in intervals:
        end_day = day if s < e < 1440 else day + _ONE_DAY
        yield _resolve(day, s, tz), _resolve(end_day, e % 1440, tz)


def _wall_total(plan: _Plan, first: int, days: int) -> int:
    """Wall microseconds of the shifts starting on ``days`` local dates from ordinal ``first``."""
    weeks, rest = divmod(days, 7)
    weekday = (first - 1) % 7  # ordinal 1 (0001-01-01) is a Monday
    total = weeks * plan.week + plan.cyclic[weekday + rest] - plan.cyclic[weekday]
    specials = plan.specials
    if specials:
        low = bisect_left(specials, first)
        total += plan.deltas[bisect_left(specials, first + days, low)] - plan.deltas[low]
    return total


def _skip(plan: _Plan, day: date, most: int, budget: int | None) -> tuple[int, int]:
    """How many of the next ``most`` days (all at a constant offset) to count arithmetically,
    and their business time.

    Without a budget, all of them; with one, as many as keep the total under it.
    """
    first = day.toordinal()
    if budget is None:
        return most, _wall_total(plan, first, most)
    need = max(budget, 1)
    days = total = 0
    while plan.week:
        # Whole weeks: holidays only lower the total, so a few rounds reach the last week.
        step = min(most - days, 7 * ((need - total - 1) // plan.week))
        if step <= 0:
            break
        more = _wall_total(plan, first + days, step)
        if total + more >= need:
            break  # exceptional days added time: search below
        days, total = days + step, total + more
    # Then day by day (a week or so), reading each day's total from the tables.
    specials, index = plan.specials, bisect_left(plan.specials, first + days)
    while days < most:
        ordinal = first + days
        if index < len(specials) and specials[index] == ordinal:
            today = plan.special_totals[index]
            index += 1
        else:
            today = plan.daily[(ordinal - 1) % 7]
        if total + today >= need:
            break
        days, total = days + 1, total + today
    return days, total


def _walk(plan: _Plan, start: int, budget: int | None, end: int | None, function: str) -> int:
    """From ``start``: with a ``budget``, the instant it runs out; else business time to ``end``.

    ``budget == 0`` gives the first open instant.
    """
    tz, key = plan.tz, plan.calendar.timezone
    local = _datetime(start).astimezone(tz)
    day = local.date()
    # No offset change in [calm_from, calm_until): there, wall time is real time.
    calm_from, calm_until = _calm_around(key, start)
    if calm_from <= start - 2 * _DAY and start + 2 * _DAY <= calm_until:  # midnight by subtraction
        midnight = start - (
            ((local.hour * 60 + local.minute) * 60 + local.second) * _SECOND + local.microsecond
        )
    else:
        midnight = _resolve(day, 0, tz)
    if plan.overnight:  # yesterday's overnight shift may still run
        day -= _ONE_DAY
        midnight = _resolve(day, 0, tz)
    if end is not None:
        limit = _local_date(end, tz) + 2 * _ONE_DAY  # the walk stops at ``end`` first
    else:
        limit = min(day + _SEARCH, _LAST_DAY)
    position = start
    counted = 0
    finish = None
    while True:
        if budget is not None and (
            day >= limit
            or (plan.week == 0 and (plan.last_special is None or day > plan.last_special))
        ):
            raise NoBusinessTimeError(
                plan.calendar.id,
                f"{function}: calendar {plan.calendar.id} has no business time after "
                f"{_datetime(start).isoformat()} in its data (searched to {day.isoformat()})",
            )
        if end is not None and midnight >= end:
            return counted
        # Steady: no offset change from this midnight to the end of tomorrow (where today's
        # last shift ends at the latest), so wall time is real time from ``midnight``.
        steady = calm_from <= midnight and midnight + _STEADY <= calm_until
        if not steady:
            calm_from, calm_until = _calm_around(key, midnight)
            steady = calm_from <= midnight and midnight + _STEADY <= calm_until
        if steady and position <= midnight and day != finish:
            left = None if budget is None else budget - counted
            # Worth a look when more than an average day is left, or today is closed.
            if left is None or 7 * left > plan.week or not _intervals(plan, day):
                most = min((calm_until - midnight - _STEADY) // _DAY + 1, (limit - day).days)
                if end is not None:
                    most = min(most, (end - midnight) // _DAY - 2)
                days, total = _skip(plan, day, most, left) if most > 0 else (0, 0)
                if days < most:
                    finish = day + timedelta(days=days)  # that day holds the rest: walk it
                if days:
                    counted += total
                    day += timedelta(days=days)
                    midnight += days * _DAY
                    position = midnight
                    continue
        for low, high in _shifts(plan, day, midnight, steady):
            low = max(low, position)
            if end is not None:
                high = min(high, end)
            if low >= high:
                continue
            if budget is not None and high - low >= budget - counted:
                return low + budget - counted
            counted += high - low
            position = high
        day += _ONE_DAY
        midnight = midnight + _DAY if steady else _resolve(day, 0, tz)


# -- the verbs -----------------------------------------------------------------------------------


def add(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant ``duration`` of business time after ``start`` (SL3), in UTC.

    A start outside business hours counts from the next opening; a duration that exactly fills
    the business time up to a closing ends at that closing, not at the next opening. A zero
    duration returns ``start`` (in UTC).

    Raises:
        NaiveDatetimeError: ``start`` has no time zone.
        InvalidModelError: ``duration`` is negative or not a ``timedelta``.
        NoBusinessTimeError: No business time is left within :data:`SEARCH_YEARS`.
    """
    plan = _calendar(calendar, "add")
    moment = _instant(start, "add", "start")
    if not isinstance(duration, timedelta):
        raise InvalidModelError(
            "add", "duration", f"expected a timedelta, got {type(duration).__name__}"
        )
    if duration < timedelta(0):
        raise InvalidModelError("add", "duration", f"{duration} is negative")
    if not duration:
        return _datetime(moment)
    return _datetime(_walk(plan, moment, duration // _US, None, "add"))


def elapsed(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time between ``start`` and ``end`` (SL3), in real elapsed time.

    Negative when ``end`` is before ``start``: ``elapsed(c, a, b) == -elapsed(c, b, a)``.

    Raises:
        NaiveDatetimeError: ``start`` or ``end`` has no time zone.
    """
    plan = _calendar(calendar, "elapsed")
    low = _instant(start, "elapsed", "start")
    high = _instant(end, "elapsed", "end")
    if high < low:
        return -timedelta(microseconds=_walk(plan, high, None, low, "elapsed"))
    return timedelta(microseconds=_walk(plan, low, None, high, "elapsed"))


def next_open(calendar: BusinessCalendar, moment: datetime) -> datetime:
    """The first instant at or after ``moment`` that is business time (SL3), in UTC.

    Raises:
        NaiveDatetimeError: ``moment`` has no time zone.
        NoBusinessTimeError: No business time is left within :data:`SEARCH_YEARS`.
    """
    plan = _calendar(calendar, "next_open")
    return _datetime(_walk(plan, _instant(moment, "next_open", "moment"), 0, None, "next_open"))


def business_intervals(
    calendar: BusinessCalendar, start: datetime, end: datetime
) -> tuple[tuple[datetime, datetime], ...]:
    """The business time inside ``[start, end)`` as ``(open, close)`` UTC pairs (SL7's "why").

    Touching intervals are joined (a 24/7 calendar is one interval). The sum of the lengths is
    ``elapsed(calendar, start, end)``. The walk is day by day: meant for explanations of
    spans of days or weeks, not years.

    Raises:
        NaiveDatetimeError: ``start`` or ``end`` has no time zone.
    """
    plan = _calendar(calendar, "business_intervals")
    low = _instant(start, "business_intervals", "start")
    high = _instant(end, "business_intervals", "end")
    found: list[tuple[int, int]] = []
    day = _local_date(low, plan.tz) - _ONE_DAY
    while low < high and (midnight := _resolve(day, 0, plan.tz)) < high:
        for a, b in _shifts(plan, day, midnight, steady=False):
            a, b = max(a, low), min(b, high)
            if a >= b:
                continue
            if found and found[-1][1] == a:
                found[-1] = (found[-1][0], b)
            else:
                found.append((a, b))
        day += _ONE_DAY
    return tuple((_datetime(a), _datetime(b)) for a, b in found)
