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

__all__ = [
    "TRANSITIONS",
    "IntakeAction",
    "IntakeRoute",
    "TicketChange",
    "append_inbound",
    "append_item",
    "can_change_status",
    "change_status",
    "open_ticket",
    "revise_message",
    "route_intake",
]
