"""Ticket documents (P6): exact round trips with the domain's Ticket, aware datetimes (T1),
and typed errors for bad documents (P5)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from deskcore.errors import InvalidModelError
from deskcore.models import (
    Attachment,
    Channel,
    Classification,
    Comment,
    Direction,
    ExternalReference,
    Message,
    Priority,
    Revision,
    ThreadItem,
    Ticket,
    TicketStatus,
    Visibility,
)
from deskcore.wire import (
    CommentDocument,
    MessageDocument,
    parse_ticket_document,
    ticket_from_document,
    ticket_to_document,
)

JST = timezone(timedelta(hours=9))
NEWFOUNDLAND = timezone(timedelta(hours=-3, minutes=-30))
NEPAL = timezone(timedelta(hours=5, minutes=45))
TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def ref(native_id: str, kind: str = "tweet") -> ExternalReference:
    return ExternalReference(network="twitter", account="brand/jp", kind=kind, native_id=native_id)


def full_thread(ticket_id: str) -> tuple[ThreadItem, ...]:
    """One of each thread item kind, with attachments, revisions and mixed offsets."""
    first = Message(
        id="m1",
        origin_ticket_id=ticket_id,
        direction=Direction.INBOUND,
        author_id="contact-1",
        author_name="山田 太郎",
        body="注文した商品が届きません 📦\nשלום",
        channel=Channel.TWITTER,
        sent_at=datetime(2024, 5, 1, 9, 0, 0, 1, tzinfo=JST),
        external_ref=ref("1001"),
        attachments=(
            Attachment(
                id="m1.a1",
                origin_ticket_id=ticket_id,
                name="レシート.png",
                size=0,
                content_type="image/png",
                storage_key="s3://bucket/a1",
                created_at=datetime(2024, 5, 1, 9, 0, tzinfo=JST),
            ),
            Attachment(
                id="m1.a2",
                origin_ticket_id="ticket-older",  # provenance kept after a merge (M7)
                name="log.txt",
                size=2**40,
                storage_key="s3://bucket/a2",
                created_at=datetime(2024, 5, 1, 0, 0, tzinfo=UTC),
            ),
        ),
        revisions=(
            Revision(
                body="first draft",
                content_digest="sha256:00",
                replaced_at=datetime(2024, 5, 1, 9, 5, tzinfo=TOKYO),
            ),
            Revision(
                body="second draft 🙂",
                content_digest="sha256:01",
                replaced_at=datetime(2024, 5, 1, 9, 6, tzinfo=NEPAL),
            ),
        ),
    )
    note = Comment(
        id="c1",
        origin_ticket_id=ticket_id,
        author_id="agent-1",
        author_name="佐藤",
        body="社内メモ: 配送業者に確認中",
        created_at=datetime(2024, 4, 30, 23, 0, tzinfo=NEWFOUNDLAND),  # 2024-05-01 02:30Z
    )
    public_note = Comment(
        id="c2",
        origin_ticket_id=ticket_id,
        visibility=Visibility.PUBLIC,
        author_id="agent-1",
        body="",
        created_at=datetime(2024, 5, 1, 2, 30, tzinfo=UTC),  # same instant as c1
    )
    reply = Message(
        id="m2",
        origin_ticket_id=ticket_id,
        direction=Direction.OUTBOUND,
        visibility=Visibility.PUBLIC,
        author_id="agent-1",
        body="ご不便をおかけしております。",
        channel=Channel("line_official"),
        sent_at=datetime(2024, 5, 1, 12, 0, tzinfo=JST),
        content_digest="host-digest",
        in_reply_to="m1",
    )
    upload = Attachment(
        id="f1",
        origin_ticket_id=ticket_id,
        name="",
        size=123,
        storage_key="s3://bucket/f1",
        created_at=datetime(2024, 5, 1, 13, 0, tzinfo=TOKYO),
    )
    return (first, note, public_note, reply, upload)


def base_ticket(**changes: Any) -> Ticket:
    ticket = Ticket(
        id="ticket-1",
        number=42,
        department_id="support",
        subject="配送について 🚚",
        status=TicketStatus.OPEN,
        priority=Priority.HIGH,
        classification=Classification.PROBLEM,
        channel=Channel.TWITTER,
        contact_id="contact-1",
        account_id="acct-1",
        product_name="Widget Pro",
        assignee_id="agent-1",
        created_at=datetime(2024, 5, 1, 9, 0, tzinfo=JST),
        first_responded_at=datetime(2024, 5, 1, 12, 0, tzinfo=JST),
        on_hold_time=timedelta(days=1, seconds=3, microseconds=7),
        custom_fields={
            "order_id": "A-1",
            "quantity": 3,
            "weight_kg": 1.5,
            "whole_float": 2.0,
            "big": 2**80,
            "gift": True,
            "coupon": None,
            "メモ": "ありがとう 🙏",
        },
        thread=full_thread("ticket-1"),
        external_refs=(ref("conv-1", kind="conversation"),),
        version=7,
    )
    return attrs.evolve(ticket, **changes)


TICKETS = {
    "open": base_ticket(),
    "on_hold": base_ticket(
        status=TicketStatus.ON_HOLD,
        on_hold_since=datetime(2024, 5, 2, 10, 0, tzinfo=NEW_YORK),
    ),
    "escalated": base_ticket(status=TicketStatus.ESCALATED, priority=Priority.LOW),
    "closed": base_ticket(
        status=TicketStatus.CLOSED,
        closed_at=datetime(2024, 5, 3, 18, 0, 0, 999999, tzinfo=NEPAL),
        classification=Classification("billing"),
    ),
    "merged": base_ticket(
        merged_into="ticket-2",
        trashed_at=datetime(2024, 5, 4, 0, 0, tzinfo=NEWFOUNDLAND),
    ),
    "minimal": Ticket(
        id="t",
        number=1,
        department_id="d",
        channel=Channel.EMAIL,
        contact_id="c",
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
    ),
}


def datetimes_of(ticket: Ticket) -> list[datetime | None]:
    """Every datetime a ticket holds, in a fixed order."""
    found: list[datetime | None] = [
        ticket.created_at,
        ticket.first_responded_at,
        ticket.on_hold_since,
        ticket.closed_at,
        ticket.trashed_at,
    ]
    for item in ticket.thread:
        found.append(item.created_at)
        if isinstance(item, Message):
            found.extend(a.created_at for a in item.attachments)
            found.extend(r.replaced_at for r in item.revisions)
    return found


def offsets(values: list[datetime | None]) -> list[timedelta | None]:
    return [None if value is None else value.utcoffset() for value in values]


def custom_types(ticket: Ticket) -> dict[str, type]:
    return {key: type(value) for key, value in ticket.custom_fields.items()}


@pytest.fixture(params=sorted(TICKETS))
def ticket(request: pytest.FixtureRequest) -> Ticket:
    return TICKETS[request.param]


# -- round trips -----------------------------------------------------------------------------


def test_P6_ticket_document_round_trip_is_exact(ticket: Ticket) -> None:
    back = ticket_from_document(ticket_to_document(ticket))
    assert back == ticket
    assert datetimes_of(back) == datetimes_of(ticket)
    assert offsets(datetimes_of(back)) == offsets(datetimes_of(ticket))
    assert custom_types(back) == custom_types(ticket)
    assert back.on_hold_time == ticket.on_hold_time


def test_P6_T1_ticket_round_trip_through_json_text_keeps_offsets(ticket: Ticket) -> None:
    """T1: through JSON a datetime keeps its instant and its UTC offset (not a zone name)."""
    text = ticket_to_document(ticket).model_dump_json()
    back = ticket_from_document(parse_ticket_document(text))
    assert back == ticket
    assert offsets(datetimes_of(back)) == offsets(datetimes_of(ticket))
    assert custom_types(back) == custom_types(ticket)
    for value in datetimes_of(back):
        assert value is None or type(value.tzinfo) is timezone


def test_P6_ticket_round_trip_through_a_decoded_mapping(ticket: Ticket) -> None:
    data = json.loads(ticket_to_document(ticket).model_dump_json())
    assert ticket_from_document(parse_ticket_document(data)) == ticket


def test_P6_document_json_shape() -> None:
    data = json.loads(ticket_to_document(TICKETS["closed"]).model_dump_json())
    assert data["schema_version"] == 1
    assert data["status"] == "closed"
    assert data["classification"] == "billing"
    assert data["channel"] == "twitter"
    assert data["on_hold_microseconds"] == 86_403_000_007
    assert data["created_at"] == "2024-05-01T09:00:00+09:00"
    assert data["closed_at"] == "2024-05-03T18:00:00.999999+05:45"
    assert [item["kind"] for item in data["thread"]] == [
        "message",
        "comment",
        "comment",
        "message",
        "attachment",
    ]
    assert data["thread"][0]["attachments"][0]["kind"] == "attachment"
    assert data["thread"][0]["revisions"][1]["replaced_at"] == "2024-05-01T09:06:00+05:45"
    assert data["custom_fields"]["big"] == 2**80
    assert data["custom_fields"]["whole_float"] == 2.0
    assert isinstance(data["custom_fields"]["whole_float"], float)
    assert data["external_refs"] == [
        {"network": "twitter", "account": "brand/jp", "kind": "conversation", "native_id": "conv-1"}
    ]


def test_P6_documents_are_frozen_hashable_and_compare_by_value() -> None:
    document = ticket_to_document(TICKETS["open"])
    again = ticket_to_document(TICKETS["open"])
    assert document == again
    assert hash(document) == hash(again)
    with pytest.raises(ValidationError):
        document.subject = "changed"  # type: ignore[misc]
    assert isinstance(document.thread[0], MessageDocument)
    assert isinstance(document.thread[1], CommentDocument)


# -- bad documents ---------------------------------------------------------------------------


def document_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ticket_to_document(TICKETS["open"]).model_dump_json())
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"surprise": 1}, "extra_forbidden"),
        ({"schema_version": 2}, "literal_error"),
        ({"number": 0}, "greater_than_equal"),
        ({"number": "42"}, "int_type"),
        ({"version": -1}, "greater_than_equal"),
        ({"on_hold_microseconds": -1}, "greater_than_equal"),
        ({"on_hold_microseconds": 1.5}, "int_type"),
        ({"on_hold_microseconds": "P1D"}, "int_type"),
        ({"status": "pending"}, "enum"),
        ({"priority": 1}, "enum"),
        ({"channel": "E-mail"}, "string_pattern_mismatch"),
        ({"classification": "Billing"}, "string_pattern_mismatch"),
        ({"created_at": "2024-05-01T09:00:00"}, "timezone_aware"),
        ({"created_at": 1714521600}, "datetime_type"),
        ({"custom_fields": {"": 1}}, "string_too_short"),
        ({"custom_fields": {"k" * 256: 1}}, "string_too_long"),
        ({"custom_fields": {"tab\there": 1}}, "custom_field_name"),
        ({"custom_fields": []}, "dict_type"),
        ({"thread": {}}, "tuple_type"),
        ({"external_refs": [{"network": "x"}]}, "missing"),
    ],
    ids=lambda v: json.dumps(v)[:40] if isinstance(v, dict) else v,
)
def test_P6_bad_documents_are_rejected(changes: dict[str, Any], expected: str) -> None:
    for parse_input in (document_data(**changes), json.dumps(document_data(**changes))):
        with pytest.raises(ValidationError) as caught:
            parse_ticket_document(parse_input)
        assert expected in {error["type"] for error in caught.value.errors()}


@pytest.mark.parametrize("value", [{"nested": 1}, [1, 2]], ids=["object", "array"])
def test_P6_custom_field_values_must_be_json_scalars(value: Any) -> None:
    with pytest.raises(ValidationError):
        parse_ticket_document(json.dumps(document_data(custom_fields={"k": value})))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_P6_custom_field_numbers_must_be_finite(literal: str) -> None:
    text = json.dumps(document_data(custom_fields={"k": "PLACEHOLDER"}))
    with pytest.raises(ValidationError):
        parse_ticket_document(text.replace('"PLACEHOLDER"', literal))


@pytest.mark.parametrize("changes", [{"number": 2**63}, {"version": 2**70}], ids=str)
def test_P5_the_domain_refuses_integers_beyond_64_bits(changes: dict[str, Any]) -> None:
    """P5: what no document or database column could carry is refused at construction."""
    with pytest.raises(InvalidModelError):
        base_ticket(**changes)


def test_P5_a_hold_time_beyond_64_bit_microseconds_fails_to_export() -> None:
    """P5: what the document format cannot carry is refused on export, never truncated."""
    ticket = base_ticket(on_hold_time=timedelta(days=999_999_999))
    with pytest.raises(ValidationError):
        ticket_to_document(ticket)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("x" * 100_000, True), ("x" * 100_001, False), (math.nan, False), (math.inf, False)],
    ids=["100000-chars", "100001-chars", "nan", "inf"],
)
def test_P6_custom_field_limits_agree_with_the_domain(value: Any, accepted: bool) -> None:
    """P6: the wire accepts exactly the custom field values the domain accepts."""
    data = document_data(custom_fields={"k": value})
    if accepted:
        assert ticket_from_document(parse_ticket_document(data)).custom_fields["k"] == value
        assert base_ticket(custom_fields={"k": value}).custom_fields["k"] == value
        return
    with pytest.raises(ValidationError):
        parse_ticket_document(data)
    with pytest.raises(InvalidModelError):
        base_ticket(custom_fields={"k": value})


@pytest.mark.parametrize(
    ("item_changes", "expected"),
    [
        ({"kind": "note"}, "union_tag_invalid"),
        ({"kind": None}, "union_tag_not_found"),
        ({"extra": 1}, "extra_forbidden"),
        ({"body": "x" * 1_000_001}, "string_too_long"),
        ({"sent_at": "2024-05-01T09:00:00"}, "timezone_aware"),
        ({"direction": "sideways"}, "enum"),
        ({"attachments": [{"name": "a"}]}, "missing"),
    ],
    ids=lambda v: json.dumps(v)[:30] if isinstance(v, dict) else v,
)
def test_P6_bad_thread_items_are_rejected(item_changes: dict[str, Any], expected: str) -> None:
    data = document_data()
    item = data["thread"][0]
    item.update(item_changes)
    if item_changes.get("kind", "") is None:
        del item["kind"]
    with pytest.raises(ValidationError) as caught:
        parse_ticket_document(json.dumps(data))
    assert expected in {error["type"] for error in caught.value.errors()}


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "closed"},  # closed without closed_at
        {"on_hold_since": "2024-05-02T10:00:00+09:00"},  # on hold time without the status
        {"merged_into": "ticket-2"},  # merged but not trashed
        {"merged_into": "ticket-1", "trashed_at": "2024-05-04T00:00:00Z"},  # into itself
    ],
    ids=lambda changes: ",".join(changes),
)
def test_P5_cross_field_invariants_are_reported_as_deskcore_errors(changes: dict[str, Any]) -> None:
    document = parse_ticket_document(json.dumps(document_data(**changes)))
    with pytest.raises(InvalidModelError):
        ticket_from_document(document)


def test_P5_thread_out_of_order_or_with_repeated_ids_is_an_invalid_model_error() -> None:
    data = document_data()
    data["thread"] = list(reversed(data["thread"]))
    with pytest.raises(InvalidModelError, match="order"):
        ticket_from_document(parse_ticket_document(data))
    data = document_data()
    data["thread"][1]["id"] = data["thread"][0]["id"]
    with pytest.raises(InvalidModelError, match="twice"):
        ticket_from_document(parse_ticket_document(data))


# -- generated tickets -----------------------------------------------------------------------
# Strategies are built once, at module level: building them inside a composite makes
# hypothesis validate a new strategy on every draw, which dominates the run time.

_ZONES = [
    UTC,
    JST,
    NEWFOUNDLAND,
    NEPAL,
    timezone(timedelta(hours=-12)),
    timezone(timedelta(hours=14)),
    TOKYO,
    NEW_YORK,
    ZoneInfo("Australia/Lord_Howe"),  # a 30-minute DST shift
]


def _local(instant: int, microsecond: int, zone: Any) -> datetime:
    value = datetime.fromtimestamp(instant, zone).replace(microsecond=microsecond)
    if value.replace(fold=1 - value.fold).utcoffset() != value.utcoffset():
        # A zone time in a DST fold: keep its offset, not its zone (see the PEP 495 test).
        offset = value.utcoffset()
        assert offset is not None
        value = value.astimezone(timezone(offset))
    return value


_datetimes = st.builds(
    _local,
    st.integers(min_value=86_400, max_value=7_258_118_400),  # 1970-01-02 .. 2200-01-01
    st.integers(min_value=0, max_value=999_999),
    st.sampled_from(_ZONES),
)
_ids = st.text(alphabet="abcXYZ019-_.:/問", min_size=1, max_size=8)
_optional_ids = st.none() | _ids
_text = st.text(max_size=20)
_optional_text = st.none() | _text
_sizes = st.integers(min_value=0, max_value=2**63 - 1)
_custom = st.dictionaries(
    st.text(min_size=1, max_size=10).filter(str.isprintable),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        _text,
    ),
    max_size=4,
)
_files = st.fixed_dictionaries(
    {
        "name": _text,
        "size": _sizes,
        "content_type": st.sampled_from(["application/octet-stream", "image/png"]),
        "storage_key": _text,
        "created_at": _datetimes,
    }
)
_item_fields = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["message", "comment", "attachment"]),
        "from_other_ticket": st.booleans(),
        "direction": st.sampled_from(Direction),
        "visibility": st.sampled_from(Visibility),
        "author_id": _ids,
        "author_name": _text,
        "body": _text,
        "channel": st.sampled_from(["email", "twitter", "line", "x1_y"]),
        "has_ref": st.booleans(),
        "content_digest": _optional_text,
        "files": st.lists(_files, max_size=2),
        "revisions": st.lists(
            st.builds(Revision, body=_text, content_digest=_text, replaced_at=_datetimes),
            max_size=2,
        ),
        "in_reply_to": _optional_ids,
    }
)
_thread = st.lists(st.tuples(_datetimes, _item_fields), max_size=5)


def _build_item(n: int, ticket_id: str, created_at: datetime, f: dict[str, Any]) -> ThreadItem:
    item_id = f"i{n}"
    origin = "other-ticket" if f["from_other_ticket"] else ticket_id
    if f["kind"] == "message":
        return Message(
            id=item_id,
            origin_ticket_id=origin,
            direction=f["direction"],
            visibility=f["visibility"],
            author_id=f["author_id"],
            author_name=f["author_name"],
            body=f["body"],
            channel=Channel(f["channel"]),
            sent_at=created_at,
            external_ref=ref(f"n{n}") if f["has_ref"] else None,
            content_digest=f["content_digest"],
            attachments=tuple(
                Attachment(id=f"{item_id}.a{k}", origin_ticket_id=origin, **file)
                for k, file in enumerate(f["files"])
            ),
            revisions=tuple(f["revisions"]),
            in_reply_to=f["in_reply_to"],
        )
    if f["kind"] == "comment":
        return Comment(
            id=item_id,
            origin_ticket_id=origin,
            visibility=f["visibility"],
            author_id=f["author_id"],
            author_name=f["author_name"],
            body=f["body"],
            created_at=created_at,
        )
    file = f["files"][0] if f["files"] else {"name": "", "size": 0, "storage_key": "k"}
    return Attachment(id=item_id, origin_ticket_id=origin, **{**file, "created_at": created_at})


@st.composite
def tickets(draw: st.DrawFn) -> Ticket:
    ticket_id = draw(_ids)
    status = draw(st.sampled_from(TicketStatus))
    trashed_at = draw(st.none() | _datetimes)
    thread = sorted(draw(_thread), key=lambda pair: pair[0])
    return Ticket(
        id=ticket_id,
        number=draw(st.integers(min_value=1, max_value=2**63 - 1)),
        department_id=draw(_ids),
        subject=draw(_text),
        status=status,
        priority=draw(st.sampled_from(Priority)),
        classification=draw(st.none() | st.sampled_from(Classification.defaults())),
        channel=draw(st.sampled_from(Channel.defaults())),
        contact_id=draw(_ids),
        account_id=draw(_optional_ids),
        product_name=draw(_optional_text),
        assignee_id=draw(_optional_ids),
        created_at=draw(_datetimes),
        first_responded_at=draw(st.none() | _datetimes),
        on_hold_time=timedelta(microseconds=draw(_sizes)),
        on_hold_since=draw(_datetimes) if status is TicketStatus.ON_HOLD else None,
        closed_at=draw(_datetimes) if status is TicketStatus.CLOSED else None,
        custom_fields=draw(_custom),
        thread=tuple(
            _build_item(n, ticket_id, at, fields) for n, (at, fields) in enumerate(thread)
        ),
        external_refs=(ref("conv", kind="conversation"),) if draw(st.booleans()) else (),
        merged_into=draw(st.none() | st.just("merged-target")) if trashed_at else None,
        trashed_at=trashed_at,
        version=draw(_sizes),
    )


@given(ticket=tickets())
def test_P6_T1_generated_tickets_round_trip_exactly_through_json(ticket: Ticket) -> None:
    document = ticket_to_document(ticket)
    assert ticket_from_document(document) == ticket
    back = ticket_from_document(parse_ticket_document(document.model_dump_json()))
    assert back == ticket
    assert offsets(datetimes_of(back)) == offsets(datetimes_of(ticket))
    assert custom_types(back) == custom_types(ticket)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 11, 3, 1, 30, tzinfo=NEW_YORK, fold=0),  # first 01:30, EDT
        datetime(2024, 11, 3, 1, 30, tzinfo=NEW_YORK, fold=1),  # second 01:30, EST
        datetime(2024, 3, 10, 2, 30, tzinfo=NEW_YORK),  # in the spring-forward gap
    ],
    ids=["fold-0", "fold-1", "gap"],
)
def test_T1_zone_times_in_a_dst_fold_or_gap_keep_instant_and_offset(value: datetime) -> None:
    """T1: JSON keeps the instant and the offset of a zoneinfo time in a fold or gap.

    Python never considers such a time equal to one in another tzinfo (PEP 495), so after a
    JSON round trip (which keeps the offset, not the zone name) ``==`` on the ticket fails
    even though nothing was lost; the Python-object round trip stays ``==``.
    """
    ticket = base_ticket(created_at=value)
    assert ticket_from_document(ticket_to_document(ticket)) == ticket
    text = ticket_to_document(ticket).model_dump_json()
    back = ticket_from_document(parse_ticket_document(text)).created_at
    assert back.timestamp() == value.timestamp()
    assert back.utcoffset() == value.utcoffset()
    assert back != value  # the PEP 495 rule, not a loss
