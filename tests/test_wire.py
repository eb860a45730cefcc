"""Edge parsing of inbound message events (P6), aware datetimes (T1), typed errors (P5).

Every malformed, hostile or huge input must end as a :class:`pydantic.ValidationError` (the
wire layer's typed error), never another exception and never a partial value.
"""

from __future__ import annotations

import copy
import doctest
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import deskcore.wire
from deskcore.errors import DeskcoreError
from deskcore.models import (
    Channel,
    Contact,
    Direction,
    ExternalReference,
    InboundAttachment,
    InboundMessage,
    Visibility,
)
from deskcore.wire import (
    MAX_ATTACHMENTS,
    InboundMessageEvent,
    json_schemas,
    parse_inbound_event,
    to_inbound_message,
)

JST = timezone(timedelta(hours=9))

JAPANESE = "注文した商品がまだ届きません。確認をお願いします。"
EMOJI = "Thanks 🙏🏽 — family 👨‍👩‍👧‍👦, flag 🇯🇵"
RTL = "שלום, ההזמנה שלי לא הגיעה ‏مرحبا بالعالم"


def payload(**overrides: Any) -> dict[str, Any]:
    """A valid event as decoded JSON, with top-level fields replaced by ``overrides``."""
    data: dict[str, Any] = {
        "reference": {
            "network": "twitter",
            "account": "brand_jp",
            "kind": "tweet",
            "native_id": "1790000000000000001",
        },
        "conversation": {
            "network": "twitter",
            "account": "brand_jp",
            "kind": "conversation",
            "native_id": "1790000000000000000",
        },
        "channel": "twitter",
        "contact": {
            "id": "contact-山田",
            "name": "山田 太郎",
            "email": "taro@example.jp",
            "phone": "+81-3-0000-0000",
            "account_id": "acct-1",
        },
        "direction": "inbound",
        "visibility": "public",
        "author_id": None,
        "author_name": "山田 太郎",
        "subject": "配送について",
        "body": f"{JAPANESE}\n{EMOJI}\n{RTL}",
        "sent_at": "2024-05-01T09:30:00.123456+09:00",
        "department_id": "support",
        "attachments": [
            {
                "name": "レシート.png",
                "size": 2048,
                "content_type": "image/png",
                "storage_key": "s3://bucket/receipt.png",
            }
        ],
        "content_digest": None,
        "is_edit": False,
    }
    data.update(overrides)
    return data


def with_value(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A valid payload with the value at ``path`` replaced (or added)."""
    data = payload()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def without(path: tuple[str | int, ...]) -> dict[str, Any]:
    """A valid payload with the key at ``path`` removed."""
    data = payload()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return data


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


# Each input form a host may hand over: raw bytes, text, or a decoded mapping.
PARSERS: dict[str, Callable[[dict[str, Any]], InboundMessageEvent]] = {
    "bytes": lambda data: parse_inbound_event(as_json(data)),
    "str": lambda data: parse_inbound_event(json.dumps(data)),
    "mapping": lambda data: parse_inbound_event(copy.deepcopy(data)),
}


@pytest.fixture(params=sorted(PARSERS))
def parse(request: pytest.FixtureRequest) -> Callable[[dict[str, Any]], InboundMessageEvent]:
    return PARSERS[request.param]


def error_types(exc: ValidationError) -> set[str]:
    return {str(error["type"]) for error in exc.errors()}


# -- valid payloads --------------------------------------------------------------------------


def test_P6_valid_payload_parses_and_converts_with_japanese_emoji_and_rtl_text(
    parse: Callable[[dict[str, Any]], InboundMessageEvent],
) -> None:
    event = parse(payload())
    message = to_inbound_message(event)

    assert isinstance(message, InboundMessage)
    assert message.reference == ExternalReference(
        network="twitter", account="brand_jp", kind="tweet", native_id="1790000000000000001"
    )
    assert message.conversation is not None
    assert message.conversation.kind == "conversation"
    assert message.channel == Channel.TWITTER
    assert message.contact == Contact(
        id="contact-山田",
        name="山田 太郎",
        email="taro@example.jp",
        phone="+81-3-0000-0000",
        account_id="acct-1",
    )
    assert message.direction is Direction.INBOUND
    assert message.visibility is Visibility.PUBLIC
    assert message.body == f"{JAPANESE}\n{EMOJI}\n{RTL}"
    assert message.subject == "配送について"
    assert message.department_id == "support"
    assert message.attachments == (
        InboundAttachment(
            name="レシート.png",
            size=2048,
            content_type="image/png",
            storage_key="s3://bucket/receipt.png",
        ),
    )
    assert message.content_digest is None
    assert message.is_edit is False


def test_T1_sent_at_keeps_its_offset_as_a_standard_library_timezone() -> None:
    """T1: the parsed datetime is aware, keeps +09:00, and carries no pydantic tzinfo type."""
    message = to_inbound_message(parse_inbound_event(as_json(payload())))
    assert message.sent_at == datetime(2024, 5, 1, 9, 30, 0, 123456, tzinfo=JST)
    assert message.sent_at.utcoffset() == timedelta(hours=9)
    assert type(message.sent_at.tzinfo) is timezone


@pytest.mark.parametrize(
    "text",
    ["2024-05-01T00:30:00Z", "2024-05-01T00:30:00+00:00", "2024-05-01 00:30:00z"],
)
def test_T1_utc_spellings_are_accepted(text: str) -> None:
    event = parse_inbound_event(as_json(payload(sent_at=text)))
    assert event.sent_at == datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
    assert event.sent_at.utcoffset() == timedelta(0)


def test_P6_minimal_payload_takes_the_domain_defaults() -> None:
    data = {
        "reference": {"network": "chat", "account": "widget", "kind": "line", "native_id": "7"},
        "channel": "chat",
        "contact": {"id": "c1"},
        "body": "",
        "sent_at": "2024-05-01T09:30:00-03:30",
    }
    message = to_inbound_message(parse_inbound_event(data))
    assert message.direction is Direction.INBOUND
    assert message.visibility is Visibility.PUBLIC
    assert message.attachments == ()
    assert message.conversation is None
    assert message.contact == Contact(id="c1")
    assert message.sent_at.utcoffset() == -timedelta(hours=3, minutes=30)


def test_P6_the_three_input_forms_agree() -> None:
    data = payload()
    events = {name: parser(data) for name, parser in PARSERS.items()}
    assert len(set(events.values())) == 1
    assert parse_inbound_event(MappingProxyType(data)) == events["bytes"]
    assert parse_inbound_event(bytearray(as_json(data))) == events["bytes"]


def test_P6_python_values_are_accepted_from_a_mapping() -> None:
    """A host building the mapping in Python may pass datetimes, enum members and tuples."""
    data = payload(
        sent_at=datetime(2024, 5, 1, 9, 30, 0, 123456, tzinfo=JST),
        direction=Direction.INBOUND,
        visibility=Visibility.PUBLIC,
        attachments=tuple(payload()["attachments"]),
    )
    assert parse_inbound_event(data) == parse_inbound_event(as_json(payload()))


def test_P6_an_event_survives_a_json_round_trip() -> None:
    event = parse_inbound_event(as_json(payload()))
    assert parse_inbound_event(event.model_dump_json()) == event
    assert parse_inbound_event(event.model_dump(mode="json")) == event


def test_P6_custom_channels_are_open_codes() -> None:
    event = parse_inbound_event(as_json(payload(channel="line_official")))
    assert to_inbound_message(event).channel == Channel("line_official")


def test_P6_limits_are_inclusive() -> None:
    attachment = payload()["attachments"][0]
    data = payload(
        body="本" * 1_000_000,
        attachments=[attachment] * MAX_ATTACHMENTS,
        author_id="a" * 255,
        subject="s" * 1000,
    )
    data["attachments"][0] = {**attachment, "size": 2**63 - 1}
    message = to_inbound_message(parse_inbound_event(as_json(data)))
    assert len(message.body) == 1_000_000
    assert len(message.attachments) == MAX_ATTACHMENTS


def test_P6_events_are_frozen_and_hashable() -> None:
    event = parse_inbound_event(as_json(payload()))
    with pytest.raises(ValidationError):
        event.body = "changed"  # type: ignore[misc]
    assert hash(event) == hash(parse_inbound_event(payload()))


# -- rejected payloads -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ("surprise",),
        ("reference", "extra"),
        ("conversation", "extra"),
        ("contact", "nickname"),
        ("attachments", 0, "checksum"),
    ],
    ids=lambda path: ".".join(map(str, path)),
)
def test_P6_unknown_fields_are_rejected(
    parse: Callable[[dict[str, Any]], InboundMessageEvent], path: tuple[str | int, ...]
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(with_value(path, "x"))
    assert error_types(caught.value) == {"extra_forbidden"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("body",), 42),
        (("body",), None),
        (("body",), ["text"]),
        (("channel",), 5),
        (("subject",), 1.5),
        (("author_id",), 7),
        (("reference", "native_id"), 1790000000000000001),
        (("contact",), "contact-1"),
        (("contact", "id"), 12),
        (("attachments",), {"name": "a", "size": 1, "storage_key": "k"}),
        (("attachments",), "a.png"),
        (("attachments", 0, "size"), "2048"),
        (("attachments", 0, "size"), 2048.0),
        (("attachments", 0, "size"), True),
        (("is_edit",), "true"),
        (("is_edit",), 1),
        (("direction",), 1),
        (("direction",), "sideways"),
        (("visibility",), "Public"),
        (("sent_at",), 1714523400),
        (("sent_at",), "1714523400"),
        (("sent_at",), "yesterday"),
        (("sent_at",), "2024-13-01T09:30:00+09:00"),
        (("sent_at",), "2024-05-01T09:30:00+09:00" + " " * 100),
        (("sent_at",), None),
    ],
    ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else repr(v)[:20],
)
def test_P6_wrong_types_are_rejected_not_coerced(
    parse: Callable[[dict[str, Any]], InboundMessageEvent],
    path: tuple[str | int, ...],
    value: Any,
) -> None:
    with pytest.raises(ValidationError):
        parse(with_value(path, value))


@pytest.mark.parametrize(
    "path",
    [("reference",), ("channel",), ("contact",), ("body",), ("sent_at",), ("contact", "id")],
    ids=lambda path: ".".join(path),
)
def test_P6_required_fields_are_required(
    parse: Callable[[dict[str, Any]], InboundMessageEvent], path: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(without(path))
    assert error_types(caught.value) == {"missing"}


@pytest.mark.parametrize("text", ["2024-05-01T09:30:00", "2024-05-01 09:30", "2024-05-01"])
def test_T1_naive_datetimes_are_rejected(
    parse: Callable[[dict[str, Any]], InboundMessageEvent], text: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(payload(sent_at=text))
    assert error_types(caught.value) <= {"timezone_aware", "datetime_format"}


def test_T1_naive_python_datetime_is_rejected_with_timezone_aware() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_inbound_event(payload(sent_at=datetime(2024, 5, 1, 9, 30)))
    assert error_types(caught.value) == {"timezone_aware"}


def test_T1_naive_iso_string_is_reported_as_missing_its_offset() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_inbound_event(as_json(payload(sent_at="2024-05-01T09:30:00")))
    assert error_types(caught.value) == {"timezone_aware"}


def test_P6_a_10_mb_body_is_a_validation_error(
    parse: Callable[[dict[str, Any]], InboundMessageEvent],
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(payload(body="x" * 10_000_000))
    assert error_types(caught.value) == {"string_too_long"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("subject",), "s" * 1001),
        (("contact", "email"), "e" * 321),
        (("author_id",), "a" * 256),
        (("attachments", 0, "storage_key"), "k" * 1001),
    ],
    ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else str(len(v)),
)
def test_P6_long_fields_are_rejected(path: tuple[str | int, ...], value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_inbound_event(as_json(with_value(path, value)))
    assert error_types(caught.value) == {"string_too_long"}


def test_P6_more_than_100_attachments_are_rejected() -> None:
    attachment = payload()["attachments"][0]
    with pytest.raises(ValidationError) as caught:
        parse_inbound_event(as_json(payload(attachments=[attachment] * (MAX_ATTACHMENTS + 1))))
    assert error_types(caught.value) == {"too_long"}


@pytest.mark.parametrize("size", [-1, -(2**70), 2**63])
def test_P6_attachment_size_outside_0_to_int64_is_rejected(
    parse: Callable[[dict[str, Any]], InboundMessageEvent], size: int
) -> None:
    with pytest.raises(ValidationError):
        parse(with_value(("attachments", 0, "size"), size))


@pytest.mark.parametrize(
    "raw_string",
    [
        r'"\ud800"',  # lone high surrogate
        r'"\udc00"',  # lone low surrogate
        r'"abc\ud83dxyz"',  # high surrogate followed by no low one
        r'"\x41"',  # not a JSON escape
        r'"\u12"',  # short \u escape
        r'"\q"',
        '"tab\tinside"',  # raw control character
    ],
)
def test_P6_invalid_json_escapes_and_lone_surrogates_are_validation_errors(
    raw_string: str,
) -> None:
    text = json.dumps(payload(body="PLACEHOLDER")).replace('"PLACEHOLDER"', raw_string)
    with pytest.raises(ValidationError) as caught:
        parse_inbound_event(text)
    assert error_types(caught.value) == {"json_invalid"}


def test_P6_a_surrogate_pair_escape_is_one_emoji() -> None:
    text = json.dumps(payload(body="PLACEHOLDER")).replace('"PLACEHOLDER"', r'"\ud83d\ude00"')
    assert parse_inbound_event(text).body == "😀"


@pytest.mark.parametrize(
    "path", [("body",), ("contact", "name"), ("reference", "native_id"), ("subject",)]
)
def test_P6_lone_surrogates_in_python_strings_are_rejected(path: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_inbound_event(with_value(path, "before\ud800after"))
    assert error_types(caught.value) <= {"string_unicode", "identifier"}


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"null",
        b"[]",
        b'"text"',
        b"42",
        b"{",
        b'{"body": "unterminated',
        b"\xff\xfe{}",
        b"\xef\xbb\xbf{}",
        b'{"body": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"body": 1e999999}',
    ],
    ids=lambda raw: repr(raw[:24]),
)
def test_P6_hostile_documents_are_validation_errors(raw: bytes) -> None:
    with pytest.raises(ValidationError):
        parse_inbound_event(raw)


@pytest.mark.parametrize("value", [None, 42, ["reference"], "not json"])
def test_P6_non_mapping_input_is_a_validation_error(value: Any) -> None:
    with pytest.raises(ValidationError):
        parse_inbound_event(value)


@pytest.mark.parametrize(
    "value",
    ["", " padded", "padded ", "line\nbreak", "tab\tinside", "nul\x00", "a" * 256],
    ids=repr,
)
def test_P6_bad_ids_are_rejected(value: str) -> None:
    with pytest.raises(ValidationError):
        parse_inbound_event(as_json(with_value(("contact", "id"), value)))


@pytest.mark.parametrize("code", ["", "Email", "e-mail", "email\n", "1chat", "x" * 65, "メール"])
def test_P6_channel_must_be_a_code(code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_inbound_event(as_json(payload(channel=code)))
    assert error_types(caught.value) == {"string_pattern_mismatch"}


def test_P5_errors_are_typed_and_say_where() -> None:
    """P5: the error is a ValidationError (a ValueError) with a location for each problem."""
    data = payload(body=1, surprise=True)
    data["attachments"][0]["size"] = -5
    with pytest.raises(ValidationError) as caught:
        parse_inbound_event(as_json(data))
    assert isinstance(caught.value, ValueError)
    locations = {error["loc"]: error["type"] for error in caught.value.errors()}
    assert locations == {
        ("body",): "string_type",
        ("surprise",): "extra_forbidden",
        ("attachments", 0, "size"): "greater_than_equal",
    }


# -- properties ------------------------------------------------------------------------------

_values = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=5),
    st.integers(min_value=-10, max_value=10),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
_fields = st.sampled_from(
    [
        ("body",),
        ("subject",),
        ("author_id",),
        ("author_name",),
        ("channel",),
        ("department_id",),
        ("content_digest",),
        ("contact", "id"),
        ("contact", "name"),
        ("contact", "email"),
        ("contact", "account_id"),
        ("reference", "native_id"),
        ("reference", "network"),
        ("attachments", 0, "name"),
        ("attachments", 0, "size"),
        ("sent_at",),
        ("direction",),
        ("is_edit",),
    ]
)


@given(changes=st.lists(st.tuples(_fields, _values), max_size=4), as_bytes=st.booleans())
def test_P6_P5_whatever_the_wire_accepts_the_domain_accepts(
    changes: list[tuple[tuple[str | int, ...], Any]], as_bytes: bool
) -> None:
    """P6/P5: a payload either fails validation or converts without a domain error."""
    data = payload()
    for path, value in changes:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    try:
        raw: Any = as_json(data) if as_bytes else data
        event = parse_inbound_event(raw)
    except ValidationError:
        return
    except ValueError:  # json.dumps cannot write NaN as JSON; not the parser's concern
        assert as_bytes
        return
    try:
        message = to_inbound_message(event)
    except DeskcoreError as exc:  # pragma: no cover - the property being tested
        pytest.fail(f"the wire accepted what the domain rejects: {exc}")
    assert message.body == event.body


@given(
    body=st.text(),
    name=st.text(max_size=50),
    offset=st.integers(min_value=-(14 * 60 - 1), max_value=14 * 60 - 1),
)
def test_P6_T1_any_unicode_text_and_offset_round_trip_through_json(
    body: str, name: str, offset: int
) -> None:
    sent_at = datetime(2024, 5, 1, 9, 30, tzinfo=timezone(timedelta(minutes=offset)))
    data = payload(body=body, sent_at=sent_at.isoformat())
    data["contact"]["name"] = name
    message = to_inbound_message(parse_inbound_event(as_json(data)))
    assert message.body == body
    assert message.contact.name == name
    assert message.sent_at == sent_at
    assert message.sent_at.utcoffset() == sent_at.utcoffset()


# -- JSON Schema -----------------------------------------------------------------------------


def test_P6_json_schemas_cover_every_model_and_are_json() -> None:
    schemas = json_schemas()
    assert set(schemas) == {
        "inbound_message_event",
        "ticket",
        "chat_integration",
        "social_item",
        "social_settings",
        "kb_sync_settings",
        "sla_settings",
        "crm_settings",
        "replay_entry",
        "replay_settings",
        "domain_event",
    }
    text = json.dumps(schemas)  # plain JSON data
    assert json.loads(text) == schemas

    event = schemas["inbound_message_event"]
    assert event["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert event["additionalProperties"] is False
    assert set(event["required"]) == {"reference", "channel", "contact", "body", "sent_at"}
    assert {"ReferencePayload", "ContactPayload", "AttachmentPayload"} <= set(event["$defs"])
    assert event["properties"]["sent_at"]["format"] == "date-time"
    assert event["properties"]["body"]["maxLength"] == 1_000_000
    assert event["properties"]["attachments"]["maxItems"] == MAX_ATTACHMENTS
    assert event["properties"]["channel"]["pattern"] == "^[a-z][a-z0-9_]{0,63}$"
    for definition in event["$defs"].values():
        if definition.get("type") == "object":
            assert definition["additionalProperties"] is False

    ticket = schemas["ticket"]
    assert {
        "MessageDocument",
        "CommentDocument",
        "AttachmentDocument",
        "RevisionDocument",
        "ReferencePayload",
    } <= set(ticket["$defs"])
    thread_items = ticket["properties"]["thread"]["items"]
    assert thread_items["discriminator"]["propertyName"] == "kind"
    assert set(thread_items["discriminator"]["mapping"]) == {"message", "comment", "attachment"}


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_P6_every_exported_schema_is_a_valid_2020_12_schema(name: str) -> None:
    """P6: each schema is itself valid under its dialect, so any validator can load it."""
    import jsonschema

    schema = json_schemas()[name]
    assert schema["$schema"] == jsonschema.Draft202012Validator.META_SCHEMA["$id"]
    jsonschema.Draft202012Validator.check_schema(schema)


def test_P6_json_schemas_are_fresh_copies() -> None:
    first = json_schemas()
    first["ticket"]["title"] = "changed"
    assert json_schemas()["ticket"]["title"] == "TicketDocument"


def test_P6_the_package_docstring_example_runs() -> None:
    result = doctest.testmod(deskcore.wire, raise_on_error=False, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
