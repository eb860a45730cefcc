"""Merge, trash, restore and redirect scenarios of the repository contract (M3, M6, M12-M15).

A merge is written by the service as: every merged-away ticket saved (trashed, marked, its
references released), then the primary saved (claiming them), then the journal entry added,
all in one unit of work. These scenarios drive a store through exactly that sequence, with
the pure merge policy, and check that it is atomic.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest

from deskcore.errors import ConcurrencyError, DuplicateError
from deskcore.models import Actor, Ticket, TicketQuery
from deskcore.policies.merge import MergeResult, apply_merge, plan_merge, restore_ticket
from deskcore.ports import TicketRepository, TicketStore
from deskcore.testing._samples import T0, ref, sample_ticket

MERGER = Actor(id="agent-1", permissions=["search_and_merge"])
LATER = T0 + timedelta(days=1)


class _InjectedCrashError(RuntimeError):
    """A failure injected in the middle of a merge."""


def _merge(tickets: list[Ticket], journal_id: str = "merge-1") -> MergeResult:
    plan = plan_merge(tickets, actor=MERGER)
    assert plan.ok, plan.rejections
    return apply_merge(plan, tickets, actor=MERGER, now=LATER, journal_id=journal_id)


def _write(repo: TicketRepository, result: MergeResult, crash_after: int | None = None) -> None:
    """Write a merge in the service's order; ``crash_after`` injects a failure."""
    steps: list[Callable[[], object]] = [
        *(lambda t=t: repo.save(t) for t in result.trashed),
        lambda: repo.save(result.primary),
        lambda: repo.add_journal_entry(result.journal),
    ]
    for n, step in enumerate(steps):
        if n == crash_after:
            raise _InjectedCrashError(f"crash before step {n}")
        step()


class MergeScenarios(ABC):
    """Mixed into :class:`~deskcore.testing.contracts.TicketRepositoryContract`."""

    @abstractmethod
    def make_repository(self) -> TicketStore:
        """Return a new, empty store."""

    def _three(self) -> tuple[TicketStore, list[Ticket]]:
        repo = self.make_repository()
        tickets = [
            repo.add(sample_ticket("t1", 1, refs=("conv-1",), item_refs=("m1",))),
            repo.add(
                sample_ticket(
                    "t2", 2, refs=("conv-2",), item_refs=("m2",), created_at=T0 + timedelta(1)
                )
            ),
            repo.add(sample_ticket("t3", 3, item_refs=("m3", "m4"), created_at=T0 + timedelta(2))),
        ]
        return repo, tickets

    def _snapshot(self, repo: TicketStore) -> tuple[object, ...]:
        tickets = repo.search(TicketQuery(include_trashed=True, limit=1000))
        refs = [
            ref(native_id, kind)
            for native_id, kind in [
                ("conv-1", "conversation"),
                ("conv-2", "conversation"),
                ("m1", "tweet"),
                ("m2", "tweet"),
                ("m3", "tweet"),
                ("m4", "tweet"),
            ]
        ]
        owners = [getattr(repo.find_by_reference(r), "id", None) for r in refs]
        journals = [repo.journal(t.id) for t in tickets]
        return (tickets, owners, journals)

    def test_M12_M14_a_merge_in_one_unit_of_work_moves_every_claim_to_the_primary(
        self,
    ) -> None:
        repo, tickets = self._three()
        result = _merge(tickets)
        with repo.unit_of_work() as uow:
            _write(uow.tickets, result)
            uow.commit()
        primary = repo.get("t1")
        assert len(primary.thread) == 4
        for native_id, kind in [("conv-2", "conversation"), ("m2", "tweet"), ("m4", "tweet")]:
            found = repo.find_by_reference(ref(native_id, kind))
            assert found is not None
            assert found.id == "t1"
        for merged_id in ("t2", "t3"):
            merged = repo.get(merged_id)
            assert merged.merged_into == "t1"
            assert merged.is_trashed
            assert merged.all_references() == ()
            assert len(merged.thread) >= 1  # kept whole for a restore (M3)

    def test_M12_a_failure_in_the_middle_of_a_merge_leaves_every_ticket_as_it_was(
        self,
    ) -> None:
        for crash_after in (1, 2, 3):
            repo, tickets = self._three()
            before = self._snapshot(repo)
            result = _merge(tickets)

            def crashing_merge(
                repo: TicketStore = repo, result: MergeResult = result, at: int = crash_after
            ) -> None:
                with repo.unit_of_work() as uow:
                    _write(uow.tickets, result, crash_after=at)
                    uow.commit()

            with pytest.raises(_InjectedCrashError):
                crashing_merge()
            assert self._snapshot(repo) == before

    def test_M12_a_concurrent_change_to_any_ticket_refuses_the_whole_merge(self) -> None:
        repo, tickets = self._three()
        result = _merge(tickets)
        repo.save(attrs.evolve(repo.get("t3"), subject="changed meanwhile"))
        before = self._snapshot(repo)

        def merge_stale() -> None:
            with repo.unit_of_work() as uow:
                _write(uow.tickets, result)
                uow.commit()

        with pytest.raises(ConcurrencyError):
            merge_stale()
        assert self._snapshot(repo) == before

    def test_M3_M14_restore_takes_the_references_back_and_leaves_the_copies(self) -> None:
        repo, tickets = self._three()
        with repo.unit_of_work() as uow:
            _write(uow.tickets, _merge(tickets))
            uow.commit()
        restored = restore_ticket(repo.get("t2"), repo.get("t1"), now=LATER)
        assert restored.holder is not None
        with repo.unit_of_work() as uow:
            uow.tickets.save(restored.holder)
            uow.tickets.save(restored.restored)
            uow.commit()
        for native_id, kind in [("conv-2", "conversation"), ("m2", "tweet")]:
            found = repo.find_by_reference(ref(native_id, kind))
            assert found is not None
            assert found.id == "t2"
        assert getattr(repo.find_by_reference(ref("m4")), "id", None) == "t1"
        primary = repo.get("t1")
        assert "t2-m0" in {item.id for item in primary.thread}  # the copy stays (M3)
        assert not repo.get("t2").is_trashed

    def test_M15_journal_entries_are_found_by_every_ticket_and_never_reused(self) -> None:
        repo, tickets = self._three()
        result = _merge(tickets, journal_id="merge-7")
        with repo.unit_of_work() as uow:
            _write(uow.tickets, result)
            uow.commit()
        for ticket_id in ("t1", "t2", "t3"):
            assert repo.journal(ticket_id) == [result.journal]
        assert repo.journal("t-unrelated") == []
        with pytest.raises(DuplicateError):
            repo.add_journal_entry(result.journal)

    def test_M6_a_merged_ticket_cannot_be_found_by_the_references_it_gave_up(self) -> None:
        repo, tickets = self._three()
        with repo.unit_of_work() as uow:
            _write(uow.tickets, _merge(tickets))
            uow.commit()
        merged = repo.get("t3")
        assert merged.merged_into == "t1"
        repo.save(attrs.evolve(merged, subject="renamed in the trash"))
        for native_id in ("m3", "m4"):
            found = repo.find_by_reference(ref(native_id))
            assert found is not None
            assert found.id == "t1"
