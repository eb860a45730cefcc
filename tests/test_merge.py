"""The merge engine as pure policy (M1-M15): plan_merge, apply_merge, merged_thread and
restore_ticket on tickets built in memory, with no repository involved.

Service-level behaviour (atomic writes, redirects of later intake, both stores) is in
``test_desk_merge.py``.
"""

from __future__ import annotations

import copy
import pickle
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from deskcore import (
    Actor,
    Attachment,
    Channel,
    Classification,
    Comment,
    Direction,
    Exposure,
    ExternalReference,
    FieldValue,
    InvalidModelError,
    InvalidTransitionError,
    MergePlan,
    MergePolicy,
    MergeRejectedError,
    MergeResult,
    Message,
    Permission,
    PermissionDeniedError,
    Priority,
    StalePlanError,
    ThreadItem,
    Ticket,
    TicketMerged,
    TicketRestored,
    TicketStatus,
    TicketTrashed,
    Visibility,
)
from deskcore.policies.merge import (
    CHOOSABLE_FIELDS,
    PROTECTED_FIELDS,
    apply_merge,
    default_primary,
    merged_thread,
    plan_merge,
    restore_ticket,
)
from deskcore.testing import strategies as s

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
TOKYO = timezone(timedelta(hours=9))
LEAD = Actor(id="lead-1", name="Lead", permissions=[Permission.SEARCH_AND_MERGE])
AGENT = Actor(id="agent-1", name="Agent", permissions=[Permission.VIEW_TICKET])


# -- builders ------------------------------------------------------------------------------------


def ref(native_id: str, kind: str = "tweet") -> ExternalReference:
    return ExternalReference(network="twitter", account="brand", kind=kind, native_id=native_id)


def msg(
    item_id: str,
    origin: str,
    at: datetime = T0,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    direction: Direction = Direction.INBOUND,
    external_ref: ExternalReference | None = None,
    body: str | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> Message:
    return Message(
        id=item_id,
        origin_ticket_id=origin,
        direction=direction,
        visibility=visibility,
        author_id="someone",
        body=body if body is not None else f"body of {item_id}",
        channel=Channel.TWITTER,
        sent_at=at,
        external_ref=external_ref,
        attachments=attachments,
    )


def note(
    item_id: str, origin: str, at: datetime = T0, visibility: Visibility = Visibility.PRIVATE
) -> Comment:
    return Comment(
        id=item_id,
        origin_ticket_id=origin,
        visibility=visibility,
        author_id="agent-1",
        body=f"note {item_id}",
        created_at=at,
    )


def file(item_id: str, origin: str, at: datetime = T0) -> Attachment:
    return Attachment(
        id=item_id,
        origin_ticket_id=origin,
        name=f"{item_id}.png",
        size=2048,
        content_type="image/png",
        storage_key=f"s3://bucket/{item_id}",
        created_at=at,
    )


def ticket(ticket_id: str, number: int, at: datetime = T0, **changes: Any) -> Ticket:
    fields: dict[str, Any] = {
        "id": ticket_id,
        "number": number,
        "department_id": "support",
        "channel": Channel.TWITTER,
        "contact_id": "c-1",
        "created_at": at,
    }
    return Ticket(**(fields | changes))


def trio() -> list[Ticket]:
    """Three tickets of one customer, one minute apart, with interleaved threads."""
    a = ticket("A", 1, T0, thread=(msg("a1", "A", T0), note("a2", "A", T0 + timedelta(minutes=5))))
    b = ticket(
        "B",
        2,
        T0 + timedelta(minutes=1),
        thread=(msg("b1", "B", T0 + timedelta(minutes=1)), file("b2", "B", T0 + timedelta(days=3))),
    )
    c = ticket("C", 3, T0 + timedelta(minutes=2), thread=(msg("c1", "C", T0 + timedelta(days=5)),))
    return [a, b, c]


def codes(rejected: MergePlan | MergeRejectedError) -> set[str]:
    reasons = rejected.rejections if isinstance(rejected, MergePlan) else rejected.reasons
    return {r.code for r in reasons}


def merge(
    tickets: Sequence[Ticket], *, actor: Actor = LEAD, **options: Any
) -> tuple[MergePlan, MergeResult]:
    plan = plan_merge(tickets, actor=actor, **options)
    assert plan.ok, plan.rejections
    return plan, apply_merge(plan, tickets, actor=actor, now=NOW, journal_id="merge-1")


def source_order(tickets: Sequence[Ticket], primary_id: str) -> list[Ticket]:
    """The order that breaks ties (M7), written out independently of the code under test:
    the primary, then the others oldest first, ticket number breaking ties."""
    primary = next(t for t in tickets if t.id == primary_id)
    others = [t for t in tickets if t.id != primary_id]
    others.sort(key=lambda t: (t.created_at.astimezone(UTC), t.number))
    return [primary, *others]


def oracle_thread(tickets: Sequence[Ticket], primary_id: str) -> list[ThreadItem]:
    """The slow, obvious merged thread: sort every item by (created_at, source, position)."""
    keyed = [
        (item.created_at.astimezone(UTC), source, position, item)
        for source, t in enumerate(source_order(tickets, primary_id))
        for position, item in enumerate(t.thread)
    ]
    keyed.sort(key=lambda k: k[:3])
    return [k[3] for k in keyed]


def oldest(tickets: Sequence[Ticket]) -> Ticket:
    return sorted(tickets, key=lambda t: (t.created_at.astimezone(UTC), t.number))[0]


def field_value(t: Ticket, field: str) -> FieldValue:
    if field.startswith("custom:"):
        name = field.removeprefix("custom:")
        present = name in t.custom_fields
        return FieldValue(
            ticket_id=t.id, value=t.custom_fields[name] if present else None, present=present
        )
    value = getattr(t, field)
    if isinstance(value, Priority):
        value = value.value
    elif isinstance(value, Classification):
        value = value.code
    return FieldValue(ticket_id=t.id, value=value)


def same_value(a: FieldValue, b: FieldValue) -> bool:
    """Equal as JSON values: 1, 1.0 and True are three different values."""
    return (a.present, type(a.value), a.value) == (b.present, type(b.value), b.value)


def all_fields(tickets: Sequence[Ticket]) -> list[str]:
    custom = sorted({name for t in tickets for name in t.custom_fields})
    return [*CHOOSABLE_FIELDS, *(f"custom:{name}" for name in custom)]


def plan_error_text(plan: MergePlan) -> str:
    return str(MergeRejectedError(plan.rejections))


def is_public(item: ThreadItem) -> bool:
    if isinstance(item, Attachment):
        return True
    return item.visibility is Visibility.PUBLIC


MERGE_SETS = s.merge_sets()


# -- M1: how many tickets ------------------------------------------------------------------------


def test_M1_two_and_five_tickets_merge() -> None:
    """M1: two tickets, and five (the default maximum), can be merged."""
    five = [ticket(f"t{n}", n, T0 + timedelta(minutes=n)) for n in range(1, 6)]
    assert plan_merge(five[:2], actor=LEAD).ok
    assert plan_merge(five, actor=LEAD).ok
    assert MergePolicy().max_tickets == 5


@pytest.mark.parametrize("count", [0, 1])
def test_M1_fewer_than_two_tickets_are_rejected(count: int) -> None:
    """M1: a merge needs two tickets at least."""
    plan = plan_merge(trio()[:count], actor=LEAD)
    assert not plan.ok
    assert "too_few_tickets" in codes(plan)


def test_M1_a_ticket_named_twice_is_rejected() -> None:
    """M1: duplicates in the list are rejected, naming the repeated ticket; a ticket named
    twice alone is also too few tickets."""
    a, b, _ = trio()
    plan = plan_merge([a, b, a], actor=LEAD)
    assert codes(plan) == {"duplicate_tickets"}
    [reason] = plan.rejections
    assert reason.ticket_ids == ("A",)
    assert codes(plan_merge([a, a], actor=LEAD)) == {"duplicate_tickets", "too_few_tickets"}


def test_M1_more_than_the_maximum_is_rejected() -> None:
    """M1: six tickets exceed the default maximum of five."""
    six = [ticket(f"t{n}", n, T0 + timedelta(minutes=n)) for n in range(1, 7)]
    plan = plan_merge(six, actor=LEAD)
    assert codes(plan) == {"too_many_tickets"}
    assert set(plan.rejections[0].ticket_ids) == {t.id for t in six}


def test_M1_the_policy_can_lower_or_raise_the_maximum() -> None:
    """M1: a host lowers the maximum (three) or raises it (eight) in the merge policy."""
    many = [ticket(f"t{n}", n, T0 + timedelta(minutes=n)) for n in range(1, 10)]
    low, high = MergePolicy(max_tickets=3), MergePolicy(max_tickets=8)
    assert plan_merge(many[:3], actor=LEAD, policy=low).ok
    assert codes(plan_merge(many[:4], actor=LEAD, policy=low)) == {"too_many_tickets"}
    assert plan_merge(many[:8], actor=LEAD, policy=high).ok
    assert codes(plan_merge(many[:9], actor=LEAD, policy=high)) == {"too_many_tickets"}


@pytest.mark.parametrize("maximum", [-1, 0, 1])
def test_M1_a_policy_below_two_is_invalid(maximum: int) -> None:
    """M1: a merge takes two tickets at least, so a maximum below two cannot be configured."""
    with pytest.raises(InvalidModelError):
        MergePolicy(max_tickets=maximum)


# -- M2: one department --------------------------------------------------------------------------


def test_M2_tickets_of_different_departments_are_rejected() -> None:
    """M2: all tickets must belong to the same department."""
    a, b, c = trio()
    plan = plan_merge([a, attrs.evolve(b, department_id="sales"), c], actor=LEAD)
    assert codes(plan) == {"different_departments"}
    [reason] = plan.rejections
    assert set(reason.ticket_ids) == {"A", "B", "C"}
    assert "sales" in reason.message
    assert "support" in reason.message


# -- M3: irreversible, restore keeps the copies --------------------------------------------------


def test_M3_restore_brings_a_merged_ticket_back_and_the_copies_stay() -> None:
    """M3: a merged-away ticket can be restored as a ticket of its own; restoring does not
    remove what the merge copied into the primary."""
    a, b, _ = trio()
    b = attrs.evolve(b, external_refs=(ref("conv-b", "dm"),))
    _, result = merge([a, b])
    [trashed_b] = result.trashed
    restored = restore_ticket(trashed_b, result.primary, now=NOW + timedelta(hours=1))
    assert restored.restored == attrs.evolve(b, trashed_at=None, merged_into=None)
    assert not restored.restored.is_trashed
    assert restored.restored.thread == b.thread
    assert restored.holder is not None
    assert restored.holder.thread == result.primary.thread  # the copies stay (M3)
    assert {"b1", "b2"} <= {i.id for i in restored.holder.thread}
    assert restored.events == (
        TicketRestored(ticket_id="B", at=NOW + timedelta(hours=1), was_merged_into="A"),
    )


def test_M3_restore_of_a_ticket_not_in_the_trash_is_an_invalid_transition() -> None:
    """M3: only a trashed ticket can be restored."""
    a, _, _ = trio()
    with pytest.raises(InvalidTransitionError):
        restore_ticket(a, None, now=NOW)


def test_M3_restore_of_a_deleted_ticket_touches_no_other_ticket() -> None:
    """M3: a ticket trashed without a merge comes back without a holder to update."""
    a, _, _ = trio()
    deleted = attrs.evolve(a, trashed_at=NOW)
    result = restore_ticket(deleted, None, now=NOW)
    assert result.holder is None
    assert result.restored == a


# -- M4: the primary -----------------------------------------------------------------------------


def test_M4_the_oldest_ticket_is_the_default_primary() -> None:
    """M4: by default the ticket created first is the primary, whatever the input order."""
    a, b, c = trio()
    for order in ([a, b, c], [c, b, a], [b, c, a]):
        plan = plan_merge(order, actor=LEAD)
        assert plan.primary_id == "A"
        assert plan.ticket_ids == ("A", "B", "C")


def test_M4_a_tie_on_creation_time_goes_to_the_lower_ticket_number() -> None:
    """M4: the same instant (here shown in two time zones) is broken by ticket number."""
    high = ticket("high", 9, T0)
    low = ticket("low", 4, T0.astimezone(TOKYO))
    assert plan_merge([high, low], actor=LEAD).primary_id == "low"
    assert default_primary([high, low]).id == "low"


def test_M4_the_caller_may_name_any_ticket_as_primary() -> None:
    """M4: the caller may choose another primary; the others follow oldest first (M7)."""
    a, b, c = trio()
    plan, result = merge([a, b, c], primary_id="C")
    assert plan.primary_id == "C"
    assert plan.ticket_ids == ("C", "A", "B")
    assert result.primary.id == "C"
    assert result.primary.number == 3
    assert {t.id for t in result.trashed} == {"A", "B"}


def test_M4_a_primary_outside_the_set_is_rejected() -> None:
    """M4: the primary must be one of the merged tickets."""
    plan = plan_merge(trio(), actor=LEAD, primary_id="Z")
    assert codes(plan) == {"unknown_primary"}


@given(MERGE_SETS, st.data())
def test_M4_property_default_primary_is_the_oldest_and_a_named_one_is_honoured(
    tickets: list[Ticket], data: st.DataObject
) -> None:
    """M4: on generated sets with many ties, the default primary is the oldest ticket, ticket
    number breaking ties; any ticket of the set named as primary becomes the primary."""
    plan = plan_merge(tickets, actor=LEAD, acknowledge_exposure=True)
    assert plan.primary_id == oldest(tickets).id
    assert plan.ticket_ids == tuple(t.id for t in source_order(tickets, oldest(tickets).id))
    chosen = data.draw(st.sampled_from(tickets))
    named, result = merge(tickets, primary_id=chosen.id, acknowledge_exposure=True)
    assert named.primary_id == chosen.id
    assert named.ticket_ids == tuple(t.id for t in source_order(tickets, chosen.id))
    assert result.primary.id == chosen.id
    assert result.primary.number == chosen.number


# -- M5: exposure warnings -----------------------------------------------------------------------


def two_customers() -> list[Ticket]:
    """Ana's ticket (older) and Ben's, whose thread has public and private items."""
    ana = ticket("A", 1, T0, contact_id="ana", thread=(msg("a1", "A", T0),))
    ben = ticket(
        "B",
        2,
        T0 + timedelta(minutes=1),
        contact_id="ben",
        thread=(
            msg("b-public", "B", T0 + timedelta(minutes=1)),
            msg("b-private", "B", T0 + timedelta(minutes=2), visibility=Visibility.PRIVATE),
            note("b-note-private", "B", T0 + timedelta(minutes=3)),
            note("b-note-public", "B", T0 + timedelta(minutes=4), Visibility.PUBLIC),
            msg(
                "b-reply",
                "B",
                T0 + timedelta(minutes=5),
                direction=Direction.OUTBOUND,
            ),
            file("b-file", "B", T0 + timedelta(minutes=6)),
        ),
    )
    return [ana, ben]


def test_M5_the_plan_names_who_sees_whose_public_items() -> None:
    """M5: the plan lists, as a warning, that the primary's contact would see the other
    contact's public messages and public comments; private ones are not exposed."""
    plan = plan_merge(two_customers(), actor=LEAD)
    assert plan.exposures == (
        Exposure(
            ticket_id="B",
            owner_contact_id="ben",
            viewer_contact_id="ana",
            item_ids=("b-public", "b-note-public", "b-reply", "b-file"),
        ),
    )
    exposed = set(plan.exposures[0].item_ids)
    assert not exposed & {"b-private", "b-note-private"}


def test_M5_applying_requires_acknowledging_the_exposure() -> None:
    """M5: without acknowledgement the plan is rejected, and apply refuses it; with it the
    merge goes ahead and the journal keeps the exposures."""
    tickets = two_customers()
    refused = plan_merge(tickets, actor=LEAD)
    assert codes(refused) == {"unacknowledged_exposure"}
    assert not refused.exposure_acknowledged
    [reason] = refused.rejections
    assert reason.ticket_ids == ("B",)
    assert "ana" in reason.message
    assert "ben" in reason.message
    with pytest.raises(MergeRejectedError) as caught:
        apply_merge(refused, tickets, actor=LEAD, now=NOW, journal_id="j")
    assert codes(caught.value) == {"unacknowledged_exposure"}
    plan, result = merge(tickets, acknowledge_exposure=True)
    assert plan.exposure_acknowledged
    assert result.journal.exposures == plan.exposures


def test_M5_the_viewer_is_the_contact_the_merged_ticket_takes() -> None:
    """M5: when the merged ticket takes Ben's contact, it is Ana's public items Ben sees."""
    plan = plan_merge(two_customers(), actor=LEAD, choices={"contact_id": "B"})
    assert plan.exposures == (
        Exposure(ticket_id="A", owner_contact_id="ana", viewer_contact_id="ben", item_ids=("a1",)),
    )


def test_M5_private_items_only_expose_nothing() -> None:
    """M5: another customer's ticket with nothing public needs no acknowledgement."""
    ana, ben = two_customers()
    ben = attrs.evolve(ben, thread=tuple(i for i in ben.thread if not is_public(i)))
    plan = plan_merge([ana, ben], actor=LEAD)
    assert plan.ok
    assert plan.exposures == ()


@given(MERGE_SETS)
def test_M5_property_exposures_are_exactly_the_other_contacts_public_items(
    tickets: list[Ticket],
) -> None:
    """M5: every ticket of another contact with public items is listed with exactly those
    items; private messages and comments never; acknowledgement is needed iff any."""
    plan = plan_merge(tickets, actor=LEAD)
    primary = next(t for t in tickets if t.id == plan.primary_id)
    expected = tuple(
        Exposure(
            ticket_id=t.id,
            owner_contact_id=t.contact_id,
            viewer_contact_id=primary.contact_id,
            item_ids=tuple(i.id for i in t.thread if is_public(i)),
        )
        for t in source_order(tickets, primary.id)
        if t.contact_id != primary.contact_id and any(is_public(i) for i in t.thread)
    )
    assert plan.exposures == expected
    assert ("unacknowledged_exposure" in codes(plan)) == bool(expected)
    assert plan_merge(tickets, actor=LEAD, acknowledge_exposure=True).ok


# -- M6: trashed, marked merged_into -------------------------------------------------------------


def test_M6_merged_tickets_go_to_the_trash_marked_with_the_primary() -> None:
    """M6: each non-primary ticket is trashed at the merge time and marked with the primary's
    id; the events say so."""
    a, b, c = trio()
    _, result = merge([a, b, c])
    assert [t.id for t in result.trashed] == ["B", "C"]
    for before, after in zip((b, c), result.trashed, strict=True):
        assert after == attrs.evolve(before, trashed_at=NOW, merged_into="A")
        assert after.all_references() == ()
    assert not result.primary.is_trashed
    assert result.events == (
        TicketTrashed(ticket_id="B", at=NOW, merged_into="A"),
        TicketTrashed(ticket_id="C", at=NOW, merged_into="A"),
        TicketMerged(ticket_id="A", at=NOW, merged_ticket_ids=("B", "C"), journal_id="merge-1"),
    )


def test_M6_trashed_and_merged_tickets_cannot_be_merged() -> None:
    """M6: a ticket already in the trash, or already merged into another, is rejected."""
    a, b, c = trio()
    deleted = attrs.evolve(b, trashed_at=T0)
    merged = attrs.evolve(c, trashed_at=T0, merged_into="Z")
    plan = plan_merge([a, deleted, merged], actor=LEAD)
    assert codes(plan) == {"already_trashed", "already_merged"}
    by_code = {r.code: r.ticket_ids for r in plan.rejections}
    assert by_code == {"already_trashed": ("B",), "already_merged": ("C",)}


# -- M7: conservation and order ------------------------------------------------------------------


def test_M7_items_are_merged_by_time_with_ties_by_source_then_position() -> None:
    """M7: the merged thread is ordered by creation time; items created at the same instant
    keep the source order (primary, then others oldest first), then their thread position."""
    at = T0 + timedelta(hours=1)
    primary = ticket(
        "P", 5, T0, thread=(msg("p1", "P", T0), note("p2", "P", at), file("p3", "P", at))
    )
    newer = ticket(
        "N", 2, T0 + timedelta(minutes=2), thread=(msg("n1", "N", at.astimezone(TOKYO)),)
    )
    older = ticket(
        "O",
        9,
        T0 + timedelta(minutes=1),
        thread=(msg("o0", "O", T0 - timedelta(days=1)), msg("o1", "O", at), note("o2", "O", at)),
    )
    plan, result = merge([newer, primary, older], primary_id="P")
    expected = ["o0", "p1", "p2", "p3", "o1", "o2", "n1"]
    assert list(plan.thread_ids) == expected
    assert [i.id for i in result.primary.thread] == expected
    assert [i.id for i in merged_thread(source_order([newer, primary, older], "P"))] == expected


def test_M7_nothing_is_lost_and_provenance_is_kept() -> None:
    """M7: every message, comment and attachment (also those inside messages) is in the
    merged thread, unchanged, with the id of the ticket it came from."""
    inner = file("b-inner", "B", T0 + timedelta(minutes=1))
    a, b, c = trio()
    b = attrs.evolve(
        b,
        thread=(
            msg("b1", "B", T0 + timedelta(minutes=1), attachments=(inner,)),
            *b.thread[1:],
        ),
    )
    _, result = merge([a, b, c])
    assert Counter(result.primary.thread) == Counter([*a.thread, *b.thread, *c.thread])
    origins = {i.id: i.origin_ticket_id for i in result.primary.thread}
    assert origins == {"a1": "A", "a2": "A", "b1": "B", "b2": "B", "c1": "C"}
    assert result.primary.item("b1") == b.thread[0]
    copied = result.primary.item("b1")
    assert isinstance(copied, Message)
    assert copied.attachments == (inner,)


def test_M7_references_move_with_the_items() -> None:
    """M7/M14: the primary takes the merged tickets' references, theirs and their items'."""
    a = ticket("A", 1, T0, external_refs=(ref("conv-a", "dm"),))
    b = ticket(
        "B",
        2,
        T0 + timedelta(minutes=1),
        external_refs=(ref("conv-b", "dm"),),
        thread=(msg("b1", "B", T0, external_ref=ref("tweet-b")),),
    )
    _, result = merge([a, b])
    assert set(result.primary.all_references()) == {
        ref("conv-a", "dm"),
        ref("conv-b", "dm"),
        ref("tweet-b"),
    }
    assert result.trashed[0].all_references() == ()


@given(MERGE_SETS)
def test_M7_property_thread_items_are_conserved_exactly(tickets: list[Ticket]) -> None:
    """M7/M15: the merged thread's multiset of items equals the union of the input threads,
    each item unchanged, origin ticket id included; the trashed tickets keep their threads.
    The plan and the journal hold one move per copied item, with its source ticket, its
    origin and its position in the merged thread, and mirror the plan."""
    plan, result = merge(tickets, acknowledge_exposure=True)
    union = Counter(item for t in tickets for item in t.thread)
    assert Counter(result.primary.thread) == union
    by_id = {item.id: item for t in tickets for item in t.thread}
    for item in result.primary.thread:
        assert item == by_id[item.id]
        assert item.origin_ticket_id == by_id[item.id].origin_ticket_id
    before = {t.id: t.thread for t in tickets}
    for t in result.trashed:
        assert t.thread == before[t.id]

    source = {item.id: t.id for t in tickets for item in t.thread}
    positions = {item.id: n for n, item in enumerate(result.primary.thread)}
    copied = {i.id for t in tickets if t.id != plan.primary_id for i in t.thread}
    assert {m.item_id for m in plan.moves} == copied
    assert len(plan.moves) == len(copied)
    for move in plan.moves:
        assert move.from_ticket_id == source[move.item_id]
        assert move.origin_ticket_id == result.primary.item(move.item_id).origin_ticket_id
        assert move.position == positions[move.item_id]
    assert plan.already_present == ()

    entry = result.journal
    assert entry.ticket_ids == plan.ticket_ids
    assert (entry.moves, entry.fields, entry.exposures) == (plan.moves, plan.fields, plan.exposures)
    assert (entry.actor_id, entry.at) == (LEAD.id, NOW)
    assert [t.id for t in result.trashed] == list(entry.merged_ticket_ids)


@given(MERGE_SETS, st.data())
def test_M7_property_merged_thread_matches_the_sort_oracle(
    tickets: list[Ticket], data: st.DataObject
) -> None:
    """M7 oracle: the merged thread (plan, merged_thread and the applied primary) equals
    sorting every item by (created_at, source index, position), whichever ticket is primary."""
    primary = data.draw(st.sampled_from(tickets))
    expected = [i.id for i in oracle_thread(tickets, primary.id)]
    plan, result = merge(tickets, primary_id=primary.id, acknowledge_exposure=True)
    assert list(plan.thread_ids) == expected
    assert [i.id for i in result.primary.thread] == expected
    assert [i.id for i in merged_thread(source_order(tickets, primary.id))] == expected
    times = [i.created_at for i in result.primary.thread]
    assert times == sorted(times)


# -- M8: the conflict report and field choices ---------------------------------------------------


def differing_pair() -> list[Ticket]:
    a = ticket(
        "A",
        1,
        T0,
        contact_id="c-1",
        account_id="acct-1",
        subject="Order missing",
        product_name="Widget",
        priority=Priority.LOW,
        classification=Classification.QUESTION,
        assignee_id="agent-1",
        custom_fields={"order_id": "A-100", "vip": True, "plan": "gold"},
    )
    b = ticket(
        "B",
        2,
        T0 + timedelta(minutes=1),
        contact_id="c-2",
        account_id=None,
        subject="Where is my order?",
        product_name="Widget",
        priority=Priority.HIGH,
        classification=Classification.PROBLEM,
        assignee_id=None,
        custom_fields={"order_id": "A-100", "vip": 1, "seats": 3},
    )
    return [a, b]


def test_M8_the_conflict_report_lists_every_differing_field_with_each_value() -> None:
    """M8: every field whose values differ is listed, custom fields as ``custom:<name>``, with
    each ticket's value; equal fields (product, custom:order_id) are not; by default the
    primary's value is chosen and the others are discarded."""
    plan = plan_merge(differing_pair(), actor=LEAD, acknowledge_exposure=True)
    report = {d.field: d for d in plan.fields}
    assert list(report) == [
        "contact_id",
        "account_id",
        "subject",
        "priority",
        "classification",
        "assignee_id",
        "custom:plan",
        "custom:seats",
        "custom:vip",
    ]

    def values(field: str) -> list[tuple[str, Any, bool]]:
        return [(v.ticket_id, v.value, v.present) for v in report[field].values]

    assert values("contact_id") == [("A", "c-1", True), ("B", "c-2", True)]
    assert values("account_id") == [("A", "acct-1", True), ("B", None, True)]
    assert values("priority") == [("A", "low", True), ("B", "high", True)]
    assert values("classification") == [("A", "question", True), ("B", "problem", True)]
    assert values("custom:plan") == [("A", "gold", True), ("B", None, False)]
    assert values("custom:seats") == [("A", None, False), ("B", 3, True)]
    # True and 1 are different values to a merge, though equal in Python.
    assert values("custom:vip") == [("A", True, True), ("B", 1, True)]
    for decision in plan.fields:
        assert decision.chosen == decision.values[0]
        assert decision.discarded == (decision.values[1],)
    assert plan.chosen("subject") == FieldValue(ticket_id="A", value="Order missing")
    assert plan.chosen("product_name") is None
    assert ("subject", FieldValue(ticket_id="B", value="Where is my order?")) in plan.discarded
    assert len(plan.discarded) == len(plan.fields)


def test_M8_values_can_be_taken_from_another_ticket() -> None:
    """M8: the caller chooses which ticket's value the result takes, custom fields included;
    the primary's value is then discarded; a custom field absent from the chosen ticket is
    dropped from the result."""
    choices = {
        "subject": "B",
        "priority": "B",
        "classification": "B",
        "assignee_id": "B",
        "account_id": "B",
        "custom:vip": "B",
        "custom:plan": "B",
        "custom:seats": "B",
    }
    plan, result = merge(differing_pair(), choices=choices, acknowledge_exposure=True)
    merged = result.primary
    assert merged.id == "A"
    assert merged.subject == "Where is my order?"
    assert merged.priority is Priority.HIGH
    assert merged.classification == Classification.PROBLEM
    assert merged.assignee_id is None
    assert merged.account_id is None
    assert merged.contact_id == "c-1"  # not chosen: the primary's
    assert dict(merged.custom_fields) == {"order_id": "A-100", "vip": 1, "seats": 3}
    assert type(merged.custom_fields["vip"]) is int
    report = {d.field: d for d in plan.fields}
    assert report["subject"].chosen == FieldValue(ticket_id="B", value="Where is my order?")
    assert report["subject"].discarded == (FieldValue(ticket_id="A", value="Order missing"),)
    assert report["custom:plan"].discarded == (FieldValue(ticket_id="A", value="gold"),)
    assert result.journal.fields == plan.fields


def test_M8_the_contact_can_be_taken_from_another_ticket() -> None:
    """M8/M5: choosing another ticket's contact changes the merged ticket's contact."""
    _, result = merge(differing_pair(), choices={"contact_id": "B"}, acknowledge_exposure=True)
    assert result.primary.contact_id == "c-2"


def test_M8_unknown_fields_and_tickets_in_choices_are_rejected() -> None:
    """M8: a choice must name a field a merge chooses and one of the merged tickets."""
    plan = plan_merge(
        differing_pair(),
        actor=LEAD,
        acknowledge_exposure=True,
        choices={"status": "B", "subject": "Z"},
    )
    assert codes(plan) == {"unknown_field", "unknown_ticket"}
    fields = {r.code: r.field for r in plan.rejections}
    assert fields == {"unknown_field": "status", "unknown_ticket": "subject"}


@given(MERGE_SETS, st.data())
def test_M8_property_every_differing_field_is_reported_and_chosen_values_are_taken(
    tickets: list[Ticket], data: st.DataObject
) -> None:
    """M8: for random choices, a field is in the report iff its values differ; its values are
    each ticket's in plan order; the chosen value comes from the chosen ticket (the primary by
    default) and is what the merged ticket takes; every other distinct value is discarded."""
    ids = [t.id for t in tickets]
    fields = all_fields(tickets)
    choices = data.draw(
        st.dictionaries(st.sampled_from(fields), st.sampled_from(ids), max_size=len(fields))
    )
    plan, result = merge(tickets, choices=choices, acknowledge_exposure=True)
    order = source_order(tickets, plan.primary_id or "")
    by_id = {t.id: t for t in tickets}
    report = {d.field: d for d in plan.fields}
    for field in fields:
        values = [field_value(t, field) for t in order]
        differs = any(not same_value(values[0], v) for v in values[1:])
        assert (field in report) == differs, field
        source = by_id[choices.get(field, order[0].id)] if differs else order[0]
        expected = field_value(source, field)
        assert same_value(field_value(result.primary, field), expected), field
        if not differs:
            continue
        decision = report[field]
        assert list(decision.values) == values
        assert decision.chosen == expected
        assert same_value(decision.chosen, expected)
        distinct: list[FieldValue] = []
        for v in values:
            if not same_value(v, expected) and not any(same_value(v, d) for d in distinct):
                distinct.append(v)
        assert [(d.present, type(d.value), d.value) for d in decision.discarded] == [
            (d.present, type(d.value), d.value) for d in distinct
        ]


# -- M9: protected fields ------------------------------------------------------------------------


@pytest.mark.parametrize("field", PROTECTED_FIELDS)
def test_M9_protected_fields_from_another_ticket_are_rejected(field: str) -> None:
    """M9: created_at, first_responded_at and on-hold time always come from the primary;
    choosing another ticket for them is rejected with code protected_field."""
    plan = plan_merge(trio(), actor=LEAD, choices={field: "B"})
    assert codes(plan) == {"protected_field"}
    [reason] = plan.rejections
    assert reason.field == field
    assert reason.ticket_ids == ("B",)
    assert plan_merge(trio(), actor=LEAD, choices={field: "A"}).ok  # the primary is fine


def test_M9_the_merged_ticket_keeps_the_primarys_time_data() -> None:
    """M9: even when another ticket responded earlier or was on hold longer, the merged
    ticket keeps the primary's creation time, response time and on-hold time."""
    a = ticket("A", 1, T0, on_hold_time=timedelta(minutes=5))
    b = ticket(
        "B",
        2,
        T0 + timedelta(minutes=1),
        first_responded_at=T0 + timedelta(minutes=2),
        on_hold_time=timedelta(hours=7),
        thread=(msg("b1", "B", T0 + timedelta(minutes=2), direction=Direction.OUTBOUND),),
    )
    _, result = merge([a, b])
    assert result.primary.created_at == T0
    assert result.primary.first_responded_at is None
    assert result.primary.on_hold_time == timedelta(minutes=5)
    assert "b1" in {i.id for i in result.primary.thread}  # the data itself is kept (M7)


# -- M10: permission -----------------------------------------------------------------------------


def test_M10_merging_needs_the_search_and_merge_permission() -> None:
    """M10: an actor without search_and_merge gets a missing_permission rejection naming it."""
    plan = plan_merge(trio(), actor=AGENT)
    assert codes(plan) == {"missing_permission"}
    assert "search_and_merge" in plan.rejections[0].message
    assert "agent-1" in plan.rejections[0].message
    admin_without_it = Actor(id="admin", roles=["admin"])
    assert codes(plan_merge(trio(), actor=admin_without_it)) == {"missing_permission"}


def test_M10_applying_needs_the_permission_too() -> None:
    """M10/T7: apply records who merged, so it refuses an actor without the permission, even
    with a plan another actor made (otherwise the journal names an actor who was never allowed
    to merge): a permission error naming search_and_merge."""
    tickets = trio()
    plan = plan_merge(tickets, actor=LEAD)
    assert plan.ok
    with pytest.raises(PermissionDeniedError) as caught:
        apply_merge(plan, tickets, actor=AGENT, now=NOW, journal_id="j")
    assert caught.value.missing == "search_and_merge"
    assert caught.value.actor_id == "agent-1"
    assert isinstance(caught.value, MergeRejectedError)
    assert codes(caught.value) == {"missing_permission"}


# -- M11: same or different customers ------------------------------------------------------------


def test_M11_same_contact_and_account_merge_without_warnings() -> None:
    """M11: tickets of one contact and account merge with no exposure and no acknowledgement."""
    tickets = [attrs.evolve(t, account_id="acct-1") for t in trio()]
    plan = plan_merge(tickets, actor=LEAD)
    assert plan.ok
    assert plan.exposures == ()
    assert plan.fields == ()


def test_M11_different_accounts_of_one_contact_merge_without_acknowledgement() -> None:
    """M11: different accounts are allowed; the account is a field choice (M8), not a
    warning."""
    a, b, _ = trio()
    plan, result = merge([a, attrs.evolve(b, account_id="acct-2")], choices={"account_id": "B"})
    assert plan.exposures == ()
    assert result.primary.account_id == "acct-2"


def test_M11_different_contacts_merge_once_acknowledged() -> None:
    """M11: different contacts and accounts are allowed, with M5's acknowledgement."""
    ana, ben = two_customers()
    ben = attrs.evolve(ben, account_id="acct-ben")
    assert codes(plan_merge([ana, ben], actor=LEAD)) == {"unacknowledged_exposure"}
    _, result = merge([ana, ben], acknowledge_exposure=True)
    assert result.primary.contact_id == "ana"
    assert {i.id for i in ben.thread} <= {i.id for i in result.primary.thread}


# -- M12: plan is pure, apply refuses stale tickets ----------------------------------------------


@given(MERGE_SETS, st.booleans(), st.randoms(use_true_random=False))
def test_M12_property_plan_is_pure_and_deterministic(
    tickets: list[Ticket], acknowledge: bool, rnd: Any
) -> None:
    """M12: planning changes nothing; planning again, or with the tickets in another order,
    gives an equal plan."""
    before = pickle.dumps(tickets)
    copies = copy.deepcopy(tickets)
    first = plan_merge(tickets, actor=LEAD, acknowledge_exposure=acknowledge)
    second = plan_merge(tickets, actor=LEAD, acknowledge_exposure=acknowledge)
    shuffled = list(tickets)
    rnd.shuffle(shuffled)
    third = plan_merge(shuffled, actor=LEAD, acknowledge_exposure=acknowledge)
    assert first == second == third
    assert tickets == copies
    assert pickle.dumps(tickets) == before
    assert dict(first.versions) == {t.id: t.version for t in tickets}


@given(MERGE_SETS, st.data())
def test_M12_property_apply_refuses_tickets_changed_since_the_plan(
    tickets: list[Ticket], data: st.DataObject
) -> None:
    """M12: if any ticket's version changed since planning, apply raises StalePlanError
    naming it, with the planned and the current version."""
    plan = plan_merge(tickets, actor=LEAD, acknowledge_exposure=True)
    assert plan.ok
    changed = data.draw(st.sampled_from(tickets))
    bump = data.draw(st.integers(1, 3))
    now = [attrs.evolve(t, version=t.version + bump) if t is changed else t for t in tickets]
    with pytest.raises(StalePlanError) as caught:
        apply_merge(plan, now, actor=LEAD, now=NOW, journal_id="j")
    error = caught.value
    assert error.ticket_id == changed.id
    assert error.expected_version == changed.version
    assert error.actual_version == changed.version + bump
    assert error.code == "stale_plan"


def test_M12_apply_refuses_a_ticket_that_is_missing() -> None:
    """M12: a ticket of the plan that is no longer there makes the plan stale."""
    a, b, c = trio()
    plan = plan_merge([a, b, c], actor=LEAD)
    with pytest.raises(StalePlanError) as caught:
        apply_merge(plan, [a, c], actor=LEAD, now=NOW, journal_id="j")
    assert caught.value.ticket_id == "B"
    assert caught.value.actual_version is None


def test_M12_apply_changes_none_of_its_inputs() -> None:
    """M12: apply is pure too: it returns new values and the inputs stay as they were."""
    tickets = trio()
    copies = copy.deepcopy(tickets)
    plan = plan_merge(tickets, actor=LEAD)
    plan_copy = copy.deepcopy(plan)
    apply_merge(plan, tickets, actor=LEAD, now=NOW, journal_id="j")
    assert tickets == copies
    assert plan == plan_copy


# -- M15: the journal entry ----------------------------------------------------------------------


def test_M15_the_journal_entry_records_the_whole_merge() -> None:
    """M15: which tickets, which primary, which item came from where, which values were taken
    and which discarded, who merged and when."""
    a, b = differing_pair()
    a = attrs.evolve(a, thread=(msg("a1", "A", T0),))
    b = attrs.evolve(b, thread=(msg("b1", "B", T0 + timedelta(minutes=1)),))
    plan, result = merge([a, b], choices={"subject": "B"}, acknowledge_exposure=True)
    entry = result.journal
    assert entry.id == "merge-1"
    assert entry.at == NOW
    assert entry.actor_id == "lead-1"
    assert entry.primary_id == "A"
    assert entry.merged_ticket_ids == ("B",)
    assert entry.ticket_ids == ("A", "B")
    [move] = entry.moves
    assert (move.item_id, move.from_ticket_id, move.origin_ticket_id, move.position) == (
        "b1",
        "B",
        "B",
        1,
    )
    subject = next(d for d in entry.fields if d.field == "subject")
    assert subject.chosen == FieldValue(ticket_id="B", value="Where is my order?")
    assert subject.discarded == (FieldValue(ticket_id="A", value="Order missing"),)
    vip = next(d for d in entry.fields if d.field == "custom:vip")
    assert vip.discarded == (FieldValue(ticket_id="B", value=1),)
    assert entry.fields == plan.fields
    assert entry.exposures == plan.exposures
    assert entry.already_present == ()


# -- every reason at once ------------------------------------------------------------------------


def test_M1_M2_M5_M6_M9_M10_every_rejection_is_reported_at_once() -> None:
    """M1, M2, M5, M6, M8, M9, M10: a request that breaks many rules gets every reason in one
    plan, and apply raises MergeRejectedError carrying all of them."""
    tickets = [
        ticket("A", 1, T0, contact_id="ana", thread=(msg("same-id", "A", T0, body="one"),)),
        ticket(
            "B",
            2,
            T0 + timedelta(minutes=1),
            contact_id="ben",
            department_id="sales",
            thread=(msg("same-id", "B", T0, body="another"),),
        ),
        ticket("C", 3, T0 + timedelta(minutes=2), trashed_at=T0),
        ticket("D", 4, T0 + timedelta(minutes=3), trashed_at=T0, merged_into="X"),
        ticket("E", 5, T0 + timedelta(minutes=4)),
        ticket("F", 6, T0 + timedelta(minutes=5)),
    ]
    plan = plan_merge(
        [*tickets, tickets[0]],
        actor=AGENT,
        primary_id="nobody",
        choices={"created_at": "B", "on_hold_time": "C", "status": "A", "subject": "ghost"},
    )
    expected = {
        "duplicate_tickets",
        "too_many_tickets",
        "missing_permission",
        "different_departments",
        "already_trashed",
        "already_merged",
        "unknown_primary",
        "protected_field",
        "unknown_field",
        "unknown_ticket",
        "unacknowledged_exposure",
        "conflicting_items",
    }
    assert codes(plan) == expected
    protected = [r for r in plan.rejections if r.code == "protected_field"]
    assert {r.field for r in protected} == {"created_at", "on_hold_time"}
    for actor in (AGENT, LEAD):  # the planner, and someone allowed to merge
        with pytest.raises(MergeRejectedError) as caught:
            apply_merge(plan, tickets, actor=actor, now=NOW, journal_id="j")
        error = caught.value
        assert set(error.reasons) == set(plan.rejections)
        assert codes(error) == expected
        assert set(error.details["codes"]) == expected
        assert isinstance(error, ValueError)
    for code in expected:
        assert code in plan_error_text(plan)


# -- edge cases ----------------------------------------------------------------------------------


def test_M7_items_with_one_id_and_different_content_are_rejected() -> None:
    """M7: two tickets holding different items under one id cannot be merged: one of them
    would be lost."""
    a = ticket("A", 1, T0, thread=(msg("m-1", "A", T0, body="hello"),))
    b = ticket("B", 2, T0, thread=(msg("m-1", "A", T0, body="hello, edited"),))
    plan = plan_merge([a, b], actor=LEAD)
    assert codes(plan) == {"conflicting_items"}
    assert "m-1" in plan.rejections[0].message


def test_M3_M7_merging_a_restored_ticket_back_does_not_duplicate_items() -> None:
    """M3/M7: a restored ticket merged again into its former primary adds only what is new;
    the items the primary already holds are listed as already present."""
    a, b, _ = trio()
    _, first = merge([a, b])
    back = restore_ticket(first.trashed[0], first.primary, now=NOW).restored
    later = msg("b3", "B", T0 + timedelta(days=9))
    back = attrs.evolve(back, thread=(*back.thread, later))
    holder = first.primary
    plan, second = merge([holder, back])
    # The same again with equal but distinct item objects, as a store would load them.
    same_plan = plan_merge(copy.deepcopy([holder, back]), actor=LEAD)
    assert same_plan == plan
    assert set(plan.already_present) == {"b1", "b2"}
    assert [m.item_id for m in plan.moves] == ["b3"]
    ids = [i.id for i in second.primary.thread]
    assert len(ids) == len(set(ids))
    assert Counter(ids) == Counter(["a1", "a2", "b1", "b2", "b3"])
    assert second.journal.already_present == plan.already_present


def test_M15_already_present_lists_only_items_the_primary_holds() -> None:
    """M15: ``already_present`` names the items the primary already holds; an item two merged
    tickets both hold (a ticket merged into one, restored, then merged into the other) is
    copied once, as a move, and is not "already present" in a primary that lacks it."""
    a = ticket("A", 1, T0, thread=(note("a1", "A", T0),))
    # Equal items, but distinct objects: as they are when loaded from a store.
    b = ticket("B", 2, T0 + timedelta(minutes=1), thread=(note("x1", "X", T0),))
    c = ticket("C", 3, T0 + timedelta(minutes=2), thread=(note("x1", "X", T0),))
    plan, result = merge([a, b, c])
    assert [m.item_id for m in plan.moves] == ["x1"]
    assert [i.id for i in result.primary.thread] == ["a1", "x1"]
    assert plan.already_present == ()


def test_M7_merged_thread_drops_nothing_but_exact_repeats() -> None:
    """M7: merged_thread yields an item the primary already holds once, and keeps order."""
    shared = msg("s", "A", T0)
    a = ticket("A", 1, T0, thread=(shared, note("a2", "A", T0 + timedelta(days=1))))
    b = ticket("B", 2, T0, thread=(shared, note("b2", "B", T0)))
    assert [i.id for i in merged_thread([a, b])] == ["s", "b2", "a2"]


def test_P7_merge_sets_checks_its_arguments() -> None:
    """P7: merge_sets refuses sizes it cannot produce."""
    with pytest.raises(ValueError, match="min_size"):
        s.merge_sets(min_size=3, max_size=2)
    with pytest.raises(ValueError, match="min_size"):
        s.merge_sets(min_size=0)
    with pytest.raises(ValueError, match="contact"):
        s.merge_sets(contact_ids=())
    with pytest.raises(ValueError, match="max_items"):
        s.merge_sets(max_items=-1)


@given(MERGE_SETS)
def test_P7_merge_sets_are_valid_mergeable_tickets(tickets: list[Ticket]) -> None:
    """P7: merge_sets gives untrashed tickets of one department, with distinct ids and
    numbers and with item ids and references unique across the set."""
    assert 2 <= len(tickets) <= 5
    assert len({t.department_id for t in tickets}) == 1
    assert len({t.id for t in tickets}) == len(tickets)
    assert len({t.number for t in tickets}) == len(tickets)
    assert not any(t.is_trashed for t in tickets)
    item_ids = [i.id for t in tickets for i in t.thread]
    assert len(item_ids) == len(set(item_ids))
    refs = [r for t in tickets for r in t.all_references()]
    assert len(refs) == len(set(refs))
    for t in tickets:
        assert attrs.evolve(t) == t  # every validator passes
        assert t.status in TicketStatus


def _ticket_tie(tickets: list[Ticket]) -> bool:
    return len({t.created_at for t in tickets}) < len(tickets)


def _item_tie_across_tickets(tickets: list[Ticket]) -> bool:
    times = [{i.created_at for i in t.thread} for t in tickets]
    return any(a & b for n, a in enumerate(times) for b in times[n + 1 :])


def _custom_conflict(tickets: list[Ticket]) -> bool:
    return any(d.field.startswith("custom:") for d in plan_merge(tickets, actor=LEAD).fields)


@pytest.mark.parametrize(
    "wanted",
    [
        _ticket_tie,
        _item_tie_across_tickets,
        _custom_conflict,
        lambda ts: len({t.contact_id for t in ts}) > 1,
        lambda ts: len({t.contact_id for t in ts}) == 1,
        lambda ts: len(ts) == 5,
    ],
    ids=["ticket_tie", "item_tie", "custom_conflict", "contacts_differ", "one_contact", "five"],
)
def test_P7_merge_sets_cover_ties_and_conflicts(wanted: Any) -> None:
    """P7: merge_sets readily produces what the merge rules care about: tickets and items
    created at the same instant, differing custom fields and contacts, and full sets."""
    # Generation only: a shrunk example is not needed, and shrinking would be slow.
    find(
        MERGE_SETS,
        wanted,
        settings=settings(database=None, max_examples=300, phases=[Phase.generate]),
    )
