"""What a merge decides and records: field decisions, exposures, item moves, the journal (M8,
M5, M7, M15)."""

from __future__ import annotations

from datetime import datetime

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._validate import (
    aware,
    fixed_offset,
    identifier,
    instance_of,
    positive_int,
    tuple_of,
)
from deskcore.models.ticket import CustomValue

__all__ = [
    "Exposure",
    "FieldDecision",
    "FieldValue",
    "ItemMove",
    "MergeJournalEntry",
    "MergePolicy",
    "MergeRejection",
]


@attrs.frozen(kw_only=True)
class MergePolicy:
    """The host's merge settings.

    Attributes:
        max_tickets: Most tickets merged at once (M1); the seeds' default is five.
    """

    max_tickets: int = attrs.field(default=5, validator=positive_int)

    def __attrs_post_init__(self) -> None:
        if self.max_tickets < 2:
            raise InvalidModelError("MergePolicy", "max_tickets", "a merge needs at least 2")


@attrs.frozen(kw_only=True)
class MergeRejection:
    """One reason a merge cannot go ahead.

    Attributes:
        code: Stable code: ``too_few_tickets``, ``too_many_tickets``, ``duplicate_tickets``,
            ``different_departments``, ``already_merged``, ``already_trashed``,
            ``missing_permission``, ``unknown_primary``, ``unknown_field``,
            ``unknown_ticket``, ``protected_field``, ``unacknowledged_exposure``,
            ``conflicting_items``.
        message: A sentence for people.
        ticket_ids: The tickets the reason is about.
        field: The field the reason is about, if any.
    """

    code: str
    message: str
    ticket_ids: tuple[str, ...] = ()
    field: str | None = None


@attrs.frozen(kw_only=True)
class FieldValue:
    """One ticket's value of a field. ``present`` is false for a custom field it lacks."""

    ticket_id: str
    value: CustomValue
    present: bool = True


@attrs.frozen(kw_only=True)
class FieldDecision:
    """A field whose values differ between the merged tickets, and what the merge takes (M8).

    Attributes:
        field: ``contact_id``, ``subject``... or ``custom:<name>`` for a custom field.
        values: Each ticket's value, in the plan's ticket order.
        chosen: The value the merged ticket takes, with the ticket it comes from.
        discarded: Every other distinct value, with its ticket: what the merge drops.
    """

    field: str
    values: tuple[FieldValue, ...]
    chosen: FieldValue
    discarded: tuple[FieldValue, ...]


@attrs.frozen(kw_only=True)
class Exposure:
    """Public items of one customer that another will see in the help center after the
    merge (M5): ``viewer_contact_id`` sees ``item_ids`` of ``owner_contact_id``'s ticket."""

    ticket_id: str
    owner_contact_id: str
    viewer_contact_id: str
    item_ids: tuple[str, ...]


@attrs.frozen(kw_only=True)
class ItemMove:
    """A thread item copied into the primary (M7): where it came from and where it lands.

    Attributes:
        item_id: The item.
        from_ticket_id: The merged ticket it was copied from.
        origin_ticket_id: The ticket it was first created on (kept, M7).
        position: Its index in the merged thread.
    """

    item_id: str
    from_ticket_id: str
    origin_ticket_id: str
    position: int


@attrs.frozen(kw_only=True)
class MergeJournalEntry:
    """The record of one merge (M15): which tickets, which primary, what moved where, which
    values were taken and which were discarded, who merged and when. Never changed after."""

    id: str = attrs.field(validator=identifier)
    at: datetime = attrs.field(converter=fixed_offset, validator=aware)
    actor_id: str = attrs.field(validator=identifier)
    primary_id: str = attrs.field(validator=identifier)
    merged_ticket_ids: tuple[str, ...] = attrs.field(validator=tuple_of(str))
    moves: tuple[ItemMove, ...] = attrs.field(default=(), validator=tuple_of(ItemMove))
    fields: tuple[FieldDecision, ...] = attrs.field(default=(), validator=tuple_of(FieldDecision))
    exposures: tuple[Exposure, ...] = attrs.field(default=(), validator=tuple_of(Exposure))
    already_present: tuple[str, ...] = attrs.field(default=(), validator=instance_of(tuple))

    @property
    def ticket_ids(self) -> tuple[str, ...]:
        """The primary followed by the merged tickets."""
        return (self.primary_id, *self.merged_ticket_ids)
