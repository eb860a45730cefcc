"""Service-level policies as data (SL1, SL6): targets, conditions, and the desk's settings.

Evaluation lives in :mod:`deskcore.policies.sla`; business time in
:mod:`deskcore.policies.calendar`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._validate import (
    id_tuple,
    identifier,
    instance_of,
    lenient,
    member,
    text,
    to_tuple,
    tuple_of,
)
from deskcore.models.calendar import BusinessCalendar
from deskcore.models.enums import Channel, Priority
from deskcore.models.ticket import Ticket

__all__ = ["MAX_TARGET", "SlaConditions", "SlaMetric", "SlaPolicy", "SlaSettings", "SlaTarget"]

MAX_TARGET = timedelta(days=3660)
"""The longest target a policy may set: ten years of business time."""

_MICROSECOND = timedelta(microseconds=1)


class SlaMetric(enum.StrEnum):
    """What a service-level target measures (SL1)."""

    FIRST_RESPONSE = "first_response"
    """From the ticket's creation to the first public agent reply (L4)."""
    NEXT_RESPONSE = "next_response"
    """From the oldest customer message not yet answered to the next public agent reply."""
    RESOLUTION = "resolution"
    """From the ticket's creation to its closing; a reopen resumes the clock (SL5)."""


def _target_duration(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, timedelta):
        raise InvalidModelError(
            "SlaTarget", attribute.name, f"expected a timedelta, got {type(value).__name__}"
        )
    if not timedelta(0) < value <= MAX_TARGET:
        raise InvalidModelError(
            "SlaTarget",
            attribute.name,
            f"{value} is not within 0 (excluded) and {MAX_TARGET.days} days",
        )


def _optional_fraction(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidModelError(
            "SlaTarget", attribute.name, f"expected a number, got {type(value).__name__}"
        )
    if not 0 < value < 1:
        raise InvalidModelError(
            "SlaTarget", attribute.name, f"{value} is not a fraction strictly between 0 and 1"
        )


@attrs.frozen(kw_only=True)
class SlaTarget:
    """One target: ``within`` of business time, with an optional warning (SL1, SL6).

    Attributes:
        within: The business time allowed, e.g. ``timedelta(hours=5)`` for "first reply within
            5 business hours".
        warn_before: Warn this much business time before the deadline.
        warn_fraction: Or warn when this fraction of ``within`` is left (``0.25``: a quarter
            of the time left). At most one of the two; neither means no warning.
    """

    within: timedelta = attrs.field(validator=_target_duration)
    warn_before: timedelta | None = attrs.field(default=None)
    warn_fraction: float | None = attrs.field(default=None, validator=_optional_fraction)

    @warn_before.validator
    def _check_warn_before(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        _target_duration(self, attribute, value)
        assert isinstance(value, timedelta)
        if value >= self.within:
            raise InvalidModelError(
                "SlaTarget",
                "warn_before",
                f"{value} is not shorter than the target {self.within}: the warning would fire "
                "before the clock starts",
            )

    def __attrs_post_init__(self) -> None:
        if self.warn_before is not None and self.warn_fraction is not None:
            raise InvalidModelError(
                "SlaTarget", "warn_fraction", "set warn_before or warn_fraction, not both"
            )

    @property
    def warn_after(self) -> timedelta | None:
        """The business time counted when the warning fires, or ``None`` without one.

        ``within - warn_before``, or ``within × (1 - warn_fraction)`` rounded to the
        microsecond (at least one).
        """
        if self.warn_before is not None:
            return self.within - self.warn_before
        if self.warn_fraction is None:
            return None
        used = round((self.within // _MICROSECOND) * (1 - self.warn_fraction))
        return max(used, 1) * _MICROSECOND


def _to_frozenset(value: object) -> object:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return value  # one value where a list was meant: the validator says so
    return frozenset(value)


def _to_priorities(value: object) -> object:
    converted = _to_frozenset(value)
    if isinstance(converted, frozenset):
        return frozenset(lenient(Priority, item) for item in converted)
    return converted


def _to_channels(value: object) -> object:
    converted = _to_frozenset(value)
    if isinstance(converted, frozenset):
        return frozenset(
            item if isinstance(item, Channel) else Channel(item) if isinstance(item, str) else item
            for item in converted
        )
    return converted


def _set_of(kind: type[Any], what: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, frozenset):
            raise InvalidModelError(
                "SlaConditions",
                attribute.name,
                f"expected a set of {what}, got {type(value).__name__}",
            )
        for item in value:
            if kind is Priority:
                member(Priority)(instance, attribute, item)
            elif kind is Channel:
                instance_of(Channel)(instance, attribute, item)
            else:
                identifier(instance, attribute, item)

    return check


@attrs.frozen(kw_only=True)
class SlaConditions:
    """When a policy applies (SL1): every condition given must hold; an empty set places no
    condition, so ``SlaConditions()`` matches every ticket.

    Attributes:
        priorities: The ticket's priority is one of these.
        channels: The ticket's channel is one of these (codes or :class:`Channel`).
        department_ids: The ticket's department is one of these.
    """

    priorities: frozenset[Priority] = attrs.field(
        factory=frozenset, converter=_to_priorities, validator=_set_of(Priority, "priorities")
    )
    channels: frozenset[Channel] = attrs.field(
        factory=frozenset, converter=_to_channels, validator=_set_of(Channel, "channels")
    )
    department_ids: frozenset[str] = attrs.field(
        factory=frozenset, converter=_to_frozenset, validator=_set_of(str, "department ids")
    )

    def matches(self, ticket: Ticket) -> bool:
        """True when ``ticket`` meets every condition."""
        return (
            (not self.priorities or ticket.priority in self.priorities)
            and (not self.channels or ticket.channel in self.channels)
            and (not self.department_ids or ticket.department_id in self.department_ids)
        )


_optional_target = attrs.validators.optional(instance_of(SlaTarget))


@attrs.frozen(kw_only=True)
class SlaPolicy:
    """A service-level policy (SL1): targets for the tickets its conditions match.

    Policies are ordered data: the first one whose conditions match a ticket applies
    (:func:`deskcore.policies.sla.select_policy`).

    Attributes:
        id: The policy's id.
        name: A name for people.
        conditions: Which tickets it applies to.
        first_response: The first-response target, or ``None``.
        next_response: The next-response target, or ``None``.
        resolution: The resolution target, or ``None``. At least one target is set.
        calendar_id: The business calendar its times count in; ``None`` for the settings'
            default calendar.
        managers: Who hears of warnings and breaches besides the ticket's assignee (SL6).
    """

    id: str = attrs.field(validator=identifier)
    name: str = attrs.field(default="", validator=text(200))
    conditions: SlaConditions = attrs.field(
        factory=SlaConditions, validator=instance_of(SlaConditions)
    )
    first_response: SlaTarget | None = attrs.field(default=None, validator=_optional_target)
    next_response: SlaTarget | None = attrs.field(default=None, validator=_optional_target)
    resolution: SlaTarget | None = attrs.field(default=None, validator=_optional_target)
    calendar_id: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(identifier)
    )
    managers: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=id_tuple)

    def __attrs_post_init__(self) -> None:
        if not self.targets():
            raise InvalidModelError(
                "SlaPolicy", "first_response", f"policy {self.id} sets no target"
            )
        if len(set(self.managers)) != len(self.managers):
            raise InvalidModelError("SlaPolicy", "managers", f"policy {self.id}: a manager repeats")

    def targets(self) -> tuple[tuple[SlaMetric, SlaTarget], ...]:
        """The targets set, in metric order (first response, next response, resolution)."""
        pairs = (
            (SlaMetric.FIRST_RESPONSE, self.first_response),
            (SlaMetric.NEXT_RESPONSE, self.next_response),
            (SlaMetric.RESOLUTION, self.resolution),
        )
        return tuple((metric, target) for metric, target in pairs if target is not None)


@attrs.frozen(kw_only=True)
class SlaSettings:
    """A desk's service levels: its calendars and its ordered policies (SL1, SL2).

    Attributes:
        calendars: The business calendars, ids unique.
        default_calendar_id: The calendar of policies that name none.
        policies: The policies, in order: the first that matches a ticket applies.

    Raises:
        InvalidModelError: Ids repeat, or a policy names a calendar that is not here.
    """

    calendars: tuple[BusinessCalendar, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(BusinessCalendar)
    )
    default_calendar_id: str = attrs.field(validator=identifier)
    policies: tuple[SlaPolicy, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(SlaPolicy)
    )

    def __attrs_post_init__(self) -> None:
        calendar_ids = [c.id for c in self.calendars]
        policy_ids = [p.id for p in self.policies]
        for kind, ids in (("calendar", calendar_ids), ("policy", policy_ids)):
            twice = {i for i in ids if ids.count(i) > 1}
            if twice:
                raise InvalidModelError(
                    "SlaSettings",
                    f"{kind}s" if kind == "calendar" else "policies",
                    f"{kind} id {sorted(twice)[0]!r} appears twice",
                )
        known = set(calendar_ids)
        if self.default_calendar_id not in known:
            raise InvalidModelError(
                "SlaSettings",
                "default_calendar_id",
                f"no calendar {self.default_calendar_id!r}; known: {sorted(known)}",
            )
        for policy in self.policies:
            if policy.calendar_id is not None and policy.calendar_id not in known:
                raise InvalidModelError(
                    "SlaSettings",
                    "policies",
                    f"policy {policy.id} names calendar {policy.calendar_id!r}, which is not "
                    f"in the settings; known: {sorted(known)}",
                )

    def calendar(self, calendar_id: str | None = None) -> BusinessCalendar:
        """The calendar with ``calendar_id`` (the default one for ``None``)."""
        wanted = self.default_calendar_id if calendar_id is None else calendar_id
        for calendar in self.calendars:
            if calendar.id == wanted:
                return calendar
        raise InvalidModelError("SlaSettings", "calendars", f"no calendar {wanted!r}")

    def calendar_of(self, policy: SlaPolicy) -> BusinessCalendar:
        """The calendar ``policy`` counts in."""
        return self.calendar(policy.calendar_id)
