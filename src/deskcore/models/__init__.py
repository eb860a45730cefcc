"""Domain models: immutable attrs values with validation at construction (T1-T7)."""

from deskcore.models._frozen import FrozenMap
from deskcore.models.enums import (
    Channel,
    Classification,
    Direction,
    Permission,
    Priority,
    Role,
    TicketStatus,
    Visibility,
)
from deskcore.models.events import (
    DomainEvent,
    FirstResponseRecorded,
    ItemAppended,
    ItemRevised,
    ReferenceConflict,
    StatusChanged,
    TicketCreated,
    TicketMerged,
    TicketRestored,
    TicketTrashed,
)
from deskcore.models.intake import DeskSettings, InboundAttachment, InboundMessage
from deskcore.models.merge import (
    Exposure,
    FieldDecision,
    FieldValue,
    ItemMove,
    MergeJournalEntry,
    MergePolicy,
    MergeRejection,
)
from deskcore.models.parties import Account, Actor, Brand, Contact, Department
from deskcore.models.query import TicketQuery, fold
from deskcore.models.refs import ExternalReference
from deskcore.models.thread import (
    Attachment,
    Comment,
    Message,
    Revision,
    ThreadItem,
    digest_content,
)
from deskcore.models.ticket import CustomValue, Ticket

__all__ = [
    "Account",
    "Actor",
    "Attachment",
    "Brand",
    "Channel",
    "Classification",
    "Comment",
    "Contact",
    "CustomValue",
    "Department",
    "DeskSettings",
    "Direction",
    "DomainEvent",
    "Exposure",
    "ExternalReference",
    "FieldDecision",
    "FieldValue",
    "FirstResponseRecorded",
    "FrozenMap",
    "InboundAttachment",
    "InboundMessage",
    "ItemAppended",
    "ItemMove",
    "ItemRevised",
    "MergeJournalEntry",
    "MergePolicy",
    "MergeRejection",
    "Message",
    "Permission",
    "Priority",
    "ReferenceConflict",
    "Revision",
    "Role",
    "StatusChanged",
    "ThreadItem",
    "Ticket",
    "TicketCreated",
    "TicketMerged",
    "TicketQuery",
    "TicketRestored",
    "TicketStatus",
    "TicketTrashed",
    "Visibility",
    "digest_content",
    "fold",
]
