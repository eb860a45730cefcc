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

After the bundled stream, the demo plays the chat section of ``data/sample_chats.json``:
chats handed over by a live-chat tool, under the integration's settings as an admin changes
them (C1-C12), with the chat tool's departments mapped to the helpdesk's (D1-D4). Its
``steps`` are, besides ``section`` headings, each one of (with ``at`` and ``note``):

- ``enable``: parse the ``integration`` settings document and associate the chat departments
  with the helpdesk departments by name (D3).
- ``add_department``: the chat tool gets a new department, mapped as D4 says.
- ``settings``: change fields of the settings document; the department mapping is kept.
- ``chat`` and ``do``: a chat of ``chats`` and what happens to it, in order. An action is a
  chat event (``answered``, ``ended``, ``missed``, ``email_added``, as a string, or as
  ``{"event": ..., "at": ...}``) handed to :meth:`deskcore.Desk.handle_chat_event`; or an
  agent's ``add_email``, ``convert`` (by hand, C6), ``recent``, ``search``, ``panel``
  (C8, C9) or ``set_status`` (C10). A chat is seen as it is at the action's moment: the
  lines written by then, answered and ended once it was.

Then the social section of ``data/sample_social.json``: posts, mentions, replies and private
messages from Facebook and Twitter/X, under the social settings a social admin loads (S1-S9),
with keyword matches and their positions (W1-W5) and threading (H1-H4). Its ``items`` are
social item payloads as a host's webhook would post them (parsed with
:func:`deskcore.wire.parse_social_item`; an ``author`` may name one of ``profiles``). Its
``steps`` are, besides ``section`` headings, each one of (with ``at`` and ``note``):

- ``load_settings``: the actor (one of ``actors``) who parses the ``settings`` document and
  applies it with :func:`deskcore.update_social_settings` (S8).
- ``add_keywords``: ``{rule id: [keywords]}`` added to the document by the actor ``by``.
- ``item`` and ``do``: an item and what happens to it, in order: ``handle``
  (:meth:`deskcore.Desk.handle_social_item`, the default) or ``{"convert": department,
  "by": actor}`` (:meth:`deskcore.Desk.convert_social_item`), optionally with its own ``at``.
- ``close``: the actor ``by`` closes the ticket of that item's conversation (H3).
- ``append_check``: the host's scheduler runs :meth:`deskcore.Desk.append_private_messages`
  with the conversation records the desk handed back (S5); the platform holds the items of
  the conversation posted by then.
- ``connection``: :meth:`deskcore.Desk.connection_view` of a contact (S9), with the demo's
  own averages as its metrics function (X1).

Then the knowledge-base section of ``data/sample_kb.json``: the helpdesk's articles synced
into the chat tool (KB1-KB10) by :class:`deskcore.KnowledgeSync`, from an in-memory knowledge
base into a :class:`deskcore.adapters.SQLiteArticleTarget` on the demo's own file (its tables
live beside the tickets'). Its ``steps`` are, besides ``section`` headings, steps (with ``at``
and ``note``) holding one or more of, done in this order:

- ``schedules``: schedules anchored on a first sync (:meth:`deskcore.Schedule.anchored`), each
  with its next ``count`` runs in local time and UTC, with their keys (KB5).
- ``settings``: changes to the ``settings`` document (``{}`` for the document itself),
  parsed with :func:`deskcore.wire.parse_kb_sync_settings` and applied by the actor ``by``
  (one of ``actors``) with :meth:`deskcore.KnowledgeSync.configure` (KB9).
- ``put`` and ``delete``: articles of ``articles`` put into the knowledge base (an article
  with an id already there is an edit), and article ids deleted from it.
- ``preview``: the plan an actor previews (KB8, KB10).
- ``run_due``: the host's scheduler calls :meth:`deskcore.KnowledgeSync.run_due`, once per
  worker named (KB5).
- ``publish`` and ``edit``: the actor ``by`` publishes copies (KB4) or edits one, which the
  chat tool refuses (KB7).
- ``sync_now``: an actor syncs at once (KB6).
- ``copies``: the copies in the chat tool and the run log.

A ``--stream`` plays only that stream.

Last, the service-level section of ``data/sample_levels.json`` (played by
:mod:`deskcore.cli._levels`): a desk with business calendars, SLA policies and notification
rules; deadlines across a weekend and a Japanese holiday, a hold that pauses the clock, the
host's wake-ups with their warning and breach, and the work queue with the overdue ticket on
top until an agent replies (SL1-SL7, N1-N3, Q1).
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import attrs
from pydantic import ValidationError

from deskcore import (
    Actor,
    Channel,
    ChatAccessDeniedError,
    ChatEvent,
    ChatOutcome,
    ChatSession,
    ConnectionMetrics,
    Contact,
    CustomerProfile,
    Department,
    Desk,
    DeskcoreError,
    DeskSettings,
    Direction,
    DomainEvent,
    ExternalReference,
    FieldValue,
    Frequency,
    InboundMessage,
    IntakeResult,
    KnowledgeSync,
    MappingDefault,
    MergeJournalEntry,
    MergePlan,
    MergeRejectedError,
    Occurrence,
    Permission,
    PermissionDeniedError,
    ReadOnlyArticleError,
    Schedule,
    SocialConversation,
    SocialItem,
    SocialOutcome,
    SocialSettings,
    SourceArticle,
    StatusChanged,
    SyncAction,
    SyncOutcome,
    SyncPlan,
    SyncResult,
    SyncSettings,
    SyncTrigger,
    ThreadingMode,
    Ticket,
    TicketMerged,
    TicketQuery,
    TicketStatus,
    TicketTrashed,
    auto_associate,
    compile_social_matcher,
    lookup_departments,
    next_run,
    occurrences,
    on_chat_department_created,
    update_social_settings,
)
from deskcore.adapters import InMemoryArticleSource, SQLiteArticleTarget, SQLiteTicketRepository
from deskcore.testing.fakes import FixedClock, SequentialIds
from deskcore.wire import (
    AutoRulePayload,
    KbSyncSettingsDocument,
    SocialSettingsDocument,
    ThreadingRulePayload,
    parse_chat_integration,
    parse_inbound_event,
    parse_kb_sync_settings,
    parse_social_item,
    parse_social_settings,
    to_inbound_message,
)

__all__ = ["run_demo"]

_WIDTH = 92
_TICKET_NUMBER = re.compile(r"\[#(\d{1,9})\]")

Label = Callable[[str], str]


def _bundled(name: str) -> str:
    return resources.files("deskcore.cli").joinpath(f"data/{name}").read_text(encoding="utf-8")


def _entries(stream: str | None) -> Iterator[dict[str, Any]]:
    if stream is None:
        text = _bundled("sample_stream.jsonl")
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
        if stream is None:
            chats: dict[str, Any] = json.loads(_bundled("sample_chats.json"))
            step = _ChatScene(out, desk, clock, chats, label).play(step)
            social: dict[str, Any] = json.loads(_bundled("sample_social.json"))
            step = _SocialScene(out, desk, clock, social, label).play(step)
            kb: dict[str, Any] = json.loads(_bundled("sample_kb.json"))
            with SQLiteArticleTarget(path) as target:
                step = _KbScene(out, desk, clock, kb, label, target=target).play(step)
            from deskcore.cli._crm import _CrmScene  # these import this module
            from deskcore.cli._levels import _LevelsScene

            levels: dict[str, Any] = json.loads(_bundled("sample_levels.json"))
            step = _LevelsScene(out, desk, clock, levels, label).play(step)
            crm: dict[str, Any] = json.loads(_bundled("sample_crm.json"))
            _CrmScene(out, desk, clock, crm, label).play(step)
        _summary(out, store)
    if stream is None:
        from deskcore.cli._replay_demo import play_replay

        play_replay(out)
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


# -- chats -------------------------------------------------------------------------------------

_CHAT_ACCOUNT = "acme_site"
_OVERDUE_AFTER = timedelta(days=2)
_EVENT_MOMENTS = {
    ChatEvent.STARTED: "started_at",
    ChatEvent.ENDED: "ended_at",
    ChatEvent.MISSED: "ended_at",
}


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _overdue(ticket: Ticket, now: datetime) -> bool:
    """The demo's overdue rule for the visitor panel (C9): open for more than two days."""
    return now - ticket.created_at > _OVERDUE_AFTER


def _event_names(events: Iterable[DomainEvent]) -> str:
    """The events on one line, in order of first appearance, counted: ``item_appended ×3``."""
    counts: dict[str, int] = {}
    for event in events:
        label = event.name
        if isinstance(event, StatusChanged):
            label += f": {event.from_status.value} → {event.to_status.value} ({event.reason})"
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(
        label if count == 1 else f"{label} ×{count}" for label, count in counts.items()
    )


class _Scene:
    """A section of the demo played from its data file: steps at set times, each printed
    with what the desk decided; a step the desk or the edge rejects is reported, and the
    demo goes on."""

    def __init__(
        self, out: TextIO, desk: Desk, clock: FixedClock, data: Mapping[str, Any], label: Label
    ) -> None:
        self.out = out
        self.desk = desk
        self.clock = clock
        self.data = data
        self.label = label

    def play(self, step: int) -> int:
        """Play every step, numbered on from ``step``; returns the last number."""
        for entry in self.data["steps"]:
            if "section" in entry:
                print(f"\n── {entry['section']} ──\n", file=self.out)
                continue
            step += 1
            self.clock.set(_time(entry["at"]))
            print(f"{step:2}. [{entry['at']}] {entry['note']}", file=self.out)
            try:
                self._step(entry)
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                print(f"    ! rejected at the edge (P6): {where}: {first['msg']}", file=self.out)
            except DeskcoreError as error:
                print(f"    ! rejected: [{error.code}] {error.message}", file=self.out)
        return step

    def _step(self, entry: Mapping[str, Any]) -> None:
        raise NotImplementedError  # pragma: no cover - every scene has its steps

    def _print(self, text: str) -> None:
        _say(self.out, f"{self.clock.now():%H:%M} {text}", hang="      ")


class _ChatScene(_Scene):
    """Plays the chat section of ``sample_chats.json`` on the desk (C1-C12, D1-D4)."""

    def __init__(
        self, out: TextIO, desk: Desk, clock: FixedClock, data: Mapping[str, Any], label: Label
    ) -> None:
        super().__init__(out, desk, clock, data, label)
        self.document: dict[str, Any] = dict(data["integration"])
        parsed = parse_chat_integration(self.document)
        self.settings = parsed.to_settings()
        self.mapping = parsed.to_mapping()
        self.by_hand = {link.chat_department_id for link in self.mapping.links}
        self.helpdesk = [Department(**d) for d in data["helpdesk_departments"]]
        self.chat_departments = [Department(**d) for d in data["chat_departments"]]
        self.added_emails: dict[str, str] = {}
        self.seen: set[tuple[str, ChatEvent]] = set()

    def _step(self, entry: Mapping[str, Any]) -> None:
        if entry.get("enable"):
            self._enable()
        elif "add_department" in entry:
            self._add_department(Department(**entry["add_department"]))
        elif "settings" in entry:
            self._change_settings(entry["settings"])
        else:
            self._chat(entry["chat"], entry["do"])

    # -- settings and departments (C1-C4, C11, D1-D4) --------------------------------------

    def _enable(self) -> None:
        document = parse_chat_integration(self.document)
        self.settings = document.to_settings()
        self.mapping, notices = auto_associate(
            self.chat_departments, self.helpdesk, document.to_mapping()
        )
        fields = document.model_dump(mode="json", exclude={"departments", "schema_version"})
        shown = [
            f"{key}={str(value).lower() if isinstance(value, bool) else value}"
            for key, value in fields.items()
        ]
        print(f"    parse_chat_integration → {' '.join(shown[:4])}", file=self.out)
        print(f"      {' '.join(shown[4:])}", file=self.out)
        print("    auto_associate (D1, D3):", file=self.out)
        for department in self.chat_departments:
            print(f"      {self._department(department.id)}", file=self.out)
        for notice in notices:
            _say(self.out, f"notice ({notice.code}): {notice.message}", indent="      ", hang="  ")

    def _add_department(self, department: Department) -> None:
        self.chat_departments.append(department)
        self.mapping, notice = on_chat_department_created(department, self.helpdesk, self.mapping)
        print(f"    on_chat_department_created: {self._department(department.id)}", file=self.out)
        if notice is not None:
            _say(self.out, f"notice ({notice.code}): {notice.message}", indent="      ", hang="  ")

    def _change_settings(self, changes: Mapping[str, Any]) -> None:
        before = self.document
        self.settings = parse_chat_integration({**before, **changes}).to_settings()
        self.document = {**before, **changes}  # only once the document parses (P6)
        shown = ", ".join(
            f"{key} {before.get(key, '(default)')} → {value}"
            for key, value in changes.items()
            if before.get(key) != value
        )
        _say(self.out, f"settings: {shown}; the rest as before", hang="  ")

    def _department_name(self, department_id: str) -> str:
        names = {d.id: d.name for d in self.chat_departments}
        return f"{department_id} “{names.get(department_id, '?')}”"

    def _department(self, chat_department_id: str, *, short: bool = False) -> str:
        """``chat-x “name” → where it maps``, as the mapping screen shows it (D1); ``short``
        leaves out the helpdesk department's name and how the link was made."""
        link = self.mapping.link_for(chat_department_id)
        target: str
        if short:
            target = link.helpdesk_department_id or str(link.default).replace("_", " ")
        elif link.helpdesk_department_id is not None:
            names = {d.id: d.name for d in self.helpdesk}
            how = "auto-associated" if link.auto else "mapped by hand"
            target = (
                f"{link.helpdesk_department_id} “{names.get(link.helpdesk_department_id, '?')}” "
                f"({how})"
            )
        else:
            assert link.default is not None
            target = link.default.value.replace("_", " ")
            if chat_department_id in self.by_hand:
                target += " (set by hand)"
            elif link.default is MappingDefault.CHOOSE_EACH_TIME:
                target += " (no name matches)"
        return f"{self._department_name(chat_department_id)} → {target}"

    # -- chats (C1-C12) ----------------------------------------------------------------------

    def _session(self, chat_id: str) -> ChatSession:
        """The chat as the chat tool reports it now: the lines so far, answered and ended if
        it was by now."""
        spec = self.data["chats"][chat_id]
        now = self.clock.now()
        visitor = self.data["visitors"][spec["visitor"]]
        email = self.added_emails.get(chat_id, visitor.get("email"))
        contact = Contact(id=spec["visitor"], name=visitor["name"], email=email)
        lines = tuple(
            self._line(chat_id, n, line, contact)
            for n, line in enumerate(spec["lines"], start=1)
            if _time(line["at"]) <= now
        )
        answered = spec.get("answered")
        if answered is not None and _time(answered["at"]) > now:
            answered = None
        ended_at = spec.get("ended_at")
        ended = ended_at is not None and _time(ended_at) <= now
        return ChatSession(
            reference=ExternalReference(
                network="chat", account=_CHAT_ACCOUNT, kind="chat_session", native_id=chat_id
            ),
            visitor_name=visitor["name"],
            visitor_email=email,
            department_id=spec["department"],
            started_at=_time(spec["started_at"]),
            answered_by=None if answered is None else answered["by"],
            answered_at=None if answered is None else _time(answered["at"]),
            ended_at=_time(ended_at) if ended else None,
            missed=ended and bool(spec.get("missed", False)),
            transcript=lines,
        )

    def _line(
        self, chat_id: str, n: int, line: Mapping[str, Any], contact: Contact
    ) -> InboundMessage:
        by = line["by"]
        agent = None if by == "visitor" else self._actor(by)
        return InboundMessage(
            reference=ExternalReference(
                network="chat", account=_CHAT_ACCOUNT, kind="chat_line", native_id=f"{chat_id}/{n}"
            ),
            channel=Channel.CHAT,
            contact=contact,
            direction=Direction.INBOUND if agent is None else Direction.OUTBOUND,
            author_id=None if agent is None else agent.id,
            author_name="" if agent is None else agent.name,
            body=line["text"],
            sent_at=_time(line["at"]),
        )

    def _actor(self, actor_id: str) -> Actor:
        agent = self.data["agents"][actor_id]
        return Actor(id=actor_id, name=agent["name"], permissions=frozenset(agent["permissions"]))

    def _chat(self, chat_id: str, actions: Iterable[str | Mapping[str, Any]]) -> None:
        spec = self.data["chats"][chat_id]
        visitor = self.data["visitors"][spec["visitor"]]
        email = visitor.get("email")
        first = next(line["text"] for line in spec["lines"] if line["by"] == "visitor")
        more = len(spec["lines"]) - 1
        print(
            f"    chat {chat_id} · {self._department(spec['department'], short=True)} · "
            f"{visitor['name']} <{email or 'no email'}>",
            file=self.out,
        )
        lines = "" if not more else f" (+{more} line{'s' if more > 1 else ''})"
        print(f"      “{_short(first, 60)}”{lines}", file=self.out)
        for action in actions:
            self._act(chat_id, {"event": action} if isinstance(action, str) else action)

    def _act(self, chat_id: str, action: Mapping[str, Any]) -> None:
        if "event" in action:
            event = ChatEvent(action["event"])
            at = action.get("at")
            if at is None:
                at = self._moment(chat_id, event)
            if at is not None:
                self.clock.set(_time(at))
            self._event(chat_id, event)
            return
        if "at" in action:
            self.clock.set(_time(action["at"]))
        if "add_email" in action:
            self.added_emails[chat_id] = action["add_email"]
            who = self._actor(action["by"]).name
            self._print(f"{who} adds the visitor's email address {action['add_email']} (C5)")
        elif "convert" in action:
            self._convert(chat_id, action["convert"])
        elif "recent" in action:
            self._recent(chat_id, int(action["recent"]))
        elif "search" in action:
            self._search(chat_id, action["search"])
        elif "panel" in action:
            self._panel(chat_id)
        elif "set_status" in action:
            self._set_status(chat_id, action)
        else:
            raise ValueError(f"unknown chat action {sorted(action)}")

    def _moment(self, chat_id: str, event: ChatEvent) -> str | None:
        """When the chat tool reports ``event`` of the chat, from the chat's data."""
        spec = self.data["chats"][chat_id]
        if event is ChatEvent.ANSWERED:
            answered = spec.get("answered")
            return None if answered is None else str(answered["at"])
        field = _EVENT_MOMENTS.get(event)
        return None if field is None else spec.get(field)

    def _event(self, chat_id: str, event: ChatEvent) -> None:
        again = (chat_id, event) in self.seen
        self.seen.add((chat_id, event))
        outcome = self.desk.handle_chat_event(
            self._session(chat_id), event, settings=self.settings, mapping=self.mapping
        )
        self._outcome(event.value + (" again" if again else ""), outcome)

    def _convert(self, chat_id: str, choices: Mapping[str, Any]) -> None:
        actor = self._actor(choices["by"])
        chosen = {
            name: choices[key]
            for key, name in (
                ("department", "department_id"),
                ("priority", "priority"),
                ("status", "status"),
                ("classification", "classification"),
            )
            if key in choices
        }
        outcome = self.desk.convert_chat(
            self._session(chat_id),
            settings=self.settings,
            mapping=self.mapping,
            actor=actor,
            **chosen,
        )
        shown = " ".join(f"{key}={value}" for key, value in chosen.items())
        self._print(f"{actor.name} converts by hand, choosing {shown or 'nothing'} (C6)")
        self._outcome("", outcome)

    def _outcome(self, what: str, outcome: ChatOutcome) -> None:
        """The decision on a chat (C12) after ``what`` happened; on a line of its own without
        ``what``."""
        decision = outcome.decision
        ticket = outcome.ticket
        where = ""
        if ticket is not None:
            where = f": ticket #{ticket.number}"
            if decision.converts:
                details = [ticket.department_id, ticket.status.value]
                if decision.priority is not None:
                    details.append(ticket.priority.value)
                if ticket.classification is not None:
                    details.append(str(ticket.classification))
                items = len(ticket.thread)
                details.append(f"{items} item{'' if items == 1 else 's'}")
                where += f" ({', '.join(details)})"
        said = f"→ {decision.outcome.value.upper()} ({decision.reason}){where}"
        if what:
            self._print(f"{what} {said}")
        else:
            _say(self.out, said, indent="      ", hang="  ")
        _say(self.out, f"why: {decision.explanation}", indent="      ", hang="  ")
        if outcome.events:
            _say(self.out, f"events: {_event_names(outcome.events)}", indent="      ", hang="  ")

    # -- lookups from a chat (C8-C10) ---------------------------------------------------------

    def _refused(self, what: str, error: ChatAccessDeniedError) -> None:
        self._print(f"{what} → REFUSED ({error.reason})")
        _say(self.out, f"why: {error.message}", indent="      ", hang="  ")

    def _rows(self, tickets: Iterable[Ticket]) -> None:
        shown = False
        for t in tickets:
            shown = True
            print(
                f"      #{t.number:<3} {t.status.value:<8} {t.department_id:<8} "
                f"{t.created_at.date()}  {_short(t.subject, 40)}",
                file=self.out,
            )
        if not shown:
            print("      (none)", file=self.out)

    def _scope(self, chat: ChatSession) -> str:
        departments = lookup_departments(self.settings, self.mapping.link_for(chat.department_id))
        return "all departments" if departments is None else ", ".join(sorted(departments))

    def _recent(self, chat_id: str, limit: int) -> None:
        chat = self._session(chat_id)
        what = f"recent tickets of {chat.visitor_email}"
        try:
            found = self.desk.recent_tickets(
                chat, settings=self.settings, mapping=self.mapping, limit=limit
            )
        except ChatAccessDeniedError as error:
            self._refused(what, error)
            return
        self._print(f"{what} (C8, in {self._scope(chat)}):")
        self._rows(found)

    def _search(self, chat_id: str, term: str | Mapping[str, str]) -> None:
        chat = self._session(chat_id)
        if not isinstance(term, str):
            ticket = self._ticket_of(term["number_of"])
            if ticket is None:
                return
            term = f"#{ticket.number}"
        found = self.desk.search_from_chat(chat, term, settings=self.settings, mapping=self.mapping)
        self._print(f"search “{term}” (C8, in {self._scope(chat)}):")
        self._rows(found)

    def _profile(self, contact: Contact) -> CustomerProfile | None:
        visitor = self.data["visitors"].get(contact.id, {})
        profile = visitor.get("profile")
        return None if profile is None else CustomerProfile(**profile)

    def _panel(self, chat_id: str) -> None:
        chat = self._session(chat_id)
        panel = self.desk.visitor_panel(
            chat,
            settings=self.settings,
            mapping=self.mapping,
            profiles=self._profile,
            is_overdue=_overdue,
        )
        profile = panel.profile
        self._print(f"visitor panel (C9): contact {panel.contact_id}")
        for text in (
            f"account: {profile.account_name} · contact owner: {profile.contact_owner}",
            f"SLA: {profile.sla_name} · contract: {profile.contract_name}",
        ):
            print(f"      {text}", file=self.out)
        recent = ", ".join(f"#{t.number}" for t in panel.recent)
        print(
            f"      {panel.total_tickets} tickets, {panel.overdue_tickets} overdue (open for "
            f"more than {_OVERDUE_AFTER.days} days); newest first: {recent}",
            file=self.out,
        )

    def _ticket_of(self, chat_id: str) -> Ticket | None:
        """The ticket a chat became (where it lives now, M14)."""
        reference = ExternalReference(
            network="chat", account=_CHAT_ACCOUNT, kind="chat_session", native_id=chat_id
        )
        found = self.desk.store.find_by_reference(reference)
        if found is None:
            print(f"    ! chat {chat_id} has no ticket", file=self.out)
            return None
        return self.desk.resolve(found.id)

    def _set_status(self, chat_id: str, action: Mapping[str, Any]) -> None:
        ticket = self._ticket_of(action["ticket_of"])
        if ticket is None:
            return
        actor = self._actor(action["by"])
        to_status = TicketStatus(action["set_status"])
        what = (
            f"{actor.name} sets #{ticket.number} ({ticket.status.value}) to "
            f"{to_status.value} from the chat (C10)"
        )
        try:
            change = self.desk.set_status_from_chat(
                self._session(chat_id),
                ticket.id,
                to_status,
                settings=self.settings,
                mapping=self.mapping,
                actor=actor,
            )
        except ChatAccessDeniedError as error:
            self._refused(what, error)
            return
        self._print(f"{what} → ticket #{change.ticket.number} is {change.ticket.status.value}")
        _events(self.out, change.events, self.label)


# -- social posts and messages (S1-S9, W1-W5, H1-H4) -------------------------------------------


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


def _duration(delta: timedelta) -> str:
    """``1 h 05 min``, ``27 min``: a duration as a person reads it."""
    minutes = round(delta.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02} min" if hours else f"{minutes} min"


def _mean(values: Sequence[timedelta]) -> timedelta | None:
    return sum(values, timedelta()) / len(values) if values else None


def _responses(tickets: Iterable[Ticket]) -> list[timedelta]:
    return [
        t.first_responded_at - t.created_at for t in tickets if t.first_responded_at is not None
    ]


def _resolutions(tickets: Iterable[Ticket]) -> list[timedelta]:
    return [
        t.closed_at - t.created_at
        for t in tickets
        if t.status is TicketStatus.CLOSED and t.closed_at is not None
    ]


def _connection_metrics(tickets: Sequence[Ticket]) -> ConnectionMetrics:
    """The demo's averages for a connection (S9, X1): from the tickets' own times; the demo
    has no satisfaction ratings, so satisfaction stays ``None``."""
    return ConnectionMetrics(
        average_first_response=_mean(_responses(tickets)),
        average_resolution=_mean(_resolutions(tickets)),
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class _SocialScene(_Scene):
    """Plays the social section of ``sample_social.json`` on the desk (S1-S9, W1-W5, H1-H4)."""

    def __init__(
        self, out: TextIO, desk: Desk, clock: FixedClock, data: Mapping[str, Any], label: Label
    ) -> None:
        super().__init__(out, desk, clock, data, label)
        self.document: dict[str, Any] = dict(data["settings"])
        # Until a social admin loads the document, no rule converts anything.
        self.settings = SocialSettings()
        self.matcher = compile_social_matcher(self.settings)
        self.items: dict[str, SocialItem] = {}
        self.records: dict[ExternalReference, SocialConversation] = {}

    def _step(self, entry: Mapping[str, Any]) -> None:
        if "load_settings" in entry:
            self._load(self._actor(entry["load_settings"]))
        elif "add_keywords" in entry:
            self._add_keywords(entry["add_keywords"], self._actor(entry["by"]))
        elif "close" in entry:
            self._close(entry["close"], self._actor(entry["by"]))
        elif entry.get("append_check"):
            self._append_check()
        elif "connection" in entry:
            self._connection(entry["connection"])
        else:
            self._item_step(entry["item"], entry.get("do", ["handle"]))

    def _actor(self, actor_id: str) -> Actor:
        person = self.data["actors"][actor_id]
        return Actor(
            id=actor_id,
            name=person["name"],
            roles=frozenset(person.get("roles", ())),
            permissions=frozenset(person.get("permissions", ())),
        )

    # -- settings (S4, S5, S8, H3) ------------------------------------------------------------

    def _load(self, actor: Actor) -> None:
        document = parse_social_settings(self.document)
        rules = len(document.rules)
        interval = document.append_interval_hours
        print(
            f"    parse_social_settings → {_plural(rules, 'rule')}, default department "
            f"{document.default_department_id}, append interval "
            f"{'none' if interval is None else _hours(timedelta(hours=interval))}",
            file=self.out,
        )
        for rule in document.rules:
            self._rule(rule)
        threading = [self._threading("every kind", document.threading)]
        threading += [self._threading(k.value, r) for k, r in document.threading_by_kind.items()]
        _say(self.out, f"threading (H3): {'; '.join(threading)}", indent="      ", hang="  ")
        self._apply(document, actor)

    def _rule(self, rule: AutoRulePayload) -> None:
        kinds = ", ".join(k.value for k in rule.kinds)
        if rule.match_all:
            what = "all messages (S5)"
        else:
            how = "prefixes match too" if rule.prefix else "English keywords match whole words"
            what = f"keywords {', '.join(rule.keywords)} ({how}, W2)"
        where = rule.department_id or "the default department"
        _say(
            self.out,
            f"rule {rule.id}: {rule.network} {kinds}; {what} → {where}",
            indent="      ",
            hang="  ",
        )

    @staticmethod
    def _threading(kind: str, rule: ThreadingRulePayload) -> str:
        mode = rule.mode.value.replace("_", " ")
        if rule.mode is ThreadingMode.REOPEN_WITHIN:
            mode += f" {_hours(timedelta(hours=rule.window_hours))} of closing"
        return f"{kind}: {mode}"

    def _apply(self, document: SocialSettingsDocument, actor: Actor) -> bool:
        """Replace the settings with ``document`` as ``actor`` (S8); False when refused."""
        roles = ", ".join(sorted(r.value for r in actor.roles)) or "no roles"
        what = f"update_social_settings by {actor.name} ({roles})"
        try:
            settings = update_social_settings(self.settings, document.to_settings(), actor=actor)
        except PermissionDeniedError as error:
            print(f"    {what} → REFUSED [{error.code}]", file=self.out)
            _say(self.out, f"why: {error.message} (S8)", indent="      ", hang="  ")
            return False
        self.settings = settings
        self.matcher = compile_social_matcher(settings)
        self.document = document.model_dump(mode="json")
        print(f"    {what} → applied (S8)", file=self.out)
        print(
            "    compile_social_matcher: one matcher for the keywords of every rule (W4)",
            file=self.out,
        )
        return True

    def _add_keywords(self, additions: Mapping[str, Sequence[str]], actor: Actor) -> None:
        rules = [
            {**rule, "keywords": [*rule.get("keywords", ()), *additions.get(rule["id"], ())]}
            for rule in self.document["rules"]
        ]
        document = parse_social_settings({**self.document, "rules": rules})
        changed = [rule for rule in document.rules if rule.id in additions]
        for rule in changed:
            print(
                f"    parse_social_settings → rule {rule.id}: keywords {', '.join(rule.keywords)}",
                file=self.out,
            )
        if not self._apply(document, actor):
            kept = ", ".join(
                f"rule {rule.id} keeps {_plural(len(rule.keywords), 'keyword')}"
                for rule in self.settings.rules
                if rule.id in additions
            )
            print(f"      the settings stay as they were: {kept}", file=self.out)

    # -- items (S1-S4, S6, H1-H4, W1-W5) ------------------------------------------------------

    def _item(self, key: str) -> SocialItem:
        """An item of the data, parsed at the edge as a host's webhook would (P6)."""
        item = self.items.get(key)
        if item is None:
            payload = dict(self.data["items"][key])
            if isinstance(payload.get("author"), str):
                payload["author"] = self.data["profiles"][payload["author"]]
            item = self.items[key] = parse_social_item(payload).to_item()
        return item

    def _item_step(self, key: str, actions: Iterable[str | Mapping[str, Any]]) -> None:
        item = self._item(key)
        author = item.author
        who = author.name
        if author.handle and author.display_name:
            who += f" ({author.handle})"
        details = [f"{item.network} {item.kind.value} {item.native_id}", who]
        details.append(item.source.value)
        conversation = item.conversation_key
        if conversation.native_id != item.native_id:
            details.append(f"{conversation.kind} {conversation.native_id}")
        if item.is_brand_own:
            details.append("brand's own")
        _say(self.out, " · ".join(details), hang="    ")
        print(f"      “{_short(item.text, 70)}”", file=self.out)
        for action in actions:
            if action == "handle":
                outcome = self.desk.handle_social_item(
                    item, settings=self.settings, matcher=self.matcher
                )
                self._outcome("handle_social_item", item, outcome)
                continue
            assert isinstance(action, Mapping)
            if "at" in action:
                self.clock.set(_time(action["at"]))
            actor = self._actor(action["by"])
            outcome = self.desk.convert_social_item(
                item, department_id=action["convert"], settings=self.settings, actor=actor
            )
            self._outcome(
                f"{actor.name} converts it by hand into {action['convert']}", item, outcome
            )

    def _outcome(self, what: str, item: SocialItem, outcome: SocialOutcome) -> None:
        """The decision on an item (H4), its keyword matches (W5) and what intake did (P3)."""
        decision = outcome.decision
        said = f"→ {decision.outcome.value.upper()} ({decision.reason})"
        ticket = outcome.ticket
        if ticket is not None:
            said += (
                f": ticket #{ticket.number} ({ticket.department_id}, {ticket.status.value}, "
                f"{_plural(len(ticket.thread), 'item')})"
            )
        self._print(f"{what} {said}")
        _say(self.out, f"why: {decision.explanation}", indent="      ", hang="  ")
        if decision.matches:
            shown = "; ".join(
                f"{m.keyword} at {m.start}-{m.end} “{item.text[m.start : m.end]}”"
                for m in decision.matches
            )
            _say(self.out, f"matches (W5): {shown}", indent="      ", hang="  ")
        if decision.previous_ticket_id is not None and ticket is not None:
            _say(
                self.out,
                f"the conversation moves from {self.label(decision.previous_ticket_id)} to "
                f"#{ticket.number}, which keeps its history (H3)",
                indent="      ",
                hang="  ",
            )
        if outcome.intake is not None:
            written = _event_names(outcome.events) or "nothing written"
            _say(
                self.out,
                f"intake (P3): {outcome.intake.value}; {written}",
                indent="      ",
                hang="  ",
            )
        record = outcome.conversation
        if record is not None:
            self.records[record.conversation] = record
            _say(
                self.out,
                f"kept for the append check (S5): {record.conversation} → "
                f"{self.label(record.ticket_id)}",
                indent="      ",
                hang="  ",
            )

    def _close(self, key: str, actor: Actor) -> None:
        conversation = self._item(key).conversation_key
        found = self.desk.store.find_by_reference(conversation)
        if found is None:
            print(f"    ! nothing claims {conversation}", file=self.out)
            return
        change = self.desk.change_status(self.desk.resolve(found.id).id, TicketStatus.CLOSED)
        print(f"    → ticket #{change.ticket.number} closed by {actor.name}", file=self.out)
        _events(self.out, change.events, self.label)

    # -- private conversations (S5) ----------------------------------------------------------

    def _fetch(self, record: SocialConversation) -> list[SocialItem]:
        """The host's connector: the conversation's messages on the platform by now."""
        now = self.clock.now()
        items = (self._item(key) for key in self.data["items"])
        return [
            i for i in items if i.conversation_key == record.conversation and i.created_at <= now
        ]

    def _append_check(self) -> None:
        interval = self.settings.append_interval
        if interval is None:
            self._print("append_private_messages (S5) → no append interval is set: nothing is due")
            return
        records = list(self.records.values())
        checks = self.desk.append_private_messages(
            records, self._fetch, settings=self.settings, matcher=self.matcher
        )
        if not checks:
            waiting = sum(
                1
                for record in records
                for item in self._fetch(record)
                if self.desk.store.find_by_reference(item.reference) is None
            )
            due = ", ".join(
                f"{r.conversation.native_id} at {r.last_checked_at + interval:%H:%M}"
                for r in records
                if r.last_checked_at is not None
            )
            self._print(
                f"append_private_messages (S5) → nothing due: each conversation is checked "
                f"{_hours(interval)} after its last check (next: {due or 'none'}); "
                f"{_plural(waiting, 'newer message')} wait on the platform"
            )
            return
        self._print(
            f"append_private_messages (S5) → {_plural(len(checks), 'conversation')} due "
            f"(interval {_hours(interval)}):"
        )
        for check in checks:
            record = check.conversation
            self.records[record.conversation] = record
            _say(
                self.out,
                f"{record.conversation} → {self.label(record.ticket_id)}: "
                f"{_plural(check.appended, 'new message')} appended",
                indent="      ",
                hang="  ",
            )
            for outcome in check.outcomes:
                decision = outcome.decision
                where = outcome.ticket
                shown = ""
                if where is not None and outcome.item_id is not None:
                    shown = f": {_item_text(where, outcome.item_id)}"
                _say(
                    self.out,
                    f"{decision.outcome.value.upper()} ({decision.reason}){shown}",
                    indent="        ",
                    hang="  ",
                )
        now = self.clock.now()
        print(
            f"      records kept: checked at {now:%H:%M}; next check due at "
            f"{now + interval:%Y-%m-%d %H:%M}",
            file=self.out,
        )

    # -- a connection's helpdesk data (S9) ---------------------------------------------------

    def _connection(self, contact_id: str) -> None:
        view = self.desk.connection_view(contact_id, metrics=_connection_metrics)
        name = view.contact.name if view.contact is not None else "unknown contact"
        self._print(f"connection_view({contact_id}) (S9): {name}")
        owner = view.owner_id or "none (no ticket is assigned)"
        print(
            f"      ticket owner: {owner} · {_plural(view.total_tickets, 'ticket')}, "
            f"{view.open_tickets} not closed; newest first:",
            file=self.out,
        )
        for t in view.tickets:
            print(
                f"      #{t.number:<3} {t.status.value:<8} {t.department_id:<8} "
                f"{t.channel.code:<9} {t.created_at.date()}  {_short(t.subject, 36)}",
                file=self.out,
            )
        metrics = view.metrics
        if metrics is None:
            return
        responses, resolutions = _responses(view.tickets), _resolutions(view.tickets)
        first = metrics.average_first_response
        resolved = metrics.average_resolution
        shown = [
            "first response "
            + (f"{_duration(first)} over {_plural(len(responses), 'ticket')}" if first else "none"),
            "resolution "
            + (
                f"{_duration(resolved)} over {_plural(len(resolutions), 'closed ticket')}"
                if resolved
                else "none"
            ),
            "satisfaction "
            + ("no ratings" if metrics.satisfaction is None else f"{metrics.satisfaction:.0%}"),
        ]
        _say(
            self.out,
            f"averages (the demo's metrics function, X1): {' · '.join(shown)}",
            indent="      ",
            hang="  ",
        )


# -- the knowledge-base sync (KB1-KB10) ---------------------------------------------------------

_SYNC_WIDTH = 9  # "unchanged", the longest action name


def _local(occurrence: Occurrence, schedule: Schedule) -> str:
    """An occurrence in its schedule's time zone and in UTC."""
    local = occurrence.at.astimezone(schedule.tz)
    return f"{local:%a %Y-%m-%d %H:%M %Z} = {occurrence.at:%Y-%m-%dT%H:%MZ}"


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


class _KbScene(_Scene):
    """Plays the knowledge-base section of ``sample_kb.json``: a sync of the helpdesk's
    articles into the chat tool, on the demo's SQLite file (KB1-KB10)."""

    def __init__(
        self,
        out: TextIO,
        desk: Desk,
        clock: FixedClock,
        data: Mapping[str, Any],
        label: Label,
        *,
        target: SQLiteArticleTarget,
    ) -> None:
        super().__init__(out, desk, clock, data, label)
        self.target = target
        self.source = InMemoryArticleSource()
        self.document: dict[str, Any] = dict(data["settings"])
        # Until an admin loads the document, the sync is off.
        self.sync = KnowledgeSync(
            source=self.source,
            target=target,
            run_log=target,
            settings=SyncSettings(enabled=False),
            clock=clock,
        )
        self.loaded = False

    def _step(self, entry: Mapping[str, Any]) -> None:
        if "schedules" in entry:
            for spec in entry["schedules"]:
                self._schedule(spec)
        if "settings" in entry:
            self._settings(entry["settings"], self._actor(entry["by"]))
        if "put" in entry or "delete" in entry:
            self._source(entry.get("put", ()), entry.get("delete", ()))
        if "preview" in entry:
            self._preview(self._actor(entry["preview"]))
        for worker in entry.get("run_due", ()):
            self._run_due(worker)
        if "publish" in entry:
            self._publish(entry["publish"], self._actor(entry["by"]))
        if "edit" in entry:
            self._edit(entry["edit"], entry["body"], self._actor(entry["by"]))
        if "sync_now" in entry:
            self._sync_now(self._actor(entry["sync_now"]))
        if entry.get("copies"):
            self._copies()

    def _actor(self, actor_id: str) -> Actor:
        person = self.data["actors"][actor_id]
        return Actor(id=actor_id, name=person["name"], roles=frozenset(person["roles"]))

    def _who(self, actor: Actor) -> str:
        roles = ", ".join(sorted(r.value for r in actor.roles)) or "no roles"
        return f"{actor.name} ({roles})"

    def _category(self, category_id: str) -> str:
        name = self.data["categories"].get(category_id)
        return category_id if name is None else f"{category_id} “{name}”"

    # -- schedules (KB5) ----------------------------------------------------------------------

    def _schedule(self, spec: Mapping[str, Any]) -> None:
        first_sync = _time(spec["first_sync"])
        schedule = Schedule.anchored(
            id=spec["id"],
            frequency=spec["frequency"],
            first_sync=first_sync,
            timezone=spec["timezone"],
            run_time=time.fromisoformat(spec.get("run_time", "03:00")),
        )
        anchor = schedule.anchor
        when = {
            Frequency.DAILY: "every day",
            Frequency.WEEKLY: f"every {anchor:%A} (the first sync's weekday)",
            Frequency.MONTHLY: f"on day {anchor.day} of each month (the first sync's day)",
        }[schedule.frequency]
        _say(
            self.out,
            f"Schedule.anchored({schedule.id}, {schedule.frequency.value}, first sync "
            f"{first_sync.isoformat()}) → {when} at {schedule.run_time:%H:%M} "
            f"{schedule.timezone}, anchored on {anchor.isoformat()}; the next "
            f"{spec['count']} runs:",
            hang="  ",
        )
        runs = [next_run(schedule, first_sync)]
        while len(runs) < spec["count"]:
            runs.append(next_run(schedule, runs[-1].at))
        width = max(len(o.key) for o in runs)
        clamped = False
        for occurrence in runs:
            note = ""
            if schedule.frequency is Frequency.MONTHLY:
                if occurrence.local_date.day != anchor.day:
                    note = " ← clamped"
                elif clamped:
                    note = f" ← back to the {_ordinal(anchor.day)}"
                clamped = occurrence.local_date.day != anchor.day
            print(
                f"      {occurrence.key:<{width}} {_local(occurrence, schedule)}{note}",
                file=self.out,
            )
            local = occurrence.at.astimezone(schedule.tz)
            if local.time().replace(tzinfo=None) != schedule.run_time:
                _say(
                    self.out,
                    f"{schedule.run_time:%H:%M} does not exist on {occurrence.local_date} "
                    f"(clocks go forward): runs once, at {local:%H:%M} (KB5)",
                    indent="        ",
                    hang="  ",
                )

    # -- settings (KB1-KB5, KB9) --------------------------------------------------------------

    def _settings(self, changes: Mapping[str, Any], actor: Actor) -> None:
        document = parse_kb_sync_settings({**self.document, **changes})
        if not self.loaded:
            self._describe(document)
        else:
            for key, value in changes.items():
                before = self.document.get(key)
                shown = [json.dumps(v) if isinstance(v, bool) else v for v in (before, value)]
                print(
                    f"    parse_kb_sync_settings → {key.replace('_', ' ')} {shown[0]} → "
                    f"{shown[1]}; the rest as before",
                    file=self.out,
                )
        what = f"configure by {self._who(actor)}"
        try:
            self.sync.configure(document.to_settings(), actor=actor)
        except PermissionDeniedError as error:
            print(f"    {what} → REFUSED [{error.code}]", file=self.out)
            _say(self.out, f"why: {error.message} (KB9)", indent="      ", hang="  ")
            kept = ", ".join(f"{key.replace('_', ' ')} {self.document.get(key)}" for key in changes)
            print(f"      the settings stay as they were: {kept}", file=self.out)
            return
        self.loaded = True
        self.document = document.model_dump(mode="json")
        print(f"    {what} → applied (KB9)", file=self.out)
        settings = self.sync.settings
        if not settings.enabled:
            _say(
                self.out,
                "sync is off: run_due and sync now do nothing, and the copies stay in the "
                "chat tool as they are (KB1)",
                indent="      ",
                hang="  ",
            )
        elif settings.schedule is not None:
            nxt = self.sync.next_run()
            assert nxt is not None
            print(f"      next run: {nxt.key} ({_local(nxt, settings.schedule)})", file=self.out)

    def _describe(self, document: KbSyncSettingsDocument) -> None:
        settings = document.to_settings()
        _say(
            self.out,
            f"parse_kb_sync_settings → {'enabled' if settings.enabled else 'disabled'}, "
            f"permission filter {settings.permission_filter.value} (KB3), status rule "
            f"{settings.status_rule.value} (KB4), tag {settings.tag} (KB7), orphans "
            f"{'removed' if settings.remove_orphans else 'kept'} (KB8)",
            hang="  ",
        )
        for association in settings.associations:
            print(
                f"      category {self._category(association.category_id)} → chat department "
                f"{association.department_id} (KB2)",
                file=self.out,
            )
        schedule = settings.schedule
        if schedule is not None:
            print(
                f"      schedule {schedule.id}: {schedule.frequency.value} at "
                f"{schedule.run_time:%H:%M} {schedule.timezone}, from "
                f"{schedule.anchor.isoformat()} (KB5)",
                file=self.out,
            )

    # -- the knowledge base and the plan (KB2, KB3, KB8, KB10) --------------------------------

    def _source(self, put: Sequence[str], delete: Sequence[str]) -> None:
        settings = self.sync.settings
        for key in put:
            article = SourceArticle(**self.data["articles"][key])
            known = article.id in {a.id for a in self.source.list_articles()}
            self.source.put(article)
            if known:
                _say(
                    self.out,
                    f"helpdesk: {article.id} “{article.title}” edited (version "
                    f"{article.version}): “{_short(article.body, 30)}”",
                    hang="  ",
                )
                continue
            department = settings.department_for(article.category_id)
            synced = (
                "→ no department, not synced (KB2)" if department is None else f"→ {department}"
            )
            _say(
                self.out,
                f"helpdesk: {article.id} · {self._category(article.category_id)} · "
                f"{article.permission.value.replace('_', ' ')} · “{article.title}” {synced}",
                hang="  ",
            )
        for article_id in delete:
            self.source.delete(article_id)
            print(f"    helpdesk: {article_id} deleted", file=self.out)

    def _preview(self, actor: Actor) -> None:
        plan = self.sync.preview(actor=actor)
        print(
            f"    preview by {actor.name} → the plan, nothing written (KB8): {self._counts(plan)}",
            file=self.out,
        )
        self._plan(plan)

    @staticmethod
    def _counts(plan: SyncPlan) -> str:
        return ", ".join(f"{n} {action}" for action, n in plan.counts().items() if n)

    def _plan(self, plan: SyncPlan) -> None:
        rule = self.sync.settings.status_rule.value
        unchanged: dict[str, list[str]] = {}
        for op in plan.operations:
            article = op.article
            if op.action is SyncAction.UNCHANGED:
                unchanged.setdefault(op.reason.value, []).append(op.target_id)
                continue
            if op.action is SyncAction.CREATE:
                what = f"→ {article.department_id} as a draft (KB4)"
            elif op.action is SyncAction.UPDATE:
                before = op.previous
                assert before is not None
                if not before.published:
                    status = "stays a draft: it was never published (KB4)"
                elif article.published:
                    status = f"stays published ({rule}, KB4)"
                else:
                    status = f"returns to draft ({rule}, KB4)"
                changes = ", ".join(c.value for c in op.changes[1:])
                what = status + (f"; also {changes}" if changes else "")
            elif op.action is SyncAction.ORPHANED:
                what = f"kept as it is, {article.status.value} (KB8)"
            else:
                what = article.status.value
            _say(
                self.out,
                f"{op.action.value:<{_SYNC_WIDTH}} {op.target_id} ({op.reason.value}) {what}",
                indent="      ",
                hang="  ",
            )
        for reason, ids in unchanged.items():
            print(f"      {'unchanged':<{_SYNC_WIDTH}} {', '.join(ids)} ({reason})", file=self.out)
        invisible = plan.invisible_to_visitors
        print(
            "      invisible to visitors (KB10): "
            + (f"{', '.join(invisible)} (registered users only)" if invisible else "none"),
            file=self.out,
        )

    # -- runs (KB1, KB4-KB6) ------------------------------------------------------------------

    def _run_due(self, worker: str) -> None:
        schedule = self.sync.settings.schedule
        last = self.target.last_scheduled_run(schedule.id) if schedule is not None else None
        now = self.clock.now()
        if schedule is not None and last is not None and last.occurrence is not None:
            missed = occurrences(schedule, last.occurrence.at, now)
            if len(missed) > 1 and self.sync.settings.enabled:
                _say(
                    self.out,
                    f"{len(missed)} runs passed since the last one ({last.key}): "
                    f"{', '.join(o.key for o in missed)}; they coalesce into one (KB5)",
                    hang="  ",
                )
        result = self.sync.run_due(self._actor("scheduler"))
        head = f"run_due ({worker}) → {result.outcome.value.upper()}"
        self._result(head, result, schedule)
        if result.outcome is SyncOutcome.NOT_DUE and last is not None:
            _say(
                self.out,
                f"{last.key} ran already; the same occurrence never runs twice (KB5)",
                indent="      ",
                hang="  ",
            )

    def _sync_now(self, actor: Actor) -> None:
        schedule = self.sync.settings.schedule
        before = self.sync.next_run()
        result = self.sync.sync_now(actor)
        self._result(f"sync_now by {actor.name} → {result.outcome.value.upper()}", result, schedule)
        after = self.sync.next_run()
        if before is not None and after is not None and schedule is not None:
            same = "unchanged" if before == after else f"moved from {before.key}"
            _say(
                self.out,
                f"next scheduled run: {after.key} ({_local(after, schedule)}), {same}; sync "
                f"now does not move the schedule (KB6)",
                indent="      ",
                hang="  ",
            )

    def _result(self, head: str, result: SyncResult, schedule: Schedule | None) -> None:
        if result.run is None:
            self._print(f"{head}: {result.explanation}")
        else:
            run = result.run
            self._print(
                f"{head} ({result.trigger.value}) {result.key}: {run.created} created, "
                f"{run.updated} updated, {run.unchanged} unchanged, {run.orphaned} orphaned"
            )
        if result.plan is not None:
            self._plan(result.plan)
        scheduled = result.trigger is SyncTrigger.SCHEDULED
        if result.ran and scheduled and result.next_run is not None and schedule is not None:
            print(
                f"      next run: {result.next_run.key} ({_local(result.next_run, schedule)})",
                file=self.out,
            )

    # -- the chat tool (KB4, KB7) -------------------------------------------------------------

    def _publish(self, target_ids: Sequence[str], actor: Actor) -> None:
        for target_id in target_ids:
            copy = self.target.publish(target_id)
            self._print(f"{actor.name} publishes {target_id} “{copy.title}” → {copy.status.value}")

    def _edit(self, target_id: str, body: str, actor: Actor) -> None:
        try:
            self.target.edit(target_id, body=body)
        except ReadOnlyArticleError as error:
            self._print(f"{actor.name} edits {target_id} → REFUSED [{error.code}]")
            _say(self.out, f"why: {error.message}", indent="      ", hang="  ")
        copy = self.target.get(target_id)
        _say(
            self.out,
            f"preview {target_id} (KB7): tag {copy.tag}, {copy.status.value}: "
            f"“{_short(copy.body, 30)}”",
            indent="      ",
            hang="  ",
        )

    def _copies(self) -> None:
        copies = self.target.list_synced()
        print(
            f"    copies in the chat tool (SQLiteArticleTarget on {self.target.path}, "
            f"the tickets' file):",
            file=self.out,
        )
        for copy in copies:
            source = {a.id for a in self.source.list_articles()}
            gone = "" if copy.source_id in source else " · source deleted"
            print(
                f"      {copy.target_id}  {copy.department_id:<12} {copy.status.value:<9} "
                f"synced {copy.synced_at:%Y-%m-%d %H:%M} · “{copy.title}”{gone}",
                file=self.out,
            )
        runs = ", ".join(run.key for run in self.target.runs())
        _say(self.out, f"run log: {runs}", indent="      ", hang="  ")


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
