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
from typing import Annotated, Any, Literal, TypeAlias

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


def _reference(payload: ReferencePayload) -> ExternalReference:
    return ExternalReference(
        network=payload.network,
        account=payload.account,
        kind=payload.kind,
        native_id=payload.native_id,
    )


def _optional_reference(payload: ReferencePayload | None) -> ExternalReference | None:
    return None if payload is None else _reference(payload)


def _reference_payload(ref: ExternalReference) -> ReferencePayload:
    return ReferencePayload(
        network=ref.network, account=ref.account, kind=ref.kind, native_id=ref.native_id
    )


def _optional_reference_payload(ref: ExternalReference | None) -> ReferencePayload | None:
    return None if ref is None else _reference_payload(ref)


def _profile(payload: SocialProfilePayload) -> SocialProfile:
    return SocialProfile(
        network=payload.network,
        id=payload.id,
        handle=payload.handle,
        display_name=payload.display_name,
    )


def _profile_payload(profile: SocialProfile) -> SocialProfilePayload:
    return SocialProfilePayload(
        network=profile.network,
        id=profile.id,
        handle=profile.handle,
        display_name=profile.display_name,
    )


class _EventPayload(WireModel):
    """Base of the event payloads: whatever parses converts into the domain event."""

    @model_validator(mode="after")
    def _valid_event(self) -> _EventPayload:
        try:
            self.to_event()
        except InvalidModelError as error:
            # A domain refusal becomes a validation error with the domain's own message.
            raise ValueError(error.message) from None
        return self

    def to_event(self) -> AnyDomainEvent:
        """The domain event."""
        raise NotImplementedError


# -- ticket events --------------------------------------------------------------------------------


class TicketCreatedPayload(_EventPayload):
    """A ticket was created (:class:`~deskcore.models.TicketCreated`)."""

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

    def to_event(self) -> TicketCreated:
        """The domain event."""
        return TicketCreated(
            ticket_id=self.ticket_id,
            at=self.at,
            number=self.number,
            reference=_optional_reference(self.reference),
        )

    @classmethod
    def from_event(cls, event: TicketCreated) -> TicketCreatedPayload:
        """The payload of ``event``."""
        return cls(
            event="ticket.created",
            ticket_id=event.ticket_id,
            at=event.at,
            number=event.number,
            reference=_optional_reference_payload(event.reference),
        )


class ItemAppendedPayload(_EventPayload):
    """A thread item was added to a ticket (:class:`~deskcore.models.ItemAppended`)."""

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

    def to_event(self) -> ItemAppended:
        """The domain event."""
        return ItemAppended(
            ticket_id=self.ticket_id,
            at=self.at,
            item_id=self.item_id,
            reference=_optional_reference(self.reference),
        )

    @classmethod
    def from_event(cls, event: ItemAppended) -> ItemAppendedPayload:
        """The payload of ``event``."""
        return cls(
            event="ticket.item_appended",
            ticket_id=event.ticket_id,
            at=event.at,
            item_id=event.item_id,
            reference=_optional_reference_payload(event.reference),
        )


class ItemRevisedPayload(_EventPayload):
    """An edited message was stored as a new revision of the same item (P3;
    :class:`~deskcore.models.ItemRevised`)."""

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

    def to_event(self) -> ItemRevised:
        """The domain event."""
        return ItemRevised(
            ticket_id=self.ticket_id, at=self.at, item_id=self.item_id, revision=self.revision
        )

    @classmethod
    def from_event(cls, event: ItemRevised) -> ItemRevisedPayload:
        """The payload of ``event``."""
        return cls(
            event="ticket.item_revised",
            ticket_id=event.ticket_id,
            at=event.at,
            item_id=event.item_id,
            revision=event.revision,
        )


class StatusChangedPayload(_EventPayload):
    """A ticket's status changed (L1; :class:`~deskcore.models.StatusChanged`)."""

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

    def to_event(self) -> StatusChanged:
        """The domain event."""
        return StatusChanged(
            ticket_id=self.ticket_id,
            at=self.at,
            from_status=self.from_status,
            to_status=self.to_status,
            reason=self.reason,
        )

    @classmethod
    def from_event(cls, event: StatusChanged) -> StatusChangedPayload:
        """The payload of ``event``."""
        return cls(
            event="ticket.status_changed",
            ticket_id=event.ticket_id,
            at=event.at,
            from_status=event.from_status,
            to_status=event.to_status,
            reason=event.reason,
        )


class FirstResponseRecordedPayload(_EventPayload):
    """The first public agent reply was recorded (L4;
    :class:`~deskcore.models.FirstResponseRecorded`)."""

    event: Literal["ticket.first_response_recorded"]
    """Always ``ticket.first_response_recorded``."""
    ticket_id: Identifier
    """The ticket."""
    at: EventTime
    """When."""
    item_id: Identifier
    """The reply."""

    def to_event(self) -> FirstResponseRecorded:
        """The domain event."""
        return FirstResponseRecorded(ticket_id=self.ticket_id, at=self.at, item_id=self.item_id)

    @classmethod
    def from_event(cls, event: FirstResponseRecorded) -> FirstResponseRecordedPayload:
        """The payload of ``event``."""
        return cls(
            event="ticket.first_response_recorded",
            ticket_id=event.ticket_id,
            at=event.at,
            item_id=event.item_id,
        )


class ReferenceConflictPayload(_EventPayload):
    """An event reused a claimed external reference with different content; nothing was
    written (P3; :class:`~deskcore.models.ReferenceConflict`)."""

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

    def to_event(self) -> ReferenceConflict:
        """The domain event."""
        return ReferenceConflict(
            ticket_id=self.ticket_id,
            at=self.at,
            reference=_reference(self.reference),
            stored_digest=self.stored_digest,
            received_digest=self.received_digest,
        )

    @classmethod
    def from_event(cls, event: ReferenceConflict) -> ReferenceConflictPayload:
        """The payload of ``event``."""
        return cls(
            event="intake.reference_conflict",
            ticket_id=event.ticket_id,
            at=event.at,
            reference=_reference_payload(event.reference),
            stored_digest=event.stored_digest,
            received_digest=event.received_digest,
        )


class TicketMergedPayload(_EventPayload):
    """Tickets were merged into this one (M12, M15; :class:`~deskcore.models.TicketMerged`)."""

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

    def to_event(self) -> TicketMerged:
        """The domain event."""
        return TicketMerged(
            ticket_id=self.ticket_id,
            at=self.at,
            merged_ticket_ids=self.merged_ticket_ids,
            journal_id=self.journal_id,
        )

    @classmethod
    def from_event(cls, event: TicketMerged) -> TicketMergedPayload:
        """The payload of ``event``."""
        return cls(
            event="ticket.merged",
            ticket_id=event.ticket_id,
            at=event.at,
            merged_ticket_ids=event.merged_ticket_ids,
            journal_id=event.journal_id,
        )


class TicketTrashedPayload(_EventPayload):
    """A ticket went to the trash (M6; :class:`~deskcore.models.TicketTrashed`)."""

    event: Literal["ticket.trashed"]
    """Always ``ticket.trashed``."""
    ticket_id: Identifier
    """The ticket."""
    at: EventTime
    """When."""
    merged_into: Identifier | None = None
    """The primary ticket, when a merge put it there."""

    def to_event(self) -> TicketTrashed:
        """The domain event."""
        return TicketTrashed(ticket_id=self.ticket_id, at=self.at, merged_into=self.merged_into)

    @classmethod
    def from_event(cls, event: TicketTrashed) -> TicketTrashedPayload:
        """The payload of ``event``."""
        return cls(
            event="ticket.trashed",
            ticket_id=event.ticket_id,
            at=event.at,
            merged_into=event.merged_into,
        )


class TicketRestoredPayload(_EventPayload):
    """A ticket came back from the trash (M3, M14; :class:`~deskcore.models.TicketRestored`)."""

    event: Literal["ticket.restored"]
    """Always ``ticket.restored``."""
    ticket_id: Identifier
    """The ticket."""
    at: EventTime
    """When."""
    was_merged_into: Identifier | None = None
    """The primary ticket it had been merged into, if any."""

    def to_event(self) -> TicketRestored:
        """The domain event."""
        return TicketRestored(
            ticket_id=self.ticket_id, at=self.at, was_merged_into=self.was_merged_into
        )

    @classmethod
    def from_event(cls, event: TicketRestored) -> TicketRestoredPayload:
        """The payload of ``event``."""
        return cls(
            event="ticket.restored",
            ticket_id=event.ticket_id,
            at=event.at,
            was_merged_into=event.was_merged_into,
        )


# -- knowledge-base sync --------------------------------------------------------------------------


class ArticleSyncedPayload(_EventPayload):
    """A sync created, updated or removed the copy of a helpdesk article in the chat tool
    (KB8; :class:`~deskcore.models.ArticleSynced`)."""

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

    def to_event(self) -> ArticleSynced:
        """The domain event."""
        return ArticleSynced(
            source_id=self.source_id,
            target_id=self.target_id,
            action=self.action,
            reason=self.reason,
            run_key=self.run_key,
            at=self.at,
        )

    @classmethod
    def from_event(cls, event: ArticleSynced) -> ArticleSyncedPayload:
        """The payload of ``event``."""
        return cls(
            event="kb.article_synced",
            source_id=event.source_id,
            target_id=event.target_id,
            action=event.action,
            reason=event.reason,
            run_key=event.run_key,
            at=event.at,
        )


# -- CRM ------------------------------------------------------------------------------------------


class CrmRecordAddedPayload(_EventPayload):
    """A lead or contact was added for a social profile (R2, R3, R6;
    :class:`~deskcore.models.CrmRecordAdded`)."""

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

    def to_event(self) -> CrmRecordAdded:
        """The domain event."""
        return CrmRecordAdded(
            record_id=self.record_id,
            kind=self.kind,
            profile=_profile(self.profile),
            lead_source=self.lead_source,
            owner_id=self.owner_id,
            actor_id=self.actor_id,
            rule_id=self.rule_id,
            branch=self.branch,
            reference=_optional_reference(self.reference),
            at=self.at,
        )

    @classmethod
    def from_event(cls, event: CrmRecordAdded) -> CrmRecordAddedPayload:
        """The payload of ``event``."""
        return cls(
            event="crm.record_added",
            record_id=event.record_id,
            kind=event.kind,
            profile=_profile_payload(event.profile),
            lead_source=event.lead_source,
            owner_id=event.owner_id,
            actor_id=event.actor_id,
            rule_id=event.rule_id,
            branch=event.branch,
            reference=_optional_reference_payload(event.reference),
            at=event.at,
        )


class CrmProfileLinkedPayload(_EventPayload):
    """A user linked a social profile to an existing lead or contact (R5;
    :class:`~deskcore.models.CrmProfileLinked`)."""

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

    def to_event(self) -> CrmProfileLinked:
        """The domain event."""
        return CrmProfileLinked(
            record_id=self.record_id,
            profile=_profile(self.profile),
            actor_id=self.actor_id,
            at=self.at,
        )

    @classmethod
    def from_event(cls, event: CrmProfileLinked) -> CrmProfileLinkedPayload:
        """The payload of ``event``."""
        return cls(
            event="crm.profile_linked",
            record_id=event.record_id,
            profile=_profile_payload(event.profile),
            actor_id=event.actor_id,
            at=event.at,
        )


class CrmInteractionLinkedPayload(_EventPayload):
    """An interaction was linked to the lead or contact of its profile (R4, R5;
    :class:`~deskcore.models.CrmInteractionLinked`)."""

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

    def to_event(self) -> CrmInteractionLinked:
        """The domain event."""
        return CrmInteractionLinked(
            record_id=self.record_id,
            reference=_reference(self.reference),
            trigger=self.trigger,
            actor_id=self.actor_id,
            at=self.at,
        )

    @classmethod
    def from_event(cls, event: CrmInteractionLinked) -> CrmInteractionLinkedPayload:
        """The payload of ``event``."""
        return cls(
            event="crm.interaction_linked",
            record_id=event.record_id,
            reference=_reference_payload(event.reference),
            trigger=event.trigger,
            actor_id=event.actor_id,
            at=event.at,
        )


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
_ENCODERS: dict[type[Any], Callable[[Any], _Payload]] = {
    TicketCreated: TicketCreatedPayload.from_event,
    ItemAppended: ItemAppendedPayload.from_event,
    ItemRevised: ItemRevisedPayload.from_event,
    StatusChanged: StatusChangedPayload.from_event,
    FirstResponseRecorded: FirstResponseRecordedPayload.from_event,
    ReferenceConflict: ReferenceConflictPayload.from_event,
    TicketMerged: TicketMergedPayload.from_event,
    TicketTrashed: TicketTrashedPayload.from_event,
    TicketRestored: TicketRestoredPayload.from_event,
    ArticleSynced: ArticleSyncedPayload.from_event,
    CrmRecordAdded: CrmRecordAddedPayload.from_event,
    CrmProfileLinked: CrmProfileLinkedPayload.from_event,
    CrmInteractionLinked: CrmInteractionLinkedPayload.from_event,
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
