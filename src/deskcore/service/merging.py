"""The desk's merge use cases (M1-M15): plan, merge, associate a chat, restore."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs

from deskcore.errors import (
    InvalidModelError,
)
from deskcore.models import (
    Actor,
    InboundMessage,
    Ticket,
)
from deskcore.policies.merge import (
    MergePlan,
    MergeResult,
    RestoreResult,
    apply_merge,
    check_merge_allowed,
    plan_merge,
    restore_ticket,
)
from deskcore.ports import TicketRepository
from deskcore.service.base import MAX_MERGE_CHAIN, DeskBase, _follow_merges

__all__ = ["MergeUseCases"]


class MergeUseCases(DeskBase):
    """Merging tickets (M1-M15); part of :class:`~deskcore.service.Desk`."""

    # -- merging (M1-M15) -----------------------------------------------------------------------

    def plan_merge(
        self,
        ticket_ids: Sequence[str],
        *,
        actor: Actor,
        primary_id: str | None = None,
        choices: Mapping[str, str] | None = None,
        acknowledge_exposure: bool = False,
    ) -> MergePlan:
        """Load the tickets and plan their merge (M12): what a merge screen renders.

        Changes nothing. Pass the plan, possibly after the person merging confirmed it, to
        :meth:`merge`.

        Raises:
            NotFoundError: A ticket does not exist.
        """
        return plan_merge(
            self.store.get_many(ticket_ids),
            actor=actor,
            primary_id=primary_id,
            choices=choices,
            acknowledge_exposure=acknowledge_exposure,
            policy=self.merge_policy,
        )

    def merge(self, plan: MergePlan, *, actor: Actor) -> MergeResult:
        """Apply ``plan`` atomically, in one unit of work (M3, M6, M7, M12, M15).

        Every ticket is checked against the version it was planned at; the merged-away tickets
        go to the trash and release their references, the primary takes them with their items,
        and the journal entry is recorded, all or nothing.

        Raises:
            MergePermissionDeniedError: ``actor`` lacks ``search_and_merge`` (T7, M10).
            MergeRejectedError: The plan has rejections (all of them are attached).
            StalePlanError: A ticket changed since the plan was made; nothing was written.
        """
        now = self._now()
        with self.store.unit_of_work() as uow:
            result = self._merge_in(uow.tickets, plan, actor, now)
            uow.commit()
        return result

    def _merge_in(
        self, repo: TicketRepository, plan: MergePlan, actor: Actor, now: datetime
    ) -> MergeResult:
        check_merge_allowed(plan, actor)
        tickets = repo.get_many(plan.ticket_ids)
        result = apply_merge(
            plan, tickets, actor=actor, now=now, journal_id=self.ids.new_id("merge")
        )
        # Merged-away tickets first: they release the references the primary then claims.
        trashed = tuple(repo.save(ticket) for ticket in result.trashed)
        primary = repo.save(result.primary)
        repo.add_journal_entry(result.journal)
        return attrs.evolve(result, primary=primary, trashed=trashed)

    def associate_chat(
        self,
        transcript: Sequence[InboundMessage],
        ticket_id: str,
        *,
        actor: Actor,
        choices: Mapping[str, str] | None = None,
        acknowledge_exposure: bool = False,
    ) -> MergeResult | None:
        """Merge a live chat into an existing ticket of the same customer (M13).

        The chat's messages are taken in as intake would (idempotently: a chat already made
        into a ticket is found again), and the chat's ticket is merged into ``ticket_id``,
        which stays the primary. Intake and merge are one unit of work: a rejected merge
        leaves no chat ticket behind. Associating the same chat again changes nothing and
        returns ``None``. To merge an existing ticket into a ticket made from a chat instead,
        call :meth:`merge` with that ticket as the primary: the same rules.

        Raises:
            InvalidModelError: The transcript is empty.
            MergeRejectedError: The merge is refused (different departments, exposure...).
        """
        if not transcript:
            raise InvalidModelError("associate_chat", "transcript", "a chat has messages")
        now = self._now()
        with self.store.unit_of_work() as uow:
            repo = uow.tickets
            contacts: set[str] = set()
            results = [self._receive_in(repo, m, now, contacts) for m in transcript]
            chat = next(r.ticket for r in reversed(results) if r.ticket is not None)
            if _follow_merges(repo, chat).id == ticket_id:
                uow.commit()  # associated before; keep any new lines of the chat
                return None
            plan = plan_merge(
                [repo.get(ticket_id), chat],
                actor=actor,
                primary_id=ticket_id,
                choices=choices,
                acknowledge_exposure=acknowledge_exposure,
                policy=self.merge_policy,
            )
            result = self._merge_in(repo, plan, actor, now)
            uow.commit()
        return result

    def restore(self, ticket_id: str) -> RestoreResult:
        """Take a ticket out of the trash (M3, M14).

        A ticket a merge put there takes its own references back from the ticket that holds
        them now (the end of its merge chain), so later messages addressed to it land on it
        again. What the merge copied into the primary stays there.

        Raises:
            NotFoundError: No such ticket.
            InvalidTransitionError: The ticket is not in the trash.
        """
        now = self._now()
        with self.store.unit_of_work() as uow:
            repo = uow.tickets
            ticket = repo.get(ticket_id)
            holder = None
            chain: list[Ticket] = []
            if ticket.merged_into is not None:
                holder = repo.get(ticket.merged_into)
                while holder.merged_into is not None and len(chain) < MAX_MERGE_CHAIN:
                    chain.append(holder)
                    holder = repo.get(holder.merged_into)
            elsewhere = []
            for reference in ticket.held_references():
                owner = repo.find_by_reference(reference)
                if owner is not None and owner.id not in {ticket.id, getattr(holder, "id", None)}:
                    elsewhere.append(reference)
            result = restore_ticket(
                ticket, holder, now=now, claimed_elsewhere=elsewhere, chain=chain
            )
            stored_chain = tuple(repo.save(middle) for middle in result.chain)
            stored_holder = None if result.holder is None else repo.save(result.holder)
            restored = repo.save(result.restored)
            uow.commit()
        return attrs.evolve(result, restored=restored, holder=stored_holder, chain=stored_chain)
