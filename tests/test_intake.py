"""The pure intake policy (P3): routing, opening, appending and revising; with the purity (P1)
and events (P4) of its functions."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from deskcore import (
    Attachment,
    Channel,
    Comment,
    Contact,
    DeskcoreError,
    DeskSettings,
    Direction,
    ExternalReference,
    FirstResponseRecorded,
    InboundAttachment,
    InboundMessage,
    IntakeAction,
    InvalidModelError,
    ItemAppended,
    ItemRevised,
    Message,
    NotFoundError,
    Revision,
    StatusChanged,
    Ticket,
    TicketCreated,
    TicketStatus,
    Visibility,
    route_intake,
)
from deskcore.policies.intake import (
    append_inbound,
    derive_subject,
    message_digest,
    open_ticket,
    revise_message,
    to_message,
)
from deskcore.testing import strategies as s

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
CONTACT = Contact(id="c-1", name="山田 花子", account_id="acme")
SETTINGS = DeskSettings(default_department_id="support")


def ref(native_id: str, kind: str = "tweet") -> ExternalReference:
    return ExternalReference(network="twitter", account="brand", kind=kind, native_id=native_id)


CONVERSATION = ref("conv-1", "conversation")


def inbound(native_id: str = "1", **changes: Any) -> InboundMessage:
    fields: dict[str, Any] = {
        "reference": ref(native_id),
        "conversation": CONVERSATION,
        "channel": Channel.TWITTER,
        "contact": CONTACT,
        "body": "注文した商品が届きません 📦",
        "sent_at": T0,
    }
    return InboundMessage(**(fields | changes))


def opened(message: InboundMessage, *, now: datetime = T0, **changes: Any) -> Ticket:
    ticket = open_ticket(
        message, ticket_id="t-1", number=7, item_id="i-1", settings=SETTINGS, now=now
    ).ticket
    return attrs.evolve(ticket, **changes) if changes else ticket


# -- P3: routing ---------------------------------------------------------------------------------


def test_P3_route_new_conversation_creates() -> None:
    """P3: a message nothing claims starts a new ticket."""
    message = inbound()
    route = route_intake(message, claimed_by=None, conversation_ticket=None)
    assert route.action is IntakeAction.CREATE
    assert route.reason == "new_conversation"
    assert route.ticket is None
    assert route.digest == message_digest(message)
    assert str(message.reference) in route.explanation


def test_P3_route_conversation_with_ticket_appends() -> None:
    """P3/H2: a message whose conversation has a ticket joins that ticket."""
    existing = opened(inbound("1"))
    route = route_intake(inbound("2"), claimed_by=None, conversation_ticket=existing)
    assert route.action is IntakeAction.APPEND
    assert route.reason == "conversation_has_ticket"
    assert route.ticket == existing
    assert "#7" in route.explanation


def test_P3_L2_route_to_closed_conversation_ticket_says_it_reopens() -> None:
    """P3/L2: appending a customer message to a closed ticket is reported as a reopen."""
    closed = opened(inbound("1"), status=TicketStatus.CLOSED, closed_at=T0)
    route = route_intake(inbound("2"), claimed_by=None, conversation_ticket=closed)
    assert route.action is IntakeAction.APPEND
    assert route.reason == "reopens_closed_ticket"
    outbound = inbound("3", direction=Direction.OUTBOUND)
    assert route_intake(outbound, claimed_by=None, conversation_ticket=closed).reason == (
        "conversation_has_ticket"
    )


def test_P3_route_trashed_conversation_ticket_creates() -> None:
    """P3: a conversation whose ticket is in the trash starts a new ticket."""
    trashed = opened(inbound("1"), trashed_at=T0)
    route = route_intake(inbound("2"), claimed_by=None, conversation_ticket=trashed)
    assert route.action is IntakeAction.CREATE
    assert route.reason == "conversation_ticket_trashed"


def test_P3_route_redelivery_is_a_duplicate() -> None:
    """P3: the same reference with the same content is a duplicate of the stored item."""
    message = inbound()
    stored = opened(message)
    route = route_intake(message, claimed_by=stored, conversation_ticket=stored)
    assert route.action is IntakeAction.DUPLICATE
    assert route.reason == "redelivered"
    assert route.item_id == "i-1"
    assert route.ticket == stored


def test_P3_route_same_reference_other_content_is_a_conflict() -> None:
    """P3: a platform reusing an id for other content is reported, not dropped or stored."""
    stored = opened(inbound())
    route = route_intake(inbound(body="別の内容"), claimed_by=stored, conversation_ticket=stored)
    assert route.action is IntakeAction.CONFLICT
    assert route.reason == "digest_mismatch"
    assert route.item_id == "i-1"
    assert route.digest == message_digest(inbound(body="別の内容"))
    assert "different content" in route.explanation


def test_P3_route_edit_is_a_revision() -> None:
    """P3: the same reference with other content and the edit flag revises the stored item."""
    stored = opened(inbound())
    edit = inbound(body="訂正: 届きました", is_edit=True)
    route = route_intake(edit, claimed_by=stored, conversation_ticket=stored)
    assert route.action is IntakeAction.REVISE
    assert route.reason == "edited"
    assert route.item_id == "i-1"


def test_P3_route_edit_with_the_same_content_is_a_duplicate() -> None:
    """P3: an edit event that repeats the stored content changes nothing."""
    stored = opened(inbound())
    route = route_intake(inbound(is_edit=True), claimed_by=stored, conversation_ticket=None)
    assert route.action is IntakeAction.DUPLICATE


def test_P3_route_reference_of_the_ticket_itself_is_a_conflict() -> None:
    """P3: a message reusing the reference a ticket claims for itself is a conflict."""
    stored = opened(inbound())
    message = inbound(reference=CONVERSATION, conversation=None)
    route = route_intake(message, claimed_by=stored, conversation_ticket=stored)
    assert route.action is IntakeAction.CONFLICT
    assert route.reason == "reference_names_ticket"
    assert route.item_id is None


def test_P3_given_digest_is_used() -> None:
    """P3: a digest the host supplies is compared as given."""
    assert message_digest(inbound(content_digest="host:42")) == "host:42"
    stored = opened(inbound(content_digest="host:42"))
    same = inbound(body="whatever the body", content_digest="host:42")
    route = route_intake(same, claimed_by=stored, conversation_ticket=None)
    assert route.action is IntakeAction.DUPLICATE


@given(s.inbound_messages(), st.booleans())
def test_P3_redelivery_is_always_a_duplicate(message: InboundMessage, is_edit: bool) -> None:
    """P3: whatever the message, delivering it again once stored is a duplicate of its item."""
    stored = opened(message)
    again = attrs.evolve(message, is_edit=is_edit)
    route = route_intake(again, claimed_by=stored, conversation_ticket=stored)
    assert route.action is IntakeAction.DUPLICATE
    assert route.item_id == "i-1"


@given(s.inbound_messages(), st.booleans(), s.texts(min_size=1, max_size=10))
def test_P3_changed_content_is_never_a_duplicate(
    message: InboundMessage, is_edit: bool, extra: str
) -> None:
    """P3: the same reference with other content is a revision (edit) or a conflict."""
    message = attrs.evolve(message, content_digest=None)
    stored = opened(message)
    changed = attrs.evolve(message, body=message.body + extra, is_edit=is_edit)
    route = route_intake(changed, claimed_by=stored, conversation_ticket=None)
    assert route.action is (IntakeAction.REVISE if is_edit else IntakeAction.CONFLICT)
    assert route.item_id == "i-1"


# -- P3: opening a ticket ------------------------------------------------------------------------


@given(s.inbound_messages(), s.desk_settings(), s.aware_datetimes())
def test_P3_P4_open_ticket_files_the_message(
    message: InboundMessage, settings: DeskSettings, now: datetime
) -> None:
    """P3/P4: a new ticket (version 0) holds the message as its only item, claims the
    conversation, and reports TicketCreated and ItemAppended with the ticket id and ``now``."""
    change = open_ticket(
        message, ticket_id="t-9", number=9, item_id="i-9", settings=settings, now=now
    )
    t = change.ticket
    assert t.version == 0
    assert (t.id, t.number) == ("t-9", 9)
    assert t.department_id == (message.department_id or settings.default_department_id)
    assert t.priority is settings.default_priority
    assert t.channel == message.channel
    assert t.contact_id == message.contact.id
    assert t.account_id == message.contact.account_id
    assert t.created_at == now
    assert t.subject == derive_subject(message, settings)
    assert t.thread == (to_message(message, item_id="i-9", ticket_id="t-9"),)
    item = t.thread[0]
    assert isinstance(item, Message)
    assert item.origin_ticket_id == "t-9"
    assert item.external_ref == message.reference
    assert item.content_digest == message_digest(message)
    assert all(a.origin_ticket_id == "t-9" for a in item.attachments)
    conversation = message.conversation
    claims_conversation = conversation is not None and conversation != message.reference
    assert t.external_refs == ((conversation,) if claims_conversation else ())
    expected: list[Any] = [
        TicketCreated(ticket_id="t-9", at=now, number=9, reference=message.reference),
        ItemAppended(ticket_id="t-9", at=now, item_id="i-9", reference=message.reference),
    ]
    if item.is_public_reply:
        expected.append(FirstResponseRecorded(ticket_id="t-9", at=now, item_id="i-9"))
        assert t.first_responded_at == message.sent_at
    else:
        assert t.first_responded_at is None
    assert list(change.events) == expected


def test_P3_open_ticket_without_claiming_the_conversation() -> None:
    """P3: when told not to, a new ticket leaves the conversation reference unclaimed."""
    change = open_ticket(
        inbound(),
        ticket_id="t-1",
        number=1,
        item_id="i-1",
        settings=SETTINGS,
        now=T0,
        claim_conversation=False,
    )
    assert change.ticket.external_refs == ()


def test_P3_attachments_become_items_of_the_message() -> None:
    """P3/T5: inbound attachments become attachments of the message, with the ticket as origin."""
    files = (
        InboundAttachment(name="写真.jpg", size=2048, content_type="image/jpeg", storage_key="k1"),
        InboundAttachment(name="empty.txt", size=0, storage_key="k2"),
    )
    t = opened(inbound(attachments=files))
    item = t.thread[0]
    assert isinstance(item, Message)
    assert [(a.id, a.name, a.size, a.storage_key) for a in item.attachments] == [
        ("i-1.a1", "写真.jpg", 2048, "k1"),
        ("i-1.a2", "empty.txt", 0, "k2"),
    ]
    assert all(a.origin_ticket_id == "t-1" and a.created_at == T0 for a in item.attachments)


# -- P3: subjects --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "body", "length", "expected"),
    [
        ("", "\n   \n  最初の行です  \n二行目", 120, "最初の行です"),
        ("  Refund please ", "body text", 120, "Refund please"),
        ("", "abcdefghijklmnop", 10, "abcdefghi…"),
        ("", "abcd efgh ijk", 6, "abcd…"),
        ("", "exactly10!", 10, "exactly10!"),
        ("", "   \n\t\n", 120, ""),
        ("", "", 120, ""),
        ("", "😀😀😀😀😀", 3, "😀😀…"),
    ],
)
def test_P3_subject_from_first_non_blank_line(
    subject: str, body: str, length: int, expected: str
) -> None:
    """P3: the subject is the message's own, or its body's first non-blank line, stripped and
    shortened with '…' to the configured length."""
    settings = DeskSettings(default_department_id="support", subject_length=length)
    message = inbound(subject=subject, body=body)
    assert derive_subject(message, settings) == expected
    assert opened(message).subject == derive_subject(message, SETTINGS)


@given(s.texts(max_size=80), st.integers(0, 40))
def test_P3_subject_never_exceeds_its_length(body: str, length: int) -> None:
    """P3: a derived subject is at most ``subject_length`` characters long (for every length
    the settings accept); a shortened one ends in '…' after a prefix of the first non-blank
    line."""
    try:
        settings = DeskSettings(default_department_id="support", subject_length=length)
    except InvalidModelError:
        return  # a length the settings refuse cannot be asked for
    subject = derive_subject(inbound(body=body), settings)
    line = next((x.strip() for x in body.splitlines() if x.strip()), "")
    assert len(subject) <= length
    if subject != line and subject:
        assert subject.endswith("…")
        assert line.startswith(subject[:-1])


def test_P3_long_subject_setting_cannot_break_intake() -> None:
    """P3/P5: a subject length above the ticket's subject limit (1000) is either refused by the
    settings or still gives a valid ticket from a message with a very long first line."""
    try:
        settings = DeskSettings(default_department_id="support", subject_length=5000)
    except InvalidModelError:
        return
    message = inbound(body="長" * 3000)
    change = open_ticket(
        message, ticket_id="t-1", number=1, item_id="i-1", settings=settings, now=T0
    )
    assert 0 < len(change.ticket.subject) <= 1000


# -- appending and revising ----------------------------------------------------------------------


def test_P3_L2_append_inbound_reopens_and_keeps_provenance() -> None:
    """P3/L2/T5: an appended message carries the ticket as origin and reopens a closed ticket."""
    closed = opened(inbound("1"), status=TicketStatus.CLOSED, closed_at=T0)
    now = T0 + timedelta(hours=3)
    change = append_inbound(closed, inbound("2", sent_at=now), item_id="i-2", now=now)
    assert change.ticket.status is TicketStatus.OPEN
    assert [i.id for i in change.ticket.thread] == ["i-1", "i-2"]
    assert change.ticket.thread[1].origin_ticket_id == "t-1"
    assert [type(e) for e in change.events] == [ItemAppended, StatusChanged]
    kept = append_inbound(closed, inbound("2"), item_id="i-2", now=now, reopen=False)
    assert kept.ticket.status is TicketStatus.CLOSED


def test_P3_revise_keeps_id_position_and_history() -> None:
    """P3: an edit becomes a revision of the same item: id, position and reference unchanged,
    the previous text kept in ``revisions``."""
    first = inbound("1", sent_at=T0)
    t = opened(first)
    second = inbound("2", sent_at=T0 + timedelta(minutes=1))
    t = append_inbound(t, second, item_id="i-2", now=T0).ticket
    t = attrs.evolve(t, version=4)
    now = T0 + timedelta(hours=1)
    edit = inbound("1", body="訂正しました", is_edit=True)
    change = revise_message(t, "i-1", edit, now=now)
    revised = change.ticket
    assert [i.id for i in revised.thread] == ["i-1", "i-2"]
    assert revised.thread[1] == t.thread[1]
    item = revised.thread[0]
    original = t.thread[0]
    assert isinstance(item, Message)
    assert isinstance(original, Message)
    assert item.body == "訂正しました"
    assert item.content_digest == message_digest(edit)
    assert item.external_ref == original.external_ref
    assert item.sent_at == original.sent_at
    assert item.revisions == (
        Revision(body=original.body, content_digest=original.content_digest or "", replaced_at=now),
    )
    assert revised.version == 4
    assert change.events == (ItemRevised(ticket_id="t-1", at=now, item_id="i-1", revision=1),)
    again = revise_message(revised, "i-1", inbound("1", body="再訂正", is_edit=True), now=now)
    assert again.events[0].revision == 2  # type: ignore[union-attr]
    again_item = again.ticket.thread[0]
    assert isinstance(again_item, Message)
    assert [r.body for r in again_item.revisions] == [original.body, "訂正しました"]


@pytest.mark.parametrize("item_id", ["missing", "n-1"], ids=["unknown-item", "not-a-message"])
def test_P3_P5_revise_of_a_bad_item_raises_a_deskcore_error(item_id: str) -> None:
    """P3/P5: revising an item the ticket lacks, or one that is not a message, raises a
    deskcore error (NotFoundError for a missing item), not StopIteration or AssertionError."""
    note = Comment(id="n-1", origin_ticket_id="t-1", author_id="a", body="note", created_at=T0)
    t = append_inbound(opened(inbound()), inbound("2"), item_id="i-2", now=T0).ticket
    t = attrs.evolve(t, thread=(*t.thread, note))
    with pytest.raises(DeskcoreError) as caught:
        revise_message(t, item_id, inbound(is_edit=True, body="x"), now=T0)
    if item_id == "missing":
        assert isinstance(caught.value, NotFoundError)


def test_T5_revise_keeps_the_origin_of_a_merged_item() -> None:
    """T5/M7: editing a message that came from another (merged) ticket keeps that origin on
    the new attachments too."""
    t = opened(inbound())
    merged_item = attrs.evolve(t.thread[0], origin_ticket_id="t-old")
    t = attrs.evolve(t, thread=(merged_item,))
    files = (InboundAttachment(name="new.png", size=5, storage_key="k"),)
    edit = inbound(body="edited with a file", attachments=files, is_edit=True)
    revised = revise_message(t, "i-1", edit, now=T0).ticket.thread[0]
    assert isinstance(revised, Message)
    assert revised.origin_ticket_id == "t-old"
    assert [a.origin_ticket_id for a in revised.attachments] == ["t-old"]
    assert isinstance(revised.attachments[0], Attachment)


def test_P3_outbound_message_via_intake_is_a_first_response() -> None:
    """P3/L4: a public reply the brand posted on the platform counts as the first response."""
    t = opened(inbound("1"))
    now = T0 + timedelta(minutes=9)
    reply = inbound("2", direction=Direction.OUTBOUND, author_id="agent-1", sent_at=now)
    change = append_inbound(t, reply, item_id="i-2", now=now)
    assert change.ticket.first_responded_at == now
    assert [type(e) for e in change.events] == [ItemAppended, FirstResponseRecorded]
    private = inbound("3", direction=Direction.OUTBOUND, visibility=Visibility.PRIVATE)
    assert append_inbound(t, private, item_id="i-3", now=now).ticket.first_responded_at is None


# -- P1: purity ----------------------------------------------------------------------------------


@given(s.inbound_messages(), s.tickets(max_items=3), s.desk_settings(), s.aware_datetimes())
def test_P1_intake_functions_are_pure(
    message: InboundMessage, t: Ticket, settings: DeskSettings, now: datetime
) -> None:
    """P1: the intake functions change none of their inputs, read no clock, and give equal
    results for equal inputs."""
    assume(all(i.id != "i-new" for i in t.thread))
    assume(message.reference not in t.held_references())
    # A reopen earlier than the last status change is a TimeOrderError (L1), tested apart.
    assume(not t.status_history() or now >= t.status_history()[-1].at)
    frozen = pickle.dumps((message, t, settings))

    def run(m: InboundMessage, ticket: Ticket, conf: DeskSettings) -> tuple[Any, ...]:
        return (
            route_intake(m, claimed_by=None, conversation_ticket=ticket),
            route_intake(m, claimed_by=ticket, conversation_ticket=None),
            open_ticket(m, ticket_id="t-new", number=1, item_id="i-new", settings=conf, now=now),
            append_inbound(ticket, m, item_id="i-new", now=now),
            derive_subject(m, conf),
        )

    first = run(message, t, settings)
    assert (message, t, settings) == pickle.loads(frozen)
    assert run(*pickle.loads(frozen)) == first
