"""The chat integration's settings document (P6, C1-C4, C11, D1)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from deskcore import InvalidModelError, TicketStatus
from deskcore.models.chat import ChatSettings, ConvertWhen, ConvertWhich, LinkState, LookupScope
from deskcore.models.departments import DepartmentLink, DepartmentMapping, MappingDefault
from deskcore.testing.strategies import ids
from deskcore.wire import json_schemas
from deskcore.wire.chat import ChatIntegrationDocument, parse_chat_integration

DOCUMENT = {
    "owner_id": "admin-1",
    "convert": "attended",
    "when": "on_answer",
    "ticket_status": "closed",
    "departments": [
        {"chat_department_id": "chat-sales", "helpdesk_department_id": "営業"},
        {"chat_department_id": "chat-lobby", "default": "view_only"},
    ],
}


def test_P6_C1_C3_D1_a_settings_document_becomes_settings_and_a_mapping() -> None:
    document = parse_chat_integration(json.dumps(DOCUMENT, ensure_ascii=False))
    settings = document.to_settings()
    assert settings.convert is ConvertWhich.ATTENDED
    assert settings.when is ConvertWhen.ON_ANSWER
    assert settings.ticket_status is TicketStatus.CLOSED
    assert settings.link_state is LinkState.LINKED
    mapping = document.to_mapping()
    assert mapping.link_for("chat-sales").helpdesk_department_id == "営業"
    assert mapping.link_for("chat-lobby").default is MappingDefault.VIEW_ONLY
    assert mapping.link_for("chat-new").default is MappingDefault.CHOOSE_EACH_TIME
    assert parse_chat_integration(DOCUMENT) == document


@pytest.mark.parametrize(
    "change",
    [
        {"unknown": 1},
        {"convert": "sometimes"},
        {"ticket_status": "on_hold"},
        {"owner_id": ""},
        {"departments": [{"chat_department_id": "c"}]},
        {
            "departments": [
                {"chat_department_id": "c", "helpdesk_department_id": "d", "default": "view_only"}
            ]
        },
        {"enabled": "yes"},
    ],
)
def test_P6_C11_malformed_settings_documents_are_validation_errors(
    change: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        parse_chat_integration({**DOCUMENT, **change})


def test_P5_D1_a_department_listed_twice_is_a_domain_error() -> None:
    twice = {**DOCUMENT, "departments": [DOCUMENT["departments"][0]] * 2}  # type: ignore[index]
    with pytest.raises(InvalidModelError):
        parse_chat_integration(twice).to_mapping()


def test_P6_the_settings_document_has_a_json_schema() -> None:
    schema = json_schemas()["chat_integration"]
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["ConvertWhich"]["enum"] == ["all", "attended", "missed", "none"]
    assert schema["$defs"]["MappingDefault"]["enum"] == [
        "no_integration",
        "view_only",
        "choose_each_time",
    ]
    assert "owner_id" in schema["required"]
    json.dumps(schema)


def test_P6_the_published_schema_in_the_docs_matches_the_code() -> None:
    """The how-to publishes the settings document's JSON Schema; it must not drift."""
    from pathlib import Path

    published = Path(__file__).parent.parent / "docs" / "howto" / "chat-integration.schema.json"
    assert json.loads(published.read_text(encoding="utf-8")) == json_schemas()["chat_integration"]


def _links() -> st.SearchStrategy[DepartmentLink]:
    mapped = st.builds(
        DepartmentLink,
        chat_department_id=ids(),
        helpdesk_department_id=ids(),
        auto=st.booleans(),
    )
    defaulted = st.builds(
        DepartmentLink, chat_department_id=ids(), default=st.sampled_from(MappingDefault)
    )
    return mapped | defaulted


@given(
    settings=st.builds(
        ChatSettings,
        owner_id=ids(),
        enabled=st.booleans(),
        convert=st.sampled_from(ConvertWhich),
        when=st.sampled_from(ConvertWhen),
        ticket_status=st.sampled_from([TicketStatus.OPEN, TicketStatus.CLOSED]),
        link_state=st.sampled_from(LinkState),
        lookup_scope=st.sampled_from(LookupScope),
    ),
    links=st.lists(_links(), max_size=6, unique_by=lambda link: link.chat_department_id),
)
def test_P6_D4_settings_and_mapping_round_trip_through_the_document(
    settings: ChatSettings, links: list[DepartmentLink]
) -> None:
    """What a host stores comes back the same, automatic links still automatic (D4 undo)."""
    mapping = DepartmentMapping(links=tuple(links))
    stored = ChatIntegrationDocument.from_domain(settings, mapping).model_dump_json()
    document = parse_chat_integration(stored)
    assert document.to_settings() == settings
    assert document.to_mapping() == mapping


def test_D3_only_a_link_to_a_department_can_be_automatic_in_the_document() -> None:
    bad = dict(
        DOCUMENT, departments=[{"chat_department_id": "c", "default": "view_only", "auto": True}]
    )
    with pytest.raises(ValidationError, match="automatic"):
        parse_chat_integration(bad)
