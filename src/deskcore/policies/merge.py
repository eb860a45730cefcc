"""Merging tickets (M1-M15): a pure plan, then a pure apply.

:func:`plan_merge` validates a merge and decides everything it will do, changing nothing: the
primary, the value of every field that differs (the conflict report a merge screen renders),
the values it discards, whose public words another customer would see, and where every
thread item lands. :func:`apply_merge` turns an accepted plan into the new primary, the
trashed tickets, the journal entry and the events, refusing tickets that changed since the
plan. :func:`restore_ticket` takes a merged-away ticket back out of the trash.
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from deskcore.errors import (
    InvalidTransitionError,
    MergePermissionDeniedError,
    MergeRejectedError,
    NaiveDatetimeError,
    StalePlanError,
)
from deskcore.models import (
    Actor,
    Attachment,
    Classification,
    Comment,
    DomainEvent,
    ExternalReference,
    Message,
    Permission,
    Priority,
    ThreadItem,
    Ticket,
    TicketMerged,
    TicketRestored,
    TicketTrashed,
    Visibility,
)
from deskcore.models._validate import fixed_offset, is_aware
from deskcore.models.merge import (
    Exposure,
    FieldDecision,
    FieldValue,
    ItemMove,
    MergeJournalEntry,
    MergePolicy,
    MergeRejection,
)
from deskcore.models.ticket import CustomValue

__all__ = [
    "CHOOSABLE_FIELDS",
    "PROTECTED_FIELDS",
    "MergePlan",
    "MergeResult",
    "RestoreResult",
    "apply_merge",
    "check_merge_allowed",
    "default_primary",
    "merged_thread",
    "plan_merge",
    "restore_ticket",
]

CHOOSABLE_FIELDS: tuple[str, ...] = (
    "contact_id",
    "account_id",
    "subject",
    "product_name",
    "priority",
    "classification",
    "assignee_id",
)
"""Fields whose value the caller may take from any merged ticket (M8); custom fields too, as
``custom:<name>``."""

PROTECTED_FIELDS: tuple[str, ...] = ("created_at", "first_responded_at", "on_hold_time")
"""Fields that always come from the primary (M9)."""

CUSTOM = "custom:"


@attrs.frozen(kw_only=True)
class MergePlan:
    """Everything a merge will do, decided before anything changes (M12).

    Attributes:
        rejections: Every reason the merge cannot go ahead; empty when it can.
        primary_id: The ticket merged into (M4).
        ticket_ids: The primary, then the other tickets oldest first: the source order that
            breaks ties in the merged thread (M7).
        versions: Each ticket's version when planned; apply refuses any other (M12).
        fields: Each field whose values differ, with the value taken and those discarded (M8).
        exposures: Whose public items which other contact would see (M5).
        exposure_acknowledged: Whether the caller acknowledged the exposures.
        moves: Every item copied into the primary, with its source and origin (M7).
        already_present: Items of merged tickets the primary already holds (a ticket merged
            again after a restore); they are not copied twice.
        thread_ids: The merged thread, as item ids in order.
    """

    rejections: tuple[MergeRejection, ...]
    primary_id: str | None
    ticket_ids: tuple[str, ...]
    versions: Mapping[str, int]
    fields: tuple[FieldDecision, ...] = ()
    exposures: tuple[Exposure, ...] = ()
    exposure_acknowledged: bool = False
    moves: tuple[ItemMove, ...] = ()
    already_present: tuple[str, ...] = ()
    thread_ids: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the merge can be applied."""
        return not self.rejections

    @property
    def discarded(self) -> tuple[tuple[str, FieldValue], ...]:
        """Every value the merge drops, as ``(field, value)``."""
        return tuple((d.field, v) for d in self.fields for v in d.discarded)

    def chosen(self, field: str) -> FieldValue | None:
        """The decision for ``field`` when its values differ, else ``None``."""
        return next((d.chosen for d in self.fields if d.field == field), None)


@attrs.frozen(kw_only=True)
class MergeResult:
    """What applying a plan produced (M12): write ``trashed`` first, then ``primary``."""

    primary: Ticket
    trashed: tuple[Ticket, ...]
    journal: MergeJournalEntry
    events: tuple[DomainEvent, ...]


@attrs.frozen(kw_only=True)
class RestoreResult:
    """A ticket out of the trash, and the ticket that held its references until now (M14)."""

    restored: Ticket
    holder: Ticket | None
    events: tuple[DomainEvent, ...]
    chain: tuple[Ticket, ...] = ()


def default_primary(tickets: Sequence[Ticket]) -> Ticket:
    """The ticket created first; ties go to the lower ticket number (M4)."""
    return min(tickets, key=lambda t: (t.created_at, t.number))


def plan_merge(
    tickets: Sequence[Ticket],
    *,
    actor: Actor,
    primary_id: str | None = None,
    choices: Mapping[str, str] | None = None,
    acknowledge_exposure: bool = False,
    policy: MergePolicy | None = None,
) -> MergePlan:
    """Decide a merge of ``tickets`` without changing anything (M12).

    Args:
        tickets: The tickets to merge, as loaded (their versions are recorded).
        actor: Who merges; needs :attr:`~deskcore.models.Permission.SEARCH_AND_MERGE` (M10).
        primary_id: The ticket to merge into; the oldest by default (M4).
        choices: For a field (``subject``, ``custom:order_id``...), the ticket whose value
            the merged ticket takes (M8). Unnamed fields keep the primary's value.
        acknowledge_exposure: The caller confirms that the contacts shown in
            :attr:`MergePlan.exposures` may see each other's public items (M5, M11).
        policy: Limits; five tickets at most by default (M1).

    Returns:
        The plan. It carries every rejection at once; it never raises for bad input of the
        kinds above.
    """
    policy = policy or MergePolicy()
    choices = dict(choices or {})
    rejections: list[MergeRejection] = []
    reject = _collector(rejections)

    ids = [t.id for t in tickets]
    if len(set(ids)) != len(ids):
        repeated = tuple(sorted({i for i in ids if ids.count(i) > 1}))
        reject(
            "duplicate_tickets", f"tickets named more than once: {', '.join(repeated)}", repeated
        )
    unique = list({t.id: t for t in tickets}.values())
    if len(unique) < 2:
        reject("too_few_tickets", "a merge needs at least two different tickets (M1)")
    if len(unique) > policy.max_tickets:
        reject(
            "too_many_tickets",
            f"{len(unique)} tickets; at most {policy.max_tickets} merge at once (M1)",
            tuple(t.id for t in unique),
        )
    if not actor.can(Permission.SEARCH_AND_MERGE):
        reject(
            "missing_permission",
            f"actor {actor.id} lacks the {Permission.SEARCH_AND_MERGE.value} permission (M10)",
        )
    departments = {t.department_id for t in unique}
    if len(departments) > 1:
        reject(
            "different_departments",
            f"the tickets are in different departments ({', '.join(sorted(departments))}) (M2)",
            tuple(t.id for t in unique),
        )
    for t in unique:
        if t.merged_into is not None:
            reject("already_merged", f"ticket #{t.number} was merged into another (M6)", (t.id,))
        elif t.is_trashed:
            reject("already_trashed", f"ticket #{t.number} is in the trash (M6)", (t.id,))

    if not unique:
        return MergePlan(rejections=tuple(rejections), primary_id=None, ticket_ids=(), versions={})
    by_id = {t.id: t for t in unique}
    if primary_id is None:
        primary = default_primary(unique)
    elif primary_id in by_id:
        primary = by_id[primary_id]
    else:
        reject("unknown_primary", f"the primary {primary_id} is not one of the tickets (M4)")
        primary = default_primary(unique)
    others = sorted(
        (t for t in unique if t.id != primary.id), key=lambda t: (t.created_at, t.number)
    )
    order = [primary, *others]

    for field, ticket_id in choices.items():
        if ticket_id not in by_id:
            reject(
                "unknown_ticket",
                f"{field} is taken from {ticket_id}, not a merged ticket",
                (ticket_id,),
                field,
            )
        elif field in PROTECTED_FIELDS:
            if ticket_id != primary.id:
                reject(
                    "protected_field",
                    f"{field} always comes from the primary (M9)",
                    (ticket_id,),
                    field,
                )
        elif field not in CHOOSABLE_FIELDS and not field.startswith(CUSTOM):
            reject("unknown_field", f"{field} is not a field a merge chooses (M8)", (), field)

    fields = _field_decisions(order, choices, primary)
    chosen_contact = _chosen_value(fields, "contact_id", primary.contact_id)
    exposures = _exposures(order, str(chosen_contact))
    if exposures and not acknowledge_exposure:
        owners = ", ".join(sorted({e.owner_contact_id for e in exposures}))
        reject(
            "unacknowledged_exposure",
            f"contact {chosen_contact} would see public items of {owners}; acknowledge it (M5)",
            tuple(e.ticket_id for e in exposures),
        )

    moves, already, thread_ids, conflicts = _moves(order)
    for item_id in conflicts:
        reject(
            "conflicting_items",
            f"two tickets hold different items with the id {item_id}",
            (),
        )
    return MergePlan(
        rejections=tuple(rejections),
        primary_id=primary.id,
        ticket_ids=tuple(t.id for t in order),
        versions={t.id: t.version for t in order},
        fields=fields,
        exposures=exposures,
        exposure_acknowledged=acknowledge_exposure,
        moves=moves,
        already_present=already,
        thread_ids=thread_ids,
    )


def apply_merge(
    plan: MergePlan,
    tickets: Sequence[Ticket],
    *,
    actor: Actor,
    now: datetime,
    journal_id: str,
) -> MergeResult:
    """Carry out ``plan`` on ``tickets`` as they are now (M3, M6, M7, M12, M15).

    Raises:
        MergePermissionDeniedError: ``actor`` lacks ``search_and_merge`` (T7, M10); it is a
            :class:`~deskcore.errors.PermissionDeniedError` carrying every other reason too.
        MergeRejectedError: The plan has rejections; all of them are attached.
        StalePlanError: A ticket is missing, or its version is not the planned one.
    """
    check_merge_allowed(plan, actor)
    assert plan.primary_id is not None
    by_id = {t.id: t for t in tickets}
    for ticket_id, version in plan.versions.items():
        current = by_id.get(ticket_id)
        if current is None or current.version != version:
            raise StalePlanError(ticket_id, version, None if current is None else current.version)
    if not is_aware(now):
        raise NaiveDatetimeError("apply_merge", "now", f"{now!r} is not an aware datetime (T1)")
    order = [by_id[i] for i in plan.ticket_ids]
    primary, others = order[0], order[1:]

    # The versions match the plan, so the plan's thread order still holds: no second merge.
    items: dict[str, ThreadItem] = {}
    for t in order:
        for item in t.thread:
            items.setdefault(item.id, item)
    thread = tuple(items[item_id] for item_id in plan.thread_ids)
    # A reference stays ceded only while a ticket outside the merge claims it: one ceded to
    # a ticket that is now part of the merge (say, the restored ticket merged back) is the
    # primary's to claim again.
    ceded = {*primary.ceded_refs, *(r for t in others for r in t.ceded_refs)}
    if ceded:
        for t in order:
            ceded.difference_update(t.all_references())
    values = {d.field: d.chosen for d in plan.fields}
    custom = _merged_custom_fields(primary, values)
    merged = attrs.evolve(
        primary,
        thread=thread,
        external_refs=(*primary.external_refs, *(r for t in others for r in t.external_refs)),
        ceded_refs=tuple(r for r in _unique_refs(primary, others) if r in ceded),
        custom_fields=custom,
        **_chosen_fields(primary, values),
    )
    trashed = tuple(_trash(t, now, primary.id) for t in others)
    journal = MergeJournalEntry(
        id=journal_id,
        at=now,
        actor_id=actor.id,
        primary_id=primary.id,
        merged_ticket_ids=tuple(t.id for t in others),
        moves=plan.moves,
        fields=plan.fields,
        exposures=plan.exposures,
        already_present=plan.already_present,
    )
    events: list[DomainEvent] = [
        TicketTrashed(ticket_id=t.id, at=now, merged_into=primary.id) for t in others
    ]
    events.append(
        TicketMerged(
            ticket_id=primary.id,
            at=now,
            merged_ticket_ids=tuple(t.id for t in others),
            journal_id=journal_id,
        )
    )
    return MergeResult(primary=merged, trashed=trashed, journal=journal, events=tuple(events))


def check_merge_allowed(plan: MergePlan, actor: Actor) -> None:
    """Raise unless ``actor`` may carry out ``plan`` (M10, M12).

    Raises:
        MergePermissionDeniedError: ``actor`` lacks ``search_and_merge``, whoever planned it.
        MergeRejectedError: The plan has rejections.
    """
    if not actor.can(Permission.SEARCH_AND_MERGE):
        reasons = plan.rejections
        if not any(r.code == "missing_permission" for r in reasons):
            reasons = (
                MergeRejection(
                    code="missing_permission",
                    message=f"actor {actor.id} lacks the search_and_merge permission (M10)",
                ),
                *reasons,
            )
        raise MergePermissionDeniedError(reasons, actor.id, Permission.SEARCH_AND_MERGE.value)
    if not plan.ok:
        raise MergeRejectedError(plan.rejections)


def merged_thread(tickets: Sequence[Ticket]) -> Iterator[ThreadItem]:
    """The merged thread of ``tickets`` (primary first): every item once, by creation time;
    ties by the tickets' order, then by position in their thread (M7).

    Each thread is already in creation-time order, so this is a k-way merge: linear in the
    number of items for the handful of tickets a merge takes (PF2). Items the primary already
    holds (same id, same value) are not repeated.
    """
    return (item for _, item in _merge_sources(tickets))


def _merge_sources(tickets: Sequence[Ticket]) -> Iterator[tuple[int, ThreadItem]]:
    """:func:`merged_thread`, with the index of the ticket each item is taken from."""
    seen: set[str] = set()
    streams = [_keyed(source, ticket) for source, ticket in enumerate(tickets)]
    for (_, source, _), item in heapq.merge(*streams, key=_sort_key):
        if item.id not in seen:
            seen.add(item.id)
            yield source, item


_Key = tuple[datetime, int, int]


def _keyed(source: int, ticket: Ticket) -> Iterator[tuple[_Key, ThreadItem]]:
    for position, item in enumerate(ticket.thread):
        yield (item.created_at, source, position), item


def _sort_key(pair: tuple[_Key, ThreadItem]) -> _Key:
    return pair[0]


def restore_ticket(
    ticket: Ticket,
    holder: Ticket | None,
    *,
    now: datetime,
    claimed_elsewhere: Iterable[ExternalReference] = (),
    chain: Sequence[Ticket] = (),
) -> RestoreResult:
    """Take ``ticket`` out of the trash (M3, M14).

    A ticket trashed by a merge takes its own references back from ``holder`` (the end of its
    merge chain, which claims them now): the holder drops the ticket's own references and
    cedes those of its items. What the merge copied into the holder stays there (M3). A
    reference that another ticket claims by now (``claimed_elsewhere``: a ticket restored
    earlier, a conversation handed over) stays with that ticket, and the restored ticket
    cedes it. ``chain`` holds the merged-away tickets between the ticket and the holder (a
    ticket merged into one that was merged in turn); they give the references up too, so that
    restoring one of them later does not take them. Write ``chain`` and ``holder`` first,
    then ``restored``.

    Raises:
        InvalidTransitionError: The ticket is not in the trash.
    """
    if not ticket.is_trashed:
        raise InvalidTransitionError(ticket.id, "active", "active")
    elsewhere = set(claimed_elsewhere)
    own = set(ticket.external_refs)
    held = set() if holder is None else set(holder.all_references())
    restored = attrs.evolve(
        ticket,
        trashed_at=None,
        merged_into=None,
        ceded_refs=_ordered(
            ticket.ceded_refs,
            (r for r in ticket.held_references() if r in elsewhere and r not in held),
        ),
    )
    taking_back = set(restored.all_references())
    updated_holder = None
    if ticket.merged_into is not None and holder is not None:
        updated_holder = attrs.evolve(
            holder,
            external_refs=tuple(r for r in holder.external_refs if r not in own),
            ceded_refs=_ordered(
                holder.ceded_refs,
                (
                    r
                    for r in holder.held_references()
                    if r in taking_back and r in held and r not in own
                ),
            ),
        )
    updated_chain = tuple(
        attrs.evolve(
            middle,
            external_refs=tuple(r for r in middle.external_refs if r not in own),
            ceded_refs=_ordered(
                middle.ceded_refs,
                (r for r in middle.held_references() if r in taking_back and r not in own),
            ),
        )
        for middle in chain
    )
    event = TicketRestored(ticket_id=ticket.id, at=now, was_merged_into=ticket.merged_into)
    return RestoreResult(
        restored=restored, holder=updated_holder, chain=updated_chain, events=(event,)
    )


def _ordered(
    first: Iterable[ExternalReference], then: Iterable[ExternalReference]
) -> tuple[ExternalReference, ...]:
    """``first`` followed by the new references of ``then``, each once."""
    return tuple(dict.fromkeys((*first, *then)))


# -- helpers -------------------------------------------------------------------------------------


def _trash(ticket: Ticket, now: datetime, primary_id: str) -> Ticket:
    """``ticket`` trashed as merged into ``primary_id``.

    ``attrs.evolve`` would re-validate the whole thread for two scalar fields; both values are
    known valid here (``now`` was checked, the id is the primary's).
    """
    trashed = copy.copy(ticket)
    object.__setattr__(trashed, "trashed_at", fixed_offset(now))
    object.__setattr__(trashed, "merged_into", primary_id)
    return trashed


def _collector(rejections: list[MergeRejection]) -> Any:
    def reject(
        code: str, message: str, ticket_ids: tuple[str, ...] = (), field: str | None = None
    ) -> None:
        rejections.append(
            MergeRejection(code=code, message=message, ticket_ids=ticket_ids, field=field)
        )

    return reject


def _field_value(ticket: Ticket, field: str) -> FieldValue:
    if field.startswith(CUSTOM):
        name = field[len(CUSTOM) :]
        present = name in ticket.custom_fields
        return FieldValue(
            ticket_id=ticket.id,
            value=ticket.custom_fields.get(name) if present else None,
            present=present,
        )
    value: Any = getattr(ticket, field)
    if isinstance(value, Priority):
        value = value.value
    elif isinstance(value, Classification):
        value = value.code
    return FieldValue(ticket_id=ticket.id, value=value)


def _same(a: FieldValue, b: FieldValue) -> bool:
    return a.present == b.present and type(a.value) is type(b.value) and a.value == b.value


def _field_decisions(
    order: Sequence[Ticket], choices: Mapping[str, str], primary: Ticket
) -> tuple[FieldDecision, ...]:
    names = list(CHOOSABLE_FIELDS)
    custom_names = sorted({name for t in order for name in t.custom_fields})
    names.extend(CUSTOM + name for name in custom_names)
    by_id = {t.id: t for t in order}
    decisions = []
    for field in names:
        values = tuple(_field_value(t, field) for t in order)
        if all(_same(values[0], v) for v in values[1:]):
            continue
        source = by_id.get(choices.get(field, primary.id), primary)
        chosen = _field_value(source, field)
        discarded: list[FieldValue] = []
        for v in values:
            if not _same(v, chosen) and not any(_same(v, d) for d in discarded):
                discarded.append(v)
        decisions.append(
            FieldDecision(field=field, values=values, chosen=chosen, discarded=tuple(discarded))
        )
    return tuple(decisions)


def _chosen_value(fields: Sequence[FieldDecision], field: str, default: CustomValue) -> CustomValue:
    for decision in fields:
        if decision.field == field:
            return decision.chosen.value
    return default


def _is_public(item: ThreadItem) -> bool:
    # Attachments on their own have no visibility; the help center shows them with the
    # thread, so they count as exposed too (stricter than M5's "messages and comments").
    if isinstance(item, Message | Comment):
        return item.visibility is Visibility.PUBLIC
    return isinstance(item, Attachment)


def _exposures(order: Sequence[Ticket], viewer: str) -> tuple[Exposure, ...]:
    exposures = []
    for t in order:
        if t.contact_id == viewer:
            continue
        items = tuple(item.id for item in t.thread if _is_public(item))
        if items:
            exposures.append(
                Exposure(
                    ticket_id=t.id,
                    owner_contact_id=t.contact_id,
                    viewer_contact_id=viewer,
                    item_ids=items,
                )
            )
    return tuple(exposures)


def _moves(
    order: Sequence[Ticket],
) -> tuple[tuple[ItemMove, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Item moves, items already present, the merged thread's ids, and clashing ids."""
    clashes: dict[str, None] = {}
    already: list[str] = []
    total = sum(len(t.thread) for t in order)
    if len({item.id for t in order for item in t.thread}) != total:
        # Some id occurs twice: the same item again (a re-merge after a restore), or a clash.
        first_seen: dict[str, ThreadItem] = {}
        on_primary = {item.id for item in order[0].thread}
        for source, t in enumerate(order):
            for item in t.thread:
                known = first_seen.get(item.id)
                if known is None:
                    first_seen[item.id] = item
                elif known is not item and known != item:
                    clashes[item.id] = None
                elif source and item.id in on_primary and item.id not in already:
                    already.append(item.id)
    if clashes:
        return (), tuple(already), (), tuple(clashes)
    thread_ids: list[str] = []
    moves: list[ItemMove] = []
    # The primary is source 0 and wins ties, so an item it holds never counts as moved.
    for position, (source, item) in enumerate(_merge_sources(order)):
        thread_ids.append(item.id)
        if source:
            moves.append(
                ItemMove(
                    item_id=item.id,
                    from_ticket_id=order[source].id,
                    origin_ticket_id=item.origin_ticket_id,
                    position=position,
                )
            )
    return tuple(moves), tuple(already), tuple(thread_ids), ()


def _merged_custom_fields(
    primary: Ticket, values: Mapping[str, FieldValue]
) -> dict[str, CustomValue]:
    custom = dict(primary.custom_fields)
    for field, chosen in values.items():
        if not field.startswith(CUSTOM):
            continue
        name = field[len(CUSTOM) :]
        if chosen.present:
            custom[name] = chosen.value
        else:
            custom.pop(name, None)
    return custom


def _chosen_fields(primary: Ticket, values: Mapping[str, FieldValue]) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    for field in CHOOSABLE_FIELDS:
        decision = values.get(field)
        if decision is None:
            continue
        value: Any = decision.value
        if field == "classification" and value is not None:
            value = Classification(str(value))
        chosen[field] = value
    return chosen


def _unique_refs(primary: Ticket, others: Sequence[Ticket]) -> Iterator[ExternalReference]:
    seen: set[ExternalReference] = set()
    for ref in (*primary.ceded_refs, *(r for t in others for r in t.ceded_refs)):
        if ref not in seen:
            seen.add(ref)
            yield ref
