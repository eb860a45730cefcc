"""The CRM section of ``deskcore demo`` (R1-R9).

Plays ``data/sample_crm.json`` after the service-level section, on the demo's clock, through
a :class:`deskcore.CrmAutomation` over the reference :class:`deskcore.adapters.InMemoryCrm`
(the CRM is the host's own system, not the desk's SQLite file). The file holds the CRM
settings document (parsed at the edge by :func:`deskcore.wire.parse_crm_settings`), the
actors, the social profiles, and the interactions; its ``steps`` hold one or more of:

- ``settings``: the named actor puts the settings in force (R9): refused unless a social
  admin.
- ``interaction`` (and ``then``): the CRM automation handles an interaction (R1-R4).
- ``add``: a user adds a profile's person as a lead or contact by hand (R3, R6).
- ``link``: a user searches the profiles and links the first hit on a network to the record
  of another profile by hand (R5, R6).
- ``social_list``: a profile's record's conversations and messages (R5); ``leads``: the
  records whose lead source is a network (R3).
- ``history``: a user's activity history (R6).
- ``posts``: post drafts checked (R7); ``columns``: monitoring columns checked (R8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

from deskcore import (
    Actor,
    CrmAutomation,
    CrmEvent,
    CrmOutcome,
    CrmSettings,
    DeskcoreError,
    ExternalReference,
    MonitoringColumn,
    PostDraft,
    PostImage,
    SocialInteraction,
    SocialProfile,
    activity_history,
    check_post,
    search_profiles,
)
from deskcore.adapters import InMemoryCrm
from deskcore.cli.demo import Label, _say, _Scene, _short
from deskcore.service import Desk
from deskcore.testing.fakes import FixedClock
from deskcore.wire import parse_crm_settings

__all__ = ["_CrmScene"]


class _CrmScene(_Scene):
    def __init__(
        self, out: TextIO, desk: Desk, clock: FixedClock, data: Mapping[str, Any], label: Label
    ) -> None:
        super().__init__(out, desk, clock, data, label)
        self.crm = InMemoryCrm()
        self.automation = CrmAutomation(crm=self.crm, settings=CrmSettings(), clock=clock)
        self.profiles = {key: SocialProfile(**spec) for key, spec in data["profiles"].items()}
        self.events: list[CrmEvent] = []

    def _step(self, entry: Mapping[str, Any]) -> None:
        if "settings" in entry:
            self._settings(self._actor(entry["settings"]))
        for key in ("interaction", "then"):
            if key in entry:
                self._interaction(entry[key])
        if "add" in entry:
            self._add(entry["add"])
        if "link" in entry:
            self._link(entry["link"])
        if "social_list" in entry:
            self._social_list(self.profiles[entry["social_list"]])
        if entry.get("leads"):
            self._leads()
        if "history" in entry:
            self._history(entry["history"])
        for post in entry.get("posts", ()):
            self._post(post)
        for column in entry.get("columns", ()):
            self._column(column)

    def _actor(self, actor_id: str) -> Actor:
        return Actor(id=actor_id, **self.data["actors"][actor_id])

    def _keep(self, outcome: CrmOutcome) -> None:
        self.events.extend(outcome.events)
        for event in outcome.events:
            print(f"    event {event.name} {event.record_id}", file=self.out)

    def _settings(self, actor: Actor) -> None:
        settings = parse_crm_settings(self.data["settings"]).to_settings()
        try:
            self.automation.update_settings(settings, actor=actor)
        except DeskcoreError as error:
            print(f"    ! refused (R9): [{error.code}] {error.message}", file=self.out)
            return
        print(f"    → the CRM integration is on; {actor.name} set these rules:", file=self.out)
        for rule in settings.rules:
            triggers = ", ".join(sorted(t.value for t in rule.triggers))
            print(f"    rule {rule.id} on {rule.network} ({triggers}):", file=self.out)
            for number, branch in enumerate(rule.branches, start=1):
                conditions = " and ".join(c.describe() for c in branch.conditions) or "always"
                _say(
                    self.out,
                    f"{number}. {branch.name}: if {conditions}, {branch.action.describe()}",
                    indent="      ",
                    hang="   ",
                )

    def _interaction(self, key: str) -> None:
        spec = self.data["interactions"][key]
        interaction = SocialInteraction(
            reference=ExternalReference(**spec["reference"]),
            trigger=spec["trigger"],
            profile=self.profiles[spec["profile"]],
            text=spec.get("text", ""),
            at=self.clock.now(),
            follower_count=spec.get("followers"),
            brand_id=spec.get("brand"),
        )
        said = f": “{_short(interaction.text)}”" if interaction.text else ""
        print(
            f"    {interaction.network} {interaction.trigger.value} by "
            f"{interaction.profile.name}{said}",
            file=self.out,
        )
        outcome = self.automation.handle_interaction(interaction)
        decision = outcome.decision
        print(f"    → {decision.action.value.upper()} ({decision.reason})", file=self.out)
        _say(self.out, f"why: {decision.explanation}", indent="      ")
        if not outcome.events and outcome.record is not None:
            print("    nothing new: the interaction is linked already", file=self.out)
        self._keep(outcome)

    def _add(self, spec: Mapping[str, Any]) -> None:
        actor = self._actor(spec["actor"])
        outcome = self.automation.add_by_hand(
            self.profiles[spec["profile"]], spec["kind"], actor=actor
        )
        _say(self.out, f"→ {outcome.decision.explanation}")
        self._keep(outcome)

    def _link(self, spec: Mapping[str, Any]) -> None:
        actor = self._actor(spec["actor"])
        found = search_profiles(self.profiles.values(), spec["query"])
        print(
            f"    search “{spec['query']}”: "
            + ", ".join(f"{p.name} ({p.network} {p.handle or p.id})" for p in found),
            file=self.out,
        )
        profile = next(p for p in found if p.network == spec["network"])
        record = self.crm.find_by_social_profile(self.profiles[spec["to"]])
        assert record is not None
        outcome = self.automation.link_profile_by_hand(record.id, profile, actor=actor)
        _say(self.out, f"→ {outcome.decision.explanation}")
        self._keep(outcome)

    def _social_list(self, profile: SocialProfile) -> None:
        record = self.crm.find_by_social_profile(profile)
        assert record is not None
        print(
            f"    {record.kind.value} {record.id} {record.name}, lead source "
            f"{record.lead_source}, owner {record.owner_id}",
            file=self.out,
        )
        listing = self.automation.social_list(record.id, network=profile.network)
        for title, items in (
            ("conversations", listing.conversations),
            ("messages", listing.messages),
        ):
            print(f"    {title} on {profile.network}, newest first:", file=self.out)
            for item in items:
                said = f" “{_short(item.text, 40)}”" if item.text else ""
                print(f"      {item.at:%H:%M} {item.trigger.value}{said}", file=self.out)

    def _leads(self) -> None:
        for source in ("Twitter", "Facebook"):
            records = [r for r in self.crm.records() if r.lead_source == source]
            shown = ", ".join(f"{r.kind.value} {r.name} ({r.owner_id})" for r in records)
            print(f"    lead source {source}: {shown or 'none'}", file=self.out)

    def _history(self, actor_id: str) -> None:
        for entry in activity_history(self.events, actor_id):
            _say(self.out, f"{entry.at:%H:%M} {entry.summary}", indent="      ")

    def _post(self, spec: Mapping[str, Any]) -> None:
        draft = PostDraft(
            network=spec["network"],
            text=spec["text"],
            images=[PostImage(name=name, size_bytes=size) for name, size in spec["images"]],
        )
        problems = check_post(draft)
        images = ", ".join(f"{i.name} {i.size_bytes:,} bytes" for i in draft.images)
        verdict = "; ".join(p.message for p in problems) or "ready to publish"
        _say(self.out, f"{draft.network} post with {images}: {verdict} (R7)", hang="  ")

    def _column(self, spec: Mapping[str, Any]) -> None:
        try:
            column = MonitoringColumn(**spec)
        except DeskcoreError as error:
            _say(self.out, f"! refused: {error.message}", hang="  ")
            return
        query = f" “{column.query}”" if column.query else ""
        print(
            f"    → column {column.id}: {column.network} {column.kind.value}{query}", file=self.out
        )
