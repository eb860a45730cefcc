"""What the desk's social use cases return (S1-S9, H1-H4); the use cases themselves are
methods of :class:`deskcore.Desk`: :meth:`~deskcore.Desk.handle_social_item`,
:meth:`~deskcore.Desk.convert_social_item`, :meth:`~deskcore.Desk.append_private_messages`
and :meth:`~deskcore.Desk.connection_view`."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from deskcore.models import DomainEvent, Ticket
from deskcore.models.social import SocialConversation, SocialItem
from deskcore.policies.intake import IntakeAction
from deskcore.policies.social import SocialDecision

__all__ = ["AppendCheck", "SocialOutcome"]


@attrs.frozen(kw_only=True)
class SocialOutcome:
    """What the desk decided and did with one social item.

    Attributes:
        decision: The decision, with its reason and explanation (H4).
        ticket: The ticket the item is on now (created, appended to, reopened, or found
            again); ``None`` when it was skipped or refused.
        item_id: The thread item the item became, or the one it matched.
        intake: How intake filed it: ``create``, ``append``, ``duplicate``, ``revise`` or
            ``conflict`` (P3); ``None`` when nothing was filed.
        events: Domain events of the change; empty when nothing was written.
        conversation: For a private message on a ticket: the record the host keeps for the
            periodic append check (S5), checked as of now.
    """

    decision: SocialDecision
    ticket: Ticket | None = None
    item_id: str | None = None
    intake: IntakeAction | None = None
    events: tuple[DomainEvent, ...] = ()
    conversation: SocialConversation | None = None

    @property
    def changed(self) -> bool:
        """True when something was written."""
        return self.intake in {IntakeAction.CREATE, IntakeAction.APPEND, IntakeAction.REVISE}


@attrs.frozen(kw_only=True)
class AppendCheck:
    """One conversation's append check (S5).

    Attributes:
        conversation: The conversation record to keep: ``last_checked_at`` is the time of the
            run, and ``ticket_id`` the ticket the conversation is on now (a new one, when the
            threading policy started one).
        outcomes: What happened to each new item, oldest first.
    """

    conversation: SocialConversation
    outcomes: tuple[SocialOutcome, ...] = ()

    @property
    def appended(self) -> int:
        """How many items were written onto a ticket."""
        return sum(1 for outcome in self.outcomes if outcome.changed)


def unique_in_conversation(
    items: Iterable[SocialItem], conversation: SocialConversation
) -> tuple[SocialItem, ...]:
    """The items of ``conversation``, each reference once, oldest first: what an append
    check files when no ticket holds the conversation any more."""
    chosen: dict[object, SocialItem] = {}
    for item in items:
        if item.conversation_key == conversation.conversation and not item.is_reaction:
            chosen.setdefault(item.reference, item)
    return tuple(sorted(chosen.values(), key=lambda i: (i.created_at, i.native_id)))
