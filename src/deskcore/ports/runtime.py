"""Clock and id generation: the only sources of time and identity the service reads (P1)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "IdGenerator"]


@runtime_checkable
class Clock(Protocol):
    """Tells the current time. Must return an aware datetime."""

    def now(self) -> datetime:
        """The current instant, time-zone aware."""
        ...


@runtime_checkable
class IdGenerator(Protocol):
    """Makes new unique ids for tickets and thread items."""

    def new_id(self, kind: str) -> str:
        """A new id, unique across all kinds; ``kind`` says what it is for: ``"ticket"`` or
        ``"item"`` for the desk, ``"lead"`` or ``"contact"`` for
        :class:`~deskcore.adapters.InMemoryCrm`."""
        ...
