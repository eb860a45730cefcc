"""Knowledge-base sync: source articles, their synced copies, the settings and the run log
(KB1-KB4, KB6-KB10).

A :class:`SourceArticle` is a helpdesk knowledge-base article as the host reads it; a
:class:`SyncedArticle` is its read-only copy in the chat tool (KB7). :class:`SyncSettings`
holds what an admin configures (KB1-KB5): the category to department associations, which
permissions sync, what happens to a published copy, the identifying tag and the schedule.
A :class:`SyncRun` is one run as the run log keeps it. The plan lives in
:mod:`deskcore.policies.kbsync`.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._validate import (
    aware,
    fixed_offset,
    identifier,
    instance_of,
    lenient,
    member,
    non_negative_int,
    optional_aware,
    optional_fixed_offset,
    optional_text,
    text,
)
from deskcore.models.schedule import Occurrence, Schedule

__all__ = [
    "DEFAULT_SYNC_TAG",
    "MAX_ASSOCIATIONS",
    "ArticlePermission",
    "ArticleStatus",
    "CategoryAssociation",
    "PermissionFilter",
    "SourceArticle",
    "StatusRule",
    "SyncRun",
    "SyncSettings",
    "SyncTrigger",
    "SyncedArticle",
    "digest_article",
]

DEFAULT_SYNC_TAG = "helpdesk"
"""The tag synced articles carry unless the settings name another (KB7)."""

MAX_ASSOCIATIONS = 10_000
"""Most category associations one settings object may hold."""

_title = text(1000)
_body = text()
_label = text(1000)


_optional_label = optional_text(1000)


class ArticlePermission(enum.StrEnum):
    """Who may read a knowledge-base article in the helpdesk (KB3, KB10)."""

    ALL_USERS = "all_users"
    REGISTERED_USERS = "registered_users"


class ArticleStatus(enum.StrEnum):
    """A synced copy's state in the chat tool (KB4)."""

    DRAFT = "draft"
    PUBLISHED = "published"


class PermissionFilter(enum.StrEnum):
    """Which articles sync, by their permission (KB3)."""

    ALL_USERS = "all_users"
    REGISTERED_USERS = "registered_users"
    BOTH = "both"

    def admits(self, permission: ArticlePermission) -> bool:
        """True when articles with ``permission`` sync under this filter."""
        return self is PermissionFilter.BOTH or self.value == permission.value


class StatusRule(enum.StrEnum):
    """What a later sync does to a copy that was published in the chat tool (KB4)."""

    KEEP_PUBLISHED = "keep_published"
    KEEP_DRAFT = "keep_draft"


class SyncTrigger(enum.StrEnum):
    """Why a sync ran: its schedule came due (KB5), or an admin asked (KB6)."""

    SCHEDULED = "scheduled"
    MANUAL = "manual"


def digest_article(title: str, body: str) -> str:
    """Digest of an article's content, its title and body: ``"sha256:<hex>"``.

    Each part is length-prefixed, as in :func:`~deskcore.models.digest_content`, so no split
    of the same characters between title and body gives the same digest.
    """
    h = hashlib.sha256()
    for part in (title, body):
        data = part.encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return "sha256:" + h.hexdigest()


def _to_permission(value: ArticlePermission | str) -> ArticlePermission:
    return lenient(ArticlePermission, value)


def _to_status(value: ArticleStatus | str) -> ArticleStatus:
    return lenient(ArticleStatus, value)


def _to_filter(value: PermissionFilter | str) -> PermissionFilter:
    return lenient(PermissionFilter, value)


def _to_rule(value: StatusRule | str) -> StatusRule:
    return lenient(StatusRule, value)


def _to_trigger(value: SyncTrigger | str) -> SyncTrigger:
    return lenient(SyncTrigger, value)


@attrs.frozen(kw_only=True)
class SourceArticle:
    """A helpdesk knowledge-base article, as the host reads it from the knowledge base.

    ``content_digest`` is computed from the title and body when not given (see
    :func:`digest_article`); the plan compares it with the digest a copy was synced from.
    When you change the title or body with :func:`attrs.evolve`, pass
    ``content_digest=None`` too, or the old digest is kept.

    Attributes:
        id: The article's id in the helpdesk.
        category_id: The helpdesk category it belongs to (KB2).
        title: At most 1,000 characters.
        body: At most 1,000,000 characters.
        permission: Who may read it in the helpdesk (KB3, KB10).
        version: The knowledge base's own revision token (a revision number, a modified
            time), compared for equality only; ``None`` when the host has none.
        content_digest: Digest of the title and body.
    """

    id: str = attrs.field(validator=identifier)
    category_id: str = attrs.field(validator=identifier)
    title: str = attrs.field(validator=_title)
    body: str = attrs.field(validator=_body)
    permission: ArticlePermission = attrs.field(
        default=ArticlePermission.ALL_USERS,
        converter=_to_permission,
        validator=member(ArticlePermission),
    )
    version: str | None = attrs.field(default=None, validator=_optional_label)
    content_digest: str | None = attrs.field(default=None, validator=_optional_label)

    def __attrs_post_init__(self) -> None:
        if self.content_digest is None:
            object.__setattr__(self, "content_digest", digest_article(self.title, self.body))

    @property
    def digest(self) -> str:
        """The content digest (never ``None`` once constructed)."""
        assert self.content_digest is not None
        return self.content_digest


@attrs.frozen(kw_only=True)
class SyncedArticle:
    """An article's copy in the chat tool: read-only there, previewable, never edited (KB7).

    Attributes:
        target_id: The copy's id in the chat tool.
        source_id: The helpdesk article it is a copy of.
        department_id: The chat-tool department it belongs to: the one its category is
            associated with (KB2).
        title: The title, as synced.
        body: The body, as synced.
        permission: The source article's permission when synced (KB10).
        status: Draft or published in the chat tool; a new copy is always a draft (KB4).
        tag: The identifying tag of synced articles (KB7).
        source_digest: Content digest of the source when synced.
        source_version: The source's revision token when synced, if it had one.
        synced_at: When the copy was created or last updated by a sync.
    """

    target_id: str = attrs.field(validator=identifier)
    source_id: str = attrs.field(validator=identifier)
    department_id: str = attrs.field(validator=identifier)
    title: str = attrs.field(validator=_title)
    body: str = attrs.field(validator=_body)
    permission: ArticlePermission = attrs.field(
        default=ArticlePermission.ALL_USERS,
        converter=_to_permission,
        validator=member(ArticlePermission),
    )
    status: ArticleStatus = attrs.field(
        default=ArticleStatus.DRAFT, converter=_to_status, validator=member(ArticleStatus)
    )
    tag: str = attrs.field(default=DEFAULT_SYNC_TAG, validator=identifier)
    source_digest: str = attrs.field(validator=_label)
    source_version: str | None = attrs.field(default=None, validator=_optional_label)
    synced_at: datetime = attrs.field(converter=fixed_offset, validator=aware)

    @property
    def visible_to_all_visitors(self) -> bool:
        """True when every visitor may see the copy: its permission is all users (KB10)."""
        return self.permission is ArticlePermission.ALL_USERS

    @property
    def published(self) -> bool:
        """True when the copy is published in the chat tool."""
        return self.status is ArticleStatus.PUBLISHED


@attrs.frozen(kw_only=True)
class CategoryAssociation:
    """A helpdesk category and the one chat-tool department its articles sync into (KB2)."""

    category_id: str = attrs.field(validator=identifier)
    department_id: str = attrs.field(validator=identifier)


def _to_associations(value: Iterable[CategoryAssociation]) -> tuple[CategoryAssociation, ...]:
    candidate: object = value
    if isinstance(candidate, str | bytes) or not isinstance(candidate, Iterable):
        return candidate  # type: ignore[return-value]  # reported by the validator
    return tuple(candidate)


def _unique_categories(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    instance_of(tuple)(instance, attribute, value)
    assert isinstance(value, tuple)
    if len(value) > MAX_ASSOCIATIONS:
        raise InvalidModelError(
            "SyncSettings", attribute.name, f"more than {MAX_ASSOCIATIONS} associations"
        )
    seen: dict[str, str] = {}
    for association in value:
        instance_of(CategoryAssociation)(instance, attribute, association)
        _check_new_association(seen, association)
        seen[association.category_id] = association.department_id


def _check_new_association(seen: dict[str, str], association: CategoryAssociation) -> None:
    existing = seen.get(association.category_id)
    if existing is None:
        return
    raise InvalidModelError(
        "SyncSettings",
        "associations",
        f"category {association.category_id!r} is associated with department {existing!r} "
        f"already; a category syncs into one department only (KB2)",
        category_id=association.category_id,
        department_id=association.department_id,
        associated_with=existing,
    )


def _optional_schedule(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        instance_of(Schedule)(instance, attribute, value)


@attrs.frozen(kw_only=True)
class SyncSettings:
    """What an admin configures for the knowledge-base sync (KB1-KB5). Change it with
    :func:`deskcore.policies.update_sync_settings`, which checks the role (KB9).

    Attributes:
        enabled: Sync runs at all. Disabling stops syncing and leaves synced articles as
            they are (KB1).
        associations: Each helpdesk category and the one chat-tool department it syncs into;
            a category listed twice is an :class:`~deskcore.errors.InvalidModelError` (KB2).
            Articles of categories not listed do not sync.
        permission_filter: Which articles sync by their permission (KB3); all users by
            default, so nothing meant for registered users only reaches the chat tool unless
            an admin asks.
        status_rule: What an update does to a published copy (KB4).
        tag: The identifying tag every synced copy carries (KB7).
        remove_orphans: A copy whose source is gone (or no longer synced) is listed for
            removal instead of being kept (KB8). Off by default.
        schedule: When the sync runs by itself (KB5); ``None``: only when asked (KB6).
    """

    enabled: bool = attrs.field(default=True, validator=instance_of(bool))
    associations: tuple[CategoryAssociation, ...] = attrs.field(
        default=(), converter=_to_associations, validator=_unique_categories
    )
    permission_filter: PermissionFilter = attrs.field(
        default=PermissionFilter.ALL_USERS,
        converter=_to_filter,
        validator=member(PermissionFilter),
    )
    status_rule: StatusRule = attrs.field(
        default=StatusRule.KEEP_PUBLISHED, converter=_to_rule, validator=member(StatusRule)
    )
    tag: str = attrs.field(default=DEFAULT_SYNC_TAG, validator=identifier)
    remove_orphans: bool = attrs.field(default=False, validator=instance_of(bool))
    schedule: Schedule | None = attrs.field(default=None, validator=_optional_schedule)

    def department_for(self, category_id: str) -> str | None:
        """The department ``category_id`` syncs into, or ``None`` when it is not associated."""
        for association in self.associations:
            if association.category_id == category_id:
                return association.department_id
        return None

    def with_association(self, category_id: str, department_id: str) -> SyncSettings:
        """Settings with ``category_id`` associated with ``department_id`` (KB2).

        Associating a category again with the same department changes nothing.

        Raises:
            InvalidModelError: The category is associated with another department already;
                ``details`` name the category, the department asked for and the one it has.
                Remove the association first (:meth:`without_association`) to move it.
        """
        association = CategoryAssociation(category_id=category_id, department_id=department_id)
        existing = self.department_for(category_id)
        if existing == department_id:
            return self
        _check_new_association({} if existing is None else {category_id: existing}, association)
        return attrs.evolve(self, associations=(*self.associations, association))

    def without_association(self, category_id: str) -> SyncSettings:
        """Settings in which ``category_id`` is associated with no department."""
        kept = tuple(a for a in self.associations if a.category_id != category_id)
        return attrs.evolve(self, associations=kept)


def _optional_occurrence(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        instance_of(Occurrence)(instance, attribute, value)


@attrs.frozen(kw_only=True)
class SyncRun:
    """One sync run, as the run log records it (KB5, KB6).

    A run is recorded (claimed) under its key before anything is synced, and finished
    afterwards with the counts of what it did. A key is recorded once: the same scheduled
    occurrence never runs twice, whoever asks and however often.

    Attributes:
        key: The occurrence's key (scheduled) or the sync-now key (manual).
        trigger: Scheduled or manual.
        started_at: When it started.
        occurrence: The scheduled occurrence it ran for; ``None`` for a manual run.
        finished_at: When it finished; ``None`` while it runs.
        created, updated, unchanged, orphaned, removed: What the applied plan did.
    """

    key: str = attrs.field(validator=_label)
    trigger: SyncTrigger = attrs.field(converter=_to_trigger, validator=member(SyncTrigger))
    started_at: datetime = attrs.field(converter=fixed_offset, validator=aware)
    occurrence: Occurrence | None = attrs.field(default=None, validator=_optional_occurrence)
    finished_at: datetime | None = attrs.field(
        default=None, converter=optional_fixed_offset, validator=optional_aware
    )
    created: int = attrs.field(default=0, validator=non_negative_int)
    updated: int = attrs.field(default=0, validator=non_negative_int)
    unchanged: int = attrs.field(default=0, validator=non_negative_int)
    orphaned: int = attrs.field(default=0, validator=non_negative_int)
    removed: int = attrs.field(default=0, validator=non_negative_int)

    def __attrs_post_init__(self) -> None:
        scheduled = self.trigger is SyncTrigger.SCHEDULED
        if scheduled != (self.occurrence is not None):
            raise InvalidModelError(
                "SyncRun", "occurrence", "a scheduled run has its occurrence; a manual one none"
            )
        if self.occurrence is not None and self.occurrence.key != self.key:
            raise InvalidModelError(
                "SyncRun",
                "key",
                f"a scheduled run's key is its occurrence's key {self.occurrence.key!r}",
            )
        if self.finished_at is not None and self.finished_at < self.started_at:
            raise InvalidModelError("SyncRun", "finished_at", "before started_at")

    @property
    def finished(self) -> bool:
        """True once the run has finished."""
        return self.finished_at is not None
