"""Which chats become tickets, when, with what status and in which department (C1-C7, C11,
C12, D2).

:func:`decide_chat_conversion` is the automatic path, asked again at every chat event;
:func:`decide_manual_conversion` is an agent converting a chat by hand. Both return a
:class:`ConversionDecision` with a reason code and an explanation, never an exception for an
expected outcome.
"""

from __future__ import annotations

import enum

import attrs

from deskcore.models import Actor, Classification, Permission, Priority, TicketStatus
from deskcore.models._validate import coerce
from deskcore.models.chat import ChatEvent, ChatSession, ChatSettings, ConvertWhen, ConvertWhich
from deskcore.models.departments import ChatCapability, DepartmentLink, DepartmentMapping
from deskcore.policies.chat_lookup import access_refusal

__all__ = [
    "ConversionDecision",
    "ConversionOutcome",
    "decide_chat_conversion",
    "decide_manual_conversion",
]


class ConversionOutcome(enum.StrEnum):
    """What a conversion decision says (C12)."""

    CONVERT = "convert"
    WAIT = "wait"
    SKIP = "skip"
    NEEDS_DEPARTMENT = "needs_department"
    NEEDS_EMAIL = "needs_email"
    ALREADY_CONVERTED = "already_converted"
    REFUSED = "refused"


@attrs.frozen(kw_only=True)
class ConversionDecision:
    """A decision on one chat (C12).

    Attributes:
        outcome: What to do.
        reason: Stable code (``missed_converts_at_end``, ``missing_email``...).
        explanation: One sentence a host can show next to the chat.
        department_id: The helpdesk department of the ticket to create (``convert``).
        status: The status of the ticket to create (``convert``).
        priority: The priority of the ticket to create (manual conversion, C6).
        classification: The classification of the ticket to create (manual conversion, C6).
        ticket_id: The ticket the chat already became (``already_converted``, C7).
    """

    outcome: ConversionOutcome
    reason: str
    explanation: str
    department_id: str | None = None
    status: TicketStatus | None = None
    priority: Priority | None = None
    classification: Classification | None = None
    ticket_id: str | None = None

    @property
    def converts(self) -> bool:
        """True when a ticket is to be created now."""
        return self.outcome is ConversionOutcome.CONVERT


def _decision(outcome: ConversionOutcome, reason: str, explanation: str) -> ConversionDecision:
    return ConversionDecision(outcome=outcome, reason=reason, explanation=explanation)


def _gate(
    chat: ChatSession,
    settings: ChatSettings,
    link: DepartmentLink,
    existing_ticket_id: str | None,
    stop: ConversionOutcome,
) -> ConversionDecision | None:
    """The checks both paths share, in order; ``None`` when none of them stops the chat.

    Both need a department whose agents may create tickets (D2); ``stop`` is what a
    refusal is called on the path (``skip`` automatically, ``refused`` by hand).
    """
    if existing_ticket_id is not None:
        return ConversionDecision(
            outcome=ConversionOutcome.ALREADY_CONVERTED,
            reason="already_converted",
            explanation=f"chat {chat.reference} is already ticket {existing_ticket_id}; a chat "
            "converts at most once (C7)",
            ticket_id=existing_ticket_id,
        )
    refusal = access_refusal(settings, link, ChatCapability.CREATE_TICKETS)
    if refusal is not None:
        return _decision(stop, *refusal)
    return None


def decide_chat_conversion(
    chat: ChatSession,
    trigger: ChatEvent,
    settings: ChatSettings,
    mapping: DepartmentMapping,
    *,
    existing_ticket_id: str | None = None,
) -> ConversionDecision:
    """Decide whether ``chat`` becomes a ticket now, at ``trigger`` (C1-C5, C7, C11, C12, D2).

    Ask again at every event of the chat (started, answered, ended, missed, email added).
    The decision depends only on the chat as it is now and the settings (``trigger`` only
    names the moment in the explanation), so repeated or out-of-order events give the same
    answer; ``existing_ticket_id`` (the ticket the chat's reference already claims) makes a
    second conversion impossible (C7).
    """
    link = mapping.link_for(chat.department_id)
    if settings.convert is ConvertWhich.NONE and existing_ticket_id is None:
        return _decision(
            ConversionOutcome.SKIP,
            "automatic_conversion_off",
            "automatic conversion is set to none; an agent may still convert by hand (C4)",
        )
    gate = _gate(chat, settings, link, existing_ticket_id, ConversionOutcome.SKIP)
    if gate is not None:
        return gate
    timing = _timing(chat, settings)
    if timing is not None:
        return timing
    if not link.allows(ChatCapability.AUTO_CONVERT):
        return _decision(
            ConversionOutcome.NEEDS_DEPARTMENT,
            "department_needs_choosing",
            f"chat department {chat.department_id} chooses the helpdesk department each "
            "time; an agent converts it by hand rather than into a guessed department (D2)",
        )
    if not chat.visitor_email:
        return _decision(
            ConversionOutcome.NEEDS_EMAIL,
            "missing_email",
            "the visitor left no email address, so the chat cannot become a ticket "
            "automatically; once an agent adds it, the chat converts (C5)",
        )
    kind = "missed" if chat.missed else "attended"
    moment = "at its end" if chat.missed or settings.when is ConvertWhen.ON_END else "on answer"
    return ConversionDecision(
        outcome=ConversionOutcome.CONVERT,
        reason=f"convert_{kind}",
        explanation=f"{kind} chats convert ({settings.convert.value}), {moment}, into "
        f"department {link.helpdesk_department_id} as {settings.ticket_status.value}; "
        f"decided at the {trigger.value} event (C1-C3)",
        department_id=link.helpdesk_department_id,
        status=settings.ticket_status,
    )


def _timing(chat: ChatSession, settings: ChatSettings) -> ConversionDecision | None:
    """``None`` when the chat is of a kind that converts and its moment has come (C1, C2)."""
    if chat.missed:
        if settings.convert is ConvertWhich.ATTENDED:
            return _decision(
                ConversionOutcome.SKIP,
                "missed_chats_not_converted",
                "only attended chats convert, and no agent answered this one (C1)",
            )
        return None  # a missed chat has ended: its moment has come, whatever the timing (C2)
    if chat.attended:
        if settings.convert is ConvertWhich.MISSED:
            return _decision(
                ConversionOutcome.SKIP,
                "attended_chats_not_converted",
                "only missed chats convert, and an agent answered this one (C1)",
            )
        if settings.when is ConvertWhen.ON_END and not chat.ended:
            return _decision(
                ConversionOutcome.WAIT,
                "converts_on_end",
                "attended chats convert when they end; this one is still going (C2)",
            )
        return None
    if chat.ended:  # ended unanswered but not reported as missed yet: wait for the report
        return _decision(
            ConversionOutcome.WAIT,
            "awaiting_missed_report",
            "the chat ended unanswered; it converts when the chat tool reports it missed (C2)",
        )
    return _decision(
        ConversionOutcome.WAIT,
        "not_answered_yet",
        "no agent has answered yet: the chat converts when answered or when it ends missed (C2)",
    )


def decide_manual_conversion(
    chat: ChatSession,
    settings: ChatSettings,
    mapping: DepartmentMapping,
    *,
    actor: Actor,
    department_id: str | None = None,
    priority: Priority = Priority.MEDIUM,
    status: TicketStatus = TicketStatus.OPEN,
    classification: Classification | None = None,
    existing_ticket_id: str | None = None,
) -> ConversionDecision:
    """An agent converts ``chat`` by hand, choosing priority, status, classification and
    department (C4, C5, C6), where the department mapping allows it (D2) and the actor holds
    ``create_ticket`` (T7).
    """
    status = coerce(TicketStatus, status, "ManualConversion", "status")
    priority = coerce(Priority, priority, "ManualConversion", "priority")
    link = mapping.link_for(chat.department_id)
    gate = _gate(chat, settings, link, existing_ticket_id, ConversionOutcome.REFUSED)
    if gate is not None:
        return gate
    if not actor.can(Permission.CREATE_TICKET):
        return _decision(
            ConversionOutcome.REFUSED,
            "actor_cannot_create_tickets",
            f"{actor.name or actor.id} lacks the create_ticket permission (T7)",
        )
    if not chat.visitor_email:
        return _decision(
            ConversionOutcome.NEEDS_EMAIL,
            "missing_email",
            "add the visitor's email address first; then the chat can be converted (C5)",
        )
    department = department_id or link.helpdesk_department_id
    if department is None:
        return _decision(
            ConversionOutcome.NEEDS_DEPARTMENT,
            "department_needs_choosing",
            f"chat department {chat.department_id} chooses the department each time: pick one (D2)",
        )
    return ConversionDecision(
        outcome=ConversionOutcome.CONVERT,
        reason="converted_by_hand",
        explanation=f"{actor.name or actor.id} converts the chat into department {department} "
        f"as {status.value}, priority {priority.value} (C6)",
        department_id=department,
        status=status,
        priority=priority,
        classification=classification,
    )
