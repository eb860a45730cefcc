"""Pure policies: functions of models, settings and ``now`` that return decisions (P1)."""

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
    "IntakeAction",
    "IntakeRoute",
    "MergePlan",
    "MergeResult",
    "RestoreResult",
    "TicketChange",
    "append_inbound",
    "append_item",
    "apply_merge",
    "can_change_status",
    "change_status",
    "default_primary",
    "merged_thread",
    "open_ticket",
    "plan_merge",
    "restore_ticket",
    "revise_message",
    "route_intake",
]
