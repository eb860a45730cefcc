"""The ``deskcore`` command line: the demo plays the bundled stream (P3, L2, L4 and the merge
rules M1-M15 end to end)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from deskcore import ExternalReference, TicketQuery, TicketStatus
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
        assert len(tickets) == 6
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
        assert len(store.search(TicketQuery(limit=100))) == 6
        assert len(store.search(TicketQuery(limit=100, include_trashed=True))) == 8
        assert len(store.journal("ticket-6")) == 1


def test_demo_reports_a_rejected_event_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """P5: a bad event in a stream is reported with its code; the rest is still processed."""
    good: dict[str, Any] = {
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
    assert "1 tickets in the queue, 0 in the trash" in out


SYNC_SUBJECTS = {
    "email": "メールの同期についての不具合",
    "chat": "メールのアカウントに関する問題",
    "web": "新しいデバイスでメールを同期できない",
}


def _section(out: str, start: str, end: str) -> list[str]:
    """The stripped lines of ``out`` from the line starting with ``start`` to the one before
    the line starting with ``end`` (leading blanks ignored: steps are numbered `` 4.``)."""
    lines = [line.strip() for line in out.splitlines()]
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    last = next(i for i, line in enumerate(lines) if i > first and line.startswith(end))
    return lines[first:last]


def test_M8_M12_M15_demo_merges_one_customers_mail_chat_and_help_center_tickets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The spec's example: three tickets of one customer from mail, chat and the help center
    are planned (conflict report, moves), merged, and journaled; the help center's subject and
    account are taken, the other values are listed as discarded (M4, M6-M8, M10, M12, M15)."""
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    merge = _section(out, "18.", "19.")
    assert (
        merge[1]
        == "plan_merge by Yui (with search_and_merge): #6, #7, #8 → primary #6 (created first, M4)"
    )
    report = [line.split() for line in merge]
    # The conflict report: every ticket's value, the one taken and the ones discarded (M8).
    assert ["take", "#8", "web", f"“{SYNC_SUBJECTS['web']}”"] in report
    assert ["discard", "#6", "email", f"“{SYNC_SUBJECTS['email']}”"] in report
    assert ["discard", "#7", "chat", f"“{SYNC_SUBJECTS['chat']}”"] in report
    assert ["take", "#8", "web", "“acct-sasaki-design”"] in report
    assert ["discard", "#6", "email", "(empty)"] in report
    assert "exposure (M5): none, one contact on every ticket" in merge
    # The item moves (M7), the merge and its events (M6, P4).
    assert any(line.startswith("[1] item-11 from #7: message") for line in merge)
    assert any(line.startswith("[3] item-13 from #8: message") for line in merge)
    assert any(line.startswith("→ MERGED #7, #8 into ticket #6") for line in merge)
    assert "event: ticket.trashed: #7 (merged into #6)" in merge
    assert "event: ticket.merged: #7, #8 into #6 (journal merge-1)" in merge
    # The journal as the store returns it (M15): who, when, what moved, values taken and dropped.
    journal = merge[merge.index("journal: store.journal('ticket-6') (M15)") :]
    assert journal[1:] == [
        "merge-1: #7, #8 into #6, by agent-yui at 2026-11-20T14:10:00+09:00",
        "moved: item-11 #7→#6[1], item-12 #7→#6[2], item-13 #8→#6[3]",
        "account_id: took “acct-sasaki-design” from #8",
        "discarded (empty) from #6",
        f"subject: took “{SYNC_SUBJECTS['web']}” from #8",
        f"discarded “{SYNC_SUBJECTS['email']}” from #6",
        f"discarded “{SYNC_SUBJECTS['chat']}” from #7",
    ]

    with SQLiteTicketRepository(db) as store:
        everything = store.search(TicketQuery(limit=100, include_trashed=True))
        assert sorted(t.number for t in everything) == [1, 2, 3, 4, 5, 6, 7, 8]
        active = store.search(TicketQuery(limit=100))
        assert sorted(t.number for t in active) == [1, 2, 3, 4, 5, 6]
        primary = store.find_by_number(6)
        chat, web = store.find_by_number(7), store.find_by_number(8)
        assert primary is not None
        assert chat is not None
        assert web is not None
        assert primary.subject == SYNC_SUBJECTS["web"]
        assert primary.account_id == "acct-sasaki-design"
        assert primary.created_at == datetime.fromisoformat("2026-11-20T13:02:00+09:00")  # M9
        assert [t.channel.code for t in (primary, chat, web)] == ["email", "chat", "web"]
        assert {t.department_id for t in (primary, chat, web)} == {"support"}  # M2
        for trashed in (chat, web):
            assert trashed.is_trashed
            assert trashed.merged_into == primary.id  # M6
            assert trashed.subject in SYNC_SUBJECTS.values()  # the trashed ticket is kept whole
        # Every item kept its origin (M7), in creation order; two replies came in after it.
        assert [item.origin_ticket_id for item in primary.thread] == [
            primary.id,
            chat.id,
            chat.id,
            web.id,
            primary.id,
            primary.id,
        ]
        (entry,) = store.journal(primary.id)
        assert entry.merged_ticket_ids == (chat.id, web.id)
        assert store.journal(chat.id) == [entry]


def test_M14_demo_replies_to_merged_away_tickets_land_on_the_primary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A chat line in the merged-away chat, and an email naming the merged-away help-center
    ticket's number, both join the primary (M14)."""
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    chat_reply = _section(out, "19.", "20.")
    assert "→ APPEND (conversation_has_ticket) on ticket #6" in chat_reply
    mail_reply = _section(out, "20.", "21.")
    assert (
        "the subject “Re: [#8] 新しいデバイスでメールを同期できない” names ticket #8" in mail_reply
    )
    assert "→ APPEND (redirected_from_merged) on ticket #6" in mail_reply
    assert "why: the message is addressed to ticket #8, which was merged into #6; it joins #6" in (
        " ".join(mail_reply)
    )
    with SQLiteTicketRepository(db) as store:
        session = ExternalReference(
            network="chat", account="acme_site", kind="chat_session", native_id="cs-97"
        )
        line = ExternalReference(
            network="chat", account="acme_site", kind="chat_line", native_id="cs-97/1"
        )
        primary = store.find_by_number(6)
        assert primary is not None
        assert store.find_by_reference(session) == primary
        assert store.find_by_reference(line) == primary
        assert [m.body for m in primary.messages()][-2:] == [
            "まだ同期できません。",
            "設定を確認しましたが、まだ同期できません。",
        ]


def test_M5_M2_M10_demo_refuses_merges_and_prints_every_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two customers' tickets without acknowledging the exposure are refused (M5); a trainee's
    merge across departments gets every reason at once (M2, M10); nothing is written."""
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    exposure = " ".join(_section(out, "21.", "22."))
    assert (
        "exposure (M5, not acknowledged): contact tw-hanako_k would see 1 public item(s) of "
        "tw-kenji from #5" in exposure
    )
    assert "→ REFUSED (merge_rejected): nothing was written; every reason at once:" in exposure
    assert "- unacknowledged_exposure: contact tw-hanako_k would see public items of " in exposure
    several = " ".join(_section(out, "22.", "The queue now:"))
    codes = re.findall(r"- (\w+): ", several)
    assert codes == ["missing_permission", "different_departments", "unacknowledged_exposure"]
    assert "In the trash (Desk.restore takes a ticket back out, M3):" in out
    assert "6 tickets in the queue, 2 in the trash" in out
    with SQLiteTicketRepository(db) as store:
        for number in (1, 3, 4, 5):
            ticket = store.find_by_number(number)
            assert ticket is not None
            assert not ticket.is_trashed
            assert store.journal(ticket.id) == []


def test_M4_M5_M11_demo_merge_steps_from_a_custom_stream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stream's merge step may name the primary and acknowledge the exposure (M4, M5, M11);
    an unknown ticket number or a bad actor is reported and the stream goes on."""

    def line(native_id: str, contact: str, at: str) -> str:
        event = {
            "reference": {
                "network": "chat",
                "account": "a",
                "kind": "line",
                "native_id": native_id,
            },
            "channel": "chat",
            "contact": {"id": contact, "name": contact.title()},
            "body": f"Hello from {contact}",
            "sent_at": at,
        }
        return json.dumps({"at": at, "note": f"{contact} writes", "event": event})

    yui = {"id": "agent-yui", "permissions": ["search_and_merge"]}
    steps = [
        line("1", "ann", "2026-01-01T09:00:00+00:00"),
        line("2", "bob", "2026-01-01T09:05:00+00:00"),
        json.dumps({"section": "Merging"}),
        json.dumps(
            {
                "at": "2026-01-01T10:00:00+00:00",
                "note": "unknown number",
                "merge": {"tickets": [1, 9], "actor": yui},
            }
        ),
        json.dumps(
            {
                "at": "2026-01-01T10:01:00+00:00",
                "note": "bad permission code",
                "merge": {"tickets": [1, 2], "actor": {"id": "x", "permissions": ["fly"]}},
            }
        ),
        json.dumps(
            {
                "at": "2026-01-01T10:02:00+00:00",
                "note": "into the newer ticket, acknowledged",
                "merge": {
                    "tickets": [1, 2],
                    "actor": yui,
                    "primary": 2,
                    "acknowledge_exposure": True,
                },
            }
        ),
    ]
    stream = tmp_path / "stream.jsonl"
    stream.write_text("\n".join(steps) + "\n", encoding="utf-8")
    assert main(["demo", "--db", str(tmp_path / "d.sqlite3"), "--stream", str(stream)]) == 0
    out = capsys.readouterr().out
    assert "── Merging ──" in out
    assert "! no ticket #9" in out
    assert "! rejected: [" in _section(out, "4.", "5.")[-1]
    merged = " ".join(_section(out, "5.", "The queue now:"))
    assert "#2, #1 → primary #2 (named by the agent, M4)" in merged
    assert "take #2 chat “bob”" in " ".join(merged.split())
    assert "exposure (M5, acknowledged): contact bob would see 1 public item(s) of ann" in merged
    assert "→ MERGED #1 into ticket #2" in merged
    assert "exposure acknowledged: ann's 1 item(s) to bob" in merged
    assert "1 tickets in the queue, 1 in the trash" in out


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
