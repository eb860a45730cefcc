"""The reference CRM against the shared connector contract (R3-R5, P7), and what only
:class:`~deskcore.adapters.InMemoryCrm` has to show: its ids, its records in creation order,
records it starts with, and refusal of arguments of the wrong type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from deskcore.adapters import InMemoryCrm
from deskcore.errors import (
    DuplicateError,
    InvalidModelError,
    NotFoundError,
    ProfileAlreadyLinkedError,
)
from deskcore.models.crm import (
    CrmRecord,
    CrmRecordKind,
    CrmTrigger,
    NewCrmRecord,
    SocialInteraction,
)
from deskcore.models.refs import ExternalReference
from deskcore.models.social import SocialProfile
from deskcore.ports import CrmConnector
from deskcore.testing import SequentialIds
from deskcore.testing.crm_contracts import CrmConnectorContract

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class TestInMemoryCrm(CrmConnectorContract):
    """P7: the in-memory CRM passes the contract."""

    def make_crm(self) -> InMemoryCrm:
        return InMemoryCrm()


def _profile(profile_id: str, network: str = "twitter", handle: str = "") -> SocialProfile:
    return SocialProfile(network=network, id=profile_id, handle=handle)


def _draft(profile_id: str, kind: CrmRecordKind = CrmRecordKind.LEAD) -> NewCrmRecord:
    return NewCrmRecord(
        kind=kind, profile=_profile(profile_id), name=f"User {profile_id}", lead_source="Twitter"
    )


def _tweet(profile: SocialProfile, native_id: str) -> SocialInteraction:
    return SocialInteraction(
        reference=ExternalReference(
            network="twitter", account="brand", kind="tweet", native_id=native_id
        ),
        trigger=CrmTrigger.MENTION,
        profile=profile,
        at=T0,
    )


def test_P7_it_is_exported_and_is_a_crm_connector() -> None:
    import deskcore.adapters

    assert "InMemoryCrm" in deskcore.adapters.__all__
    assert isinstance(InMemoryCrm(), CrmConnector)


def test_ids_are_counted_per_kind_and_refusals_use_none_up() -> None:
    crm = InMemoryCrm()
    assert crm.create_lead(_draft("1")).id == "lead-1"
    assert crm.create_contact(_draft("2", CrmRecordKind.CONTACT)).id == "contact-1"
    with pytest.raises(ProfileAlreadyLinkedError):
        crm.create_lead(_draft("1"))
    with pytest.raises(InvalidModelError):
        crm.create_lead(_draft("3", CrmRecordKind.CONTACT))
    assert crm.create_lead(_draft("3")).id == "lead-2"
    assert crm.create_contact(_draft("4", CrmRecordKind.CONTACT)).id == "contact-2"


def test_two_crms_count_ids_apart() -> None:
    assert InMemoryCrm().create_lead(_draft("1")).id == "lead-1"
    assert InMemoryCrm().create_lead(_draft("1")).id == "lead-1"


def test_an_id_generator_can_be_injected() -> None:
    crm = InMemoryCrm(ids=SequentialIds(prefix="crm-"))
    assert crm.create_lead(_draft("1")).id == "crm-lead-1"
    assert crm.create_contact(_draft("2", CrmRecordKind.CONTACT)).id == "crm-contact-1"


class _SameId:
    def new_id(self, kind: str) -> str:
        return "always-the-same"


def test_a_generated_id_that_is_taken_is_refused_and_creates_nothing() -> None:
    crm = InMemoryCrm(ids=_SameId())
    first = crm.create_lead(_draft("1"))
    with pytest.raises(DuplicateError) as caught:
        crm.create_lead(_draft("2"))
    assert not isinstance(caught.value, ProfileAlreadyLinkedError)
    assert crm.records() == [first]
    assert crm.find_by_social_profile(_profile("2")) is None


def test_records_come_in_creation_order_as_a_fresh_list() -> None:
    crm = InMemoryCrm()
    assert crm.records() == []
    b = crm.create_contact(_draft("b", CrmRecordKind.CONTACT))
    a = crm.create_lead(_draft("a"))
    listed = crm.records()
    assert listed == [b, a]
    listed.clear()
    linked = crm.link_profile(b.id, _profile("c"))
    assert crm.records() == [linked, a]


def test_a_profile_is_stored_as_first_linked() -> None:
    crm = InMemoryCrm()
    lead = crm.create_lead(
        NewCrmRecord(kind="lead", profile=_profile("1", handle="@first"), name="First")
    )
    assert crm.link_profile(lead.id, _profile("1", handle="@second")) == lead
    found = crm.find_by_social_profile(_profile("1", handle="@third"))
    assert found is not None
    assert found.profiles[0].handle == "@first"


def test_interactions_are_a_snapshot() -> None:
    crm = InMemoryCrm()
    profile = _profile("1")
    lead = crm.create_lead(_draft("1"))
    before = crm.interactions(lead.id)
    assert crm.link_interaction(lead.id, _tweet(profile, "t-1"))
    assert before == ()
    assert len(crm.interactions(lead.id)) == 1


def test_R4_an_interaction_reference_is_linked_once_whatever_the_record() -> None:
    # The same reference reported with another author (a host's mistake) is not linked to a
    # second record: the reference is the interaction's identity.
    crm = InMemoryCrm()
    first = crm.create_lead(_draft("1"))
    second = crm.create_lead(_draft("2"))
    original = _tweet(_profile("1"), "t-1")
    assert crm.link_interaction(first.id, original) is True
    assert crm.link_interaction(second.id, _tweet(_profile("2"), "t-1")) is False
    assert crm.interactions(second.id) == ()
    assert crm.interactions(first.id) == (original,)
    with pytest.raises(InvalidModelError):
        crm.link_interaction(second.id, original)


def test_records_it_starts_with_are_kept_as_given() -> None:
    existing = CrmRecord(id="C-100", kind="contact", name="Existing customer", owner_id="u-1")
    linked = CrmRecord(id="L-7", kind="lead", name="Fan", profiles=(_profile("9"),))
    crm = InMemoryCrm([existing, linked])
    assert crm.records() == [existing, linked]
    assert crm.get_record("C-100") == existing
    assert crm.find_by_social_profile(_profile("9")) == linked
    assert crm.link_profile("C-100", _profile("1")).profiles == (_profile("1"),)
    assert crm.create_lead(_draft("2")).id == "lead-1"


def test_adding_a_record_is_all_or_nothing() -> None:
    crm = InMemoryCrm()
    lead = crm.create_lead(_draft("1"))
    with pytest.raises(DuplicateError):
        crm.add_record(CrmRecord(id=lead.id, kind="contact"))
    both = CrmRecord(id="X-1", kind="contact", profiles=(_profile("2"), _profile("1")))
    with pytest.raises(ProfileAlreadyLinkedError) as caught:
        crm.add_record(both)
    assert caught.value.record_id == lead.id
    assert crm.records() == [lead]
    assert crm.find_by_social_profile(_profile("2")) is None
    with pytest.raises(NotFoundError):
        crm.get_record("X-1")
    assert crm.add_record(CrmRecord(id="X-2", kind="lead")) == crm.get_record("X-2")


_PROFILE = _profile("1")
_DRAFT = _draft("1")
_HOSTILE: dict[str, Callable[[InMemoryCrm], object]] = {
    "find by a string": lambda crm: crm.find_by_social_profile("twitter:1"),  # type: ignore[arg-type]
    "find by None": lambda crm: crm.find_by_social_profile(None),  # type: ignore[arg-type]
    "get by an int": lambda crm: crm.get_record(1),  # type: ignore[arg-type]
    "get by None": lambda crm: crm.get_record(None),  # type: ignore[arg-type]
    "lead from a dict": lambda crm: crm.create_lead({"kind": "lead"}),  # type: ignore[arg-type]
    "contact from a profile": lambda crm: crm.create_contact(_PROFILE),  # type: ignore[arg-type]
    "link a string": lambda crm: crm.link_profile("lead-1", "twitter:1"),  # type: ignore[arg-type]
    "link to bytes": lambda crm: crm.link_profile(b"lead-1", _PROFILE),  # type: ignore[arg-type]
    "link a draft": lambda crm: crm.link_interaction("lead-1", _DRAFT),  # type: ignore[arg-type]
    "link to a list": lambda crm: crm.link_interaction(["lead-1"], _DRAFT),  # type: ignore[arg-type]
    "interactions of an int": lambda crm: crm.interactions(1),  # type: ignore[arg-type]
    "add a draft": lambda crm: crm.add_record(_DRAFT),  # type: ignore[arg-type]
    "start with drafts": lambda crm: InMemoryCrm([_DRAFT]),  # type: ignore[list-item]
}


@pytest.mark.parametrize("call", list(_HOSTILE.values()), ids=list(_HOSTILE))
def test_P5_arguments_of_the_wrong_type_are_refused(call: Callable[[InMemoryCrm], object]) -> None:
    crm = InMemoryCrm()
    lead = crm.create_lead(_DRAFT)
    with pytest.raises(InvalidModelError):
        call(crm)
    assert crm.records() == [lead]
    assert crm.interactions(lead.id) == ()
