"""In-memory knowledge-base sync stores: for tests, demos, and as the executable
specification of the article ports (KB1-KB10, P7)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from deskcore.adapters._kb import check_finished, check_plan, check_run, publish
from deskcore.errors import InvalidModelError, NotFoundError
from deskcore.models.kbsync import SourceArticle, SyncedArticle, SyncRun, SyncTrigger
from deskcore.policies.kbsync import SyncAction, SyncPlan, apply_plan, refuse_article_edit

__all__ = ["InMemoryArticleSource", "InMemoryArticleTarget"]


class InMemoryArticleSource:
    """A knowledge base held in a dict: an :class:`~deskcore.ports.ArticleSource` to put
    articles into by hand.

    Args:
        articles: The articles it starts with.
    """

    def __init__(self, articles: Iterable[SourceArticle] = ()) -> None:
        self._articles: dict[str, SourceArticle] = {}
        for article in articles:
            self.put(article)

    def list_articles(self) -> list[SourceArticle]:
        """Every article, in the order they were first put."""
        return list(self._articles.values())

    def put(self, article: SourceArticle) -> None:
        """Add ``article``, or replace the one with its id."""
        if not isinstance(article, SourceArticle):
            raise InvalidModelError(
                "InMemoryArticleSource", "article", f"expected a SourceArticle, got {article!r}"
            )
        self._articles[article.id] = article

    def delete(self, article_id: str) -> None:
        """Remove an article; raises :class:`~deskcore.errors.NotFoundError` when absent."""
        if self._articles.pop(article_id, None) is None:
            raise NotFoundError("article", article_id)


class InMemoryArticleTarget:
    """Synced copies and the run log in memory: an :class:`~deskcore.ports.ArticleTarget`
    and a :class:`~deskcore.ports.SyncRunLog`, safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._copies: dict[str, SyncedArticle] = {}
        self._runs: dict[str, SyncRun] = {}

    # -- ArticleTarget ------------------------------------------------------------------------

    def list_synced(self) -> list[SyncedArticle]:
        """Every synced copy, by target id."""
        with self._lock:
            return [self._copies[key] for key in sorted(self._copies)]

    def get(self, target_id: str) -> SyncedArticle:
        """One copy, for a preview (KB7)."""
        with self._lock:
            found = self._copies.get(target_id)
        if found is None:
            raise NotFoundError("synced article", target_id)
        return found

    def apply(self, plan: SyncPlan) -> list[SyncedArticle]:
        """Carry out ``plan``, all or nothing (KB8)."""
        with self._lock:
            check_plan(plan, self._copies.keys())
            after = apply_plan(self._copies.values(), plan)
            self._copies = {copy.target_id: copy for copy in after}
        return [
            op.article
            for op in plan.operations
            if op.action in (SyncAction.CREATE, SyncAction.UPDATE)
        ]

    def publish(self, target_id: str) -> SyncedArticle:
        """Publish a copy, as an admin does in the chat tool (KB4)."""
        with self._lock:
            published = publish(self.get(target_id))
            self._copies[target_id] = published
            return published

    def edit(
        self, target_id: str, *, title: str | None = None, body: str | None = None
    ) -> SyncedArticle:
        """Refused: synced copies are read-only (KB7)."""
        refuse_article_edit(self.get(target_id))

    # -- SyncRunLog ---------------------------------------------------------------------------

    def claim_run(self, run: SyncRun) -> bool:
        """Record ``run`` under its key, unless the key is recorded already."""
        check_run(run)
        with self._lock:
            if run.key in self._runs:
                return False
            self._runs[run.key] = run
            return True

    def finish_run(self, run: SyncRun) -> SyncRun:
        """Store the finished ``run`` over its claim."""
        check_finished(run)
        with self._lock:
            if run.key not in self._runs:
                raise NotFoundError("sync run", run.key)
            self._runs[run.key] = run
        return run

    def release_run(self, key: str) -> None:
        """Forget the unfinished run under ``key``."""
        with self._lock:
            found = self._runs.get(key)
            if found is not None and not found.finished:
                del self._runs[key]

    def last_scheduled_run(self, schedule_id: str) -> SyncRun | None:
        """The scheduled run of ``schedule_id`` with the latest occurrence."""
        with self._lock:
            scheduled = [
                run
                for run in self._runs.values()
                if run.trigger is SyncTrigger.SCHEDULED
                and run.occurrence is not None
                and run.occurrence.schedule_id == schedule_id
            ]
        if not scheduled:
            return None
        return max(scheduled, key=_occurrence_order)

    def runs(self) -> Sequence[SyncRun]:
        """Every run, oldest first."""
        with self._lock:
            return sorted(self._runs.values(), key=lambda run: (run.started_at, run.key))


def _occurrence_order(run: SyncRun) -> tuple[object, ...]:
    assert run.occurrence is not None
    return (run.occurrence.at, run.occurrence.local_date)
