"""Use cases: the only layer that touches ports (P1)."""

from deskcore.service.desk import ChatOutcome, Desk, IntakeResult
from deskcore.service.runtime import SystemClock, UuidIds
from deskcore.service.social import AppendCheck, SocialOutcome

__all__ = [
    "AppendCheck",
    "ChatOutcome",
    "Desk",
    "IntakeResult",
    "SocialOutcome",
    "SystemClock",
    "UuidIds",
]
