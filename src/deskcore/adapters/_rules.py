"""Checks every repository makes the same way, whatever its storage."""

from __future__ import annotations

from datetime import datetime

import attrs

from deskcore.errors import ConcurrencyError, InvalidModelError, InvalidTransitionError
from deskcore.models import Ticket


def check_new(ticket: Ticket, existing_version: int | None) -> None:
    """A ticket given to ``add`` must be new (version 0) and its id unused."""
    if ticket.version != 0:
        raise InvalidModelError(
            "Ticket", "version", f"a new ticket has version 0, not {ticket.version}"
        )
    if existing_version is not None:
        raise ConcurrencyError(ticket.id, 0, existing_version)


def check_stored(ticket: Ticket, previous: Ticket | None) -> None:
    """A ticket given to ``save`` must carry the version that is stored."""
    if previous is None:
        raise ConcurrencyError(ticket.id, ticket.version, None)
    if previous.version != ticket.version:
        raise ConcurrencyError(ticket.id, ticket.version, previous.version)


def trashed(ticket: Ticket, at: datetime, expected_version: int, merged_into: str | None) -> Ticket:
    """``ticket`` moved to the trash, checked against ``expected_version``."""
    if ticket.version != expected_version:
        raise ConcurrencyError(ticket.id, expected_version, ticket.version)
    if ticket.is_trashed:
        raise InvalidTransitionError(ticket.id, "trashed", "trashed")
    return attrs.evolve(ticket, trashed_at=at, merged_into=merged_into)


def restored(ticket: Ticket, expected_version: int) -> Ticket:
    """``ticket`` taken out of the trash, checked against ``expected_version``."""
    if ticket.version != expected_version:
        raise ConcurrencyError(ticket.id, expected_version, ticket.version)
    if not ticket.is_trashed:
        raise InvalidTransitionError(ticket.id, "active", "active")
    return attrs.evolve(ticket, trashed_at=None, merged_into=None)
