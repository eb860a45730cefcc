"""Merging through the Desk service, on both reference stores (M1-M15): plan and merge,
atomic writes with version checks, restore, chat association, the journal, and later intake
addressed to merged-away tickets.

Every test runs on the in-memory and on the SQLite repository.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import (
    Actor,
    Channel,
    Contact,
    DeskSettings,
    DuplicateError,
    Exposure,
    ExternalReference,
    InboundMessage,
    IntakeAction,
    InvalidModelError,
    InvalidTransitionError,
    MergeJournalEntry,
    MergePlan,
    MergePolicy,
    MergeRejectedError,
    MergeResult,
    NotFoundError,
    Permission,
    PermissionDeniedError,
    StalePlanError,
    Ticket,
    TicketMerged,
    TicketQuery,
    TicketStatus,
    TicketTrashed,
    Visibility,
)
from deskcore.adapters import InMemoryTicketRepository, SQLiteTicketRepository
from deskcore.ports import TicketStore
from deskcore.service import Desk
from deskcore.testing import FixedClock, SequentialIds
from deskcore.testing import strategies as s

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
SETTINGS = DeskSettings(default_department_id="support")
LEAD = Actor(id="lead-1", name="Lead", permissions=[Permission.SEARCH_AND_MERGE])
AGENT = Actor(id="agent-1", name="Agent", permissions=[Permission.VIEW_TICKET])
ANA = Contact(id="ana", name="Ana", email="ana@example.com")
BEN = Contact(id="ben", name="Ben", email="ben@example.com")
STORES = ("memory", "sqlite")

_files = itertools.count()


def tweet(native_id: str) -> ExternalReference:
    return ExternalReference(network="twitter", account="brand", kind="tweet", native_id=native_id)


def dm(native_id: str) -> ExternalReference:
    return ExternalReference(network="twitter", account="brand", kind="dm", native_id=native_id)


def chat_session(native_id: str) -> ExternalReference:
    return ExternalReference(
        network="chat", account="site", kind="chat_session", native_id=native_id
    )


def chat_line(native_id: str) -> ExternalReference:
    return ExternalReference(network="chat", account="site", kind="line", native_id=native_id)


def open_store(kind: str, directory: Path) -> TicketStore:
    if kind == "memory":
        return InMemoryTicketRepository()
    return SQLiteTicketRepository(directory / f"desk-{next(_files)}.sqlite3")


@attrs.define
class Env:
    """A desk over one store, with a clock that moves a minute per message."""

    desk: Desk
    store: TicketStore
    clock: FixedClock

    def receive(
        self,
        native_id: str,
        conversation: ExternalReference | None,
        *,
        contact: Contact = ANA,
        reference: ExternalReference | None = None,
        **changes: Any,
    ) -> Ticket:
        result = self.desk.receive(
            self.inbound(native_id, conversation, contact, reference, **changes)
        )
        assert result.ticket is not None
        return result.ticket

    def inbound(
        self,
        native_id: str,
        conversation: ExternalReference | None,
        contact: Contact = ANA,
        reference: ExternalReference | None = None,
        **changes: Any,
    ) -> InboundMessage:
        self.clock.advance(minutes=1)
        fields: dict[str, Any] = {
            "reference": reference if reference is not None else tweet(native_id),
            "conversation": conversation,
            "channel": Channel.TWITTER,
            "contact": contact,
            "body": f"message {native_id}",
            "sent_at": self.clock.now(),
        }
        return InboundMessage(**(fields | changes))

    def merge(self, *ticket_ids: str, **options: Any) -> MergeResult:
        plan = self.desk.plan_merge(list(ticket_ids), actor=LEAD, **options)
        assert plan.ok, plan.rejections
        self.clock.advance(minutes=1)
        return self.desk.merge(plan, actor=LEAD)

    def owner(self, reference: ExternalReference) -> str | None:
        """The id of the ticket that claims ``reference``, if any."""
        found = self.store.find_by_reference(reference)
        return None if found is None else found.id

    def tickets(self) -> list[Ticket]:
        return self.store.search(TicketQuery(include_trashed=True, limit=1000))

    def snapshot(self, *references: ExternalReference) -> Any:
        """Everything a merge could write: tickets, who claims the references, journals."""
        tickets = sorted(self.tickets(), key=lambda t: t.id)
        owners = {}
        for ref in references:
            found = self.store.find_by_reference(ref)
            owners[ref] = None if found is None else found.id
        journals = {t.id: self.store.journal(t.id) for t in tickets}
        contacts = {c.id: self.store.get_contact(c.id) for c in (ANA, BEN)}
        return tickets, owners, journals, contacts


@pytest.fixture(params=STORES)
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    store = open_store(request.param, tmp_path)
    clock = FixedClock(T0)
    yield Env(Desk(store=store, settings=SETTINGS, clock=clock, ids=SequentialIds()), store, clock)
    if isinstance(store, SQLiteTicketRepository):
        store.close()


def codes(error: MergeRejectedError | MergePlan) -> set[str]:
    reasons = error.reasons if isinstance(error, MergeRejectedError) else error.rejections
    return {r.code for r in reasons}


def two_tickets(env: Env) -> tuple[Ticket, Ticket]:
    """Two DM conversations of Ana, the older first, one message each."""
    a = env.receive("a1", dm("conv-a"))
    b = env.receive("b1", dm("conv-b"))
    return a, b


# -- M12, M15: one atomic merge ------------------------------------------------------------------


def test_M6_M7_M12_M15_merge_writes_primary_trash_and_journal(env: Env) -> None:
    """M6/M7/M12/M15: the merge stores the merged primary, the trashed ticket marked with the
    primary, and one journal entry found from either ticket; events say what happened."""
    a, b = two_tickets(env)
    plan = env.desk.plan_merge([b.id, a.id], actor=LEAD)
    assert plan.ok
    assert plan.primary_id == a.id  # the oldest (M4)
    env.clock.advance(hours=1)
    result = env.desk.merge(plan, actor=LEAD)
    stored_a, stored_b = env.store.get(a.id), env.store.get(b.id)
    assert result.primary == stored_a
    assert result.trashed == (stored_b,)
    assert stored_a.version == a.version + 1
    assert Counter(stored_a.thread) == Counter([*a.thread, *b.thread])
    assert stored_b.merged_into == a.id
    assert stored_b.trashed_at == env.clock.now()
    assert stored_b.thread == b.thread
    assert env.store.journal(a.id) == env.store.journal(b.id) == [result.journal]
    assert result.journal.at == env.clock.now()
    assert result.journal.actor_id == LEAD.id
    assert result.events == (
        TicketTrashed(ticket_id=b.id, at=env.clock.now(), merged_into=a.id),
        TicketMerged(
            ticket_id=a.id,
            at=env.clock.now(),
            merged_ticket_ids=(b.id,),
            journal_id=result.journal.id,
        ),
    )
    # Trashed tickets leave the default search, the primary stays (M6).
    assert [t.id for t in env.store.search(TicketQuery())] == [a.id]


def test_M12_planning_writes_nothing(env: Env) -> None:
    """M12: plan_merge only reads; the stores are exactly as before, rejected or not."""
    a, b = two_tickets(env)
    refs = (dm("conv-a"), dm("conv-b"), tweet("a1"), tweet("b1"))
    before = env.snapshot(*refs)
    env.desk.plan_merge([a.id, b.id], actor=LEAD)
    env.desk.plan_merge([a.id, b.id], actor=AGENT)
    env.desk.plan_merge([a.id, b.id], actor=LEAD, choices={"created_at": b.id})
    assert env.snapshot(*refs) == before
    with pytest.raises(NotFoundError):
        env.desk.plan_merge([a.id, "no-such-ticket"], actor=LEAD)


@pytest.mark.parametrize("changed", ["primary", "merged"])
def test_M12_a_ticket_changed_since_the_plan_refuses_the_whole_merge(
    env: Env, changed: str
) -> None:
    """M12: if any ticket changed after planning (a new message, a status change), merge
    raises StalePlanError and writes nothing; planning again succeeds."""
    a, b = two_tickets(env)
    plan = env.desk.plan_merge([a.id, b.id], actor=LEAD)
    if changed == "merged":
        env.receive("b2", dm("conv-b"))
        target = b
    else:
        env.desk.change_status(a.id, TicketStatus.ON_HOLD)
        target = a
    refs = (dm("conv-a"), dm("conv-b"), tweet("a1"), tweet("b1"), tweet("b2"))
    before = env.snapshot(*refs)
    with pytest.raises(StalePlanError) as caught:
        env.desk.merge(plan, actor=LEAD)
    assert caught.value.ticket_id == target.id
    assert caught.value.expected_version == target.version
    assert caught.value.actual_version == target.version + 1
    assert env.snapshot(*refs) == before
    assert env.store.journal(a.id) == []
    current = env.store.get_many([a.id, b.id])
    result = env.merge(a.id, b.id)
    assert Counter(result.primary.thread) == Counter(i for t in current for i in t.thread)


def test_M12_a_failure_in_the_middle_of_a_merge_writes_nothing(env: Env) -> None:
    """M12: when the last write of a merge fails (here the journal id is taken), the trashed
    tickets and the primary written before it are rolled back too."""
    a, b = two_tickets(env)
    env.store.add_journal_entry(
        MergeJournalEntry(
            id="merge-1", at=T0, actor_id="x", primary_id="p", merged_ticket_ids=("q",)
        )
    )
    refs = (dm("conv-a"), dm("conv-b"), tweet("a1"), tweet("b1"))
    before = env.snapshot(*refs)
    plan = env.desk.plan_merge([a.id, b.id], actor=LEAD)
    with pytest.raises(DuplicateError):
        env.desk.merge(plan, actor=LEAD)
    assert env.snapshot(*refs) == before
    assert env.store.find_by_reference(dm("conv-b")) == env.store.get(b.id)


def test_M1_the_desk_uses_its_merge_policy(env: Env) -> None:
    """M1: a host lowers (or raises) the maximum in the desk's merge policy."""
    ids = [env.receive(str(n), dm(f"conv-{n}")).id for n in range(6)]
    assert codes(env.desk.plan_merge(ids, actor=LEAD)) == {"too_many_tickets"}

    def desk(maximum: int) -> Desk:
        return Desk(
            store=env.store,
            settings=SETTINGS,
            clock=env.clock,
            ids=SequentialIds("other-"),
            merge_policy=MergePolicy(max_tickets=maximum),
        )

    assert codes(desk(2).plan_merge(ids[:3], actor=LEAD)) == {"too_many_tickets"}
    assert desk(2).plan_merge(ids[:2], actor=LEAD).ok
    assert desk(6).plan_merge(ids, actor=LEAD).ok
    result = desk(6).merge(desk(6).plan_merge(ids, actor=LEAD), actor=LEAD)
    assert len(result.trashed) == 5


# -- M10 and every reason at once, through the desk ----------------------------------------------


def test_M10_merge_without_permission_is_refused_and_writes_nothing(env: Env) -> None:
    """M10/T7: an agent without search_and_merge cannot merge: the plan says so, merge refuses
    naming the permission, and nothing is written."""
    a, b = two_tickets(env)
    refs = (dm("conv-a"), dm("conv-b"))
    before = env.snapshot(*refs)
    plan = env.desk.plan_merge([a.id, b.id], actor=AGENT)
    assert codes(plan) == {"missing_permission"}
    with pytest.raises(MergeRejectedError) as caught:
        env.desk.merge(plan, actor=AGENT)
    assert codes(caught.value) == {"missing_permission"}
    assert isinstance(caught.value, PermissionDeniedError)  # T7: a permission error too
    assert caught.value.missing == "search_and_merge"
    assert env.snapshot(*refs) == before


def test_M10_a_plan_cannot_be_applied_by_an_actor_without_permission(env: Env) -> None:
    """M10/T7/M15: the actor who merges (and is recorded in the journal) needs the
    permission, even when the plan was made by someone who has it: a permission error naming
    search_and_merge, and nothing is written."""
    a, b = two_tickets(env)
    plan = env.desk.plan_merge([a.id, b.id], actor=LEAD)
    refs = (dm("conv-a"), dm("conv-b"))
    before = env.snapshot(*refs)
    with pytest.raises(PermissionDeniedError) as caught:
        env.desk.merge(plan, actor=AGENT)
    assert caught.value.missing == "search_and_merge"
    assert isinstance(caught.value, MergeRejectedError)
    assert codes(caught.value) == {"missing_permission"}
    assert env.snapshot(*refs) == before


def test_M1_M2_M5_M6_M9_M10_the_desk_reports_every_reason_at_once(env: Env) -> None:
    """M1/M2/M5/M6/M9/M10: a request breaking many rules is refused with every reason in one
    MergeRejectedError, and nothing is written."""
    policy_desk = Desk(
        store=env.store,
        settings=SETTINGS,
        clock=env.clock,
        ids=SequentialIds("other-"),
        merge_policy=MergePolicy(max_tickets=4),
    )
    ana = env.receive("1", dm("c1"))
    ben = env.receive("2", dm("c2"), contact=BEN)
    sales = env.receive("3", dm("c3"), department_id="sales")
    deleted = env.receive("4", dm("c4"))
    env.store.trash(deleted.id, at=env.clock.now(), expected_version=deleted.version)
    merged = env.receive("5", dm("c5"))
    env.merge(ana.id, merged.id)
    ids = [ana.id, ben.id, sales.id, deleted.id, merged.id]
    refs = tuple(dm(f"c{n}") for n in range(1, 6))
    before = env.snapshot(*refs)
    plan = policy_desk.plan_merge(
        ids, actor=AGENT, choices={"first_responded_at": ben.id, "on_hold_time": sales.id}
    )
    expected = {
        "too_many_tickets",
        "different_departments",
        "already_trashed",
        "already_merged",
        "missing_permission",
        "protected_field",
        "unacknowledged_exposure",
    }
    assert codes(plan) == expected
    with pytest.raises(MergeRejectedError) as caught:
        policy_desk.merge(plan, actor=AGENT)
    assert caught.value.reasons == plan.rejections
    assert codes(caught.value) == expected
    assert isinstance(caught.value, PermissionDeniedError)  # T7
    assert env.snapshot(*refs) == before


# -- M5, M11: customers ------------------------------------------------------------------------


def test_M5_M11_different_contacts_are_refused_unless_acknowledged(env: Env) -> None:
    """M5/M11: merging Ben's ticket into Ana's names who would see whose public messages
    (Ana sees Ben's public ones; Ben's private message is not listed) and is refused until
    acknowledged; then it goes ahead."""
    ana = env.receive("a1", dm("conv-ana"))
    env.receive("b1", dm("conv-ben"), contact=BEN)
    ben = env.receive("b2", dm("conv-ben"), contact=BEN, visibility=Visibility.PRIVATE)
    public = next(m.id for m in ben.messages() if m.visibility is Visibility.PUBLIC)
    private = next(m.id for m in ben.messages() if m.visibility is Visibility.PRIVATE)
    plan = env.desk.plan_merge([ana.id, ben.id], actor=LEAD)
    assert plan.exposures == (
        Exposure(
            ticket_id=ben.id, owner_contact_id="ben", viewer_contact_id="ana", item_ids=(public,)
        ),
    )
    assert private not in plan.exposures[0].item_ids
    assert codes(plan) == {"unacknowledged_exposure"}
    with pytest.raises(MergeRejectedError):
        env.desk.merge(plan, actor=LEAD)
    assert not env.store.get(ben.id).is_trashed
    result = env.merge(ana.id, ben.id, acknowledge_exposure=True)
    assert result.primary.contact_id == "ana"
    assert result.journal.exposures == plan.exposures


def test_M11_one_contact_merges_without_acknowledgement(env: Env) -> None:
    """M11: tickets of one customer merge with no warning."""
    a, b = two_tickets(env)
    plan = env.desk.plan_merge([a.id, b.id], actor=LEAD)
    assert plan.ok
    assert plan.exposures == ()


# -- M3: restore ---------------------------------------------------------------------------------


def test_M3_restore_gives_the_ticket_back_and_the_copies_stay(env: Env) -> None:
    """M3: a merge cannot be undone, but a merged-away ticket can be restored from the trash
    as a ticket of its own; what the merge copied into the primary stays there, and the
    journal keeps the merge."""
    a, b = two_tickets(env)
    merged = env.merge(a.id, b.id)
    result = env.desk.restore(b.id)
    back = env.store.get(b.id)
    assert result.restored == back
    assert not back.is_trashed
    assert back.merged_into is None
    assert back.thread == b.thread
    primary = env.store.get(a.id)
    assert primary.thread == merged.primary.thread
    assert result.holder == primary
    assert env.store.journal(b.id) == [merged.journal]
    assert b.id in {t.id for t in env.store.search(TicketQuery())}


def test_M3_restore_of_an_active_ticket_is_an_invalid_transition(env: Env) -> None:
    """M3: restoring a ticket that is not in the trash raises InvalidTransitionError."""
    a, _ = two_tickets(env)
    with pytest.raises(InvalidTransitionError):
        env.desk.restore(a.id)
    with pytest.raises(NotFoundError):
        env.desk.restore("no-such-ticket")
    assert env.store.get(a.id) == a


# -- M13: chats ----------------------------------------------------------------------------------


def transcript(
    env: Env, session: str, contact: Contact = ANA, **changes: Any
) -> list[InboundMessage]:
    return [
        env.inbound(
            line,
            chat_session(session),
            contact,
            reference=chat_line(line),
            channel=Channel.CHAT,
            **changes,
        )
        for line in (f"{session}-1", f"{session}-2")
    ]


def test_M13_a_chat_is_merged_into_an_existing_ticket(env: Env) -> None:
    """M13: associate_chat takes the chat in and merges it into the customer's ticket, which
    stays the primary; later lines of the chat land on that ticket (M14)."""
    existing = env.receive("e1", dm("conv-e"))
    result = env.desk.associate_chat(transcript(env, "s1"), existing.id, actor=LEAD)
    assert result is not None
    assert result.primary.id == existing.id
    [chat] = result.trashed
    assert chat.merged_into == existing.id
    lines = {m.external_ref for m in result.primary.messages()}
    assert {chat_line("s1-1"), chat_line("s1-2")} <= lines
    assert env.store.journal(existing.id) == [result.journal]
    later = env.desk.receive(
        env.inbound("s1-3", chat_session("s1"), reference=chat_line("s1-3"), channel=Channel.CHAT)
    )
    assert later.action is IntakeAction.APPEND
    assert later.ticket is not None
    assert later.ticket.id == existing.id


@pytest.mark.parametrize("problem", ["department", "contact", "permission"])
def test_M13_a_refused_chat_association_leaves_no_chat_ticket(env: Env, problem: str) -> None:
    """M13/M12: intake of the chat and the merge are one unit of work: when the merge is
    refused, no chat ticket is left behind and the chat's references stay free."""
    department = "sales" if problem == "department" else None
    existing = env.receive("e1", dm("conv-e"), department_id=department)
    contact = BEN if problem == "contact" else ANA
    actor = AGENT if problem == "permission" else LEAD
    refs = (chat_session("s1"), chat_line("s1-1"), chat_line("s1-2"), dm("conv-e"))
    before = env.snapshot(*refs)
    with pytest.raises(MergeRejectedError) as caught:
        env.desk.associate_chat(transcript(env, "s1", contact), existing.id, actor=actor)
    expected = {
        "department": "different_departments",
        "contact": "unacknowledged_exposure",
        "permission": "missing_permission",
    }[problem]
    assert codes(caught.value) == {expected}
    assert isinstance(caught.value, PermissionDeniedError) == (problem == "permission")
    assert env.snapshot(*refs) == before
    assert [t.id for t in env.tickets()] == [existing.id]


def test_M13_associating_the_same_chat_again_changes_nothing(env: Env) -> None:
    """M13/P3: a retried association (a webhook delivered twice) merges once: one trashed
    chat ticket, one journal entry, no item twice; the retry returns None."""
    existing = env.receive("e1", dm("conv-e"))
    lines = transcript(env, "s1")
    first = env.desk.associate_chat(lines, existing.id, actor=LEAD)
    assert first is not None
    refs = (chat_session("s1"), chat_line("s1-1"), chat_line("s1-2"), dm("conv-e"))
    before = env.snapshot(*refs)
    assert env.desk.associate_chat(lines, existing.id, actor=LEAD) is None
    assert env.snapshot(*refs) == before
    assert len(env.store.journal(existing.id)) == 1
    ids = [i.id for i in env.store.get(existing.id).thread]
    assert len(ids) == len(set(ids)) == 3


def test_M13_M5_a_chat_of_another_contact_is_associated_once_acknowledged(env: Env) -> None:
    """M13/M5: the same rules as any merge: another contact's chat needs acknowledgement."""
    existing = env.receive("e1", dm("conv-e"))
    result = env.desk.associate_chat(
        transcript(env, "s1", BEN), existing.id, actor=LEAD, acknowledge_exposure=True
    )
    assert result is not None
    assert result.primary.contact_id == "ana"
    [exposure] = result.journal.exposures
    assert (exposure.owner_contact_id, exposure.viewer_contact_id) == ("ben", "ana")


def test_M13_an_empty_transcript_is_invalid(env: Env) -> None:
    """M13: a chat has messages."""
    existing = env.receive("e1", dm("conv-e"))
    with pytest.raises(InvalidModelError):
        env.desk.associate_chat([], existing.id, actor=LEAD)


def test_M13_an_existing_ticket_is_merged_into_a_ticket_made_from_a_chat(env: Env) -> None:
    """M13/M4: a ticket newly created from a chat becomes the primary when named, although
    the existing ticket is older; the existing ticket's later messages land on it (M14)."""
    existing = env.receive("e1", dm("conv-e"))
    chat = None
    for message in transcript(env, "s1"):
        chat = env.desk.receive(message).ticket
    assert chat is not None
    result = env.merge(existing.id, chat.id, primary_id=chat.id)
    assert result.primary.id == chat.id
    assert env.store.get(existing.id).merged_into == chat.id
    assert result.primary.created_at == chat.created_at  # M9: the primary's
    assert env.receive("e2", dm("conv-e")).id == chat.id


# -- M14: later intake addressed to a merged-away ticket -----------------------------------------


def test_M14_the_conversation_of_a_merged_ticket_lands_on_the_primary(env: Env) -> None:
    """M14: a later message in a merged-away ticket's conversation joins the primary."""
    a, b = two_tickets(env)
    env.merge(a.id, b.id)
    later = env.desk.receive(env.inbound("b2", dm("conv-b")))
    assert later.action is IntakeAction.APPEND
    assert later.ticket is not None
    assert later.ticket.id == a.id
    assert len(env.tickets()) == 2


def test_M14_a_reply_to_an_old_message_lands_on_the_primary(env: Env) -> None:
    """M14: a customer replying to an old tweet of the merged-away ticket (its message's
    external reference) reaches the primary; a redelivery of that tweet is a duplicate."""
    a, b = two_tickets(env)
    env.merge(a.id, b.id)
    reply = env.desk.receive(env.inbound("b1-reply", tweet("b1")))
    assert reply.action is IntakeAction.APPEND
    assert reply.ticket is not None
    assert reply.ticket.id == a.id
    again = env.desk.receive(env.inbound("b1", dm("conv-b")))
    assert again.action is IntakeAction.DUPLICATE
    assert again.ticket is not None
    assert again.ticket.id == a.id
    assert len(env.store.get(a.id).thread) == 3


def test_M14_a_message_addressed_by_the_merged_tickets_number_lands_on_the_primary(
    env: Env,
) -> None:
    """M14: an email naming the merged-away ticket's number ("[#2]") reaches the primary."""
    a, b = two_tickets(env)
    env.merge(a.id, b.id)
    email = env.desk.receive(env.inbound("mail-1", None, ticket_number=b.number))
    assert email.action is IntakeAction.APPEND
    assert email.reason == "redirected_from_merged"
    assert email.ticket is not None
    assert email.ticket.id == a.id


def test_M14_chains_of_merges_are_followed(env: Env) -> None:
    """M14: B merged into A, then A into C: the conversation, the tweets and the number of B
    (and of A) all land on C."""
    a, b = two_tickets(env)
    c = env.receive("c1", dm("conv-c"))
    env.merge(a.id, b.id)
    second = env.merge(a.id, c.id, primary_id=c.id)
    assert second.primary.id == c.id
    assert env.desk.resolve(b.id).id == c.id
    assert env.desk.resolve(a.id).id == c.id
    assert env.desk.resolve(c.id).id == c.id
    for message in (
        env.inbound("b2", dm("conv-b")),
        env.inbound("b1-reply", tweet("b1")),
        env.inbound("a2", dm("conv-a")),
        env.inbound("mail-b", None, ticket_number=b.number),
        env.inbound("mail-a", None, ticket_number=a.number),
    ):
        result = env.desk.receive(message)
        assert result.action is IntakeAction.APPEND, message
        assert result.ticket is not None
        assert result.ticket.id == c.id, message
    assert len(env.store.journal(a.id)) == 2
    assert [j.primary_id for j in env.store.journal(b.id)] == [a.id]
    assert [j.primary_id for j in env.store.journal(c.id)] == [c.id]


def test_M14_a_restored_ticket_takes_its_references_back(env: Env) -> None:
    """M14: once restored, the ticket's conversation, its tweets and its number lead to it
    again; the primary keeps the copies (M3) and its own references."""
    a, b = two_tickets(env)
    env.merge(a.id, b.id)
    env.desk.restore(b.id)
    assert env.owner(dm("conv-b")) == b.id
    assert env.owner(tweet("b1")) == b.id
    assert env.owner(dm("conv-a")) == a.id
    assert env.owner(tweet("a1")) == a.id
    for message in (
        env.inbound("b2", dm("conv-b")),
        env.inbound("b1-reply", tweet("b1")),
        env.inbound("mail-b", None, ticket_number=b.number),
    ):
        result = env.desk.receive(message)
        assert result.action is IntakeAction.APPEND, message
        assert result.ticket is not None
        assert result.ticket.id == b.id, message
    assert env.receive("a2", dm("conv-a")).id == a.id
    assert tweet("b1") in {m.external_ref for m in env.store.get(a.id).messages()}


def test_M14_a_ticket_restored_from_the_end_of_a_chain_takes_its_references_back(
    env: Env,
) -> None:
    """M14: B into A, A into C, then B restored: C (which holds B's references now) gives
    them back; A's stay with C."""
    a, b = two_tickets(env)
    c = env.receive("c1", dm("conv-c"))
    env.merge(a.id, b.id)
    env.merge(a.id, c.id, primary_id=c.id)
    restored = env.desk.restore(b.id)
    assert restored.holder is not None
    assert restored.holder.id == c.id
    assert env.receive("b2", dm("conv-b")).id == b.id
    assert env.receive("b1-reply", tweet("b1")).id == b.id
    assert env.receive("a2", dm("conv-a")).id == c.id
    assert env.desk.resolve(a.id).id == c.id


def test_M14_a_ticket_restored_from_the_middle_of_a_chain_takes_back_what_was_merged_into_it(
    env: Env,
) -> None:
    """M14: B into A, A into C, then A restored: A takes its references back, and with them
    B's (B is still merged into A, so B's chain now ends at A); C keeps its own."""
    a, b = two_tickets(env)
    c = env.receive("c1", dm("conv-c"))
    env.merge(a.id, b.id)
    env.merge(a.id, c.id, primary_id=c.id)
    env.desk.restore(a.id)
    assert env.desk.resolve(b.id).id == a.id
    for ref, owner in (
        (dm("conv-a"), a.id),
        (tweet("a1"), a.id),
        (dm("conv-b"), a.id),
        (tweet("b1"), a.id),
        (dm("conv-c"), c.id),
        (tweet("c1"), c.id),
    ):
        assert env.owner(ref) == owner, ref
    assert env.receive("b2", dm("conv-b")).id == a.id
    assert env.receive("m", None, ticket_number=b.number).id == a.id


def test_M14_a_restored_ticket_leaves_the_references_of_a_ticket_that_left_its_chain(
    env: Env,
) -> None:
    """M14: B merged into X, X into Z; B restored, then merged into Z again; then X restored.
    X held copies of B's items, but B's chain now ends at Z, not at X: B's conversation and
    tweets stay with Z, and X takes back only its own."""
    z = env.receive("z1", dm("conv-z"))
    x = env.receive("x1", dm("conv-x"))
    b = env.receive("b1", dm("conv-b"))
    env.merge(x.id, b.id, primary_id=x.id)
    env.merge(z.id, x.id, primary_id=z.id)
    env.desk.restore(b.id)
    env.merge(z.id, b.id, primary_id=z.id)
    env.desk.restore(x.id)
    assert env.desk.resolve(b.id).id == z.id
    for ref, owner in (
        (dm("conv-x"), x.id),
        (tweet("x1"), x.id),
        (dm("conv-b"), z.id),
        (tweet("b1"), z.id),
        (dm("conv-z"), z.id),
    ):
        assert env.owner(ref) == owner, ref
    assert env.receive("b1-reply", tweet("b1")).id == z.id


# -- M15: the journal ----------------------------------------------------------------------------


def test_M15_the_journal_keeps_discarded_values_readable(env: Env) -> None:
    """M15: the journal entry, read back from the store, lists the values the merge took and
    those it discarded, with the tickets they came from; it stays after a restore."""
    a = env.receive("a1", dm("conv-a"), subject="Order missing")
    b = env.receive("b1", dm("conv-b"), subject="Refund please")
    result = env.merge(a.id, b.id, choices={"subject": b.id})
    [entry] = env.store.journal(b.id)
    assert entry == result.journal
    subject = next(d for d in entry.fields if d.field == "subject")
    assert (subject.chosen.ticket_id, subject.chosen.value) == (b.id, "Refund please")
    assert [(v.ticket_id, v.value) for v in subject.discarded] == [(a.id, "Order missing")]
    assert env.store.get(a.id).subject == "Refund please"
    assert [m.item_id for m in entry.moves] == [b.thread[0].id]
    env.desk.restore(b.id)
    assert env.store.journal(b.id) == [entry]
    assert env.store.journal(a.id) == [entry]


# -- edge cases ----------------------------------------------------------------------------------


def test_M3_M7_a_restored_ticket_merged_back_is_not_duplicated(env: Env) -> None:
    """M3/M7: merging a restored ticket back into its former primary copies only its new
    items; what the primary already holds is listed as already present, and the references
    go back to the primary (M14)."""
    a, b = two_tickets(env)
    env.merge(a.id, b.id)
    env.desk.restore(b.id)
    env.receive("b2", dm("conv-b"))
    again = env.merge(a.id, b.id)
    ids = [i.id for i in again.primary.thread]
    assert len(ids) == len(set(ids)) == 3
    assert set(again.journal.already_present) == {i.id for i in b.thread}
    assert [m.item_id for m in again.journal.moves] == [ids[-1]]
    for ref in (dm("conv-b"), tweet("b1"), tweet("b2"), dm("conv-a"), tweet("a1")):
        assert env.owner(ref) == a.id


def test_M14_merging_the_former_primary_into_a_restored_ticket_keeps_every_claim(
    env: Env,
) -> None:
    """M14: B merged into A, B restored, then A merged into B: B must still claim its own
    tweets (A held copies of them, ceded at the restore) and take A's; replies to either land
    on B."""
    a, b = two_tickets(env)
    env.merge(a.id, b.id)
    env.desk.restore(b.id)
    result = env.merge(a.id, b.id, primary_id=b.id)
    assert result.primary.id == b.id
    for ref in (dm("conv-a"), tweet("a1"), dm("conv-b"), tweet("b1")):
        assert env.owner(ref) == b.id, ref
    assert env.receive("b1-reply", tweet("b1")).id == b.id


# -- properties, on both stores ------------------------------------------------------------------


@pytest.mark.parametrize("kind", STORES)
@given(tickets=s.merge_sets(max_size=4, max_items=4), data=st.data())
def test_M7_M14_M15_property_merge_and_restore_through_the_desk(
    kind: str, tmp_path_factory: pytest.TempPathFactory, tickets: list[Ticket], data: st.DataObject
) -> None:
    """M7/M14/M15/M3: on generated sets, in both stores: after the merge the primary holds
    every item in the oracle's order and claims every reference of every ticket; the journal
    is found from each ticket; restoring a merged ticket gives it back exactly its own
    references and leaves the primary's thread as it was."""
    store = open_store(kind, tmp_path_factory.getbasetemp())
    try:
        clock = FixedClock(T0)
        desk = Desk(store=store, settings=SETTINGS, clock=clock, ids=SequentialIds())
        stored = [store.add(attrs.evolve(t, version=0)) for t in tickets]
        primary_id = data.draw(st.sampled_from([None, *(t.id for t in stored)]))
        plan = desk.plan_merge(
            [t.id for t in stored], actor=LEAD, primary_id=primary_id, acknowledge_exposure=True
        )
        assert plan.ok, plan.rejections
        result = desk.merge(plan, actor=LEAD)
        primary = store.get(result.primary.id)
        order = [next(t for t in stored if t.id == i) for i in plan.ticket_ids]
        keyed = sorted(
            (item.created_at, source, position, item.id)
            for source, t in enumerate(order)
            for position, item in enumerate(t.thread)
        )
        assert [i.id for i in primary.thread] == [k[3] for k in keyed]
        assert Counter(primary.thread) == Counter(i for t in stored for i in t.thread)
        for t in stored:
            for ref in t.all_references():
                owner = store.find_by_reference(ref)
                assert owner is not None
                assert owner.id == primary.id
            assert store.journal(t.id) == [result.journal]
        restored = data.draw(st.sampled_from(order[1:]))
        desk.restore(restored.id)
        for ref in restored.all_references():
            owner = store.find_by_reference(ref)
            assert owner is not None
            assert owner.id == restored.id
        for t in order:
            if t.id != restored.id:
                for ref in t.all_references():
                    owner = store.find_by_reference(ref)
                    assert owner is not None
                    assert owner.id == primary.id
        assert store.get(primary.id).thread == primary.thread
        assert store.get(restored.id).thread == restored.thread
    finally:
        if isinstance(store, SQLiteTicketRepository):
            store.close()


@pytest.mark.parametrize("kind", STORES)
@given(
    tickets=s.merge_sets(min_size=3, max_size=4, max_items=3),
    data=st.data(),
)
def test_M14_property_references_follow_any_sequence_of_merges_and_restores(
    kind: str, tmp_path_factory: pytest.TempPathFactory, tickets: list[Ticket], data: st.DataObject
) -> None:
    """M14/M3/M7: after any sequence of merges (any primary) and restores, every reference
    of every ticket is claimed by the ticket its first owner resolves to (the end of its
    chain of merges), and every item of every ticket is on that ticket's thread."""
    store = open_store(kind, tmp_path_factory.getbasetemp())
    try:
        desk = Desk(store=store, settings=SETTINGS, clock=FixedClock(T0), ids=SequentialIds())
        stored = [store.add(attrs.evolve(t, version=0)) for t in tickets]
        owners = {ref: t.id for t in stored for ref in t.all_references()}
        items = {t.id: {i.id for i in t.thread} for t in stored}
        for _ in range(data.draw(st.integers(1, 5), label="steps")):
            current = store.get_many([t.id for t in stored])
            active = [t.id for t in current if not t.is_trashed]
            merged = [t.id for t in current if t.merged_into is not None]
            if len(active) < 2 or (merged and data.draw(st.booleans(), label="restore")):
                desk.restore(data.draw(st.sampled_from(merged), label="restored"))
            else:
                chosen = data.draw(
                    st.lists(st.sampled_from(active), min_size=2, max_size=4, unique=True),
                    label="merged",
                )
                plan = desk.plan_merge(
                    chosen,
                    actor=LEAD,
                    primary_id=data.draw(st.sampled_from(chosen), label="primary"),
                    acknowledge_exposure=True,
                )
                assert plan.ok, plan.rejections
                desk.merge(plan, actor=LEAD)
            for ref, first_owner in owners.items():
                found = store.find_by_reference(ref)
                assert found is not None, ref
                assert found.id == desk.resolve(first_owner).id, ref
            for ticket_id, ids in items.items():
                assert ids <= {i.id for i in desk.resolve(ticket_id).thread}
    finally:
        if isinstance(store, SQLiteTicketRepository):
            store.close()
