"""Business calendars: when the desk is open (SL2).

A :class:`BusinessCalendar` is a weekly schedule of wall-clock intervals in an IANA time zone,
with holidays and exceptional days keyed by the local date. Intervals are kept as
``(start, end)`` minutes since local midnight:

- ``0 <= start < 1440`` and ``0 < end <= 1440``; ``end == 1440`` is a true 24:00, so a 24/7
  calendar has no gap at midnight.
- ``end < start`` is a shift that crosses midnight (an overnight shift). **A shift belongs to
  the day it starts**: it is counted, blanked by a holiday or replaced by an exception with the
  date it starts on. A holiday on the second day of an overnight shift does not shorten it.
- An exception replaces the weekday's intervals for its date (an empty tuple closes the day; a
  Saturday entry adds an extra working day) and wins over a holiday on the same date.

Intervals of one day, together with the part of the previous day's overnight shift that spills
into it, must not overlap. A calendar without any business time raises at construction, so
arithmetic never loops looking for an opening. The arithmetic lives in
:mod:`deskcore.policies.calendar`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._frozen import FrozenMap
from deskcore.models._validate import identifier
from deskcore.models.schedule import zone

__all__ = ["DAY_MINUTES", "BusinessCalendar", "Interval"]

DAY_MINUTES = 1440
Interval = tuple[int, int]
"""``(start, end)`` in minutes since local midnight; ``end < start`` crosses midnight."""

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MODEL = "BusinessCalendar"


def _minute(value: object, field: str, *, end: bool) -> int:
    """A bound as minutes since midnight: a ``time``, ``"HH:MM"`` (``"24:00"`` for an end)."""
    if isinstance(value, str):
        if end and value == "24:00":
            return DAY_MINUTES
        try:
            value = time.fromisoformat(value)
        except ValueError:
            raise InvalidModelError(_MODEL, field, f"{value!r} is not a HH:MM time") from None
    if not isinstance(value, time):
        raise InvalidModelError(
            _MODEL, field, f"expected a time or 'HH:MM', got {type(value).__name__}"
        )
    if value.tzinfo is not None:
        raise InvalidModelError(_MODEL, field, f"{value} carries a time zone; give a wall time")
    if value.second or value.microsecond:
        raise InvalidModelError(_MODEL, field, f"{value} is not a whole minute")
    return value.hour * 60 + value.minute


def _interval(value: object, field: str) -> Interval:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise InvalidModelError(_MODEL, field, f"expected a (start, end) pair, got {value!r}")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        start, end = int(value[0]), int(value[1])
    else:
        start, end = _minute(value[0], field, end=False), _minute(value[1], field, end=True)
    if not (0 <= start < DAY_MINUTES and 0 <= end <= DAY_MINUTES):
        raise InvalidModelError(_MODEL, field, f"({start}, {end}) is outside 0..1440 minutes")
    if end == 0:
        end = DAY_MINUTES  # "until midnight" is 24:00
    if start == end:
        raise InvalidModelError(_MODEL, field, f"empty interval ({start}, {end})")
    return (start, end)


def _day(value: object, field: str) -> tuple[Interval, ...]:
    if not isinstance(value, Iterable) or isinstance(value, str | bytes):
        raise InvalidModelError(_MODEL, field, f"expected intervals, got {type(value).__name__}")
    return tuple(sorted(_interval(item, field) for item in value))


def _weekday(key: object) -> int:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:
        return key
    if isinstance(key, str):
        for index, name in enumerate(_WEEKDAYS):
            if key.lower() in (name, name[:3]):
                return index
    raise InvalidModelError(_MODEL, "weekly", f"{key!r} is not a weekday (0=Monday .. 6=Sunday)")


def _local_date(value: object, field: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidModelError(_MODEL, field, f"expected a date, got {type(value).__name__}")
    return value


def _to_weekly(value: object) -> FrozenMap[int, tuple[Interval, ...]]:
    if not isinstance(value, Mapping):
        raise InvalidModelError(_MODEL, "weekly", f"expected a mapping, got {type(value).__name__}")
    days: dict[int, tuple[Interval, ...]] = dict.fromkeys(range(7), ())
    for key, intervals in value.items():
        days[_weekday(key)] = _day(intervals, "weekly")
    return FrozenMap(days)


def _to_holidays(value: object) -> frozenset[date]:
    if not isinstance(value, Iterable) or isinstance(value, str | bytes):
        raise InvalidModelError(_MODEL, "holidays", "expected a set of dates")
    return frozenset(_local_date(day, "holidays") for day in value)


def _to_exceptions(value: object) -> FrozenMap[date, tuple[Interval, ...]]:
    if not isinstance(value, Mapping):
        raise InvalidModelError(
            _MODEL, "exceptions", f"expected a mapping, got {type(value).__name__}"
        )
    items = {_local_date(k, "exceptions"): _day(v, "exceptions") for k, v in value.items()}
    return FrozenMap(dict(sorted(items.items())))


def _timezone(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidModelError(_MODEL, attribute.name, "expected an IANA key")
    zone(value)


def _pieces(own: tuple[Interval, ...], before: tuple[Interval, ...]) -> list[Interval]:
    """A day's wall intervals: its own (cut at 24:00), then the spill of the day before."""
    pieces = [(s, e if e > s else DAY_MINUTES) for s, e in own]
    pieces.extend((0, e) for s, e in before if e < s)
    return sorted(pieces)


def _check_overlaps(pieces: list[Interval], where: str, field: str) -> None:
    for (s1, e1), (s2, e2) in pairwise(pieces):
        if s2 < e1:
            raise InvalidModelError(
                _MODEL, field, f"intervals {s1}-{e1} and {s2}-{e2} overlap on {where}"
            )


@attrs.frozen(kw_only=True, cache_hash=True)  # hashed on every call (a cache key)
class BusinessCalendar:
    """When business time runs (SL2).

    Attributes:
        id: The calendar's id.
        timezone: IANA key of the zone the wall times are in.
        weekly: Weekday (``0`` = Monday .. ``6`` = Sunday, or a name such as ``"mon"``) to
            intervals. Each interval is ``(start, end)`` given as ``time`` values, ``"HH:MM"``
            strings (``"24:00"`` ends at midnight) or minutes since midnight; they are kept
            as minutes. Missing weekdays are closed.
        holidays: Local dates on which no shift starts.
        exceptions: Local dates with their own intervals, replacing the weekday's (and a
            holiday's): a short day, an extra working Saturday.
    """

    id: str = attrs.field(validator=identifier)
    timezone: str = attrs.field(validator=_timezone)
    weekly: FrozenMap[int, tuple[Interval, ...]] = attrs.field(converter=_to_weekly)
    holidays: frozenset[date] = attrs.field(factory=frozenset, converter=_to_holidays)
    exceptions: FrozenMap[date, tuple[Interval, ...]] = attrs.field(
        factory=FrozenMap, converter=_to_exceptions
    )

    def __attrs_post_init__(self) -> None:
        for day in range(7):
            pieces = _pieces(self.weekly[day], self.weekly[(day - 1) % 7])
            _check_overlaps(pieces, _WEEKDAYS[day], "weekly")
        one = timedelta(days=1)
        for special in self.exceptions:
            for local in (special, special + one):
                pieces = _pieces(self.intervals_on(local), self.intervals_on(local - one))
                _check_overlaps(pieces, local.isoformat(), "exceptions")
        if not any(self.weekly.values()) and not any(self.exceptions.values()):
            raise InvalidModelError(
                _MODEL, "weekly", "the calendar has no business time at all (SL2)"
            )

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The intervals of the shifts that start on local date ``day``."""
        special = self.exceptions.get(day)
        if special is not None:
            return special
        if day in self.holidays:
            return ()
        return self.weekly[day.weekday()]
