"""``Desk.receive_many``: batch intake in one unit of work (P3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import (
    Channel,
    ConcurrencyError,
    Contact,
    Desk,
    DeskSettings,
    ExternalReference,
    InboundMessage,
    TicketQuery,
)
from deskcore.adapters import InMemoryTicketRepository, SQLiteTicketRepository
from deskcore.testing import FixedClock, SequentialIds

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SETTINGS = DeskSettings(default_department_id="support")


def _message(native_id: int, conversation: int, body: str, edit: bool) -> InboundMessage:
    return InboundMessage(
        reference=ExternalReference(
            network="twitter", account="brand", kind="tweet", native_id=str(native_id)
        ),
        conversation=ExternalReference(
            network="twitter", account="brand", kind="conversation", native_id=str(conversation)
        ),
        channel=Channel.TWITTER,
        contact=Contact(id=f"c-{conversation}", name=f"お客様 {conversation}"),
        body=body,
        sent_at=T0 + timedelta(minutes=native_id),
        is_edit=edit,
    )


MESSAGES = st.builds(
    _message,
    native_id=st.integers(0, 6),
    conversation=st.integers(0, 2),
    body=st.sampled_from(["hello", "返品したい", "edited ✏️"]),
    edit=st.booleans(),
)


def _desk(store: InMemoryTicketRepository | SQLiteTicketRepository) -> Desk:
    return Desk(store=store, settings=SETTINGS, clock=FixedClock(T0), ids=SequentialIds())


@given(stream=st.lists(MESSAGES, max_size=12), cut=st.integers(0, 12))
def test_P3_a_batch_does_what_the_same_messages_one_by_one_do(
    stream: list[InboundMessage], cut: int
) -> None:
    """Routing inside a batch sees the earlier messages of the batch: same actions, same
    tickets, as receiving them one at a time."""
    one_by_one = _desk(InMemoryTicketRepository())
    batched_store = InMemoryTicketRepository()
    batched = _desk(batched_store)
    expected = [one_by_one.receive(m) for m in stream]
    got = batched.receive_many(stream[:cut]) + batched.receive_many(stream[cut:])
    assert [(r.action, r.reason, r.item_id) for r in got] == [
        (r.action, r.reason, r.item_id) for r in expected
    ]
    everything = TicketQuery(include_trashed=True, limit=1000)
    assert batched_store.search(everything) == one_by_one.store.search(everything)


class _ReusedIds:
    """An id generator gone wrong: every ticket gets the same id."""

    def __init__(self) -> None:
        self._items = SequentialIds()

    def new_id(self, kind: str) -> str:
        return "same-ticket" if kind == "ticket" else self._items.new_id(kind)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_P3_P5_a_failing_message_rolls_the_whole_batch_back(kind: str, tmp_path: object) -> None:
    store = (
        InMemoryTicketRepository()
        if kind == "memory"
        else SQLiteTicketRepository(f"{tmp_path}/desk.sqlite3")
    )
    desk = Desk(store=store, settings=SETTINGS, clock=FixedClock(T0), ids=_ReusedIds())
    batch = [_message(1, 1, "first", False), _message(2, 2, "second", False)]
    with pytest.raises(ConcurrencyError):
        desk.receive_many(batch)
    assert store.search(TicketQuery(include_trashed=True)) == []
    assert store.get_contact("c-1") is None
    # Intake is idempotent, so delivering the first message again on its own is safe.
    assert desk.receive(batch[0]).ticket is not None
    assert len(store.search(TicketQuery())) == 1
    if isinstance(store, SQLiteTicketRepository):
        store.close()


def test_P3_intake_never_overwrites_a_contact_the_host_keeps() -> None:
    store = InMemoryTicketRepository()
    store.save_contact(Contact(id="c-1", name="Host's name", email="host@example.com"))
    _desk(store).receive_many([_message(1, 1, "hello", False), _message(2, 1, "again", False)])
    assert store.get_contact("c-1") == Contact(
        id="c-1", name="Host's name", email="host@example.com"
    )
