"""``deskcore demo``: a realistic stream through the engine on the embedded SQLite default."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable, Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from deskcore import (
    Desk,
    DeskcoreError,
    DeskSettings,
    DomainEvent,
    ExternalReference,
    IntakeResult,
    StatusChanged,
    TicketQuery,
    TicketStatus,
)
from deskcore.adapters import SQLiteTicketRepository
from deskcore.testing.fakes import FixedClock, SequentialIds
from deskcore.wire import parse_inbound_event, to_inbound_message

__all__ = ["run_demo"]

_WIDTH = 92


def _entries(stream: str | None) -> Iterator[dict[str, Any]]:
    if stream is None:
        text = (
            resources.files("deskcore.cli")
            .joinpath("data/sample_stream.jsonl")
            .read_text(encoding="utf-8")
        )
    else:
        text = Path(stream).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip():
            yield json.loads(line)


def _short(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _say(out: TextIO, text: str, indent: str = "    ") -> None:
    print(textwrap.fill(text, _WIDTH, initial_indent=indent, subsequent_indent=indent), file=out)


def _report(out: TextIO, result: IntakeResult) -> None:
    ticket = result.ticket
    where = f"ticket #{ticket.number}" if ticket is not None else "no ticket"
    print(f"    → {result.action.value.upper()} ({result.reason}) on {where}", file=out)
    _say(out, f"why: {result.explanation}", indent="      ")
    _events(out, result.events)


def _events(out: TextIO, events: Iterable[DomainEvent]) -> None:
    for event in events:
        detail = ""
        if isinstance(event, StatusChanged):
            detail = f": {event.from_status.value} → {event.to_status.value} ({event.reason})"
        print(f"      event: {event.name}{detail}", file=out)


def run_demo(*, db: str, stream: str | None, out: TextIO) -> int:
    """Play ``stream`` (or the bundled sample) into a fresh SQLite file at ``db``."""
    path = Path(db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    clock = FixedClock()
    with SQLiteTicketRepository(path) as store:
        desk = Desk(
            store=store,
            settings=DeskSettings(default_department_id="support"),
            clock=clock,
            ids=SequentialIds(),
        )
        print(f"deskcore demo: playing a stream into {path} (SQLite, WAL)\n", file=out)
        for step, entry in enumerate(_entries(stream), start=1):
            clock.set(datetime.fromisoformat(entry["at"]))
            print(f"{step:2}. [{entry['at']}] {entry['note']}", file=out)
            try:
                if "close" in entry:
                    conversation = ExternalReference(**entry["close"])
                    ticket = store.find_by_reference(conversation)
                    if ticket is None:
                        print(f"    ! nothing claims {conversation}", file=out)
                        continue
                    change = desk.change_status(ticket.id, TicketStatus.CLOSED)
                    print(f"    → ticket #{ticket.number} closed by an agent", file=out)
                    _events(out, change.events)
                    continue
                message = to_inbound_message(parse_inbound_event(entry["event"]))
                author = message.author_name or message.contact.name or message.contact.id
                print(
                    f"    {message.channel} {message.direction.value} from {author}: "
                    f"“{_short(message.body)}”",
                    file=out,
                )
                _report(out, desk.receive(message))
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                print(f"    ! rejected at the edge (P6): {where}: {first['msg']}", file=out)
            except DeskcoreError as error:
                print(f"    ! rejected: [{error.code}] {error.message}", file=out)
        _summary(out, store)
    return 0


def _summary(out: TextIO, store: SQLiteTicketRepository) -> None:
    tickets = sorted(store.search(TicketQuery(limit=1000)), key=lambda t: t.number)
    print("\nThe queue now:", file=out)
    print(
        f"  {'#':>3}  {'channel':<9} {'status':<8} {'needs action':<12} {'items':>5}  subject",
        file=out,
    )
    for t in tickets:
        contact = store.get_contact(t.contact_id)
        who = contact.name if contact is not None else t.contact_id
        print(
            f"  {t.number:>3}  {t.channel.code:<9} {t.status.value:<8} "
            f"{'yes' if t.needs_action else 'no':<12} {len(t.thread):>5}  "
            f"{_short(t.subject, 40)} ({who})",
            file=out,
        )
        if t.first_responded_at is not None:
            print(f"       first response at {t.first_responded_at.isoformat()}", file=out)
    reopen = f"SQLiteTicketRepository({str(store.path)!r})"
    print(f"\n{len(tickets)} tickets; open the file again with {reopen}.", file=out)
