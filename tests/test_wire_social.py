"""Social items and settings at the edge (P6; S1-S5, H1, H3): strict parsing, hostile input,
JSON Schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from deskcore import (
    AutoRule,
    SocialItemKind,
    SocialSettings,
    SocialSource,
    ThreadingMode,
    ThreadingPolicy,
    ThreadingRule,
    compile_social_matcher,
    decide_social_item,
)
from deskcore.wire import (
    SocialItemEvent,
    SocialSettingsDocument,
    json_schemas,
    parse_social_item,
    parse_social_settings,
)


def payload(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reference": {
            "network": "twitter",
            "account": "brand_jp",
            "kind": "tweet",
            "native_id": "t-1",
        },
        "kind": "mention",
        "source": "monitoring",
        "author": {"network": "twitter", "id": "u-1", "handle": "@hanako"},
        "text": "@brand_jp ﾍﾝﾋﾟﾝ したい 🙏",
        "created_at": "2026-08-03T18:00:00+09:00",
    }
    data.update(changes)
    return data


def errors(data: object) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        parse_social_item(data if isinstance(data, str) else json.dumps(data))
    return [e["type"] for e in caught.value.errors()]


# -- the item -------------------------------------------------------------------------------------


def test_P6_a_social_item_parses_and_converts() -> None:
    event = parse_social_item(json.dumps(payload(root_id="t-0", kind="reply")))
    item = event.to_item()
    assert item.kind is SocialItemKind.REPLY
    assert item.source is SocialSource.MONITORING
    assert item.network == "twitter"
    assert item.channel_account == "brand_jp"
    assert item.text == "@brand_jp ﾍﾝﾋﾟﾝ したい 🙏"
    assert item.created_at == datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
    assert item.created_at.utcoffset() == timedelta(hours=9)
    assert item.conversation_key.native_id == "t-0"
    # A mapping decoded from JSON validates like the JSON text.
    assert parse_social_item(payload(root_id="t-0", kind="reply")).to_item() == item


def test_H1_a_direct_message_parses_with_its_conversation() -> None:
    item = parse_social_item(
        payload(
            kind="direct_message",
            source="private_messages",
            conversation_id="conv-1",
            reference={"network": "twitter", "account": "brand_jp", "kind": "dm", "native_id": "d"},
        )
    ).to_item()
    assert item.conversation_key.kind == "conversation"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"colour": "red"}, "extra_forbidden"),
        ({"kind": "story"}, "enum"),
        ({"source": "rss"}, "enum"),
        ({"text": 5}, "string_type"),
        ({"text": "x" * 100_001}, "string_too_long"),
        ({"created_at": "2026-08-03T18:00:00"}, "timezone_aware"),
        ({"created_at": "1700000000"}, "datetime_format"),
        ({"brand_own": "true"}, "bool_type"),
        ({"author": {"network": "twitter"}}, "missing"),
        ({"author": {"network": "Twitter", "id": "u"}}, "string_pattern_mismatch"),
        ({"conversation_id": "c-1"}, "value_error"),  # public items give root_id
        ({"kind": "direct_message"}, "value_error"),  # ... and DMs their conversation
        ({"author": {"network": "facebook", "id": "u-1"}}, "value_error"),
    ],
)
def test_P6_bad_items_are_validation_errors(changes: dict[str, Any], error: str) -> None:
    assert error in errors(payload(**changes))


def test_P6_an_unknown_network_parses_as_a_valid_item() -> None:
    event = parse_social_item(
        payload(
            reference={"network": "instagram", "account": "b", "kind": "post", "native_id": "1"},
            author={"network": "instagram", "id": "i-1"},
            kind="comment",
        )
    )
    assert event.to_item().network == "instagram"  # valid; S2 decides it does not convert


def test_P6_hostile_input_is_answered_with_a_validation_error() -> None:
    assert "json_invalid" in errors('{"text": "\\ud800"' + "}")
    raw = json.dumps(payload(), ensure_ascii=False).replace("ﾍﾝﾋﾟﾝ", "\\ud83d")
    assert "\\ud83d" in raw  # a lone high surrogate, escaped
    assert errors(raw)
    assert "string_too_long" in errors(payload(text="返" * 1_000_000))
    assert errors("not json")
    assert errors("[]")
    with pytest.raises(ValidationError):
        parse_social_item(payload(text="lone \udc00 surrogate"))  # from Python, too
    assert parse_social_item(payload(text="")).to_item().text == ""


@given(st.text(max_size=200))
def test_P6_any_valid_text_round_trips(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return
    assert parse_social_item(json.dumps(payload(text=text))).to_item().text == text


# -- settings -------------------------------------------------------------------------------------

DOCUMENT = """
{
  "rules": [
    {"id": "returns", "network": "twitter", "kinds": ["mention", "reply"],
     "keywords": ["返品", "ﾍﾝﾋﾟﾝ", "refund"], "department_id": "returns"},
    {"id": "fb", "network": "facebook", "kinds": ["visitor_post", "comment"],
     "keywords": ["返金"], "prefix": true},
    {"id": "dm", "network": "twitter", "kinds": ["direct_message"], "match_all": true}
  ],
  "threading": {"mode": "reopen_within", "window_hours": 48},
  "threading_by_kind": {"mention": {"mode": "always_new"}},
  "append_interval_hours": 12,
  "default_department_id": "social"
}
"""


def test_S4_S5_H3_a_settings_document_gives_the_domain_settings() -> None:
    settings = parse_social_settings(DOCUMENT).to_settings()
    assert [r.id for r in settings.rules] == ["returns", "fb", "dm"]
    assert settings.rules[0].kinds == {SocialItemKind.MENTION, SocialItemKind.REPLY}
    assert settings.rules[1].prefix
    assert settings.rules[2].match_all
    assert settings.convertible_networks == {"facebook", "twitter"}
    assert settings.threading.rule_for(SocialItemKind.REPLY).window == timedelta(hours=48)
    assert settings.threading.rule_for(SocialItemKind.MENTION).mode is ThreadingMode.ALWAYS_NEW
    assert settings.append_interval == timedelta(hours=12)
    assert settings.default_department_id == "social"


def test_S4_a_parsed_rule_with_japanese_keywords_converts_a_matching_item() -> None:
    settings = parse_social_settings(DOCUMENT).to_settings()
    item = parse_social_item(json.dumps(payload())).to_item()
    decision = decide_social_item(
        item,
        settings=settings,
        matcher=compile_social_matcher(settings),
        existing=None,
        now=datetime(2026, 8, 3, 10, 0, tzinfo=UTC),
    )
    assert (decision.outcome, decision.rule_id, decision.department_id) == (
        "new",
        "returns",
        "returns",
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {"rules": [{"id": "r", "network": "twitter", "kinds": ["comment"], "keywords": ["x"]}]},
            "cannot convert automatically",
        ),
        ({"rules": [{"id": "r", "network": "twitter", "kinds": ["mention"]}]}, "give keywords"),
        (
            {"rules": [{"id": "r", "network": "twitter", "kinds": [], "keywords": ["x"]}]},
            "at least 1",
        ),
        (
            {"rules": [{"id": "r", "network": "twitter", "kinds": ["mention"], "keywords": [""]}]},
            "at least 1",
        ),
        (
            {
                "rules": [
                    {"id": "r", "network": "instagram", "kinds": ["comment"], "keywords": ["x"]}
                ]
            },
            "not a convertible network",
        ),
        ({"append_interval_hours": 0}, "greater than 0"),
        ({"append_interval_hours": "12"}, "valid number"),
        ({"threading": {"window_hours": -1}}, "greater than or equal to 0"),
        ({"threading_by_kind": {"story": {}}}, "Input should be"),
        ({"schema_version": 2}, "Input should be 1"),
        ({"surprise": True}, "Extra inputs"),
    ],
)
def test_P6_bad_settings_documents_are_validation_errors(
    change: dict[str, Any], error: str
) -> None:
    data = json.loads(DOCUMENT) | change
    with pytest.raises(ValidationError, match=error):
        parse_social_settings(json.dumps(data))
    with pytest.raises(ValidationError, match=error):
        parse_social_settings(data)


def test_P6_settings_round_trip_through_the_document() -> None:
    settings = SocialSettings(
        rules=[
            AutoRule(id="a", network="twitter", kinds=["mention"], keywords=["返品"], prefix=True),
            AutoRule(id="b", network="twitter", kinds=["direct_message"], match_all=True),
        ],
        convertible_networks={"twitter", "facebook", "instagram"},
        threading=ThreadingPolicy(
            default=ThreadingRule(window=timedelta(hours=6)),
            by_kind={"direct_message": ThreadingRule(mode="always_reopen")},
        ),
        append_interval=timedelta(hours=12),
        default_department_id="social",
    )
    document = SocialSettingsDocument.from_domain(settings)
    assert parse_social_settings(document.model_dump_json()).to_settings() == settings
    assert SocialSettingsDocument().to_settings() == SocialSettings()


def test_P6_the_social_models_have_json_schemas() -> None:
    schemas = json_schemas()
    item = schemas["social_item"]
    assert item["additionalProperties"] is False
    assert {"reference", "kind", "author", "created_at"} <= set(item["required"])
    assert item["properties"]["text"]["maxLength"] == 100_000
    settings = schemas["social_settings"]
    assert settings["additionalProperties"] is False
    assert "ThreadingMode" in settings["$defs"]
    json.dumps(schemas)
    assert SocialItemEvent.model_json_schema()["title"] == "SocialItemEvent"
