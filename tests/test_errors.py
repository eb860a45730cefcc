"""The error hierarchy (P5) and the acceptance list for bad input (T1, L1, P5)."""

from __future__ import annotations

import json
import pickle
import re
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

import deskcore.errors
from deskcore import (
    Attachment,
    Channel,
    ChatAccessDeniedError,
    ConcurrencyError,
    DeskcoreError,
    DuplicateError,
    InvalidModelError,
    InvalidTransitionError,
    MergePermissionDeniedError,
    MergeRejectedError,
    MergeRejection,
    NaiveDatetimeError,
    NoBusinessTimeError,
    NotFoundError,
    PermissionDeniedError,
    ProfileAlreadyLinkedError,
    ReadOnlyArticleError,
    ReferenceClaimedError,
    SchemaVersionError,
    StalePlanError,
    StorageError,
    Ticket,
    TicketStatus,
    TimeOrderError,
    UnknownValueError,
    change_status,
)
from deskcore.errors import TemplateError

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)

# One instance of every error class of deskcore.errors, built as deskcore builds them.
EXAMPLES: dict[type[DeskcoreError], DeskcoreError] = {
    DeskcoreError: DeskcoreError("something went wrong", hint="look"),
    InvalidModelError: InvalidModelError("Ticket", "subject", "too long", limit=1000),
    NaiveDatetimeError: NaiveDatetimeError("Ticket", "created_at", "naive datetime"),
    UnknownValueError: UnknownValueError("Ticket", "status", "pending", ("open", "closed")),
    InvalidTransitionError: InvalidTransitionError("t-1", "closed", "on_hold"),
    TimeOrderError: TimeOrderError("now is before the hold began", ticket_id="t-1"),
    NotFoundError: NotFoundError("ticket", "t-404"),
    ConcurrencyError: ConcurrencyError("t-1", 3, 4),
    ReferenceClaimedError: ReferenceClaimedError("twitter/b/tweet/1", "t-2", "t-1"),
    DuplicateError: DuplicateError("ticket number", "7"),
    PermissionDeniedError: PermissionDeniedError("agent-1", "search_and_merge", "merge"),
    ProfileAlreadyLinkedError: ProfileAlreadyLinkedError("twitter", "42", "lead-7"),
    ChatAccessDeniedError: ChatAccessDeniedError(
        "chat-sales",
        "change_status",
        "department_view_only",
        "chat department chat-sales is set to view only, which does not allow changing a "
        "ticket's status",
    ),
    ReadOnlyArticleError: ReadOnlyArticleError("kb-1", "article-1"),
    StorageError: StorageError("disk I/O error", driver="sqlite3"),
    NoBusinessTimeError: NoBusinessTimeError("office", "no business time within 100 years"),
    TemplateError: TemplateError("new-ticket", ("customer_name", "number")),
    SchemaVersionError: SchemaVersionError("schema 9 is newer than 3", found=9, supported=3),
    StalePlanError: StalePlanError("t-2", 1, 2),
    MergeRejectedError: MergeRejectedError(
        (
            MergeRejection(code="missing_permission", message="agent-1 lacks search_and_merge"),
            MergeRejection(
                code="protected_field",
                message="created_at always comes from the primary",
                ticket_ids=("t-2",),
                field="created_at",
            ),
        )
    ),
    MergePermissionDeniedError: MergePermissionDeniedError(
        (MergeRejection(code="missing_permission", message="agent-1 lacks search_and_merge"),),
        "agent-1",
        "search_and_merge",
    ),
}

# Codes are public API: they never change once released (P5).
STABLE_CODES = {
    DeskcoreError: "deskcore_error",
    InvalidModelError: "invalid_model",
    NaiveDatetimeError: "naive_datetime",
    UnknownValueError: "unknown_value",
    InvalidTransitionError: "invalid_transition",
    TimeOrderError: "time_order",
    NotFoundError: "not_found",
    ConcurrencyError: "concurrency_conflict",
    ReferenceClaimedError: "reference_claimed",
    DuplicateError: "duplicate",
    PermissionDeniedError: "permission_denied",
    ProfileAlreadyLinkedError: "profile_already_linked",
    ChatAccessDeniedError: "chat_access_denied",
    ReadOnlyArticleError: "read_only_article",
    StorageError: "storage_error",
    NoBusinessTimeError: "no_business_time",
    TemplateError: "template_error",
    SchemaVersionError: "schema_version",
    StalePlanError: "stale_plan",
    MergeRejectedError: "merge_rejected",
    MergePermissionDeniedError: "merge_permission_denied",
}


def _all_subclasses(cls: type[DeskcoreError]) -> set[type[DeskcoreError]]:
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _all_subclasses(sub)
    return found


def _module_classes() -> set[type[DeskcoreError]]:
    return {
        obj
        for obj in vars(deskcore.errors).values()
        if isinstance(obj, type) and issubclass(obj, DeskcoreError)
    }


def ticket(**changes: Any) -> Ticket:
    fields: dict[str, Any] = {
        "id": "t-1",
        "number": 1,
        "department_id": "support",
        "channel": Channel.EMAIL,
        "contact_id": "c-1",
        "created_at": T0,
    }
    return Ticket(**(fields | changes))


# -- P5: the hierarchy ---------------------------------------------------------------------------


def test_P5_examples_cover_every_error_class() -> None:
    """P5: the examples below cover every error class deskcore.errors defines."""
    assert _module_classes() == set(EXAMPLES)
    assert set(deskcore.errors.__all__) == {cls.__name__ for cls in EXAMPLES}


def test_P5_codes_are_stable() -> None:
    """P5: each class keeps its released code."""
    assert {cls: cls.code for cls in EXAMPLES} == STABLE_CODES


def test_P5_codes_are_unique_snake_case() -> None:
    """P5: every error class, wherever it is defined, has its own snake_case code."""
    classes = _all_subclasses(DeskcoreError) | {DeskcoreError}
    codes = [cls.code for cls in classes]
    duplicates = {c for c in codes if codes.count(c) > 1}
    assert not duplicates, duplicates
    for code in codes:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code


def test_P5_every_error_is_a_deskcore_error() -> None:
    """P5: one hierarchy under DeskcoreError."""
    for cls in _all_subclasses(DeskcoreError):
        assert issubclass(cls, DeskcoreError)
        assert issubclass(cls, Exception)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (NotFoundError, LookupError),
        (InvalidModelError, ValueError),
        (NaiveDatetimeError, ValueError),
        (UnknownValueError, ValueError),
        (InvalidTransitionError, ValueError),
        (TimeOrderError, ValueError),
        (PermissionDeniedError, PermissionError),
        (ChatAccessDeniedError, PermissionError),
        (ReadOnlyArticleError, PermissionError),
        (TemplateError, LookupError),
    ],
)
def test_P5_builtin_mixins(cls: type[DeskcoreError], builtin: type[Exception]) -> None:
    """P5: where a builtin exception means the same, the error also is one."""
    assert issubclass(cls, builtin)
    with pytest.raises(builtin):
        raise EXAMPLES[cls]


def test_P5_storage_errors_are_not_value_errors() -> None:
    """P5: a storage or concurrency failure is not the caller's bad value."""
    for cls in (StorageError, SchemaVersionError, ConcurrencyError, ReferenceClaimedError):
        assert not issubclass(cls, ValueError)
    assert issubclass(SchemaVersionError, StorageError)
    assert issubclass(NaiveDatetimeError, InvalidModelError)
    assert issubclass(UnknownValueError, InvalidModelError)


@pytest.mark.parametrize("cls", list(EXAMPLES), ids=lambda cls: cls.__name__)
def test_P5_to_dict_is_json_ready(cls: type[DeskcoreError]) -> None:
    """P5: to_dict gives the code, the message and structured, serialisable details."""
    error = EXAMPLES[cls]
    data = error.to_dict()
    assert set(data) == {"code", "message", "details"}
    assert data["code"] == cls.code
    assert data["message"] == str(error) == error.message
    assert data["details"] == dict(error.details)
    assert json.loads(json.dumps(data))["code"] == cls.code


def test_P5_details_are_read_only() -> None:
    """P5: structured details cannot be changed after the error is raised."""
    error = EXAMPLES[ConcurrencyError]
    with pytest.raises(TypeError):
        error.details["expected_version"] = 0  # type: ignore[index]


def test_P5_structured_attributes() -> None:
    """P5: errors carry structured attributes, mirrored in their details."""
    conflict = ConcurrencyError("t-1", 3, None)
    assert conflict.expected_version == 3
    assert conflict.actual_version is None
    assert "no longer exists" in str(conflict)
    assert conflict.details["ticket_id"] == "t-1"
    transition = EXAMPLES[InvalidTransitionError]
    assert isinstance(transition, InvalidTransitionError)
    assert (transition.from_status, transition.to_status) == ("closed", "on_hold")
    claimed = EXAMPLES[ReferenceClaimedError]
    assert isinstance(claimed, ReferenceClaimedError)
    assert claimed.claimed_by == "t-1"


def _public_attributes(error: DeskcoreError) -> dict[str, Any]:
    return {k: v for k, v in vars(error).items() if k != "details"}


@pytest.mark.parametrize("cls", list(EXAMPLES), ids=lambda cls: cls.__name__)
def test_P5_errors_survive_pickle(cls: type[DeskcoreError]) -> None:
    """P5: errors cross process boundaries: class, message, details and attributes survive."""
    error = EXAMPLES[cls]
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert str(copy) == str(error)
    assert copy.code == error.code
    assert dict(copy.details) == dict(error.details)
    assert _public_attributes(copy) == _public_attributes(error)


def test_P5_not_found_key_survives_pickle() -> None:
    """P5: a non-string key (a ticket number) keeps its type across pickling."""
    error = NotFoundError("ticket number", 42)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.key == 42


# -- the acceptance list: bad input raises a typed deskcore error ----------------------------------


def test_P5_T1_acceptance_naive_datetime() -> None:
    """T1/P5 acceptance: a naive datetime raises NaiveDatetimeError naming the problem."""
    with pytest.raises(NaiveDatetimeError) as caught:
        ticket(created_at=datetime(2026, 4, 1, 9, 0))
    assert caught.value.code == "naive_datetime"
    assert "naive datetime" in str(caught.value)
    assert "Ticket.created_at" in str(caught.value)


def test_P5_T1_acceptance_empty_id() -> None:
    """T1/P5 acceptance: an empty id raises InvalidModelError naming the field."""
    with pytest.raises(InvalidModelError) as caught:
        ticket(id="")
    assert caught.value.code == "invalid_model"
    assert str(caught.value) == "Ticket.id: id must not be empty"
    assert caught.value.to_dict()["details"] == {"model": "Ticket", "field": "id"}


def test_P5_T5_acceptance_negative_attachment_size() -> None:
    """T5/P5 acceptance: a negative attachment size raises InvalidModelError."""
    with pytest.raises(InvalidModelError) as caught:
        Attachment(
            id="a-1",
            origin_ticket_id="t-1",
            name="x.png",
            size=-1,
            storage_key="k",
            created_at=T0,
        )
    assert caught.value.code == "invalid_model"
    assert caught.value.field == "size"
    assert "Attachment.size" in str(caught.value)
    assert "-1 is negative" in str(caught.value)


def _check_unknown_status(error: UnknownValueError) -> None:
    assert error.code == "unknown_value"
    assert error.field == "status"
    assert "'pending'" in str(error)
    assert "open" in str(error)
    assert "closed" in str(error)


def test_P5_T3_acceptance_unknown_status() -> None:
    """T3/P5 acceptance: an unknown status raises UnknownValueError listing the allowed ones."""
    with pytest.raises(UnknownValueError) as caught:
        ticket(status="pending")
    _check_unknown_status(caught.value)


def test_P5_T1_acceptance_unknown_status_via_evolve() -> None:
    """T1/P5 acceptance: attrs.evolve with an unknown status is rejected the same way."""
    with pytest.raises(UnknownValueError) as caught:
        attrs.evolve(ticket(), status="pending")
    _check_unknown_status(caught.value)


def test_P5_L1_acceptance_unknown_status_via_change_status() -> None:
    """L1/P5 acceptance: change_status with a status string that is no status is rejected."""
    with pytest.raises(UnknownValueError) as caught:
        change_status(ticket(), "pending", now=T0)  # type: ignore[arg-type]
    _check_unknown_status(caught.value)


def test_P5_L1_acceptance_invalid_transition() -> None:
    """L1/P5 acceptance: a change the table forbids names the from and to status."""
    closed = ticket(status=TicketStatus.CLOSED, closed_at=T0)
    with pytest.raises(InvalidTransitionError) as caught:
        change_status(closed, TicketStatus.ON_HOLD, now=T0)
    error = caught.value
    assert error.code == "invalid_transition"
    assert (error.ticket_id, error.from_status, error.to_status) == ("t-1", "closed", "on_hold")
    assert "from closed to on_hold" in str(error)
    assert isinstance(error, ValueError)
