"""CRM social automation use cases (R1-R9): interactions in, leads, contacts and links out,
through the host's :class:`~deskcore.ports.CrmConnector`."""

from __future__ import annotations

from datetime import datetime

import attrs

from deskcore.errors import InvalidModelError, NaiveDatetimeError, ProfileAlreadyLinkedError
from deskcore.models._validate import is_aware
from deskcore.models.crm import (
    LEAD_SOURCES,
    CrmEvent,
    CrmInteractionLinked,
    CrmProfileLinked,
    CrmRecord,
    CrmRecordAdded,
    CrmRecordKind,
    CrmSettings,
    NewCrmRecord,
    SocialInteraction,
    interaction_from_item,
)
from deskcore.models.parties import Actor
from deskcore.models.social import SocialItem, SocialProfile
from deskcore.policies.crm import (
    CrmDecision,
    CrmDecisionKind,
    SocialList,
    compile_crm_matcher,
    decide_crm_action,
    social_list,
    update_crm_settings,
)
from deskcore.ports.connectors import CrmConnector
from deskcore.ports.runtime import Clock
from deskcore.service.runtime import SystemClock

__all__ = ["CrmAutomation", "CrmOutcome"]

_ADDS = {
    CrmRecordKind.LEAD: CrmDecisionKind.ADD_LEAD,
    CrmRecordKind.CONTACT: CrmDecisionKind.ADD_CONTACT,
}


@attrs.frozen(kw_only=True)
class CrmOutcome:
    """What the CRM automation decided and did with one interaction or one user action.

    Attributes:
        decision: The decision, with its reason and explanation.
        record: The lead or contact the interaction (or profile) is linked to now; ``None``
            when nothing was added or linked.
        created: A new record was created.
        linked: The interaction was newly linked to ``record`` (``False`` for a replay).
        events: The CRM events of the change, for the host to store (R6); empty when nothing
            changed.
    """

    decision: CrmDecision
    record: CrmRecord | None = None
    created: bool = False
    linked: bool = False
    events: tuple[CrmEvent, ...] = ()


class CrmAutomation:
    """The CRM integration of the social tab: automation rules applied to interactions (R1-R4),
    leads and contacts added and profiles linked by hand (R5), and the social list (R5).

    Args:
        crm: The host's CRM.
        settings: Whether the integration is on, and the automation rules.
        clock: Source of ``now``; the system clock in UTC by default.
    """

    def __init__(
        self, *, crm: CrmConnector, settings: CrmSettings, clock: Clock | None = None
    ) -> None:
        if not isinstance(settings, CrmSettings):
            raise InvalidModelError(
                "CrmAutomation", "settings", f"expected CrmSettings, got {type(settings).__name__}"
            )
        self.crm = crm
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._settings = settings
        self._matcher = compile_crm_matcher(settings)

    @property
    def settings(self) -> CrmSettings:
        """The settings in force."""
        return self._settings

    def update_settings(self, new: CrmSettings, *, actor: Actor) -> CrmSettings:
        """Turn the integration on or off or change its rules, as a social admin (R9); the
        keywords are compiled once here, not per interaction.

        Raises:
            PermissionDeniedError: The actor is not a social admin; nothing changes.
        """
        settings = update_crm_settings(self._settings, new, actor=actor)
        matcher = compile_crm_matcher(settings)
        self._settings, self._matcher = settings, matcher
        return settings

    def _now(self) -> datetime:
        now = self.clock.now()
        if not isinstance(now, datetime) or not is_aware(now):
            raise NaiveDatetimeError(
                "Clock", "now", f"the clock returned a naive datetime {now!r} (T1)"
            )
        return now

    # -- automation (R1-R4) ---------------------------------------------------------------------

    def handle_interaction(self, interaction: SocialInteraction) -> CrmOutcome:
        """Apply the automation rules to one interaction (R1-R4); see
        :func:`~deskcore.policies.decide_crm_action`.

        A person already linked to a lead or contact is not added again: the interaction is
        linked to the existing record (R4). When two workers add the same new person at once,
        the CRM creates one record and refuses the other
        (:class:`~deskcore.errors.ProfileAlreadyLinkedError`); the loser links its
        interaction to the winner's record. Handling an interaction again (a replay, a
        webhook delivered twice) adds and links nothing.
        """
        if not isinstance(interaction, SocialInteraction):
            raise InvalidModelError(
                "handle_interaction",
                "interaction",
                f"expected SocialInteraction, got {type(interaction).__name__}",
            )
        now = self._now()
        settings, matcher = self._settings, self._matcher
        existing = self.crm.find_by_social_profile(interaction.profile)
        decision = decide_crm_action(interaction, settings, linked=existing, matcher=matcher)
        events: list[CrmEvent] = []
        created = False
        if decision.draft is not None:
            try:
                record = self._create(decision.draft)
            except ProfileAlreadyLinkedError as lost:
                record = self.crm.get_record(lost.record_id)
                decision = decide_crm_action(interaction, settings, linked=record, matcher=matcher)
            else:
                created = True
                events.append(
                    CrmRecordAdded(
                        record_id=record.id,
                        kind=record.kind,
                        profile=interaction.profile,
                        lead_source=record.lead_source,
                        owner_id=record.owner_id,
                        rule_id=decision.rule_id,
                        branch=decision.branch,
                        reference=interaction.reference,
                        at=now,
                    )
                )
        elif decision.record is not None:
            record = decision.record
        else:
            return CrmOutcome(decision=decision)
        linked = self.crm.link_interaction(record.id, interaction)
        if linked:
            events.append(
                CrmInteractionLinked(
                    record_id=record.id,
                    reference=interaction.reference,
                    trigger=interaction.trigger,
                    at=now,
                )
            )
        return CrmOutcome(
            decision=decision, record=record, created=created, linked=linked, events=tuple(events)
        )

    def handle_social_item(
        self, item: SocialItem, *, follower_count: int | None = None, brand_id: str | None = None
    ) -> CrmOutcome:
        """:meth:`handle_interaction` for a social item as the social tool reports it
        (:func:`~deskcore.models.interaction_from_item`); an item that is no interaction
        (the brand's own post, a kind that is no trigger on its network) does nothing, with
        the reason ``not_an_interaction``."""
        interaction = interaction_from_item(item, follower_count=follower_count, brand_id=brand_id)
        if interaction is None:
            return CrmOutcome(
                decision=CrmDecision(
                    action=CrmDecisionKind.NOTHING,
                    reason="not_an_interaction",
                    explanation=(
                        f"{item.reference}: a {item.kind.value}"
                        f"{' by the brand' if item.is_brand_own else ''} is no CRM trigger on "
                        f"{item.network} (R1)"
                    ),
                )
            )
        return self.handle_interaction(interaction)

    def _create(self, draft: NewCrmRecord) -> CrmRecord:
        if draft.kind is CrmRecordKind.LEAD:
            return self.crm.create_lead(draft)
        return self.crm.create_contact(draft)

    # -- by hand, from the social tab (R5, R6) ----------------------------------------------------

    def add_by_hand(
        self,
        profile: SocialProfile,
        kind: CrmRecordKind | str,
        *,
        actor: Actor,
        owner_id: str | None = None,
        name: str | None = None,
    ) -> CrmOutcome:
        """A user adds the person behind ``profile`` as a lead or contact from the social tab;
        the lead source is the network's name (R3), the owner ``owner_id`` (the user, when
        ``None``). The event carries the user, for their activity history (R6).

        Raises:
            ProfileAlreadyLinkedError: The profile is linked to a record already (R4);
                nothing is created.
            InvalidModelError: The profile's network is not one CRM automation covers.
        """
        _require_actor(actor, "add_by_hand")
        if not isinstance(profile, SocialProfile) or profile.network not in LEAD_SOURCES:
            raise InvalidModelError(
                "add_by_hand", "profile", "expected a facebook or twitter SocialProfile"
            )
        draft = NewCrmRecord(
            kind=kind,
            profile=profile,
            name=profile.name if name is None else name,
            lead_source=LEAD_SOURCES[profile.network],
            owner_id=actor.id if owner_id is None else owner_id,
        )
        now = self._now()
        existing = self.crm.find_by_social_profile(profile)
        if existing is not None:
            raise ProfileAlreadyLinkedError(profile.network, profile.id, existing.id)
        record = self._create(draft)
        decision = CrmDecision(
            action=_ADDS[draft.kind],
            reason="by_hand",
            explanation=(
                f"{actor.id} added {profile.name} ({profile.network}) as the {draft.kind.value} "
                f"{record.id}, lead source {draft.lead_source} (R3)"
            ),
            draft=draft,
        )
        event = CrmRecordAdded(
            record_id=record.id,
            kind=record.kind,
            profile=profile,
            lead_source=record.lead_source,
            owner_id=record.owner_id,
            actor_id=actor.id,
            at=now,
        )
        return CrmOutcome(decision=decision, record=record, created=True, events=(event,))

    def link_profile_by_hand(
        self, record_id: str, profile: SocialProfile, *, actor: Actor
    ) -> CrmOutcome:
        """A user links ``profile`` (found with :func:`~deskcore.policies.search_profiles`) to
        an existing lead or contact (R5). Linking it where it is linked already changes
        nothing and records no event.

        Raises:
            NotFoundError: There is no such record.
            ProfileAlreadyLinkedError: The profile is linked to another record.
        """
        _require_actor(actor, "link_profile_by_hand")
        if not isinstance(profile, SocialProfile):
            raise InvalidModelError(
                "link_profile_by_hand",
                "profile",
                f"expected SocialProfile, got {type(profile).__name__}",
            )
        now = self._now()
        before = self.crm.get_record(record_id)
        record = self.crm.link_profile(record_id, profile)
        fresh = not before.has_profile(profile)
        events: tuple[CrmEvent, ...] = ()
        if fresh:
            linked = CrmProfileLinked(
                record_id=record.id, profile=profile, actor_id=actor.id, at=now
            )
            events = (linked,)
        decision = CrmDecision(
            action=CrmDecisionKind.LINK_EXISTING,
            reason="by_hand" if fresh else "already_linked",
            explanation=(
                f"{actor.id} linked {profile.name} ({profile.network}) to {record.id}"
                if fresh
                else f"{profile.name} ({profile.network}) is linked to {record.id} already"
            ),
            record=record,
        )
        return CrmOutcome(decision=decision, record=record, events=events)

    # -- views (R5) ---------------------------------------------------------------------------

    def social_list(
        self, record_id: str, *, network: str | None = None, brand_id: str | None = None
    ) -> SocialList:
        """The record's conversations and messages, newest first, filtered by network and
        brand (R5).

        Raises:
            NotFoundError: There is no such record.
        """
        return social_list(self.crm.interactions(record_id), network=network, brand_id=brand_id)


def _require_actor(actor: object, operation: str) -> None:
    if not isinstance(actor, Actor):
        raise InvalidModelError(operation, "actor", f"expected Actor, got {type(actor).__name__}")
