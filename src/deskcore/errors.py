"""The error hierarchy (P5).

Every error deskcore raises is a :class:`DeskcoreError`. Each class has a stable ``code``
(a short snake_case string a host can match on, log, or translate) and structured
``details`` (a plain mapping, safe to serialise). Where a builtin exception has the same
meaning, the class also subclasses it, so ``except ValueError`` and ``except LookupError``
keep working for callers who do not know deskcore.

Codes are part of the public API: they never change once released.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

__all__ = [
    "ChatAccessDeniedError",
    "ConcurrencyError",
    "DeskcoreError",
    "DuplicateError",
    "InvalidModelError",
    "InvalidTransitionError",
    "MergePermissionDeniedError",
    "MergeRejectedError",
    "NaiveDatetimeError",
    "NoBusinessTimeError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProfileAlreadyLinkedError",
    "ReadOnlyArticleError",
    "ReferenceClaimedError",
    "SchemaVersionError",
    "StalePlanError",
    "StorageError",
    "TemplateError",
    "TimeOrderError",
    "UnknownValueError",
]


class DeskcoreError(Exception):
    """Root of every error deskcore raises.

    Attributes:
        code: Stable machine-readable code of the error class.
        message: Human-readable explanation.
        details: Structured, serialisable details (field names, ids, versions).
    """

    code: ClassVar[str] = "deskcore_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self._details = dict(details)

    @property
    def details(self) -> Mapping[str, Any]:
        """Structured, serialisable details (read-only)."""
        return MappingProxyType(self._details)

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"code", "message", "details"}``, ready for a JSON error response."""
        return {"code": self.code, "message": self.message, "details": dict(self.details)}

    def __reduce__(self) -> tuple[Any, ...]:
        # The default pickling of exceptions calls ``cls(*args)``, which does not fit these
        # constructors; errors cross process boundaries (multiprocessing, task queues).
        return (_rebuild, (type(self), self.args), self.__dict__)


def _rebuild(cls: type[DeskcoreError], args: tuple[Any, ...]) -> DeskcoreError:
    # A class with two builtin bases (ValueError and PermissionError, an OSError) must be
    # allocated by the one with the larger instance layout.
    layout = max(
        (base for base in cls.__mro__ if base.__module__ == "builtins"),
        key=lambda base: base.__basicsize__,
    )
    error: DeskcoreError = layout.__new__(cls)  # type: ignore[call-overload]
    error.args = args
    return error


class InvalidModelError(DeskcoreError, ValueError):
    """A model was constructed (or evolved) with an invalid value.

    Attributes:
        model: Name of the model class.
        field: Name of the offending field.
    """

    code = "invalid_model"

    def __init__(self, model: str, field: str, reason: str, **details: Any) -> None:
        super().__init__(f"{model}.{field}: {reason}", model=model, field=field, **details)
        self.model = model
        self.field = field


class NaiveDatetimeError(InvalidModelError):
    """A datetime without a time zone was given where an aware one is required (T1)."""

    code = "naive_datetime"


class UnknownValueError(InvalidModelError):
    """A value is not one of the allowed values (an unknown status, say).

    Attributes:
        value: The rejected value.
        allowed: The allowed values.
    """

    code = "unknown_value"

    def __init__(self, model: str, field: str, value: object, allowed: tuple[str, ...]) -> None:
        super().__init__(
            model,
            field,
            f"unknown value {value!r}; expected one of {', '.join(allowed)}",
            value=repr(value),
            allowed=allowed,
        )
        self.value = value
        self.allowed = allowed


class InvalidTransitionError(DeskcoreError, ValueError):
    """A status change that the lifecycle table (L1) does not allow."""

    code = "invalid_transition"

    def __init__(self, ticket_id: str, from_status: str, to_status: str) -> None:
        super().__init__(
            f"ticket {ticket_id}: cannot change from {from_status} to {to_status}",
            ticket_id=ticket_id,
            from_status=from_status,
            to_status=to_status,
        )
        self.ticket_id = ticket_id
        self.from_status = from_status
        self.to_status = to_status


class TimeOrderError(DeskcoreError, ValueError):
    """An operation was given a ``now`` earlier than a time already recorded on the ticket."""

    code = "time_order"


class NotFoundError(DeskcoreError, LookupError):
    """A ticket, contact or other record does not exist."""

    code = "not_found"

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key!r} not found", kind=kind, key=str(key))
        self.kind = kind
        self.key = key


class ConcurrencyError(DeskcoreError):
    """A save carried a stale version: someone else changed the ticket first.

    Nothing was written. Reload the ticket, re-apply the change and save again.
    """

    code = "concurrency_conflict"

    def __init__(self, ticket_id: str, expected_version: int, actual_version: int | None) -> None:
        found = "it no longer exists" if actual_version is None else f"found {actual_version}"
        super().__init__(
            f"ticket {ticket_id}: expected version {expected_version}, {found}",
            ticket_id=ticket_id,
            expected_version=expected_version,
            actual_version=actual_version,
        )
        self.ticket_id = ticket_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class ReferenceClaimedError(DeskcoreError):
    """An external reference is already claimed by another ticket (T6, P3)."""

    code = "reference_claimed"

    def __init__(self, reference: str, ticket_id: str, claimed_by: str | None) -> None:
        super().__init__(
            f"external reference {reference} is already claimed by ticket {claimed_by}",
            reference=reference,
            ticket_id=ticket_id,
            claimed_by=claimed_by,
        )
        self.reference = reference
        self.ticket_id = ticket_id
        self.claimed_by = claimed_by


class StalePlanError(ConcurrencyError):
    """A merge plan was applied to tickets that changed since it was made (M12).

    Nothing was written. Plan again from the current tickets, so the person merging sees the
    conflict report of what is really there.
    """

    code = "stale_plan"


class MergeRejectedError(DeskcoreError, ValueError):
    """A merge was refused. ``reasons`` holds every reason at once, each with its own code.

    Attributes:
        reasons: The plan's rejections (:class:`deskcore.policies.merge.MergeRejection`).
    """

    code = "merge_rejected"

    def __init__(self, reasons: tuple[Any, ...]) -> None:
        codes = ", ".join(reason.code for reason in reasons)
        super().__init__(
            f"merge refused ({codes}): " + "; ".join(reason.message for reason in reasons),
            codes=tuple(reason.code for reason in reasons),
        )
        self.reasons = reasons


class DuplicateError(DeskcoreError):
    """A record with the same unique key exists already (a ticket number, say)."""

    code = "duplicate"

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key!r} exists already", kind=kind, key=str(key))
        self.kind = kind
        self.key = key


class ProfileAlreadyLinkedError(DuplicateError):
    """A social profile is linked to a lead or contact already, and a profile is linked to
    at most one (R4, R5).

    Attributes:
        network: The profile's network.
        profile_id: The profile's id.
        record_id: The record it is linked to.
    """

    code = "profile_already_linked"

    def __init__(self, network: str, profile_id: str, record_id: str) -> None:
        DeskcoreError.__init__(
            self,
            f"the {network} profile {profile_id!r} is linked to {record_id} already",
            network=network,
            profile_id=profile_id,
            record_id=record_id,
        )
        self.kind = "social profile"
        self.key = f"{network}:{profile_id}"
        self.network = network
        self.profile_id = profile_id
        self.record_id = record_id


class PermissionDeniedError(DeskcoreError, PermissionError):
    """The actor lacks a permission or role the operation requires (T7)."""

    code = "permission_denied"

    def __init__(self, actor_id: str, missing: str, operation: str) -> None:
        super().__init__(
            f"actor {actor_id} lacks {missing!r}, required to {operation}",
            actor_id=actor_id,
            missing=missing,
            operation=operation,
        )
        self.actor_id = actor_id
        self.missing = missing
        self.operation = operation


class ChatAccessDeniedError(DeskcoreError, PermissionError):
    """From a chat, agents may not do this with helpdesk tickets (C8, C10, C11, D2).

    Attributes:
        chat_department_id: The chat's department.
        capability: What was asked (``view_tickets``, ``change_status``...).
        reason: Stable code of why (``department_view_only``, ``integration_disabled``,
            ``ticket_out_of_scope``...).
    """

    code = "chat_access_denied"

    def __init__(
        self, chat_department_id: str, capability: str, reason: str, explanation: str
    ) -> None:
        super().__init__(
            explanation,
            chat_department_id=chat_department_id,
            capability=capability,
            reason=reason,
        )
        self.chat_department_id = chat_department_id
        self.capability = capability
        self.reason = reason


class MergePermissionDeniedError(MergeRejectedError, PermissionDeniedError):
    """A merge refused because the actor lacks ``search_and_merge`` (T7, M10).

    Both a :class:`PermissionDeniedError` naming the missing permission and a
    :class:`MergeRejectedError` carrying every other reason the plan found at once.
    """

    code = "merge_permission_denied"

    def __init__(self, reasons: tuple[Any, ...], actor_id: str, missing: str) -> None:
        codes = tuple(reason.code for reason in reasons)
        DeskcoreError.__init__(
            self,
            f"actor {actor_id} lacks {missing!r}, required to merge tickets; merge refused "
            f"({', '.join(codes)})",
            actor_id=actor_id,
            missing=missing,
            operation="merge tickets",
            codes=codes,
        )
        self.reasons = reasons
        self.actor_id = actor_id
        self.missing = missing
        self.operation = "merge tickets"


class ReadOnlyArticleError(DeskcoreError, PermissionError):
    """An edit of a synced article: synced copies are read-only in the chat tool (KB7).

    They can be previewed, not edited; change the article in the helpdesk and sync again.

    Attributes:
        target_id: The copy's id in the chat tool.
        source_id: The helpdesk article it is a copy of.
    """

    code = "read_only_article"

    def __init__(self, target_id: str, source_id: str) -> None:
        super().__init__(
            f"article {target_id} is synced from helpdesk article {source_id} and is "
            "read-only in the chat tool: edit it in the helpdesk and sync again (KB7)",
            target_id=target_id,
            source_id=source_id,
        )
        self.target_id = target_id
        self.source_id = source_id


class TemplateError(DeskcoreError, LookupError):
    """A notification template has placeholders without values (N2).

    Every missing name is reported at once. A ``LookupError``, as the ``KeyError`` of
    :meth:`string.Template.substitute`.

    Attributes:
        template_id: The template.
        missing: The placeholder names without a value, sorted.
    """

    code = "template_error"

    def __init__(self, template_id: str, missing: tuple[str, ...]) -> None:
        names = ", ".join(f"${{{name}}}" for name in missing)
        super().__init__(
            f"template {template_id}: no value for {names}",
            template_id=template_id,
            missing=missing,
        )
        self.template_id = template_id
        self.missing = missing


class StorageError(DeskcoreError):
    """A storage driver failed; the driver's error is chained as ``__cause__``."""

    code = "storage_error"


class SchemaVersionError(StorageError):
    """The database schema is newer than this version of deskcore understands."""

    code = "schema_version"


class NoBusinessTimeError(DeskcoreError, LookupError):
    """The calendar's data holds no (more) business time where the arithmetic looked (SL2).

    Raised instead of looping: the search stops at a fixed horizon (see
    :data:`deskcore.policies.calendar.SEARCH_YEARS`).

    Attributes:
        calendar_id: The calendar searched.
    """

    code = "no_business_time"

    def __init__(self, calendar_id: str, message: str) -> None:
        super().__init__(message, calendar_id=calendar_id)
        self.calendar_id = calendar_id
