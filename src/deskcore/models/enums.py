"""Closed enumerations and open code lists of the domain (T3, T4, T5).

Status, priority, visibility and direction are closed sets: :class:`enum.StrEnum` members,
and an unknown value is an error. Classification and channel are *open* code lists: the spec
lets a host configure its own classifications and add channels, so they are small value types
with the defaults as class attributes (``Channel.EMAIL``) and any other well-formed code
accepted (``Channel("line")``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import ClassVar

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._validate import lenient

__all__ = [
    "Channel",
    "Classification",
    "Direction",
    "Permission",
    "Priority",
    "Role",
    "TicketStatus",
    "Visibility",
]


class TicketStatus(enum.StrEnum):
    """The four statuses of a ticket (T3); allowed changes: :mod:`deskcore.policies.lifecycle`."""

    OPEN = "open"
    ON_HOLD = "on_hold"
    ESCALATED = "escalated"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    """Ticket priority (T3)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Visibility(enum.StrEnum):
    """Whether a thread item is shown to the customer in the help center (T5)."""

    PUBLIC = "public"
    PRIVATE = "private"


class Direction(enum.StrEnum):
    """Whether a message came from the customer (inbound) or went to them (outbound) (T5)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Role(enum.StrEnum):
    """Roles an actor can hold (T7)."""

    AGENT = "agent"
    MANAGER = "manager"
    ADMIN = "admin"
    SOCIAL_ADMIN = "social_admin"


class Permission(enum.StrEnum):
    """Permissions that the seeds restrict (T7)."""

    SEARCH_AND_MERGE = "search_and_merge"
    CREATE_TICKET = "create_ticket"
    CHANGE_STATUS = "change_status"
    VIEW_TICKET = "view_ticket"


_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")


def _code(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _CODE.match(value):
        raise InvalidModelError(
            type(instance).__name__,
            attribute.name,
            f"{value!r} is not a code: use 1-64 lowercase letters, digits or '_', "
            "starting with a letter",
        )


@attrs.frozen(repr=False, order=True)
class Channel:
    """A channel a ticket or message arrives through (T4): an open code list.

    The defaults are class attributes; a host adds its own with ``Channel("line")``.
    Compares, hashes and sorts by its code, and ``str(channel)`` is the code.
    """

    code: str = attrs.field(validator=_code)

    EMAIL: ClassVar[Channel]
    CHAT: ClassVar[Channel]
    WEB: ClassVar[Channel]
    PHONE: ClassVar[Channel]
    FACEBOOK: ClassVar[Channel]
    TWITTER: ClassVar[Channel]

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f"Channel({self.code!r})"

    @classmethod
    def defaults(cls) -> tuple[Channel, ...]:
        """The six channels of the spec, in the spec's order."""
        return (cls.EMAIL, cls.CHAT, cls.WEB, cls.PHONE, cls.FACEBOOK, cls.TWITTER)


Channel.EMAIL = Channel("email")
Channel.CHAT = Channel("chat")
Channel.WEB = Channel("web")
Channel.PHONE = Channel("phone")
Channel.FACEBOOK = Channel("facebook")
Channel.TWITTER = Channel("twitter")


@attrs.frozen(repr=False, order=True)
class Classification:
    """A ticket classification (T3): an open code list with the seeds' defaults.

    A host that configures its own list passes it to :class:`deskcore.DeskSettings`, which
    rejects codes outside it at intake.
    """

    code: str = attrs.field(validator=_code)

    QUESTION: ClassVar[Classification]
    PROBLEM: ClassVar[Classification]
    FEATURE_REQUEST: ClassVar[Classification]
    OTHERS: ClassVar[Classification]

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f"Classification({self.code!r})"

    @classmethod
    def defaults(cls) -> tuple[Classification, ...]:
        """The default list: question, problem, feature request, others."""
        return (cls.QUESTION, cls.PROBLEM, cls.FEATURE_REQUEST, cls.OTHERS)


Classification.QUESTION = Classification("question")
Classification.PROBLEM = Classification("problem")
Classification.FEATURE_REQUEST = Classification("feature_request")
Classification.OTHERS = Classification("others")


# attrs converters: named functions, as mypy's attrs plugin requires. Unknown values pass
# through unchanged and are reported, with the field's name, by ``_validate.member``.


def to_status(value: TicketStatus | str) -> TicketStatus:
    """Convert a status code to :class:`TicketStatus` (unknown codes pass through)."""
    return lenient(TicketStatus, value)


def to_priority(value: Priority | str) -> Priority:
    """Convert a priority code to :class:`Priority` (unknown codes pass through)."""
    return lenient(Priority, value)


def to_visibility(value: Visibility | str) -> Visibility:
    """Convert a visibility code to :class:`Visibility` (unknown codes pass through)."""
    return lenient(Visibility, value)


def to_direction(value: Direction | str) -> Direction:
    """Convert a direction code to :class:`Direction` (unknown codes pass through)."""
    return lenient(Direction, value)


def to_roles(values: Iterable[Role | str]) -> frozenset[Role]:
    """Convert role codes to a frozenset of :class:`Role` (unknown codes pass through)."""
    if isinstance(values, str):
        return values  # type: ignore[return-value]  # reported by the validator
    return frozenset(lenient(Role, v) for v in values)


def to_permissions(values: Iterable[Permission | str]) -> frozenset[Permission]:
    """Convert permission codes to a frozenset of :class:`Permission`."""
    if isinstance(values, str):
        return values  # type: ignore[return-value]  # reported by the validator
    return frozenset(lenient(Permission, v) for v in values)
