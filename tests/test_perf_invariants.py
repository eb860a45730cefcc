"""The fast paths behind PF4 (intake through SQLite) give what the slow, obvious code gives:
the same tickets, the same errors, the same claims, the same stored rows."""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import (
    Channel,
    Contact,
    DeskcoreError,
    Direction,
    ExternalReference,
    InvalidModelError,
    Message,
    NaiveDatetimeError,
    ThreadItem,
    Ticket,
)
from deskcore.adapters import InMemoryTicketRepository, SQLiteTicketRepository
from deskcore.adapters._base import claim_changes
from deskcore.adapters._records import same_record, ticket_record
from deskcore.models.ticket import unchecked_copy, with_item
from deskcore.testing import strategies as s
from deskcore.testing.contracts import sample_ticket

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def _ref(native_id: str) -> ExternalReference:
    return ExternalReference("twitter", "brand", "tweet", native_id)  # as sample_ticket's


def _message(item_id: str, native_id: str | None, at: datetime = T0) -> Message:
    return Message(
        id=item_id,
        origin_ticket_id="t1",
        direction=Direction.INBOUND,
        author_id="c-1",
        body="hello",
        channel=Channel.EMAIL,
        sent_at=at,
        external_ref=None if native_id is None else _ref(native_id),
    )


def _evolved(ticket: Ticket, item: Any, first_responded_at: Any) -> Ticket:
    """The obvious way: insert by bisection, then re-validate everything."""
    at = bisect_right(ticket.thread, item.created_at, key=lambda i: i.created_at)
    thread = (*ticket.thread[:at], item, *ticket.thread[at:])
    return attrs.evolve(ticket, thread=thread, first_responded_at=first_responded_at)


def _outcome(build: Any) -> Ticket | tuple[type[Exception], str, str]:
    try:
        return build()  # type: ignore[no-any-return]
    except DeskcoreError as error:
        return type(error), getattr(error, "field", ""), error.message


@st.composite
def _appends(draw: st.DrawFn) -> tuple[Ticket, ThreadItem, datetime | None]:
    """A ticket and an item to append, which may reuse one of the ticket's item ids or
    references (what full validation refuses)."""
    ticket = draw(s.tickets(max_items=6))
    item = draw(s.thread_items(ticket.id))
    if ticket.thread and draw(st.booleans()):
        item = attrs.evolve(item, id=draw(st.sampled_from(ticket.thread)).id)
    held = ticket.held_references()
    if isinstance(item, Message) and held and draw(st.booleans()):
        item = attrs.evolve(item, external_ref=draw(st.sampled_from(held)))
    first = draw(st.sampled_from([ticket.first_responded_at, item.created_at, None]))
    return ticket, item, first


@given(_appends())
def test_PF4_with_item_gives_what_evolve_gives(case: tuple[Ticket, ThreadItem, Any]) -> None:
    ticket, item, first = case
    fast = _outcome(lambda: with_item(ticket, item, first_responded_at=first))
    slow = _outcome(lambda: _evolved(ticket, item, first))
    assert fast == slow
    if isinstance(fast, Ticket):
        assert isinstance(slow, Ticket)
        assert fast.thread == slow.thread
        assert attrs.asdict(fast, recurse=False) == attrs.asdict(slow, recurse=False)


def test_PF4_with_item_refuses_an_item_id_or_reference_the_ticket_has() -> None:
    ticket = sample_ticket("t1", 1, refs=("conv",), item_refs=("a", "b"))
    duplicate_id = _message(ticket.thread[0].id, "new")
    with pytest.raises(InvalidModelError, match="appears twice") as caught:
        with_item(ticket, duplicate_id, first_responded_at=None)
    assert caught.value.field == "thread"
    item_ref = ticket.thread[1].external_ref  # type: ignore[union-attr]
    for held in (ticket.external_refs[0], item_ref):
        reusing = attrs.evolve(_message("new", None), external_ref=held)
        with pytest.raises(InvalidModelError, match="reference appears twice") as caught:
            with_item(ticket, reusing, first_responded_at=None)
        assert caught.value.field == "external_refs"
    # Same native id, other account: a different reference.
    other = attrs.evolve(_message("new", None), external_ref=ExternalReference("e", "x", "m", "a"))
    assert with_item(ticket, other, first_responded_at=None).thread[-1] is other


def test_PF4_with_item_refuses_what_is_not_a_thread_item_and_a_naive_first_response() -> None:
    @attrs.frozen
    class NotAnItem:
        id: str = "x"
        created_at: datetime = T0

    ticket = sample_ticket("t1", 1)
    fast = _outcome(lambda: with_item(ticket, NotAnItem(), first_responded_at=None))  # type: ignore[arg-type]
    assert fast == _outcome(lambda: _evolved(ticket, NotAnItem(), None))
    assert fast[0] is InvalidModelError  # type: ignore[index]
    naive = datetime(2026, 4, 1, 9, 0)
    with pytest.raises(NaiveDatetimeError):
        with_item(ticket, _message("m", None), first_responded_at=naive)


def test_PF4_with_item_lets_a_ticket_subclass_validate_as_it_does() -> None:
    @attrs.frozen(kw_only=True)
    class Strict(Ticket):
        def __attrs_post_init__(self) -> None:
            super().__attrs_post_init__()
            if len(self.thread) > 1:
                raise InvalidModelError("Strict", "thread", "one item at most")

    ticket = Strict(**attrs.asdict(sample_ticket("t1", 1, item_refs=("a",)), recurse=False))
    with pytest.raises(InvalidModelError, match="one item at most"):
        with_item(ticket, _message("m", None, T0 + timedelta(hours=1)), first_responded_at=None)


@given(s.tickets(), st.integers(0, 2**40))
def test_PF4_unchecked_copy_is_evolve_without_the_checks(ticket: Ticket, version: int) -> None:
    copied = unchecked_copy(ticket, version=version)
    assert copied == attrs.evolve(ticket, version=version)
    assert type(copied) is type(ticket)
    assert ticket.version != version or copied == ticket


@attrs.frozen(kw_only=True)
class _VipTicket(Ticket):
    """A host's ticket with a field of its own."""

    tier: str = "gold"


def test_PF4_unchecked_copy_keeps_a_subclass_and_its_own_fields() -> None:
    plain = unchecked_copy(sample_ticket("t1", 1), version=0)
    vip = _VipTicket(**{f.name: getattr(plain, f.name) for f in attrs.fields(Ticket)}, tier="p")
    copied = unchecked_copy(vip, version=7)
    assert type(copied) is _VipTicket
    assert copied == attrs.evolve(vip, version=7)
    assert copied.tier == "p"
    with pytest.raises(TypeError, match="no field 'verison'"):
        unchecked_copy(vip, verison=3)
    store = InMemoryTicketRepository()
    assert store.add(vip).tier == "p"  # the repositories stamp versions with it


# -- claims and records of a save -------------------------------------------------------------


_LONG = "longer-than-generated-ids-"  # so that no drawn ticket holds these references


def _slow_claims(previous: Ticket, ticket: Ticket) -> tuple[set[ExternalReference], list[Any]]:
    old_refs = set(previous.all_references())
    new_refs = ticket.all_references()
    return old_refs.difference(new_refs), [r for r in new_refs if r not in old_refs]


@given(s.tickets(), st.data())
def test_PF4_claim_changes_of_an_append_are_those_of_the_full_comparison(
    previous: Ticket, data: st.DataObject
) -> None:
    ticket = previous
    for n in range(data.draw(st.integers(1, 3))):
        native_id = data.draw(st.sampled_from([None, f"{_LONG}new-{n}", f"{_LONG}ceded-{n}"]))
        last = ticket.thread[-1].created_at if ticket.thread else T0
        at = max(last, T0) + timedelta(minutes=1)
        ticket = with_item(
            ticket, _message(f"appended-{n}", native_id, at), first_responded_at=None
        )
    if data.draw(st.booleans()):
        ceded = tuple(_ref(f"{_LONG}ceded-{n}") for n in range(3))
        previous = attrs.evolve(previous, ceded_refs=ceded)
        ticket = attrs.evolve(ticket, ceded_refs=ceded)
    assert claim_changes(previous, ticket) == _slow_claims(previous, ticket)


@given(s.tickets(), s.tickets())
def test_PF4_claim_changes_of_any_change_are_those_of_the_full_comparison(
    previous: Ticket, ticket: Ticket
) -> None:
    assert claim_changes(previous, ticket) == _slow_claims(previous, ticket)


def test_PF4_claim_changes_of_an_unchanged_ticket_are_none() -> None:
    ticket = sample_ticket("t1", 1, refs=("conv",), item_refs=("a",))
    assert claim_changes(ticket, ticket) == (set(), [])


@given(s.tickets(), st.data())
def test_PF4_same_record_means_the_same_record(ticket: Ticket, data: st.DataObject) -> None:
    # The record is made of every field but the thread and the version...
    bare = unchecked_copy(ticket, thread=(), version=ticket.version + 1)
    assert same_record(ticket, bare)
    assert ticket_record(ticket) == ticket_record(bare)
    # ...and any other field given anew (even an equal value) is a change.
    names = [f.name for f in attrs.fields(Ticket) if f.name not in ("thread", "version")]
    name = data.draw(st.sampled_from(names))
    other = unchecked_copy(ticket, **{name: object()})
    assert not same_record(ticket, other)


# -- the SQLite transaction's contact cache --------------------------------------------------


def test_PF4_a_batch_sees_its_contacts_and_forgets_those_of_a_rolled_back_unit(
    tmp_path: Path,
) -> None:
    alice = Contact(id="alice", name="Alice")
    with SQLiteTicketRepository(tmp_path / "desk.sqlite3") as repo, repo.batch():
        with repo.unit_of_work() as uow:
            assert uow.tickets.get_contact("alice") is None  # remembered as missing
            uow.tickets.save_contact(alice)
            assert uow.tickets.get_contact("alice") == alice  # read back, not the miss
            uow.rollback()
        with repo.unit_of_work() as uow:
            assert uow.tickets.get_contact("alice") is None
            uow.tickets.save_contact(alice)
            uow.commit()
        renamed = attrs.evolve(alice, name="Alice B.")
        with repo.unit_of_work() as uow:
            assert uow.tickets.get_contact("alice") == alice
            uow.tickets.save_contact(renamed)
            uow.commit()
        assert repo.get_contact("alice") == renamed
    with SQLiteTicketRepository(tmp_path / "desk.sqlite3") as again:
        assert again.get_contact("alice") == renamed


def test_PF4_units_nested_in_a_batch_each_roll_back_their_own_changes(tmp_path: Path) -> None:
    """Units of a batch share a few savepoint names; nested ones still get their own."""
    with SQLiteTicketRepository(tmp_path / "desk.sqlite3") as repo:
        with repo.batch():
            with repo.unit_of_work() as outer:
                outer.tickets.add(sample_ticket("t1", 1, refs=("one",)))
                with repo.unit_of_work() as inner:
                    inner.tickets.add(sample_ticket("t2", 2, refs=("two",)))
                    with repo.unit_of_work() as innermost:
                        innermost.tickets.add(sample_ticket("t3", 3))
                        innermost.commit()
                    inner.rollback()
                with repo.unit_of_work() as after:  # takes the name the inner one gave back
                    after.tickets.add(sample_ticket("t4", 4))
                    after.commit()
                outer.commit()
            with repo.unit_of_work() as later:
                later.tickets.add(sample_ticket("t5", 5))
                later.rollback()
        assert [t.id for t in repo.get_many(["t1", "t4"])] == ["t1", "t4"]
        assert repo.find_by_number(2) is None
        assert repo.find_by_number(3) is None
        assert repo.find_by_number(5) is None
