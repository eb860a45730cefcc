"""Pure policies: functions of models, settings and ``now`` that return decisions (P1)."""

from deskcore.policies.conversion import (
    ConversionDecision,
    ConversionOutcome,
    decide_chat_conversion,
    decide_manual_conversion,
)
from deskcore.policies.departments import (
    AssociationNotice,
    auto_associate,
    match_name,
    on_chat_department_created,
    set_link,
    undo_association,
)
from deskcore.policies.intake import (
    IntakeAction,
    IntakeRoute,
    append_inbound,
    open_ticket,
    revise_message,
    route_intake,
)
from deskcore.policies.lifecycle import (
    TRANSITIONS,
    TicketChange,
    append_item,
    can_change_status,
    change_status,
)
from deskcore.policies.merge import (
    CHOOSABLE_FIELDS,
    PROTECTED_FIELDS,
    MergePlan,
    MergeResult,
    RestoreResult,
    apply_merge,
    default_primary,
    merged_thread,
    plan_merge,
    restore_ticket,
)

__all__ = [
    "CHOOSABLE_FIELDS",
    "PROTECTED_FIELDS",
    "TRANSITIONS",
    "AssociationNotice",
    "ConversionDecision",
    "ConversionOutcome",
    "IntakeAction",
    "IntakeRoute",
    "MergePlan",
    "MergeResult",
    "RestoreResult",
    "TicketChange",
    "append_inbound",
    "append_item",
    "apply_merge",
    "auto_associate",
    "can_change_status",
    "change_status",
    "decide_chat_conversion",
    "decide_manual_conversion",
    "default_primary",
    "match_name",
    "merged_thread",
    "on_chat_department_created",
    "open_ticket",
    "plan_merge",
    "restore_ticket",
    "revise_message",
    "route_intake",
    "set_link",
    "undo_association",
]
