"""CRM social automation (R1-R4): deciding what an interaction does, and doing it.

SPEC.md section 14 states no CRM target; the bounds below are this suite's design goals
(``goal (not in spec)``). Figures, all from one run:

- ``crm.decide``: :func:`decide_crm_action` with a matcher compiled once
  (:func:`compile_crm_matcher`, W4), in items a second, over a deterministic stream of
  20,000 interactions by 2,000 distinct profiles (half on Twitter, half on Facebook): every
  trigger of both networks (mentions, replies, retweets and messages; posts, comments, likes
  and messages), English and Japanese texts of 140 to 280 characters (none for likes and
  retweets), follower counts from a handful to hundreds of thousands and unknown (``None``)
  for about a fifth of the profiles, three brands and interactions of no known brand. A few
  people write often, most rarely. Every decision is taken from scratch (``linked=None``), so
  each one goes through the rules. The settings are what a busy social team configures: 10
  rules (two disabled) of 5 branches each, with conditions on the handle (100 staff, bot and
  competitor accounts, written as admins type them), follower count, trigger, brand and text
  (two keyword conditions a rule, 50 keywords each: 1,000 keywords in all, 820 distinct). The
  baseline is the same decisions with the matcher compiled on every call (``matcher=None``),
  what a host that never keeps the matcher does; it runs on the first interactions only (the
  note says how many). Before timing, the benchmark checks that both give equal decisions.
  Goal: at least 20x the baseline. The ratio is about the cost of compiling the settings'
  keywords (a few milliseconds for 1,000) over the cost of one decision, so it falls as a
  decision grows dearer. Measured when the benchmark was written: about 27x (a decision
  about 125 us, one compilation about 3-5 ms), of which some 40% of a decision is spent
  normalising the handle list of the handle conditions anew on every evaluation and some 15%
  on explanations of branches that did not hold; 20x leaves room for the machine's noise
  and flags a decision that grows by a third or more. The note also gives the rate when the
  settings passed are equal to the matcher's but not the same object (settings reloaded
  for each interaction while the matcher is kept), which compares the two in full each call.
- ``crm.automation``: :meth:`CrmAutomation.handle_interaction` end to end over a fresh
  :class:`InMemoryCrm` (find the profile's record, decide, create the lead or contact or link
  the interaction to the record found), with :class:`FixedClock`. Baseline: ``crm.decide`` on
  the same stream, so the ratio shows what the connector round trips and the events cost
  (a person added once is then found, which skips the rules). Goal: at least 1.0x. In this
  stream most interactions of the first pass come from people added earlier in it (the note
  counts them), whose decision skips the rules, so handling the stream should cost less than
  deciding every interaction from scratch; below 1x, the connector round trips and events
  cost more than the rules they save.
- ``crm.replay``: the same stream handled a second time by the same automation (a feed
  redelivered: every record and link of the first pass already there), against the first
  pass. It adds nobody; it links only the interactions that came before their person was
  added (the note counts them; the benchmark checks that a third pass changes nothing).
  Goal: at least 1.0x: a replay should cost no more than the first pass.

The rounds (3 in a full run) take turns between the figures, and each figure is the best
round. The notes give the mix of decisions, the compile time and throughput by CPU time.

Run ``python benchmarks/bench_crm.py --profile`` to profile ``decide_crm_action`` (compiled
matcher) over the stream with :mod:`cProfile`; ``--profile-automation`` profiles the first
pass of ``handle_interaction``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from _harness import Result, Sample, Target, Timing, timed
from bench_keywords import build_keywords, build_posts
from deskcore import (
    CRM_TRIGGERS,
    CrmAction,
    CrmAutomation,
    CrmBranch,
    CrmCondition,
    CrmRule,
    CrmSettings,
    CrmTrigger,
    ExternalReference,
    OwnerRule,
    SocialInteraction,
    SocialProfile,
    compile_crm_matcher,
    decide_crm_action,
)
from deskcore.adapters.crm_memory import InMemoryCrm
from deskcore.policies.crm import CrmDecision, CrmMatcher
from deskcore.testing import FixedClock

__all__ = ["Sizes", "build_settings", "build_stream", "run"]

COMPILED_GOAL = 20.0
"""Goal: decisions with a matcher compiled once at least 20x those compiling on every call."""
AUTOMATION_GOAL = 1.0
"""Goal: handle_interaction over the in-memory CRM at least as fast as decide alone."""
REPLAY_GOAL = 1.0
"""Goal: handling the stream again costs no more than the first pass."""
RULES = 10
BRANCHES = 5
KEYWORDS_PER_CONDITION = 50
HANDLES = 100
START = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Sizes:
    """How much work one run does."""

    interactions: int
    profiles: int
    baseline: int
    """Interactions the compile-every-call baseline decides (the stream's first ones)."""
    repeats: int


FULL = Sizes(interactions=20_000, profiles=2_000, baseline=200, repeats=3)
QUICK = Sizes(interactions=300, profiles=60, baseline=5, repeats=1)

# -- the settings --------------------------------------------------------------------------------

_BRANDS = ("acme", "kumo", "hikari")
_BUYING = ("price", "料金", "sale", "セール", "discount", "在庫", "order", "注文", "buy", "購入")
"""Words of a buying signal; common in the posts, so these branches fire."""


def _handles() -> tuple[str, ...]:
    """Staff, bot and competitor accounts as admins type them: with and without ``@``, in
    any case, sometimes with stray spaces (conditions compare them normalised)."""
    handles: list[str] = []
    for n in range(HANDLES):
        kind = ("staff", "bot", "rival")[n % 3]
        raw = f"{kind}_{n:03d}"
        form = n % 4
        handles.append(
            raw
            if form == 0
            else f"@{raw}"
            if form == 1
            else raw.upper()
            if form == 2
            else f" @{raw} "
        )
    return tuple(handles)


def _owners(rule: int, count: int, team: str) -> OwnerRule:
    return OwnerRule(spread_among=tuple(f"{team}-{rule}-{k}" for k in range(count)))


def _rule(
    index: int,
    network: str,
    triggers: Sequence[CrmTrigger],
    complaints: Sequence[str],
    buying: Sequence[str],
    handles: Sequence[str],
) -> CrmRule:
    """One rule of 5 branches: keep staff and bots out, big accounts as contacts, complaints
    and buying signals as leads, then the rest of the rule's first trigger (messages: every
    sender a lead; otherwise only people with some following)."""
    brand = _BRANDS[index % len(_BRANDS)]
    first = triggers[0]
    last_condition = (
        CrmCondition(field="follower_count", op="at_most", value=1_000_000)
        if first is CrmTrigger.MESSAGE
        else CrmCondition(field="follower_count", op="at_least", value=1_000)
    )
    branches = (
        CrmBranch(
            name="staff, bots and competitors",
            conditions=(CrmCondition(field="handle", op="in", value=tuple(handles)),),
            action=CrmAction(),
        ),
        CrmBranch(
            name="big accounts",
            conditions=(
                CrmCondition(field="follower_count", op="at_least", value=10_000),
                CrmCondition(field="brand", op="in", value=(brand,)),
            ),
            action=CrmAction(add_as="contact", owner=_owners(index, 3, "am")),
        ),
        CrmBranch(
            name="complaints",
            conditions=(
                CrmCondition(field="brand", op="in", value=(brand,)),
                CrmCondition(field="text", op="contains_any", value=tuple(complaints)),
            ),
            action=CrmAction(add_as="lead", owner=OwnerRule(user_id=f"care-{index}")),
        ),
        CrmBranch(
            name="buying signals",
            conditions=(
                CrmCondition(field="follower_count", op="at_least", value=100),
                CrmCondition(field="trigger", op="in", value=tuple(t.value for t in triggers)),
                CrmCondition(field="text", op="contains_any", value=tuple(buying)),
            ),
            action=CrmAction(add_as="lead", owner=_owners(index, 5, "sales")),
        ),
        CrmBranch(
            name="the rest",
            conditions=(
                CrmCondition(field="trigger", op="in", value=(first.value,)),
                last_condition,
            ),
            action=CrmAction(add_as="lead", owner=OwnerRule(user_id=f"inbox-{index}")),
        ),
    )
    return CrmRule(
        id=f"{network[:2]}-{index}",
        network=network,
        triggers=frozenset(triggers),
        branches=branches,
        enabled=index not in (4, 9),
        name=f"{network} {brand} {'/'.join(t.value for t in triggers)}",
    )


_RULE_TRIGGERS: tuple[tuple[str, tuple[CrmTrigger, ...]], ...] = (
    ("twitter", (CrmTrigger.MENTION, CrmTrigger.REPLY)),
    ("twitter", (CrmTrigger.MESSAGE,)),
    ("twitter", (CrmTrigger.REPLY, CrmTrigger.MENTION, CrmTrigger.MESSAGE)),
    ("twitter", (CrmTrigger.RETWEET, CrmTrigger.MENTION)),
    ("twitter", (CrmTrigger.MENTION, CrmTrigger.REPLY, CrmTrigger.RETWEET, CrmTrigger.MESSAGE)),
    ("facebook", (CrmTrigger.COMMENT, CrmTrigger.POST)),
    ("facebook", (CrmTrigger.MESSAGE,)),
    ("facebook", (CrmTrigger.POST, CrmTrigger.COMMENT, CrmTrigger.MESSAGE)),
    ("facebook", (CrmTrigger.LIKE, CrmTrigger.COMMENT)),
    ("facebook", (CrmTrigger.COMMENT, CrmTrigger.LIKE, CrmTrigger.POST, CrmTrigger.MESSAGE)),
)


def build_settings() -> CrmSettings:
    """The integration on, with :data:`RULES` rules of :data:`BRANCHES` branches; two keyword
    conditions a rule of :data:`KEYWORDS_PER_CONDITION` keywords (1,000 in all)."""
    real = build_keywords(10)
    extra = KEYWORDS_PER_CONDITION - len(real)
    made_up = build_keywords(10 + 2 * RULES * extra)[10:]
    handles = _handles()
    rules = []
    for index, (network, triggers) in enumerate(_RULE_TRIGGERS[:RULES]):
        complaints = (*real, *made_up[index * extra : (index + 1) * extra])
        offset = (RULES + index) * extra
        buying = (*_BUYING, *made_up[offset : offset + extra])
        rules.append(_rule(index, network, triggers, complaints, buying, handles))
    return CrmSettings(enabled=True, rules=tuple(rules))


def _keyword_counts(settings: CrmSettings) -> tuple[int, int]:
    keywords = [
        value
        for rule in settings.rules
        for branch in rule.branches
        for condition in branch.conditions
        if condition.field == "text"
        for value in condition.values
    ]
    return len(keywords), len(set(keywords))


# -- the stream ----------------------------------------------------------------------------------

_TRIGGER_WEIGHTS: dict[str, tuple[tuple[CrmTrigger, ...], tuple[float, ...]]] = {
    "twitter": (
        (CrmTrigger.MENTION, CrmTrigger.REPLY, CrmTrigger.RETWEET, CrmTrigger.MESSAGE),
        (0.45, 0.25, 0.2, 0.1),
    ),
    "facebook": (
        (CrmTrigger.COMMENT, CrmTrigger.LIKE, CrmTrigger.POST, CrmTrigger.MESSAGE),
        (0.45, 0.3, 0.1, 0.15),
    ),
}
_NO_TEXT = frozenset({CrmTrigger.LIKE, CrmTrigger.RETWEET})
_KIND = {
    CrmTrigger.MENTION: "tweet",
    CrmTrigger.REPLY: "tweet",
    CrmTrigger.RETWEET: "retweet",
    CrmTrigger.MESSAGE: "dm",
    CrmTrigger.POST: "post",
    CrmTrigger.COMMENT: "comment",
    CrmTrigger.LIKE: "like",
}
_GIVEN = ("Yui", "Haruto", "Alex", "Sam", "美咲", "陽翔", "Maria", "健太", "Chris", "さくら")
_FAMILY = ("Tanaka", "Smith", "佐藤", "Suzuki", "Garcia", "高橋", "Lee", "伊藤", "Brown", "山本")


@dataclass(frozen=True)
class _Person:
    profile: SocialProfile
    followers: int | None


def _people(count: int, rng: random.Random) -> list[_Person]:
    """``count`` profiles, alternating Twitter and Facebook; about 3% are on the staff, bot
    and competitor list (in another spelling than the list's)."""
    people = []
    for n in range(count):
        network = "twitter" if n % 2 == 0 else "facebook"
        name = f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}"
        if rng.random() < 0.03:
            k = rng.randrange(HANDLES)
            handle = f"@{('staff', 'bot', 'rival')[k % 3].upper()}_{k:03d}"
        elif network == "twitter" or rng.random() < 0.3:
            handle = f"@user{n:05d}"
        else:
            handle = ""
        unknown = rng.random() < (0.1 if network == "twitter" else 0.3)
        followers = None if unknown else int(rng.lognormvariate(5.0, 2.2))
        profile = SocialProfile(
            network=network, id=f"{network[:2]}{100_000 + n}", handle=handle, display_name=name
        )
        people.append(_Person(profile, followers))
    return people


def build_stream(count: int, profiles: int, *, seed: int = 2026) -> list[SocialInteraction]:
    """``count`` interactions by ``profiles`` people (a few write often, most rarely)."""
    rng = random.Random(seed)
    people = _people(profiles, rng)
    texts = build_posts(min(count, 5_000), seed=seed)
    stream = []
    for n in range(count):
        # Everybody at least once, then skewed towards the first people.
        person = people[n] if n < len(people) else people[int(len(people) * rng.random() ** 2)]
        network = person.profile.network
        choices, weights = _TRIGGER_WEIGHTS[network]
        trigger = rng.choices(choices, weights)[0]
        assert trigger in CRM_TRIGGERS[network]
        roll = rng.random()
        brand = None if roll < 0.1 else _BRANDS[int(roll * 10) % len(_BRANDS)]
        account = f"{brand or 'misc'}_{'jp' if roll < 0.6 else 'en'}"
        stream.append(
            SocialInteraction(
                reference=ExternalReference(
                    network=network, account=account, kind=_KIND[trigger], native_id=f"n{n}"
                ),
                trigger=trigger,
                profile=person.profile,
                text="" if trigger in _NO_TEXT else texts[n % len(texts)],
                at=START + timedelta(seconds=7 * n),
                follower_count=person.followers,
                brand_id=brand,
            )
        )
    return stream


# -- the bodies ----------------------------------------------------------------------------------


def _decide_all(
    stream: Sequence[SocialInteraction], settings: CrmSettings, matcher: CrmMatcher | None
) -> list[CrmDecision]:
    return [decide_crm_action(i, settings, linked=None, matcher=matcher) for i in stream]


def _automation(settings: CrmSettings) -> tuple[InMemoryCrm, CrmAutomation]:
    crm = InMemoryCrm()
    return crm, CrmAutomation(crm=crm, settings=settings, clock=FixedClock(START))


def _handle_all(automation: CrmAutomation, stream: Sequence[SocialInteraction]) -> None:
    for interaction in stream:
        automation.handle_interaction(interaction)


def _check(
    stream: Sequence[SocialInteraction], settings: CrmSettings, matcher: CrmMatcher, baseline: int
) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Untimed: compiled and compile-every-call decisions agree; the automation and its
    replay do what they should. Returns the mixes of decisions, first pass and replay."""
    few = stream[:baseline]
    assert _decide_all(few, settings, matcher) == _decide_all(few, settings, None)
    decisions = Counter(d.reason for d in _decide_all(stream, settings, matcher))
    crm, automation = _automation(settings)
    first: Counter[str] = Counter()
    for interaction in stream:
        outcome = automation.handle_interaction(interaction)
        first["created" if outcome.created else "linked" if outcome.linked else "nothing"] += 1
    again: Counter[str] = Counter()
    for interaction in stream:
        outcome = automation.handle_interaction(interaction)
        assert not outcome.created, interaction.reference
        # Only what came before its person was added is linked now (R4).
        again["linked late" if outcome.linked else outcome.decision.reason] += 1
    assert len(crm.records()) == first["created"]
    for interaction in stream:
        outcome = automation.handle_interaction(interaction)
        assert not outcome.created, interaction.reference
        assert not outcome.linked, interaction.reference
    return decisions, first, again


@dataclass(frozen=True)
class _Measured:
    decide: Timing
    copy: Timing
    baseline: Timing
    automation: Timing
    replay: Timing
    compile_seconds: float
    decisions: Counter[str]
    first: Counter[str]
    again: Counter[str]


def _measure(stream: list[SocialInteraction], settings: CrmSettings, sizes: Sizes) -> _Measured:
    matcher = compile_crm_matcher(settings)
    decisions, first, again = _check(stream, settings, matcher, sizes.baseline)
    compile_seconds = min(timed(lambda: compile_crm_matcher(settings)).wall for _ in range(5))
    copy = build_settings()  # equal to ``settings``, not the same object
    assert copy == settings
    assert copy is not settings
    few = stream[: sizes.baseline]
    samples: dict[str, list[Sample]] = {}

    def add(name: str, sample: Sample) -> None:
        samples.setdefault(name, []).append(sample)

    for _ in range(sizes.repeats):
        add("decide", timed(lambda: _decide_all(stream, settings, matcher)))
        add("copy", timed(lambda: _decide_all(stream, copy, matcher)))
        add("baseline", timed(lambda: _decide_all(few, settings, None)))
        _crm, automation = _automation(settings)
        add("automation", timed(lambda: _handle_all(automation, stream)))  # noqa: B023
        add("replay", timed(lambda: _handle_all(automation, stream)))  # noqa: B023

    def timing(name: str) -> Timing:
        return Timing(tuple(samples[name]))

    return _Measured(
        decide=timing("decide"),
        copy=timing("copy"),
        baseline=timing("baseline"),
        automation=timing("automation"),
        replay=timing("replay"),
        compile_seconds=compile_seconds,
        decisions=decisions,
        first=first,
        again=again,
    )


# -- entry points --------------------------------------------------------------------------------


def _rate(seconds: float, items: int) -> float:
    return items / seconds


def _mix(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in counter.most_common())


def _results(
    m: _Measured, settings: CrmSettings, stream: Sequence[SocialInteraction], sizes: Sizes
) -> list[Result]:
    items = len(stream)
    settings_keywords, distinct = _keyword_counts(settings)
    profiles = len({(i.profile.network, i.profile.id) for i in stream})
    decide = _rate(m.decide.best, items)
    first = _rate(m.automation.best, items)
    return [
        Result(
            name="crm.decide",
            value=decide,
            median=_rate(m.decide.median, items),
            unit="items/s",
            better="higher",
            baseline_name="matcher compiled per call",
            baseline=_rate(m.baseline.best, sizes.baseline),
            target=Target(
                source="goal",
                text=f">= {COMPILED_GOAL:g}x compiling on every call (W4: compile once)",
                bound=COMPILED_GOAL,
                at_least=True,
                on_ratio=True,
            ),
            note=f"{items:,} interactions by {profiles:,} profiles, {RULES} rules x {BRANCHES} "
            f"branches, {settings_keywords:,} keywords ({distinct:,} distinct); baseline on the "
            f"first {sizes.baseline:,}; one compilation {m.compile_seconds * 1e3:,.1f} ms; "
            f"items/s by CPU time {_rate(m.decide.best_cpu, items):,.0f}; with settings equal "
            f"to the matcher's but not the same object {_rate(m.copy.best, items):,.0f} items/s; "
            f"decisions: {_mix(m.decisions)}",
        ),
        Result(
            name="crm.automation",
            value=first,
            median=_rate(m.automation.median, items),
            unit="items/s",
            better="higher",
            baseline_name="crm.decide",
            baseline=decide,
            target=Target(
                source="goal",
                text=f">= {AUTOMATION_GOAL:g}x decide alone (people found skip the rules)",
                bound=AUTOMATION_GOAL,
                at_least=True,
                on_ratio=True,
            ),
            note=f"handle_interaction over a fresh InMemoryCrm: {_mix(m.first)}; "
            f"items/s by CPU time {_rate(m.automation.best_cpu, items):,.0f}",
        ),
        Result(
            name="crm.replay",
            value=_rate(m.replay.best, items),
            median=_rate(m.replay.median, items),
            unit="items/s",
            better="higher",
            baseline_name="crm.automation",
            baseline=first,
            target=Target(
                source="goal",
                text=f">= {REPLAY_GOAL:g}x the first pass (a replay adds nobody)",
                bound=REPLAY_GOAL,
                at_least=True,
                on_ratio=True,
            ),
            note=f"the same stream again over the first pass's records and links: {_mix(m.again)}",
        ),
    ]


def run(quick: bool) -> list[Result]:
    """Measure CRM automation; ``quick`` uses tiny sizes (a smoke test, not a measurement)."""
    sizes = QUICK if quick else FULL
    settings = build_settings()
    stream = build_stream(sizes.interactions, sizes.profiles)
    return _results(_measure(stream, settings, sizes), settings, stream, sizes)


def _profile(count: int, automation: bool) -> None:
    """Print where deciding (or handling) ``count`` interactions spends its time."""
    settings = build_settings()
    stream = build_stream(count, FULL.profiles)
    body: Callable[[], object]
    if automation:
        _crm, handler = _automation(settings)
        body = lambda: _handle_all(handler, stream)  # noqa: E731
    else:
        matcher = compile_crm_matcher(settings)
        body = lambda: _decide_all(stream, settings, matcher)  # noqa: E731
    profiler = cProfile.Profile()
    sample = timed(lambda: profiler.runcall(body))
    what = "handle_interaction" if automation else "decide_crm_action"
    print(f"{count / sample.wall:,.0f} items/s under the profiler ({what})")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(20)


def main(argv: Sequence[str] | None = None) -> int:
    """``python benchmarks/bench_crm.py --profile [N]``: profile deciding N interactions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", type=int, metavar="N", nargs="?", const=20_000, default=20_000)
    parser.add_argument("--profile-automation", action="store_true")
    args = parser.parse_args(argv)
    _profile(args.profile, args.profile_automation)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
