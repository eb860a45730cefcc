"""CRM social automation (R1-R9): which interactions add a lead or a contact, the social list
of a record, profile search, the activity history, and post checks.

Everything here is pure: the host's CRM is read and written by
:class:`deskcore.service.CrmAutomation` through :class:`deskcore.ports.CrmConnector`.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Iterable
from datetime import datetime
from itertools import count

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models.crm import (
    LEAD_SOURCES,
    MAX_IMAGE_BYTES,
    MAX_POST_IMAGES,
    ConditionField,
    ConditionOp,
    CrmBranch,
    CrmCondition,
    CrmEvent,
    CrmInteractionLinked,
    CrmProfileLinked,
    CrmRecord,
    CrmRecordAdded,
    CrmRecordKind,
    CrmRule,
    CrmSettings,
    NewCrmRecord,
    PostDraft,
    SocialInteraction,
    lead_source,
    normalize_handle,
)
from deskcore.models.enums import Role
from deskcore.models.parties import Actor
from deskcore.models.social import SocialProfile
from deskcore.policies.keywords import KeywordMatcher, KeywordRule, normalize

__all__ = [
    "ActivityEntry",
    "CrmDecision",
    "CrmDecisionKind",
    "CrmMatcher",
    "PostProblem",
    "SocialList",
    "activity_history",
    "check_post",
    "compile_crm_matcher",
    "decide_crm_action",
    "search_profiles",
    "social_list",
    "update_crm_settings",
]


class CrmDecisionKind(enum.StrEnum):
    """What an interaction does in the CRM."""

    ADD_LEAD = "add_lead"
    """Add the person as a new lead (R2)."""
    ADD_CONTACT = "add_contact"
    """Add the person as a new contact (R2)."""
    LINK_EXISTING = "link_existing"
    """The person is a lead or contact already: link the interaction to that record (R4)."""
    NOTHING = "nothing"
    """Add and link nobody."""


@attrs.frozen(kw_only=True)
class CrmDecision:
    """What to do with one interaction, and why.

    Attributes:
        action: What to do.
        reason: A stable code: ``integration_disabled``, ``already_linked``, ``no_rule``
            (no enabled rule reacts to the interaction's trigger), ``no_branch`` (rules react,
            but no branch's conditions hold), ``branch_adds_nobody``, or ``branch_matched``.
        explanation: The decision in words, naming the rule, branch and conditions.
        rule_id: The rule that decided, if one did.
        branch: The branch that applied, counted from 1, if one did.
        record: The existing record (``link_existing``).
        draft: The record to create (``add_lead``, ``add_contact``): name, lead source (R3)
            and owner.
    """

    action: CrmDecisionKind
    reason: str
    explanation: str
    rule_id: str | None = None
    branch: int | None = None
    record: CrmRecord | None = None
    draft: NewCrmRecord | None = None

    @property
    def adds(self) -> bool:
        """True when a new record is to be created."""
        return self.draft is not None


class CrmMatcher:
    """The keywords of every text condition of a :class:`CrmSettings`, compiled once (W4).

    Build it with :func:`compile_crm_matcher` and reuse it for every interaction; it never
    changes what it matches after construction, so one matcher may serve many threads.
    """

    def __init__(self, settings: CrmSettings) -> None:
        if not isinstance(settings, CrmSettings):
            raise InvalidModelError(
                "CrmMatcher", "settings", f"expected CrmSettings, got {type(settings).__name__}"
            )
        self.settings = settings
        self._equal: CrmSettings | None = None
        self._ids: dict[CrmCondition, str] = {}
        self._handles: dict[CrmCondition, frozenset[str]] = {}
        rules: list[KeywordRule] = []
        for rule in settings.rules:
            for branch in rule.branches:
                for condition in branch.conditions:
                    if condition.field is ConditionField.TEXT and condition not in self._ids:
                        key = f"c{len(self._ids)}"
                        self._ids[condition] = key
                        rules.append(KeywordRule(id=key, keywords=condition.values))
                    elif condition.field is ConditionField.HANDLE:
                        self._handles[condition] = frozenset(
                            normalize_handle(value) for value in condition.values
                        )
        self._matcher = KeywordMatcher.compile(rules)

    def compiled_from(self, settings: CrmSettings) -> bool:
        """Whether the matcher was compiled from ``settings`` (or from settings equal to them).

        The last equal settings object is remembered, so a host that re-reads equal settings
        for every interaction pays the deep comparison once per object, not per call.
        """
        if settings is self.settings or settings is self._equal:
            return True
        if settings != self.settings:
            return False
        self._equal = settings  # one reference assignment: safe to race
        return True

    def matched(self, text: str) -> frozenset[str]:
        """The keys of the text conditions with a keyword in ``text``."""
        return self._matcher.matched_rule_ids(text)

    def key(self, condition: CrmCondition) -> str:
        """The key of one of the settings' text conditions."""
        return self._ids[condition]

    def handles(self, condition: CrmCondition) -> frozenset[str]:
        """The handles of one of the settings' handle conditions, normalised once."""
        return self._handles[condition]


def compile_crm_matcher(settings: CrmSettings) -> CrmMatcher:
    """Compile the keywords of ``settings``' text conditions once, for
    :func:`decide_crm_action` (keywords match as W1 and W2 say: after NFKC normalisation and
    case folding, whole words in spaced scripts, anywhere in Japanese)."""
    return CrmMatcher(settings)


def _actual(condition: CrmCondition, interaction: SocialInteraction) -> str | None:
    """The interaction's value of a condition on the network, trigger, brand, channel account
    or handle."""
    field = condition.field
    if field is ConditionField.NETWORK:
        return interaction.network
    if field is ConditionField.TRIGGER:
        return interaction.trigger.value
    if field is ConditionField.BRAND:
        return interaction.brand_id
    if field is ConditionField.CHANNEL_ACCOUNT:
        return interaction.channel_account
    return normalize_handle(interaction.profile.handle) or None


def _holds(
    condition: CrmCondition,
    interaction: SocialInteraction,
    matcher: CrmMatcher,
    matched: frozenset[str],
) -> bool:
    """Whether ``condition`` holds for ``interaction``."""
    field = condition.field
    if field is ConditionField.TEXT:
        return (matcher.key(condition) in matched) == (condition.op is ConditionOp.CONTAINS_ANY)
    if field is ConditionField.FOLLOWER_COUNT:
        followers = interaction.follower_count
        assert isinstance(condition.value, int)
        if followers is None:
            return False
        if condition.op is ConditionOp.AT_LEAST:
            return followers >= condition.value
        return followers <= condition.value
    actual = _actual(condition, interaction)
    values = matcher.handles(condition) if field is ConditionField.HANDLE else condition.values
    return (actual is not None and actual in values) == (condition.op is ConditionOp.IN)


def _seen(
    condition: CrmCondition,
    interaction: SocialInteraction,
    matcher: CrmMatcher,
    matched: frozenset[str],
) -> str:
    """What ``condition`` was compared with, in words, for an explanation."""
    field = condition.field
    if field is ConditionField.TEXT:
        found = matcher.key(condition) in matched
        return "a keyword is in the text" if found else "no keyword is in the text"
    if field is ConditionField.FOLLOWER_COUNT:
        followers = interaction.follower_count
        return "the follower count is unknown" if followers is None else f"{followers} followers"
    actual = _actual(condition, interaction)
    if field is ConditionField.HANDLE:
        return f"handle {actual!r}"
    return f"{field.value} {actual!r}"


def _first_failure(
    branch: CrmBranch,
    interaction: SocialInteraction,
    matcher: CrmMatcher,
    matched: frozenset[str],
) -> CrmCondition | None:
    """``None`` when every condition of ``branch`` holds; else the first one that does not."""
    for condition in branch.conditions:
        if not _holds(condition, interaction, matcher, matched):
            return condition
    return None


def _branch_label(rule: CrmRule, number: int, branch: CrmBranch) -> str:
    named = f" ({branch.name})" if branch.name else ""
    return f"rule {rule.id}, branch {number}{named}"


def _who(interaction: SocialInteraction) -> str:
    profile = interaction.profile
    handle = f" ({profile.handle})" if profile.handle and profile.handle != profile.name else ""
    return (
        f"{profile.name}{handle} on {interaction.network}: {interaction.trigger.value} "
        f"{interaction.reference.native_id}"
    )


def decide_crm_action(
    interaction: SocialInteraction,
    settings: CrmSettings,
    *,
    linked: CrmRecord | None,
    matcher: CrmMatcher | None = None,
) -> CrmDecision:
    """Decide what ``interaction`` does in the CRM (R1-R4).

    In order:

    1. The integration is off: nothing (``integration_disabled``).
    2. The person's profile is linked to a lead or contact already (``linked``): link the
       interaction to it, adding nobody (R4, ``already_linked``). The rules are not asked.
    3. The rules that are enabled and react to the interaction's network and trigger are
       tried in order; within a rule, the first branch whose conditions all hold applies
       (R2). Its action adds the person as a lead or a contact with the lead source set to
       the network's name (R3) and the owner its owner rule picks (``branch_matched``), or
       adds nobody (``branch_adds_nobody``).
    4. No rule reacts (``no_rule``), or no branch holds (``no_branch``): nothing.

    Args:
        interaction: The interaction.
        settings: The CRM settings.
        linked: The record the interaction's profile is linked to, as the CRM reports it
            (:meth:`~deskcore.ports.CrmConnector.find_by_social_profile`); ``None`` if none.
        matcher: :func:`compile_crm_matcher` of ``settings``; compiled here when omitted
            (slower: compile once and reuse it).
    """
    _require(interaction, SocialInteraction, "interaction")
    _require(settings, CrmSettings, "settings")
    if linked is not None and not isinstance(linked, CrmRecord):
        raise InvalidModelError(
            "decide_crm_action", "linked", f"expected CrmRecord, got {type(linked).__name__}"
        )
    if matcher is None:
        matcher = compile_crm_matcher(settings)
    elif not isinstance(matcher, CrmMatcher):
        raise InvalidModelError(
            "decide_crm_action",
            "matcher",
            f"expected CrmMatcher (compile_crm_matcher), got {type(matcher).__name__}",
        )
    elif not matcher.compiled_from(settings):
        raise InvalidModelError(
            "decide_crm_action", "matcher", "the matcher was compiled from other settings"
        )
    who = _who(interaction)
    if not settings.enabled:
        return CrmDecision(
            action=CrmDecisionKind.NOTHING,
            reason="integration_disabled",
            explanation=f"{who}: the CRM integration is off",
        )
    if linked is not None:
        return CrmDecision(
            action=CrmDecisionKind.LINK_EXISTING,
            reason="already_linked",
            explanation=(
                f"{who}: already the {linked.kind.value} {linked.id} ({linked.name}); "
                "linked the interaction to it, added nobody (R4)"
            ),
            record=linked,
        )
    watching = [rule for rule in settings.rules if rule.watches(interaction)]
    if not watching:
        return CrmDecision(
            action=CrmDecisionKind.NOTHING,
            reason="no_rule",
            explanation=f"{who}: no enabled rule reacts to {interaction.trigger.value} on "
            f"{interaction.network}",
        )
    matched = matcher.matched(interaction.text) if interaction.text else frozenset()
    failures: list[tuple[CrmRule, int, CrmBranch, CrmCondition]] = []
    for rule in watching:
        for number, branch in enumerate(rule.branches, start=1):
            failure = _first_failure(branch, interaction, matcher, matched)
            if failure is not None:
                failures.append((rule, number, branch, failure))
                continue
            label = _branch_label(rule, number, branch)
            return _apply(interaction, rule, number, branch, f"{who}: {label} applies")
    shown = "; ".join(
        f"{_branch_label(rule, number, branch)}: {condition.describe()} does not hold "
        f"({_seen(condition, interaction, matcher, matched)})"
        for rule, number, branch, condition in failures[:3]
    ) + (f"; and {len(failures) - 3} more" if len(failures) > 3 else "")
    return CrmDecision(
        action=CrmDecisionKind.NOTHING,
        reason="no_branch",
        explanation=f"{who}: no branch holds: {shown}",
    )


def _apply(
    interaction: SocialInteraction, rule: CrmRule, number: int, branch: CrmBranch, said: str
) -> CrmDecision:
    action = branch.action
    if action.add_as is None or action.owner is None:
        return CrmDecision(
            action=CrmDecisionKind.NOTHING,
            reason="branch_adds_nobody",
            explanation=f"{said}: it adds nobody",
            rule_id=rule.id,
            branch=number,
        )
    source = lead_source(interaction.network)
    owner = action.owner.owner_for(interaction.profile)
    draft = NewCrmRecord(
        kind=action.add_as,
        profile=interaction.profile,
        name=interaction.profile.name,
        lead_source=source,
        owner_id=owner,
    )
    kind = (
        CrmDecisionKind.ADD_LEAD
        if action.add_as is CrmRecordKind.LEAD
        else CrmDecisionKind.ADD_CONTACT
    )
    return CrmDecision(
        action=kind,
        reason="branch_matched",
        explanation=(
            f"{said}: added as a {action.add_as.value}, lead source {source} (R3), owner {owner}"
        ),
        rule_id=rule.id,
        branch=number,
        draft=draft,
    )


def _require(value: object, kind: type, name: str, function: str = "decide_crm_action") -> None:
    if not isinstance(value, kind):
        raise InvalidModelError(
            function, name, f"expected {kind.__name__}, got {type(value).__name__}"
        )


def update_crm_settings(current: CrmSettings, new: CrmSettings, *, actor: Actor) -> CrmSettings:
    """Replace ``current`` with ``new`` (turning the integration on or off, changing the
    automation rules), if ``actor`` is a social admin (R9).

    Raises:
        PermissionDeniedError: The actor lacks the ``social_admin`` role; names it.
    """
    if not isinstance(actor, Actor):
        raise InvalidModelError(
            "update_crm_settings", "actor", f"expected Actor, got {type(actor).__name__}"
        )
    actor.require_role(Role.SOCIAL_ADMIN, "change the CRM integration and its automation rules")
    for name, value in (("current", current), ("new", new)):
        if not isinstance(value, CrmSettings):
            raise InvalidModelError(
                "update_crm_settings", name, f"expected CrmSettings, got {type(value).__name__}"
            )
    return new


# -- the social list of a record (R5) -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SocialList:
    """A lead's or contact's social list (R5): its public conversations and its private
    messages, each newest first.

    Attributes:
        conversations: Public interactions: mentions, replies, retweets, posts, comments,
            likes.
        messages: Private messages.
    """

    conversations: tuple[SocialInteraction, ...] = ()
    messages: tuple[SocialInteraction, ...] = ()


def _require_iterable(value: object, function: str, name: str, what: str) -> None:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidModelError(function, name, f"expected {what}, got {type(value).__name__}")


def social_list(
    interactions: Iterable[SocialInteraction],
    *,
    network: str | None = None,
    brand_id: str | None = None,
) -> SocialList:
    """Split a record's linked interactions into conversations and messages, newest first,
    keeping those of ``network`` and ``brand_id`` when given (R5). An interaction given twice
    (by reference) shows once; ties in time keep the order given, latest given first.
    """
    _require_iterable(interactions, "social_list", "interactions", "interactions")
    for name, value in (("network", network), ("brand_id", brand_id)):
        if value is not None and not isinstance(value, str):
            raise InvalidModelError(
                "social_list", name, f"expected a string or None, got {type(value).__name__}"
            )
    seen: set[object] = set()
    public: list[tuple[int, SocialInteraction]] = []
    private: list[tuple[int, SocialInteraction]] = []
    for position, interaction in enumerate(interactions):
        if not isinstance(interaction, SocialInteraction):
            raise InvalidModelError(
                "social_list",
                "interactions",
                f"expected SocialInteraction, got {type(interaction).__name__}",
            )
        if interaction.reference in seen:
            continue
        seen.add(interaction.reference)
        if network is not None and interaction.network != network:
            continue
        if brand_id is not None and interaction.brand_id != brand_id:
            continue
        (private if interaction.is_private else public).append((position, interaction))

    def newest_first(entries: list[tuple[int, SocialInteraction]]) -> tuple[SocialInteraction, ...]:
        entries.sort(key=lambda entry: (entry[1].at, entry[0]), reverse=True)
        return tuple(interaction for _, interaction in entries)

    return SocialList(conversations=newest_first(public), messages=newest_first(private))


def search_profiles(
    profiles: Iterable[SocialProfile], query: str, *, limit: int = 20
) -> tuple[SocialProfile, ...]:
    """The profiles whose handle, display name or id contains ``query`` (after NFKC
    normalisation and case folding; a leading ``@`` is ignored), for linking one to a lead
    or contact by hand (R5).

    Best first: an exact handle or id, then a handle or name that starts with the query, then
    the rest; within each, by name. Each profile (network and id) once.

    Raises:
        InvalidModelError: ``query`` is blank, or ``limit`` is not from 1 to 1000.
    """
    wanted = normalize_handle(query) if isinstance(query, str) else ""
    if not wanted:
        raise InvalidModelError("search_profiles", "query", "give the words to search for")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidModelError("search_profiles", "limit", f"{limit!r}: use 1 to 1000")
    _require_iterable(profiles, "search_profiles", "profiles", "social profiles")
    ranked: dict[tuple[str, str], tuple[int, str, str, SocialProfile]] = {}
    for profile in profiles:
        if not isinstance(profile, SocialProfile):
            raise InvalidModelError(
                "search_profiles",
                "profiles",
                f"expected SocialProfile, got {type(profile).__name__}",
            )
        key = (profile.network, profile.id)
        if key in ranked:
            continue
        handle = normalize_handle(profile.handle)
        name = normalize(profile.display_name)
        ident = normalize(profile.id)
        if wanted in (handle, ident):
            rank = 0
        elif handle.startswith(wanted) or name.startswith(wanted):
            rank = 1
        elif wanted in handle or wanted in name or wanted in ident:
            rank = 2
        else:
            continue
        ranked[key] = (rank, normalize(profile.name), f"{profile.network}\x00{profile.id}", profile)
    best = heapq.nsmallest(limit, ranked.values(), key=lambda entry: entry[:3])
    return tuple(entry[3] for entry in best)


# -- activity history (R6) ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ActivityEntry:
    """One action a user took in the social tab (R6).

    Attributes:
        at: When.
        actor_id: Who.
        action: ``added_lead``, ``added_contact``, ``linked_profile`` or ``linked_interaction``.
        summary: The action in words.
        record_id: The lead or contact acted on.
    """

    at: datetime
    actor_id: str
    action: str
    summary: str
    record_id: str


def _entry(event: CrmEvent, actor: str) -> ActivityEntry:
    """The history entry of an event ``actor`` took."""
    if isinstance(event, CrmRecordAdded):
        return ActivityEntry(
            at=event.at,
            actor_id=actor,
            action=f"added_{event.kind.value}",
            summary=(
                f"added {event.profile.name} ({event.profile.network}) as the "
                f"{event.kind.value} {event.record_id}"
            ),
            record_id=event.record_id,
        )
    if isinstance(event, CrmProfileLinked):
        return ActivityEntry(
            at=event.at,
            actor_id=actor,
            action="linked_profile",
            summary=(f"linked {event.profile.name} ({event.profile.network}) to {event.record_id}"),
            record_id=event.record_id,
        )
    return ActivityEntry(
        at=event.at,
        actor_id=actor,
        action="linked_interaction",
        summary=f"linked the {event.trigger.value} {event.reference} to {event.record_id}",
        record_id=event.record_id,
    )


def activity_history(
    events: Iterable[object], actor_id: str, *, limit: int | None = None
) -> tuple[ActivityEntry, ...]:
    """The user's own actions in the social tab, newest first (R6), built from the CRM
    events the host stored (:data:`~deskcore.models.CrmEvent`).

    Only events whose ``actor_id`` is ``actor_id`` count: what automation rules did is no
    user's action, and other users' actions are theirs. Other kinds of event are passed
    over, so the host may hand in its whole event log. Events at the same instant keep
    the log's order, the later one first.

    Args:
        events: The stored events, in the order they happened.
        actor_id: The user.
        limit: At most this many entries (the most recent); all when ``None``.
    """
    if not isinstance(actor_id, str) or not actor_id.strip():
        raise InvalidModelError("activity_history", "actor_id", f"{actor_id!r}: give a user id")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidModelError("activity_history", "limit", f"{limit!r}: use 1 or more, or None")
    _require_iterable(events, "activity_history", "events", "events")
    order = count()
    entries: list[tuple[datetime, int, ActivityEntry]] = []
    for event in events:
        if not isinstance(event, CrmRecordAdded | CrmProfileLinked | CrmInteractionLinked):
            continue
        if event.actor_id != actor_id:
            continue
        entries.append((event.at, next(order), _entry(event, actor_id)))
    entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
    chosen = entries if limit is None else entries[:limit]
    return tuple(entry for _, _, entry in chosen)


# -- posts (R7) -----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PostProblem:
    """Why a post cannot be published as it is (R7).

    Attributes:
        code: ``too_many_images``, ``image_too_large`` or ``empty_post``.
        message: The problem in words.
    """

    code: str
    message: str


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_post(draft: PostDraft) -> tuple[PostProblem, ...]:
    """The problems that keep ``draft`` from being published (R7); empty when it may be.

    A post carries at most one image, of at most 5 MB on Twitter and 25 MB on Facebook
    (:data:`~deskcore.models.MAX_IMAGE_BYTES`), and has a text or an image.
    """
    if not isinstance(draft, PostDraft):
        raise InvalidModelError(
            "check_post", "draft", f"expected PostDraft, got {type(draft).__name__}"
        )
    problems: list[PostProblem] = []
    if not draft.text.strip() and not draft.images:
        problems.append(PostProblem(code="empty_post", message="the post has no text and no image"))
    if len(draft.images) > MAX_POST_IMAGES:
        problems.append(
            PostProblem(
                code="too_many_images",
                message=f"a post carries at most one image; this one has {len(draft.images)}",
            )
        )
    limit = MAX_IMAGE_BYTES[draft.network]
    network = LEAD_SOURCES[draft.network]
    for image in draft.images:
        if image.size_bytes > limit:
            problems.append(
                PostProblem(
                    code="image_too_large",
                    message=(
                        f"{image.name} is {_megabytes(image.size_bytes)} ({image.size_bytes} "
                        f"bytes); {network} takes images up to {_megabytes(limit)}"
                    ),
                )
            )
    return tuple(problems)
