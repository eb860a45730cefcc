"""The CRM automation use cases (R1-R6, R9) over the reference CRM: interactions in, leads,
contacts and links out, replay-safe and race-safe."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskcore import (
    Actor,
    CrmAction,
    CrmAutomation,
    CrmBranch,
    CrmCondition,
    CrmDecisionKind,
    CrmInteractionLinked,
    CrmProfileLinked,
    CrmRecord,
    CrmRecordAdded,
    CrmRecordKind,
    CrmRule,
    CrmSettings,
    CrmTrigger,
    ExternalReference,
    InvalidModelError,
    NaiveDatetimeError,
    NotFoundError,
    OwnerRule,
    PermissionDeniedError,
    ProfileAlreadyLinkedError,
    SocialInteraction,
    SocialItem,
    SocialProfile,
    activity_history,
)
from deskcore.adapters import InMemoryCrm
from deskcore.models.crm import CRM_TRIGGERS, NewCrmRecord
from deskcore.testing.fakes import FixedClock

T0 = datetime(2027, 1, 13, 1, 0, tzinfo=UTC)
SOCIAL_ADMIN = Actor(id="aiko", roles={"social_admin"})
MAI = Actor(id="sales-mai", roles={"agent"})

RULES = CrmSettings(
    enabled=True,
    rules=[
        CrmRule(
            id="x-people",
            network="twitter",
            triggers=["mention", "reply", "retweet"],
            branches=[
                CrmBranch(
                    name="big accounts",
                    conditions=[CrmCondition(field="follower_count", op="at_least", value=1000)],
                    action=CrmAction(add_as="contact", owner=OwnerRule(user_id="sales-mai")),
                ),
                CrmBranch(
                    name="retweeters",
                    conditions=[CrmCondition(field="trigger", op="in", value=["retweet"])],
                    action=CrmAction(
                        add_as="lead", owner=OwnerRule(spread_among=["sales-sora", "sales-riku"])
                    ),
                ),
            ],
        ),
        CrmRule(
            id="fb-pricing",
            network="facebook",
            triggers=["comment", "post", "message"],
            branches=[
                CrmBranch(
                    conditions=[
                        CrmCondition(field="text", op="contains_any", value=["料金", "price"])
                    ],
                    action=CrmAction(add_as="lead", owner=OwnerRule(user_id="sales-sora")),
                )
            ],
        ),
    ],
)

HANAKO = SocialProfile(network="twitter", id="1450001", handle="@hanako_k", display_name="花子")
DAISUKE = SocialProfile(network="twitter", id="1450002", handle="@daisuke_y")
HANA = SocialProfile(network="facebook", id="fb-2002", display_name="鈴木 花")


def interaction(
    profile: SocialProfile,
    native_id: str,
    trigger: str,
    *,
    text: str = "",
    followers: int | None = None,
    at: datetime = T0,
    brand_id: str | None = None,
) -> SocialInteraction:
    return SocialInteraction(
        reference=ExternalReference(
            network=profile.network, account="acme", kind="post", native_id=native_id
        ),
        trigger=trigger,
        profile=profile,
        text=text,
        at=at,
        follower_count=followers,
        brand_id=brand_id,
    )


def automation(settings: CrmSettings = RULES, crm: InMemoryCrm | None = None) -> CrmAutomation:
    return CrmAutomation(
        crm=crm if crm is not None else InMemoryCrm(), settings=settings, clock=FixedClock(T0)
    )


# -- R1-R4: the automation ----------------------------------------------------------------------


def test_R2_R3_a_big_account_becomes_a_contact_with_the_network_as_lead_source() -> None:
    """R2: the first branch holds; R3: lead source Twitter; the interaction is linked."""
    desk = automation()
    outcome = desk.handle_interaction(interaction(HANAKO, "1", "mention", followers=1200))
    assert outcome.decision.action is CrmDecisionKind.ADD_CONTACT
    assert outcome.created
    assert outcome.linked
    record = outcome.record
    assert record is not None
    assert (record.kind, record.lead_source, record.owner_id) == ("contact", "Twitter", "sales-mai")
    assert record.name == "花子"
    assert record.has_profile(HANAKO)
    added, linked = outcome.events
    assert isinstance(added, CrmRecordAdded)
    assert isinstance(linked, CrmInteractionLinked)
    assert (added.rule_id, added.branch, added.actor_id) == ("x-people", 1, None)
    assert added.at == T0
    assert added.reference == linked.reference
    assert desk.crm.interactions(record.id)[0].reference.native_id == "1"


def test_R2_R3_a_retweeter_becomes_a_lead_owned_by_one_of_the_spread() -> None:
    """R2: the second branch applies when the first does not hold."""
    outcome = automation().handle_interaction(interaction(DAISUKE, "2", "retweet", followers=85))
    assert outcome.decision.action is CrmDecisionKind.ADD_LEAD
    assert outcome.decision.branch == 2
    assert outcome.record is not None
    assert outcome.record.owner_id in {"sales-sora", "sales-riku"}
    assert outcome.record.lead_source == "Twitter"


def test_R3_a_facebook_comment_asking_a_price_becomes_a_facebook_lead() -> None:
    """R3: the lead source is Facebook; Japanese keywords match inside a sentence (W1)."""
    comment = interaction(HANA, "c-1", "comment", text="このコートの料金はいくらですか?")
    outcome = automation().handle_interaction(comment)
    assert outcome.record is not None
    assert (outcome.record.kind, outcome.record.lead_source) == ("lead", "Facebook")


def test_R4_a_person_already_linked_is_linked_to_the_new_interaction_not_added() -> None:
    """R4: a second interaction, even one no rule watches (a private message), links."""
    desk = automation()
    first = desk.handle_interaction(interaction(HANAKO, "1", "mention", followers=1200))
    second = desk.handle_interaction(interaction(HANAKO, "2", "message", text="配送先の変更"))
    assert second.decision.action is CrmDecisionKind.LINK_EXISTING
    assert second.decision.reason == "already_linked"
    assert not second.created
    assert second.linked
    assert first.record is not None
    assert second.record == desk.crm.get_record(first.record.id)
    assert [type(e) for e in second.events] == [CrmInteractionLinked]
    assert len(desk.crm.records()) == 1
    listing = desk.social_list(first.record.id)
    assert [i.reference.native_id for i in listing.conversations] == ["1"]
    assert [i.reference.native_id for i in listing.messages] == ["2"]


def test_R4_replaying_an_interaction_adds_and_links_nothing() -> None:
    """R4, P3: the same interaction twice (a webhook delivered twice) changes nothing."""
    desk = automation()
    mention = interaction(HANAKO, "1", "mention", followers=1200)
    desk.handle_interaction(mention)
    again = desk.handle_interaction(mention)
    assert again.decision.action is CrmDecisionKind.LINK_EXISTING
    assert not again.created
    assert not again.linked
    assert again.events == ()
    assert len(desk.crm.records()) == 1


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        (CrmSettings(enabled=False, rules=RULES.rules), "integration_disabled"),
        (RULES, "no_branch"),
    ],
)
def test_R1_R2_nothing_is_added_when_no_branch_applies_or_the_integration_is_off(
    settings: CrmSettings, reason: str
) -> None:
    """R1, R2: nothing is written when nothing applies."""
    desk = automation(settings)
    outcome = desk.handle_interaction(interaction(DAISUKE, "1", "mention", followers=10))
    assert outcome.decision.action is CrmDecisionKind.NOTHING
    assert outcome.decision.reason == reason
    assert (outcome.record, outcome.events) == (None, ())
    assert not desk.crm.records()


def test_R4_a_lost_race_links_the_interaction_to_the_winners_record() -> None:
    """R4: the profile was added between the lookup and the create (another worker); the
    CRM refuses the second record and the loser links its interaction to the winner's."""

    class RacingCrm(InMemoryCrm):
        def find_by_social_profile(self, profile: SocialProfile) -> CrmRecord | None:
            found = super().find_by_social_profile(profile)
            if found is None:  # the other worker creates the record right after this lookup
                winner = NewCrmRecord(
                    kind="lead", profile=profile, name="winner", lead_source="Twitter"
                )
                super().create_lead(winner)
            return found

    desk = automation(crm=RacingCrm())
    outcome = desk.handle_interaction(interaction(HANAKO, "1", "mention", followers=1200))
    assert outcome.decision.action is CrmDecisionKind.LINK_EXISTING
    assert not outcome.created
    assert outcome.linked
    assert outcome.record is not None
    assert outcome.record.name == "winner"
    assert [type(e) for e in outcome.events] == [CrmInteractionLinked]
    assert len(desk.crm.records()) == 1


def test_R4_workers_handling_one_stream_at_once_add_each_person_once() -> None:
    """R4: four threads handle the same interactions at once through one CRM; each person
    gets one record and each interaction is linked once."""
    crm = InMemoryCrm()
    people = [SocialProfile(network="twitter", id=f"u{n}", handle=f"@user{n}") for n in range(20)]
    stream = [
        interaction(person, f"{person.id}-{k}", "retweet", followers=10)
        for person in people
        for k in range(3)
    ]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(order: Sequence[SocialInteraction]) -> None:
        desk = automation(crm=crm)
        barrier.wait()
        try:
            for item in order:
                desk.handle_interaction(item)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=work, args=(stream[n::1] if n % 2 else stream[::-1],))
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(crm.records()) == len(people)
    for record in crm.records():
        assert len(crm.interactions(record.id)) == 3


def test_R1_a_social_item_is_handled_as_its_interaction() -> None:
    """R1: a Twitter retweet item adds a lead; the brand's own post is no interaction."""
    desk = automation()
    retweet = SocialItem(
        reference=ExternalReference(
            network="twitter", account="acme", kind="tweet", native_id="rt-1"
        ),
        kind="retweet",
        author=DAISUKE,
        created_at=T0,
    )
    outcome = desk.handle_social_item(retweet, follower_count=5, brand_id="acme")
    assert outcome.decision.action is CrmDecisionKind.ADD_LEAD
    assert desk.crm.interactions(outcome.record.id)[0].brand_id == "acme"  # type: ignore[union-attr]
    own = SocialItem(
        reference=ExternalReference(
            network="twitter", account="acme", kind="tweet", native_id="own-1"
        ),
        kind="mention",
        author=HANAKO,
        created_at=T0,
        brand_own=True,
    )
    nothing = desk.handle_social_item(own)
    assert nothing.decision.reason == "not_an_interaction"
    assert "by the brand" in nothing.decision.explanation
    assert len(desk.crm.records()) == 1


# -- acceptance: any stream, replayed ------------------------------------------------------------

PROFILES = st.builds(
    SocialProfile,
    network=st.sampled_from(["twitter", "facebook"]),
    id=st.sampled_from(["1", "2", "3", "4", "5"]),
    handle=st.sampled_from(["", "@a", "@b"]),
)


@st.composite
def streams(draw: st.DrawFn) -> list[SocialInteraction]:
    count = draw(st.integers(min_value=0, max_value=25))
    items = []
    for n in range(count):
        profile = draw(PROFILES)
        trigger = draw(st.sampled_from(sorted(CRM_TRIGGERS[profile.network])))
        native = draw(st.sampled_from([str(n), "dup-1", "dup-2"]))  # some references repeat
        items.append(
            interaction(
                profile,
                f"{profile.id}-{native}",
                trigger,
                text=draw(st.sampled_from(["", "料金は?", "price please", "hello"])),
                followers=draw(st.none() | st.integers(min_value=0, max_value=5000)),
                at=T0 + timedelta(minutes=n),
            )
        )
    return items


BRANCH_ACTIONS = st.sampled_from(
    [
        CrmAction(add_as="lead", owner=OwnerRule(user_id="o1")),
        CrmAction(add_as="contact", owner=OwnerRule(spread_among=["o1", "o2"])),
        CrmAction(),
    ]
)
CONDITIONS = st.sampled_from(
    [
        CrmCondition(field="follower_count", op="at_least", value=1000),
        CrmCondition(field="text", op="contains_any", value=["料金", "price"]),
        CrmCondition(field="handle", op="in", value=["a"]),
    ]
)


@st.composite
def crm_settings(draw: st.DrawFn) -> CrmSettings:
    rules = []
    for n, network in enumerate(
        draw(st.lists(st.sampled_from(["twitter", "facebook"]), max_size=3))
    ):
        triggers = draw(st.sets(st.sampled_from(sorted(CRM_TRIGGERS[network])), min_size=1))
        branches = draw(
            st.lists(
                st.builds(
                    CrmBranch,
                    conditions=st.lists(CONDITIONS, max_size=2),
                    action=BRANCH_ACTIONS,
                ),
                min_size=1,
                max_size=3,
            )
        )
        rules.append(CrmRule(id=f"r{n}", network=network, triggers=triggers, branches=branches))
    return CrmSettings(enabled=draw(st.booleans()), rules=rules)


def _links(crm: InMemoryCrm) -> dict[tuple[str, str], list[str]]:
    owners: dict[tuple[str, str], list[str]] = {}
    for record in crm.records():
        for profile in record.profiles:
            owners.setdefault((profile.network, profile.id), []).append(record.id)
    return owners


@settings(max_examples=150, deadline=None)
@given(settings_=crm_settings(), stream=streams())
def test_R4_any_stream_links_each_profile_to_at_most_one_record_and_replay_adds_nobody(
    settings_: CrmSettings, stream: list[SocialInteraction]
) -> None:
    """Acceptance: for any stream of interactions, each social profile ends linked to at most
    one lead or contact, and replaying the stream adds nobody new (R4)."""
    desk = automation(settings_)
    for item in stream:
        desk.handle_interaction(item)
    links = _links(desk.crm)
    assert all(len(records) == 1 for records in links.values())
    for (network, profile_id), (record_id,) in links.items():
        found = desk.crm.find_by_social_profile(SocialProfile(network=network, id=profile_id))
        assert found is not None
        assert found.id == record_id
    records = desk.crm.records()
    linked = {r.id: len(desk.crm.interactions(r.id)) for r in records}
    events = [desk.handle_interaction(item).events for item in stream]
    assert desk.crm.records() == records
    assert not any(isinstance(e, CrmRecordAdded) for batch in events for e in batch)
    # A replay may link interactions that arrived before their person was added (decision
    # 51), but never one twice.
    for record in records:
        references = [i.reference for i in desk.crm.interactions(record.id)]
        assert len(references) == len(set(references)) >= linked[record.id]
    again = [desk.handle_interaction(item).events for item in stream]
    assert all(batch == () for batch in again)


@settings(max_examples=60, deadline=None)
@given(stream=streams())
def test_R4_the_order_of_a_stream_changes_no_ones_record_count(
    stream: list[SocialInteraction],
) -> None:
    """R4: the stream and its reverse give each profile at most one record each time."""
    forward, backward = automation(), automation()
    for item in stream:
        forward.handle_interaction(item)
    for item in reversed(stream):
        backward.handle_interaction(item)
    assert all(len(r) == 1 for r in _links(forward.crm).values())
    assert all(len(r) == 1 for r in _links(backward.crm).values())


# -- R5, R6: by hand -------------------------------------------------------------------------------


def test_R5_R6_adding_and_linking_by_hand_are_the_users_activity() -> None:
    """R5: a profile is linked to an existing contact by hand; R6: both actions are in the
    user's history, newest first, and automation's are not."""
    clock = FixedClock(T0)
    desk = CrmAutomation(crm=InMemoryCrm(), settings=RULES, clock=clock)
    emily_fb = SocialProfile(network="facebook", id="fb-5", display_name="Emily Clark")
    emily_x = SocialProfile(network="twitter", id="99", handle="@emily_c")
    added = desk.add_by_hand(emily_fb, "contact", actor=MAI)
    assert added.record is not None
    assert (added.record.kind, added.record.lead_source, added.record.owner_id) == (
        CrmRecordKind.CONTACT,
        "Facebook",
        "sales-mai",
    )
    clock.advance(minutes=5)
    linked = desk.link_profile_by_hand(added.record.id, emily_x, actor=MAI)
    assert [type(e) for e in linked.events] == [CrmProfileLinked]
    assert linked.record is not None
    assert linked.record.has_profile(emily_x)
    clock.advance(minutes=5)
    mention = desk.handle_interaction(interaction(emily_x, "m-1", "mention", followers=3))
    assert mention.decision.action is CrmDecisionKind.LINK_EXISTING
    assert mention.record is not None
    assert mention.record.id == added.record.id
    again = desk.link_profile_by_hand(added.record.id, emily_x, actor=MAI)
    assert again.events == ()
    assert again.decision.reason == "already_linked"
    log = [*added.events, *linked.events, *mention.events, *again.events]
    history = activity_history(log, "sales-mai")
    assert [entry.action for entry in history] == ["linked_profile", "added_contact"]
    assert history[0].at == T0 + timedelta(minutes=5)


def test_R4_R5_adding_by_hand_a_person_already_linked_is_refused() -> None:
    """R4: a profile linked already cannot get a second record by hand either."""
    desk = automation()
    first = desk.handle_interaction(interaction(HANAKO, "1", "mention", followers=1200))
    with pytest.raises(ProfileAlreadyLinkedError) as caught:
        desk.add_by_hand(HANAKO, "lead", actor=MAI, owner_id="sales-sora", name="Hanako")
    assert first.record is not None
    assert caught.value.record_id == first.record.id
    other = desk.add_by_hand(DAISUKE, "lead", actor=MAI)
    assert other.record is not None
    with pytest.raises(ProfileAlreadyLinkedError):
        desk.link_profile_by_hand(other.record.id, HANAKO, actor=MAI)
    with pytest.raises(NotFoundError):
        desk.link_profile_by_hand("lead-404", HANA, actor=MAI)
    assert len(desk.crm.records()) == 2


def test_R5_the_social_list_filters_by_network_and_brand() -> None:
    """R5: the record's list, filtered by network and by brand."""
    desk = automation()
    first = desk.handle_interaction(
        interaction(HANAKO, "1", "mention", followers=1200, brand_id="acme")
    )
    assert first.record is not None
    desk.handle_interaction(
        interaction(HANAKO, "2", "reply", brand_id="beta", at=T0 + timedelta(1))
    )
    hanako_fb = SocialProfile(network="facebook", id="fb-9")
    desk.link_profile_by_hand(first.record.id, hanako_fb, actor=MAI)
    desk.handle_interaction(interaction(hanako_fb, "3", "comment", brand_id="acme"))
    everything = desk.social_list(first.record.id)
    assert [i.reference.native_id for i in everything.conversations] == ["2", "3", "1"]
    acme = desk.social_list(first.record.id, brand_id="acme")
    assert [i.reference.native_id for i in acme.conversations] == ["3", "1"]
    facebook = desk.social_list(first.record.id, network="facebook")
    assert [i.reference.native_id for i in facebook.conversations] == ["3"]
    with pytest.raises(NotFoundError):
        desk.social_list("contact-404")


# -- R9 and hostile input -----------------------------------------------------------------------


def test_R9_only_a_social_admin_changes_the_settings() -> None:
    """R9: an admin without the social_admin role is refused and nothing changes; a social
    admin's settings are in force for the next interaction."""
    desk = automation(CrmSettings())
    with pytest.raises(PermissionDeniedError) as caught:
        desk.update_settings(RULES, actor=Actor(id="ken", roles={"admin"}))
    assert caught.value.missing == "role:social_admin"
    assert desk.settings == CrmSettings()
    off = desk.handle_interaction(interaction(HANAKO, "1", "mention", followers=1200))
    assert off.decision.reason == "integration_disabled"
    assert desk.update_settings(RULES, actor=SOCIAL_ADMIN) is RULES
    on = desk.handle_interaction(interaction(HANAKO, "1", "mention", followers=1200))
    assert on.decision.action is CrmDecisionKind.ADD_CONTACT


def test_hostile_input_gets_typed_errors_and_writes_nothing() -> None:
    """Bad arguments are InvalidModelErrors; a naive clock is a NaiveDatetimeError."""
    desk = automation()
    with pytest.raises(InvalidModelError):
        CrmAutomation(crm=InMemoryCrm(), settings="rules")  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError):
        desk.handle_interaction("a tweet")  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError):
        desk.add_by_hand(HANAKO, "lead", actor="mai")  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError):
        desk.add_by_hand("hanako", "lead", actor=MAI)  # type: ignore[arg-type]
    instagram = SocialProfile(network="instagram", id="ig-1")
    with pytest.raises(InvalidModelError):
        desk.add_by_hand(instagram, "lead", actor=MAI)
    with pytest.raises(InvalidModelError):
        desk.add_by_hand(HANAKO, "customer", actor=MAI)
    with pytest.raises(InvalidModelError):
        desk.link_profile_by_hand("lead-1", "hanako", actor=MAI)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError):
        desk.link_profile_by_hand("lead-1", HANAKO, actor=None)  # type: ignore[arg-type]
    assert not desk.crm.records()

    class NaiveClock:
        def now(self) -> datetime:
            return datetime(2027, 1, 13, 10, 0)

    naive = CrmAutomation(crm=InMemoryCrm(), settings=RULES, clock=NaiveClock())
    with pytest.raises(NaiveDatetimeError):
        naive.handle_interaction(interaction(HANAKO, "1", "mention", followers=1200))
    assert not naive.crm.records()  # type: ignore[attr-defined]


def test_the_default_clock_is_the_system_clock_in_utc() -> None:
    """Without a clock, events carry the system time."""
    desk = CrmAutomation(crm=InMemoryCrm(), settings=RULES)
    before = datetime.now(UTC)
    outcome = desk.handle_interaction(interaction(HANAKO, "1", "mention", followers=1200))
    assert before <= outcome.events[0].at <= datetime.now(UTC)
    assert CrmTrigger.MENTION in CRM_TRIGGERS["twitter"]
