"""The domain events as JSON documents (P4, P6): what a host stores as activity history or
publishes on a message bus.

:func:`event_to_document` turns any domain event (:data:`AnyDomainEvent`) into a JSON-ready
``dict``; :func:`event_from_document` parses such a document (bytes, text or a decoded
mapping) back into the same event: ``event_from_document(event_to_document(e)) == e``.
:data:`DomainEventDocument` is the union of the payloads, told apart by ``event``, the event
class's stable ``name`` (``ticket.created``, ``crm.record_added``...); its JSON Schema is
``DOMAIN_EVENT_ADAPTER.json_schema()``.

Encoding choices:

- the instant ``at`` is an ISO 8601 string with the UTC offset the event had
  (``2024-05-01T09:30:00+09:00``; UTC is written ``Z``), which the round trip keeps. JSON
  offsets are whole minutes (RFC 3339), so an event whose offset has seconds (a local mean
  time before 1900) is refused rather than shifted;
- external references are ``{"network", "account", "kind", "native_id"}`` objects, social
  profiles ``{"network", "id", "handle", "display_name"}`` objects;
- statuses, record kinds and triggers are their string values, tuples are arrays, absent
  optional values are ``null``;
- integers must fit in 64 bits, the one limit the domain events do not have.

Documents are strict, like every wire model: an unknown ``event``, a missing or unknown
field, a wrong JSON type or a time without a UTC offset is a :class:`pydantic.ValidationError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import (
    Annotated,
    Any,
    ClassVar,
    Generic,
    Literal,
    Self,
    TypeAlias,
    TypeVar,
    cast,
    get_args,
)

import attrs
from pydantic import AfterValidator, Field, Strict, TypeAdapter, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from deskcore.errors import InvalidModelError
from deskcore.models import (
    ArticleSynced,
    CrmEvent,
    CrmInteractionLinked,
    CrmProfileLinked,
    CrmRecordAdded,
    CrmRecordKind,
    CrmTrigger,
    DomainEvent,
    ExternalReference,
    FirstResponseRecorded,
    ItemAppended,
    ItemRevised,
    ReferenceConflict,
    SocialProfile,
    StatusChanged,
    TicketCreated,
    TicketMerged,
    TicketRestored,
    TicketTrashed,
)
from deskcore.wire._types import (
    MAX_INT64,
    FromList,
    Identifier,
    Label,
    StatusField,
    Timestamp,
    WireModel,
)
from deskcore.wire.inbound import ReferencePayload
from deskcore.wire.social import SocialProfilePayload

__all__ = [
    "DOMAIN_EVENT_ADAPTER",
    "AnyDomainEvent",
    "ArticleSyncedPayload",
    "CrmInteractionLinkedPayload",
    "CrmProfileLinkedPayload",
    "CrmRecordAddedPayload",
    "DomainEventDocument",
    "FirstResponseRecordedPayload",
    "ItemAppendedPayload",
    "ItemRevisedPayload",
    "ReferenceConflictPayload",
    "StatusChangedPayload",
    "TicketCreatedPayload",
    "TicketMergedPayload",
    "TicketRestoredPayload",
    "TicketTrashedPayload",
    "event_from_document",
    "event_to_document",
]

AnyDomainEvent: TypeAlias = DomainEvent | ArticleSynced | CrmEvent
"""Any domain event: a ticket event, a knowledge-base sync event or a CRM event."""


def _whole_minutes(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is not None and offset % timedelta(minutes=1):
        raise PydanticCustomError(
            "timestamp_offset",
            "A UTC offset in JSON is a whole number of minutes (RFC 3339), not {offset}",
            {"offset": str(offset)},
        )
    return value


EventTime = Annotated[Timestamp, AfterValidator(_whole_minutes)]
"""When the event happened: ISO 8601 with a UTC offset of whole minutes (T1)."""

PositiveInt = Annotated[int, Field(ge=1, le=MAX_INT64)]
"""An integer from 1 to 2**63 - 1."""


_E = TypeVar("_E", bound=AnyDomainEvent)


def _to_domain(value: object) -> object:
    """A payload field's value as its domain event takes it (enum strings are left to the
    domain converters)."""
    if isinstance(value, ReferencePayload):
        return ExternalReference(**dict(value))
    if isinstance(value, SocialProfilePayload):
        return SocialProfile(**dict(value))
    if isinstance(value, tuple | list):
        return type(value)(_to_domain(item) for item in value)
    return value


def _to_wire(value: object) -> object:
    """A domain event field's value as its payload field takes it."""
    if isinstance(value, ExternalReference | SocialProfile):
        return attrs.asdict(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return tuple(_to_wire(item) for item in value)
    return value


class _EventPayload(WireModel, Generic[_E]):
    """Base of the event payloads: whatever parses converts into the domain event.

    A payload declares ``event`` (the domain class's ``name``) and the fields of its domain
    class ``_domain``, under the same names; they convert field by field, both ways.
    """

    _domain: ClassVar[type[AnyDomainEvent]]

    @model_validator(mode="after")
    def _valid_event(self) -> Self:
        try:
            self.to_event()
        except InvalidModelError as error:
            # A domain refusal becomes a validation error with the domain's own message.
            raise ValueError(error.message) from None
        return self

    def to_event(self) -> _E:
        """The domain event."""
        fields: dict[str, Any] = {
            name: _to_domain(getattr(self, name))
            for name in type(self).model_fields
            if name != "event"
        }
        return cast(_E, self._domain(**fields))

    @classmethod
    def from_event(cls, event: _E) -> Self:
        """The payload of ``event``."""
        fields = {
            field.name: _to_wire(getattr(event, field.name)) for field in attrs.fields(cls._domain)
        }
        return cls.model_validate({"event": cls._domain.name, **fields})


# -- ticket events --------------------------------------------------------------------------------


class TicketCreatedPayload(_EventPayload[TicketCreated]):
    """A ticket was created (:class:`~deskcore.models.TicketCreated`)."""

    _domain = TicketCreated

    event: Literal["ticket.created"]
    """Always ``ticket.created``."""
    ticket_id: Identifier
    """The ticket."""
    at: EventTime
    """When."""
    number: PositiveInt
    """The ticket's number."""
    reference: ReferencePayload | None = None
    """The external reference of the message that created it, if any."""


class ItemAppendedPayload(_EventPayload[ItemAppended]):
    """A thread item was added to a ticket (:class:`~deskcore.models.ItemAppended`)."""

    _domain = ItemAppended

    event: Literal["ticket.item_appended"]
    """Always ``ticket.item_appended``."""
    ticket_id: Identifier
    """The ticket."""
    at: EventTime
    """When."""
    item_id: Identifier
    """The new item."""
    reference: ReferencePayload | None = None
    """The item's external reference, if any."""


class ItemRevisedPayload(_EventPayload[ItemRevised]):
    """An edited message was stored as a new revision of the same item (P3;
    :class:`~deskcore.models.ItemRevised`)."""

    _domain = ItemRevised

    event: Literal["ticket.item_revised"]
    """Always ``ticket.item_revised``."""
    ticket_id: Identifier
    """The ticket."""
    at: EventTime
    """When."""
    item_id: Identifier
    """The edited message."""
    revision: PositiveInt
    """How many earlier versions the message now keeps."""


class StatusChangedPayload(_EventPayload[StatusChanged]):
    """A ticket's status changed (L1; :class:`~deskcore.models.StatusChanged`)."""

    _domain = StatusChanged

    event: Literal["ticket.status_changed"]
    """Always ``ticket.status_changed``."""
    ticket_id: Identifier
    """The ticket."""
    at: EventTime
    """When."""
    from_status: StatusField
    """The status before: ``open``, ``on_hold``, ``escalated`` or ``closed``."""
    to_status: StatusField
    """The status after."""
    reason: Identifier
    """Why: ``agent``, ``reopened_by_customer``..."""


class FirstResponseRecordedPayload(_EventPayload[FirstResponseRecorded]):
    """The first public agent reply was recorded (L4;
    :class:`~deskcore.models.FirstResponseRecorded`)."""

    _domain = FirstResponseRecorded

    event: Literal["ticket.first_response_recorded"]
    """Always ``ticket.first_response_recorded``."""
    ticket_id: Identifier
    """The ticket."""
    at: EventTime
    """When."""
    item_id: Identifier
    """The reply."""


class ReferenceConflictPayload(_EventPayload[ReferenceConflict]):
    """An event reused a claimed external reference with different content; nothing was
    written (P3; :class:`~deskcore.models.ReferenceConflict`)."""

    _domain = ReferenceConflict

    event: Literal["intake.reference_conflict"]
    """Always ``intake.reference_conflict``."""
    ticket_id: Identifier
    """The ticket that holds the reference."""
    at: EventTime
    """When."""
    reference: ReferencePayload
    """The reused reference."""
    stored_digest: Label | None
    """The digest of the content stored under it, if known."""
    received_digest: Label
    """The digest of the content that arrived."""


class TicketMergedPayload(_EventPayload[TicketMerged]):
    """Tickets were merged into this one (M12, M15; :class:`~deskcore.models.TicketMerged`)."""

    _domain = TicketMerged

    event: Literal["ticket.merged"]
    """Always ``ticket.merged``."""
    ticket_id: Identifier
    """The primary ticket."""
    at: EventTime
    """When."""
    merged_ticket_ids: Annotated[tuple[Identifier, ...], FromList]
    """The tickets merged into it, in merge order."""
    journal_id: Identifier
    """The merge journal entry."""


class TicketTrashedPayload(_EventPayload[TicketTrashed]):
    """A ticket went to the trash (M6; :class:`~deskcore.models.TicketTrashed`)."""

    _domain = TicketTrashed

    event: Literal["ticket.trashed"]
    """Always ``ticket.trashed``."""
    ticket_id: Identifier
    """The ticket."""
    at: EventTime
    """When."""
    merged_into: Identifier | None = None
    """The primary ticket, when a merge put it there."""


class TicketRestoredPayload(_EventPayload[TicketRestored]):
    """A ticket came back from the trash (M3, M14; :class:`~deskcore.models.TicketRestored`)."""

    _domain = TicketRestored

    event: Literal["ticket.restored"]
    """Always ``ticket.restored``."""
    ticket_id: Identifier
    """The ticket."""
    at: EventTime
    """When."""
    was_merged_into: Identifier | None = None
    """The primary ticket it had been merged into, if any."""


# -- knowledge-base sync --------------------------------------------------------------------------


class ArticleSyncedPayload(_EventPayload[ArticleSynced]):
    """A sync created, updated or removed the copy of a helpdesk article in the chat tool
    (KB8; :class:`~deskcore.models.ArticleSynced`)."""

    _domain = ArticleSynced

    event: Literal["kb.article_synced"]
    """Always ``kb.article_synced``."""
    source_id: Identifier
    """The helpdesk article."""
    target_id: Identifier
    """The copy in the chat tool."""
    action: Identifier
    """``create``, ``update`` or ``remove``."""
    reason: Identifier
    """Why, as the sync plan's reason code."""
    run_key: Identifier
    """The run that wrote it (an occurrence key or a sync-now key)."""
    at: EventTime
    """When."""


# -- CRM ------------------------------------------------------------------------------------------


class CrmRecordAddedPayload(_EventPayload[CrmRecordAdded]):
    """A lead or contact was added for a social profile (R2, R3, R6;
    :class:`~deskcore.models.CrmRecordAdded`)."""

    _domain = CrmRecordAdded

    event: Literal["crm.record_added"]
    """Always ``crm.record_added``."""
    record_id: Identifier
    """The new record."""
    kind: Annotated[CrmRecordKind, Strict(False)]
    """``lead`` or ``contact``."""
    profile: SocialProfilePayload
    """The profile it was added for (and linked to)."""
    lead_source: Label | None = None
    """The record's lead source (R3)."""
    owner_id: Identifier | None = None
    """Its owner."""
    actor_id: Identifier | None = None
    """The user who added it; ``null`` when an automation rule did."""
    rule_id: Identifier | None = None
    """The rule that added it (automation only)."""
    branch: PositiveInt | None = None
    """The rule's branch that applied, counted from 1 (automation only)."""
    reference: ReferencePayload | None = None
    """The interaction that triggered it (automation only)."""
    at: EventTime
    """When."""


class CrmProfileLinkedPayload(_EventPayload[CrmProfileLinked]):
    """A user linked a social profile to an existing lead or contact (R5;
    :class:`~deskcore.models.CrmProfileLinked`)."""

    _domain = CrmProfileLinked

    event: Literal["crm.profile_linked"]
    """Always ``crm.profile_linked``."""
    record_id: Identifier
    """The record."""
    profile: SocialProfilePayload
    """The profile linked."""
    actor_id: Identifier | None = None
    """The user who linked it."""
    at: EventTime
    """When."""


class CrmInteractionLinkedPayload(_EventPayload[CrmInteractionLinked]):
    """An interaction was linked to the lead or contact of its profile (R4, R5;
    :class:`~deskcore.models.CrmInteractionLinked`)."""

    _domain = CrmInteractionLinked

    event: Literal["crm.interaction_linked"]
    """Always ``crm.interaction_linked``."""
    record_id: Identifier
    """The record."""
    reference: ReferencePayload
    """The interaction."""
    trigger: Annotated[CrmTrigger, Strict(False)]
    """What the person did: ``mention``, ``message``, ``reply``, ``retweet``, ``post``,
    ``comment`` or ``like``."""
    actor_id: Identifier | None = None
    """``null``: linked by the automation."""
    at: EventTime
    """When it was linked."""


# -- the document ---------------------------------------------------------------------------------

_Payload: TypeAlias = (
    TicketCreatedPayload
    | ItemAppendedPayload
    | ItemRevisedPayload
    | StatusChangedPayload
    | FirstResponseRecordedPayload
    | ReferenceConflictPayload
    | TicketMergedPayload
    | TicketTrashedPayload
    | TicketRestoredPayload
    | ArticleSyncedPayload
    | CrmRecordAddedPayload
    | CrmProfileLinkedPayload
    | CrmInteractionLinkedPayload
)

DomainEventDocument: TypeAlias = Annotated[_Payload, Field(discriminator="event")]
"""One domain event as JSON, told apart by ``event`` (the event class's ``name``)."""

DOMAIN_EVENT_ADAPTER: TypeAdapter[_Payload] = TypeAdapter(DomainEventDocument)
"""Validates :data:`DomainEventDocument` and exports its JSON Schema (``json_schema()``)."""

# Exact types: a subclass of an event may carry fields the payload does not.
_PAYLOADS: tuple[type[_EventPayload[Any]], ...] = get_args(_Payload)
_ENCODERS: dict[type[Any], Callable[[Any], _EventPayload[Any]]] = {
    payload._domain: payload.from_event for payload in _PAYLOADS
}


def event_to_document(event: AnyDomainEvent) -> dict[str, Any]:
    """The JSON document of a domain event (P4): plain data, ready for ``json.dumps``.

    ``event_from_document`` gives the event back, equal to ``event`` and with the same UTC
    offset.

    Raises:
        InvalidModelError: ``event`` is not a domain event (``model`` names its type), or it
            holds a value the document cannot carry (an integer above 2**63 - 1, a UTC offset
            with seconds, a value of the wrong type); ``field`` names the field.
    """
    kind = type(event)
    encode = _ENCODERS.get(kind)
    if encode is None:
        raise InvalidModelError(
            kind.__name__,
            "event",
            f"{kind.__module__}.{kind.__qualname__} is not a domain event; expected one of "
            + ", ".join(sorted(known.__name__ for known in _ENCODERS)),
        )
    try:
        payload = encode(event)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "event"
        raise InvalidModelError(
            kind.__name__, field, f"cannot be written as JSON: {first['msg']}"
        ) from error
    return payload.model_dump(mode="json")


def event_from_document(data: bytes | bytearray | str | Mapping[str, Any]) -> AnyDomainEvent:
    """Parse a domain event document (P6) into the domain event.

    Args:
        data: JSON text (bytes or str) or a mapping already decoded from JSON
            (``json.loads``); both validate alike.

    Raises:
        pydantic.ValidationError: The data is not valid JSON, names no known ``event``, or
            does not match that event's payload (a missing or unknown field, a wrong JSON
            type, a time without a UTC offset); the error's ``loc`` starts with the event name.
    """
    if isinstance(data, bytes | bytearray | str):
        payload = DOMAIN_EVENT_ADAPTER.validate_json(data)
    else:
        # Strict validation wants a plain dict at the top; any other mapping is copied.
        payload = DOMAIN_EVENT_ADAPTER.validate_python(
            dict(data) if isinstance(data, Mapping) else data
        )
    return payload.to_event()
