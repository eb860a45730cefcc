"""The reference article targets and run logs against the shared contract suites (KB5-KB8,
P7), and what only the SQLite store has to show (a shared file, its own schema version)."""

from __future__ import annotations

import itertools
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskcore import (
    InvalidModelError,
    NotFoundError,
    SchemaVersionError,
    SourceArticle,
    StorageError,
    SyncedArticle,
    SyncRun,
    SyncSettings,
    SyncTrigger,
    apply_plan,
    plan_sync,
)
from deskcore.adapters import (
    InMemoryArticleSource,
    InMemoryArticleTarget,
    SQLiteArticleTarget,
    SQLiteTicketRepository,
)
from deskcore.adapters.kb_sqlite import KB_SCHEMA_VERSION
from deskcore.ports import ArticleSource, ArticleTarget, SyncRunLog
from deskcore.testing.contracts import sample_ticket
from deskcore.testing.kb_contracts import ArticleTargetContract, SyncRunLogContract

_files = itertools.count()
T0 = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)


class TestInMemoryArticleTarget(ArticleTargetContract, SyncRunLogContract):
    """P7: the in-memory target and run log pass the contracts."""

    def make_target(self) -> InMemoryArticleTarget:
        return InMemoryArticleTarget()

    def make_run_log(self) -> InMemoryArticleTarget:
        return InMemoryArticleTarget()


class TestSQLiteArticleTarget(ArticleTargetContract, SyncRunLogContract):
    """P7: the SQLite target and run log pass the same contracts."""

    def make_target(self) -> SQLiteArticleTarget:
        return SQLiteArticleTarget(self.tmp_path / f"kb-{next(_files)}.sqlite3")

    def make_run_log(self) -> SQLiteArticleTarget:
        return self.make_target()


def test_P2_the_reference_stores_implement_the_ports(tmp_path: Path) -> None:
    assert isinstance(InMemoryArticleSource(), ArticleSource)
    for target in (InMemoryArticleTarget(), SQLiteArticleTarget(tmp_path / "kb.sqlite3")):
        assert isinstance(target, ArticleTarget)
        assert isinstance(target, SyncRunLog)


def test_P2_the_in_memory_source_holds_articles_by_id() -> None:
    first = SourceArticle(id="a-1", category_id="faq", title="T", body="B")
    source = InMemoryArticleSource([first])
    second = SourceArticle(id="a-2", category_id="faq", title="T2", body="B2")
    source.put(second)
    source.put(SourceArticle(id="a-1", category_id="faq", title="T1", body="B1"))
    assert [a.title for a in source.list_articles()] == ["T1", "T2"]
    source.delete("a-1")
    assert source.list_articles() == [second]
    with pytest.raises(NotFoundError):
        source.delete("a-1")
    with pytest.raises(InvalidModelError):
        source.put({"id": "a-3"})  # type: ignore[arg-type]


# -- SQLite only ----------------------------------------------------------------------------------


def test_P7_the_sqlite_store_keeps_copies_and_runs_across_reopening(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite3"
    article = SourceArticle(id="a-1", category_id="faq", title="T", body="B")
    settings_ = SyncSettings().with_association("faq", "support")
    run = SyncRun(key="kb@sync-now@x", trigger=SyncTrigger.MANUAL, started_at=T0)
    with SQLiteArticleTarget(path) as target:
        target.apply(plan_sync([article], [], settings_, T0))
        target.claim_run(run)
        assert target.schema_version() == KB_SCHEMA_VERSION
    with SQLiteArticleTarget(path) as again:
        assert [c.source_id for c in again.list_synced()] == ["a-1"]
        assert list(again.runs()) == [run]


def test_P7_the_sqlite_store_shares_a_file_with_the_ticket_store(tmp_path: Path) -> None:
    """Its schema version is a row of its own, so neither store's migrations disturb the
    other's, whichever opens the file first."""
    for first_tickets in (True, False):
        path = tmp_path / f"shared-{first_tickets}.sqlite3"
        if first_tickets:
            tickets = SQLiteTicketRepository(path)
            target = SQLiteArticleTarget(path)
        else:
            target = SQLiteArticleTarget(path)
            tickets = SQLiteTicketRepository(path)
        with tickets, target:
            tickets.add(sample_ticket("t1", 1))
            article = SourceArticle(id="a-1", category_id="faq", title="T", body="B")
            settings_ = SyncSettings().with_association("faq", "support")
            target.apply(plan_sync([article], [], settings_, T0))
            assert tickets.get("t1").version == 1
            assert len(target.list_synced()) == 1
            assert target.schema_version() == KB_SCHEMA_VERSION
            assert tickets.schema_version() >= 1


def test_P5_a_newer_sync_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite3"
    SQLiteArticleTarget(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE kb_schema SET version = ? WHERE name = 'kb_sync'", (99,))
    db.close()
    with pytest.raises(SchemaVersionError) as caught:
        SQLiteArticleTarget(path)
    assert caught.value.details == {"found": 99, "supported": KB_SCHEMA_VERSION}


def test_P5_driver_errors_become_storage_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError):
        SQLiteArticleTarget(junk)
    with pytest.raises(StorageError):
        SQLiteArticleTarget(tmp_path / "missing-dir" / "kb.sqlite3")
    target = SQLiteArticleTarget(tmp_path / "kb.sqlite3")
    target.close()
    target.close()
    with pytest.raises(StorageError):
        target.list_synced()
    with pytest.raises(StorageError):
        target.claim_run(SyncRun(key="k", trigger="manual", started_at=T0))


def test_KB5_two_stores_on_one_file_claim_a_run_once(tmp_path: Path) -> None:
    """Two workers (two connections, as two processes would have) race for one key."""
    path = tmp_path / "kb.sqlite3"
    stores = [SQLiteArticleTarget(path) for _ in range(4)]
    run = SyncRun(key="kb@2026-03-01", trigger="manual", started_at=T0)
    won: list[bool] = []
    barrier = threading.Barrier(len(stores))

    def claim(store: SQLiteArticleTarget) -> None:
        barrier.wait()
        won.append(store.claim_run(run))

    threads = [threading.Thread(target=claim, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False, False, False, True]
    for store in stores:
        store.close()


# -- both stores agree with the pure apply --------------------------------------------------------

IDS = ["a1", "a2", "a3", "a4"]


@st.composite
def sync_steps(draw: st.DrawFn) -> list[tuple[list[SourceArticle], SyncSettings]]:
    steps = []
    for _ in range(draw(st.integers(1, 4))):
        settings_ = SyncSettings(
            permission_filter=draw(st.sampled_from(["all_users", "registered_users", "both"])),
            status_rule=draw(st.sampled_from(["keep_published", "keep_draft"])),
            remove_orphans=draw(st.booleans()),
            enabled=draw(st.booleans()),
        ).with_association("c1", draw(st.sampled_from(["d1", "d2"])))
        articles = [
            SourceArticle(
                id=article_id,
                category_id=draw(st.sampled_from(["c1", "c2"])),
                title=draw(st.sampled_from(["T", "題名"])),
                body=draw(st.sampled_from(["B", "本文 🙂", ""])),
                permission=draw(st.sampled_from(["all_users", "registered_users"])),
            )
            for article_id in draw(st.lists(st.sampled_from(IDS), unique=True))
        ]
        steps.append((articles, settings_))
    return steps


@contextmanager
def _sqlite_target() -> Iterator[SQLiteArticleTarget]:
    # Hypothesis runs many examples in one test, so each gets a fresh directory of its own.
    with tempfile.TemporaryDirectory() as directory:
        target = SQLiteArticleTarget(Path(directory) / "kb.sqlite3")
        try:
            yield target
        finally:
            target.close()


@settings(max_examples=25)
@given(steps=sync_steps(), publish_every=st.sampled_from([1, 2, 3]))
def test_KB8_property_both_stores_agree_with_the_pure_apply(
    steps: list[tuple[list[SourceArticle], SyncSettings]], publish_every: int
) -> None:
    """P7, KB8: syncs applied through either store leave exactly the copies
    :func:`~deskcore.apply_plan` computes, with admins publishing some copies in between."""
    memory = InMemoryArticleTarget()
    with _sqlite_target() as sqlite_target:
        expected: tuple[SyncedArticle, ...] = ()
        for day, (articles, settings_) in enumerate(steps):
            now = T0 + timedelta(days=day)
            plan = plan_sync(articles, expected, settings_, now)
            assert plan == plan_sync(articles, memory.list_synced(), settings_, now)
            assert plan == plan_sync(articles, sqlite_target.list_synced(), settings_, now)
            expected = apply_plan(expected, plan)
            memory.apply(plan)
            sqlite_target.apply(plan)
            assert tuple(memory.list_synced()) == expected
            for index, copy in enumerate(expected):
                if index % publish_every == 0:
                    memory.publish(copy.target_id)
                    sqlite_target.publish(copy.target_id)
            expected = tuple(memory.list_synced())
            assert tuple(sqlite_target.list_synced()) == expected
