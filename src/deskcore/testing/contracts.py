"""The repository contract suite (P2, P3, P7): one set of tests every ticket store must pass.

Subclass :class:`TicketRepositoryContract` in a test module, name the subclass ``Test...``
so pytest collects it, and implement :meth:`~TicketRepositoryContract.make_repository`::

    from deskcore.testing.contracts import TicketRepositoryContract

    class TestMyRepository(TicketRepositoryContract):
        def make_repository(self):
            return MyRepository(dsn=...)  # a fresh, empty store each call

The in-memory and SQLite reference repositories run exactly this suite.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import pytest

from deskcore.errors import (
    ConcurrencyError,
    DuplicateError,
    InvalidModelError,
    InvalidTransitionError,
    NotFoundError,
    ReferenceClaimedError,
)
from deskcore.models import (
    Attachment,
    Channel,
    Classification,
    Comment,
    Contact,
    Direction,
    ExternalReference,
    Message,
    Revision,
    Ticket,
    TicketQuery,
    TicketStatus,
    Visibility,
)
from deskcore.ports import TicketStore
from deskcore.testing._merge_contract import MergeScenarios
from deskcore.testing._samples import T0, ref, sample_ticket

__all__ = ["T0", "TicketRepositoryContract", "sample_ticket"]


def _rich_ticket() -> Ticket:
    """A ticket using every kind of field and item, in a non-UTC offset."""
    jst = T0.astimezone(datetime.fromisoformat("2026-03-01T00:00:00+09:00").tzinfo)
    attachment = Attachment(
        id="rich-a1",
        origin_ticket_id="rich",
        name="レシート.pdf",
        size=0,
        content_type="application/pdf",
        storage_key="s3://bucket/レシート.pdf",
        created_at=jst,
    )
    message = Message(
        id="rich-m1",
        origin_ticket_id="other-origin",
        direction=Direction.INBOUND,
        visibility=Visibility.PUBLIC,
        author_id="c-9",
        author_name="山田 太郎",
        body="返品をお願いします 🙏\nمرحبا",
        channel=Channel.EMAIL,
        sent_at=jst,
        external_ref=ExternalReference(
            network="email", account="support@example.jp", kind="message", native_id="<a/b%c@x>"
        ),
        attachments=(attachment,),
        revisions=(Revision(body="返品", content_digest="sha256:0", replaced_at=jst),),
        in_reply_to="rich-c0",
    )
    comment = Comment(
        id="rich-c1",
        origin_ticket_id="rich",
        visibility=Visibility.PRIVATE,
        author_id="agent-1",
        body="確認中",
        created_at=jst + timedelta(seconds=1),
    )
    reply = Message(
        id="rich-m2",
        origin_ticket_id="rich",
        direction=Direction.OUTBOUND,
        author_id="agent-1",
        body="Sorry! Refund on its way.",
        channel=Channel.EMAIL,
        sent_at=jst + timedelta(minutes=5, microseconds=7),
    )
    return Ticket(
        id="rich",
        number=77,
        department_id="返品窓口",
        subject="ＡＢＣ 返品 Refund",
        status=TicketStatus.ON_HOLD,
        on_hold_since=jst + timedelta(hours=1),
        on_hold_time=timedelta(minutes=3, microseconds=1),
        classification=Classification("warranty_claim"),
        channel=Channel("line"),
        contact_id="c-9",
        account_id="acme",
        product_name="Kettle K-2",
        assignee_id="agent-1",
        created_at=jst,
        first_responded_at=reply.sent_at,
        custom_fields={"order": "A-1", "amount": 12.5, "vip": True, "count": 3, "note": None},
        thread=(message, comment, reply),
        external_refs=(ref("conv-rich", "conversation"),),
    )


class TicketRepositoryContract(MergeScenarios, ABC):
    """Behaviour every :class:`~deskcore.ports.TicketStore` must show.

    Implement :meth:`make_repository`; everything else is inherited. The class name does not
    start with ``Test``, so pytest collects only your subclass.
    """

    tmp_path: Path

    @pytest.fixture(autouse=True)
    def _deskcore_tmp_path(self, tmp_path: Path) -> None:
        # Subclasses whose store lives in files can use ``self.tmp_path``.
        self.tmp_path = tmp_path

    @abstractmethod
    def make_repository(self) -> TicketStore:
        """Return a new, empty store. Called once or more per test."""

    # -- storing and loading -------------------------------------------------------------------

    def test_P2_add_then_get_returns_the_same_ticket_at_version_1(self) -> None:
        repo = self.make_repository()
        ticket = sample_ticket("t1", 1, item_refs=("m1", "m2"))
        stored = repo.add(ticket)
        assert stored == attrs.evolve(ticket, version=1)
        assert repo.get("t1") == stored

    def test_P2_every_field_and_item_kind_round_trips_exactly(self) -> None:
        repo = self.make_repository()
        ticket = _rich_ticket()
        stored = repo.add(ticket)
        loaded = repo.get(ticket.id)
        assert loaded == stored
        assert loaded.custom_fields == ticket.custom_fields
        assert [type(i) for i in loaded.thread] == [Message, Comment, Message]
        assert loaded.thread[0].created_at.utcoffset() is not None

    def test_P2_get_of_a_missing_ticket_raises_not_found(self) -> None:
        repo = self.make_repository()
        with pytest.raises(NotFoundError) as info:
            repo.get("nope")
        assert info.value.code == "not_found"
        assert isinstance(info.value, LookupError)

    def test_P2_get_many_keeps_the_order_given_and_fails_on_a_missing_id(self) -> None:
        repo = self.make_repository()
        for n in (1, 2, 3):
            repo.add(sample_ticket(f"t{n}", n))
        assert [t.id for t in repo.get_many(["t3", "t1", "t2"])] == ["t3", "t1", "t2"]
        with pytest.raises(NotFoundError):
            repo.get_many(["t1", "missing"])

    def test_P2_find_by_number(self) -> None:
        repo = self.make_repository()
        repo.add(sample_ticket("t1", 41))
        found = repo.find_by_number(41)
        assert found is not None
        assert found.id == "t1"
        assert repo.find_by_number(42) is None

    def test_P2_add_of_an_existing_id_raises_concurrency_error(self) -> None:
        repo = self.make_repository()
        repo.add(sample_ticket("t1", 1))
        with pytest.raises(ConcurrencyError) as info:
            repo.add(sample_ticket("t1", 2))
        assert info.value.expected_version == 0
        assert info.value.actual_version == 1
        assert repo.find_by_number(2) is None

    def test_P2_add_of_a_stored_version_is_rejected(self) -> None:
        repo = self.make_repository()
        with pytest.raises(InvalidModelError):
            repo.add(attrs.evolve(sample_ticket("t1", 1), version=3))
        assert repo.find_by_number(1) is None

    def test_P2_a_duplicate_number_raises_and_writes_nothing(self) -> None:
        repo = self.make_repository()
        repo.add(sample_ticket("t1", 5))
        with pytest.raises(DuplicateError):
            repo.add(sample_ticket("t2", 5, refs=("conv-2",)))
        with pytest.raises(NotFoundError):
            repo.get("t2")
        assert repo.find_by_reference(ref("conv-2", "conversation")) is None

    def test_P2_a_ticket_number_cannot_change(self) -> None:
        repo = self.make_repository()
        stored = repo.add(sample_ticket("t1", 5))
        with pytest.raises(DuplicateError):
            repo.save(attrs.evolve(stored, number=6))
        assert repo.get("t1").number == 5

    # -- optimistic versions -------------------------------------------------------------------

    def test_P2_save_raises_the_version_by_one(self) -> None:
        repo = self.make_repository()
        stored = repo.add(sample_ticket("t1", 1))
        saved = repo.save(attrs.evolve(stored, subject="Updated"))
        assert saved.version == 2
        assert repo.get("t1") == saved
        assert repo.save(saved).version == 3

    def test_P2_a_stale_save_raises_concurrency_error_and_writes_nothing(self) -> None:
        repo = self.make_repository()
        stored = repo.add(sample_ticket("t1", 1))
        first = repo.save(attrs.evolve(stored, subject="First writer"))
        with pytest.raises(ConcurrencyError) as info:
            repo.save(
                attrs.evolve(
                    stored,
                    subject="Second writer",
                    external_refs=(ref("conv-x", "conversation"),),
                )
            )
        assert info.value.code == "concurrency_conflict"
        assert info.value.expected_version == 1
        assert info.value.actual_version == 2
        assert repo.get("t1") == first
        assert repo.find_by_reference(ref("conv-x", "conversation")) is None

    def test_P2_saving_a_ticket_that_was_never_added_raises_concurrency_error(self) -> None:
        repo = self.make_repository()
        with pytest.raises(ConcurrencyError) as info:
            repo.save(attrs.evolve(sample_ticket("ghost", 1), version=1))
        assert info.value.actual_version is None
        with pytest.raises(NotFoundError):
            repo.get("ghost")

    def test_P2_thread_changes_are_stored_whatever_their_shape(self) -> None:
        repo = self.make_repository()
        stored = repo.add(sample_ticket("t1", 1, item_refs=("a", "b", "c")))
        first, second, third = stored.thread
        assert isinstance(second, Message)
        edited = attrs.evolve(second, body="edited")
        for thread in [
            (first, edited, third),  # an item changed in place
            (first, third),  # an item removed
            (third, first),  # reordered
            (),  # emptied
            (first, edited, third),  # refilled
        ]:
            ticket = attrs.evolve(repo.get("t1"), thread=tuple(sorted(thread, key=_at)))
            assert repo.save(ticket) == repo.get("t1")
            assert repo.get("t1").thread == ticket.thread

    # -- external references (T6, P3) ----------------------------------------------------------

    def test_T6_P3_references_of_the_ticket_and_of_its_messages_find_it(self) -> None:
        repo = self.make_repository()
        repo.add(sample_ticket("t1", 1, refs=("conv-1",), item_refs=("m1",)))
        by_conversation = repo.find_by_reference(ref("conv-1", "conversation"))
        by_message = repo.find_by_reference(ref("m1"))
        assert by_conversation is not None
        assert by_message is not None
        assert by_conversation.id == by_message.id == "t1"
        assert repo.find_by_reference(ref("m2")) is None

    def test_P3_a_reference_claimed_by_another_ticket_fails_the_add_and_writes_nothing(
        self,
    ) -> None:
        repo = self.make_repository()
        repo.add(sample_ticket("t1", 1, item_refs=("m1",)))
        with pytest.raises(ReferenceClaimedError) as info:
            repo.add(sample_ticket("t2", 2, refs=("conv-2",), item_refs=("m1",)))
        assert info.value.claimed_by == "t1"
        assert info.value.code == "reference_claimed"
        with pytest.raises(NotFoundError):
            repo.get("t2")
        assert repo.find_by_number(2) is None
        assert repo.find_by_reference(ref("conv-2", "conversation")) is None

    def test_P3_a_reference_claimed_by_another_ticket_fails_the_save_and_writes_nothing(
        self,
    ) -> None:
        repo = self.make_repository()
        repo.add(sample_ticket("t1", 1, refs=("conv-1",)))
        t2 = repo.add(sample_ticket("t2", 2))
        stealing = attrs.evolve(
            t2,
            subject="changed",
            external_refs=(ref("conv-2", "conversation"), ref("conv-1", "conversation")),
        )
        with pytest.raises(ReferenceClaimedError):
            repo.save(stealing)
        assert repo.get("t2") == t2
        assert repo.find_by_reference(ref("conv-2", "conversation")) is None

    def test_P3_references_a_ticket_no_longer_has_are_released(self) -> None:
        repo = self.make_repository()
        t1 = repo.add(sample_ticket("t1", 1, refs=("conv-1",)))
        repo.save(attrs.evolve(t1, external_refs=()))
        assert repo.find_by_reference(ref("conv-1", "conversation")) is None
        repo.add(sample_ticket("t2", 2, refs=("conv-1",)))
        found = repo.find_by_reference(ref("conv-1", "conversation"))
        assert found is not None
        assert found.id == "t2"

    # -- numbers -------------------------------------------------------------------------------

    def test_P2_next_number_is_unique_and_increasing(self) -> None:
        repo = self.make_repository()
        numbers = [repo.next_number() for _ in range(5)]
        assert numbers == sorted(set(numbers))
        assert numbers[0] >= 1

    def test_P2_next_number_skips_numbers_taken_by_added_tickets(self) -> None:
        repo = self.make_repository()
        repo.add(sample_ticket("t1", 100))
        assert repo.next_number() > 100

    # -- trash and restore ---------------------------------------------------------------------

    def test_P2_trash_and_restore_with_version_checks(self) -> None:
        repo = self.make_repository()
        stored = repo.add(sample_ticket("t1", 1))
        at = T0 + timedelta(days=1)
        with pytest.raises(ConcurrencyError):
            repo.trash("t1", at=at, expected_version=7)
        binned = repo.trash("t1", at=at, expected_version=stored.version)
        assert binned.is_trashed
        assert binned.trashed_at == at
        assert binned.version == 2
        with pytest.raises(InvalidTransitionError):
            repo.trash("t1", at=at, expected_version=2)
        back = repo.restore("t1", expected_version=2)
        assert not back.is_trashed
        assert back.version == 3
        with pytest.raises(InvalidTransitionError):
            repo.restore("t1", expected_version=3)

    def test_P2_trash_records_the_ticket_merged_into(self) -> None:
        repo = self.make_repository()
        repo.add(sample_ticket("t1", 1))
        repo.add(sample_ticket("t2", 2))
        binned = repo.trash("t2", at=T0, expected_version=1, merged_into="t1")
        assert binned.merged_into == "t1"
        assert repo.get("t2").merged_into == "t1"

    # -- search --------------------------------------------------------------------------------

    def _search_fixture(self) -> TicketStore:
        repo = self.make_repository()
        repo.save_contact(Contact(id="c-1", name="山田 太郎", email="Taro@Example.JP"))
        repo.save_contact(Contact(id="c-2", name="Jane Doe", email="jane@example.com"))
        repo.save_contact(Contact(id="c-3", name="No Mail"))
        rows = [
            ("t1", 1, "返品について", "c-1", "support", 0),
            ("t2", 2, "Refund for order ＡＢＣ-1", "c-2", "billing", 1),
            ("t3", 3, "refund again", "c-2", "support", 2),
            ("t4", 4, "Password reset", "c-3", "support", 2),
        ]
        for ticket_id, number, subject, contact, department, day in rows:
            repo.add(
                sample_ticket(
                    ticket_id,
                    number,
                    subject=subject,
                    contact_id=contact,
                    department_id=department,
                    created_at=T0 + timedelta(days=day),
                )
            )
        return repo

    def _ids(self, repo: TicketStore, **criteria: object) -> list[str]:
        return [t.id for t in repo.search(TicketQuery(**criteria))]  # type: ignore[arg-type]

    def test_P2_search_orders_newest_first_with_number_breaking_ties(self) -> None:
        repo = self._search_fixture()
        assert self._ids(repo) == ["t4", "t3", "t2", "t1"]
        assert self._ids(repo, limit=2) == ["t4", "t3"]

    def test_P2_search_by_number(self) -> None:
        repo = self._search_fixture()
        assert self._ids(repo, number=2) == ["t2"]
        assert self._ids(repo, number=99) == []

    def test_P2_search_by_subject_keyword_is_folded(self) -> None:
        repo = self._search_fixture()
        assert self._ids(repo, subject="REFUND") == ["t3", "t2"]
        assert self._ids(repo, subject="abc") == ["t2"]  # full-width ＡＢＣ in the subject
        assert self._ids(repo, subject="返品") == ["t1"]

    def test_P2_search_by_contact_email_is_exact_and_case_blind(self) -> None:
        repo = self._search_fixture()
        assert self._ids(repo, contact_email="taro@example.jp") == ["t1"]
        assert self._ids(repo, contact_email="example.jp") == []

    def test_P2_search_by_contact_name_matches_part_of_the_name(self) -> None:
        repo = self._search_fixture()
        assert self._ids(repo, contact_name="山田") == ["t1"]
        assert self._ids(repo, contact_name="jane") == ["t3", "t2"]

    def test_P2_search_filters_by_department_and_combines_with_and(self) -> None:
        repo = self._search_fixture()
        assert self._ids(repo, department_ids=frozenset({"billing"})) == ["t2"]
        assert self._ids(repo, subject="refund", department_ids=frozenset({"support"})) == ["t3"]

    def test_P2_search_leaves_out_trashed_tickets_unless_asked(self) -> None:
        repo = self._search_fixture()
        repo.trash("t3", at=T0, expected_version=1)
        assert self._ids(repo, subject="refund") == ["t2"]
        assert self._ids(repo, subject="refund", include_trashed=True) == ["t3", "t2"]

    def test_P2_search_by_contact_id_is_exact(self) -> None:
        repo = self._search_fixture()
        assert self._ids(repo, contact_id="c-2") == ["t3", "t2"]
        assert self._ids(repo, contact_id="c") == []
        assert repo.count(TicketQuery(contact_id="c-1")) == 1

    def test_P2_search_by_status(self) -> None:
        repo = self._search_fixture()
        repo.save(attrs.evolve(repo.get("t2"), status=TicketStatus.CLOSED, closed_at=T0))
        assert self._ids(repo, statuses=frozenset({TicketStatus.CLOSED})) == ["t2"]
        assert self._ids(repo, statuses={"open", "on_hold"}) == ["t4", "t3", "t1"]
        assert self._ids(repo, statuses=frozenset()) == []

    def test_P2_search_pages_with_offset_and_limit(self) -> None:
        repo = self._search_fixture()
        assert self._ids(repo, offset=1, limit=2) == ["t3", "t2"]
        assert self._ids(repo, offset=3) == ["t1"]
        assert self._ids(repo, offset=4) == []

    def test_P2_count_counts_every_match_whatever_offset_and_limit(self) -> None:
        repo = self._search_fixture()
        assert repo.count(TicketQuery(limit=1, offset=3)) == 4
        assert repo.count(TicketQuery(contact_name="jane", limit=1)) == 2
        assert repo.count(TicketQuery(contact_email="nobody@example.com")) == 0
        repo.trash("t4", at=T0, expected_version=1)
        assert repo.count(TicketQuery()) == 3
        assert repo.count(TicketQuery(include_trashed=True)) == 4

    # -- contacts ------------------------------------------------------------------------------

    def test_P2_contacts_are_upserted(self) -> None:
        repo = self.make_repository()
        assert repo.get_contact("c-1") is None
        repo.save_contact(Contact(id="c-1", name="Taro"))
        repo.save_contact(Contact(id="c-1", name="Taro Yamada", email="taro@example.jp"))
        assert repo.get_contact("c-1") == Contact(
            id="c-1", name="Taro Yamada", email="taro@example.jp"
        )

    # -- units of work -------------------------------------------------------------------------

    def test_P2_changes_in_a_unit_of_work_are_invisible_until_commit(self) -> None:
        repo = self.make_repository()
        with repo.unit_of_work() as uow:
            uow.tickets.add(sample_ticket("t1", 1, refs=("conv-1",)))
            assert uow.tickets.get("t1").version == 1
            uow.commit()
        assert repo.get("t1").version == 1

    def test_P2_a_unit_of_work_left_without_commit_writes_nothing(self) -> None:
        repo = self.make_repository()
        with repo.unit_of_work() as uow:
            number = uow.tickets.next_number()
            uow.tickets.add(sample_ticket("t1", number, refs=("conv-1",)))
            uow.tickets.save_contact(Contact(id="c-1", name="Taro"))
        with pytest.raises(NotFoundError):
            repo.get("t1")
        assert repo.find_by_reference(ref("conv-1", "conversation")) is None
        assert repo.get_contact("c-1") is None

    def test_P2_an_exception_inside_a_unit_of_work_rolls_everything_back(self) -> None:
        repo = self.make_repository()
        stored = repo.add(sample_ticket("t1", 1))

        def crash_mid_way() -> None:
            with repo.unit_of_work() as uow:
                uow.tickets.save(attrs.evolve(stored, subject="changed"))
                uow.tickets.add(sample_ticket("t2", 2))
                raise RuntimeError("host crashed mid-way")

        with pytest.raises(RuntimeError):
            crash_mid_way()
        assert repo.get("t1") == stored
        with pytest.raises(NotFoundError):
            repo.get("t2")

    def test_P2_a_failed_call_in_a_unit_of_work_writes_nothing_but_earlier_calls_stay(
        self,
    ) -> None:
        repo = self.make_repository()
        repo.add(sample_ticket("t1", 1, item_refs=("m1",)))
        with repo.unit_of_work() as uow:
            uow.tickets.add(sample_ticket("t2", 2))
            with pytest.raises(ReferenceClaimedError):
                uow.tickets.add(sample_ticket("t3", 3, refs=("conv-3",), item_refs=("m1",)))
            uow.commit()
        assert repo.get("t2").version == 1
        with pytest.raises(NotFoundError):
            repo.get("t3")
        assert repo.find_by_reference(ref("conv-3", "conversation")) is None

    def test_P2_rollback_discards_and_the_unit_of_work_goes_on(self) -> None:
        repo = self.make_repository()
        with repo.unit_of_work() as uow:
            uow.tickets.add(sample_ticket("t1", 1))
            uow.rollback()
            uow.tickets.add(sample_ticket("t2", 2))
            uow.commit()
        with pytest.raises(NotFoundError):
            repo.get("t1")
        assert repo.get("t2").version == 1

    def test_P2_a_unit_of_work_is_used_in_a_with_block(self) -> None:
        repo = self.make_repository()
        uow = repo.unit_of_work()
        with pytest.raises(RuntimeError):
            uow.tickets.get("t1")

    def test_P2_ticket_numbers_from_many_units_of_work_never_repeat(self) -> None:
        repo = self.make_repository()
        numbers = []
        for n in range(6):
            with repo.unit_of_work() as uow:
                numbers.append(uow.tickets.next_number())
                if n % 2 == 0:
                    uow.commit()
        committed = numbers[0::2]
        assert committed == sorted(set(committed))


def _at(item: Message | Comment | Attachment) -> datetime:
    return item.created_at
