"""The ``deskcore`` command line: the demo plays the bundled stream (P3, L2, L4 end to end)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deskcore import TicketQuery, TicketStatus
from deskcore.adapters import SQLiteTicketRepository
from deskcore.cli import main


def test_demo_plays_the_sample_stream_and_explains_each_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """P3 duplicates and conflicts, L2 reopen and L4 first response, as the demo shows them."""
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    for expected in (
        "CREATE (new_conversation)",
        "DUPLICATE (redelivered)",
        "REVISE (edited)",
        "CONFLICT (digest_mismatch)",
        "APPEND (reopens_closed_ticket)",
        "closed → open (reopened_by_customer)",
        "ticket.first_response_recorded",
        "返品の方法を教えてください",
    ):
        assert expected in out
    with SQLiteTicketRepository(db) as store:
        tickets = store.search(TicketQuery(limit=100))
        assert len(tickets) == 5
        assert all(t.status is TicketStatus.OPEN for t in tickets)
        first = store.find_by_number(1)
        assert first is not None
        assert first.first_responded_at is not None
        assert not first.needs_action


def test_demo_replaces_the_file_on_each_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite3"
    main(["demo", "--db", str(db)])
    main(["demo", "--db", str(db)])
    capsys.readouterr()
    with SQLiteTicketRepository(db) as store:
        assert len(store.search(TicketQuery(limit=100))) == 5


def test_demo_reports_a_rejected_event_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """P5: a bad event in a stream is reported with its code; the rest is still processed."""
    good = {
        "reference": {"network": "email", "account": "a", "kind": "message", "native_id": "1"},
        "channel": "email",
        "contact": {"id": "c-1", "name": "Ann"},
        "body": "Hello",
        "sent_at": "2026-01-01T09:00:00+00:00",
    }
    bad = dict(good, reference=dict(good["reference"], native_id="2"), channel="email")
    bad["department_id"] = "  padded  "
    stream = tmp_path / "stream.jsonl"
    stream.write_text(
        "\n".join(
            json.dumps({"at": "2026-01-01T09:00:00+00:00", "note": n, "event": e})
            for n, e in (("bad", bad), ("good", good))
        )
        + "\n"
        + json.dumps(
            {
                "at": "2026-01-01T09:05:00+00:00",
                "note": "close a conversation nobody has",
                "close": {"network": "x", "account": "y", "kind": "z", "native_id": "0"},
            }
        ),
        encoding="utf-8",
    )
    assert main(["demo", "--db", str(tmp_path / "d.sqlite3"), "--stream", str(stream)]) == 0
    out = capsys.readouterr().out
    assert "rejected at the edge (P6): department_id" in out
    assert "CREATE (new_conversation) on ticket #1" in out
    assert "nothing claims x/y/z/0" in out
    assert "1 tickets" in out


def test_schema_prints_every_wire_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """P6: the wire models export JSON Schema from the command line."""
    assert main(["schema"]) == 0
    schemas = json.loads(capsys.readouterr().out)
    assert len(schemas) >= 2
    name = next(iter(schemas))
    assert main(["schema", name]) == 0
    assert list(json.loads(capsys.readouterr().out)) == [name]
    assert main(["schema", "no-such-schema"]) == 2


def test_the_command_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "deskcore.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "demo" in done.stdout
