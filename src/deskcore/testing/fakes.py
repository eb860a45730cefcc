"""Deterministic stand-ins for the runtime ports: a clock you set and ids you can predict."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

from deskcore.errors import NaiveDatetimeError

__all__ = ["FixedClock", "SequentialIds"]


class FixedClock:
    """A clock that says what you tell it, and moves only when you move it.

    >>> clock = FixedClock(datetime(2026, 4, 1, 9, 0, tzinfo=UTC))
    >>> clock.advance(minutes=5).isoformat()
    '2026-04-01T09:05:00+00:00'
    """

    def __init__(self, now: datetime | None = None) -> None:
        self._now = _aware(now if now is not None else datetime(2026, 1, 1, tzinfo=UTC))

    def now(self) -> datetime:
        """The time the clock is set to."""
        return self._now

    def set(self, now: datetime) -> None:
        """Set the clock to ``now`` (aware)."""
        self._now = _aware(now)

    def advance(self, delta: timedelta | None = None, **units: float) -> datetime:
        """Move the clock forward by ``delta`` or by ``timedelta(**units)``; return the new time."""
        step = delta if delta is not None else timedelta(**units)
        # Real elapsed time: step in UTC, then show the result in the clock's zone again, so
        # an hour across a daylight-saving change is still an hour.
        self._now = (self._now.astimezone(UTC) + step).astimezone(self._now.tzinfo)
        return self._now


class SequentialIds:
    """Ids ``<prefix><kind>-1``, ``<prefix><kind>-2``... counted per kind, thread-safe.

    Args:
        prefix: Put before every id, to keep several generators apart (one per process).
    """

    def __init__(self, prefix: str = "") -> None:
        self._prefix = prefix
        self._counters: dict[str, itertools.count[int]] = {}
        self._lock = threading.Lock()

    def new_id(self, kind: str) -> str:
        """The next id of ``kind``."""
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count(1))
            return f"{self._prefix}{kind}-{next(counter)}"


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError("FixedClock", "now", "the clock needs an aware datetime")
    return value
