"""``SQLiteTicketRepository.batch()``: units of work as savepoints of one transaction (P3, P5).

Every unit stays all-or-nothing inside a batch; the batch commits its units together, or,
when its block raises, none of them.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from deskcore import ReferenceClaimedError, StorageError, TicketQuery
from deskcore.adapters import SQLiteTicketRepository
from deskcore.testing.contracts import sample_ticket


def numbers(store: SQLiteTicketRepository) -> list[int]:
    return sorted(t.number for t in store.search(TicketQuery(limit=100)))


def test_P3_units_in_a_batch_become_visible_to_others_when_the_batch_commits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "desk.sqlite3"
    with SQLiteTicketRepository(path) as store, SQLiteTicketRepository(path) as other:
        with store.batch():
            for n in (1, 2):
                with store.unit_of_work() as uow:
                    uow.tickets.add(sample_ticket(f"t{n}", n))
                    uow.commit()
            assert numbers(store) == [1, 2]  # the batch reads its own writes
            assert store.get("t1").number == 1
        assert numbers(other) == [1, 2]


def test_P5_a_unit_rolled_back_in_a_batch_undoes_only_itself(tmp_path: Path) -> None:
    with SQLiteTicketRepository(tmp_path / "desk.sqlite3") as store:
        with store.batch():
            with store.unit_of_work() as uow:
                uow.tickets.add(sample_ticket("t1", 1, refs=("ref-1",)))
                uow.commit()
            with store.unit_of_work() as uow:
                stored = uow.tickets.get("t1")
                uow.tickets.save(attrs.evolve(stored, subject="changed, then rolled back"))
                uow.tickets.add(sample_ticket("t2", 2))
            # Left without commit: rolled back, in the database and in what the batch knows.
            assert store.get("t1").subject == "Order arrived broken"
            with store.unit_of_work() as uow:
                with pytest.raises(ReferenceClaimedError):
                    uow.tickets.add(sample_ticket("t3", 3, refs=("ref-1",)))
                uow.tickets.add(sample_ticket("t4", 4))
                uow.commit()
        assert numbers(store) == [1, 4]
        assert store.get("t1").version == 1


def test_P5_a_batch_whose_block_raises_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    with SQLiteTicketRepository(path) as store:
        with store.unit_of_work() as uow:
            uow.tickets.add(sample_ticket("t0", 1))
            uow.commit()

        def fail_mid_batch() -> None:
            with store.batch():
                with store.unit_of_work() as uow:
                    uow.tickets.add(sample_ticket("t1", 2))
                    uow.commit()
                raise KeyError("the host failed mid-batch")

        with pytest.raises(KeyError):
            fail_mid_batch()
        assert numbers(store) == [1]
        assert store.find_by_number(2) is None
        with store.unit_of_work() as uow:  # usable afterwards
            uow.tickets.add(sample_ticket("t1", 2))
            uow.commit()
    with SQLiteTicketRepository(path) as store:
        assert numbers(store) == [1, 2]


def test_P5_batches_do_not_nest(tmp_path: Path) -> None:
    with SQLiteTicketRepository(tmp_path / "desk.sqlite3") as store:
        with (
            store.batch(),
            pytest.raises(RuntimeError, match="a batch is open"),
            store.batch(),
        ):
            pass  # pragma: no cover - never entered
        with store.batch():  # the first batch ended cleanly
            pass


def test_P5_a_batch_waits_for_the_write_lock_then_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    with (
        SQLiteTicketRepository(path) as holder,
        SQLiteTicketRepository(path, timeout=0.05) as waiter,
    ):
        with holder.unit_of_work() as uow:
            uow.tickets.add(sample_ticket("t1", 1))
            with pytest.raises(StorageError), waiter.batch():
                pass  # pragma: no cover - the lock is never taken
            uow.commit()
        with waiter.batch(), waiter.unit_of_work() as uow:
            uow.tickets.add(sample_ticket("t2", 2))
            uow.commit()
        assert numbers(holder) == [1, 2]


def test_P5_units_in_a_batch_end_innermost_first(tmp_path: Path) -> None:
    """An outer unit ended before an inner one would drop the inner savepoint with it, and
    the inner unit's writes could no longer be rolled back: refused."""
    with SQLiteTicketRepository(tmp_path / "desk.sqlite3") as store, store.batch():
        outer = store.unit_of_work()
        outer.__enter__()
        inner = store.unit_of_work()
        inner.__enter__()
        inner.tickets.add(sample_ticket("t1", 1))
        with pytest.raises(RuntimeError, match="innermost first"):
            outer.__exit__(None, None, None)
        inner.__exit__(None, None, None)  # rolls the inner unit back
        assert numbers(store) == []
