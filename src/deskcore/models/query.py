"""Ticket search criteria, with the reference semantics every repository must follow (P2)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._validate import instance_of, members, optional_identifier, positive_int
from deskcore.models.enums import TicketStatus, to_status
from deskcore.models.parties import Contact
from deskcore.models.ticket import Ticket

__all__ = ["TicketQuery", "epoch_micros", "fold"]

MAX_LIMIT = 1000
MAX_OFFSET = 2**31 - 1


def fold(text: str) -> str:
    """Normalise text for comparison: Unicode NFKC, case folding, surrounding space trimmed.

    Full-width and half-width forms compare equal (``ＡＢＣ`` = ``abc``), as do cases.
    """
    return unicodedata.normalize("NFKC", text).casefold().strip()


def check_term(model: str, field: str, value: object) -> str:
    """Return ``value`` if it is a usable search term: a string of at most 1,000 characters,
    valid Unicode, not blank once folded; else raise :class:`InvalidModelError`."""
    if not isinstance(value, str) or len(value) > 1000:
        raise InvalidModelError(model, field, "a search term must be a non-blank string (≤1000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidModelError(
            model, field, "text is not valid Unicode (lone surrogate)"
        ) from None
    if not fold(value):
        raise InvalidModelError(model, field, "a search term must be a non-blank string (≤1000)")
    return value


def _criterion(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_term("TicketQuery", attribute.name, value)


def _limit(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_LIMIT:
        raise InvalidModelError("TicketQuery", "limit", f"must be an int in 1..{MAX_LIMIT}")


def _offset(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_OFFSET:
        raise InvalidModelError("TicketQuery", "offset", f"must be an int in 0..{MAX_OFFSET}")


def _statuses(
    value: Iterable[TicketStatus | str] | TicketStatus | str | None,
) -> frozenset[TicketStatus] | None:
    if value is None:
        return None
    if isinstance(value, str):  # a single status (TicketStatus is a str too)
        return frozenset({to_status(value)})
    candidate: object = value
    if not isinstance(candidate, Iterable):
        return candidate  # type: ignore[return-value]  # reported by the validator
    return frozenset(to_status(v) for v in value)


_status_members = members(TicketStatus)


def _check_statuses(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _status_members(instance, attribute, value)


def _departments(value: Iterable[str] | str | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value)


@attrs.frozen(kw_only=True)
class TicketQuery:
    """What to search for. Criteria combine with AND; unset criteria match everything.

    Semantics (every repository must give the same answer; the contract suite checks it):

    - ``number``: the ticket number, exactly.
    - ``contact_id``: the ticket's contact, exactly.
    - ``subject``: the folded keyword occurs in the folded subject (see :func:`fold`).
    - ``contact_email``: the folded email equals the contact's folded email.
    - ``contact_name``: the folded name occurs in the contact's folded name.
    - ``department_ids``: the ticket is in one of these departments.
    - ``statuses``: the ticket's status is one of these.
    - trashed tickets are left out unless ``include_trashed``.
    - results are ordered newest first (``created_at``, then ``number``, descending); the
      first ``offset`` are skipped and the rest cut to ``limit``.
    - ``count`` counts every match, whatever ``offset`` and ``limit``.
    """

    number: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(positive_int)
    )
    contact_id: str | None = attrs.field(default=None, validator=optional_identifier)
    subject: str | None = attrs.field(default=None, validator=_criterion)
    contact_email: str | None = attrs.field(default=None, validator=_criterion)
    contact_name: str | None = attrs.field(default=None, validator=_criterion)
    department_ids: frozenset[str] | None = attrs.field(default=None, converter=_departments)
    statuses: frozenset[TicketStatus] | None = attrs.field(
        default=None, converter=_statuses, validator=_check_statuses
    )
    include_trashed: bool = attrs.field(default=False, validator=instance_of(bool))
    limit: int = attrs.field(default=50, validator=_limit)
    offset: int = attrs.field(default=0, validator=_offset)

    @property
    def needs_contact(self) -> bool:
        """True when matching needs the ticket's contact."""
        return self.contact_email is not None or self.contact_name is not None

    def matches(self, ticket: Ticket, contact: Contact | None) -> bool:
        """The reference predicate: does ``ticket`` (with its ``contact``) match?"""
        if ticket.is_trashed and not self.include_trashed:
            return False
        if self.number is not None and ticket.number != self.number:
            return False
        if self.contact_id is not None and ticket.contact_id != self.contact_id:
            return False
        if self.department_ids is not None and ticket.department_id not in self.department_ids:
            return False
        if self.statuses is not None and ticket.status not in self.statuses:
            return False
        if self.subject is not None and fold(self.subject) not in fold(ticket.subject):
            return False
        if self.contact_email is not None and (
            contact is None
            or contact.email is None
            or fold(contact.email) != fold(self.contact_email)
        ):
            return False
        return self.contact_name is None or (
            contact is not None and fold(self.contact_name) in fold(contact.name)
        )

    @staticmethod
    def order_key(ticket: Ticket) -> tuple[int, int]:
        """Sort key of the result order (ascending key = newest first)."""
        return (-epoch_micros(ticket.created_at), -ticket.number)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_micros(moment: datetime) -> int:
    """Whole microseconds since the Unix epoch: an exact, time-zone-free instant."""
    return (moment - _EPOCH) // timedelta(microseconds=1)
