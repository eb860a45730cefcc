"""Knowledge-base sync schedules and their occurrences (KB5, KB6).

A :class:`Schedule` says *when* a sync runs, in the words of the person who set it up: daily,
weekly or monthly, at a wall-clock time in an IANA time zone, anchored on the local date of the
first sync. An :class:`Occurrence` is one scheduled run: a local date, the instant it happens
(always in UTC), and a stable key that a host records so that it never runs the same occurrence
twice. The arithmetic lives in :mod:`deskcore.policies.schedule`.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from deskcore.errors import InvalidModelError, NaiveDatetimeError
from deskcore.models._validate import aware, identifier, is_aware, lenient, member

__all__ = [
    "DEFAULT_RUN_TIME",
    "Frequency",
    "Occurrence",
    "Schedule",
    "zone",
]

DEFAULT_RUN_TIME = time(3, 0)
"""Early in the morning, in the schedule's time zone (KB5)."""

MIN_ANCHOR_YEAR = 1900
MAX_ANCHOR_YEAR = 9000  # leaves room for date arithmetic before ``date.max``
_MAX_ZONE_KEY = 255
# Keys that name a file in the time-zone database but depend on the host, not on IANA.
_HOST_ZONE_KEYS = frozenset({"localtime", "posixrules", "Factory"})


class Frequency(enum.StrEnum):
    """How often a schedule runs (KB5)."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def zone(key: str) -> ZoneInfo:
    """Return the IANA time zone ``key``, or raise :class:`InvalidModelError`.

    The one place that reads the time-zone database (``zoneinfo`` caches each zone, so repeated
    lookups are cheap).
    """
    if (
        not isinstance(key, str)
        or not key
        or len(key) > _MAX_ZONE_KEY
        or key in _HOST_ZONE_KEYS
        or not key.isprintable()
    ):
        raise InvalidModelError("Schedule", "timezone", f"{key!r} is not an IANA time zone")
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, LookupError, OSError, TypeError):
        raise InvalidModelError(
            "Schedule", "timezone", f"unknown time zone {key!r}; give an IANA key"
        ) from None


def _timezone(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidModelError(
            "Schedule", attribute.name, f"expected an IANA key, got {type(value).__name__}"
        )
    zone(value)


def _local_date(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # A datetime is a date too; a local date is a calendar day, not an instant.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidModelError(
            type(instance).__name__,
            attribute.name,
            f"expected a date, got {type(value).__name__}",
        )


def _anchor(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _local_date(instance, attribute, value)
    day = cast(date, value)
    model = type(instance).__name__
    if not MIN_ANCHOR_YEAR <= day.year <= MAX_ANCHOR_YEAR:
        raise InvalidModelError(
            model,
            attribute.name,
            f"{day.isoformat()} is outside the years {MIN_ANCHOR_YEAR}-{MAX_ANCHOR_YEAR}",
        )


def _to_frequency(value: Frequency | str) -> Frequency:
    return lenient(Frequency, value)


def _to_wall_time(value: time) -> time:
    # ``fold`` only means something next to a date and a zone; the policy picks the first
    # instant of an ambiguous wall time itself (KB5).
    if isinstance(value, time) and value.tzinfo is None and value.fold:
        return value.replace(fold=0)
    return value


def _wall_time(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, time):
        raise InvalidModelError(
            "Schedule", attribute.name, f"expected a time, got {type(value).__name__}"
        )
    if value.tzinfo is not None:
        raise InvalidModelError(
            "Schedule",
            attribute.name,
            f"{value.isoformat()} carries a time zone; give a wall time and set `timezone`",
        )


@attrs.frozen(kw_only=True)
class Schedule:
    """When the knowledge-base sync runs (KB5).

    Occurrences fall on local dates on or after ``anchor``: every date (daily), the anchor's
    weekday (weekly), or the anchor's day of the month, clamped to the last day of shorter
    months (monthly).

    Attributes:
        id: The schedule's id; it prefixes every occurrence key.
        frequency: Daily, weekly or monthly (the string codes are accepted).
        anchor: Local date of the first sync, in ``timezone``.
        run_time: Naive local wall time of each run (default 03:00).
        timezone: IANA key of the time zone the schedule lives in.
    """

    id: str = attrs.field(validator=identifier)
    frequency: Frequency = attrs.field(converter=_to_frequency, validator=member(Frequency))
    anchor: date = attrs.field(validator=_anchor)
    run_time: time = attrs.field(
        default=DEFAULT_RUN_TIME, converter=_to_wall_time, validator=_wall_time
    )
    timezone: str = attrs.field(validator=_timezone)

    @classmethod
    def anchored(
        cls,
        *,
        id: str,
        frequency: Frequency | str,
        first_sync: datetime,
        timezone: str,
        run_time: time = DEFAULT_RUN_TIME,
    ) -> Schedule:
        """Build a schedule anchored on the local date (in ``timezone``) of ``first_sync``."""
        if not isinstance(first_sync, datetime):
            raise InvalidModelError(
                "Schedule", "first_sync", f"expected a datetime, got {type(first_sync).__name__}"
            )
        if not is_aware(first_sync):
            raise NaiveDatetimeError(
                "Schedule",
                "first_sync",
                f"naive datetime {first_sync.isoformat()}; give it a time zone (T1)",
            )
        anchor = first_sync.astimezone(zone(timezone)).date()
        return cls(id=id, frequency=frequency, anchor=anchor, run_time=run_time, timezone=timezone)

    @property
    def tz(self) -> ZoneInfo:
        """The schedule's time zone."""
        return zone(self.timezone)


def _to_utc(value: datetime) -> datetime:
    if isinstance(value, datetime) and is_aware(value):
        return value.astimezone(UTC)
    return value


@attrs.frozen(kw_only=True)
class Occurrence:
    """One scheduled run of a schedule (KB5).

    Attributes:
        schedule_id: The schedule it belongs to.
        local_date: The local date it runs for, in the schedule's time zone.
        at: The instant it runs, in UTC. A run time that does not exist that day (a
            daylight-saving gap) runs at the first valid instant after it; one that exists
            twice runs at the first.
    """

    schedule_id: str = attrs.field(validator=identifier)
    local_date: date = attrs.field(validator=_local_date)
    at: datetime = attrs.field(converter=_to_utc, validator=aware)

    @property
    def key(self) -> str:
        """Stable key of the run: ``"<schedule id>@<local date>"``, e.g. ``"kb@2026-03-08"``."""
        return f"{self.schedule_id}@{self.local_date.isoformat()}"
