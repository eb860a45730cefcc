"""The knowledge-base sync settings document (KB1-KB5; P6): JSON in, domain settings out.

:class:`KbSyncSettingsDocument` is what a host stores and an admin edits: whether sync is on,
which helpdesk category syncs into which chat-tool department, which permissions sync, what a
later sync does to a published copy, the identifying tag, whether orphans are removed, and the
schedule. It is strict: unknown fields, wrong JSON types, unknown codes, a category associated
twice (KB2) and an unknown time zone are :class:`pydantic.ValidationError`\\ s, so whatever
parses converts. Changing the settings is for admins only (KB9): pass the parsed settings to
:func:`deskcore.policies.update_sync_settings` or :meth:`deskcore.KnowledgeSync.configure`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, Strict, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from deskcore.errors import InvalidModelError
from deskcore.models.kbsync import (
    DEFAULT_SYNC_TAG,
    MAX_ASSOCIATIONS,
    CategoryAssociation,
    PermissionFilter,
    StatusRule,
    SyncSettings,
)
from deskcore.models.schedule import DEFAULT_RUN_TIME, Frequency, Schedule
from deskcore.wire._types import FromList, Identifier, WireModel

__all__ = [
    "CategoryAssociationPayload",
    "KbSyncSettingsDocument",
    "SchedulePayload",
    "parse_kb_sync_settings",
]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TIME = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?\Z")


def _parse_date(value: object) -> object:
    # Strings are parsed here in both modes, as timestamps are (see _types): a mapping from
    # json.loads validates like the JSON text. A datetime is not a calendar day.
    if isinstance(value, datetime):
        raise PydanticCustomError("date_type", "Input should be a date, not a date and time")
    if not isinstance(value, str):
        return value
    if not _DATE.match(value):
        raise PydanticCustomError("date_format", "Input should be a date like 2026-05-01")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_format", "Input should be a valid date") from None


def _parse_time(value: object) -> object:
    if not isinstance(value, str):
        return value
    if not _TIME.match(value):
        raise PydanticCustomError(
            "time_format", "Input should be a wall time like 03:00, without a UTC offset"
        )
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("time_format", "Input should be a valid wall time") from None


LocalDate = Annotated[date, BeforeValidator(_parse_date)]
"""A calendar day; in JSON ``YYYY-MM-DD``."""

WallTime = Annotated[time, BeforeValidator(_parse_time)]
"""A naive wall time; in JSON ``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.ffffff``."""

ZoneKey = Annotated[str, StringConstraints(min_length=1, max_length=255)]
"""An IANA time-zone key (``Asia/Tokyo``)."""


def _refusal(error: InvalidModelError) -> ValueError:
    # A domain refusal becomes a validation error with the domain's own message.
    return ValueError(error.message)


class CategoryAssociationPayload(WireModel):
    """A helpdesk category and the chat-tool department it syncs into (KB2)."""

    category_id: Identifier
    """The helpdesk category."""
    department_id: Identifier
    """The chat-tool department; one per category."""


class SchedulePayload(WireModel):
    """When the sync runs by itself (KB5)."""

    id: Identifier = "kb"
    """The schedule's id; it prefixes every run key."""
    frequency: Annotated[Frequency, Strict(False)]
    """``daily``, ``weekly`` (on the anchor's weekday) or ``monthly`` (on the anchor's day of
    the month, clamped to shorter months)."""
    anchor: LocalDate
    """Local date of the first sync, in ``timezone``."""
    run_time: WallTime = DEFAULT_RUN_TIME
    """Wall time of each run, in ``timezone``; early in the morning (03:00) by default."""
    timezone: ZoneKey
    """The account's IANA time zone."""


class KbSyncSettingsDocument(WireModel):
    """The knowledge-base sync settings, as a host stores them or an admin edits them."""

    schema_version: Literal[1] = 1
    """The version of this document format."""
    enabled: bool = True
    """Sync runs at all; disabling leaves synced articles as they are (KB1)."""
    associations: Annotated[
        tuple[CategoryAssociationPayload, ...], FromList, Field(max_length=MAX_ASSOCIATIONS)
    ] = ()
    """Each helpdesk category and the one department it syncs into (KB2)."""
    permission_filter: Annotated[PermissionFilter, Strict(False)] = PermissionFilter.ALL_USERS
    """Which articles sync by permission: ``all_users``, ``registered_users`` or ``both``
    (KB3)."""
    status_rule: Annotated[StatusRule, Strict(False)] = StatusRule.KEEP_PUBLISHED
    """What a later sync does to a published copy: ``keep_published`` or ``keep_draft``
    (KB4)."""
    tag: Identifier = DEFAULT_SYNC_TAG
    """The identifying tag of synced articles (KB7)."""
    remove_orphans: bool = False
    """Remove copies whose source is gone or no longer syncs, instead of keeping them (KB8)."""
    schedule: SchedulePayload | None = None
    """When the sync runs by itself; without one, only "sync now" runs (KB5, KB6)."""

    @model_validator(mode="after")
    def _valid_settings(self) -> KbSyncSettingsDocument:
        try:
            self.to_settings()
        except InvalidModelError as error:
            raise _refusal(error) from None
        return self

    def to_settings(self) -> SyncSettings:
        """The domain settings."""
        schedule = self.schedule
        return SyncSettings(
            enabled=self.enabled,
            associations=tuple(
                CategoryAssociation(category_id=a.category_id, department_id=a.department_id)
                for a in self.associations
            ),
            permission_filter=self.permission_filter,
            status_rule=self.status_rule,
            tag=self.tag,
            remove_orphans=self.remove_orphans,
            schedule=None
            if schedule is None
            else Schedule(
                id=schedule.id,
                frequency=schedule.frequency,
                anchor=schedule.anchor,
                run_time=schedule.run_time,
                timezone=schedule.timezone,
            ),
        )

    @classmethod
    def from_domain(cls, settings: SyncSettings) -> KbSyncSettingsDocument:
        """The document of ``settings``, ready to store (``model_dump_json``);
        ``to_settings`` gives them back unchanged."""
        schedule = settings.schedule
        return cls.model_validate(
            {
                "enabled": settings.enabled,
                "associations": [
                    {"category_id": a.category_id, "department_id": a.department_id}
                    for a in settings.associations
                ],
                "permission_filter": settings.permission_filter.value,
                "status_rule": settings.status_rule.value,
                "tag": settings.tag,
                "remove_orphans": settings.remove_orphans,
                "schedule": None
                if schedule is None
                else {
                    "id": schedule.id,
                    "frequency": schedule.frequency.value,
                    "anchor": schedule.anchor.isoformat(),
                    "run_time": schedule.run_time.isoformat(),
                    "timezone": schedule.timezone,
                },
            }
        )


def parse_kb_sync_settings(
    data: bytes | bytearray | str | Mapping[str, Any],
) -> KbSyncSettingsDocument:
    """Parse the knowledge-base sync settings document at the edge (P6).

    Raises:
        pydantic.ValidationError: The document is malformed, has unknown fields or values,
            associates a category twice (KB2), or names an unknown time zone.
    """
    if isinstance(data, bytes | bytearray | str):
        return KbSyncSettingsDocument.model_validate_json(data)
    return KbSyncSettingsDocument.model_validate(dict(data))
