"""The knowledge-base sync contract suites (KB4-KB8, P2, P7): one set of tests every article
target and every run log must pass.

Subclass the contract in a test module, name the subclass ``Test...`` so pytest collects it,
and implement its one hook::

    from deskcore.testing.kb_contracts import ArticleTargetContract, SyncRunLogContract

    class TestMyTarget(ArticleTargetContract, SyncRunLogContract):
        def make_target(self):
            return MyArticleTarget(...)  # a fresh, empty target each call

        def make_run_log(self):
            return MyRunLog(...)  # a fresh, empty run log each call

The in-memory and SQLite reference targets run exactly these suites.
"""

# Test names cite the spec rule they check (test_KB7_...), as in contracts.py.

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest

from deskcore.errors import (
    DuplicateError,
    InvalidModelError,
    NotFoundError,
    ReadOnlyArticleError,
)
from deskcore.models.kbsync import (
    ArticlePermission,
    ArticleStatus,
    SourceArticle,
    StatusRule,
    SyncedArticle,
    SyncRun,
    SyncSettings,
    SyncTrigger,
)
from deskcore.models.schedule import Occurrence
from deskcore.policies.kbsync import SyncAction, SyncOperation, SyncPlan, SyncReason, plan_sync
from deskcore.ports.connectors import ArticleTarget, SyncRunLog

__all__ = ["ArticleTargetContract", "SyncRunLogContract"]

T0 = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
JST = timezone(timedelta(hours=9))
SETTINGS = SyncSettings(
    permission_filter="both", associations=(), tag="from-helpdesk"
).with_association("faq", "support")


def _source(article_id: str, **changes: object) -> SourceArticle:
    fields: dict[str, object] = {
        "id": article_id,
        "category_id": "faq",
        "title": f"Title {article_id}",
        "body": f"Body of {article_id}",
    }
    return SourceArticle(**(fields | changes))  # type: ignore[arg-type]


def _by_id(copies: object) -> dict[str, SyncedArticle]:
    return {copy.target_id: copy for copy in copies}  # type: ignore[attr-defined]


class _Tmp:
    tmp_path: Path

    @pytest.fixture(autouse=True)
    def _deskcore_tmp_path(self, tmp_path: Path) -> None:
        # Subclasses whose store lives in files can use ``self.tmp_path``.
        self.tmp_path = tmp_path


class ArticleTargetContract(_Tmp, ABC):
    """Behaviour every :class:`~deskcore.ports.ArticleTarget` must show.

    Implement :meth:`make_target`; everything else is inherited. The class name does not
    start with ``Test``, so pytest collects only your subclass.
    """

    @abstractmethod
    def make_target(self) -> ArticleTarget:
        """Return a new, empty target. Called once or more per test."""

    def _synced(self, target: ArticleTarget, *ids: str) -> tuple[SyncedArticle, ...]:
        plan = plan_sync([_source(i) for i in ids], target.list_synced(), SETTINGS, T0)
        target.apply(plan)
        return tuple(sorted(target.list_synced(), key=lambda c: c.target_id))

    def test_P2_a_new_target_holds_no_copies(self) -> None:
        assert list(self.make_target().list_synced()) == []

    def test_KB4_KB8_a_plan_creates_draft_copies_stored_exactly(self) -> None:
        target = self.make_target()
        rich = _source(
            "記事-1",
            title="返品の方法 🙏",
            body="مرحبا\n" + "x" * 10_000,
            permission=ArticlePermission.REGISTERED_USERS,
            version="rev 7",
        )
        plan = plan_sync([rich, _source("a-2")], [], SETTINGS, T0.astimezone(JST))
        written = target.apply(plan)
        assert list(written) == [op.article for op in plan.creates]
        stored = _by_id(target.list_synced())
        assert stored == _by_id(op.article for op in plan.creates)
        copy = stored["記事-1"]
        assert copy.status is ArticleStatus.DRAFT
        assert copy.tag == "from-helpdesk"
        assert copy.synced_at == T0
        assert copy.synced_at.utcoffset() == timedelta(hours=9)
        assert copy.source_version == "rev 7"
        assert stored["a-2"].source_version is None

    def test_KB7_a_copy_can_be_previewed(self) -> None:
        target = self.make_target()
        (copy,) = self._synced(target, "a-1")
        assert target.get("a-1") == copy
        with pytest.raises(NotFoundError):
            target.get("nope")

    def test_KB7_an_edit_of_a_synced_copy_is_refused_and_changes_nothing(self) -> None:
        target = self.make_target()
        (copy,) = self._synced(target, "a-1")
        with pytest.raises(ReadOnlyArticleError) as caught:
            target.edit("a-1", title="Edited", body="Edited")
        assert caught.value.target_id == "a-1"
        assert caught.value.source_id == "a-1"
        assert target.get("a-1") == copy
        with pytest.raises(NotFoundError):
            target.edit("nope", title="x")

    def test_KB4_publishing_in_the_chat_tool_and_keep_published(self) -> None:
        target = self.make_target()
        self._synced(target, "a-1")
        published = target.publish("a-1")
        assert published.status is ArticleStatus.PUBLISHED
        assert target.publish("a-1") == published
        assert target.get("a-1") == published
        with pytest.raises(NotFoundError):
            target.publish("nope")
        plan = plan_sync([_source("a-1", body="new")], target.list_synced(), SETTINGS, T0)
        target.apply(plan)
        assert target.get("a-1").status is ArticleStatus.PUBLISHED
        keep_draft = attrs.evolve(SETTINGS, status_rule=StatusRule.KEEP_DRAFT)
        plan = plan_sync([_source("a-1", body="newer")], target.list_synced(), keep_draft, T0)
        target.apply(plan)
        assert target.get("a-1").status is ArticleStatus.DRAFT

    def test_KB8_updates_replace_copies_and_unchanged_and_orphans_stay(self) -> None:
        target = self.make_target()
        before = _by_id(self._synced(target, "a-1", "a-2", "a-3"))
        later = T0 + timedelta(days=1)
        plan = plan_sync(
            [_source("a-1"), _source("a-2", body="new")], target.list_synced(), SETTINGS, later
        )
        written = target.apply(plan)
        assert [c.target_id for c in written] == ["a-2"]
        after = _by_id(target.list_synced())
        assert after["a-1"] == before["a-1"]
        assert after["a-2"].body == "new"
        assert after["a-2"].synced_at == later
        assert after["a-3"] == before["a-3"]  # orphaned, kept as it is

    def test_KB8_removals_happen_only_for_removal_operations(self) -> None:
        target = self.make_target()
        self._synced(target, "a-1", "a-2")
        removing = attrs.evolve(SETTINGS, remove_orphans=True)
        plan = plan_sync([_source("a-1")], target.list_synced(), removing, T0)
        assert [op.action for op in plan.orphans] == [SyncAction.REMOVE]
        target.apply(plan)
        assert [c.target_id for c in target.list_synced()] == ["a-1"]
        with pytest.raises(NotFoundError):
            target.get("a-2")

    def test_P5_a_plan_that_does_not_fit_writes_nothing(self) -> None:
        target = self.make_target()
        before = _by_id(self._synced(target, "a-1", "a-2"))
        (copy,) = [c for c in before.values() if c.target_id == "a-2"]
        fresh = attrs.evolve(copy, target_id="new", source_id="new")
        bad_create = SyncPlan(
            at=T0,
            operations=(
                SyncOperation(
                    action=SyncAction.CREATE, reason=SyncReason.NEW_ARTICLE, article=fresh
                ),
                SyncOperation(
                    action=SyncAction.REMOVE,
                    reason=SyncReason.SOURCE_DELETED,
                    article=before["a-1"],
                    previous=before["a-1"],
                ),
                SyncOperation(
                    action=SyncAction.CREATE, reason=SyncReason.NEW_ARTICLE, article=copy
                ),
            ),
        )
        with pytest.raises(DuplicateError):
            target.apply(bad_create)
        assert _by_id(target.list_synced()) == before
        gone = attrs.evolve(copy, target_id="gone", body="x")
        bad_update = SyncPlan(
            at=T0,
            operations=(
                SyncOperation(
                    action=SyncAction.CREATE, reason=SyncReason.NEW_ARTICLE, article=fresh
                ),
                SyncOperation(
                    action=SyncAction.UPDATE,
                    reason=SyncReason.CONTENT_CHANGED,
                    article=gone,
                    previous=gone,
                ),
            ),
        )
        with pytest.raises(NotFoundError):
            target.apply(bad_update)
        assert _by_id(target.list_synced()) == before
        with pytest.raises(InvalidModelError):
            target.apply("plan")  # type: ignore[arg-type]

    def test_KB8_a_created_copy_can_be_removed_and_created_again_in_one_plan_order(self) -> None:
        target = self.make_target()
        (copy,) = self._synced(target, "a-1")
        renewed = attrs.evolve(copy, body="again")
        plan = SyncPlan(
            at=T0,
            operations=(
                SyncOperation(
                    action=SyncAction.REMOVE,
                    reason=SyncReason.SOURCE_DELETED,
                    article=copy,
                    previous=copy,
                ),
                SyncOperation(
                    action=SyncAction.CREATE, reason=SyncReason.NEW_ARTICLE, article=renewed
                ),
            ),
        )
        target.apply(plan)
        assert target.get("a-1") == renewed


def _occurrence(day: int, schedule_id: str = "kb") -> Occurrence:
    return Occurrence(
        schedule_id=schedule_id,
        local_date=date(2026, 3, day),
        at=datetime(2026, 3, day, 18, 0, tzinfo=UTC),
    )


def _scheduled(day: int, schedule_id: str = "kb") -> SyncRun:
    occurrence = _occurrence(day, schedule_id)
    return SyncRun(
        key=occurrence.key,
        trigger=SyncTrigger.SCHEDULED,
        started_at=occurrence.at,
        occurrence=occurrence,
    )


class SyncRunLogContract(_Tmp, ABC):
    """Behaviour every :class:`~deskcore.ports.SyncRunLog` must show (KB5, KB6).

    Implement :meth:`make_run_log`; everything else is inherited.
    """

    @abstractmethod
    def make_run_log(self) -> SyncRunLog:
        """Return a new, empty run log. Called once or more per test."""

    def test_KB5_a_key_is_claimed_once(self) -> None:
        log = self.make_run_log()
        run = _scheduled(2)
        assert log.claim_run(run)
        assert not log.claim_run(run)
        assert not log.claim_run(attrs.evolve(run, started_at=run.started_at + timedelta(hours=1)))
        assert list(log.runs()) == [run]

    def test_KB5_a_finished_run_keeps_its_counts_and_is_never_claimed_again(self) -> None:
        log = self.make_run_log()
        run = _scheduled(2)
        log.claim_run(run)
        done = attrs.evolve(
            run,
            finished_at=run.started_at + timedelta(seconds=3),
            created=4,
            updated=3,
            unchanged=2,
            orphaned=1,
            removed=0,
        )
        assert log.finish_run(done) == done
        assert list(log.runs()) == [done]
        assert log.last_scheduled_run("kb") == done
        log.release_run(done.key)  # a finished run stays
        assert not log.claim_run(run)
        assert list(log.runs()) == [done]

    def test_KB5_finishing_needs_a_claimed_and_finished_run(self) -> None:
        log = self.make_run_log()
        run = _scheduled(2)
        with pytest.raises(NotFoundError):
            log.finish_run(attrs.evolve(run, finished_at=run.started_at))
        log.claim_run(run)
        with pytest.raises(InvalidModelError):
            log.finish_run(run)
        with pytest.raises(InvalidModelError):
            log.claim_run("kb@2026-03-02")  # type: ignore[arg-type]

    def test_KB5_a_released_run_can_run_again(self) -> None:
        log = self.make_run_log()
        run = _scheduled(2)
        log.claim_run(run)
        log.release_run(run.key)
        log.release_run("unknown")
        assert log.last_scheduled_run("kb") is None
        assert log.claim_run(run)

    def test_KB5_KB6_the_last_scheduled_run_is_the_latest_occurrence_of_the_schedule(
        self,
    ) -> None:
        log = self.make_run_log()
        assert log.last_scheduled_run("kb") is None
        for run in (_scheduled(9), _scheduled(2), _scheduled(20, "other")):
            log.claim_run(run)
        manual = SyncRun(
            key="kb@sync-now@2026-03-30T00:00:00+00:00",
            trigger=SyncTrigger.MANUAL,
            started_at=datetime(2026, 3, 30, tzinfo=UTC),
        )
        log.claim_run(manual)
        assert log.last_scheduled_run("kb") == _scheduled(9)
        assert log.last_scheduled_run("other") == _scheduled(20, "other")
        assert log.last_scheduled_run("none") is None
        assert [run.key for run in log.runs()] == [
            "kb@2026-03-02",
            "kb@2026-03-09",
            "other@2026-03-20",
            manual.key,
        ]
