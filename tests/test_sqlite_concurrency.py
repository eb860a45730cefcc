"""P3 under real concurrency: several OS processes racing on one SQLite file."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from deskcore import (
    Channel,
    Contact,
    Desk,
    DeskSettings,
    ExternalReference,
    InboundMessage,
    ReferenceClaimedError,
    TicketQuery,
)
from deskcore.adapters import SQLiteTicketRepository
from deskcore.testing import FixedClock, SequentialIds
from deskcore.testing.contracts import sample_ticket

WORKERS = 6
SENT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _message(native_id: str, conversation: str = "dm-1") -> InboundMessage:
    return InboundMessage(
        reference=ExternalReference(
            network="twitter", account="brand", kind="dm", native_id=native_id
        ),
        conversation=ExternalReference(
            network="twitter", account="brand", kind="conversation", native_id=conversation
        ),
        channel=Channel.TWITTER,
        contact=Contact(id="c-1", name="Sato"),
        body=f"message {native_id}: 注文がまだ届きません",
        sent_at=SENT,
    )


def _receive_all(path: str, worker: int, barrier: Any) -> list[str]:
    with SQLiteTicketRepository(path) as repo:
        desk = Desk(
            store=repo,
            settings=DeskSettings(default_department_id="support"),
            clock=FixedClock(SENT),
            ids=SequentialIds(prefix=f"w{worker}-"),
        )
        barrier.wait()
        return [desk.receive(_message(n)).action.value for n in ("1", "2", "1", "3", "2")]


def _add_claiming(path: str, worker: int, barrier: Any) -> str:
    with SQLiteTicketRepository(path) as repo:
        ticket = sample_ticket(f"t{worker}", 100 + worker, refs=("shared",))
        barrier.wait()
        try:
            repo.add(ticket)
        except ReferenceClaimedError:
            return "claimed"
        return "added"


def _run(target: Any, path: str, worker: int, barrier: Any, results: Any) -> None:
    results.put((worker, target(path, worker, barrier)))


def _race(target: Any, path: Path) -> list[Any]:
    """Run ``target`` in WORKERS fresh processes that start writing at the same moment."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    processes = [
        context.Process(target=_run, args=(target, str(path), worker, barrier, results))
        for worker in range(WORKERS)
    ]
    for process in processes:
        process.start()
    collected = dict(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return [collected[worker] for worker in range(WORKERS)]


@pytest.mark.slow
def test_P3_processes_receiving_the_same_messages_make_one_ticket(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    SQLiteTicketRepository(path).close()  # create the schema before the race
    outcomes = _race(_receive_all, path)
    with SQLiteTicketRepository(path) as repo:
        tickets = repo.search(TicketQuery(include_trashed=True, limit=1000))
        assert len(tickets) == 1
        refs = [m.external_ref.native_id for m in tickets[0].messages() if m.external_ref]
        assert sorted(refs) == ["1", "2", "3"]
    flat = [action for actions in outcomes for action in actions]
    assert flat.count("create") == 1
    assert flat.count("create") + flat.count("append") == 3
    assert flat.count("duplicate") == WORKERS * 5 - 3


@pytest.mark.slow
def test_P3_processes_claiming_one_reference_store_exactly_one_ticket(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    SQLiteTicketRepository(path).close()
    outcomes = _race(_add_claiming, path)
    assert sorted(outcomes) == ["added"] + ["claimed"] * (WORKERS - 1)
    with SQLiteTicketRepository(path) as repo:
        assert len(repo.search(TicketQuery(limit=1000))) == 1
