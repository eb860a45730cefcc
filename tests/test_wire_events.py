"""Domain events as JSON documents (P4, P6): every event class has a payload, every event
round-trips exactly (UTC offsets included), every document matches the exported JSON Schema,
and hostile documents are refused with a ValidationError."""

from __future__ import annotations

import importlib
import json
import pkgutil
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, get_args
from zoneinfo import ZoneInfo

import attrs
import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import deskcore.models
from deskcore.errors import InvalidModelError
from deskcore.models import (
    ArticleSynced,
    CrmInteractionLinked,
    CrmProfileLinked,
    CrmRecordAdded,
    CrmRecordKind,
    CrmTrigger,
    ExternalReference,
    FirstResponseRecorded,
    ItemAppended,
    ItemRevised,
    ReferenceConflict,
    SocialProfile,
    StatusChanged,
    TicketCreated,
    TicketMerged,
    TicketRestored,
    TicketStatus,
    TicketTrashed,
)
from deskcore.testing.strategies import (
    aware_datetimes,
    codes,
    digests,
    domain_events,
    external_references,
    ids,
    texts,
)
from deskcore.wire.events import (
    DOMAIN_EVENT_ADAPTER,
    DomainEventDocument,
    event_from_document,
    event_to_document,
)
from wire_support import parsers

# -- discovery ------------------------------------------------------------------------------------


def _event_classes() -> set[type[Any]]:
    """Every attrs class in ``deskcore.models`` with a ``name`` class variable holding a string:
    the domain events (``_Event`` declares ``name`` without a value, so it is not one)."""
    found: set[type[Any]] = set()
    modules = [deskcore.models]
    for info in pkgutil.walk_packages(deskcore.models.__path__, "deskcore.models."):
        modules.append(importlib.import_module(info.name))
    for module in modules:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and attrs.has(value)
                and isinstance(getattr(value, "name", None), str)
                and "name" not in attrs.fields_dict(value)
            ):
                found.add(value)
    return found


EVENT_CLASSES = _event_classes()
PAYLOADS: dict[str, type[Any]] = {
    get_args(cls.model_fields["event"].annotation)[0]: cls
    for cls in get_args(get_args(DomainEventDocument)[0])
}
SCHEMA = DOMAIN_EVENT_ADAPTER.json_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

# -- strategies -----------------------------------------------------------------------------------

_ID = ids()
_OPTIONAL_ID = st.none() | _ID
_TIME = aware_datetimes()
_PROFILES = st.builds(
    SocialProfile,
    network=st.sampled_from(("twitter", "facebook")) | codes(),
    id=_ID,
    handle=texts(max_size=12),
    display_name=texts(max_size=12),
)
_BIG = st.integers(1, 2**63 - 1)

_OPTIONAL_REFERENCE = st.none() | external_references()

# The kit's domain_events() covers the ticket events; these go further (64-bit numbers, any
# reason code, empty merge lists, any digest text) and add the other events.
STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {}
STRATEGIES[TicketCreated] = st.builds(
    TicketCreated, ticket_id=_ID, at=_TIME, number=_BIG, reference=_OPTIONAL_REFERENCE
)
STRATEGIES[ItemAppended] = st.builds(
    ItemAppended, ticket_id=_ID, at=_TIME, item_id=_ID, reference=_OPTIONAL_REFERENCE
)
STRATEGIES[ItemRevised] = st.builds(
    ItemRevised, ticket_id=_ID, at=_TIME, item_id=_ID, revision=_BIG
)
STRATEGIES[StatusChanged] = st.builds(
    StatusChanged,
    ticket_id=_ID,
    at=_TIME,
    from_status=st.sampled_from(TicketStatus),
    to_status=st.sampled_from(TicketStatus),
    reason=st.sampled_from(("agent", "reopened_by_customer")) | _ID,
)
STRATEGIES[FirstResponseRecorded] = st.builds(
    FirstResponseRecorded, ticket_id=_ID, at=_TIME, item_id=_ID
)
STRATEGIES[ReferenceConflict] = st.builds(
    ReferenceConflict,
    ticket_id=_ID,
    at=_TIME,
    reference=external_references(),
    stored_digest=st.none() | digests() | texts(max_size=8),
    received_digest=digests(),
)
STRATEGIES[TicketMerged] = st.builds(
    TicketMerged,
    ticket_id=_ID,
    at=_TIME,
    merged_ticket_ids=st.lists(_ID, max_size=4).map(tuple),
    journal_id=_ID,
)
STRATEGIES[TicketTrashed] = st.builds(
    TicketTrashed, ticket_id=_ID, at=_TIME, merged_into=_OPTIONAL_ID
)
STRATEGIES[TicketRestored] = st.builds(
    TicketRestored, ticket_id=_ID, at=_TIME, was_merged_into=_OPTIONAL_ID
)
STRATEGIES[ArticleSynced] = st.builds(
    ArticleSynced,
    source_id=_ID,
    target_id=_ID,
    action=st.sampled_from(("create", "update", "remove")),
    reason=st.sampled_from(("new_article", "changed", "unpublished")) | _ID,
    run_key=_ID,
    at=_TIME,
)
STRATEGIES[CrmRecordAdded] = st.builds(
    CrmRecordAdded,
    record_id=_ID,
    kind=st.sampled_from(CrmRecordKind),
    profile=_PROFILES,
    lead_source=st.none() | texts(max_size=12),
    owner_id=_OPTIONAL_ID,
    actor_id=_OPTIONAL_ID,
    rule_id=_OPTIONAL_ID,
    branch=st.none() | _BIG,
    reference=_OPTIONAL_REFERENCE,
    at=_TIME,
)
STRATEGIES[CrmProfileLinked] = st.builds(
    CrmProfileLinked, record_id=_ID, profile=_PROFILES, actor_id=_OPTIONAL_ID, at=_TIME
)
STRATEGIES[CrmInteractionLinked] = st.builds(
    CrmInteractionLinked,
    record_id=_ID,
    reference=external_references(),
    trigger=st.sampled_from(CrmTrigger),
    actor_id=_OPTIONAL_ID,
    at=_TIME,
)

ANY_EVENT = st.one_of(domain_events(), *STRATEGIES.values())

T0 = datetime(2024, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=9)))


def _document(event: Any) -> dict[str, Any]:
    return json.loads(json.dumps(event_to_document(event)))


# -- coverage of the event classes ----------------------------------------------------------------


def test_P4_discovery_finds_the_known_events() -> None:
    assert {TicketCreated, ArticleSynced, CrmRecordAdded, CrmInteractionLinked} <= EVENT_CLASSES
    assert len({cls.name for cls in EVENT_CLASSES}) == len(EVENT_CLASSES)


@pytest.mark.parametrize("cls", sorted(EVENT_CLASSES, key=lambda c: c.name), ids=lambda c: c.name)
def test_P4_every_event_class_has_a_payload_and_a_strategy(cls: type[Any]) -> None:
    payload = PAYLOADS.get(cls.name)
    assert payload is not None, f"{cls.__name__} ({cls.name}) has no payload in DomainEventDocument"
    assert set(payload.model_fields) - {"event"} == set(attrs.fields_dict(cls))
    assert cls in STRATEGIES, f"no strategy for {cls.__name__}: add one to this test module"


def test_P4_no_payload_without_an_event_class() -> None:
    assert set(PAYLOADS) == {cls.name for cls in EVENT_CLASSES}


# -- round trip -----------------------------------------------------------------------------------


def _assert_same(back: Any, event: Any) -> None:
    assert type(back) is type(event)
    assert back == event
    assert back.at.utcoffset() == event.at.utcoffset()
    assert back.at.isoformat() == event.at.isoformat()


@pytest.mark.parametrize("cls", list(STRATEGIES), ids=lambda c: c.name)
def test_P4_every_event_round_trips_exactly(cls: type[Any]) -> None:
    @given(STRATEGIES[cls])
    def check(event: Any) -> None:
        document = event_to_document(event)
        text = json.dumps(document, ensure_ascii=False)
        assert document["event"] == cls.name
        _assert_same(event_from_document(document), event)
        _assert_same(event_from_document(text), event)
        _assert_same(event_from_document(text.encode("utf-8")), event)
        _assert_same(event_from_document(json.loads(text)), event)
        VALIDATOR.validate(json.loads(text))

    check()


@given(ANY_EVENT)
def test_P6_documents_validate_against_the_json_schema(event: Any) -> None:
    document = event_to_document(event)
    errors = list(VALIDATOR.iter_errors(json.loads(json.dumps(document))))
    assert not errors, [e.message for e in errors]


def test_P6_the_schema_is_valid_json_schema_with_one_definition_per_event() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    json.dumps(SCHEMA)
    assert SCHEMA["discriminator"]["propertyName"] == "event"
    assert set(SCHEMA["discriminator"]["mapping"]) == {cls.name for cls in EVENT_CLASSES}
    for name in SCHEMA["discriminator"]["mapping"]:
        definition = SCHEMA["$defs"][SCHEMA["discriminator"]["mapping"][name].split("/")[-1]]
        assert definition["additionalProperties"] is False
        assert definition["properties"]["event"]["const"] == name
        assert "event" in definition["required"]


def test_P4_the_document_format_is_stable() -> None:
    reference = ExternalReference(network="twitter", account="brand", kind="tweet", native_id="1")
    event = TicketCreated(ticket_id="t-1", at=T0, number=7, reference=reference)
    assert event_to_document(event) == {
        "event": "ticket.created",
        "ticket_id": "t-1",
        "at": "2024-05-01T09:30:00+09:00",
        "number": 7,
        "reference": {"network": "twitter", "account": "brand", "kind": "tweet", "native_id": "1"},
    }
    added = CrmRecordAdded(
        record_id="lead-1",
        kind=CrmRecordKind.LEAD,
        profile=SocialProfile(network="twitter", id="42", handle="@yamada"),
        at=T0.astimezone(UTC),
    )
    assert event_to_document(added) == {
        "event": "crm.record_added",
        "record_id": "lead-1",
        "kind": "lead",
        "profile": {"network": "twitter", "id": "42", "handle": "@yamada", "display_name": ""},
        "lead_source": None,
        "owner_id": None,
        "actor_id": None,
        "rule_id": None,
        "branch": None,
        "reference": None,
        "at": "2024-05-01T00:30:00Z",
    }
    changed = StatusChanged(
        ticket_id="t-1",
        at=T0,
        from_status=TicketStatus.CLOSED,
        to_status=TicketStatus.OPEN,
        reason="reopened_by_customer",
    )
    assert event_to_document(changed)["from_status"] == "closed"
    merged = TicketMerged(ticket_id="t-1", at=T0, merged_ticket_ids=("t-2", "t-3"), journal_id="j")
    assert event_to_document(merged)["merged_ticket_ids"] == ["t-2", "t-3"]


@pytest.mark.parametrize(
    ("at", "text"),
    [
        (datetime(2024, 5, 1, 9, 30, 0, 123456, tzinfo=UTC), "2024-05-01T09:30:00.123456Z"),
        (T0, "2024-05-01T09:30:00+09:00"),
        (datetime(2024, 1, 1, tzinfo=timezone(-timedelta(hours=3, minutes=30))), "-03:30"),
        (datetime(2024, 1, 1, tzinfo=ZoneInfo("Asia/Kathmandu")), "+05:45"),
        (datetime(2024, 4, 7, 1, 30, fold=1, tzinfo=ZoneInfo("Australia/Lord_Howe")), "+10:30"),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), "0001-01-01T00:00:00+14:00"),
    ],
)
def test_P4_times_keep_their_utc_offset(at: datetime, text: str) -> None:
    event = TicketTrashed(ticket_id="t-1", at=at)
    document = event_to_document(event)
    assert text in document["at"]
    _assert_same(event_from_document(json.dumps(document)), event)


# -- what cannot be written -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _LouderCreated(TicketCreated):
    volume: int = 11


@pytest.mark.parametrize(
    ("value", "model"),
    [
        (object(), "object"),
        (None, "NoneType"),
        ({"event": "ticket.created"}, "dict"),
        (ExternalReference(network="n", account="a", kind="k", native_id="1"), "ExternalReference"),
        (_LouderCreated(ticket_id="t", at=T0, number=1), "_LouderCreated"),
    ],
)
def test_P4_only_domain_events_are_written(value: Any, model: str) -> None:
    with pytest.raises(InvalidModelError) as caught:
        event_to_document(value)
    assert caught.value.model == model
    assert model in str(caught.value)
    assert caught.value.code == "invalid_model"


def test_P4_values_beyond_the_document_are_refused_not_changed() -> None:
    with pytest.raises(InvalidModelError) as caught:
        event_to_document(TicketCreated(ticket_id="t", at=T0, number=2**63))
    assert (caught.value.model, caught.value.field) == ("TicketCreated", "number")
    # Before 1888 Tokyo kept local mean time, +09:18:59: JSON offsets are whole minutes.
    lmt = datetime(1880, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo"))
    with pytest.raises(InvalidModelError) as caught:
        event_to_document(TicketRestored(ticket_id="t", at=lmt))
    assert caught.value.field == "at"
    assert isinstance(caught.value.__cause__, ValidationError)
    with pytest.raises(InvalidModelError) as caught:
        event_to_document(ItemRevised(ticket_id="t", at=T0, item_id="", revision=1))
    assert caught.value.field == "item_id"


# -- hostile documents ----------------------------------------------------------------------------

_GOOD: dict[str, Any] = {
    "event": "crm.interaction_linked",
    "record_id": "lead-1",
    "reference": {"network": "twitter", "account": "brand", "kind": "tweet", "native_id": "9"},
    "trigger": "mention",
    "actor_id": None,
    "at": "2024-05-01T09:30:00+09:00",
}


def _with(**changes: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(_GOOD))
    for key, value in changes.items():
        if value is _DROP:
            del data[key]
        else:
            data[key] = value
    return data


_DROP = object()

HOSTILE: list[tuple[str, Any]] = [
    ("unknown event", _with(event="ticket.exploded")),
    ("event of another case", _with(event="CRM.INTERACTION_LINKED")),
    ("event not a string", _with(event=1)),
    ("no event", _with(event=_DROP)),
    ("missing field", _with(record_id=_DROP)),
    ("missing time", _with(at=_DROP)),
    ("naive time", _with(at="2024-05-01T09:30:00")),
    ("date only", _with(at="2024-05-01")),
    ("epoch seconds", _with(at="1700000000")),
    ("epoch number", _with(at=1700000000)),
    ("extra key", _with(extra=1)),
    ("extra nested key", _with(reference={**_GOOD["reference"], "url": "x"})),
    ("unknown trigger", _with(trigger="shout")),
    ("empty id", _with(record_id="")),
    ("padded id", _with(record_id=" lead-1")),
    ("id too long", _with(record_id="x" * 256)),
    ("number as id", _with(record_id=1)),
    ("reference as string", _with(reference="twitter/brand/tweet/9")),
    ("null reference", _with(reference=None)),
    ("an array", [_GOOD]),
    ("a string", "crm.interaction_linked"),
    ("null", None),
]


@pytest.mark.parametrize("form", ["bytes", "str", "mapping"])
@pytest.mark.parametrize(("case", "data"), HOSTILE, ids=[case for case, _ in HOSTILE])
def test_P6_hostile_documents_are_refused(case: str, data: Any, form: str) -> None:
    parse = parsers(event_from_document)[form]
    if form == "mapping" and not isinstance(data, dict):
        with pytest.raises(ValidationError):
            event_from_document(data)
        return
    with pytest.raises(ValidationError):
        parse(data)


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        ("string number", {"number": "3"}),
        ("float number", {"number": 3.0}),
        ("boolean number", {"number": True}),
        ("zero number", {"number": 0}),
        ("number above 64 bits", {"number": 2**63}),
    ],
)
def test_P6_numbers_are_strict(case: str, changes: dict[str, Any]) -> None:
    data = {"event": "ticket.created", "ticket_id": "t", "at": "2024-05-01T00:00:00Z", **changes}
    for parse in parsers(event_from_document).values():
        with pytest.raises(ValidationError):
            parse(data)


def test_P6_errors_are_located_under_the_event_name() -> None:
    with pytest.raises(ValidationError) as caught:
        event_from_document(_with(at="2024-05-01T09:30:00"))
    assert [e["loc"] for e in caught.value.errors()] == [("crm.interaction_linked", "at")]
    with pytest.raises(ValidationError) as caught:
        event_from_document(_with(event="ticket.exploded"))
    assert caught.value.errors()[0]["type"] == "union_tag_invalid"


def test_P6_invalid_json_is_a_validation_error() -> None:
    for raw in (b"", b"{", b"\xff\xfe", b'{"event": "\\ud800"}', "{'event': 1}"):
        with pytest.raises(ValidationError):
            event_from_document(raw)


def test_P6_any_mapping_is_accepted() -> None:
    back = event_from_document(MappingProxyType(_with()))
    assert back == CrmInteractionLinked(
        record_id="lead-1",
        reference=ExternalReference(
            network="twitter", account="brand", kind="tweet", native_id="9"
        ),
        trigger=CrmTrigger.MENTION,
        at=T0,
    )


def test_P4_optional_fields_may_be_left_out() -> None:
    for event in (
        TicketTrashed(ticket_id="t", at=T0, merged_into="p"),
        TicketRestored(ticket_id="t", at=T0),
        CrmProfileLinked(record_id="r", profile=SocialProfile(network="facebook", id="1"), at=T0),
    ):
        document = {k: v for k, v in _document(event).items() if v is not None}
        assert event_from_document(document) == event
