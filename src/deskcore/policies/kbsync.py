"""The knowledge-base sync plan (KB1-KB4, KB7-KB10): a pure function of the source articles,
the synced copies, the settings and ``now``.

:func:`plan_sync` says, for every article, what a sync does: create a copy (always a draft,
KB4), update it, leave it unchanged, or report it as orphaned, kept unless the settings ask to
remove orphans (KB8). Applying the plan is the host's job, through its
:class:`~deskcore.ports.ArticleTarget`; :func:`apply_plan` gives the result as a value.

Which copies are orphans: a copy whose source article is gone (``source_deleted``), whose
source's category is no longer associated with a department (``category_not_associated``), or
whose source's permission no longer passes the filter (``permission_filtered``). All three
mean "no longer synced": the copy is kept as it is (not updated any more), or removed with
``remove_orphans``. A second copy of the same source article (a host restoring a backup, say)
is an orphan too (``duplicate_copy``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NoReturn

import attrs

from deskcore.errors import InvalidModelError, NaiveDatetimeError, ReadOnlyArticleError
from deskcore.models._validate import (
    MAX_ID_LENGTH,
    aware,
    fixed_offset,
    instance_of,
    is_aware,
    member,
)
from deskcore.models.enums import Role
from deskcore.models.events import ArticleSynced
from deskcore.models.kbsync import (
    ArticlePermission,
    ArticleStatus,
    SourceArticle,
    StatusRule,
    SyncedArticle,
    SyncSettings,
)
from deskcore.models.parties import Actor

__all__ = [
    "SyncAction",
    "SyncOperation",
    "SyncPlan",
    "SyncReason",
    "apply_plan",
    "plan_sync",
    "refuse_article_edit",
    "require_sync_admin",
    "sync_events",
    "update_sync_settings",
]


class SyncAction(enum.StrEnum):
    """What a sync does to one article (KB8)."""

    CREATE = "create"
    """A new copy, always a draft (KB4)."""
    UPDATE = "update"
    """The copy is brought up to date; its status follows the status rule (KB4)."""
    UNCHANGED = "unchanged"
    """Nothing to do."""
    ORPHANED = "orphaned"
    """The copy is no longer synced, and kept as it is (KB8)."""
    REMOVE = "remove"
    """The copy is no longer synced, and removed: the settings ask to remove orphans (KB8)."""


class SyncReason(enum.StrEnum):
    """Why an operation is what it is: a stable code for logs and screens."""

    NEW_ARTICLE = "new_article"
    CONTENT_CHANGED = "content_changed"
    SOURCE_VERSION_CHANGED = "source_version_changed"
    DEPARTMENT_CHANGED = "department_changed"
    PERMISSION_CHANGED = "permission_changed"
    TAG_CHANGED = "tag_changed"
    UP_TO_DATE = "up_to_date"
    SYNC_DISABLED = "sync_disabled"
    SOURCE_DELETED = "source_deleted"
    CATEGORY_NOT_ASSOCIATED = "category_not_associated"
    PERMISSION_FILTERED = "permission_filtered"
    DUPLICATE_COPY = "duplicate_copy"


_EXPLANATIONS: Mapping[SyncReason, str] = {
    SyncReason.NEW_ARTICLE: "the article has no copy yet; it is created as a draft (KB4)",
    SyncReason.CONTENT_CHANGED: "the article's title or body changed",
    SyncReason.SOURCE_VERSION_CHANGED: "the knowledge base reports a new version",
    SyncReason.DEPARTMENT_CHANGED: "its category is now associated with another department",
    SyncReason.PERMISSION_CHANGED: "the article's permission changed",
    SyncReason.TAG_CHANGED: "the settings name another identifying tag (KB7)",
    SyncReason.UP_TO_DATE: "the copy is up to date",
    SyncReason.SYNC_DISABLED: "sync is disabled; synced articles are left as they are (KB1)",
    SyncReason.SOURCE_DELETED: "the helpdesk article is gone",
    SyncReason.CATEGORY_NOT_ASSOCIATED: "its category is not associated with a department",
    SyncReason.PERMISSION_FILTERED: "its permission no longer passes the filter (KB3)",
    SyncReason.DUPLICATE_COPY: "another copy of the same article is the synced one",
}


def _optional_article(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, SyncedArticle):
        raise InvalidModelError("SyncOperation", attribute.name, "expected a SyncedArticle")


@attrs.frozen(kw_only=True)
class SyncOperation:
    """One step of a sync plan.

    Attributes:
        action: Create, update, unchanged, orphaned or remove.
        reason: Why, as a stable code; ``explanation`` says it in words.
        article: The copy as it is after the step (for ``remove``: as it is before).
            A created copy's ``target_id`` is the one the plan proposes (the source id, unless
            another copy holds it).
        previous: The copy before the step; ``None`` for ``create``.
        changes: Every reason an ``update`` found (``reason`` is the first).
    """

    action: SyncAction = attrs.field(validator=member(SyncAction))
    reason: SyncReason = attrs.field(validator=member(SyncReason))
    article: SyncedArticle = attrs.field(validator=instance_of(SyncedArticle))
    previous: SyncedArticle | None = attrs.field(default=None, validator=_optional_article)
    changes: tuple[SyncReason, ...] = ()

    @property
    def source_id(self) -> str:
        """The helpdesk article."""
        return self.article.source_id

    @property
    def target_id(self) -> str:
        """The copy in the chat tool."""
        return self.article.target_id

    @property
    def explanation(self) -> str:
        """The reasons, in words."""
        reasons = self.changes or (self.reason,)
        return f"{self.action.value} {self.source_id}: " + "; ".join(
            _EXPLANATIONS[r] for r in reasons
        )


@attrs.frozen(kw_only=True)
class SyncPlan:
    """What one sync does (KB8), computed by :func:`plan_sync`.

    Attributes:
        at: The ``now`` it was computed for; created and updated copies carry it as
            ``synced_at``.
        operations: One per source article that syncs, and one per copy that no longer does,
            sources first in the order given, then orphans by target id.
        invisible_to_visitors: Target ids of the copies that exist after the plan is applied
            and whose permission is not all users: visitors cannot all see them (KB10).
    """

    at: datetime = attrs.field(converter=fixed_offset, validator=aware)
    operations: tuple[SyncOperation, ...] = ()
    invisible_to_visitors: tuple[str, ...] = ()

    def _with(self, *actions: SyncAction) -> tuple[SyncOperation, ...]:
        return tuple(op for op in self.operations if op.action in actions)

    @property
    def creates(self) -> tuple[SyncOperation, ...]:
        """New copies, all drafts (KB4)."""
        return self._with(SyncAction.CREATE)

    @property
    def updates(self) -> tuple[SyncOperation, ...]:
        """Copies brought up to date."""
        return self._with(SyncAction.UPDATE)

    @property
    def unchanged(self) -> tuple[SyncOperation, ...]:
        """Copies left as they are because nothing changed (or sync is disabled)."""
        return self._with(SyncAction.UNCHANGED)

    @property
    def orphans(self) -> tuple[SyncOperation, ...]:
        """Copies no longer synced: kept (``orphaned``) or removed (``remove``) (KB8)."""
        return self._with(SyncAction.ORPHANED, SyncAction.REMOVE)

    @property
    def removals(self) -> tuple[SyncOperation, ...]:
        """Orphans the settings ask to remove."""
        return self._with(SyncAction.REMOVE)

    @property
    def changes_anything(self) -> bool:
        """True when applying the plan writes something (a create, update or removal)."""
        writes = (SyncAction.CREATE, SyncAction.UPDATE, SyncAction.REMOVE)
        return any(op.action in writes for op in self.operations)

    def counts(self) -> dict[str, int]:
        """How many operations of each action, every action named (zero included)."""
        found = dict.fromkeys((a.value for a in SyncAction), 0)
        for op in self.operations:
            found[op.action.value] += 1
        return found


# -- the plan -------------------------------------------------------------------------------------


def _check_inputs(
    sources: Sequence[SourceArticle],
    synced: Sequence[SyncedArticle],
    settings: SyncSettings,
    now: datetime,
) -> None:
    if not isinstance(settings, SyncSettings):
        raise InvalidModelError("plan_sync", "settings", "expected SyncSettings")
    if not isinstance(now, datetime):
        raise InvalidModelError(
            "plan_sync", "now", f"expected a datetime, got {type(now).__name__}"
        )
    if not is_aware(now):
        raise NaiveDatetimeError("plan_sync", "now", "naive datetime; give it a time zone (T1)")
    seen: set[str] = set()
    for article in sources:
        if not isinstance(article, SourceArticle):
            raise InvalidModelError("plan_sync", "source_articles", "expected SourceArticle")
        if article.id in seen:
            raise InvalidModelError(
                "plan_sync",
                "source_articles",
                f"article {article.id!r} is listed twice",
                article_id=article.id,
            )
        seen.add(article.id)
    seen.clear()
    for copy in synced:
        if not isinstance(copy, SyncedArticle):
            raise InvalidModelError("plan_sync", "synced_articles", "expected SyncedArticle")
        if copy.target_id in seen:
            raise InvalidModelError(
                "plan_sync",
                "synced_articles",
                f"copy {copy.target_id!r} is listed twice",
                target_id=copy.target_id,
            )
        seen.add(copy.target_id)


def _free_id(source_id: str, taken: set[str]) -> str:
    """The source's id, or the first ``<id>~<n>`` no copy holds: a deterministic proposal."""
    if source_id not in taken:
        return source_id
    stem = source_id[: MAX_ID_LENGTH - 24]
    n = 2
    while f"{stem}~{n}" in taken:
        n += 1
    return f"{stem}~{n}"


def _changes(
    source: SourceArticle, copy: SyncedArticle, department_id: str, settings: SyncSettings
) -> tuple[SyncReason, ...]:
    found: list[SyncReason] = []
    if (
        source.digest != copy.source_digest
        or source.title != copy.title
        or source.body != copy.body
    ):
        found.append(SyncReason.CONTENT_CHANGED)
    if source.version != copy.source_version:
        found.append(SyncReason.SOURCE_VERSION_CHANGED)
    if department_id != copy.department_id:
        found.append(SyncReason.DEPARTMENT_CHANGED)
    if source.permission is not copy.permission:
        found.append(SyncReason.PERMISSION_CHANGED)
    if settings.tag != copy.tag:
        found.append(SyncReason.TAG_CHANGED)
    return tuple(found)


def _status_after_update(copy: SyncedArticle, rule: StatusRule) -> ArticleStatus:
    # KB4: a published copy stays published or returns to draft, per the rule; a draft
    # stays a draft until someone publishes it in the chat tool.
    if copy.published and rule is StatusRule.KEEP_PUBLISHED:
        return ArticleStatus.PUBLISHED
    return ArticleStatus.DRAFT


def _primary_copies(
    synced: Sequence[SyncedArticle],
) -> tuple[dict[str, SyncedArticle], list[SyncedArticle]]:
    """The copy that stands for each source article, and the duplicates.

    The lowest target id wins: the choice depends neither on the order the target lists
    the copies in nor on anything a sync changes (a status, a time), so planning again after
    applying picks the same copy.
    """
    primary: dict[str, SyncedArticle] = {}
    duplicates: list[SyncedArticle] = []
    for copy in sorted(synced, key=lambda c: c.target_id):
        if copy.source_id in primary:
            duplicates.append(copy)
        else:
            primary[copy.source_id] = copy
    return primary, duplicates


def plan_sync(
    source_articles: Iterable[SourceArticle],
    synced_articles: Iterable[SyncedArticle],
    settings: SyncSettings,
    now: datetime,
) -> SyncPlan:
    """Plan one sync of the knowledge base into the chat tool (KB8).

    An article syncs when its category is associated with a department (KB2) and its
    permission passes the filter (KB3). Such an article without a copy is created as a draft
    (KB4); with a copy it is updated when its content digest, title, body, version,
    department, permission or the tag differ, else unchanged. An update keeps a published
    copy published (``keep_published``) or returns it to draft (``keep_draft``); a draft
    stays a draft (KB4). A copy that no longer syncs is orphaned: kept, or removed with
    ``remove_orphans`` (KB8). With sync disabled, every copy is unchanged and nothing is
    created (KB1).

    Args:
        source_articles: Every article of the helpdesk knowledge base; ids unique.
        synced_articles: Every copy the target holds; target ids unique.
        settings: The sync settings.
        now: When the sync runs (aware); created and updated copies carry it.

    Returns:
        The plan. Applying it and planning again gives a plan that changes nothing.

    Raises:
        InvalidModelError: An article or copy is listed twice, or an argument has the wrong
            type; ``NaiveDatetimeError`` for a naive ``now``.
    """
    sources = tuple(source_articles)
    synced = tuple(synced_articles)
    _check_inputs(sources, synced, settings, now)
    at = fixed_offset(now)
    operations: list[SyncOperation] = []

    if not settings.enabled:
        for kept in sorted(synced, key=lambda c: c.target_id):
            operations.append(
                SyncOperation(
                    action=SyncAction.UNCHANGED,
                    reason=SyncReason.SYNC_DISABLED,
                    article=kept,
                    previous=kept,
                )
            )
        return _plan(at, operations)

    primary, duplicates = _primary_copies(synced)
    taken = {copy.target_id for copy in synced}
    orphans: list[tuple[SyncedArticle, SyncReason]] = [
        (copy, SyncReason.DUPLICATE_COPY) for copy in duplicates
    ]

    for source in sources:
        department_id = settings.department_for(source.category_id)
        copy = primary.pop(source.id, None)
        if department_id is None or not settings.permission_filter.admits(source.permission):
            if copy is not None:
                reason = (
                    SyncReason.CATEGORY_NOT_ASSOCIATED
                    if department_id is None
                    else SyncReason.PERMISSION_FILTERED
                )
                orphans.append((copy, reason))
            continue
        if copy is None:
            target_id = _free_id(source.id, taken)
            taken.add(target_id)
            operations.append(
                SyncOperation(
                    action=SyncAction.CREATE,
                    reason=SyncReason.NEW_ARTICLE,
                    article=_copy_of(
                        source, target_id, department_id, ArticleStatus.DRAFT, settings, at
                    ),
                )
            )
            continue
        changes = _changes(source, copy, department_id, settings)
        if not changes:
            operations.append(
                SyncOperation(
                    action=SyncAction.UNCHANGED,
                    reason=SyncReason.UP_TO_DATE,
                    article=copy,
                    previous=copy,
                )
            )
            continue
        status = _status_after_update(copy, settings.status_rule)
        operations.append(
            SyncOperation(
                action=SyncAction.UPDATE,
                reason=changes[0],
                article=_copy_of(source, copy.target_id, department_id, status, settings, at),
                previous=copy,
                changes=changes,
            )
        )

    orphans.extend((gone, SyncReason.SOURCE_DELETED) for gone in primary.values())
    action = SyncAction.REMOVE if settings.remove_orphans else SyncAction.ORPHANED
    for orphan, reason in sorted(orphans, key=lambda pair: pair[0].target_id):
        operations.append(
            SyncOperation(action=action, reason=reason, article=orphan, previous=orphan)
        )
    return _plan(at, operations)


def _copy_of(
    source: SourceArticle,
    target_id: str,
    department_id: str,
    status: ArticleStatus,
    settings: SyncSettings,
    at: datetime,
) -> SyncedArticle:
    return SyncedArticle(
        target_id=target_id,
        source_id=source.id,
        department_id=department_id,
        title=source.title,
        body=source.body,
        permission=source.permission,
        status=status,
        tag=settings.tag,
        source_digest=source.digest,
        source_version=source.version,
        synced_at=at,
    )


def _plan(at: datetime, operations: list[SyncOperation]) -> SyncPlan:
    invisible = sorted(
        op.target_id
        for op in operations
        if op.action is not SyncAction.REMOVE
        and op.article.permission is not ArticlePermission.ALL_USERS
    )
    return SyncPlan(at=at, operations=tuple(operations), invisible_to_visitors=tuple(invisible))


def apply_plan(
    synced_articles: Iterable[SyncedArticle], plan: SyncPlan
) -> tuple[SyncedArticle, ...]:
    """The copies after ``plan`` is applied to ``synced_articles``, in target-id order.

    What a target does, as a value: creates add the proposed copies, updates replace them,
    removals drop them, and everything else stays as it is.

    Raises:
        InvalidModelError: The plan does not fit the copies: a create whose target id is
            taken, or an update or removal of a copy that is not there.
    """
    copies = {copy.target_id: copy for copy in synced_articles}
    for op in plan.operations:
        present = op.target_id in copies
        if op.action is SyncAction.CREATE and present:
            raise InvalidModelError(
                "apply_plan",
                "plan",
                f"copy {op.target_id!r} exists already",
                target_id=op.target_id,
            )
        if op.action in (SyncAction.UPDATE, SyncAction.REMOVE) and not present:
            raise InvalidModelError(
                "apply_plan", "plan", f"copy {op.target_id!r} is not there", target_id=op.target_id
            )
        if op.action in (SyncAction.CREATE, SyncAction.UPDATE):
            copies[op.target_id] = op.article
        elif op.action is SyncAction.REMOVE:
            del copies[op.target_id]
    return tuple(copies[key] for key in sorted(copies))


# -- who may sync, and what nobody may do ---------------------------------------------------------


def update_sync_settings(current: SyncSettings, new: SyncSettings, *, actor: Actor) -> SyncSettings:
    """Replace ``current`` with ``new``, if ``actor`` is an admin (KB9).

    Disabling (``enabled=False``) leaves synced articles as they are (KB1): the settings
    change, no copy does.

    Raises:
        PermissionDeniedError: The actor lacks the ``admin`` role; names it.
        InvalidModelError: ``new`` is not :class:`~deskcore.models.SyncSettings`.
    """
    actor.require_role(Role.ADMIN, "configure the knowledge-base sync")
    if not isinstance(new, SyncSettings):
        raise InvalidModelError("update_sync_settings", "new", "expected SyncSettings")
    return new


def require_sync_admin(actor: Actor, operation: str = "run the knowledge-base sync") -> None:
    """Raise :class:`~deskcore.errors.PermissionDeniedError` unless ``actor`` is an admin
    (KB9): only admins run or configure a sync."""
    actor.require_role(Role.ADMIN, operation)


def refuse_article_edit(article: SyncedArticle) -> NoReturn:
    """Refuse an edit of a synced copy: read-only in the chat tool (KB7).

    Raises:
        ReadOnlyArticleError: Always, naming the copy and its source.
    """
    raise ReadOnlyArticleError(article.target_id, article.source_id)


def sync_events(plan: SyncPlan, *, run_key: str, at: datetime) -> tuple[ArticleSynced, ...]:
    """The domain events of applying ``plan`` in the run ``run_key`` (P4): one
    :class:`~deskcore.models.ArticleSynced` for every copy created, updated or removed, in
    plan order; unchanged and orphaned copies were not written, so they have none."""
    written = (SyncAction.CREATE, SyncAction.UPDATE, SyncAction.REMOVE)
    return tuple(
        ArticleSynced(
            source_id=op.source_id,
            target_id=op.target_id,
            action=op.action.value,
            reason=op.reason.value,
            run_key=run_key,
            at=at,
        )
        for op in plan.operations
        if op.action in written
    )
