"""The ticket (T2) and its derived views (L3)."""

from __future__ import annotations

import copy
import math
import operator
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, TypeAlias

import attrs

from deskcore.errors import InvalidModelError, NaiveDatetimeError, NotFoundError
from deskcore.models import enums
from deskcore.models._frozen import FrozenMap
from deskcore.models._validate import (
    aware,
    fixed_offset,
    identifier,
    instance_of,
    is_aware,
    member,
    non_negative_duration,
    non_negative_int,
    optional_aware,
    optional_fixed_offset,
    optional_identifier,
    positive_int,
    text,
    tuple_of,
)
from deskcore.models.enums import Channel, Classification, Direction, Priority, TicketStatus
from deskcore.models.refs import ExternalReference
from deskcore.models.thread import Attachment, Comment, Message, ThreadItem

__all__ = ["CustomValue", "StatusRecord", "Ticket", "unchecked_copy", "with_item"]

CustomValue: TypeAlias = str | int | float | bool | None
"""A custom field value: a JSON scalar."""

_SCALARS = (str, int, float, bool, type(None))
_custom_text = text(100_000)


def _custom_fields(value: Mapping[str, CustomValue] | None) -> FrozenMap[str, CustomValue]:
    if isinstance(value, FrozenMap):
        return value
    return FrozenMap(value)


def _check_custom_fields(instance: Ticket, attribute: attrs.Attribute[Any], value: object) -> None:
    assert isinstance(value, FrozenMap)
    for key, item in value.items():
        if not isinstance(key, str) or not key or len(key) > 255 or not key.isprintable():
            raise InvalidModelError("Ticket", "custom_fields", f"bad custom field name {key!r}")
        if not isinstance(item, _SCALARS):
            raise InvalidModelError(
                "Ticket",
                "custom_fields",
                f"custom field {key!r} holds a {type(item).__name__}; use a JSON scalar",
            )
        if isinstance(item, float) and not math.isfinite(item):
            raise InvalidModelError(
                "Ticket",
                "custom_fields",
                f"custom field {key!r} holds {item}; JSON has no such number",
            )
        if isinstance(item, str):
            _custom_text(instance, attribute, item)


@attrs.frozen(kw_only=True)
class StatusRecord:
    """One status change in a ticket's history (L1, SL5, SL7).

    The SLA engine reads the history to know when the clock ran: holds pause it, closing stops
    it, reopening resumes it.

    Attributes:
        at: When the status changed.
        from_status: The status before.
        to_status: The status after.
        reason: Why (``agent``, ``reopened_by_customer``, ``chat_integration``...).
    """

    at: datetime = attrs.field(converter=fixed_offset, validator=aware)
    from_status: TicketStatus = attrs.field(
        converter=enums.to_status, validator=member(TicketStatus)
    )
    to_status: TicketStatus = attrs.field(converter=enums.to_status, validator=member(TicketStatus))
    reason: str = attrs.field(default="agent", validator=identifier)

    def __attrs_post_init__(self) -> None:
        if self.from_status is self.to_status:
            raise InvalidModelError(
                "StatusRecord", "to_status", f"{self.to_status.value} to itself is no change"
            )


@attrs.frozen(kw_only=True)
class Ticket:
    """A support ticket (問い合わせ): an immutable value (T1, T2).

    Change a ticket with the policy functions (:mod:`deskcore.policies.lifecycle`) or
    :func:`attrs.evolve`, which re-runs every validator. ``version`` is the stored version for
    optimistic concurrency: 0 for a ticket not yet stored; a repository raises it on each save.

    Invariants checked at construction:

    - ``on_hold_since`` is set exactly when the status is on hold, ``closed_at`` exactly when
      it is closed;
    - a ticket merged into another is also trashed;
    - thread item ids are unique, and the thread is ordered by creation time;
    - no external reference appears twice among the ticket's and its items' references;
    - ``status_log`` is a chain in time order (each change starts from the status the one
      before ended in) that ends in the current status, at
      ``on_hold_since`` for a ticket on hold and at ``closed_at`` for a closed one.

    ``status_log`` is the history of status changes that :func:`deskcore.policies.lifecycle.
    change_status` keeps; the SLA engine reads it (SL5, SL7). A ticket built or stored without
    one (empty) is taken to have had its status since it was created, or, on hold or closed,
    to have been open until ``on_hold_since`` or ``closed_at``.

    ``ceded_refs`` lists references of items this ticket holds as copies from a merge but no
    longer claims, because the ticket they came from was restored and took them back (M14).
    """

    id: str = attrs.field(validator=identifier)
    number: int = attrs.field(validator=positive_int)
    department_id: str = attrs.field(validator=identifier)
    subject: str = attrs.field(default="", validator=text(1000))
    status: TicketStatus = attrs.field(
        default=TicketStatus.OPEN, converter=enums.to_status, validator=member(TicketStatus)
    )
    priority: Priority = attrs.field(
        default=Priority.MEDIUM, converter=enums.to_priority, validator=member(Priority)
    )
    classification: Classification | None = attrs.field(
        default=None, validator=attrs.validators.optional(instance_of(Classification))
    )
    channel: Channel = attrs.field(validator=instance_of(Channel))
    contact_id: str = attrs.field(validator=identifier)
    account_id: str | None = attrs.field(default=None, validator=optional_identifier)
    product_name: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(text(1000))
    )
    assignee_id: str | None = attrs.field(default=None, validator=optional_identifier)
    created_at: datetime = attrs.field(converter=fixed_offset, validator=aware)
    first_responded_at: datetime | None = attrs.field(
        default=None, converter=optional_fixed_offset, validator=optional_aware
    )
    on_hold_time: timedelta = attrs.field(default=timedelta(0), validator=non_negative_duration)
    on_hold_since: datetime | None = attrs.field(
        default=None, converter=optional_fixed_offset, validator=optional_aware
    )
    closed_at: datetime | None = attrs.field(
        default=None, converter=optional_fixed_offset, validator=optional_aware
    )
    custom_fields: FrozenMap[str, CustomValue] = attrs.field(
        factory=FrozenMap, converter=_custom_fields, validator=_check_custom_fields
    )
    thread: tuple[ThreadItem, ...] = attrs.field(
        default=(), validator=tuple_of((Message, Comment, Attachment))
    )
    external_refs: tuple[ExternalReference, ...] = attrs.field(
        default=(), validator=tuple_of(ExternalReference)
    )
    ceded_refs: tuple[ExternalReference, ...] = attrs.field(
        default=(), validator=tuple_of(ExternalReference)
    )
    merged_into: str | None = attrs.field(default=None, validator=optional_identifier)
    trashed_at: datetime | None = attrs.field(
        default=None, converter=optional_fixed_offset, validator=optional_aware
    )
    status_log: tuple[StatusRecord, ...] = attrs.field(default=(), validator=tuple_of(StatusRecord))
    version: int = attrs.field(default=0, validator=non_negative_int)

    def __attrs_post_init__(self) -> None:
        def bad(field: str, reason: str) -> InvalidModelError:
            return InvalidModelError("Ticket", field, f"ticket {self.id}: {reason}")

        if (self.status is TicketStatus.ON_HOLD) != (self.on_hold_since is not None):
            raise bad("on_hold_since", "must be set exactly when the status is on_hold")
        if (self.status is TicketStatus.CLOSED) != (self.closed_at is not None):
            raise bad("closed_at", "must be set exactly when the status is closed")
        if self.merged_into is not None and self.trashed_at is None:
            raise bad("trashed_at", "a ticket merged into another must be trashed")
        if self.merged_into == self.id:
            raise bad("merged_into", "a ticket cannot be merged into itself")
        # Built-in loops: this runs on every change of a ticket, whatever its thread length.
        ids = [item.id for item in self.thread]
        if len(set(ids)) != len(ids):
            twice = next(i for i, count in Counter(ids).items() if count > 1)
            raise bad("thread", f"thread item id {twice!r} appears twice")
        times = [item.created_at for item in self.thread]
        if not all(map(operator.le, times, times[1:])):
            late = next(b for a, b in pairwise(self.thread) if b.created_at < a.created_at)
            raise bad("thread", f"thread item {late.id!r} is out of creation-time order")
        refs = self.held_references()
        if len(set(refs)) != len(refs):
            raise bad("external_refs", "an external reference appears twice")
        if self.status_log:
            self._check_status_log(bad)

    def _check_status_log(self, bad: Callable[[str, str], InvalidModelError]) -> None:
        log = self.status_log
        for before, after in pairwise(log):
            if after.at < before.at:
                raise bad("status_log", "status changes are out of time order")
            if after.from_status is not before.to_status:
                raise bad(
                    "status_log",
                    f"a change from {after.from_status.value} follows one to "
                    f"{before.to_status.value}",
                )
        last = log[-1]
        if last.to_status is not self.status:
            raise bad(
                "status_log",
                f"the last change is to {last.to_status.value}, the status is {self.status.value}",
            )
        since = self.on_hold_since or self.closed_at
        if since is not None and last.at != since:
            raise bad(
                "status_log",
                f"the last change is at {last.at.isoformat()}, the {self.status.value} status "
                f"began at {since.isoformat()}",
            )

    # -- derived views -------------------------------------------------------------------------

    @property
    def is_trashed(self) -> bool:
        """True when the ticket is in the trash (deleted, or merged into another, M6)."""
        return self.trashed_at is not None

    @property
    def needs_action(self) -> bool:
        """The seeds' second vocabulary (L3): derived, never stored.

        True when the ticket is not closed and either no agent has replied yet, or the customer
        wrote again after the last agent reply. "Agent reply" means a public outbound message;
        the thread's order decides what came after what.
        """
        if self.status is TicketStatus.CLOSED:
            return False
        for item in reversed(self.thread):
            if isinstance(item, Message):
                if item.is_public_reply:
                    return False
                if item.direction is Direction.INBOUND:
                    return True
        return True

    def held_references(self) -> list[ExternalReference]:
        """Every reference the ticket holds (its own and its messages'), claimed or not."""
        refs = list(self.external_refs)
        refs.extend(
            item.external_ref
            for item in self.thread
            if isinstance(item, Message) and item.external_ref is not None
        )
        return refs

    def all_references(self) -> tuple[ExternalReference, ...]:
        """The references this ticket claims (T6): what finds it in a repository.

        Its own references and its messages' references, except those it ceded to a restored
        ticket (M14). A ticket merged into another claims nothing: its references moved to the
        primary with its items (M14).
        """
        if self.merged_into is not None:
            return ()
        ceded = set(self.ceded_refs)
        return tuple(ref for ref in self.held_references() if ref not in ceded)

    def status_history(self) -> tuple[StatusRecord, ...]:
        """The status changes the SLA engine counts with (SL5, SL7): ``status_log``, or for a
        ticket without one that is on hold or closed, the change that ``on_hold_since`` or
        ``closed_at`` implies (from open, reason ``implied``)."""
        if self.status_log:
            return self.status_log
        since = self.on_hold_since or self.closed_at
        if since is None:
            return ()
        return (
            StatusRecord(
                at=since, from_status=TicketStatus.OPEN, to_status=self.status, reason="implied"
            ),
        )

    def on_hold_time_at(self, now: datetime) -> timedelta:
        """Total time on hold up to ``now``, counting a hold still in progress (L4)."""
        if not isinstance(now, datetime) or not is_aware(now):
            raise NaiveDatetimeError("Ticket", "now", f"{now!r} is not an aware datetime (T1)")
        if self.on_hold_since is None or now <= self.on_hold_since:
            return self.on_hold_time
        return self.on_hold_time + (now - self.on_hold_since)

    def messages(self) -> Iterator[Message]:
        """The thread's messages, in thread order."""
        return (item for item in self.thread if isinstance(item, Message))

    def item(self, item_id: str) -> ThreadItem:
        """The thread item with ``item_id``.

        Raises:
            NotFoundError: No such item on this ticket.
        """
        for item in self.thread:
            if item.id == item_id:
                return item
        raise NotFoundError("thread item", item_id)


# -- trusted constructors ------------------------------------------------------------------------
#
# ``attrs.evolve`` re-runs every validator and ``__attrs_post_init__``, which walk the whole
# thread: appending one message to a ticket of n items cost O(n) checks, on every intake. The
# two functions below build a ticket without that, for callers that know which invariants
# their change can break; tests/test_perf_invariants.py checks them against ``attrs.evolve``.

# Copies set these fields and nothing else: a field added to Ticket is copied, but state an
# ``__attrs_post_init__`` or a cached hash would derive is not (Ticket has neither).
_FIELD_NAMES = tuple(a.name for a in attrs.fields(Ticket))
_FIELD_SET = frozenset(_FIELD_NAMES)
_FIELDS = attrs.fields(Ticket)
_THREAD_KINDS = (Message, Comment, Attachment)
_set = object.__setattr__


def unchecked_copy(ticket: Ticket, **changes: Any) -> Ticket:
    """``ticket`` with ``changes``, without running converters or validators.

    The caller guarantees that the result is a valid ticket (for example, only ``version``
    changes, to a valid version). ``copy.copy`` does the same, several times slower.
    """
    unknown = changes.keys() - _FIELD_SET
    if unknown:
        raise TypeError(f"unchecked_copy: Ticket has no field {sorted(unknown)[0]!r}")
    if type(ticket) is not Ticket:  # a subclass may hold fields of its own: copy them all
        copied = copy.copy(ticket)
        for name, value in changes.items():
            _set(copied, name, value)
        return copied
    copied = object.__new__(Ticket)
    for name in _FIELD_NAMES:
        _set(copied, name, changes[name] if name in changes else getattr(ticket, name))
    return copied


def _created_at(item: ThreadItem) -> datetime:
    return item.created_at


def _holds(ticket: Ticket, ref: ExternalReference) -> bool:
    """``ref in ticket.held_references()``, without building the list and comparing whole
    references only where the native ids match (a reference's ``==`` is Python code)."""
    if ref in ticket.external_refs:
        return True
    native_id = ref.native_id
    return any(
        isinstance(item, Message)
        and item.external_ref is not None
        and item.external_ref.native_id == native_id
        and item.external_ref == ref
        for item in ticket.thread
    )


def with_item(ticket: Ticket, item: ThreadItem, *, first_responded_at: datetime | None) -> Ticket:
    """``ticket`` with ``item`` inserted at its place in creation-time order (after the items
    created at the same time) and with ``first_responded_at``.

    The same ticket, or the same error, as ``attrs.evolve(ticket, thread=..., first_responded_at=
    ...)``, in time independent of the thread's length apart from two scans of it. Every other
    field is unchanged and was valid, so only what the new values can break is checked, in the
    order ``attrs.evolve`` checks it: ``first_responded_at``, the item's type, then the item's
    id and reference against the rest of the ticket. Inserting by bisection keeps the thread
    in creation-time order by construction.
    """
    thread = ticket.thread
    at = bisect_right(thread, item.created_at, key=_created_at)
    if type(ticket) is not Ticket:  # a subclass may check more: let it
        return attrs.evolve(
            ticket, thread=(*thread[:at], item, *thread[at:]), first_responded_at=first_responded_at
        )
    first_responded_at = optional_fixed_offset(first_responded_at)
    optional_aware(ticket, _FIELDS.first_responded_at, first_responded_at)
    if not isinstance(item, _THREAD_KINDS):
        tuple_of(_THREAD_KINDS)(ticket, _FIELDS.thread, (item,))
    if any(other.id == item.id for other in thread):
        raise InvalidModelError(
            "Ticket", "thread", f"ticket {ticket.id}: thread item id {item.id!r} appears twice"
        )
    ref = item.external_ref if isinstance(item, Message) else None
    if ref is not None and _holds(ticket, ref):
        raise InvalidModelError(
            "Ticket", "external_refs", f"ticket {ticket.id}: an external reference appears twice"
        )
    return unchecked_copy(
        ticket, thread=(*thread[:at], item, *thread[at:]), first_responded_at=first_responded_at
    )
