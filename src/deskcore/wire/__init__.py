"""Edge models: pydantic v2 models for data arriving from outside, and their codecs (P6).

Everything a host receives (a webhook payload for an inbound message, an exported ticket
document) is parsed here, strictly, into frozen pydantic models, then converted into the
domain's attrs models. Bad input is answered with :class:`pydantic.ValidationError`, never a
crash and never a partial value; :func:`json_schemas` exports the JSON Schema of each model.

Example:
    >>> from deskcore.wire import parse_inbound_event, to_inbound_message
    >>> event = parse_inbound_event(b'''{
    ...     "reference": {"network": "twitter", "account": "brand", "kind": "tweet",
    ...                   "native_id": "1"},
    ...     "channel": "twitter", "contact": {"id": "c1"},
    ...     "body": "hello", "sent_at": "2024-05-01T09:30:00+09:00"}''')
    >>> to_inbound_message(event).sent_at.isoformat()
    '2024-05-01T09:30:00+09:00'
"""

from deskcore.wire.chat import (
    ChatIntegrationDocument,
    DepartmentLinkPayload,
    parse_chat_integration,
)
from deskcore.wire.codecs import ticket_from_document, ticket_to_document, to_inbound_message
from deskcore.wire.crm import (
    CrmActionPayload,
    CrmBranchPayload,
    CrmConditionPayload,
    CrmRulePayload,
    CrmSettingsDocument,
    OwnerRulePayload,
    parse_crm_settings,
)
from deskcore.wire.documents import (
    AttachmentDocument,
    CommentDocument,
    CustomFieldValue,
    MessageDocument,
    RevisionDocument,
    ThreadItemDocument,
    TicketDocument,
    parse_ticket_document,
)
from deskcore.wire.events import (
    AnyDomainEvent,
    DomainEventDocument,
    event_from_document,
    event_to_document,
)
from deskcore.wire.inbound import (
    MAX_ATTACHMENTS,
    AttachmentPayload,
    ContactPayload,
    InboundMessageEvent,
    ReferencePayload,
    parse_inbound_event,
)
from deskcore.wire.kbsync import (
    CategoryAssociationPayload,
    KbSyncSettingsDocument,
    SchedulePayload,
    parse_kb_sync_settings,
)
from deskcore.wire.replay import (
    ChatEntry,
    ChatSessionPayload,
    DeskSettingsPayload,
    MessageEntry,
    ReplayEntry,
    ReplaySettings,
    ReplaySettingsDocument,
    SocialItemEntry,
    StatusEntry,
    parse_replay_entry,
    parse_replay_settings,
)
from deskcore.wire.schemas import JSON_SCHEMA_DIALECT, json_schemas
from deskcore.wire.sla import (
    BusinessCalendarPayload,
    SlaConditionsPayload,
    SlaPolicyPayload,
    SlaSettingsDocument,
    SlaTargetPayload,
    WeeklyPayload,
    parse_sla_settings,
)
from deskcore.wire.social import (
    AutoRulePayload,
    SocialItemEvent,
    SocialProfilePayload,
    SocialSettingsDocument,
    ThreadingRulePayload,
    parse_social_item,
    parse_social_settings,
)

__all__ = [
    "JSON_SCHEMA_DIALECT",
    "MAX_ATTACHMENTS",
    "AnyDomainEvent",
    "AttachmentDocument",
    "AttachmentPayload",
    "AutoRulePayload",
    "BusinessCalendarPayload",
    "CategoryAssociationPayload",
    "ChatEntry",
    "ChatIntegrationDocument",
    "ChatSessionPayload",
    "CommentDocument",
    "ContactPayload",
    "CrmActionPayload",
    "CrmBranchPayload",
    "CrmConditionPayload",
    "CrmRulePayload",
    "CrmSettingsDocument",
    "CustomFieldValue",
    "DepartmentLinkPayload",
    "DeskSettingsPayload",
    "DomainEventDocument",
    "InboundMessageEvent",
    "KbSyncSettingsDocument",
    "MessageDocument",
    "MessageEntry",
    "OwnerRulePayload",
    "ReferencePayload",
    "ReplayEntry",
    "ReplaySettings",
    "ReplaySettingsDocument",
    "RevisionDocument",
    "SchedulePayload",
    "SlaConditionsPayload",
    "SlaPolicyPayload",
    "SlaSettingsDocument",
    "SlaTargetPayload",
    "SocialItemEntry",
    "SocialItemEvent",
    "SocialProfilePayload",
    "SocialSettingsDocument",
    "StatusEntry",
    "ThreadItemDocument",
    "ThreadingRulePayload",
    "TicketDocument",
    "WeeklyPayload",
    "event_from_document",
    "event_to_document",
    "json_schemas",
    "parse_chat_integration",
    "parse_crm_settings",
    "parse_inbound_event",
    "parse_kb_sync_settings",
    "parse_replay_entry",
    "parse_replay_settings",
    "parse_sla_settings",
    "parse_social_item",
    "parse_social_settings",
    "parse_ticket_document",
    "ticket_from_document",
    "ticket_to_document",
    "to_inbound_message",
]
