"""Use cases: the only layer that touches ports (P1)."""

from deskcore.service.desk import ChatOutcome, Desk, IntakeResult
from deskcore.service.runtime import SystemClock, UuidIds

__all__ = ["ChatOutcome", "Desk", "IntakeResult", "SystemClock", "UuidIds"]
