"""The ``deskcore`` command line: the demo plays the bundled stream (P3, L2, L4 and the merge
rules M1-M15 end to end), then the bundled chats (C1-C12, D1-D4), then the bundled social
posts and messages (S1-S9, W1-W5, H1-H4), then the knowledge-base sync (KB1-KB10)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from deskcore import ExternalReference, Ticket, TicketQuery, TicketStatus
from deskcore.adapters import SQLiteArticleTarget, SQLiteTicketRepository
from deskcore.cli import main

# The bundled chats that become tickets (data/sample_chats.json), after the stream's 8 tickets.
CHAT_TICKETS = ("cs-201", "cs-202", "cs-204", "cs-206", "cs-207", "cs-208", "cs-209", "cs-210")
# The conversations of the bundled social items that become tickets (data/sample_social.json),
# in order, after the chats' tickets: ``network/account/kind/native id`` (H1).
SOCIAL_TICKETS = (
    "twitter/acme_jp/thread/1862001",  # a mention with keywords; later given up (H3)
    "facebook/acme_page/thread/77_9101",  # "REFUNDS", a prefix rule (W2)
    "facebook/acme_page/thread/77_9102",  # emoji, half-width keyword (W1, W3)
    "facebook/acme_page/thread/77_9103",  # converted by hand (S1)
    "twitter/acme_jp/conversation/cv-9001",  # a direct message with keywords
    "facebook/acme_page/conversation/cv-9002",  # all private messages (S5)
    "twitter/acme_jp/thread/1862001",  # the reply after the window: a new ticket (H3)
)
# The events of the service-levels section that become tickets (data/sample_levels.json), in
# department care, after the social tickets.
LEVELS_TICKETS = ("scarf", "order")
QUEUE = 6 + len(CHAT_TICKETS) + len(SOCIAL_TICKETS) + len(LEVELS_TICKETS)


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
        assert len(tickets) == QUEUE
        assert all(t.status is TicketStatus.OPEN for t in tickets if t.number <= 6)
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
        assert len(store.search(TicketQuery(limit=100))) == QUEUE
        assert len(store.search(TicketQuery(limit=100, include_trashed=True))) == QUEUE + 2
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
    assert "── Live chats" not in out  # a stream of one's own is played alone


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
        assert sorted(t.number for t in everything) == list(range(1, QUEUE + 3))
        active = store.search(TicketQuery(limit=100))
        assert sorted(t.number for t in active) == [*range(1, 7), *range(9, QUEUE + 3)]
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
    several = " ".join(_section(out, "22.", "── Live chats"))
    codes = re.findall(r"- (\w+): ", several)
    assert codes == ["missing_permission", "different_departments", "unacknowledged_exposure"]
    assert "In the trash (Desk.restore takes a ticket back out, M3):" in out
    assert f"\n{QUEUE} tickets in the queue, 2 in the trash" in out
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


# -- the chat section (C1-C12, D1-D4) -----------------------------------------------------------

_STEP = re.compile(r"\d+\. \[")


def _chat_step(out: str, chat_id: str, nth: int = 0) -> list[str]:
    """The stripped lines of the ``nth`` demo step about chat ``chat_id``: from its numbered
    header to the next step, heading or the queue."""
    lines = [line.strip() for line in out.splitlines()]
    starts = [i for i, line in enumerate(lines) if line.startswith(f"chat {chat_id} · ")]
    at = starts[nth]
    first = max(i for i in range(at) if _STEP.match(lines[i]))
    last = next(
        i
        for i in range(at, len(lines))
        if _STEP.match(lines[i]) or lines[i].startswith(("──", "The queue now:"))
    )
    return lines[first:last]


def _number(lines: list[str], pattern: str) -> int:
    """The ticket number in the one line that matches ``pattern`` (a regex with one group)."""
    found = [m for m in (re.search(pattern, line) for line in lines) if m is not None]
    assert len(found) == 1, (pattern, lines)
    return int(found[0].group(1))


def _chat_ticket(store: SQLiteTicketRepository, chat_id: str) -> Ticket | None:
    session = ExternalReference(
        network="chat", account="acme_site", kind="chat_session", native_id=chat_id
    )
    return store.find_by_reference(session)


@pytest.fixture
def chat_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, Path]:
    """The demo's output and database, after the bundled stream, chats and social items."""
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", str(db)]) == 0
    return capsys.readouterr().out, db


def test_D1_D3_D4_demo_parses_the_settings_and_associates_departments_by_name(
    chat_demo: tuple[str, Path],
) -> None:
    """The settings document is parsed at the edge; chat departments whose names match a
    helpdesk department after NFKC, case folding and trimming are mapped to it with a notice,
    full-width Latin and half-width katakana alike (D3); one created later too (D4)."""
    out, _ = chat_demo
    lines = [line.strip() for line in out.splitlines()]
    assert (
        "parse_chat_integration → enabled=true convert=all when=on_end ticket_status=open" in lines
    )
    assert "owner_id=admin-aiko link_state=linked lookup_scope=associated_departments" in lines
    for mapped in (
        "chat-support “ｻﾎﾟｰﾄ” → support “サポート” (auto-associated)",
        "chat-sales “Ｓａｌｅｓ ” → sales “Sales” (auto-associated)",
        "chat-lobby “Lobby” → view only (set by hand)",
        "chat-partners “Partners” → no integration (set by hand)",
        "chat-vip “VIP” → choose each time (no name matches)",
        "on_chat_department_created: chat-stores “ｽﾄｱ” → stores “ストア” (auto-associated)",
    ):
        assert mapped in lines
    notices = re.findall(r"notice \(auto_associated\): Chat department '([^']+)'", out)
    assert notices == ["ｻﾎﾟｰﾄ", "Ｓａｌｅｓ ", "ｽﾄｱ"]


def test_C1_C2_C3_C7_demo_converts_chats_under_each_setting(chat_demo: tuple[str, Path]) -> None:
    """All chats on end (waiting until the end), attended on answer, missed at their end
    whatever the timing, closed tickets; and an event repeated gives the same ticket (C7)."""
    out, db = chat_demo
    on_end = _chat_step(out, "cs-201")
    assert "10:01 answered → WAIT (converts_on_end)" in on_end
    converted = _number(on_end, r"10:12 ended → CONVERT \(convert_attended\): ticket #(\d+) ")
    assert f"10:12 ended again → ALREADY_CONVERTED (already_converted): ticket #{converted}" in (
        on_end
    )
    assert "a chat converts at most once (C7)" in " ".join(on_end)

    on_answer = _chat_step(out, "cs-202")
    assert any(
        line.startswith("11:02 answered → CONVERT (convert_attended): ticket #")
        and line.endswith("(sales, open, 2 items)")
        for line in on_answer
    )
    assert "attended chats convert (attended), on answer" in " ".join(on_answer)
    assert "12:35 missed → SKIP (missed_chats_not_converted)" in _chat_step(out, "cs-203")
    missed = _chat_step(out, "cs-204")
    assert any(line.startswith("13:16 missed → CONVERT (convert_missed)") for line in missed)
    assert "missed chats convert (missed), at its end" in " ".join(missed)
    assert "13:40 ended → SKIP (attended_chats_not_converted)" in _chat_step(out, "cs-205")
    closed = _chat_step(out, "cs-206")
    assert "ticket.status_changed: open → closed (chat_integration)" in " ".join(closed)
    assert any(line.endswith("(support, closed, 3 items)") for line in closed)
    none = _chat_step(out, "cs-207")
    assert "16:10 ended → SKIP (automatic_conversion_off)" in none
    assert any(line.startswith("→ CONVERT (converted_by_hand): ticket #") for line in none)

    with SQLiteTicketRepository(db) as store:
        first = _chat_ticket(store, "cs-201")
        assert first is not None
        assert first.number == converted
        assert (first.department_id, first.status, len(first.thread)) == (
            "support",
            TicketStatus.OPEN,
            4,
        )
        for chat_id in ("cs-203", "cs-205", "cs-211", "cs-212", "cs-213"):
            assert _chat_ticket(store, chat_id) is None
        numbers = []
        for chat_id in CHAT_TICKETS:
            ticket = _chat_ticket(store, chat_id)
            assert ticket is not None
            assert ticket.channel.code == "chat"
            numbers.append(ticket.number)
        assert numbers == list(range(9, 9 + len(CHAT_TICKETS)))  # one ticket per chat (C7)


def test_C5_C6_D2_demo_converts_by_hand_once_the_email_or_department_is_given(
    chat_demo: tuple[str, Path],
) -> None:
    """A chat without an email address waits for one (C5); the agent adds it and converts by
    hand with a priority, status, classification and department (C6); a choose-each-time
    department needs choosing, not a guess (D2)."""
    out, db = chat_demo
    no_email = _chat_step(out, "cs-208")
    assert no_email[1] == "chat cs-208 · chat-sales “Ｓａｌｅｓ ” → sales · 木村 翔 <no email>"
    assert "17:07 ended → NEEDS_EMAIL (missing_email)" in no_email
    assert "17:08 Ken adds the visitor's email address sho.kimura@example.jp (C5)" in no_email
    by_hand = _number(no_email, r"→ CONVERT \(converted_by_hand\): ticket #(\d+) ")
    assert f"17:09 email_added → ALREADY_CONVERTED (already_converted): ticket #{by_hand}" in (
        no_email
    )
    assert "(support, on_hold, high, problem, 3 items)" in " ".join(no_email)

    choose = _chat_step(out, "cs-209")
    assert "18:10 ended → NEEDS_DEPARTMENT (department_needs_choosing)" in choose
    chosen = _number(choose, r"→ CONVERT \(converted_by_hand\): ticket #(\d+) ")

    with SQLiteTicketRepository(db) as store:
        ticket = store.find_by_number(by_hand)
        assert ticket is not None
        assert ticket == _chat_ticket(store, "cs-208")
        assert (ticket.department_id, ticket.status, ticket.priority.value) == (
            "support",
            TicketStatus.ON_HOLD,
            "high",
        )
        assert ticket.classification is not None
        assert ticket.classification.code == "problem"
        contact = store.get_contact(ticket.contact_id)
        assert contact is not None
        assert contact.email == "sho.kimura@example.jp"
        vip = store.find_by_number(chosen)
        assert vip is not None
        assert vip == _chat_ticket(store, "cs-209")
        assert (vip.department_id, vip.priority.value) == ("sales", "high")


def test_C11_demo_converts_nothing_until_the_integration_is_linked_again(
    chat_demo: tuple[str, Path],
) -> None:
    out, db = chat_demo
    assert "settings: link_state linked → needs_relink; the rest as before" in out
    assert "19:08 ended → SKIP (integration_needs_relink)" in _chat_step(out, "cs-210")
    relinked = _chat_step(out, "cs-210", nth=1)
    assert "settings: owner_id admin-aiko → admin-ken, link_state needs_relink → linked" in (
        " ".join(_section(out, "41.", "42."))
    )
    number = _number(relinked, r"19:30 ended again → CONVERT \(convert_attended\): ticket #(\d+)")
    with SQLiteTicketRepository(db) as store:
        ticket = _chat_ticket(store, "cs-210")
        assert ticket is not None
        assert ticket.number == number


def test_C8_C9_C10_demo_looks_up_and_reopens_the_visitors_tickets_from_a_chat(
    chat_demo: tuple[str, Path],
) -> None:
    """From a chat: the visitor's recent tickets and searches in the departments the chat
    sees (C8), the visitor panel (C9), and an earlier closed ticket reopened instead of a new
    one (C10)."""
    out, db = chat_demo
    with SQLiteTicketRepository(db) as store:
        exchange, login = _chat_ticket(store, "cs-201"), _chat_ticket(store, "cs-206")
        quote = _chat_ticket(store, "cs-202")
        assert exchange is not None
        assert login is not None
        assert quote is not None
        assert login.status is TicketStatus.OPEN  # reopened from the chat
        assert quote.status is TicketStatus.OPEN  # the view-only chat could not close it
    step = _chat_step(out, "cs-211")
    recent = step.index("10:02 recent tickets of kenta.takahashi@example.jp (C8, in support):")
    assert [line.split()[:3] for line in step[recent + 1 : recent + 3]] == [
        [f"#{login.number}", "closed", "support"],
        [f"#{exchange.number}", "open", "support"],
    ]
    by_number = step.index(f"10:02 search “#{login.number}” (C8, in support):")
    assert step[by_number + 1].startswith(f"#{login.number}")
    by_word = step.index("10:02 search “ログイン” (C8, in support):")
    assert step[by_word + 1].startswith(f"#{login.number}")
    assert step[by_word + 1].endswith(
        "アプリにログインできません。パスワードは合っているはずです。"
    )
    panel = step.index("10:02 visitor panel (C9): contact chat-kenta")
    assert step[panel + 1 : panel + 4] == [
        "account: 高橋デザイン事務所 · contact owner: Yui",
        "SLA: スタンダード（平日 4 時間以内に回答） · contract: 年間保守契約 2026",
        "2 tickets, 1 overdue (open for more than 2 days); newest first: "
        f"#{login.number}, #{exchange.number}",
    ]
    assert (
        f"10:04 Yui sets #{login.number} (closed) to open from the chat (C10) → ticket "
        f"#{login.number} is open"
    ) in step
    assert "event: ticket.status_changed: closed → open (chat)" in step


def test_D2_C10_demo_refuses_view_only_and_unintegrated_departments(
    chat_demo: tuple[str, Path],
) -> None:
    """A view-only chat department sees tickets of every department but cannot change one;
    a department without integration cannot even look (D2, C8, C10)."""
    out, db = chat_demo
    with SQLiteTicketRepository(db) as store:
        quote = _chat_ticket(store, "cs-202")
        assert quote is not None
    lobby = _chat_step(out, "cs-212")
    assert "11:06 ended → SKIP (department_view_only)" in lobby
    recent = lobby.index(
        "11:07 recent tickets of emma.wilson@example.com (C8, in all departments):"
    )
    assert lobby[recent + 1].split()[:3] == [f"#{quote.number}", "open", "sales"]
    assert (
        f"11:08 Mei sets #{quote.number} (open) to closed from the chat (C10) → REFUSED "
        "(department_view_only)"
    ) in lobby
    assert "which does not allow changing a ticket's status (D2)" in " ".join(lobby)
    partners = _chat_step(out, "cs-213")
    assert "11:35 ended → SKIP (department_no_integration)" in partners
    assert (
        "11:36 recent tickets of liam.chen@example.com → REFUSED (department_no_integration)"
        in (partners)
    )


def test_demo_reports_a_bad_chat_step_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A settings change the document rejects (P6), a choice the desk rejects and a ticket
    that does not exist are reported, and the chats go on."""
    from deskcore.cli import demo

    bundled = demo._bundled
    chats = json.loads(bundled("sample_chats.json"))
    chats["steps"] = [
        {"at": "2026-11-21T09:00:00+09:00", "note": "enable", "enable": True},
        {"at": "2026-11-21T09:01:00+09:00", "note": "bad", "settings": {"convert": "sometimes"}},
        {
            "at": "2026-11-21T09:02:00+09:00",
            "note": "bad choice",
            "chat": "cs-204",
            "do": [{"convert": {"by": "agent-ken", "priority": "urgent"}}],
        },
        {
            "at": "2026-11-21T09:03:00+09:00",
            "note": "no ticket yet",
            "chat": "cs-203",
            "do": [{"recent": 5}, {"set_status": "open", "ticket_of": "cs-203", "by": "agent-yui"}],
        },
        {
            "at": "2026-11-21T09:04:00+09:00",
            "note": "still here",
            "chat": "cs-203",
            "do": ["missed"],
        },
    ]

    def fake(name: str) -> str:
        return json.dumps(chats) if name == "sample_chats.json" else bundled(name)

    monkeypatch.setattr(demo, "_bundled", fake)
    assert main(["demo", "--db", str(tmp_path / "d.sqlite3")]) == 0
    out = capsys.readouterr().out
    assert "! rejected at the edge (P6): convert: " in " ".join(_section(out, "24.", "25."))
    assert "! rejected: [unknown_value]" in " ".join(_section(out, "25.", "26."))
    no_ticket = _section(out, "26.", "27.")
    assert "09:03 recent tickets of ichiro.suzuki@example.jp (C8, in support):" in no_ticket
    assert "(none)" in no_ticket
    assert "! chat cs-203 has no ticket" in no_ticket
    assert "12:35 missed → CONVERT (convert_missed): ticket #9 (support, open, 1 item)" in out


# -- the social section (S1-S9, W1-W5, H1-H4) ----------------------------------------------------


def _social_data() -> dict[str, Any]:
    from deskcore.cli import demo

    data: dict[str, Any] = json.loads(demo._bundled("sample_social.json"))
    return data


def _step_of(out: str, marker: str, nth: int = 0) -> list[str]:
    """The stripped lines of the demo step holding the ``nth`` line that contains ``marker``:
    from its numbered header to the next step, heading or the queue."""
    lines = [line.strip() for line in out.splitlines()]
    at = [i for i, line in enumerate(lines) if marker in line][nth]
    first = max(i for i in range(at + 1) if _STEP.match(lines[i]))
    last = next(
        i
        for i in range(at + 1, len(lines))
        if _STEP.match(lines[i]) or lines[i].startswith(("──", "The queue now:"))
    )
    return lines[first:last]


def _said(out: str, marker: str, nth: int = 0) -> str:
    """The step of :func:`_step_of` as one line: wrapped lines joined again."""
    return " ".join(_step_of(out, marker, nth))


def _ref(text: str) -> ExternalReference:
    network, account, kind, native_id = text.split("/")
    return ExternalReference(network=network, account=account, kind=kind, native_id=native_id)


def test_demo_plays_the_social_section_after_the_chats_and_before_the_queue(
    chat_demo: tuple[str, Path],
) -> None:
    """The social section comes after the chats and before the queue, numbered on; its items
    that become tickets are the tickets after the chats', one per conversation (H1, S3)."""
    out, db = chat_demo
    lines = [line.strip() for line in out.splitlines()]
    chats = lines.index(
        "── Live chats from the chat tool: which become tickets, when, and why (C1-C12, D1-D4) ──"
    )
    social = lines.index(
        "── Facebook and X: which posts and messages become tickets, and why "
        "(S1-S9, W1-W5, H1-H4) ──"
    )
    assert chats < social < lines.index("The queue now:")
    numbers = [int(m.group(1)) for m in (re.match(r"(\d+)\. \[", line) for line in lines) if m]
    assert numbers == list(range(1, len(numbers) + 1))
    steps = [step for step in _social_data()["steps"] if "section" not in step]
    last_chat = max(i for i in range(social) if _STEP.match(lines[i]))
    assert lines[last_chat].startswith("45. [2026-11-24T11:30:00+09:00]")
    first = next(line for line in lines[social:] if _STEP.match(line))
    assert first.startswith("46. [2026-11-25T09:00:00+09:00]")
    kb = next(i for i, line in enumerate(lines) if line.startswith("── The knowledge base"))
    last_social = max(i for i in range(kb) if _STEP.match(lines[i]))
    assert lines[last_social].startswith(f"{45 + len(steps)}. [2026-11-27T11:00:00+09:00]")
    with SQLiteTicketRepository(db) as store:
        tickets = sorted(store.search(TicketQuery(limit=100)), key=lambda t: t.number)
        social_tickets = tickets[-len(SOCIAL_TICKETS) - len(LEVELS_TICKETS) : -len(LEVELS_TICKETS)]
        first = 6 + len(CHAT_TICKETS) + 2 + 1  # after the stream's, the chats' and the trash
        assert [t.number for t in social_tickets] == list(range(first, first + 7))
        assert [t.channel.code for t in social_tickets] == [
            "twitter",
            "facebook",
            "facebook",
            "facebook",
            "twitter",
            "facebook",
            "twitter",
        ]
        for ticket, conversation in zip(social_tickets[1:-1], SOCIAL_TICKETS[1:-1], strict=True):
            assert store.find_by_reference(_ref(conversation)) == ticket
        # The thread was handed over to the ticket started after the window (H3).
        assert store.find_by_reference(_ref(SOCIAL_TICKETS[-1])) == social_tickets[-1]
    assert f"\n{QUEUE} tickets in the queue, 2 in the trash" in out


def test_S4_S5_S8_H3_demo_parses_the_social_settings_document(
    chat_demo: tuple[str, Path],
) -> None:
    """The settings are parsed at the edge and applied by a social admin: per network rules
    with Japanese and English keywords, departments, threading and the append interval."""
    out, _ = chat_demo
    step = _said(out, "parse_social_settings → 3 rules")
    for expected in (
        "parse_social_settings → 3 rules, default department social, append interval 12 hours",
        "rule x-returns: twitter mention, reply, direct_message; keywords 返品, 届かない, refund "
        "(English keywords match whole words, W2) → returns",
        "rule fb-returns: facebook visitor_post, comment; keywords ﾍﾝﾋﾟﾝ, ﾍﾝｷﾝ, refund "
        "(prefixes match too, W2) → returns",
        "rule fb-messages: facebook direct_message; all messages (S5) → support",
        "threading (H3): every kind: reopen within 24 hours of closing; direct_message: always "
        "reopen",
        "update_social_settings by Aiko (admin, social_admin) → applied (S8)",
    ):
        assert expected in step


def test_S4_W1_W5_demo_shows_keyword_matches_and_their_positions(
    chat_demo: tuple[str, Path],
) -> None:
    """Full-width Latin and half-width katakana match after normalisation (W1), emoji and
    all (W3); each match names its keyword and its place in the original text (W5)."""
    out, db = chat_demo
    items = _social_data()["items"]
    mention = _said(out, "twitter mention 1862001 · ")
    assert "handle_social_item → NEW (keyword_match): ticket #17 (returns, open, 1 item)" in mention
    assert "matches (W5): 返品 at 16-18 “返品”; refund at 24-30 “ＲＥＦＵＮＤ”" in mention
    assert "('返品' at 16-18, 'refund' at 24-30)" in mention
    text = items["x-1"]["text"]
    assert (text[16:18], text[24:30]) == ("返品", "ＲＥＦＵＮＤ")  # the original text's places
    emoji = _said(out, "facebook visitor_post 77_9102 · ")
    assert "→ NEW (keyword_match): ticket #19 (returns, open, 1 item)" in emoji
    assert "matches (W5): ﾍﾝﾋﾟﾝ at 17-21 “ヘンピン”" in emoji
    assert items["fb-2"]["text"][17:21] == "ヘンピン"
    message = _said(out, "twitter direct_message 88001 · ")
    assert "matches (W5): 届かない at 21-25 “届かない”; 返品 at 30-32 “返品”" in message
    with SQLiteTicketRepository(db) as store:
        ticket = store.find_by_number(17)
        assert ticket is not None
        assert ticket.department_id == "returns"
        assert ticket.contact_id == "tw-hanako_k"  # the contact the host linked


def test_S3_P3_demo_a_redelivered_item_stays_one_item_on_one_ticket(
    chat_demo: tuple[str, Path],
) -> None:
    out, db = chat_demo
    again = _said(out, "twitter mention 1862001 · ", nth=1)
    assert "→ ALREADY_CONVERTED (already_converted): ticket #17 (returns, open, 1 item)" in again
    assert "intake (P3): duplicate; nothing written" in again
    with SQLiteTicketRepository(db) as store:
        tweet = _ref("twitter/acme_jp/tweet/1862001")
        ticket = store.find_by_reference(tweet)
        assert ticket is not None
        assert ticket.number == 17
        assert [m.external_ref for m in ticket.messages()].count(tweet) == 1


def test_S4_W2_demo_skips_items_without_a_keyword_and_matches_words_or_prefixes(
    chat_demo: tuple[str, Path],
) -> None:
    """No keyword: skipped with its reason. ``refunds`` does not fire ``refund`` in a rule of
    whole words, and does in a prefix rule (W2)."""
    out, db = chat_demo
    thanks = _said(out, "twitter mention 1862002 · ")
    assert "handle_social_item → SKIP (no_keyword_match)" in thanks
    assert "contains no keyword of the 1 rule for twitter mention items (S4)" in thanks
    words = _said(out, "twitter mention 1862003 · ")
    assert "“@acme_jp Do you give refunds on sale items?" in words
    assert "handle_social_item → SKIP (no_keyword_match)" in words
    prefix = _said(out, "facebook visitor_post 77_9101 · ")
    assert "→ NEW (keyword_match): ticket #18 (returns, open, 1 item)" in prefix
    assert "matches (W5): refund at 0-6 “REFUND”" in prefix
    with SQLiteTicketRepository(db) as store:
        for skipped in ("1862002", "1862003"):
            assert store.find_by_reference(_ref(f"twitter/acme_jp/tweet/{skipped}")) is None


def test_H1_H2_S6_demo_threads_replies_and_the_brands_own_items(
    chat_demo: tuple[str, Path],
) -> None:
    """A reply joins its thread's ticket without a keyword (H2); the brand's reply joins as
    the brand's outbound message, its own post never becomes a ticket (S6)."""
    out, db = chat_demo
    reply = _said(out, "twitter reply 1862004 · ")
    assert "thread 1862001" in reply
    assert "→ APPEND (conversation_has_ticket): ticket #17 (returns, open, 2 items)" in reply
    brand = _said(out, "twitter reply 1862005 · ")
    assert "→ APPEND (brand_item_appended): ticket #17 (returns, open, 3 items)" in brand
    assert "ticket.first_response_recorded" in brand
    post = _said(out, "twitter post 1862006 · ")
    assert "brand's own" in post
    assert "handle_social_item → SKIP (brand_own_item)" in post
    with SQLiteTicketRepository(db) as store:
        assert store.find_by_reference(_ref("twitter/acme_jp/tweet/1862006")) is None
        ticket = store.find_by_number(17)
        assert ticket is not None
        answer = next(
            m for m in ticket.messages() if m.external_ref == _ref("twitter/acme_jp/tweet/1862005")
        )
        assert answer.direction.value == "outbound"
        assert ticket.contact_id == "tw-hanako_k"  # the brand is not the customer
        assert ticket.first_responded_at == datetime.fromisoformat("2026-11-25T10:14:00+09:00")


def test_S2_demo_refuses_items_of_other_networks(chat_demo: tuple[str, Path]) -> None:
    out, db = chat_demo
    step = _said(out, "instagram comment ig-501 · ")
    assert "handle_social_item → SKIP (network_not_convertible)" in step
    assert "Yui converts it by hand into support → REFUSED (network_not_convertible)" in step
    assert "convertible networks: facebook, twitter (S2)" in step
    with SQLiteTicketRepository(db) as store:
        assert store.find_by_reference(_ref("instagram/acme_ig/comment/ig-501")) is None


def test_S1_S3_demo_converts_a_post_by_hand_into_the_chosen_department_once(
    chat_demo: tuple[str, Path],
) -> None:
    out, db = chat_demo
    step = _said(out, "facebook visitor_post 77_9103 · ")
    assert "11:00 handle_social_item → SKIP (no_keyword_match)" in step
    assert (
        "11:02 Ken converts it by hand into sales → NEW (converted_by_hand): ticket #20 "
        "(sales, open, 1 item)"
    ) in step
    assert (
        "11:05 Yui converts it by hand into support → ALREADY_CONVERTED (already_converted): "
        "ticket #20 (sales, open, 1 item)"
    ) in step
    with SQLiteTicketRepository(db) as store:
        ticket = store.find_by_reference(_ref("facebook/acme_page/post/77_9103"))
        assert ticket is not None
        assert (ticket.number, ticket.department_id, len(ticket.thread)) == (20, "sales", 1)


def test_H3_demo_reopens_within_the_window_and_starts_a_new_ticket_after_it(
    chat_demo: tuple[str, Path],
) -> None:
    out, db = chat_demo
    within = _said(out, "twitter reply 1862007 · ")
    assert "→ REOPEN (reopen_within_window): ticket #17 (returns, open, 4 items)" in within
    assert "ticket #17 closed 6 hours ago, within the 24-hour window" in within
    assert "ticket.status_changed: closed → open (reopened_by_customer)" in within
    after = _said(out, "twitter reply 1862008 · ")
    assert "→ NEW (window_passed): ticket #23 (returns, open, 1 item)" in after
    assert "ticket #17 closed 39.5 hours ago, after the 24-hour window" in after
    assert "the conversation moves from #17 to #23, which keeps its history (H3)" in after
    with SQLiteTicketRepository(db) as store:
        old, new = store.find_by_number(17), store.find_by_number(23)
        assert old is not None
        assert new is not None
        assert (old.status, len(old.thread)) == (TicketStatus.CLOSED, 4)
        assert store.find_by_reference(_ref("twitter/acme_jp/thread/1862001")) == new
        assert new.department_id == old.department_id


def test_S5_demo_appends_new_private_messages_when_a_check_is_due(
    chat_demo: tuple[str, Path],
) -> None:
    """Private messages wait on the platform until their conversation's check is due; then
    the ones its ticket does not hold yet are appended, oldest first (S5)."""
    out, db = chat_demo
    early = _said(out, "append_private_messages (S5)")
    assert "18:10 append_private_messages (S5) → nothing due" in early
    assert "(next: cv-9001 at 23:30, cv-9002 at 23:40); 2 newer messages wait on the platform" in (
        early
    )
    due = _step_of(out, "append_private_messages (S5)", nth=1)
    assert due[1:] == [
        "09:00 append_private_messages (S5) → 2 conversations due (interval 12 hours):",
        "twitter/acme_jp/conversation/cv-9001 → #21: 2 new messages appended",
        "APPEND (conversation_has_ticket): message “荷物の写真を送ります📷”",
        "APPEND (conversation_has_ticket): message “返送用の伝票はありますか？”",
        "facebook/acme_page/conversation/cv-9002 → #22: 1 new message appended",
        "APPEND (conversation_has_ticket): message “ポイントの有効期限はいつまでですか？”",
        "records kept: checked at 09:00; next check due at 2026-11-26 21:00",
    ]
    everyone = _said(out, "facebook direct_message m-5001 · ")
    assert "→ NEW (all_private_messages): ticket #22 (support, open, 1 item)" in everyone
    assert "kept for the append check (S5): facebook/acme_page/conversation/cv-9002 → #22" in (
        everyone
    )
    with SQLiteTicketRepository(db) as store:
        ticket = store.find_by_number(21)
        assert ticket is not None
        assert [m.external_ref.native_id for m in ticket.messages() if m.external_ref] == [
            "88001",
            "88002",
            "88003",
        ]


def test_S9_demo_shows_a_connections_helpdesk_data(chat_demo: tuple[str, Path]) -> None:
    """All the connection's tickets, newest first, across the stream and the social tool;
    the owner; the averages from the demo's metrics function (S9, X1)."""
    out, _ = chat_demo
    step = _step_of(out, "connection_view(tw-hanako_k)")
    assert "10:30 connection_view(tw-hanako_k) (S9): 花子 (@hanako_k)" in step
    assert (
        "ticket owner: none (no ticket is assigned) · 4 tickets, 3 not closed; newest first:"
        in step
    )
    rows = [line.split()[:4] for line in step if line.startswith("#")]
    assert rows == [
        ["#23", "open", "returns", "twitter"],
        ["#21", "open", "returns", "twitter"],
        ["#17", "closed", "returns", "twitter"],
        ["#1", "open", "support", "twitter"],
    ]
    assert (
        "averages (the demo's metrics function, X1): first response 46 min over 2 tickets · "
        "resolution 9 h 20 min over 1 closed ticket · satisfaction no ratings"
    ) in " ".join(step)


def test_S8_demo_refuses_a_settings_change_by_a_non_social_admin(
    chat_demo: tuple[str, Path],
) -> None:
    out, _ = chat_demo
    step = _said(out, "update_social_settings by Ren")
    assert "parse_social_settings → rule x-returns: keywords 返品, 届かない, refund, 返金" in step
    assert "update_social_settings by Ren (agent) → REFUSED [permission_denied]" in step
    assert "actor agent-ren lacks 'role:social_admin', required to change the social" in step
    assert "the settings stay as they were: rule x-returns keeps 3 keywords" in step


def test_demo_reports_a_bad_social_step_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings refused (S8) leave none in force; a social admin's change applies at once; an
    item the edge rejects, a ticket that does not exist and an unknown contact are reported,
    and the section goes on."""
    from deskcore.cli import demo

    bundled = demo._bundled
    social = json.loads(bundled("sample_social.json"))
    social["items"]["bad"] = dict(social["items"]["x-2"], created_at="2026-11-25T09:00:00")
    at = "2026-11-25T09:00:00+09:00"
    social["steps"] = [
        {"at": at, "note": "refused", "load_settings": "agent-ren"},
        {"at": at, "note": "no interval", "append_check": True},
        {"at": at, "note": "no rules", "item": "x-2"},
        {
            "at": at,
            "note": "added",
            "add_keywords": {"x-returns": ["マフラー"]},
            "by": "admin-aiko",
        },
        {"at": at, "note": "matches now", "item": "x-2"},
        {"at": at, "note": "naive", "item": "bad"},
        {"at": at, "note": "no ticket", "close": "x-3", "by": "agent-yui"},
        {"at": at, "note": "nobody", "connection": "nobody"},
    ]

    def fake(name: str) -> str:
        return json.dumps(social) if name == "sample_social.json" else bundled(name)

    monkeypatch.setattr(demo, "_bundled", fake)
    assert main(["demo", "--db", str(tmp_path / "d.sqlite3")]) == 0
    out = capsys.readouterr().out
    assert "update_social_settings by Ren (agent) → REFUSED [permission_denied]" in out
    assert "append_private_messages (S5) → no append interval is set: nothing is due" in out
    assert "handle_social_item → SKIP (kind_not_converted)" in _said(out, "mention 1862002")
    added = _said(out, "update_social_settings by Aiko")
    assert "rule x-returns: keywords 返品, 届かない, refund, マフラー" in added
    assert "update_social_settings by Aiko (admin, social_admin) → applied (S8)" in added
    matched = _said(out, "mention 1862002", nth=1)
    assert "→ NEW (keyword_match): ticket #17" in matched
    assert "matches (W5): マフラー at 12-16 “マフラー”" in matched
    assert "! rejected at the edge (P6): created_at: " in out
    assert "! nothing claims twitter/acme_jp/thread/1862003" in out
    assert "connection_view(nobody) (S9): unknown contact" in out
    assert f"\n{6 + len(CHAT_TICKETS) + 1 + len(LEVELS_TICKETS)} tickets in the queue" in out


# -- the knowledge-base sync (KB1-KB10) ---------------------------------------------------------

KB_HEADING = "── The knowledge base in the chat tool: schedules, sync plans and runs (KB1-KB10) ──"


def _kb_data() -> dict[str, Any]:
    from deskcore.cli import demo

    data: dict[str, Any] = json.loads(demo._bundled("sample_kb.json"))
    return data


def _flat(out: str, marker: str) -> str:
    """The step of :func:`_said` with every run of spaces as one (columns are padded)."""
    return " ".join(_said(out, marker).split())


def test_demo_plays_the_kb_section_after_the_social_one_and_before_the_queue(
    chat_demo: tuple[str, Path],
) -> None:
    """The sync section comes after the social one, numbered on; its copies and run log live
    in the demo's own SQLite file, beside the tickets (decision 43)."""
    out, db = chat_demo
    lines = [line.strip() for line in out.splitlines()]
    social = next(i for i, line in enumerate(lines) if line.startswith("── Facebook and X"))
    kb = lines.index(KB_HEADING)
    levels = lines.index(LEVELS_HEADING)
    assert social < kb < levels < lines.index("The queue now:")
    social_steps = [step for step in _social_data()["steps"] if "section" not in step]
    kb_steps = [step for step in _kb_data()["steps"] if "section" not in step]
    first = next(line for line in lines[kb:] if _STEP.match(line))
    assert first.startswith(f"{46 + len(social_steps)}. [2026-11-28T09:00:00+09:00]")
    numbers = [
        int(m.group(1)) for m in (re.match(r"(\d+)\. \[", line) for line in lines[:levels]) if m
    ]
    assert numbers[-1] == 45 + len(social_steps) + len(kb_steps)
    with SQLiteArticleTarget(db) as target:
        copies = {c.target_id: c.status.value for c in target.list_synced()}
        assert copies == {
            "kb-101": "published",
            "kb-102": "published",
            "kb-103": "draft",
            "kb-105": "draft",
            "kb-106": "draft",
        }
        assert [run.key for run in target.runs()] == [
            "kb@2026-11-29",
            "kb@2026-11-30",
            "kb@sync-now@2026-11-30T02:00:00+00:00",
            "kb@2026-12-04",
        ]
    with SQLiteTicketRepository(db) as store:
        assert len(store.search(TicketQuery(limit=100))) == QUEUE


def test_KB5_demo_prints_the_next_runs_of_three_schedules(chat_demo: tuple[str, Path]) -> None:
    """Daily at 03:00 in Tokyo, weekly on the first sync's weekday, monthly on the 31st clamped
    to shorter months and back to the 31st; a run time in a spring-forward gap runs once."""
    out, _ = chat_demo
    step = _step_of(out, "Schedule.anchored(kb-daily")
    runs = {line.split()[0]: line for line in step if line.startswith("kb-")}
    assert (
        runs["kb-daily@2026-11-29"]
        == "kb-daily@2026-11-29 Sun 2026-11-29 03:00 JST = 2026-11-28T18:00Z"
    )
    assert [k for k in runs if k.startswith("kb-daily@")][-1] == "kb-daily@2026-12-04"
    weekly = [line for k, line in runs.items() if k.startswith("kb-weekly@")]
    assert len(weekly) == 5
    assert all(line.split()[1] == "Sat" for line in weekly)
    assert "every Saturday (the first sync's weekday)" in " ".join(step)
    monthly = [
        (k, line.split("← ")[-1] if "←" in line else "")
        for k, line in runs.items()
        if k.startswith("kb-monthly@")
    ]
    assert monthly == [
        ("kb-monthly@2026-02-28", "clamped"),
        ("kb-monthly@2026-03-31", "back to the 31st"),
        ("kb-monthly@2026-04-30", "clamped"),
        ("kb-monthly@2026-05-31", "back to the 31st"),
        ("kb-monthly@2026-06-30", "clamped"),
        ("kb-monthly@2026-07-31", "back to the 31st"),
    ]
    assert runs["kb-monthly@2026-02-28"].split()[1:5] == ["Sat", "2026-02-28", "03:00", "JST"]
    assert (
        runs["kb-ny@2027-03-14"] == "kb-ny@2027-03-14 Sun 2027-03-14 03:00 EDT = 2027-03-14T07:00Z"
    )
    assert runs["kb-ny@2027-03-15"].split()[3:5] == ["02:30", "EDT"]
    assert (
        "02:30 does not exist on 2027-03-14 (clocks go forward): runs once, at 03:00 (KB5)"
        in " ".join(step)
    )


def test_KB2_KB9_demo_parses_the_settings_and_refuses_a_non_admins_change(
    chat_demo: tuple[str, Path],
) -> None:
    out, _ = chat_demo
    loaded = _said(out, "configure by Aiko (admin) → applied")
    assert "category returns “返品・交換” → chat department chat-support (KB2)" in loaded
    assert "category billing “お支払い” → chat department chat-sales (KB2)" in loaded
    assert "permission filter both (KB3), status rule keep_published (KB4)" in loaded
    assert "next run: kb@2026-11-29 (Sun 2026-11-29 03:00 JST = 2026-11-28T18:00Z)" in loaded
    refused = _said(out, "configure by Ren")
    assert "parse_kb_sync_settings → permission filter both → all_users" in refused
    assert "configure by Ren (agent) → REFUSED [permission_denied]" in refused
    assert "actor agent-ren lacks 'role:admin', required to configure the knowledge-base" in refused
    assert "the settings stay as they were: permission filter both" in refused


def test_KB3_KB4_KB8_KB10_demo_previews_the_first_plan_as_drafts(
    chat_demo: tuple[str, Path],
) -> None:
    out, _ = chat_demo
    step = _step_of(out, "preview by Aiko")
    said = " ".join(step)
    assert "preview by Aiko → the plan, nothing written (KB8): 4 create" in said
    creates = [line.split()[1:3] for line in step if line.startswith("create ")]
    assert creates == [[i, "(new_article)"] for i in ("kb-101", "kb-102", "kb-103", "kb-105")]
    assert all(line.endswith("as a draft (KB4)") for line in step if line.startswith("create "))
    assert "kb-104 · internal “社内手順” · all users" in said
    assert "→ no department, not synced (KB2)" in said
    assert "invisible to visitors (KB10): kb-103 (registered users only)" in step


def test_KB5_demo_runs_a_due_occurrence_once(chat_demo: tuple[str, Path]) -> None:
    """The scheduled run when due, under its occurrence key; a second call at the same
    moment does nothing."""
    out, _ = chat_demo
    step = _said(out, "run_due (worker 2)")
    assert (
        "03:00 run_due (worker 1) → RAN (scheduled) kb@2026-11-29: 4 created, 0 updated, "
        "0 unchanged, 0 orphaned"
    ) in step
    assert "03:00 run_due (worker 2) → NOT_DUE: no scheduled sync is due" in step
    assert "kb@2026-11-29 ran already; the same occurrence never runs twice (KB5)" in step
    assert "next run: kb@2026-11-30 (Mon 2026-11-30 03:00 JST = 2026-11-29T18:00Z)" in step


def test_KB4_KB7_demo_publishes_a_copy_and_refuses_to_edit_it(
    chat_demo: tuple[str, Path],
) -> None:
    out, _ = chat_demo
    published = _step_of(out, "Yui publishes kb-101")
    assert "10:00 Yui publishes kb-101 “返品の方法” → published" in published
    refused = _said(out, "Yui edits kb-101")
    assert "10:05 Yui edits kb-101 → REFUSED [read_only_article]" in refused
    assert "is read-only in the chat tool: edit it in the helpdesk and sync again" in refused
    assert "preview kb-101 (KB7): tag from-helpdesk, published: “商品到着後30日以内" in refused


def test_KB4_KB8_demo_updates_a_published_copy_and_keeps_an_orphan(
    chat_demo: tuple[str, Path],
) -> None:
    out, _ = chat_demo
    step = _flat(out, "kb@2026-11-30: 0 created")
    assert "03:00 run_due (worker 1) → RAN (scheduled) kb@2026-11-30: 0 created, 1 updated" in step
    assert (
        "update kb-101 (content_changed) stays published (keep_published, KB4); also "
        "source_version_changed"
    ) in step
    assert "unchanged kb-102, kb-103 (up_to_date)" in step
    assert "orphaned kb-105 (source_deleted) kept as it is, draft (KB8)" in step


def test_KB6_demo_syncs_now_without_moving_the_schedule(chat_demo: tuple[str, Path]) -> None:
    out, _ = chat_demo
    step = _flat(out, "sync_now by Aiko")
    assert (
        "11:00 sync_now by Aiko → RAN (manual) kb@sync-now@2026-11-30T02:00:00+00:00: 1 created"
    ) in step
    assert "create kb-106 (new_article) → chat-support as a draft (KB4)" in step
    assert (
        "next scheduled run: kb@2026-12-01 (Tue 2026-12-01 03:00 JST = 2026-11-30T18:00Z), "
        "unchanged; sync now does not move the schedule (KB6)"
    ) in step


def test_KB5_demo_coalesces_runs_missed_while_the_host_was_down(
    chat_demo: tuple[str, Path],
) -> None:
    out, _ = chat_demo
    step = _flat(out, "runs passed since the last one")
    assert (
        "4 runs passed since the last one (kb@2026-11-30): kb@2026-12-01, kb@2026-12-02, "
        "kb@2026-12-03, kb@2026-12-04; they coalesce into one (KB5)"
    ) in step
    assert "09:15 run_due (worker 1) → RAN (scheduled) kb@2026-12-04: 0 created, 1 updated" in step
    assert "update kb-103 (content_changed) stays a draft: it was never published (KB4)" in step
    assert "next run: kb@2026-12-05" in step


def test_KB1_demo_disabling_stops_runs_and_keeps_the_copies(
    chat_demo: tuple[str, Path],
) -> None:
    out, _ = chat_demo
    disabled = _said(out, "parse_kb_sync_settings → enabled true → false")
    assert "configure by Aiko (admin) → applied (KB9)" in disabled
    step = _step_of(out, "run_due (worker 1) → DISABLED")
    said = " ".join(step)
    assert (
        "03:00 run_due (worker 1) → DISABLED: sync is disabled; synced articles are left as "
        "they are"
    ) in said
    copies = [line.split()[:3] for line in step if line.startswith("kb-1")]
    assert copies == [
        ["kb-101", "chat-support", "published"],
        ["kb-102", "chat-support", "published"],
        ["kb-103", "chat-sales", "draft"],
        ["kb-105", "chat-support", "draft"],
        ["kb-106", "chat-support", "draft"],
    ]
    assert "“ギフト包装” · source deleted" in said
    assert (
        "run log: kb@2026-11-29, kb@2026-11-30, kb@sync-now@2026-11-30T02:00:00+00:00, "
        "kb@2026-12-04" in said
    )


# -- service levels, notifications and the work queue (SL1-SL7, N1-N3, Q1) -------------------

LEVELS_HEADING = (
    "── Service levels in business time, notifications and the work queue (SL1-SL7, N1-N3, Q1) ──"
)


def _levels_data() -> dict[str, Any]:
    from deskcore.cli import demo

    data: dict[str, Any] = json.loads(demo._bundled("sample_levels.json"))
    return data


def _levels_ticket(store: SQLiteTicketRepository, event: str) -> Ticket:
    conversation = _levels_data()["events"][event]["conversation"]
    found = store.find_by_reference(ExternalReference(**conversation))
    assert found is not None
    return found


def _queue_rows(lines: list[str], nth: int) -> list[str]:
    """The rows of the ``nth`` printed work queue (``1. #24 overdue since 11:00 twitter
    ...``), spaces squeezed."""
    starts = [i for i, line in enumerate(lines) if line.startswith("work_queue (Q1)")]
    rows = []
    for line in lines[starts[nth] + 1 :]:
        if not re.match(r"\d+\. #\d+ ", line):
            break
        rows.append(" ".join(line.split()))
    return rows


def test_demo_plays_the_levels_section_after_the_kb_one_and_before_the_queue(
    chat_demo: tuple[str, Path],
) -> None:
    """The service-levels section comes last, numbered on, its clock after the sync's; its
    two tickets are in department care, the only one its policies cover (SL1)."""
    out, db = chat_demo
    lines = [line.strip() for line in out.splitlines()]
    kb, levels = lines.index(KB_HEADING), lines.index(LEVELS_HEADING)
    assert kb < levels < lines.index("The queue now:")
    last_kb = max(i for i in range(levels) if _STEP.match(lines[i]))
    number = int(lines[last_kb].split(".")[0])
    first = next(line for line in lines[levels:] if _STEP.match(line))
    assert first.startswith(f"{number + 1}. [2027-01-08T15:00:00+09:00]")
    steps = [step for step in _levels_data()["steps"] if "section" not in step]
    crm = lines.index(CRM_HEADING)
    numbers = [
        int(m.group(1)) for m in (re.match(r"(\d+)\. \[", line) for line in lines[:crm]) if m
    ]
    assert numbers[-1] == number + len(steps)
    assert "! rejected" not in "\n".join(lines[levels:crm])
    with SQLiteTicketRepository(db) as store:
        scarf, order = (_levels_ticket(store, event) for event in LEVELS_TICKETS)
        assert [scarf.number, order.number] == [QUEUE + 1, QUEUE + 2]  # two merged away
        assert {scarf.department_id, order.department_id} == {"care"}
        assert scarf.first_responded_at == datetime.fromisoformat("2027-01-12T11:10:00+09:00")
        assert order.status is TicketStatus.OPEN
        assert [(r.from_status, r.to_status) for r in order.status_history()] == [
            (TicketStatus.OPEN, TicketStatus.ON_HOLD),
            (TicketStatus.ON_HOLD, TicketStatus.OPEN),
        ]
    assert f"\n{QUEUE} tickets in the queue, 2 in the trash" in out


def test_SL1_SL3_N1_N2_demo_counts_business_hours_and_routes_a_returns_phrase(
    chat_demo: tuple[str, Path],
) -> None:
    """Friday 16:00 plus four business hours is Tuesday 11:00: two hours on Friday, the
    weekend and the Monday holiday skipped, two more on Tuesday; the warning an hour before.
    Every agent hears of the new ticket, and the returns team too, for 返品 (N1, W5)."""
    out, _ = chat_demo
    settings = _flat(out, "The care team gets service levels")
    assert "Mon 2027-01-11 成人の日 (Coming of Age Day)" in settings
    assert "care-standard (care): first response 4h (warn 1h before)" in settings
    said = _flat(out, "Friday afternoon: a customer asks on X")
    assert "“@acme_jp 先週届いたマフラーを返品したいです。手続きを教えてください。”" in said
    assert "→ CREATE (new_conversation) on ticket #24" in said
    assert "follow_up → 3 notifications (N1):" in said
    assert "agent-yui, agent-ren: ticket_created by new-tickets" in said
    assert "returns-team: ticket_created by returns, phrase 返品 at 19-21" in said
    assert "template new-ticket: “[#24] New twitter ticket in care from tw-yamada_r”" in said
    assert "SLA of #24 (care-standard, tokyo-office hours): next_wakeup_at Tue 10:00" in said
    assert "first response running due Tue 2027-01-12 11:00, warning 10:00" in said
    assert (
        "counts 2h Fri 16:00-18:00 + 2h Tue 09:00-11:00; skips Sat, Sun, Mon 01-11 holiday" in said
    )
    assert "resolution running due Wed 2027-01-13 16:00, warning 11:00" in said
    assert "check_service_levels(since=None) → no alerts (SL6); next wake-up Tue 10:00" in said
    email = _flat(out, "An email: where is my order?")
    assert "follow_up → 2 notifications (N1): agent-yui, agent-ren:" in email
    assert "returns-team" not in email


def test_SL5_SL7_demo_pauses_the_clock_on_hold_over_the_long_weekend(
    chat_demo: tuple[str, Path],
) -> None:
    """On hold from Friday 17:00 to Tuesday 09:30, the clock counted only Friday's half hour;
    it resumes with 3h30m left, due at 14:00 after the lunch break (SL5)."""
    out, _ = chat_demo
    held = _flat(out, "puts the ticket on hold")
    assert "change_status(#25, on_hold) → ticket.status_changed: open → on_hold (agent)" in held
    assert "first response paused 30m counted, 3h30m left; no deadline while paused" in held
    assert "next_wakeup_at none" in held
    said = _flat(out, "Ren reopens it")
    assert "sla_report(#25) (care-standard, tokyo-office hours): next_wakeup_at 12:00" in said
    assert "first response running 30m counted, due Tue 2027-01-12 14:00, warning 12:00" in said
    assert "first response counted Fri 2027-01-08 16:30-17:00" in said
    assert "on hold Fri 2027-01-08 17:00 to Tue 2027-01-12 09:30: not counted" in said
    assert "not counting while on hold (SL5)" in said


def test_SL6_Q1_demo_warns_then_breaches_and_puts_the_overdue_ticket_first(
    chat_demo: tuple[str, Path],
) -> None:
    """The host's wake-ups announce the warning at 10:00 and the breach at 11:00, once each,
    to the policy's manager with the templates; the overdue ticket heads the queue until an
    agent replies, ten minutes late (SL6, Q1)."""
    out, _ = chat_demo
    warned = _flat(out, "WARNING #24")
    assert "check_service_levels(since=Fri 2027-01-08 16:00) → 1 alert (SL6)" in warned
    assert "WARNING #24 first response at 10:00, due 11:00 → manager-saki" in warned
    assert "sla-warning: “[#24] first_response due at 2027-01-12T11:00+09:00, 1h00m left" in warned
    breached = _flat(out, "BREACH #24")
    assert "check_service_levels(since=Tue 2027-01-12 10:00) → 1 alert (SL6)" in breached
    assert "BREACH #24 first response overdue since 11:00 → manager-saki" in breached
    assert "WARNING" not in breached
    lines = [line.strip() for line in out.splitlines()]
    before = _queue_rows(lines, 0)
    assert [row.split(" twitter ")[0].split(" email ")[0] for row in before[:2]] == [
        "1. #24 overdue since 11:00",
        "2. #25 needs action due 14:00",
    ]
    assert "先週届いたマフラーを返品" in before[0]
    replied = _flat(out, "Yui replies on X")
    assert "→ APPEND (conversation_has_ticket) on ticket #24" in replied
    assert (
        "first response breached 4h10m counted, due Tue 2027-01-12 11:00, stopped by the reply "
        "at 11:10: breached by 10m" in replied
    )
    assert "first response counted Fri 2027-01-08 16:00-18:00, Tue 2027-01-12 09:00-11:10" in (
        replied
    )
    after = _queue_rows(lines, 1)
    assert after[0] == "1. #25 needs action due 14:00 email Where is my order?"
    assert after[-1].startswith("17. #24 other due Wed 16:00 twitter")
    assert all(" overdue " not in row for row in after)


def test_demo_levels_steps_from_custom_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Policies with their own managers and channels, no templates, a reply in time (met),
    an overdue clock not yet stopped, and an event the edge rejects, which is reported."""
    from deskcore.cli import demo

    bundled = demo._bundled
    data = _levels_data()
    urgent = data["service_levels"]["policies"][0]
    urgent["conditions"]["channels"] = ["twitter"]
    urgent["managers"] = ["manager-ken"]
    data["notifications"].pop("templates")
    events = data["events"]
    events["order-reply"] = dict(
        events["order"],
        reference=dict(events["order"]["reference"], native_id="<c42@acme.example>"),
        direction="outbound",
        author_id="agent-ren",
        author_name="Ren (Acme Care)",
        body="Your kettle leaves the warehouse today.",
        sent_at="2027-01-12T09:40:00+09:00",
    )
    events["bad"] = dict(events["order"], sent_at="2027-01-12T09:40:00")
    data["steps"] = [
        *data["steps"][:4],
        {"at": "2027-01-12T09:40:00+09:00", "note": "in-time reply", "event": "order-reply"},
        {"at": "2027-01-12T09:41:00+09:00", "note": "a naive event", "event": "bad"},
        {
            "at": "2027-01-12T11:05:00+09:00",
            "note": "a late check",
            "explain": "scarf",
            "check": True,
        },
    ]

    def fake(name: str) -> str:
        return json.dumps(data) if name == "sample_levels.json" else bundled(name)

    monkeypatch.setattr(demo, "_bundled", fake)
    assert main(["demo", "--db", str(tmp_path / "d.sqlite3")]) == 0
    out = capsys.readouterr().out
    settings = _flat(out, "The care team gets service levels")
    assert "care-urgent (care, priority high, channel twitter): first response 1h" in settings
    assert "resolution 8h; managers manager-ken" in settings
    assert "template" not in _flat(out, "Friday afternoon")
    assert "first response met 2h10m counted, met at Tue 2027-01-12 09:40" in _flat(
        out, "in-time reply"
    )
    assert "! rejected at the edge (P6): sent_at:" in _flat(out, "a naive event")
    late = _flat(out, "a late check")
    assert "first response breached 4h05m counted, overdue since Tue 2027-01-12 11:00" in late
    assert "BREACH #24 first response overdue since 11:00 → manager-saki" in late
    assert "sla-" not in late


def test_demo_is_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same output on every run, apart from the database's path (fixed clock and ids)."""
    outputs = []
    for name in ("a.sqlite3", "b.sqlite3"):
        assert main(["demo", "--db", str(tmp_path / name)]) == 0
        outputs.append(capsys.readouterr().out.replace(str(tmp_path / name), "DB"))
    assert outputs[0] == outputs[1]
    assert "── Live chats" in outputs[0]
    assert "── Facebook and X" in outputs[0]
    assert "── The knowledge base in the chat tool" in outputs[0]
    assert LEVELS_HEADING in outputs[0]
    assert CRM_HEADING in outputs[0]


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


# -- CRM social automation (R1-R9) --------------------------------------------------------------

CRM_HEADING = "── CRM social automation: leads and contacts from social interactions (R1-R9) ──"


def test_demo_plays_the_crm_section_last_numbered_on(chat_demo: tuple[str, Path]) -> None:
    """The CRM section comes after the service levels and before the queue, numbered on."""
    out, _ = chat_demo
    lines = [line.strip() for line in out.splitlines()]
    levels, crm = lines.index(LEVELS_HEADING), lines.index(CRM_HEADING)
    assert levels < crm < lines.index("The queue now:")
    before = [int(m.group(1)) for m in (re.match(r"(\d+)\. \[", x) for x in lines[:crm]) if m]
    after = [int(m.group(1)) for m in (re.match(r"(\d+)\. \[", x) for x in lines[crm:]) if m]
    from deskcore.cli import demo

    data: dict[str, Any] = json.loads(demo._bundled("sample_crm.json"))
    steps = [step for step in data["steps"] if "section" not in step]
    assert after == list(range(before[-1] + 1, before[-1] + 1 + len(steps)))


def test_R2_R3_R4_demo_adds_a_contact_a_lead_and_links_an_existing_person(
    chat_demo: tuple[str, Path],
) -> None:
    """The demo adds a contact (a big account's mention) and a lead (a retweet), with the
    network as lead source, and links a known person's next interactions (R4)."""
    out, _ = chat_demo
    mention = _said(out, "@hanako_k (1,200 followers) mentions the brand")
    assert "→ ADD_CONTACT (branch_matched)" in mention
    assert "lead source Twitter (R3), owner sales-mai" in mention
    assert "event crm.record_added contact-1" in mention
    retweet = _said(out, "@daisuke_y retweets")
    assert "→ ADD_LEAD (branch_matched)" in retweet
    assert "branch 2 (retweeters)" in retweet
    again = _said(out, "Hanako replies, then writes a private message")
    assert again.count("→ LINK_EXISTING (already_linked)") == 2
    assert "already the contact contact-1" in again
    assert "crm.record_added" not in again
    replay = _said(out, "delivers Hanako's first mention again")
    assert "nothing new: the interaction is linked already" in replay
    assert "event crm." not in replay
    facebook = _said(out, "asks a price in a comment")
    assert "→ ADD_LEAD" in facebook
    assert "lead source Facebook" in facebook


def test_R5_R6_R7_R8_R9_demo_by_hand_views_posts_columns_and_admins(
    chat_demo: tuple[str, Path],
) -> None:
    """The refused non-social-admin (R9), linking by hand and its history (R5, R6), the social
    list (R5), post checks (R7) and monitoring columns (R8)."""
    out, _ = chat_demo
    assert "! refused (R9): [permission_denied]" in _said(out, "Ken, an admin but not")
    assert "→ sales-mai linked Emily Clark (twitter) to contact-2" in _said(
        out, "links Emily's X account"
    )
    assert "already the contact contact-2" in _said(out, "the contact Mai linked gets it")
    listing = _step_of(out, "Hanako's social list")
    conversations = listing.index("conversations on twitter, newest first:")
    messages = listing.index("messages on twitter, newest first:")
    assert listing[conversations + 1].startswith("10:30 reply")
    assert listing[conversations + 2].startswith("10:00 mention")
    assert listing[messages + 1].startswith("10:30 message")
    history = _step_of(out, "Mai's activity history")
    assert history[1:] == [
        "13:05 linked Emily Clark (twitter) to contact-2",
        "13:00 added Emily Clark (facebook) as the contact contact-2",
    ]
    posts = _said(out, "Mai drafts posts")
    assert "at most one image; this one has 2 (R7)" in posts
    assert "Twitter takes images up to 5.0 MB (R7)" in posts
    assert "7,340,032 bytes: ready to publish (R7)" in posts
    columns = _said(out, "Monitoring columns:")
    assert "→ column x-scarf: twitter keyword_search" in columns
    assert "! refused: MonitoringColumn.kind: column fb-scarf: only Twitter searches" in columns
