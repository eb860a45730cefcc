"""The service-level settings document (SL1, SL2, SL6; P6): JSON in, domain settings out.

:class:`SlaSettingsDocument` is what a host stores and an admin edits: the business calendars,
the default calendar, and the ordered policies with their conditions and targets.
:func:`parse_sla_settings` parses it into the domain's :class:`~deskcore.models.SlaSettings`.

The format, and the choices behind it:

- **Durations are whole minutes**, as JSON integers: ``within_minutes`` and
  ``warn_before_minutes`` (``300`` is five business hours). Not ISO 8601 durations: an integer
  is unambiguous (no months, no ``PT1.5H`` versus ``PT90M``) and needs no parser. A target runs
  from 1 minute to :data:`MAX_TARGET_MINUTES` (ten years of business time, the domain's
  :data:`~deskcore.models.sla.MAX_TARGET`). ``warn_fraction`` is a JSON number strictly
  between 0 and 1.
- **Wall times are ``"HH:MM"`` strings**, 24-hour clock, two digits each: a start runs from
  ``"00:00"`` to ``"23:59"``, an end from ``"00:00"`` to ``"24:00"`` (``"24:00"``, or
  ``"00:00"`` as an end, is midnight at the end of the day). An interval is a pair
  ``["09:00", "18:00"]``; an end before its start is an overnight shift, which belongs to the
  day it starts (see :mod:`deskcore.models.calendar`).
- **The weekly schedule is keyed by lowercase weekday names**, ``"monday"`` to ``"sunday"``;
  a weekday not given (or given ``[]``) is closed.
- **Dates are ``"YYYY-MM-DD"``** local dates of the calendar's zone: ``holidays`` is a list of
  them, ``exceptions`` maps one to the intervals that replace the day's (``[]`` closes the day;
  an exception wins over a holiday on the same date).

Example::

    {
      "calendars": [
        {"id": "tokyo", "timezone": "Asia/Tokyo",
         "weekly": {"monday": [["09:00", "12:00"], ["13:00", "18:00"]]},
         "holidays": ["2026-11-03"],
         "exceptions": {"2026-12-28": [["09:00", "12:00"]]}}
      ],
      "default_calendar_id": "tokyo",
      "policies": [
        {"id": "urgent", "name": "Urgent",
         "conditions": {"priorities": ["high"], "channels": ["email", "chat"]},
         "first_response": {"within_minutes": 60, "warn_before_minutes": 15},
         "resolution": {"within_minutes": 480, "warn_fraction": 0.25}}
      ]
    }

The document is strict: unknown fields, wrong JSON types (``"300"`` or ``true`` for minutes),
unknown weekdays, malformed times and dates, unknown time zones and repeated list entries are
:class:`pydantic.ValidationError`\\ s, located at the offending field. So is whatever the domain
refuses (overlapping intervals, a calendar with no business time, a warning not shorter than
its target, a policy without a target, repeated ids, a policy naming a calendar that is not in
the document): the error carries the domain's message, located at the calendar, target, policy
or document that holds the problem. Whatever parses converts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from deskcore.errors import InvalidModelError
from deskcore.models.calendar import BusinessCalendar, Interval
from deskcore.models.enums import Channel
from deskcore.models.schedule import zone
from deskcore.models.sla import MAX_TARGET, SlaConditions, SlaPolicy, SlaSettings, SlaTarget
from deskcore.wire._types import Code, FromList, Identifier, PriorityField, WireModel
from deskcore.wire.kbsync import LocalDate, ZoneKey

__all__ = [
    "MAX_CALENDARS",
    "MAX_DATES",
    "MAX_INTERVALS_PER_DAY",
    "MAX_POLICIES",
    "MAX_TARGET_MINUTES",
    "BusinessCalendarPayload",
    "SlaConditionsPayload",
    "SlaPolicyPayload",
    "SlaSettingsDocument",
    "SlaTargetPayload",
    "WeeklyPayload",
    "parse_sla_settings",
]

MAX_TARGET_MINUTES = int(MAX_TARGET / timedelta(minutes=1))
"""Longest target or warning, in minutes: ten years (the domain's ``MAX_TARGET``)."""

MAX_CALENDARS = 100
"""Most calendars one settings document may hold."""

MAX_POLICIES = 1000
"""Most policies one settings document may hold."""

MAX_DATES = 10_000
"""Most holidays, and most exceptions, of one calendar (about 27 years of daily entries)."""

MAX_INTERVALS_PER_DAY = 100
"""Most intervals of one weekday or exception."""

_MAX_CHANNELS = 100
_MAX_DEPARTMENTS = 1000
_MAX_MANAGERS = 100
_MAX_POLICY_NAME = 200  # the domain's limit for SlaPolicy.name

_MINUTE = timedelta(minutes=1)
_HH_MM = r"([01][0-9]|2[0-3]):[0-5][0-9]"
_START = re.compile(_HH_MM)
_END = re.compile(rf"{_HH_MM}|24:00")

_H = TypeVar("_H", bound=Hashable)


def _refusal(error: InvalidModelError) -> ValueError:
    # A domain refusal becomes a validation error with the domain's own message.
    return ValueError(error.message)


# -- field types ----------------------------------------------------------------------------------


def _check_start(value: str) -> str:
    if not _START.fullmatch(value):
        raise PydanticCustomError(
            "time_format", "Input should be a start time from 00:00 to 23:59, as HH:MM"
        )
    return value


def _check_end(value: str) -> str:
    if not _END.fullmatch(value):
        raise PydanticCustomError(
            "time_format",
            "Input should be an end time from 00:00 to 24:00, as HH:MM (24:00 is midnight)",
        )
    return value


StartTime = Annotated[
    str,
    AfterValidator(_check_start),
    WithJsonSchema({"type": "string", "pattern": f"^{_HH_MM}$"}),
]
"""The start of an interval: ``"HH:MM"`` from ``"00:00"`` to ``"23:59"``."""

EndTime = Annotated[
    str,
    AfterValidator(_check_end),
    WithJsonSchema({"type": "string", "pattern": f"^({_HH_MM}|24:00)$"}),
]
"""The end of an interval: ``"HH:MM"`` from ``"00:00"`` to ``"24:00"`` (both midnight)."""

IntervalPair = Annotated[tuple[StartTime, EndTime], FromList]
"""``[start, end]``; an end before the start crosses midnight (an overnight shift)."""

Day = Annotated[tuple[IntervalPair, ...], FromList, Field(max_length=MAX_INTERVALS_PER_DAY)]
"""The intervals of one day; empty for a closed day."""

Minutes = Annotated[int, Field(ge=1, le=MAX_TARGET_MINUTES)]
"""A duration of business time in whole minutes: 1 to 5,270,400 (ten years)."""


def _unique(what: str) -> Callable[[tuple[_H, ...]], tuple[_H, ...]]:
    def check(values: tuple[_H, ...]) -> tuple[_H, ...]:
        seen: set[_H] = set()
        for value in values:
            if value in seen:
                raise PydanticCustomError(
                    "duplicate",
                    "{what} {value} is listed twice",
                    {"what": what, "value": str(value)},
                )
            seen.add(value)
        return values

    return check


def _known_zone(value: str) -> str:
    try:
        zone(value)
    except InvalidModelError as error:
        # The message without the domain's "Schedule.timezone: " prefix, a model not in play.
        reason = error.message.removeprefix(f"{error.model}.{error.field}: ")
        raise PydanticCustomError("time_zone", "{reason}", {"reason": reason}) from None
    return value


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _pair(interval: Interval) -> list[str]:
    start, end = interval
    return [_clock(start), _clock(end)]  # end 1440 is "24:00"


def _day(intervals: Sequence[IntervalPair]) -> list[tuple[str, str]]:
    return [(start, end) for start, end in intervals]


def _minutes(delta: timedelta, model: str, field: str) -> int:
    if delta % _MINUTE:
        raise InvalidModelError(
            model,
            field,
            f"{delta} is not a whole number of minutes; the settings document counts minutes",
        )
    return delta // _MINUTE


# -- calendars ------------------------------------------------------------------------------------


class WeeklyPayload(WireModel):
    """A week of business hours (SL2): each weekday's intervals; a weekday left out is closed."""

    monday: Day = ()
    """Monday's intervals, e.g. ``[["09:00", "12:00"], ["13:00", "18:00"]]``."""
    tuesday: Day = ()
    """Tuesday's intervals."""
    wednesday: Day = ()
    """Wednesday's intervals."""
    thursday: Day = ()
    """Thursday's intervals."""
    friday: Day = ()
    """Friday's intervals."""
    saturday: Day = ()
    """Saturday's intervals."""
    sunday: Day = ()
    """Sunday's intervals."""

    def days(self) -> dict[int, list[tuple[str, str]]]:
        """The intervals by weekday number (``0`` = Monday)."""
        week = (
            self.monday,
            self.tuesday,
            self.wednesday,
            self.thursday,
            self.friday,
            self.saturday,
            self.sunday,
        )
        return {index: _day(intervals) for index, intervals in enumerate(week)}


class BusinessCalendarPayload(WireModel):
    """A business calendar (SL2): when the desk is open, in an IANA time zone."""

    id: Identifier
    """The calendar's id; policies name it in ``calendar_id``."""
    timezone: Annotated[ZoneKey, AfterValidator(_known_zone)]
    """The IANA time zone of the wall times and dates (``Asia/Tokyo``)."""
    weekly: WeeklyPayload = WeeklyPayload()
    """The weekly schedule, keyed by lowercase weekday name."""
    holidays: Annotated[
        tuple[LocalDate, ...],
        FromList,
        Field(max_length=MAX_DATES),
        AfterValidator(_unique("holiday")),
    ] = ()
    """Local dates (``YYYY-MM-DD``) on which no shift starts."""
    exceptions: Annotated[dict[LocalDate, Day], Field(max_length=MAX_DATES)] = Field(
        default_factory=dict
    )
    """Local dates with their own intervals, replacing the weekday's and a holiday's; ``[]``
    closes the day."""

    @model_validator(mode="after")
    def _valid_calendar(self) -> BusinessCalendarPayload:
        try:
            self.to_domain()
        except InvalidModelError as error:
            raise _refusal(error) from None
        return self

    def to_domain(self) -> BusinessCalendar:
        """The domain calendar."""
        return BusinessCalendar(
            id=self.id,
            timezone=self.timezone,
            weekly=self.weekly.days(),
            holidays=frozenset(self.holidays),
            exceptions={day: _day(intervals) for day, intervals in self.exceptions.items()},
        )

    @classmethod
    def from_domain(cls, calendar: BusinessCalendar) -> BusinessCalendarPayload:
        """The payload of ``calendar``; ``to_domain`` gives it back unchanged."""
        return cls.model_validate(_calendar_data(calendar))


_WEEKDAY_NAMES = tuple(WeeklyPayload.model_fields)


def _calendar_data(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "id": calendar.id,
        "timezone": calendar.timezone,
        "weekly": {
            name: [_pair(i) for i in calendar.weekly[index]]
            for index, name in enumerate(_WEEKDAY_NAMES)
        },
        "holidays": [day.isoformat() for day in sorted(calendar.holidays)],
        "exceptions": {
            day.isoformat(): [_pair(i) for i in intervals]
            for day, intervals in calendar.exceptions.items()
        },
    }


# -- policies -------------------------------------------------------------------------------------


class SlaTargetPayload(WireModel):
    """One target (SL1, SL6): business minutes allowed, and an optional warning."""

    within_minutes: Minutes
    """The business time allowed, in whole minutes (``300``: five business hours)."""
    warn_before_minutes: Minutes | None = None
    """Warn this many business minutes before the deadline; shorter than the target."""
    warn_fraction: Annotated[float, Field(gt=0, lt=1)] | None = None
    """Or warn when this fraction of the target is left (``0.25``: a quarter). At most one of
    ``warn_before_minutes`` and ``warn_fraction``; neither means no warning."""

    @model_validator(mode="after")
    def _valid_target(self) -> SlaTargetPayload:
        try:
            self.to_domain()
        except InvalidModelError as error:
            raise _refusal(error) from None
        return self

    def to_domain(self) -> SlaTarget:
        """The domain target."""
        warn = self.warn_before_minutes
        return SlaTarget(
            within=self.within_minutes * _MINUTE,
            warn_before=None if warn is None else warn * _MINUTE,
            warn_fraction=self.warn_fraction,
        )


def _target_data(target: SlaTarget | None) -> dict[str, Any] | None:
    if target is None:
        return None
    warn = target.warn_before
    return {
        "within_minutes": _minutes(target.within, "SlaTarget", "within"),
        "warn_before_minutes": None if warn is None else _minutes(warn, "SlaTarget", "warn_before"),
        "warn_fraction": target.warn_fraction,
    }


class SlaConditionsPayload(WireModel):
    """When a policy applies (SL1): every condition given must hold; an empty list places no
    condition, so ``{}`` matches every ticket."""

    priorities: Annotated[
        tuple[PriorityField, ...],
        FromList,
        Field(max_length=3),
        AfterValidator(_unique("priority")),
    ] = ()
    """The ticket's priority is one of these: ``high``, ``medium``, ``low``."""
    channels: Annotated[
        tuple[Code, ...],
        FromList,
        Field(max_length=_MAX_CHANNELS),
        AfterValidator(_unique("channel")),
    ] = ()
    """The ticket's channel is one of these codes (``email``, ``chat``, ``web``, ...)."""
    department_ids: Annotated[
        tuple[Identifier, ...],
        FromList,
        Field(max_length=_MAX_DEPARTMENTS),
        AfterValidator(_unique("department")),
    ] = ()
    """The ticket's department is one of these."""

    def to_domain(self) -> SlaConditions:
        """The domain conditions."""
        return SlaConditions(
            priorities=frozenset(self.priorities),
            channels=frozenset(Channel(code) for code in self.channels),
            department_ids=frozenset(self.department_ids),
        )


class SlaPolicyPayload(WireModel):
    """A service-level policy (SL1): targets for the tickets its conditions match."""

    id: Identifier
    """The policy's id."""
    name: Annotated[str, StringConstraints(max_length=_MAX_POLICY_NAME)] = ""
    """A name for people, at most 200 characters."""
    conditions: SlaConditionsPayload = SlaConditionsPayload()
    """Which tickets it applies to; all of them when absent."""
    first_response: SlaTargetPayload | None = None
    """The first-response target."""
    next_response: SlaTargetPayload | None = None
    """The next-response target."""
    resolution: SlaTargetPayload | None = None
    """The resolution target. At least one of the three is set."""
    calendar_id: Identifier | None = None
    """The calendar its times count in; the document's ``default_calendar_id`` when absent."""
    managers: Annotated[
        tuple[Identifier, ...],
        FromList,
        Field(max_length=_MAX_MANAGERS),
        AfterValidator(_unique("manager")),
    ] = ()
    """Who hears of warnings and breaches besides the ticket's assignee (SL6)."""

    @model_validator(mode="after")
    def _valid_policy(self) -> SlaPolicyPayload:
        try:
            self.to_domain()
        except InvalidModelError as error:
            raise _refusal(error) from None
        return self

    def to_domain(self) -> SlaPolicy:
        """The domain policy."""
        return SlaPolicy(
            id=self.id,
            name=self.name,
            conditions=self.conditions.to_domain(),
            first_response=_target(self.first_response),
            next_response=_target(self.next_response),
            resolution=_target(self.resolution),
            calendar_id=self.calendar_id,
            managers=self.managers,
        )


def _target(payload: SlaTargetPayload | None) -> SlaTarget | None:
    return None if payload is None else payload.to_domain()


def _policy_data(policy: SlaPolicy) -> dict[str, Any]:
    conditions = policy.conditions
    return {
        "id": policy.id,
        "name": policy.name,
        "conditions": {
            "priorities": sorted(p.value for p in conditions.priorities),
            "channels": sorted(c.code for c in conditions.channels),
            "department_ids": sorted(conditions.department_ids),
        },
        "first_response": _target_data(policy.first_response),
        "next_response": _target_data(policy.next_response),
        "resolution": _target_data(policy.resolution),
        "calendar_id": policy.calendar_id,
        "managers": list(policy.managers),
    }


# -- the document ---------------------------------------------------------------------------------


class SlaSettingsDocument(WireModel):
    """A desk's service-level settings, as a host stores them or an admin edits them."""

    schema_version: Literal[1] = 1
    """The version of this document format."""
    calendars: Annotated[
        tuple[BusinessCalendarPayload, ...],
        FromList,
        Field(max_length=MAX_CALENDARS),
    ]
    """The business calendars, ids unique (SL2); ``default_calendar_id`` is one of them."""
    default_calendar_id: Identifier
    """The calendar of policies that name none; one of ``calendars``."""
    policies: Annotated[tuple[SlaPolicyPayload, ...], FromList, Field(max_length=MAX_POLICIES)] = ()
    """The policies, in order: the first whose conditions match a ticket applies (SL1)."""

    @model_validator(mode="after")
    def _valid_settings(self) -> SlaSettingsDocument:
        try:
            self.to_settings()
        except InvalidModelError as error:
            raise _refusal(error) from None
        return self

    def to_settings(self) -> SlaSettings:
        """The domain settings, for ``Desk(service_levels=...)``."""
        return SlaSettings(
            calendars=tuple(c.to_domain() for c in self.calendars),
            default_calendar_id=self.default_calendar_id,
            policies=tuple(p.to_domain() for p in self.policies),
        )

    @classmethod
    def from_domain(cls, settings: SlaSettings) -> SlaSettingsDocument:
        """The document of ``settings``, ready to store (``model_dump_json``);
        ``to_settings`` gives them back unchanged.

        Raises:
            InvalidModelError: A target or warning is not a whole number of minutes, which
                the document cannot express.
            pydantic.ValidationError: The settings exceed a limit of the document
                (:data:`MAX_CALENDARS`, :data:`MAX_POLICIES`, :data:`MAX_DATES`,
                :data:`MAX_INTERVALS_PER_DAY`).
        """
        return cls.model_validate(
            {
                "calendars": [_calendar_data(c) for c in settings.calendars],
                "default_calendar_id": settings.default_calendar_id,
                "policies": [_policy_data(p) for p in settings.policies],
            }
        )


def parse_sla_settings(
    data: bytes | bytearray | str | Mapping[str, Any],
) -> SlaSettingsDocument:
    """Parse the service-level settings document at the edge (P6); ``.to_settings()`` gives
    the domain settings.

    ``data`` is JSON text (bytes or str) or an already decoded mapping
    (``json.loads``); both validate alike.

    Raises:
        pydantic.ValidationError: The document is malformed, has unknown fields or wrong JSON
            types, or holds settings the domain refuses (overlapping intervals, a calendar with
            no business time, a warning not shorter than its target, repeated ids, a policy
            naming an unknown calendar).
    """
    if isinstance(data, bytes | bytearray | str):
        return SlaSettingsDocument.model_validate_json(data)
    document = dict(data) if isinstance(data, Mapping) else data
    return SlaSettingsDocument.model_validate(document)
