"""Production clock and id generator: the real-world implementations of the runtime ports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

__all__ = ["SystemClock", "UuidIds"]


class SystemClock:
    """The system clock, in UTC."""

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        return datetime.now(UTC)


class UuidIds:
    """Random UUID4 ids with a readable prefix per kind (``tk_…``, ``it_…``)."""

    def new_id(self, kind: str) -> str:
        """A new random id, ``<first two letters of kind>_<32 hex digits>``."""
        return f"{kind[:2]}_{uuid.uuid4().hex}"
