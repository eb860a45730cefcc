"""``deskcore replay`` and ``deskcore explain``: a stream of events through the desk into
SQLite, idempotently (P3), with malformed lines reported by number and nothing half-written
(P5, P6)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskcore import TicketQuery
from deskcore.adapters import InMemoryTicketRepository, SQLiteTicketRepository
from deskcore.cli import main
from deskcore.cli.replay import (
    MAX_LINE_BYTES,
    Decision,
    OnError,
    Replayer,
    read_lines,
)
from deskcore.errors import StorageError
from deskcore.ports import TicketStore
from deskcore.wire.replay import ReplaySettings, parse_replay_settings

SETTINGS: dict[str, Any] = {"desk": {"default_department_id": "support"}}
DAY = "2026-11-16"


def replay_settings() -> ReplaySettings:
    return parse_replay_settings(SETTINGS).to_settings()


def ref(kind: str, native_id: str, network: str = "email") -> dict[str, str]:
    return {"network": network, "account": "support", "kind": kind, "native_id": native_id}


def at(minute: int) -> str:
    return f"{DAY}T{9 + minute // 60:02d}:{minute % 60:02d}:00+09:00"


def message(
    minute: int,
    native_id: str,
    conversation: str,
    *,
    body: str = "注文した商品がまだ届きません",
    contact: str = "c-1",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "kind": "message",
        "at": at(minute),
        "message": {
            "reference": ref("message", native_id),
            "conversation": ref("thread", conversation),
            "channel": "email",
            "contact": {"id": contact, "name": "山田 花子"},
            "subject": f"Order {conversation}",
            "body": body,
            "sent_at": at(minute),
            **extra,
        },
    }


def status(minute: int, conversation: str, to: str = "closed") -> dict[str, Any]:
    return {
        "kind": "status",
        "at": at(minute),
        "conversation": ref("thread", conversation),
        "status": to,
    }


def jsonl(entries: Iterable[dict[str, Any] | str]) -> bytes:
    lines = [e if isinstance(e, str) else json.dumps(e, ensure_ascii=False) for e in entries]
    return ("\n".join(lines) + "\n").encode("utf-8")


STREAM = [
    message(0, "m1", "t1"),
    message(1, "m2", "t2", body="Where is my refund?", contact="c-2"),
    message(2, "m1", "t1"),  # a webhook delivered twice
    message(3, "m3", "t1", body="追加の質問です"),
    status(4, "t1"),
    message(5, "m4", "t2", body="Any news?", contact="c-2"),
    status(6, "t2", "on_hold"),
    message(7, "m5", "t1", body="まだ届いていません"),  # reopens t1 (L2)
    message(8, "m2", "t2", body="Where is my refund??", contact="c-2", is_edit=True),
]


def snapshot(store: TicketStore) -> list[tuple[Any, ...]]:
    """The tickets without their generated ids: what a replay must reproduce."""
    tickets = store.search(TicketQuery(limit=1000, include_trashed=True))
    return sorted(
        (
            t.number,
            t.subject,
            t.status.value,
            t.contact_id,
            tuple(sorted(str(r) for r in t.external_refs)),
            tuple(
                (type(item).__name__, getattr(item, "body", ""), item.created_at.isoformat())
                for item in t.thread
            ),
            tuple((r.at.isoformat(), r.to_status.value) for r in t.status_log),
        )
        for t in tickets
    )


def replay(
    store: TicketStore,
    data: bytes,
    *,
    batch_size: int = 200,
    on_error: OnError = OnError.SKIP,
    decisions: list[Decision] | None = None,
) -> Any:
    replayer = Replayer(
        store,
        replay_settings(),
        batch_size=batch_size,
        on_decision=None if decisions is None else decisions.append,
    )
    return replayer.run(read_lines(io.BytesIO(data)), on_error=on_error)


# -- idempotency (P3) ----------------------------------------------------------------------------


def test_P3_replaying_a_stream_twice_gives_the_same_tickets_as_once(tmp_path: Path) -> None:
    with SQLiteTicketRepository(tmp_path / "desk.sqlite3") as store:
        first = replay(store, jsonl(STREAM))
        once = snapshot(store)
        second = replay(store, jsonl(STREAM))
        assert snapshot(store) == once
    assert first.changed == 8
    assert not first.problems
    assert second.changed == 0
    assert not second.problems
    assert second.outcomes[("message", "duplicate")] == 7
    # Both status changes are in their tickets' status logs: applied already. t1 was
    # reopened after being closed, and stays open.
    assert second.outcomes[("status", "unchanged")] == 2
    assert [s[2] for s in once] == ["open", "on_hold"]


def test_P3_the_batch_size_does_not_change_the_outcome(tmp_path: Path) -> None:
    results = []
    for size in (1, 2, 3, 200):
        with SQLiteTicketRepository(tmp_path / f"desk-{size}.sqlite3") as store:
            replay(store, jsonl(STREAM), batch_size=size)
            results.append(snapshot(store))
    assert all(result == results[0] for result in results)


def test_P3_a_store_without_batches_replays_one_unit_of_work_an_entry() -> None:
    store = InMemoryTicketRepository()
    summary = replay(store, jsonl(STREAM), batch_size=3)
    assert summary.changed == 8
    with SQLiteTicketRepository(":memory:") as sqlite:
        replay(sqlite, jsonl(STREAM))
        assert snapshot(store) == snapshot(sqlite)


ENTRIES = st.lists(
    st.one_of(
        st.builds(
            lambda minute, n, c, body: message(minute, f"m{n}", f"t{c}", body=body),
            st.integers(0, 600),
            st.integers(1, 8),
            st.integers(1, 3),
            st.sampled_from(["届きません", "refund please", "返品したい"]),
        ),
        st.builds(
            lambda minute, c, to: status(minute, f"t{c}", to),
            st.integers(0, 600),
            st.integers(1, 3),
            st.sampled_from(["closed", "on_hold", "open", "escalated"]),
        ),
    ),
    max_size=25,
).map(lambda entries: sorted(entries, key=lambda e: e["at"]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=ENTRIES, size=st.integers(1, 6))
def test_P3_any_stream_replayed_again_changes_nothing_whatever_the_batches(
    entries: list[dict[str, Any]], size: int
) -> None:
    data = jsonl(entries)
    with SQLiteTicketRepository(":memory:") as one, SQLiteTicketRepository(":memory:") as other:
        replay(one, data, batch_size=1)
        replay(other, data, batch_size=size)
        once = snapshot(one)
        assert snapshot(other) == once
        again = replay(other, data, batch_size=size)
        assert again.changed == 0
        assert snapshot(other) == once
    numbers = [s[0] for s in once]
    assert numbers == list(range(1, len(numbers) + 1))
    conversations = [ref for s in once for ref in s[4] if "/thread/" in ref]
    assert len(conversations) == len(set(conversations))  # one ticket a conversation


def _replay_process(events: Path, db: Path, settings_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deskcore.cli",
            "replay",
            str(events),
            "--db",
            str(db),
            "--settings",
            str(settings_path),
            "--batch-size",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUTF8": "1"},
    )


def test_P3_two_replays_at_once_on_one_file_make_no_duplicate_ticket(tmp_path: Path) -> None:
    entries = [
        message(minute, f"m{minute}", f"t{minute % 40}", body=f"質問 {minute}")
        for minute in range(400)
    ]
    events = tmp_path / "events.jsonl"
    events.write_bytes(jsonl(entries))
    settings_path = tmp_path / "settings.json"
    settings_path.write_text(json.dumps(SETTINGS))
    db = tmp_path / "shared.sqlite3"
    processes = [_replay_process(events, db, settings_path) for _ in range(2)]
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    with SQLiteTicketRepository(db) as store:
        shared = snapshot(store)
    with SQLiteTicketRepository(tmp_path / "alone.sqlite3") as store:
        replay(store, jsonl(entries))
        alone = snapshot(store)
    assert len(shared) == 40
    assert sorted(s[1:] for s in shared) == sorted(s[1:] for s in alone)


def test_P3_the_sample_set_replayed_twice_gives_the_same_tickets_as_once(tmp_path: Path) -> None:
    """Acceptance: messages, social items, chats and status changes, English and Japanese."""
    from deskcore.cli.sample import sample_events, sample_settings

    data = jsonl(sample_events(3000))
    settings = parse_replay_settings(sample_settings()).to_settings()
    with SQLiteTicketRepository(tmp_path / "sample.sqlite3") as store:
        first = Replayer(store, settings).run(read_lines(io.BytesIO(data)))
        once = snapshot(store)
        second = Replayer(store, settings).run(read_lines(io.BytesIO(data)))
        assert snapshot(store) == once
    assert not first.problems
    assert not second.problems
    assert second.changed == 0
    assert {kind for kind, _ in first.outcomes} == {"message", "social_item", "chat", "status"}
    assert len(once) > 500


def test_P3_two_replays_of_the_sample_at_once_make_no_duplicate_ticket(tmp_path: Path) -> None:
    from deskcore.cli.sample import write_sample

    events, settings_path = write_sample(tmp_path / "sample", count=1500)
    db = tmp_path / "shared.sqlite3"
    processes = [_replay_process(events, db, settings_path) for _ in range(2)]
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    with SQLiteTicketRepository(db) as store:
        shared = snapshot(store)
    settings = parse_replay_settings(settings_path.read_bytes()).to_settings()
    with SQLiteTicketRepository(tmp_path / "alone.sqlite3") as store:
        Replayer(store, settings).run(read_lines(io.BytesIO(events.read_bytes())))
        alone = snapshot(store)
    claimed = [ref for s in shared for ref in s[4]]
    assert len(claimed) == len(set(claimed))  # no reference on two tickets
    assert sorted(s[1:] for s in shared) == sorted(s[1:] for s in alone)


# -- malformed lines (P6) ------------------------------------------------------------------------

TRUNCATED = json.dumps(message(10, "m9", "t9"))[:60]
WRONG_TYPES = json.dumps({**message(11, "m10", "t10"), "at": 1700000000})
UNKNOWN_KIND = json.dumps({"kind": "refund", "at": at(12)})
NO_KIND = json.dumps({"at": at(12), "message": {}})
HUGE = json.dumps(message(13, "m11", "t11", body="x" * 10_000_000))  # a 10 MB line


def bad_stream() -> list[dict[str, Any] | str]:
    return [
        message(0, "m1", "t1"),
        TRUNCATED,  # line 2
        message(1, "m2", "t2"),
        WRONG_TYPES,  # line 4
        UNKNOWN_KIND,  # line 5
        HUGE,  # line 6
        "",  # line 7: blank, fine
        "[1, 2]",  # line 8
        NO_KIND,  # line 9
        message(2, "m3", "t1"),
    ]


def test_P6_malformed_lines_are_skipped_with_their_numbers(tmp_path: Path) -> None:
    with SQLiteTicketRepository(tmp_path / "desk.sqlite3") as store:
        summary = replay(store, jsonl(bad_stream()))
        assert [(p.line, p.code) for p in summary.problems] == [
            (2, "malformed"),
            (4, "malformed"),
            (5, "malformed"),
            (6, "malformed"),
            (8, "malformed"),
            (9, "malformed"),
        ]
        messages = [p.message for p in summary.problems]
        assert "Invalid JSON" in messages[0]
        assert messages[1].startswith("message.at:")
        assert "'refund'" in messages[2]
        assert "'message'" in messages[2]
        assert f"longer than the limit of {MAX_LINE_BYTES:,}" in messages[3]
        assert "kind" in messages[5]
        assert summary.applied == 3
        assert summary.lines == 10
        # Consistent: exactly what the good lines alone make.
        good = [e for e in bad_stream() if isinstance(e, dict)]
        with SQLiteTicketRepository(":memory:") as clean:
            replay(clean, jsonl(good))
            assert snapshot(store) == snapshot(clean)


def test_P6_on_error_stop_keeps_the_lines_before_the_first_problem(tmp_path: Path) -> None:
    with SQLiteTicketRepository(tmp_path / "desk.sqlite3") as store:
        summary = replay(store, jsonl(bad_stream()), on_error=OnError.STOP, batch_size=5)
        assert summary.stopped
        assert [p.line for p in summary.problems] == [2]
        assert summary.applied == 1
        tickets = store.search(TicketQuery(limit=10))
        assert [t.number for t in tickets] == [1]


def test_P5_a_refused_entry_writes_nothing_and_the_batch_goes_on(tmp_path: Path) -> None:
    # Valid JSON the desk refuses: a chat with no chat settings, a social item with none.
    chat = {
        "kind": "chat",
        "at": at(3),
        "event": "ended",
        "chat": {
            "reference": ref("chat_session", "cs-1", "chat"),
            "department_id": "sales",
            "started_at": at(1),
            "ended_at": at(3),
        },
    }
    with SQLiteTicketRepository(tmp_path / "desk.sqlite3") as store:
        summary = replay(store, jsonl([message(0, "m1", "t1"), chat, message(5, "m2", "t2")]))
        assert [(p.line, p.code) for p in summary.problems] == [(2, "refused")]
        assert "needs the settings' 'chat' section" in summary.problems[0].message
        assert summary.applied == 2
        assert len(store.search(TicketQuery(limit=10))) == 2


def test_P5_a_storage_failure_rolls_the_batch_back_and_a_replay_finishes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = jsonl(STREAM)
    with SQLiteTicketRepository(tmp_path / "desk.sqlite3") as store:
        replayer = Replayer(store, replay_settings(), batch_size=3)
        receive = replayer.desk.receive
        calls = 0

        def failing(message: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 5:  # the second message of the second batch
                raise StorageError("disk I/O error", action="commit")
            return receive(message)

        monkeypatch.setattr(replayer.desk, "receive", failing)
        with pytest.raises(StorageError):
            replayer.run(read_lines(io.BytesIO(data)))
        # The first batch (3 entries) is committed, the second rolled back entirely.
        assert [len(t.thread) for t in store.search(TicketQuery(limit=10))] == [1, 1]
        replay(store, data)
        with SQLiteTicketRepository(":memory:") as clean:
            replay(clean, data)
            assert snapshot(store) == snapshot(clean)


def test_P6_read_lines_numbers_lines_and_strips_line_ends() -> None:
    data = b'{"a": 1}\r\n\n{"b": 2}'
    assert list(read_lines(io.BytesIO(data))) == [(1, b'{"a": 1}'), (2, b""), (3, b'{"b": 2}')]
    long = b"x" * 50 + b"\nnext\n"
    (first, marker), second = list(read_lines(io.BytesIO(long), max_bytes=10))
    assert first == 1
    assert getattr(marker, "size", None) == 51
    assert second == (2, b"next")


@pytest.mark.parametrize(
    "line",
    [b"\xff\xfe\x00", b"{" * 100_000, b'{"kind": "message", "at": NaN}', b"null", b"42"],
    ids=["not-utf8", "deep", "nan", "null", "number"],
)
def test_P6_hostile_lines_are_malformed_not_crashes(line: bytes) -> None:
    summary = replay(InMemoryTicketRepository(), line + b"\n" + jsonl([message(0, "m1", "t1")]))
    assert [(p.line, p.code) for p in summary.problems] == [(1, "malformed")]
    assert summary.applied == 1


def test_P6_replayer_refuses_a_batch_size_below_one() -> None:
    for size in (0, -1, True):
        with pytest.raises(ValueError, match="batch_size"):
            Replayer(InMemoryTicketRepository(), replay_settings(), batch_size=size)


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    events = tmp_path / "events.jsonl"
    events.write_bytes(jsonl(bad_stream()))
    settings_path = tmp_path / "settings.json"
    settings_path.write_text(json.dumps(SETTINGS))
    return events, settings_path, tmp_path / "desk.sqlite3"


def test_replay_command_explains_and_summarises(
    files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    events, settings_path, db = files
    args = ["replay", str(events), "--db", str(db), "--settings", str(settings_path)]
    assert main([*args, "--explain"]) == 1  # lines were skipped
    out = capsys.readouterr().out
    assert "line 1: message -> create (new_conversation) ticket #1" in out
    assert "line 10: message -> append (conversation_has_ticket) ticket #1" in out
    assert "3 entries applied" in out
    assert "! line 2: malformed: " in out
    assert "! line 9: malformed: " in out
    assert main([*args, "--on-error", "stop"]) == 1
    out = capsys.readouterr().out
    assert "(stopped at the first)" in out
    assert "! line 9" not in out


def test_replay_command_shows_progress_on_request(
    files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    events, settings_path, db = files
    events.write_bytes(jsonl(STREAM))
    args = ["replay", str(events), "--db", str(db), "--settings", str(settings_path)]
    assert main([*args, "--progress", "--batch-size", "1"]) == 0
    err = capsys.readouterr().err
    assert "\rreplay: [" in err
    assert "100%" in err
    assert err.endswith("\n")
    assert main([*args, "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_replay_command_reads_standard_input(
    files: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, settings_path, db = files
    stdin = io.TextIOWrapper(io.BytesIO(jsonl(STREAM)), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    args = ["replay", "-", "--db", str(db), "--settings", str(settings_path), "--progress"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "9 entries applied (8 changed something)" in captured.out
    assert "\rreplay: 9 lines" in captured.err  # no size to show a share of


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"settings": "missing.json"}, "cannot read the settings"),
        ({"settings_text": "{"}, "the settings"),
        ({"settings_text": '{"desk": {}}'}, "desk.default_department_id: Field required"),
        ({"events": "missing.jsonl"}, "cannot read the events"),
        ({"batch": "0"}, "--batch-size 0"),
    ],
)
def test_replay_command_refuses_to_start_with_bad_files(
    files: tuple[Path, Path, Path],
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    message: str,
) -> None:
    events, settings_path, db = files
    if "settings_text" in change:
        settings_path.write_text(change["settings_text"])
    args = [
        "replay",
        change.get("events", str(events)),
        "--db",
        str(db),
        "--settings",
        change.get("settings", str(settings_path)),
        "--batch-size",
        change.get("batch", "10"),
    ]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_explain_command_says_what_would_happen_without_writing(
    files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    events, settings_path, db = files
    common = ["--db", str(db), "--settings", str(settings_path)]
    assert main(["explain", str(events), "--line", "1", *common]) == 0
    out = capsys.readouterr().out
    assert "line 1: message -> create (new_conversation)" in out
    assert f"there is no database {db}: explained against an empty one" in out
    assert not db.exists()  # explained on a copy of nothing
    assert main(["replay", str(events), *common]) == 1
    capsys.readouterr()
    with SQLiteTicketRepository(db) as store:
        before = snapshot(store)
    assert main(["explain", str(events), "--line", "1", *common]) == 0
    assert "duplicate (redelivered) ticket #1" in capsys.readouterr().out
    assert main(["explain", str(events), "--line", "2", *common]) == 1
    assert "! line 2: malformed" in capsys.readouterr().out
    assert main(["explain", str(events), "--line", "99", *common]) == 2
    assert "has no line 99" in capsys.readouterr().err
    assert main(["explain", str(events), "--line", "0", *common]) == 2
    with SQLiteTicketRepository(db) as store:
        assert snapshot(store) == before


def test_P6_schema_command_writes_every_schema_to_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", "--out", str(tmp_path / "schemas")]) == 0
    written = sorted(p.name for p in (tmp_path / "schemas").iterdir())
    assert "replay_entry.schema.json" in written
    assert "replay_settings.schema.json" in written
    schema = json.loads((tmp_path / "schemas" / "replay_entry.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for entry in STREAM:
        validator.validate(entry)
    assert not validator.is_valid({"kind": "refund", "at": at(1)})
    assert "wrote" in capsys.readouterr().out


def test_P3_the_demo_replays_the_sample_twice_and_the_second_pass_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from deskcore.cli._replay_demo import play_replay

    play_replay(sys.stdout, count=300)
    out = capsys.readouterr().out
    assert "── Replaying the sample data set" in out
    assert "  line 1: " in out
    first, second = out.split("The first replay:")[1].split("The same file replayed again")
    assert "300 entries applied" in first
    assert ", 0 not applied" in first
    assert "300 entries applied (0 changed something), 0 not applied" in second


# -- the wire models of a replay (P6) ------------------------------------------------------------


def test_P6_a_status_entry_names_its_ticket_exactly_once() -> None:
    from pydantic import ValidationError

    from deskcore.wire import parse_replay_entry

    base = {"kind": "status", "at": at(1), "status": "closed"}
    for extra in ({}, {"conversation": ref("thread", "t1"), "ticket_number": 1}):
        with pytest.raises(ValidationError, match="exactly one of conversation and ticket_number"):
            parse_replay_entry({**base, **extra})
    for bad in ({"status": "solved"}, {"ticket_number": 0}, {"reason": "Agent!"}):
        with pytest.raises(ValidationError):
            parse_replay_entry({**base, "ticket_number": 1, **bad})


def test_L1_a_status_entry_may_name_the_ticket_by_number() -> None:
    store = InMemoryTicketRepository()
    by_number = {"kind": "status", "at": at(5), "ticket_number": 1, "status": "on_hold"}
    missing = {"kind": "status", "at": at(6), "ticket_number": 9, "status": "closed"}
    decisions: list[Decision] = []
    replay(store, jsonl([message(0, "m1", "t1"), by_number, missing]), decisions=decisions)
    assert [(d.action, d.reason, d.ticket_number) for d in decisions[1:]] == [
        ("changed", "agent", 1),
        ("unchanged", "no_ticket", None),
    ]
    assert "no ticket claims ticket #9" in decisions[2].explanation


def test_C1_C7_chat_entries_convert_once_and_a_contradictory_chat_is_refused() -> None:
    settings = {
        **SETTINGS,
        "chat": {
            "owner_id": "admin-1",
            "departments": [
                {"chat_department_id": "cd-support", "helpdesk_department_id": "support"}
            ],
        },
    }
    line = {
        **message(1, "cs-1/1", "cs-1", body="こんにちは"),
    }["message"]
    chat = {
        "reference": ref("chat_session", "cs-1", "chat"),
        "visitor_name": "花子",
        "visitor_email": "hanako@example.jp",
        "department_id": "cd-support",
        "started_at": at(0),
        "answered_by": "agent-1",
        "answered_at": at(1),
        "ended_at": at(3),
        "transcript": [line],
    }
    ended = {"kind": "chat", "at": at(3), "event": "ended", "chat": chat}
    contradictory = {**ended, "chat": {**chat, "missed": True}}
    store = InMemoryTicketRepository()
    replayer = Replayer(store, parse_replay_settings(settings).to_settings())
    summary = replayer.run(read_lines(io.BytesIO(jsonl([ended, ended, contradictory]))))
    assert summary.outcomes["chat", "convert"] == 1
    assert summary.outcomes["chat", "already_converted"] == 1
    assert [(p.line, p.code) for p in summary.problems] == [(3, "refused")]
    assert "an answered chat is not missed" in summary.problems[0].message
    assert len(store.search(TicketQuery(limit=10))) == 1


def test_S4_a_social_item_without_social_settings_is_refused() -> None:
    item = {
        "kind": "social_item",
        "at": at(1),
        "item": {
            "reference": ref("tweet", "1", "twitter"),
            "kind": "mention",
            "author": {"network": "twitter", "id": "u1", "handle": "@hanako"},
            "text": "返品したいです",
            "created_at": at(1),
        },
    }
    summary = replay(InMemoryTicketRepository(), jsonl([item]))
    assert [(p.line, p.code) for p in summary.problems] == [(1, "refused")]
    assert "'social' section" in summary.problems[0].message


def test_P1_the_replay_clock_is_the_entry_being_applied() -> None:
    from deskcore.errors import NaiveDatetimeError

    replayer = Replayer(InMemoryTicketRepository(), replay_settings())
    with pytest.raises(NaiveDatetimeError, match="no entry is being applied"):
        replayer.desk.clock.now()


def test_the_summary_lists_at_most_twenty_problems() -> None:
    summary = replay(InMemoryTicketRepository(), b"{\n" * 25)
    report = summary.report()
    assert sum(line.startswith("  ! line") for line in report) == 20
    assert report[-1] == "  ! and 5 more"
    assert "25 not applied" in report[0]


def test_replay_command_refuses_settings_the_domain_refuses(
    files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    events, settings_path, db = files
    links = [
        {"chat_department_id": "x", "helpdesk_department_id": "support"},
        {"chat_department_id": "x", "helpdesk_department_id": "sales"},
    ]
    settings_path.write_text(
        json.dumps({**SETTINGS, "chat": {"owner_id": "a", "departments": links}})
    )
    assert main(["replay", str(events), "--db", str(db), "--settings", str(settings_path)]) == 2
    assert "chat department 'x' is linked twice" in capsys.readouterr().err
    assert not db.exists()


def test_replay_and_explain_report_a_database_they_cannot_use(
    files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    events, settings_path, _ = files
    folder = events.parent / "a-folder"
    folder.mkdir()
    common = ["--db", str(folder), "--settings", str(settings_path)]
    assert main(["replay", str(events), *common]) == 2
    assert f"deskcore replay: cannot use the database {folder}: " in capsys.readouterr().err
    garbage = events.parent / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    common = ["--db", str(garbage), "--settings", str(settings_path)]
    assert main(["explain", str(events), *common]) == 2
    assert "cannot read the database" in capsys.readouterr().err


def test_sample_command_writes_the_data_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sample", "--out", str(tmp_path / "s"), "--count", "40", "--seed", "7"]) == 0
    assert "(40 events)" in capsys.readouterr().out
    lines = (tmp_path / "s" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40
    settings_path = tmp_path / "s" / "settings.json"
    args = ["replay", str(tmp_path / "s" / "events.jsonl"), "--db", str(tmp_path / "d.db")]
    assert main([*args, "--settings", str(settings_path)]) == 0
    assert "40 entries applied" in capsys.readouterr().out


def test_P6_schema_command_prints_or_writes_one_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", "replay_settings"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == ["replay_settings"]
    assert main(["schema", "replay_settings", "--out", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["replay_settings.schema.json"]
    assert main(["schema", "nope"]) == 2
    assert "unknown schema 'nope'" in capsys.readouterr().err


def test_P3_status_changes_apply_only_to_tickets_whose_activity_is_older() -> None:
    """Decision 58: the reasons a status entry is not applied, each from the entry's time."""
    entries = [
        status(0, "t1"),  # no ticket yet
        message(1, "m1", "t1"),
        status(1, "t1"),  # the same instant as the message: which came first is unknown
        status(2, "t1"),  # applied
        status(2, "t1", "open"),  # the same instant as the close: overtaken
        message(3, "m2", "t1", sent_at=at(0)),  # sent before the close, received after
        status(4, "t1", "on_hold"),
    ]
    decisions: list[Decision] = []
    replay(InMemoryTicketRepository(), jsonl(entries), decisions=decisions)
    assert [(d.action, d.reason) for d in decisions if d.kind == "status"] == [
        ("unchanged", "no_ticket"),
        ("overtaken", "before_ticket"),
        ("changed", "agent"),
        ("overtaken", "ticket_changed_since"),
        ("changed", "agent"),
    ]
    again: list[Decision] = []
    store = InMemoryTicketRepository()
    replay(store, jsonl(entries))
    replay(store, jsonl(entries), decisions=again)
    assert [(d.action, d.reason) for d in again if d.kind == "status"] == [
        ("overtaken", "before_ticket"),
        ("overtaken", "before_ticket"),
        ("unchanged", "already_applied"),
        ("overtaken", "ticket_changed_since"),
        ("unchanged", "already_applied"),
    ]
    assert "there was no ticket to change" in again[0].explanation


def test_P6_a_batch_reads_its_lines_before_it_takes_the_write_lock(tmp_path: Path) -> None:
    """A slow source (standard input) never holds the database while it waits: when the
    next batch's first line is read, the batch before it is committed already."""
    path = tmp_path / "desk.sqlite3"
    seen_by_others: list[int] = []

    def lines() -> Iterator[tuple[int, bytes]]:
        for number, entry in enumerate(STREAM, start=1):
            if number in (4, 7):
                with SQLiteTicketRepository(path, timeout=0.1) as other:  # no wait needed
                    seen_by_others.append(other.count(TicketQuery()))
            yield number, json.dumps(entry, ensure_ascii=False).encode("utf-8")

    with SQLiteTicketRepository(path) as store:
        Replayer(store, replay_settings(), batch_size=3).run(lines())
    assert seen_by_others == [2, 2]  # lines 1-3 and 4-6 made two tickets


def test_P6_a_batch_takes_fewer_lines_once_they_hold_the_byte_cap() -> None:
    from deskcore.cli.replay import _take

    source = iter([(n, b"x" * 40) for n in range(1, 11)])
    assert [n for n, _ in _take(source, 100, 100)] == [1, 2, 3]
    assert [n for n, _ in _take(source, 2, 100)] == [4, 5]


def test_P6_read_lines_drops_a_byte_order_mark_and_counts_the_limit_without_line_ends() -> None:
    data = b"\xef\xbb\xbf" + b'{"a": 1}\r\n' + b"12345\r\n" + b"123456\n"
    lines = list(read_lines(io.BytesIO(data), max_bytes=8))
    assert lines[0] == (1, b'{"a": 1}')
    lines = list(read_lines(io.BytesIO(b"12345\r\n123456\n"), max_bytes=5))
    assert lines[0] == (1, b"12345")
    assert getattr(lines[1][1], "size", None) == 7


def test_P6_a_file_saved_with_a_byte_order_mark_replays(files: tuple[Path, Path, Path]) -> None:
    events, settings_path, db = files
    events.write_bytes(b"\xef\xbb\xbf" + jsonl(STREAM))
    settings_path.write_bytes(b"\xef\xbb\xbf" + json.dumps(SETTINGS).encode())
    assert main(["replay", str(events), "--db", str(db), "--settings", str(settings_path)]) == 0


@pytest.mark.parametrize(
    ("failure", "status", "said"),
    [
        (KeyboardInterrupt(), 130, "deskcore replay: interrupted"),
        (StorageError("disk I/O error", action="commit"), 2, "[storage_error]"),
    ],
    ids=["interrupted", "storage"],
)
def test_P5_a_replay_cut_short_says_what_is_committed(
    files: tuple[Path, Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    failure: BaseException,
    status: int,
    said: str,
) -> None:
    events, settings_path, db = files
    events.write_bytes(jsonl(STREAM))
    apply = Replayer.apply

    def failing(self: Replayer, line: int, entry: Any) -> Decision:
        if line == 5:
            raise failure
        return apply(self, line, entry)

    monkeypatch.setattr(Replayer, "apply", failing)
    args = ["replay", str(events), "--db", str(db), "--settings", str(settings_path)]
    assert main([*args, "--batch-size", "2"]) == status
    err = capsys.readouterr().err
    assert said in err
    assert "lines 1-4 are committed; the batch in progress was rolled back" in err
    with SQLiteTicketRepository(db) as store:
        assert len(store.search(TicketQuery(limit=10))) == 2  # lines 1 and 2 made them
    assert main([*args, "--batch-size", "1"]) == status  # line 5 fails first: nothing new
    assert "lines 1-4 are committed" in capsys.readouterr().err
    monkeypatch.setattr(Replayer, "apply", apply)
    assert main(args) == 0


def test_a_reader_that_goes_away_ends_the_command_quietly(
    files: tuple[Path, Path, Path],
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import deskcore.cli._commands as commands

    def broken(*args: Any, **kwargs: Any) -> int:
        raise BrokenPipeError

    monkeypatch.setattr(commands, "run_replay", broken)
    events, settings_path, db = files
    assert main(["replay", str(events), "--db", str(db), "--settings", str(settings_path)]) == 141


def test_explain_refuses_a_blank_line(
    files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    events, settings_path, db = files
    common = ["--db", str(db), "--settings", str(settings_path)]
    assert main(["explain", str(events), "--line", "7", *common]) == 2
    assert "line 7 of" in capsys.readouterr().err


def test_replay_command_refuses_a_batch_size_over_the_cap(
    files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    events, settings_path, db = files
    args = ["replay", str(events), "--db", str(db), "--settings", str(settings_path)]
    assert main([*args, "--batch-size", "10001"]) == 2
    assert "--batch-size 10001: use 1 to 10,000" in capsys.readouterr().err
    with pytest.raises(ValueError, match="use 1 to 10,000"):
        Replayer(InMemoryTicketRepository(), replay_settings(), batch_size=10_001)
