"""The knowledge-base sync settings document (P6; KB1-KB5, KB7, KB8)."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from deskcore import (
    Frequency,
    PermissionFilter,
    Schedule,
    StatusRule,
    SyncSettings,
)
from deskcore.wire import (
    KbSyncSettingsDocument,
    json_schemas,
    parse_kb_sync_settings,
)

DOCUMENT: dict[str, Any] = {
    "enabled": True,
    "associations": [
        {"category_id": "faq", "department_id": "サポート"},
        {"category_id": "billing", "department_id": "sales"},
    ],
    "permission_filter": "both",
    "status_rule": "keep_draft",
    "tag": "zoho-desk",
    "remove_orphans": True,
    "schedule": {
        "id": "kb",
        "frequency": "monthly",
        "anchor": "2026-01-31",
        "run_time": "03:30",
        "timezone": "Asia/Tokyo",
    },
}


def test_P6_KB2_KB5_a_settings_document_becomes_settings() -> None:
    document = parse_kb_sync_settings(json.dumps(DOCUMENT, ensure_ascii=False))
    settings = document.to_settings()
    assert settings.enabled
    assert settings.department_for("faq") == "サポート"
    assert settings.department_for("billing") == "sales"
    assert settings.permission_filter is PermissionFilter.BOTH
    assert settings.status_rule is StatusRule.KEEP_DRAFT
    assert settings.tag == "zoho-desk"
    assert settings.remove_orphans
    assert settings.schedule == Schedule(
        id="kb",
        frequency=Frequency.MONTHLY,
        anchor=date(2026, 1, 31),
        run_time=time(3, 30),
        timezone="Asia/Tokyo",
    )
    assert parse_kb_sync_settings(DOCUMENT) == document
    assert parse_kb_sync_settings(json.dumps(DOCUMENT).encode()) == document


def test_P6_KB1_KB3_KB4_KB8_an_empty_document_gives_the_defaults() -> None:
    settings = parse_kb_sync_settings("{}").to_settings()
    assert settings == SyncSettings()


def test_P6_KB5_the_run_time_defaults_to_three_in_the_morning() -> None:
    schedule = dict(DOCUMENT["schedule"])
    del schedule["run_time"], schedule["id"]
    settings = parse_kb_sync_settings({"schedule": schedule}).to_settings()
    assert settings.schedule is not None
    assert settings.schedule.run_time == time(3, 0)
    assert settings.schedule.id == "kb"


def test_P6_settings_round_trip_through_the_document() -> None:
    settings = parse_kb_sync_settings(DOCUMENT).to_settings()
    document = KbSyncSettingsDocument.from_domain(settings)
    assert document.to_settings() == settings
    assert parse_kb_sync_settings(document.model_dump_json()).to_settings() == settings
    assert KbSyncSettingsDocument.from_domain(SyncSettings()).to_settings() == SyncSettings()


def _changed(**changes: Any) -> dict[str, Any]:
    return DOCUMENT | changes


def _schedule(**changes: Any) -> dict[str, Any]:
    return _changed(schedule=DOCUMENT["schedule"] | changes)


@pytest.mark.parametrize(
    "data",
    [
        _changed(unknown=1),
        _changed(schema_version=2),
        _changed(enabled="yes"),
        _changed(enabled=1),
        _changed(permission_filter="guests"),
        _changed(status_rule="keep_archived"),
        _changed(tag=""),
        _changed(tag=" padded"),
        _changed(remove_orphans="false"),
        _changed(associations=[{"category_id": "faq"}]),
        _changed(associations=[{"category_id": "faq", "department_id": "d", "x": 1}]),
        _changed(associations=[{"category_id": "c" * 256, "department_id": "d"}]),
        _changed(associations="faq"),
        _changed(
            associations=[{"category_id": f"c{i}", "department_id": "d"} for i in range(10_001)]
        ),
        _schedule(frequency="hourly"),
        _schedule(anchor="2026-02-30"),
        _schedule(anchor="2026-01-31T00:00:00+09:00"),
        _schedule(anchor="31/01/2026"),
        _schedule(anchor=20260131),
        _schedule(run_time="03:00+09:00"),
        _schedule(run_time="25:00"),
        _schedule(run_time="3am"),
        _schedule(timezone="Mars/Olympus_Mons"),
        _schedule(timezone=""),
        _schedule(timezone="localtime"),
        _schedule(id=""),
        _schedule(extra=True),
    ],
)
def test_P6_bad_documents_are_validation_errors(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        parse_kb_sync_settings(data)
    with pytest.raises(ValidationError):
        parse_kb_sync_settings(json.dumps(data))


def test_KB2_a_document_associating_a_category_twice_is_refused() -> None:
    data = _changed(
        associations=[
            {"category_id": "faq", "department_id": "support"},
            {"category_id": "faq", "department_id": "sales"},
        ]
    )
    with pytest.raises(ValidationError) as caught:
        parse_kb_sync_settings(data)
    assert "one department only (KB2)" in str(caught.value)


def test_P6_python_values_validate_like_json_and_datetimes_are_not_dates() -> None:
    schedule = DOCUMENT["schedule"] | {"anchor": date(2026, 1, 31), "run_time": time(3, 30)}
    assert parse_kb_sync_settings(_changed(schedule=schedule)) == parse_kb_sync_settings(DOCUMENT)
    with pytest.raises(ValidationError):
        parse_kb_sync_settings(_changed(schedule=schedule | {"anchor": datetime(2026, 1, 31)}))


@pytest.mark.parametrize(
    "text",
    [
        '{"tag": "\\ud800"}',
        '{"associations": [{"category_id": "\\udfff", "department_id": "d"}]}',
        "{not json",
        '{"tag": "kb", "tag": 1}',
        "[]",
    ],
)
def test_P6_hostile_json_is_a_validation_error(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_kb_sync_settings(text)


def test_P6_the_document_exports_its_json_schema() -> None:
    schema = json_schemas()["kb_sync_settings"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["associations"]["maxItems"] == 10_000
    definitions = schema["$defs"]
    assert definitions["PermissionFilter"]["enum"] == ["all_users", "registered_users", "both"]
    assert definitions["StatusRule"]["enum"] == ["keep_published", "keep_draft"]
    assert props["permission_filter"]["default"] == "all_users"
    assert {"CategoryAssociationPayload", "SchedulePayload"} <= set(definitions)
    assert definitions["SchedulePayload"]["properties"]["anchor"]["format"] == "date"
    assert definitions["SchedulePayload"]["properties"]["run_time"]["format"] == "time"
    for definition in definitions.values():
        if definition.get("type") == "object":
            assert definition["additionalProperties"] is False
    json.dumps(schema)


@given(
    enabled=st.booleans(),
    rule=st.sampled_from(list(StatusRule)),
    permission=st.sampled_from(list(PermissionFilter)),
    remove=st.booleans(),
    categories=st.lists(st.sampled_from(["faq", "billing", "記事", "news"]), unique=True),
    frequency=st.sampled_from([None, *Frequency]),
    anchor=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    run_time=st.times(),
    timezone=st.sampled_from(["UTC", "Asia/Tokyo", "America/New_York", "Europe/London"]),
)
def test_P6_property_settings_round_trip(
    enabled: bool,
    rule: StatusRule,
    permission: PermissionFilter,
    remove: bool,
    categories: list[str],
    frequency: Frequency | None,
    anchor: date,
    run_time: time,
    timezone: str,
) -> None:
    settings = SyncSettings(
        enabled=enabled,
        status_rule=rule,
        permission_filter=permission,
        remove_orphans=remove,
        schedule=None
        if frequency is None
        else Schedule(
            id="kb", frequency=frequency, anchor=anchor, run_time=run_time, timezone=timezone
        ),
    )
    for index, category in enumerate(categories):
        settings = settings.with_association(category, f"d{index % 2}")
    text = KbSyncSettingsDocument.from_domain(settings).model_dump_json()
    assert parse_kb_sync_settings(text).to_settings() == settings
