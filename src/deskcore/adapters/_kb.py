"""What every reference article target does the same way, whatever its storage (KB4, KB7, KB8)."""

from __future__ import annotations

from collections.abc import Collection

import attrs

from deskcore.errors import DuplicateError, InvalidModelError, NotFoundError
from deskcore.models.kbsync import ArticleStatus, SyncedArticle, SyncRun
from deskcore.policies.kbsync import SyncAction, SyncPlan


def check_plan(plan: SyncPlan, stored: Collection[str]) -> None:
    """Check every operation of ``plan`` against the stored target ids, before any write."""
    if not isinstance(plan, SyncPlan):
        raise InvalidModelError("ArticleTarget", "plan", f"expected a SyncPlan, got {plan!r}")
    present = set(stored)
    for op in plan.operations:
        if op.action is SyncAction.CREATE:
            if op.target_id in present:
                raise DuplicateError("synced article", op.target_id)
            present.add(op.target_id)
        elif op.action in (SyncAction.UPDATE, SyncAction.REMOVE):
            if op.target_id not in present:
                raise NotFoundError("synced article", op.target_id)
            if op.action is SyncAction.REMOVE:
                present.discard(op.target_id)


def publish(copy: SyncedArticle) -> SyncedArticle:
    """``copy`` published (KB4); the same copy when it is published already."""
    if copy.published:
        return copy
    return attrs.evolve(copy, status=ArticleStatus.PUBLISHED)


def check_run(run: SyncRun) -> None:
    """A run given to the run log must be a :class:`SyncRun`."""
    if not isinstance(run, SyncRun):
        raise InvalidModelError("SyncRunLog", "run", f"expected a SyncRun, got {run!r}")


def check_finished(run: SyncRun) -> None:
    """A run given to ``finish_run`` must be finished."""
    check_run(run)
    if not run.finished:
        raise InvalidModelError("SyncRun", "finished_at", "finish_run needs a finished run")
