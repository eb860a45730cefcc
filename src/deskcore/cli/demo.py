"""``deskcore demo``: a realistic stream through the engine on the embedded SQLite default.

The stream is JSON lines. Each line is one step, with ``at`` (the desk's clock for the step)
and a ``note``, and one of:

- ``event``: an inbound message, as a host's webhook would post it (P3, P6). Like a host, the
  demo reads a ``[#123]`` in the subject as the ticket number the message is about (M14).
- ``close``: an agent closes the ticket that claims this conversation reference (L1).
- ``merge``: an agent merges tickets, named by number (M1-M15): ``tickets``, ``actor``
  (``id``, ``name``, ``permissions``), and optionally ``primary``, ``choose`` (field → the
  number of the ticket whose value to take) and ``acknowledge_exposure``.

A line with only ``section`` prints a heading.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import attrs
from pydantic import ValidationError

from deskcore import (
    Actor,
    Desk,
    DeskcoreError,
    DeskSettings,
    DomainEvent,
    ExternalReference,
    FieldValue,
    IntakeResult,
    MergeJournalEntry,
    MergePlan,
    MergeRejectedError,
    Permission,
    StatusChanged,
    Ticket,
    TicketMerged,
    TicketQuery,
    TicketStatus,
    TicketTrashed,
)
from deskcore.adapters import SQLiteTicketRepository
from deskcore.testing.fakes import FixedClock, SequentialIds
from deskcore.wire import parse_inbound_event, to_inbound_message

__all__ = ["run_demo"]

_WIDTH = 92
_TICKET_NUMBER = re.compile(r"\[#(\d{1,9})\]")

Label = Callable[[str], str]


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


def _say(out: TextIO, text: str, indent: str = "    ", hang: str = "") -> None:
    """Print ``text`` wrapped; continuation lines are indented by ``hang`` more."""
    print(
        textwrap.fill(
            text,
            _WIDTH,
            initial_indent=indent,
            subsequent_indent=indent + hang,
            break_on_hyphens=False,
        ),
        file=out,
    )


def _report(out: TextIO, result: IntakeResult, label: Label) -> None:
    ticket = result.ticket
    where = f"ticket #{ticket.number}" if ticket is not None else "no ticket"
    print(f"    → {result.action.value.upper()} ({result.reason}) on {where}", file=out)
    _say(out, f"why: {result.explanation}", indent="      ")
    _events(out, result.events, label)


def _events(out: TextIO, events: Iterable[DomainEvent], label: Label) -> None:
    for event in events:
        detail = ""
        if isinstance(event, StatusChanged):
            detail = f": {event.from_status.value} → {event.to_status.value} ({event.reason})"
        elif isinstance(event, TicketTrashed) and event.merged_into is not None:
            detail = f": {label(event.ticket_id)} (merged into {label(event.merged_into)})"
        elif isinstance(event, TicketMerged):
            merged = ", ".join(label(i) for i in event.merged_ticket_ids)
            detail = f": {merged} into {label(event.ticket_id)} (journal {event.journal_id})"
        print(f"      event: {event.name}{detail}", file=out)


def _ticket_number(subject: str) -> int | None:
    """The ticket number a subject names (``Re: [#8] ...``), as a host's mail parser finds it."""
    found = _TICKET_NUMBER.search(subject)
    return int(found.group(1)) if found else None


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

        def label(ticket_id: str) -> str:
            return f"#{store.get(ticket_id).number}"

        print(f"deskcore demo: playing a stream into {path} (SQLite, WAL)\n", file=out)
        step = 0
        for entry in _entries(stream):
            if "section" in entry:
                print(f"\n── {entry['section']} ──\n", file=out)
                continue
            step += 1
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
                    _events(out, change.events, label)
                    continue
                if "merge" in entry:
                    _merge(out, desk, store, entry["merge"], label)
                    continue
                message = to_inbound_message(parse_inbound_event(entry["event"]))
                author = message.author_name or message.contact.name or message.contact.id
                print(
                    f"    {message.channel} {message.direction.value} from {author}: "
                    f"“{_short(message.body)}”",
                    file=out,
                )
                number = _ticket_number(message.subject)
                if number is not None:
                    message = attrs.evolve(message, ticket_number=number)
                    print(
                        f"    the subject “{_short(message.subject, 50)}” names ticket #{number}",
                        file=out,
                    )
                _report(out, desk.receive(message), label)
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                print(f"    ! rejected at the edge (P6): {where}: {first['msg']}", file=out)
            except DeskcoreError as error:
                print(f"    ! rejected: [{error.code}] {error.message}", file=out)
        _summary(out, store)
    return 0


# -- merging -----------------------------------------------------------------------------------


def _merge(
    out: TextIO,
    desk: Desk,
    store: SQLiteTicketRepository,
    spec: Mapping[str, Any],
    label: Label,
) -> None:
    """Plan a merge, show the plan as a merge screen would, and apply it (M1-M15)."""
    ids: dict[int, str] = {}
    for number in (*spec["tickets"], *spec.get("choose", {}).values()):
        found = store.find_by_number(number)
        if found is None:
            print(f"    ! no ticket #{number}", file=out)
            return
        ids[number] = found.id
    person = spec["actor"]
    actor = Actor(
        id=person["id"],
        name=person.get("name", ""),
        permissions=frozenset(person.get("permissions", ())),
    )
    primary = spec.get("primary")
    plan = desk.plan_merge(
        [ids[n] for n in spec["tickets"]],
        actor=actor,
        primary_id=None if primary is None else ids[primary],
        choices={field: ids[n] for field, n in spec.get("choose", {}).items()},
        acknowledge_exposure=bool(spec.get("acknowledge_exposure", False)),
    )
    tickets = {t.id: t for t in store.get_many(plan.ticket_ids)}
    _show_plan(out, plan, tickets, actor, primary_named=primary is not None, label=label)
    try:
        result = desk.merge(plan, actor=actor)
    except MergeRejectedError as error:
        print(f"    → REFUSED ({error.code}): nothing was written; every reason at once:", file=out)
        for reason in error.reasons:
            about = ", ".join(label(i) for i in reason.ticket_ids)
            _say(
                out,
                f"- {reason.code}: {reason.message}" + (f" [{about}]" if about else ""),
                indent="      ",
                hang="  ",
            )
        return
    merged = ", ".join(label(t.id) for t in result.trashed)
    print(
        f"    → MERGED {merged} into ticket #{result.primary.number}, "
        f"which now holds {len(result.primary.thread)} items; {merged} went to the trash (M6)",
        file=out,
    )
    _events(out, result.events, label)
    print(f"    journal: store.journal({result.primary.id!r}) (M15)", file=out)
    for entry in store.journal(result.primary.id):
        _show_journal(out, entry, tickets, label)


def _show_plan(
    out: TextIO,
    plan: MergePlan,
    tickets: Mapping[str, Ticket],
    actor: Actor,
    *,
    primary_named: bool,
    label: Label,
) -> None:
    allowed = "with" if actor.can(Permission.SEARCH_AND_MERGE) else "without"
    who = f"{actor.name or actor.id} ({allowed} {Permission.SEARCH_AND_MERGE.value})"
    listed = ", ".join(label(i) for i in plan.ticket_ids)
    if plan.primary_id is not None:
        why = "named by the agent" if primary_named else "created first"
        listed += f" → primary {label(plan.primary_id)} ({why}, M4)"
    print(f"    plan_merge by {who}: {listed}", file=out)

    def ticket(value: FieldValue) -> str:
        t = tickets[value.ticket_id]
        return f"#{t.number} {t.channel.code:<6}"

    if not plan.fields:
        print("    fields that differ (M8): none", file=out)
    elif not plan.ok:
        names = ", ".join(d.field for d in plan.fields)
        print(f"    fields that differ (M8): {names}", file=out)
    else:
        print("    fields that differ (M8), with every ticket's value:", file=out)
        for decision in plan.fields:
            print(f"      {decision.field}", file=out)
            for value in decision.values:
                if value.ticket_id == decision.chosen.ticket_id:
                    mark = "take   "
                elif value.present == decision.chosen.present and (
                    value.value == decision.chosen.value
                ):
                    mark = "same   "
                else:
                    mark = "discard"
                print(f"        {mark}  {ticket(value)}  {_value(value)}", file=out)

    if not plan.exposures:
        print("    exposure (M5): none, one contact on every ticket", file=out)
    for exposure in plan.exposures:
        source = tickets[exposure.ticket_id]
        bodies = "; ".join(_item_text(source, i) for i in exposure.item_ids)
        state = "acknowledged" if plan.exposure_acknowledged else "not acknowledged"
        _say(
            out,
            f"exposure (M5, {state}): contact {exposure.viewer_contact_id} would see "
            f"{len(exposure.item_ids)} public item(s) of {exposure.owner_contact_id} "
            f"from #{source.number}: {bodies}",
            hang="  ",
        )

    if plan.ok and plan.primary_id is not None:
        into = label(plan.primary_id)
        print(f"    items copied into {into}, at their place in the merged thread (M7):", file=out)
        for move in plan.moves:
            source = tickets[move.from_ticket_id]
            origin = (
                ""
                if move.origin_ticket_id == move.from_ticket_id
                else f", first written on {label(move.origin_ticket_id)}"
            )
            print(
                f"      [{move.position}] {move.item_id} from #{source.number}{origin}: "
                f"{_item_text(source, move.item_id)}",
                file=out,
            )


def _show_journal(
    out: TextIO, entry: MergeJournalEntry, tickets: Mapping[str, Ticket], label: Label
) -> None:
    merged = ", ".join(label(i) for i in entry.merged_ticket_ids)
    print(
        f"      {entry.id}: {merged} into {label(entry.primary_id)}, "
        f"by {entry.actor_id} at {entry.at.isoformat()}",
        file=out,
    )
    moved = ", ".join(
        f"{m.item_id} {label(m.from_ticket_id)}→{label(entry.primary_id)}[{m.position}]"
        for m in entry.moves
    )
    _say(out, f"moved: {moved or 'nothing'}", indent="        ", hang="  ")
    for decision in entry.fields:
        took = f"{_value(decision.chosen)} from {label(decision.chosen.ticket_id)}"
        print(f"        {decision.field}: took {took}", file=out)
        for value in decision.discarded:
            print(f"          discarded {_value(value)} from {label(value.ticket_id)}", file=out)
    if entry.exposures:
        shown = ", ".join(
            f"{e.owner_contact_id}'s {len(e.item_ids)} item(s) to {e.viewer_contact_id}"
            for e in entry.exposures
        )
        _say(out, f"exposure acknowledged: {shown}", indent="        ", hang="  ")


def _value(value: FieldValue) -> str:
    if not value.present:
        return "(not set)"
    if value.value is None or value.value == "":
        return "(empty)"
    if isinstance(value.value, str):
        return f"“{value.value}”"
    return str(value.value)


def _item_text(ticket: Ticket, item_id: str) -> str:
    item = next((i for i in ticket.thread if i.id == item_id), None)
    if item is None:
        return item_id
    body = getattr(item, "body", None)
    text = _short(body, 36) if isinstance(body, str) else getattr(item, "name", "")
    return f"{item.kind} “{text}”"


# -- summary -----------------------------------------------------------------------------------


def _summary(out: TextIO, store: SQLiteTicketRepository) -> None:
    tickets = sorted(store.search(TicketQuery(limit=1000)), key=lambda t: t.number)
    print("\nThe queue now:", file=out)
    print(
        f"  {'#':>3}  {'channel':<9} {'status':<8} {'needs action':<12} {'items':>5}  subject",
        file=out,
    )
    for t in tickets:
        print(
            f"  {t.number:>3}  {t.channel.code:<9} {t.status.value:<8} "
            f"{'yes' if t.needs_action else 'no':<12} {len(t.thread):>5}  "
            f"{_short(t.subject, 40)} ({_who(store, t)})",
            file=out,
        )
        if t.first_responded_at is not None:
            print(f"       first response at {t.first_responded_at.isoformat()}", file=out)
    everything = store.search(TicketQuery(limit=1000, include_trashed=True))
    trash = sorted((t for t in everything if t.is_trashed), key=lambda t: t.number)
    if trash:
        print("\nIn the trash (Desk.restore takes a ticket back out, M3):", file=out)
        for t in trash:
            where = "deleted"
            if t.merged_into is not None:
                where = f"merged into #{store.get(t.merged_into).number}"
            print(
                f"  {t.number:>3}  {t.channel.code:<9} {where:<16} "
                f"{_short(t.subject, 40)} ({_who(store, t)})",
                file=out,
            )
    reopen = f"SQLiteTicketRepository({str(store.path)!r})"
    print(
        f"\n{len(tickets)} tickets in the queue, {len(trash)} in the trash; "
        f"open the file again with {reopen}.",
        file=out,
    )


def _who(store: SQLiteTicketRepository, ticket: Ticket) -> str:
    contact = store.get_contact(ticket.contact_id)
    return contact.name if contact is not None else ticket.contact_id
