"""Domain models: immutable attrs values with validation at construction (T1-T7)."""

from deskcore.models._frozen import FrozenMap
from deskcore.models.chat import (
    ChatEvent,
    ChatSession,
    ChatSettings,
    ConvertWhen,
    ConvertWhich,
    LinkState,
)
from deskcore.models.departments import (
    ChatCapability,
    DepartmentLink,
    DepartmentMapping,
    MappingDefault,
)
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
    "ChatCapability",
    "ChatEvent",
    "ChatSession",
    "ChatSettings",
    "Classification",
    "Comment",
    "Contact",
    "ConvertWhen",
    "ConvertWhich",
    "CustomValue",
    "Department",
    "DepartmentLink",
    "DepartmentMapping",
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
    "LinkState",
    "MappingDefault",
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
