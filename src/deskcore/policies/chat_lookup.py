"""What an agent may look up and change from inside a chat, and how (C8-C10, C11, D2).

The functions here are pure: they check access against the integration settings and the
chat department's link, and build the :class:`~deskcore.models.TicketQuery` values a
repository answers. :class:`deskcore.Desk` runs them against the store.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable

import attrs

from deskcore.errors import ChatAccessDeniedError, InvalidModelError
from deskcore.models import Actor, Permission, Ticket, TicketQuery, TicketStatus
from deskcore.models._validate import (
    MAX_INT,
    coerce,
    instance_of,
    non_negative_int,
    optional_text,
)
from deskcore.models.chat import ChatSession, ChatSettings, LinkState, LookupScope
from deskcore.models.departments import ChatCapability, DepartmentLink, DepartmentMapping
from deskcore.models.query import MAX_LIMIT, check_term, fold

__all__ = [
    "CHAT_STATUSES",
    "CustomerProfile",
    "SearchField",
    "VisitorPanel",
    "access_refusal",
    "chat_search_queries",
    "check_chat_status_change",
    "combine_results",
    "lookup_departments",
    "recent_tickets_query",
    "require_chat_access",
    "visitor_tickets_query",
]

CHAT_STATUSES = frozenset({TicketStatus.OPEN, TicketStatus.CLOSED})
"""The statuses an agent may set on a linked ticket from a chat (C10)."""

OPEN_STATUSES = frozenset(TicketStatus) - {TicketStatus.CLOSED}

_NUMBER = re.compile(r"#?\s*([0-9]{1,19})")


class SearchField(enum.StrEnum):
    """What a search term from a chat is matched against (C8)."""

    ANY = "any"
    VISITOR_NAME = "visitor_name"
    TICKET_NUMBER = "ticket_number"
    EMAIL = "email"
    SUBJECT = "subject"


def access_refusal(
    settings: ChatSettings, link: DepartmentLink, capability: ChatCapability
) -> tuple[str, str] | None:
    """Why agents of ``link``'s chat department may not do ``capability`` now, as a reason
    code and an explanation; ``None`` when they may (C11, D2)."""
    if not settings.enabled:
        return "integration_disabled", "the chat integration is disabled (C11)"
    if settings.link_state is LinkState.NEEDS_RELINK:
        return (
            "integration_needs_relink",
            f"the integration's owner {settings.owner_id} was deleted or deactivated; nothing "
            "works until an admin links it again (C11)",
        )
    if not link.allows(capability):
        default = link.default.value if link.default is not None else "mapped"
        return (
            f"department_{default}",
            f"chat department {link.chat_department_id} is set to {default.replace('_', ' ')}, "
            f"which does not allow {_DOING[capability]} (D2)",
        )
    return None


_DOING = {
    ChatCapability.VIEW_TICKETS: "viewing tickets",
    ChatCapability.CREATE_TICKETS: "creating tickets",
    ChatCapability.CHANGE_STATUS: "changing a ticket's status",
    ChatCapability.AUTO_CONVERT: "automatic conversion",
}


def require_chat_access(
    settings: ChatSettings, link: DepartmentLink, capability: ChatCapability
) -> None:
    """Raise :class:`~deskcore.errors.ChatAccessDeniedError` unless agents of ``link``'s chat
    department may do ``capability`` now."""
    refusal = access_refusal(settings, link, capability)
    if refusal is not None:
        raise ChatAccessDeniedError(link.chat_department_id, capability.value, *refusal)


def lookup_departments(settings: ChatSettings, link: DepartmentLink) -> frozenset[str] | None:
    """The helpdesk departments a lookup from a chat of ``link``'s department covers;
    ``None`` for all of them (C8).

    With the "associated departments" scope, a mapped chat department sees its helpdesk
    department only. A view-only or choose-each-time department has no department of its
    own, so it sees all of them, whatever the scope. A department with no integration sees
    none (an empty set); :func:`require_chat_access` refuses it before any lookup.
    """
    department = link.helpdesk_department_id
    if department is None:  # a default (D1)
        return None if link.searches_all_departments else frozenset()
    if settings.lookup_scope is LookupScope.ALL_DEPARTMENTS:
        return None
    return frozenset({department})


def _limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidModelError("ChatLookup", "limit", f"must be an int in 1..{MAX_LIMIT}")
    return limit


def recent_tickets_query(
    chat: ChatSession, settings: ChatSettings, mapping: DepartmentMapping, *, limit: int = 10
) -> TicketQuery | None:
    """The query of the visitor's recent tickets, newest first (C8); ``None`` when the
    visitor left no email address, the only thing that identifies them to the helpdesk.

    Raises:
        ChatAccessDeniedError: Agents of the chat's department may not view tickets.
    """
    link = mapping.link_for(chat.department_id)
    require_chat_access(settings, link, ChatCapability.VIEW_TICKETS)
    if not chat.visitor_email or not fold(chat.visitor_email):
        return None
    return TicketQuery(
        contact_email=chat.visitor_email,
        department_ids=lookup_departments(settings, link),
        limit=_limit(limit),
    )


def visitor_tickets_query(
    chat: ChatSession,
    settings: ChatSettings,
    mapping: DepartmentMapping,
    *,
    open_only: bool = False,
) -> TicketQuery | None:
    """Every ticket of the visitor the chat may see, for the visitor panel (C9); ``None``
    without an email address. Page through it with ``offset``; count it with ``count``.

    Raises:
        ChatAccessDeniedError: Agents of the chat's department may not view tickets.
    """
    query = recent_tickets_query(chat, settings, mapping, limit=MAX_LIMIT)
    if query is None or not open_only:
        return query
    return attrs.evolve(query, statuses=OPEN_STATUSES)


def chat_search_queries(
    chat: ChatSession,
    term: str,
    settings: ChatSettings,
    mapping: DepartmentMapping,
    *,
    field: SearchField | str = SearchField.ANY,
    limit: int = 20,
) -> tuple[TicketQuery, ...]:
    """The queries of a search from a chat by visitor name, ticket number, email or subject
    keyword (C8). Their results combine with :func:`combine_results`.

    With :attr:`SearchField.ANY` the term is tried against every field it can match: as a
    ticket number when it is one (``1234``, ``#1234``, full-width digits too), as an email
    address when it has an ``@``, and always as part of a visitor name and of a subject.

    Raises:
        ChatAccessDeniedError: Agents of the chat's department may not view tickets.
        InvalidModelError: The term is blank, longer than 1,000 characters, not valid
            Unicode, or asked for as a ticket number and not one.
        UnknownValueError: ``field`` is not a :class:`SearchField`.
    """
    field = coerce(SearchField, field, "ChatLookup", "field")
    check_term("ChatLookup", "term", term)
    link = mapping.link_for(chat.department_id)
    require_chat_access(settings, link, ChatCapability.VIEW_TICKETS)
    base = TicketQuery(department_ids=lookup_departments(settings, link), limit=_limit(limit))
    folded = fold(term)
    queries: list[TicketQuery] = []
    if field in (SearchField.ANY, SearchField.TICKET_NUMBER):
        number = _ticket_number(folded)
        if number is not None:
            queries.append(attrs.evolve(base, number=number))
        elif field is SearchField.TICKET_NUMBER:
            raise InvalidModelError("ChatLookup", "term", f"{term!r} is not a ticket number")
    if field is SearchField.EMAIL or (field is SearchField.ANY and "@" in folded):
        queries.append(attrs.evolve(base, contact_email=term))
    if field in (SearchField.ANY, SearchField.VISITOR_NAME):
        queries.append(attrs.evolve(base, contact_name=term))
    if field in (SearchField.ANY, SearchField.SUBJECT):
        queries.append(attrs.evolve(base, subject=term))
    return tuple(queries)


def _ticket_number(folded: str) -> int | None:
    match = _NUMBER.fullmatch(folded)
    if match is None:
        return None
    number = int(match.group(1))
    return number if 1 <= number <= MAX_INT else None


def combine_results(results: Iterable[Iterable[Ticket]], limit: int) -> list[Ticket]:
    """The union of several result lists, each ticket once, newest first, cut to ``limit``."""
    unique = {ticket.id: ticket for found in results for ticket in found}
    return sorted(unique.values(), key=TicketQuery.order_key)[:limit]


def check_chat_status_change(
    chat: ChatSession,
    ticket: Ticket,
    to_status: TicketStatus | str,
    settings: ChatSettings,
    mapping: DepartmentMapping,
    *,
    actor: Actor,
) -> TicketStatus:
    """Check that ``actor`` may set ``ticket`` to ``to_status`` from ``chat`` (C10); returns
    the status.

    From a chat a linked ticket is set to open or closed, for example to reopen an earlier
    ticket instead of making a duplicate. The chat's department must allow changing status
    (view-only departments cannot, D2), the ticket must be one the chat may see (C8), and
    the actor needs the ``change_status`` permission (T7).

    Raises:
        InvalidModelError: ``to_status`` is neither open nor closed.
        ChatAccessDeniedError: The chat's department may not change status, or the ticket
            is outside the departments the chat sees, or in the trash.
        PermissionDeniedError: The actor lacks ``change_status``.
    """
    status = coerce(TicketStatus, to_status, "ChatStatusChange", "to_status")
    if status not in CHAT_STATUSES:
        raise InvalidModelError(
            "ChatStatusChange",
            "to_status",
            f"from a chat a ticket is set to open or closed, not {status.value} (C10)",
        )
    link = mapping.link_for(chat.department_id)
    require_chat_access(settings, link, ChatCapability.CHANGE_STATUS)
    departments = lookup_departments(settings, link)
    if departments is not None and ticket.department_id not in departments:
        raise ChatAccessDeniedError(
            chat.department_id,
            ChatCapability.CHANGE_STATUS.value,
            "ticket_out_of_scope",
            f"ticket {ticket.number} is in department {ticket.department_id}, which chats of "
            f"department {chat.department_id} do not see (C8)",
        )
    if ticket.is_trashed:
        raise ChatAccessDeniedError(
            chat.department_id,
            ChatCapability.CHANGE_STATUS.value,
            "ticket_trashed",
            f"ticket {ticket.number} is in the trash; restore it first",
        )
    actor.require(Permission.CHANGE_STATUS, "change a ticket's status from a chat")
    return status


_optional_label = optional_text(1000)


@attrs.frozen(kw_only=True)
class CustomerProfile:
    """What the host knows of a customer beyond the tickets: the panel's names (C9).

    The host owns accounts, service-level agreements, contracts and contact owners; it
    supplies their display names.
    """

    account_name: str | None = attrs.field(default=None, validator=_optional_label)
    sla_name: str | None = attrs.field(default=None, validator=_optional_label)
    contract_name: str | None = attrs.field(default=None, validator=_optional_label)
    contact_owner: str | None = attrs.field(default=None, validator=_optional_label)


@attrs.frozen(kw_only=True)
class VisitorPanel:
    """The helpdesk's data on a chat's visitor, as the chat window shows it (C9).

    Attributes:
        contact_id: The visitor's helpdesk contact (of their newest ticket), if known.
        profile: The host's names: account, SLA, contract, contact owner.
        total_tickets: The visitor's tickets the chat may see.
        overdue_tickets: How many of them are overdue; ``None`` when no overdue rule was given.
        recent: The newest of them.
    """

    contact_id: str | None = None
    profile: CustomerProfile = attrs.field(
        factory=CustomerProfile, validator=instance_of(CustomerProfile)
    )
    total_tickets: int = attrs.field(default=0, validator=non_negative_int)
    overdue_tickets: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(non_negative_int)
    )
    recent: tuple[Ticket, ...] = ()
