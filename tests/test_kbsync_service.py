"""The knowledge-base sync use case (KB1, KB4-KB10): run when due, sync now, admins only."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from deskcore import (
    Actor,
    ArticleStatus,
    InvalidModelError,
    KnowledgeSync,
    NaiveDatetimeError,
    PermissionDeniedError,
    ReadOnlyArticleError,
    Role,
    Schedule,
    SourceArticle,
    StorageError,
    SyncOutcome,
    SyncPlan,
    SyncRun,
    SyncSettings,
    SyncTrigger,
    next_run,
)
from deskcore.adapters import InMemoryArticleSource, InMemoryArticleTarget, SQLiteArticleTarget
from deskcore.service import MANUAL_SYNC_ID
from deskcore.testing import FixedClock

ADMIN = Actor(id="admin-1", roles={Role.ADMIN})
SCHEDULER = Actor(id="scheduler", name="host scheduler", roles={Role.ADMIN})
AGENT = Actor(id="agent-1", roles={Role.AGENT})

# Daily at 03:00 in Tokyo, anchored on 1 May 2026: 18:00 UTC the day before.
SCHEDULE = Schedule(id="kb", frequency="daily", anchor=date(2026, 5, 1), timezone="Asia/Tokyo")
FIRST = datetime(2026, 4, 30, 18, 0, tzinfo=UTC)
SETTINGS = SyncSettings(schedule=SCHEDULE, tag="desk").with_association("faq", "support")


def article(article_id: str, **changes: object) -> SourceArticle:
    fields: dict[str, object] = {
        "id": article_id,
        "category_id": "faq",
        "title": f"Title {article_id}",
        "body": f"Body {article_id}",
    }
    return SourceArticle(**(fields | changes))  # type: ignore[arg-type]


Target = InMemoryArticleTarget | SQLiteArticleTarget


def make_sync(
    settings: SyncSettings = SETTINGS, now: datetime = FIRST, target: Target | None = None
) -> tuple[KnowledgeSync, InMemoryArticleSource, Target, FixedClock]:
    source = InMemoryArticleSource([article("a-1"), article("a-2")])
    store = target if target is not None else InMemoryArticleTarget()
    clock = FixedClock(now)
    sync = KnowledgeSync(source=source, target=store, run_log=store, settings=settings, clock=clock)
    return sync, source, store, clock


# -- KB5: scheduled runs --------------------------------------------------------------------------


def test_KB5_nothing_runs_before_the_first_occurrence() -> None:
    sync, _, target, _ = make_sync(now=FIRST - timedelta(minutes=1))
    result = sync.run_due(SCHEDULER)
    assert result.outcome is SyncOutcome.NOT_DUE
    assert not result.ran
    assert result.next_run is not None
    assert result.next_run.at == FIRST
    assert result.explanation == "no scheduled sync is due"
    assert target.list_synced() == []
    assert list(target.runs()) == []


def test_KB5_a_due_occurrence_runs_once_and_is_recorded_under_its_key() -> None:
    sync, _, target, clock = make_sync(now=FIRST + timedelta(minutes=5))
    result = sync.run_due(SCHEDULER)
    assert result.ran
    assert result.trigger is SyncTrigger.SCHEDULED
    assert result.occurrence is not None
    assert result.key == result.occurrence.key == "kb@2026-05-01"
    assert result.run is not None
    assert (result.run.created, result.run.updated, result.run.unchanged) == (2, 0, 0)
    assert result.run.finished
    assert [c.source_id for c in result.written] == ["a-1", "a-2"]
    assert "2 created" in result.explanation
    assert list(target.runs()) == [result.run]
    # Asking again, at once or later that day, runs nothing.
    assert sync.run_due(SCHEDULER).outcome is SyncOutcome.NOT_DUE
    clock.advance(hours=12)
    assert sync.run_due(SCHEDULER).outcome is SyncOutcome.NOT_DUE
    # The next day's occurrence runs.
    clock.set(FIRST + timedelta(days=1))
    again = sync.run_due(SCHEDULER)
    assert again.key == "kb@2026-05-02"
    assert again.run is not None
    assert again.run.unchanged == 2


def test_KB5_missed_occurrences_coalesce_into_one_run() -> None:
    sync, _, target, clock = make_sync()
    sync.run_due(SCHEDULER)
    clock.set(FIRST + timedelta(days=4, hours=2))  # the host was down for three days
    result = sync.run_due(SCHEDULER)
    assert result.key == "kb@2026-05-05"
    assert sync.run_due(SCHEDULER).outcome is SyncOutcome.NOT_DUE
    assert [run.key for run in target.runs()] == ["kb@2026-05-01", "kb@2026-05-05"]


class _StaleLog(InMemoryArticleTarget):
    """A worker whose view of the log is stale: it never sees the last run."""

    def last_scheduled_run(self, schedule_id: str) -> SyncRun | None:
        return None


def test_KB5_an_occurrence_claimed_by_another_worker_is_not_run_again() -> None:
    target = _StaleLog()
    sync, _, _, _ = make_sync(target=target)
    assert sync.run_due(SCHEDULER).ran
    result = sync.run_due(SCHEDULER)
    assert result.outcome is SyncOutcome.ALREADY_CLAIMED
    assert result.key == "kb@2026-05-01"
    assert result.explanation == "run kb@2026-05-01 is recorded already"
    assert len(list(target.runs())) == 1


def test_KB5_workers_racing_on_one_sqlite_file_run_an_occurrence_once(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite3"
    syncs = [make_sync(target=SQLiteArticleTarget(path))[0] for _ in range(4)]
    barrier = threading.Barrier(len(syncs))
    outcomes: list[SyncOutcome] = []

    def work(sync: KnowledgeSync) -> None:
        barrier.wait()
        outcomes.append(sync.run_due(SCHEDULER).outcome)

    threads = [threading.Thread(target=work, args=(sync,)) for sync in syncs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(SyncOutcome.RAN) == 1
    assert set(outcomes) <= {SyncOutcome.RAN, SyncOutcome.NOT_DUE, SyncOutcome.ALREADY_CLAIMED}
    with SQLiteArticleTarget(path) as store:
        assert [run.key for run in store.runs()] == ["kb@2026-05-01"]
        assert len(store.list_synced()) == 2
    for sync in syncs:
        assert isinstance(sync.target, SQLiteArticleTarget)
        sync.target.close()


def test_KB5_a_failed_run_releases_its_key_so_it_is_due_again() -> None:
    class Failing(InMemoryArticleTarget):
        fail = True

        def apply(self, plan: SyncPlan) -> list:  # type: ignore[type-arg]
            if self.fail:
                raise StorageError("the chat tool is down")
            return super().apply(plan)

    target = Failing()
    sync, _, _, _ = make_sync(target=target)
    with pytest.raises(StorageError):
        sync.run_due(SCHEDULER)
    assert list(target.runs()) == []
    target.fail = False
    assert sync.run_due(SCHEDULER).key == "kb@2026-05-01"


def test_KB5_without_a_schedule_nothing_is_due() -> None:
    sync, _, target, _ = make_sync(settings=attrs.evolve(SETTINGS, schedule=None))
    result = sync.run_due(SCHEDULER)
    assert result.outcome is SyncOutcome.NO_SCHEDULE
    assert result.next_run is None
    assert sync.next_run() is None
    assert "sync now" in result.explanation
    assert target.list_synced() == []


# -- KB6: sync now --------------------------------------------------------------------------------


def test_KB6_sync_now_runs_at_once_and_does_not_move_the_schedule() -> None:
    sync, source, target, clock = make_sync(now=FIRST + timedelta(hours=5))
    sync.run_due(SCHEDULER)
    before_next = sync.next_run()
    before_last = target.last_scheduled_run("kb")
    clock.advance(hours=2)
    source.put(article("a-3"))
    result = sync.sync_now(ADMIN)
    assert result.ran
    assert result.trigger is SyncTrigger.MANUAL
    assert result.occurrence is None
    assert result.key is not None
    assert "@sync-now@" in result.key
    assert result.run is not None
    assert result.run.created == 1
    assert sync.settings.schedule == SCHEDULE
    assert sync.settings.schedule is not None
    assert sync.settings.schedule.anchor == date(2026, 5, 1)
    assert target.last_scheduled_run("kb") == before_last
    assert sync.next_run() == before_next == next_run(SCHEDULE, clock.now())
    # The scheduled run of the next day still comes.
    clock.set(FIRST + timedelta(days=1))
    assert sync.run_due(SCHEDULER).key == "kb@2026-05-02"


def test_KB6_sync_now_before_any_scheduled_run_leaves_the_first_occurrence_due() -> None:
    sync, _, _, clock = make_sync(now=FIRST - timedelta(hours=1))
    assert sync.sync_now(ADMIN).ran
    clock.set(FIRST)
    assert sync.run_due(SCHEDULER).key == "kb@2026-05-01"


def test_KB6_sync_now_works_without_a_schedule_and_twice_at_one_instant_runs_once() -> None:
    sync, _, target, clock = make_sync(settings=attrs.evolve(SETTINGS, schedule=None))
    first = sync.sync_now(ADMIN)
    assert first.key is not None
    assert first.key.startswith(MANUAL_SYNC_ID + "@")
    assert sync.sync_now(ADMIN).outcome is SyncOutcome.ALREADY_CLAIMED
    clock.advance(seconds=1)
    assert sync.sync_now(ADMIN).ran
    assert len(list(target.runs())) == 2


# -- KB1: disabling -------------------------------------------------------------------------------


def test_KB1_disabling_stops_runs_and_leaves_synced_articles_as_they_are() -> None:
    sync, source, target, clock = make_sync()
    sync.run_due(SCHEDULER)
    target.publish("a-1")
    before = target.list_synced()
    sync.configure(attrs.evolve(sync.settings, enabled=False, remove_orphans=True), actor=ADMIN)
    source.delete("a-2")
    source.put(article("a-1", body="changed"))
    clock.set(FIRST + timedelta(days=1))
    for result in (sync.run_due(SCHEDULER), sync.sync_now(ADMIN)):
        assert result.outcome is SyncOutcome.DISABLED
        assert "disabled" in result.explanation
    assert target.list_synced() == before
    assert len(list(target.runs())) == 1
    # Enabled again, the sync picks up where it left off.
    sync.configure(attrs.evolve(sync.settings, enabled=True), actor=ADMIN)
    result = sync.run_due(SCHEDULER)
    assert result.run is not None
    assert (result.run.updated, result.run.removed) == (1, 1)


# -- KB4, KB7, KB8, KB10 through the service ------------------------------------------------------


def test_KB4_synced_articles_arrive_as_drafts_and_a_published_one_stays_published() -> None:
    sync, source, target, clock = make_sync()
    sync.run_due(SCHEDULER)
    assert {c.status for c in target.list_synced()} == {ArticleStatus.DRAFT}
    target.publish("a-1")
    source.put(article("a-1", body="revised"))
    clock.set(FIRST + timedelta(days=1))
    result = sync.run_due(SCHEDULER)
    assert result.run is not None
    assert result.run.updated == 1
    assert target.get("a-1").status is ArticleStatus.PUBLISHED
    assert target.get("a-1").body == "revised"


def test_KB4_with_keep_draft_an_updated_published_article_returns_to_draft() -> None:
    sync, source, target, _ = make_sync(settings=attrs.evolve(SETTINGS, status_rule="keep_draft"))
    sync.sync_now(ADMIN)
    target.publish("a-1")
    source.put(article("a-1", body="revised"))
    sync.clock.advance(minutes=1)  # type: ignore[attr-defined]
    sync.sync_now(ADMIN)
    assert target.get("a-1").status is ArticleStatus.DRAFT


def test_KB7_synced_articles_carry_the_tag_and_cannot_be_edited() -> None:
    sync, _, target, _ = make_sync()
    sync.run_due(SCHEDULER)
    assert {c.tag for c in target.list_synced()} == {"desk"}
    with pytest.raises(ReadOnlyArticleError):
        target.edit("a-1", body="hand edit")
    assert target.get("a-1").body == "Body a-1"


def test_KB8_a_vanished_article_is_kept_unless_orphans_are_removed() -> None:
    sync, source, target, clock = make_sync()
    sync.run_due(SCHEDULER)
    source.delete("a-2")
    clock.advance(days=1)
    result = sync.run_due(SCHEDULER)
    assert result.run is not None
    assert (result.run.orphaned, result.run.removed) == (1, 0)
    assert [c.target_id for c in target.list_synced()] == ["a-1", "a-2"]
    sync.configure(attrs.evolve(sync.settings, remove_orphans=True), actor=ADMIN)
    clock.advance(days=1)
    result = sync.run_due(SCHEDULER)
    assert result.run is not None
    assert result.run.removed == 1
    assert [c.target_id for c in target.list_synced()] == ["a-1"]


def test_KB8_KB10_a_preview_plans_without_applying_and_names_what_visitors_cannot_see() -> None:
    settings = attrs.evolve(SETTINGS, permission_filter="both")
    sync, source, target, _ = make_sync(settings=settings)
    source.put(article("members", permission="registered_users"))
    plan = sync.preview(actor=ADMIN)
    assert len(plan.creates) == 3
    assert plan.invisible_to_visitors == ("members",)
    assert target.list_synced() == []
    assert list(target.runs()) == []
    result = sync.sync_now(ADMIN)
    assert result.plan is not None
    assert result.plan.invisible_to_visitors == ("members",)


# -- KB9: admins only -----------------------------------------------------------------------------


def test_KB9_only_admins_run_preview_or_configure_a_sync() -> None:
    sync, _, target, _ = make_sync()
    for call in (
        lambda: sync.run_due(AGENT),
        lambda: sync.sync_now(AGENT),
        lambda: sync.preview(actor=AGENT),
        lambda: sync.configure(attrs.evolve(SETTINGS, enabled=False), actor=AGENT),
    ):
        with pytest.raises(PermissionDeniedError) as caught:
            call()
        assert caught.value.missing == "role:admin"
    assert target.list_synced() == []
    assert list(target.runs()) == []
    assert sync.settings == SETTINGS


# -- bad wiring -----------------------------------------------------------------------------------


def test_T1_a_naive_clock_is_refused() -> None:
    class NaiveClock:
        def now(self) -> datetime:
            return datetime(2026, 5, 1)

    sync, _, _, _ = make_sync()
    sync.clock = NaiveClock()
    with pytest.raises(NaiveDatetimeError):
        sync.run_due(SCHEDULER)


def test_P5_settings_must_be_sync_settings() -> None:
    store = InMemoryArticleTarget()
    with pytest.raises(InvalidModelError):
        KnowledgeSync(
            source=InMemoryArticleSource(),
            target=store,
            run_log=store,
            settings={"enabled": True},  # type: ignore[arg-type]
        )
    default_clock = KnowledgeSync(
        source=InMemoryArticleSource(), target=store, run_log=store, settings=SyncSettings()
    )
    assert default_clock.next_run() is None


def test_P4_KB8_a_run_reports_one_event_per_copy_written() -> None:
    sync, _, _, clock = make_sync(now=FIRST + timedelta(minutes=5))
    first = sync.run_due(SCHEDULER)
    assert [(e.name, e.source_id, e.action, e.reason) for e in first.events] == [
        ("kb.article_synced", "a-1", "create", "new_article"),
        ("kb.article_synced", "a-2", "create", "new_article"),
    ]
    assert {e.run_key for e in first.events} == {"kb@2026-05-01"}
    assert {e.at for e in first.events} == {clock.now()}
    clock.set(FIRST + timedelta(days=1))
    unchanged = sync.run_due(SCHEDULER)
    assert unchanged.ran
    assert unchanged.events == ()  # nothing written, nothing to report
