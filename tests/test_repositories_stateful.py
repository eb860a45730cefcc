"""P7: the in-memory and SQLite repositories, driven in lockstep by the same random
operations, always agree: same results, same errors, same stored state."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from deskcore.adapters import InMemoryTicketRepository, SQLiteTicketRepository
from deskcore.errors import DeskcoreError, NotFoundError
from deskcore.models import Actor, Contact, ExternalReference, TicketQuery
from deskcore.policies.merge import apply_merge, plan_merge, restore_ticket
from deskcore.ports import TicketStore
from deskcore.testing.contracts import T0, sample_ticket

MERGER = Actor(id="agent", permissions=["search_and_merge"])
IDS = st.sampled_from(["t1", "t2", "t3", "t4"])
NUMBERS = st.integers(min_value=1, max_value=6)
REFS = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=2, unique=True)
SUBJECTS = st.sampled_from(["Refund", "返品", "ＲＥＦＵＮＤ please", "Login"])
CONTACTS = st.sampled_from(["c-1", "c-2"])
QUERIES = st.builds(
    TicketQuery,
    number=st.none() | NUMBERS,
    contact_id=st.none() | st.sampled_from(["c-1", "c-2", "nobody"]),
    subject=st.none() | st.sampled_from(["refund", "返品", "x"]),
    contact_email=st.none() | st.sampled_from(["one@example.com", "TWO@example.com"]),
    contact_name=st.none() | st.sampled_from(["one", "二"]),
    department_ids=st.none() | st.sets(st.sampled_from(["a", "b"]), min_size=1),
    statuses=st.none() | st.sets(st.sampled_from(["open", "closed", "on_hold"]), min_size=1),
    include_trashed=st.booleans(),
    limit=st.integers(min_value=1, max_value=5),
    offset=st.integers(min_value=0, max_value=4),
)


def _outcome(repo: TicketStore, call: str, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        return ("ok", getattr(repo, call)(*args, **kwargs))
    except DeskcoreError as exc:
        return ("error", type(exc).__name__)


class RepositoriesAgree(RuleBasedStateMachine):
    """Every rule runs on both repositories and asserts they answer alike."""

    def __init__(self) -> None:
        super().__init__()
        self._dir = tempfile.TemporaryDirectory()
        self.memory = InMemoryTicketRepository()
        self.sqlite = SQLiteTicketRepository(Path(self._dir.name) / "desk.sqlite3")

    def teardown(self) -> None:
        self.sqlite.close()
        self._dir.cleanup()

    def both(self, call: str, *args: Any, **kwargs: Any) -> Any:
        left = _outcome(self.memory, call, *args, **kwargs)
        right = _outcome(self.sqlite, call, *args, **kwargs)
        assert left == right, (call, args, kwargs)
        return left[1] if left[0] == "ok" else None

    @initialize()
    def contacts(self) -> None:
        for contact in (
            Contact(id="c-1", name="One 一", email="One@Example.com"),
            Contact(id="c-2", name="Two 二", email="two@example.com"),
        ):
            self.both("save_contact", contact)

    @rule(
        ticket_id=IDS,
        number=NUMBERS,
        refs=REFS,
        subject=SUBJECTS,
        contact=CONTACTS,
        day=st.integers(0, 3),
        department=st.sampled_from(["a", "b"]),
    )
    def add(
        self,
        ticket_id: str,
        number: int,
        refs: list[str],
        subject: str,
        contact: str,
        day: int,
        department: str,
    ) -> None:
        ticket = sample_ticket(
            ticket_id,
            number,
            subject=subject,
            contact_id=contact,
            department_id=department,
            created_at=T0 + timedelta(days=day),
            item_refs=tuple(refs),
        )
        self.both("add", ticket)

    @rule(ticket_id=IDS, refs=REFS, subject=SUBJECTS, stale=st.booleans())
    def save(self, ticket_id: str, refs: list[str], subject: str, stale: bool) -> None:
        current = self.both("get", ticket_id)
        if current is None:
            return
        conversation = tuple(
            ExternalReference(network="twitter", account="brand", kind="conversation", native_id=r)
            for r in refs
        )
        changed = attrs.evolve(
            current,
            subject=subject,
            external_refs=conversation,
            version=current.version - 1 if stale else current.version,
        )
        self.both("save", changed)

    @rule(ticket_id=IDS, merged=st.none() | IDS, offset=st.integers(-1, 1))
    def trash(self, ticket_id: str, merged: str | None, offset: int) -> None:
        current = self.both("get", ticket_id)
        version = 1 if current is None else current.version + offset
        if merged == ticket_id:
            merged = None
        self.both("trash", ticket_id, at=T0, expected_version=version, merged_into=merged)

    @rule(ticket_id=IDS, offset=st.integers(-1, 1))
    def restore(self, ticket_id: str, offset: int) -> None:
        current = self.both("get", ticket_id)
        version = 1 if current is None else current.version + offset
        self.both("restore", ticket_id, expected_version=version)

    @rule()
    def next_number(self) -> None:
        self.both("next_number")

    @rule(ticket_id=IDS, number=NUMBERS, commit=st.booleans())
    def add_in_a_unit_of_work(self, ticket_id: str, number: int, commit: bool) -> None:
        outcomes = []
        for repo in (self.memory, self.sqlite):
            with repo.unit_of_work() as uow:
                allocated = uow.tickets.next_number()
                outcome = _outcome(uow.tickets, "add", sample_ticket(ticket_id, number))
                if commit:
                    uow.commit()
            outcomes.append((allocated, outcome))
        assert outcomes[0] == outcomes[1]

    @rule(ids=st.lists(IDS, min_size=2, max_size=3, unique=True))
    def merge(self, ids: list[str]) -> None:
        """M12: a merge written the service's way gives the same state in both stores."""
        outcomes = []
        for repo in (self.memory, self.sqlite):
            with repo.unit_of_work() as uow:
                try:
                    tickets = uow.tickets.get_many(ids)
                except NotFoundError:
                    outcomes.append("missing")
                    continue
                plan = plan_merge(tickets, actor=MERGER, acknowledge_exposure=True)
                if not plan.ok:
                    outcomes.append(tuple(r.code for r in plan.rejections))
                    continue
                result = apply_merge(plan, tickets, actor=MERGER, now=T0, journal_id="j")
                for ticket in result.trashed:
                    uow.tickets.save(ticket)
                uow.tickets.save(result.primary)
                uow.commit()
                outcomes.append("merged")
                event("merged")
        assert outcomes[0] == outcomes[1]

    @rule(ticket_id=IDS)
    def restore_merged(self, ticket_id: str) -> None:
        """M14: restoring a merged-away ticket gives the same state in both stores."""
        outcomes = []
        for repo in (self.memory, self.sqlite):
            with repo.unit_of_work() as uow:
                try:
                    ticket = uow.tickets.get(ticket_id)
                except NotFoundError:
                    outcomes.append("missing")
                    continue
                if ticket.merged_into is None:
                    outcomes.append("not merged")
                    continue
                try:  # the rule `trash` may name a ticket that was never added
                    holder = uow.tickets.get(ticket.merged_into)
                    seen = {ticket.id, holder.id}
                    while holder.merged_into is not None and holder.merged_into not in seen:
                        holder = uow.tickets.get(holder.merged_into)
                        seen.add(holder.id)
                except NotFoundError:
                    outcomes.append("holder missing")
                    continue
                result = restore_ticket(ticket, holder, now=T0)
                if result.holder is not None:
                    uow.tickets.save(result.holder)
                uow.tickets.save(result.restored)
                uow.commit()
                outcomes.append("restored")
                event("restored")
        assert outcomes[0] == outcomes[1]

    @rule(query=QUERIES)
    def search(self, query: TicketQuery) -> None:
        self.both("search", query)
        self.both("count", query)

    @rule(
        native_id=st.sampled_from(["a", "b", "c", "d", "e"]),
        kind=st.sampled_from(["tweet", "conversation"]),
    )
    def find_by_reference(self, native_id: str, kind: str) -> None:
        ref = ExternalReference(network="twitter", account="brand", kind=kind, native_id=native_id)
        self.both("find_by_reference", ref)

    @rule(number=NUMBERS)
    def find_by_number(self, number: int) -> None:
        self.both("find_by_number", number)

    @invariant()
    def same_tickets(self) -> None:
        everything = TicketQuery(include_trashed=True, limit=1000)
        assert self.memory.search(everything) == self.sqlite.search(everything)


RepositoriesAgree.TestCase.settings = settings(
    RepositoriesAgree.TestCase.settings, stateful_step_count=25
)
TestRepositoriesAgree = RepositoriesAgree.TestCase
