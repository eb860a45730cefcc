"""The CRM connector contract suite (R3-R5, P2, P5, P7): one set of tests every
:class:`~deskcore.ports.CrmConnector` must pass.

Subclass the contract in a test module, name the subclass ``Test...`` so pytest collects it,
and implement its one hook::

    from deskcore.testing.crm_contracts import CrmConnectorContract

    class TestMyCrm(CrmConnectorContract):
        def make_crm(self):
            return MyCrmConnector(...)  # a fresh, empty CRM each call

The suite uses only the protocol's methods. It assumes nothing about the ids the CRM gives,
nor about the owner or lead source it gives a draft that leaves them ``None``. One test runs
eight threads against one CRM, and one is a hypothesis property test that makes a fresh CRM
per example. The in-memory reference CRM, :class:`deskcore.adapters.InMemoryCrm`, runs
exactly this suite.
"""

# Test names cite the spec rule they check (test_R4_...), as in contracts.py.

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deskcore.errors import InvalidModelError, NotFoundError, ProfileAlreadyLinkedError
from deskcore.models.crm import (
    CrmRecord,
    CrmRecordKind,
    CrmTrigger,
    NewCrmRecord,
    SocialInteraction,
)
from deskcore.models.refs import ExternalReference
from deskcore.models.social import SocialProfile
from deskcore.ports.connectors import CrmConnector

__all__ = ["CrmConnectorContract"]

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
THREADS = 8
"""How many workers the concurrency tests start at once."""

_TRIGGER = {"twitter": CrmTrigger.MENTION, "facebook": CrmTrigger.COMMENT}
_NATIVE_KIND = {"twitter": "tweet", "facebook": "comment"}


def _profile(profile_id: str, network: str = "twitter", **changes: str) -> SocialProfile:
    fields = {"handle": f"@user{profile_id}", "display_name": f"User {profile_id}"} | changes
    return SocialProfile(network=network, id=profile_id, **fields)


def _draft(
    profile: SocialProfile,
    kind: CrmRecordKind = CrmRecordKind.LEAD,
    *,
    name: str | None = None,
    owner_id: str | None = "owner-1",
) -> NewCrmRecord:
    return NewCrmRecord(
        kind=kind,
        profile=profile,
        name=profile.name if name is None else name,
        lead_source=profile.network.capitalize(),
        owner_id=owner_id,
    )


def _interaction(profile: SocialProfile, native_id: str, minutes: int = 0) -> SocialInteraction:
    network = profile.network
    return SocialInteraction(
        reference=ExternalReference(
            network=network, account="brand", kind=_NATIVE_KIND[network], native_id=native_id
        ),
        trigger=_TRIGGER[network],
        profile=profile,
        text=f"hello from {profile.id}",
        at=T0 + timedelta(minutes=minutes),
    )


def _create(crm: CrmConnector, draft: NewCrmRecord) -> CrmRecord:
    if draft.kind is CrmRecordKind.LEAD:
        return crm.create_lead(draft)
    return crm.create_contact(draft)


def _keys(record: CrmRecord) -> set[tuple[str, str]]:
    return {(p.network, p.id) for p in record.profiles}


# The property test's world: a few people on both networks (the same id on each), seen under
# changing handles, and operations on them.
_POOL_IDS = ("1", "2", "3")
_POOL_NETWORKS = ("twitter", "facebook")
_people = st.tuples(st.sampled_from(_POOL_NETWORKS), st.sampled_from(_POOL_IDS))
_Operation = tuple[str, CrmRecordKind | int, tuple[str, str], int]
_operations: st.SearchStrategy[list[_Operation]] = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.sampled_from(CrmRecordKind), _people, st.integers(0, 9)),
        st.tuples(st.just("link"), st.integers(0, 5), _people, st.integers(0, 9)),
    ),
    max_size=12,
)


class CrmConnectorContract(ABC):
    """Behaviour every :class:`~deskcore.ports.CrmConnector` must show.

    Implement :meth:`make_crm`; everything else is inherited. The class name does not start
    with ``Test``, so pytest collects only your subclass.
    """

    @abstractmethod
    def make_crm(self) -> CrmConnector:
        """Return a new, empty CRM. Called once or more per test."""

    # -- the port (P2) ------------------------------------------------------------------------

    def test_P2_it_is_a_crm_connector_and_starts_empty(self) -> None:
        crm = self.make_crm()
        assert isinstance(crm, CrmConnector)
        assert crm.find_by_social_profile(_profile("1")) is None
        assert crm.find_by_social_profile(_profile("1", "facebook")) is None

    # -- records come back as stored (R3) -----------------------------------------------------

    def test_R3_a_created_lead_comes_back_exactly(self) -> None:
        crm = self.make_crm()
        profile = _profile("42", display_name="山田 太郎 🙂", handle="@yamada")
        draft = _draft(profile, name="山田 太郎 🙂", owner_id="agent-7")
        lead = crm.create_lead(draft)
        assert lead.kind is CrmRecordKind.LEAD
        assert lead.name == "山田 太郎 🙂"
        assert lead.lead_source == "Twitter"
        assert lead.owner_id == "agent-7"
        assert _keys(lead) == {("twitter", "42")}
        assert crm.get_record(lead.id) == lead
        assert crm.find_by_social_profile(profile) == lead
        assert list(crm.interactions(lead.id)) == []

    def test_R3_a_created_contact_comes_back_exactly(self) -> None:
        crm = self.make_crm()
        profile = _profile("7", "facebook")
        contact = crm.create_contact(_draft(profile, CrmRecordKind.CONTACT, owner_id="agent-2"))
        assert contact.kind is CrmRecordKind.CONTACT
        assert contact.name == "User 7"
        assert contact.lead_source == "Facebook"
        assert contact.owner_id == "agent-2"
        assert _keys(contact) == {("facebook", "7")}
        assert crm.get_record(contact.id) == contact
        assert crm.find_by_social_profile(profile) == contact

    def test_R3_records_get_distinct_ids(self) -> None:
        crm = self.make_crm()
        created = [
            crm.create_lead(_draft(_profile("1"))),
            crm.create_lead(_draft(_profile("2"))),
            crm.create_contact(_draft(_profile("3"), CrmRecordKind.CONTACT)),
            crm.create_contact(_draft(_profile("1", "facebook"), CrmRecordKind.CONTACT)),
        ]
        assert len({record.id for record in created}) == len(created)
        for record in created:
            assert crm.get_record(record.id) == record

    def test_P5_a_draft_of_the_other_kind_is_refused_and_creates_nothing(self) -> None:
        crm = self.make_crm()
        profile = _profile("1")
        with pytest.raises(InvalidModelError):
            crm.create_lead(_draft(profile, CrmRecordKind.CONTACT))
        with pytest.raises(InvalidModelError):
            crm.create_contact(_draft(profile, CrmRecordKind.LEAD))
        assert crm.find_by_social_profile(profile) is None

    # -- one record per profile (R4) ----------------------------------------------------------

    def test_R4_a_profile_is_found_by_network_and_id_whatever_its_names(self) -> None:
        crm = self.make_crm()
        lead = crm.create_lead(_draft(_profile("1", handle="@old", display_name="Old")))
        renamed = _profile("1", handle="@new", display_name="New name")
        assert crm.find_by_social_profile(renamed) == lead
        assert crm.find_by_social_profile(SocialProfile(network="twitter", id="1")) == lead

    def test_R4_the_same_id_on_another_network_is_another_person(self) -> None:
        crm = self.make_crm()
        on_twitter = crm.create_lead(_draft(_profile("1", "twitter")))
        assert crm.find_by_social_profile(_profile("1", "facebook")) is None
        on_facebook = crm.create_lead(_draft(_profile("1", "facebook")))
        assert on_facebook.id != on_twitter.id
        assert crm.find_by_social_profile(_profile("1", "twitter")) == on_twitter
        assert crm.find_by_social_profile(_profile("1", "facebook")) == on_facebook

    @pytest.mark.parametrize("kind", list(CrmRecordKind))
    def test_R4_creating_for_a_linked_profile_is_refused_naming_the_record(
        self, kind: CrmRecordKind
    ) -> None:
        crm = self.make_crm()
        existing = crm.create_contact(_draft(_profile("1"), CrmRecordKind.CONTACT))
        other = crm.create_lead(_draft(_profile("2")))
        again = _draft(_profile("1", handle="@renamed"), kind, name="Someone else")
        with pytest.raises(ProfileAlreadyLinkedError) as caught:
            _create(crm, again)
        assert caught.value.record_id == existing.id
        assert (caught.value.network, caught.value.profile_id) == ("twitter", "1")
        assert crm.get_record(existing.id) == existing
        assert crm.get_record(other.id) == other
        assert crm.find_by_social_profile(_profile("1")) == existing

    def test_R4_of_workers_creating_the_same_person_at_once_one_wins(self) -> None:
        crm = self.make_crm()
        draft = _draft(_profile("race"))
        barrier = threading.Barrier(THREADS)
        created: list[CrmRecord] = []
        refused: list[ProfileAlreadyLinkedError] = []
        failed: list[BaseException] = []

        def worker() -> None:
            barrier.wait()
            try:
                created.append(crm.create_lead(draft))
            except ProfileAlreadyLinkedError as error:
                refused.append(error)
            except BaseException as error:  # pragma: no cover - reported by the assert below
                failed.append(error)

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert failed == []
        assert len(created) == 1
        (winner,) = created
        assert len(refused) == THREADS - 1
        assert {error.record_id for error in refused} == {winner.id}
        assert crm.find_by_social_profile(draft.profile) == winner
        assert crm.get_record(winner.id) == winner

    # -- linking profiles by hand (R5) --------------------------------------------------------

    def test_R5_a_profile_is_linked_to_a_record(self) -> None:
        crm = self.make_crm()
        lead = crm.create_lead(_draft(_profile("1")))
        facebook = _profile("fb-1", "facebook")
        linked = crm.link_profile(lead.id, facebook)
        assert linked.id == lead.id
        assert (linked.kind, linked.name, linked.lead_source, linked.owner_id) == (
            lead.kind,
            lead.name,
            lead.lead_source,
            lead.owner_id,
        )
        assert _keys(linked) == {("twitter", "1"), ("facebook", "fb-1")}
        assert crm.get_record(lead.id) == linked
        assert crm.find_by_social_profile(facebook) == linked
        assert crm.find_by_social_profile(_profile("1")) == linked

    def test_R5_linking_a_profile_again_to_its_record_changes_nothing(self) -> None:
        crm = self.make_crm()
        lead = crm.create_lead(_draft(_profile("1")))
        linked = crm.link_profile(lead.id, _profile("2"))
        assert crm.link_profile(lead.id, _profile("2", handle="@other")) == linked
        assert crm.link_profile(lead.id, _profile("1")) == linked
        assert crm.get_record(lead.id) == linked
        assert len(linked.profiles) == 2

    def test_R5_linking_a_profile_linked_to_another_record_is_refused(self) -> None:
        crm = self.make_crm()
        first = crm.create_lead(_draft(_profile("1")))
        second = crm.create_contact(_draft(_profile("2"), CrmRecordKind.CONTACT))
        with pytest.raises(ProfileAlreadyLinkedError) as caught:
            crm.link_profile(second.id, _profile("1", display_name="Renamed"))
        assert caught.value.record_id == first.id
        assert crm.get_record(first.id) == first
        assert crm.get_record(second.id) == second
        assert crm.find_by_social_profile(_profile("1")) == first

    # -- interactions (R4, R5) ----------------------------------------------------------------

    def test_R4_an_interaction_is_linked_once_and_listed_in_link_order(self) -> None:
        crm = self.make_crm()
        profile = _profile("1")
        lead = crm.create_lead(_draft(profile))
        late = _interaction(profile, "t-2", minutes=30)
        early = _interaction(profile, "t-1", minutes=0)
        assert crm.link_interaction(lead.id, late) is True
        assert crm.link_interaction(lead.id, early) is True
        assert crm.link_interaction(lead.id, late) is False
        replay = SocialInteraction(
            reference=late.reference,
            trigger=CrmTrigger.REPLY,
            profile=profile,
            text="the same tweet, reported again",
            at=T0 + timedelta(hours=1),
        )
        assert crm.link_interaction(lead.id, replay) is False
        assert list(crm.interactions(lead.id)) == [late, early]
        assert crm.get_record(lead.id) == lead

    def test_R5_interactions_of_every_linked_profile_whatever_its_names(self) -> None:
        crm = self.make_crm()
        lead = crm.create_lead(_draft(_profile("1")))
        crm.link_profile(lead.id, _profile("9", "facebook"))
        tweet = _interaction(_profile("1", handle="@renamed", display_name="New"), "t-1")
        comment = _interaction(_profile("9", "facebook"), "c-1")
        assert crm.link_interaction(lead.id, tweet) is True
        assert crm.link_interaction(lead.id, comment) is True
        assert list(crm.interactions(lead.id)) == [tweet, comment]

    def test_R4_interactions_are_kept_per_record(self) -> None:
        crm = self.make_crm()
        first = crm.create_lead(_draft(_profile("1")))
        second = crm.create_lead(_draft(_profile("2")))
        one = _interaction(_profile("1"), "t-1")
        two = _interaction(_profile("2"), "t-2")
        assert crm.link_interaction(second.id, two) is True
        assert crm.link_interaction(first.id, one) is True
        assert list(crm.interactions(first.id)) == [one]
        assert list(crm.interactions(second.id)) == [two]

    def test_R4_an_interaction_by_a_profile_not_linked_to_the_record_is_refused(self) -> None:
        crm = self.make_crm()
        first = crm.create_lead(_draft(_profile("1")))
        crm.create_lead(_draft(_profile("2")))
        by_other = _interaction(_profile("2"), "t-2")
        by_nobody = _interaction(_profile("3"), "t-3")
        same_id_elsewhere = _interaction(_profile("1", "facebook"), "c-1")
        for interaction in (by_other, by_nobody, same_id_elsewhere):
            with pytest.raises(InvalidModelError):
                crm.link_interaction(first.id, interaction)
        assert list(crm.interactions(first.id)) == []

    def test_R4_of_workers_linking_the_same_interaction_at_once_one_links_it(self) -> None:
        crm = self.make_crm()
        profile = _profile("1")
        lead = crm.create_lead(_draft(profile))
        interaction = _interaction(profile, "t-race")
        barrier = threading.Barrier(THREADS)
        results: list[bool] = []

        def worker() -> None:
            barrier.wait()
            results.append(crm.link_interaction(lead.id, interaction))

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results) == [False] * (THREADS - 1) + [True]
        assert list(crm.interactions(lead.id)) == [interaction]

    # -- unknown records (P5) -----------------------------------------------------------------

    def test_P5_an_unknown_record_is_not_found(self) -> None:
        crm = self.make_crm()
        profile = _profile("1")
        crm.create_lead(_draft(profile))
        with pytest.raises(NotFoundError):
            crm.get_record("no-such-record")
        with pytest.raises(NotFoundError):
            crm.link_profile("no-such-record", _profile("2"))
        with pytest.raises(NotFoundError):
            crm.link_interaction("no-such-record", _interaction(profile, "t-1"))
        with pytest.raises(NotFoundError):
            crm.interactions("no-such-record")
        assert crm.find_by_social_profile(_profile("2")) is None

    # -- the invariant, over random histories (R4, R5) ----------------------------------------

    @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(operations=_operations)
    @example(operations=[("link", 0, ("twitter", "1"), 0)])
    @example(
        operations=[
            ("create", CrmRecordKind.LEAD, ("twitter", "1"), 0),
            ("create", CrmRecordKind.CONTACT, ("twitter", "1"), 1),
            ("create", CrmRecordKind.CONTACT, ("facebook", "1"), 0),
            ("link", 0, ("twitter", "2"), 0),
            ("link", 1, ("twitter", "2"), 2),
            ("link", 0, ("twitter", "2"), 3),
        ]
    )
    def test_R4_R5_each_profile_is_linked_to_at_most_one_record(
        self, operations: list[_Operation]
    ) -> None:
        crm = self.make_crm()
        owners: dict[tuple[str, str], str] = {}
        ids: list[str] = []
        for operation in operations:
            verb, target, (network, profile_id), variant = operation
            profile = _profile(profile_id, network, handle=f"@v{variant}")
            key = (network, profile_id)
            owner = owners.get(key)
            if verb == "create":
                assert isinstance(target, CrmRecordKind)
                if owner is not None:
                    with pytest.raises(ProfileAlreadyLinkedError) as refused:
                        _create(crm, _draft(profile, target))
                    assert refused.value.record_id == owner
                else:
                    record = _create(crm, _draft(profile, target))
                    assert record.id not in ids
                    owners[key] = record.id
                    ids.append(record.id)
            elif ids:
                assert isinstance(target, int)
                record_id = ids[target % len(ids)]
                if owner is not None and owner != record_id:
                    with pytest.raises(ProfileAlreadyLinkedError) as refused:
                        crm.link_profile(record_id, profile)
                    assert refused.value.record_id == owner
                else:
                    assert crm.link_profile(record_id, profile).has_profile(profile)
                    owners[key] = record_id
        for network in _POOL_NETWORKS:
            for profile_id in _POOL_IDS:
                found = crm.find_by_social_profile(_profile(profile_id, network))
                owner = owners.get((network, profile_id))
                assert (None if found is None else found.id) == owner
        for record_id in ids:
            record = crm.get_record(record_id)
            assert _keys(record) == {key for key, holder in owners.items() if holder == record_id}
