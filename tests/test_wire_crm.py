"""The CRM automation settings document (P6; R1, R2, R9).

Rules load from a JSON document with a JSON Schema; an unknown trigger, a condition on an
unknown field, or an action with no owner rule is refused at load time with a
:class:`pydantic.ValidationError` that says what is wrong and where.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, get_args

import jsonschema
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st
from pydantic import ValidationError

from deskcore import (
    CRM_TRIGGERS,
    CrmAction,
    CrmBranch,
    CrmCondition,
    CrmDecisionKind,
    CrmRule,
    CrmSettings,
    CrmTrigger,
    ExternalReference,
    OwnerRule,
    SocialInteraction,
    SocialProfile,
    decide_crm_action,
)
from deskcore.errors import InvalidModelError
from deskcore.models.crm import ConditionField, ConditionOp, CrmRecordKind
from deskcore.testing.strategies import ids, texts
from deskcore.wire import CrmSettingsDocument, json_schemas, parse_crm_settings
from deskcore.wire.crm import (
    MAX_BRANCHES,
    MAX_CONDITION_VALUES,
    MAX_CONDITIONS,
    MAX_OWNERS,
    MAX_RULES,
    CrmRulePayload,
    Network,
    TriggerName,
)
from wire_support import as_json, assert_refused_at, assert_refused_by_length, hostile_ids, parsers


def settings_of(data: Any) -> CrmSettings:
    """The domain settings of a document (P6): parse, then convert."""
    return parse_crm_settings(data).to_settings()


# The example of the issue, verbatim.
EXAMPLE: dict[str, Any] = {
    "enabled": True,
    "rules": [
        {
            "id": "twitter-people",
            "name": "People on Twitter",
            "network": "twitter",
            "triggers": ["mention", "retweet"],
            "enabled": True,
            "branches": [
                {
                    "name": "big accounts",
                    "conditions": [{"field": "follower_count", "op": "at_least", "value": 1000}],
                    "action": {"add_as": "contact", "owner": {"user_id": "sales-1"}},
                },
                {
                    "name": "pricing questions",
                    "conditions": [
                        {"field": "text", "op": "contains_any", "value": ["price", "料金"]}
                    ],
                    "action": {"add_as": "lead", "owner": {"spread_among": ["sales-2", "sales-3"]}},
                },
                {"name": "everyone else", "conditions": [], "action": {"add_as": None}},
            ],
        }
    ],
}

FACEBOOK_RULE: dict[str, Any] = {
    "id": "facebook-fans",
    "name": "ファン (Facebook)",
    "network": "facebook",
    "triggers": ["comment", "message", "like"],
    "enabled": False,
    "branches": [
        {
            "name": "competitors",
            "conditions": [{"field": "handle", "op": "in", "value": ["@rival_jp", "Rival"]}],
            "action": {"add_as": None, "owner": None},
        },
        {
            "name": "kumo messages",
            "conditions": [
                {"field": "network", "op": "in", "value": ["facebook"]},
                {"field": "trigger", "op": "in", "value": ["message", "comment"]},
                {"field": "brand", "op": "in", "value": ["kumo"]},
                {"field": "channel_account", "op": "not_in", "value": ["page-test"]},
                {"field": "text", "op": "contains_none", "value": ["unsubscribe"]},
                {"field": "follower_count", "op": "at_most", "value": 50},
            ],
            "action": {"add_as": "lead", "owner": {"user_id": "sales-4", "spread_among": []}},
        },
    ],
}

DOCUMENT: dict[str, Any] = {
    **EXAMPLE,
    "schema_version": 1,
    "rules": [*EXAMPLE["rules"], FACEBOOK_RULE],
}


PARSERS = parsers(settings_of)


@pytest.fixture(params=sorted(PARSERS))
def parse(request: pytest.FixtureRequest) -> Callable[[dict[str, Any]], CrmSettings]:
    return PARSERS[request.param]


# -- the example ---------------------------------------------------------------------------------


def test_R1_R2_P6_the_example_document_becomes_the_expected_settings(
    parse: Callable[[dict[str, Any]], CrmSettings],
) -> None:
    branches = (
        CrmBranch(
            name="big accounts",
            conditions=(CrmCondition(field="follower_count", op="at_least", value=1000),),
            action=CrmAction(add_as="contact", owner=OwnerRule(user_id="sales-1")),
        ),
        CrmBranch(
            name="pricing questions",
            conditions=(CrmCondition(field="text", op="contains_any", value=("price", "料金")),),
            action=CrmAction(add_as="lead", owner=OwnerRule(spread_among=("sales-2", "sales-3"))),
        ),
        CrmBranch(name="everyone else", action=CrmAction()),
    )
    rule = CrmRule(
        id="twitter-people",
        name="People on Twitter",
        network="twitter",
        triggers=frozenset({CrmTrigger.MENTION, CrmTrigger.RETWEET}),
        branches=branches,
    )
    assert parse(EXAMPLE) == CrmSettings(enabled=True, rules=(rule,))


def test_R1_R2_P6_every_condition_field_and_operator_parses(
    parse: Callable[[dict[str, Any]], CrmSettings],
) -> None:
    settings = parse(DOCUMENT)
    assert [r.id for r in settings.rules] == ["twitter-people", "facebook-fans"]
    fans = settings.rules[1]
    assert fans.enabled is False
    assert fans.name == "ファン (Facebook)"
    assert fans.triggers == {CrmTrigger.COMMENT, CrmTrigger.MESSAGE, CrmTrigger.LIKE}
    competitors, kumo = fans.branches
    assert competitors.action == CrmAction()
    assert competitors.conditions[0].values == ("@rival_jp", "Rival")
    assert [(c.field.value, c.op.value, c.value) for c in kumo.conditions] == [
        ("network", "in", ("facebook",)),
        ("trigger", "in", ("message", "comment")),
        ("brand", "in", ("kumo",)),
        ("channel_account", "not_in", ("page-test",)),
        ("text", "contains_none", ("unsubscribe",)),
        ("follower_count", "at_most", 50),
    ]
    assert kumo.action == CrmAction(add_as="lead", owner=OwnerRule(user_id="sales-4"))
    assert {f.value for f in ConditionField} == {c.field.value for c in kumo.conditions} | {
        "handle"
    }


def test_R9_P6_an_empty_document_is_the_default_settings() -> None:
    assert settings_of(b"{}") == CrmSettings()
    assert settings_of({"enabled": True}) == CrmSettings(enabled=True)


def test_R1_R2_the_parsed_settings_decide_what_an_interaction_does() -> None:
    settings = settings_of(as_json(EXAMPLE))

    def mention(text: str, followers: int | None) -> SocialInteraction:
        return SocialInteraction(
            reference=ExternalReference("twitter", "brand_jp", "tweet", f"t-{text}"),
            trigger="mention",
            profile=SocialProfile(network="twitter", id="p-1", handle="@yamada"),
            text=text,
            at=datetime(2026, 8, 3, 9, tzinfo=UTC),
            follower_count=followers,
        )

    big = decide_crm_action(mention("hello", 5000), settings, linked=None)
    assert big.action is CrmDecisionKind.ADD_CONTACT
    assert big.draft is not None
    assert big.draft.owner_id == "sales-1"
    pricing = decide_crm_action(mention("料金を教えて", 10), settings, linked=None)
    assert pricing.action is CrmDecisionKind.ADD_LEAD
    assert (pricing.rule_id, pricing.branch) == ("twitter-people", 2)
    nobody = decide_crm_action(mention("hello", None), settings, linked=None)
    assert (nobody.action, nobody.reason) == (CrmDecisionKind.NOTHING, "branch_adds_nobody")


def test_P6_a_decoded_mapping_may_hold_tuples_and_enum_members() -> None:
    data = copy.deepcopy(EXAMPLE)
    rule = data["rules"][0]
    rule["triggers"] = (CrmTrigger.MENTION, "retweet")
    rule["branches"][0]["action"]["add_as"] = CrmRecordKind.CONTACT
    rule["branches"][0]["conditions"][0]["op"] = ConditionOp.AT_LEAST
    rule["branches"] = tuple(rule["branches"])
    rule["branches"][1]["conditions"][0]["value"] = ("price", "料金")
    rule["branches"][1]["action"]["owner"]["spread_among"] = ("sales-2", "sales-3")
    assert settings_of(data) == settings_of(EXAMPLE)


def test_P6_the_literal_types_match_the_domain() -> None:
    assert set(get_args(Network)) == set(CRM_TRIGGERS)
    assert set(get_args(TriggerName)) == {t.value for t in CrmTrigger}


# -- round trip ----------------------------------------------------------------------------------


def test_P6_the_example_round_trips_through_the_document() -> None:
    settings = settings_of(DOCUMENT)
    document = CrmSettingsDocument.from_domain(settings)
    assert document.to_settings() == settings
    stored = document.model_dump_json()
    assert settings_of(stored) == settings
    assert CrmSettingsDocument.model_validate_json(stored) == document
    dumped = json.loads(stored)
    assert dumped["rules"][0]["triggers"] == ["mention", "retweet"]
    assert dumped["rules"][0]["branches"][2]["action"] == {"add_as": None, "owner": None}
    assert dumped["rules"][0]["branches"][1]["action"]["owner"] == {
        "user_id": None,
        "spread_among": ["sales-2", "sales-3"],
    }
    assert dumped["rules"][1]["triggers"] == ["message", "comment", "like"]


def _subset(values: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True)


def _strings(*, max_size: int = 12) -> st.SearchStrategy[str]:
    return texts(min_size=1, max_size=max_size).filter(str.strip)


def _ops_of(field: str) -> list[str]:
    return ["contains_any", "contains_none"] if field == "text" else ["in", "not_in"]


@st.composite
def conditions(draw: st.DrawFn, network: str, triggers: list[str]) -> CrmCondition:
    """Any condition that can hold in a rule on ``network`` watching ``triggers``; value lists
    may repeat values."""
    field = draw(st.sampled_from(ConditionField)).value
    if field == "network":
        other = "facebook" if network == "twitter" else "twitter"
        op = draw(st.sampled_from(["in", "not_in"]))
        value: object = [network, *draw(st.lists(st.just(other), max_size=2))]
        if op == "not_in":
            value = [other]
    elif field == "trigger":
        chosen = draw(_subset(triggers))
        op = "in" if set(chosen) == set(triggers) else draw(st.sampled_from(["in", "not_in"]))
        value = chosen + draw(st.lists(st.sampled_from(chosen), max_size=2))
    elif field == "follower_count":
        op = draw(st.sampled_from(["at_least", "at_most"]))
        value = draw(st.integers(0, 2**63 - 1))
    else:
        op = draw(st.sampled_from(_ops_of(field)))
        values = ids() if field in {"brand", "channel_account"} else _strings()
        if field == "handle":
            values = values.filter(lambda handle: handle.strip().removeprefix("@").strip())
        value = draw(st.lists(values, min_size=1, max_size=4))
    return CrmCondition(field=field, op=op, value=value)


@st.composite
def actions(draw: st.DrawFn) -> CrmAction:
    owners = st.one_of(
        ids().map(lambda user: OwnerRule(user_id=user)),
        st.lists(ids(), min_size=1, max_size=3, unique=True).map(
            lambda spread: OwnerRule(spread_among=tuple(spread))
        ),
    )
    add_as = draw(st.sampled_from([None, "lead", "contact"]))
    return CrmAction(add_as=add_as, owner=None if add_as is None else draw(owners))


@st.composite
def rules(draw: st.DrawFn, rule_id: str) -> CrmRule:
    network = draw(st.sampled_from(sorted(CRM_TRIGGERS)))
    triggers = draw(_subset(sorted(t.value for t in CRM_TRIGGERS[network])))
    branches = draw(
        st.lists(
            st.builds(
                CrmBranch,
                name=texts(max_size=20),
                conditions=st.lists(conditions(network, triggers), max_size=3).map(tuple),
                action=actions(),
            ),
            min_size=1,
            max_size=3,
        )
    )
    try:
        return CrmRule(
            id=rule_id,
            name=draw(texts(max_size=20)),
            network=network,
            triggers=frozenset(CrmTrigger(t) for t in triggers),
            branches=tuple(branches),
            enabled=draw(st.booleans()),
        )
    except InvalidModelError:  # the strategy builds reachable conditions; just in case
        reject()


@st.composite
def crm_settings(draw: st.DrawFn) -> CrmSettings:
    rule_ids = draw(st.lists(ids(), max_size=3, unique=True))
    return CrmSettings(enabled=draw(st.booleans()), rules=tuple(draw(rules(i)) for i in rule_ids))


@given(crm_settings())
def test_P6_R1_R2_any_settings_round_trip_exactly(settings: CrmSettings) -> None:
    document = CrmSettingsDocument.from_domain(settings)
    assert document.to_settings() == settings
    assert settings_of(document.model_dump_json()) == settings
    assert settings_of(json.loads(document.model_dump_json())) == settings
    assert CrmSettingsDocument.from_domain(document.to_settings()) == document


def test_P6_the_document_and_the_domain_share_the_rule_limit() -> None:
    """More rules than a document may hold cannot be built in the domain either, so
    ``from_domain`` never meets settings it cannot write."""
    rule = settings_of(EXAMPLE).rules[0]
    rules = [
        CrmRule(id=f"r{i}", network="twitter", triggers={"mention"}, branches=rule.branches)
        for i in range(MAX_RULES + 1)
    ]
    with pytest.raises(InvalidModelError, match=f"more than {MAX_RULES} rules"):
        CrmSettings(rules=rules)
    assert len(CrmSettingsDocument.from_domain(CrmSettings(rules=rules[:-1])).rules) == MAX_RULES


# -- the acceptance: what is wrong and where ------------------------------------------------------

RULE = ("rules", 0)
BRANCH = (*RULE, "branches", 0)
ACTION = (*BRANCH, "action")
OWNER = (*ACTION, "owner")
CONDITIONS = (*BRANCH, "conditions")


def changed(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    """The document with ``edit`` applied to a deep copy."""
    data = copy.deepcopy(DOCUMENT)
    edit(data)
    return data


def rule(**changes: Any) -> dict[str, Any]:
    return changed(lambda d: d["rules"][0].update(changes))


def branch(**changes: Any) -> dict[str, Any]:
    return changed(lambda d: d["rules"][0]["branches"][0].update(changes))


def action(**changes: Any) -> dict[str, Any]:
    return changed(lambda d: d["rules"][0]["branches"][0]["action"].update(changes))


def condition(**changes: Any) -> dict[str, Any]:
    return branch(
        conditions=[{"field": "follower_count", "op": "at_least", "value": 1000, **changes}]
    )


def also(extra: dict[str, Any]) -> dict[str, Any]:
    """The first branch with one more condition."""
    return changed(lambda d: d["rules"][0]["branches"][0]["conditions"].append(extra))


def refusals(
    parse: Callable[[dict[str, Any]], CrmSettings], data: dict[str, Any]
) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        parse(data)
    return list(caught.value.errors())


def assert_refused(
    errors: list[dict[str, Any]], loc: tuple[str | int, ...], *fragments: str
) -> None:
    located = [e for e in errors if e["loc"] == loc]
    assert located, f"no error at {loc}; got {[(e['loc'], e['msg']) for e in errors]}"
    for fragment in fragments:
        assert any(fragment in e["msg"] for e in located), (fragment, [e["msg"] for e in located])


@pytest.mark.parametrize("trigger", ["favourite", "like", "post", "Mention", "mention "])
def test_R1_unknown_trigger_is_rejected_with_where(
    parse: Callable[[dict[str, Any]], CrmSettings], trigger: str
) -> None:
    errors = refusals(parse, rule(triggers=["mention", trigger]))
    assert [e["loc"] for e in errors] == [(*RULE, "triggers")]
    assert_refused(
        errors,
        (*RULE, "triggers"),
        f"rule twitter-people: {trigger} is not a Twitter trigger",
        "twitter offers mention, message, reply, retweet (R1)",
    )


def test_R1_a_twitter_trigger_on_a_facebook_rule_is_rejected_with_where(
    parse: Callable[[dict[str, Any]], CrmSettings],
) -> None:
    errors = refusals(
        parse, changed(lambda d: d["rules"][1].update(triggers=["comment", "retweet"]))
    )
    assert_refused(
        errors,
        ("rules", 1, "triggers"),
        "rule facebook-fans: retweet is not a Facebook trigger; "
        "facebook offers message, post, comment, like (R1)",
    )


def test_R1_with_an_unknown_network_an_unknown_trigger_is_still_named(
    parse: Callable[[dict[str, Any]], CrmSettings],
) -> None:
    errors = refusals(parse, rule(network="instagram", triggers=["favourite"]))
    assert_refused(errors, (*RULE, "network"), "'twitter' or 'facebook'")
    assert_refused(
        errors,
        (*RULE, "triggers"),
        "rule twitter-people: favourite is not a trigger; triggers are mention, message, "
        "reply, retweet, post, comment, like (R1)",
    )
    # A known trigger adds nothing to the network's own error.
    errors = refusals(parse, rule(network="Twitter", triggers=["like"]))
    assert [e["loc"] for e in errors] == [(*RULE, "network")]


def test_R1_a_trigger_of_a_rule_whose_id_is_invalid_is_named_without_the_id(
    parse: Callable[[dict[str, Any]], CrmSettings],
) -> None:
    errors = refusals(parse, rule(id="", triggers=["favourite"]))
    assert_refused(errors, (*RULE, "id"), "at least 1 character")
    assert_refused(errors, (*RULE, "triggers"), "favourite is not a Twitter trigger")
    assert not any(e["msg"].startswith("rule ") for e in errors)


@pytest.mark.parametrize("field", ["colour", "followers", "Text", "", "follower count"])
def test_R2_condition_on_unknown_field_is_rejected(
    parse: Callable[[dict[str, Any]], CrmSettings], field: str
) -> None:
    errors = refusals(parse, also({"field": field, "op": "in", "value": ["x"]}))
    assert [e["loc"] for e in errors] == [(*CONDITIONS, 1)]
    assert errors[0]["type"] == "union_tag_invalid"
    assert_refused(errors, (*CONDITIONS, 1), f"'{field}'", "'field'")
    for known in ConditionField:
        assert f"'{known.value}'" in errors[0]["msg"]


def test_R2_a_condition_without_a_field_is_rejected(
    parse: Callable[[dict[str, Any]], CrmSettings],
) -> None:
    errors = refusals(parse, also({"op": "in", "value": ["x"]}))
    assert_refused(errors, (*CONDITIONS, 1), "Unable to extract tag using discriminator 'field'")


@pytest.mark.parametrize(
    "owner",
    [
        pytest.param({}, id="absent"),
        pytest.param({"owner": None}, id="null"),
    ],
)
@pytest.mark.parametrize("add_as", ["lead", "contact"])
def test_R2_action_without_owner_rule_is_rejected(
    parse: Callable[[dict[str, Any]], CrmSettings], owner: dict[str, Any], add_as: str
) -> None:
    data = branch(action={"add_as": add_as, **owner})
    errors = refusals(parse, data)
    assert [e["loc"] for e in errors] == [ACTION]
    assert_refused(errors, ACTION, f"adding a {add_as} needs an owner rule (R2)", "user_id")


@pytest.mark.parametrize(
    ("owner", "fragment"),
    [
        ({}, "An owner rule needs an owner: give user_id (one owner) or spread_among"),
        ({"user_id": None, "spread_among": []}, "An owner rule needs an owner"),
        ({"user_id": "sales-1", "spread_among": ["sales-2"]}, "not both"),
    ],
    ids=["empty", "neither", "both"],
)
def test_R2_an_owner_rule_needs_exactly_one_way_to_pick_the_owner(
    parse: Callable[[dict[str, Any]], CrmSettings], owner: dict[str, Any], fragment: str
) -> None:
    errors = refusals(parse, action(owner=owner))
    assert [e["loc"] for e in errors] == [OWNER]
    assert_refused(errors, OWNER, fragment)


def test_R2_an_action_that_adds_nobody_needs_no_owner_and_takes_none(
    parse: Callable[[dict[str, Any]], CrmSettings],
) -> None:
    assert parse(branch(action={"add_as": None})).rules[0].branches[0].action == CrmAction()
    errors = refusals(parse, action(add_as=None))
    assert_refused(errors, ACTION, "an action that adds nobody takes no owner rule")


# (rule, document, where the error is, what it says; "|" separates alternatives)
SEQUENCE = "valid array|valid tuple"
OBJECT = "valid dictionary|an object|Payload"
HOSTILE: list[tuple[str, dict[str, Any], tuple[str | int, ...], str]] = [
    # unknown fields, at every level
    ("P6", changed(lambda d: d.update(crm="on")), ("crm",), "Extra inputs are not permitted"),
    ("P6", rule(priority=1), (*RULE, "priority"), "Extra inputs"),
    ("P6", branch(when=[]), (*BRANCH, "when"), "Extra inputs"),
    ("P6", action(kind="lead"), (*ACTION, "kind"), "Extra inputs"),
    ("P6", action(owner={"user_id": "s", "team": "x"}), (*OWNER, "team"), "Extra inputs"),
    ("P6", condition(values=[1]), (*CONDITIONS, 0, "follower_count", "values"), "Extra inputs"),
    ("P6", changed(lambda d: d.update(schema_version=2)), ("schema_version",), "Input should be 1"),
    # wrong JSON types
    ("R9", changed(lambda d: d.update(enabled="true")), ("enabled",), "valid boolean"),
    ("R9", changed(lambda d: d.update(enabled=1)), ("enabled",), "valid boolean"),
    ("R2", rule(enabled=None), (*RULE, "enabled"), "valid boolean"),
    ("R2", changed(lambda d: d.update(rules={"twitter-people": {}})), ("rules",), SEQUENCE),
    ("R2", rule(branches={"name": "x"}), (*RULE, "branches"), SEQUENCE),
    ("R2", branch(conditions="follower_count>1000"), CONDITIONS, SEQUENCE),
    ("R2", branch(conditions=["follower_count>1000"]), (*CONDITIONS, 0), OBJECT),
    ("R2", branch(action="add lead"), ACTION, OBJECT),
    ("R2", action(owner="sales-1"), OWNER, OBJECT),
    # follower counts
    ("R2", condition(value="1000"), (*CONDITIONS, 0, "follower_count", "value"), "valid integer"),
    ("R2", condition(value=True), (*CONDITIONS, 0, "follower_count", "value"), "valid integer"),
    ("R2", condition(value=1000.0), (*CONDITIONS, 0, "follower_count", "value"), "valid integer"),
    ("R2", condition(value=None), (*CONDITIONS, 0, "follower_count", "value"), "valid integer"),
    ("R2", condition(value=[1000]), (*CONDITIONS, 0, "follower_count", "value"), "valid integer"),
    ("R2", condition(value=-1), (*CONDITIONS, 0, "follower_count", "value"), "greater than or"),
    (
        "R2",
        condition(value=2**63),
        (*CONDITIONS, 0, "follower_count", "value"),
        "less than or equal to 9223372036854775807",
    ),
    ("R2", condition(value=10**300), (*CONDITIONS, 0, "follower_count", "value"), "less than"),
    # operators
    (
        "R2",
        condition(op="in"),
        (*CONDITIONS, 0, "follower_count", "op"),
        "'at_least' or 'at_most'",
    ),
    (
        "R2",
        condition(op="greater_than"),
        (*CONDITIONS, 0, "follower_count", "op"),
        "'at_least' or 'at_most'",
    ),
    (
        "R2",
        also({"field": "text", "op": "in", "value": ["price"]}),
        (*CONDITIONS, 1, "text", "op"),
        "'contains_any' or 'contains_none'",
    ),
    (
        "R2",
        also({"field": "handle", "op": "contains_any", "value": ["x"]}),
        (*CONDITIONS, 1, "handle", "op"),
        "'in' or 'not_in'",
    ),
    ("R2", condition(op=None), (*CONDITIONS, 0, "follower_count", "op"), "'at_least' or"),
    ("R2", also({"field": 5, "op": "in", "value": ["x"]}), (*CONDITIONS, 1), "'follower_count'"),
    # condition values
    (
        "R2",
        also({"field": "text", "op": "contains_any", "value": []}),
        (*CONDITIONS, 1, "text", "value"),
        "at least one value",
    ),
    (
        "R2",
        also({"field": "text", "op": "contains_any", "value": "price"}),
        (*CONDITIONS, 1, "text", "value"),
        SEQUENCE,
    ),
    (
        "R2",
        also({"field": "text", "op": "contains_any", "value": ["price", ""]}),
        (*CONDITIONS, 1, "text", "value", 1),
        "at least 1 character",
    ),
    (
        "R2",
        also({"field": "text", "op": "contains_any", "value": [" \u3000\n"]}),
        (*CONDITIONS, 1, "text", "value", 0),
        "must not be blank",
    ),
    (
        "R2",
        also({"field": "text", "op": "contains_any", "value": [7]}),
        (*CONDITIONS, 1, "text", "value", 0),
        "valid string",
    ),
    (
        "R2",
        also({"field": "text", "op": "contains_any", "value": ["x" * 1001]}),
        (*CONDITIONS, 1, "text", "value", 0),
        "at most 1000 characters",
    ),
    (
        "R2",
        also({"field": "handle", "op": "in", "value": ["  "]}),
        (*CONDITIONS, 1, "handle", "value", 0),
        "must not be blank",
    ),
    (
        "R2",
        also({"field": "brand", "op": "in", "value": [None]}),
        (*CONDITIONS, 1, "brand", "value", 0),
        "valid string",
    ),
    (
        "R2",
        also({"field": "channel_account", "op": "not_in", "value": ["x" * 1001]}),
        (*CONDITIONS, 1, "channel_account", "value", 0),
        "at most 1000 characters",
    ),
    (
        "R2",
        also({"field": "network", "op": "in", "value": ["instagram"]}),
        (*CONDITIONS, 1, "network", "value", 0),
        "'twitter' or 'facebook'",
    ),
    (
        "R1",
        also({"field": "trigger", "op": "in", "value": ["favourite"]}),
        (*CONDITIONS, 1, "trigger", "value", 0),
        "'mention', 'message', 'reply', 'retweet', 'post', 'comment' or 'like'",
    ),
    # conditions the rule makes impossible: the domain's message, at the rule
    (
        "R1",
        also({"field": "trigger", "op": "in", "value": ["reply"]}),
        RULE,
        "rule twitter-people, branch 1: the condition names reply, which this rule does not "
        "react to (its triggers: mention, retweet)",
    ),
    (
        "R1",
        also({"field": "trigger", "op": "not_in", "value": ["retweet", "mention"]}),
        RULE,
        "rule twitter-people, branch 1: the trigger condition can never hold",
    ),
    (
        "R2",
        also({"field": "network", "op": "in", "value": ["facebook"]}),
        RULE,
        "branch 1: the network condition can never hold in a twitter rule",
    ),
    (
        "R2",
        also({"field": "network", "op": "not_in", "value": ["twitter"]}),
        RULE,
        "the network condition can never hold",
    ),
    # rules
    ("R1", rule(network="instagram"), (*RULE, "network"), "'twitter' or 'facebook'"),
    ("R1", rule(network="Twitter"), (*RULE, "network"), "'twitter' or 'facebook'"),
    ("R1", rule(triggers="mention"), (*RULE, "triggers"), SEQUENCE),
    (
        "R1",
        rule(triggers=[]),
        (*RULE, "triggers"),
        "rule twitter-people: give at least one trigger",
    ),
    (
        "R1",
        rule(triggers=["mention", "mention"]),
        (*RULE, "triggers"),
        "trigger mention is listed twice",
    ),
    ("R1", rule(triggers=[1]), (*RULE, "triggers", 0), "valid string"),
    ("R1", rule(triggers=["x" * 100]), (*RULE, "triggers", 0), "at most 64 characters"),
    ("R1", rule(triggers=["mention"] * 8), (*RULE, "triggers"), "at most 7 items"),
    ("R2", rule(branches=[]), RULE, "rule twitter-people: give a branch (R2)"),
    ("R2", changed(lambda d: d["rules"][0].pop("branches")), (*RULE, "branches"), "required"),
    ("R1", changed(lambda d: d["rules"][0].pop("network")), (*RULE, "network"), "required"),
    ("R1", changed(lambda d: d["rules"][0].pop("triggers")), (*RULE, "triggers"), "required"),
    ("R1", changed(lambda d: d["rules"][0].pop("id")), (*RULE, "id"), "Field required"),
    ("R1", rule(id=" twitter-people"), (*RULE, "id"), "surrounding whitespace"),
    ("R1", rule(id="x" * 256), (*RULE, "id"), "at most 255 characters"),
    ("R1", rule(name="x" * 1001), (*RULE, "name"), "at most 1000 characters"),
    (
        "R1",
        changed(lambda d: d["rules"][1].update(id="twitter-people")),
        ("rules",),
        "rule id twitter-people is listed twice",
    ),
    # branches and actions
    ("R2", branch(name=["big"]), (*BRANCH, "name"), "valid string"),
    ("R2", changed(lambda d: d["rules"][0]["branches"][0].pop("action")), ACTION, "required"),
    ("R2", branch(action={}), (*ACTION, "add_as"), "Field required"),
    ("R2", action(add_as="customer"), (*ACTION, "add_as"), "'lead' or 'contact'"),
    ("R2", action(add_as="Lead"), (*ACTION, "add_as"), "'lead' or 'contact'"),
    ("R2", action(add_as=True), (*ACTION, "add_as"), "'lead' or 'contact'"),
    ("R2", action(owner={"user_id": ""}), (*OWNER, "user_id"), "at least 1 character"),
    ("R2", action(owner={"user_id": 7}), (*OWNER, "user_id"), "valid string"),
    ("R2", action(owner={"spread_among": "sales-2"}), (*OWNER, "spread_among"), SEQUENCE),
    (
        "R2",
        action(owner={"spread_among": ["sales-2", "sales-3", "sales-2"]}),
        (*OWNER, "spread_among"),
        "owner sales-2 is listed twice",
    ),
    ("R2", action(owner={"spread_among": [" s"]}), (*OWNER, "spread_among", 0), "whitespace"),
]


@pytest.mark.parametrize(("rule", "data", "loc", "fragment"), HOSTILE, ids=hostile_ids(HOSTILE))
def test_R1_R2_R9_P6_hostile_documents_are_refused_with_what_and_where(
    parse: Callable[[dict[str, Any]], CrmSettings],
    rule: str,
    data: dict[str, Any],
    loc: tuple[str | int, ...],
    fragment: str,
) -> None:
    assert_refused_at(parse, rule, data, loc, fragment)


@pytest.mark.parametrize(
    "data",
    [case[1] for case in HOSTILE],
    ids=[str(i) for i in range(len(HOSTILE))],
)
def test_P6_json_text_and_a_decoded_mapping_are_refused_at_the_same_places(
    data: dict[str, Any],
) -> None:
    # Only the wording of a type error differs ("an object", "a valid dictionary").
    places = []
    for form in (as_json(data), copy.deepcopy(data)):
        with pytest.raises(ValidationError) as caught:
            parse_crm_settings(form)
        places.append([e["loc"] for e in caught.value.errors()])
    assert places[0] == places[1]


def test_R1_R2_P6_the_errors_of_one_document_are_reported_together() -> None:
    data = copy.deepcopy(DOCUMENT)
    data["rules"][0]["triggers"] = ["mention", "favourite"]
    data["rules"][0]["branches"][0]["conditions"].append({"field": "colour", "op": "in"})
    data["rules"][0]["branches"][1]["action"] = {"add_as": "lead"}
    data["rules"][1]["branches"][1]["conditions"][5]["value"] = "50"
    with pytest.raises(ValidationError) as caught:
        settings_of(as_json(data))
    assert {e["loc"] for e in caught.value.errors()} == {
        ("rules", 0, "triggers"),
        ("rules", 0, "branches", 0, "conditions", 1),
        ("rules", 0, "branches", 1, "action"),
        ("rules", 1, "branches", 1, "conditions", 5, "follower_count", "value"),
    }


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"[]",
        b"null",
        b'"rules"',
        b"\xff\xfe{}",
        json.dumps({"rules": [{"id": "\ud800"}]}).encode(),
        b"[" * 10_000 + b"]" * 10_000,
        as_json(condition(value=0)).replace(b'"value": 0', b'"value": ' + b"9" * 5000),
        as_json(condition(value=0)).replace(b'"value": 0', b'"value": -' + b"9" * 5000),
        as_json(condition(value=0)).replace(b'"value": 0', b'"value": 1e400'),
        as_json(condition(value=0)).replace(b'"value": 0', b'"value": NaN'),
    ],
)
def test_P6_malformed_json_and_huge_numbers_are_validation_errors(data: bytes) -> None:
    with pytest.raises(ValidationError):
        settings_of(data)


@pytest.mark.parametrize(
    "data",
    [[], ["rules"], None, 42, {"rules"}, 10**5000],
    ids=["empty-list", "list", "null", "number", "set", "huge-number"],
)
def test_P6_decoded_input_that_is_not_an_object_is_a_validation_error(data: Any) -> None:
    with pytest.raises(ValidationError):
        settings_of(data)


def test_P6_a_huge_python_number_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        settings_of(condition(value=10**5000))
    assert [e["type"] for e in caught.value.errors()] == ["less_than_equal"]


# -- size limits ---------------------------------------------------------------------------------


def _keywords(count: int) -> list[str]:
    return [f"キーワード{i}" for i in range(count)]


def test_P6_R2_conditions_and_owners_at_the_documented_limits_parse() -> None:
    data = changed(
        lambda d: d["rules"][0]["branches"][1].update(
            conditions=[
                {"field": "text", "op": "contains_any", "value": _keywords(MAX_CONDITION_VALUES)},
                {"field": "handle", "op": "not_in", "value": _keywords(MAX_CONDITION_VALUES)},
            ],
            action={
                "add_as": "lead",
                "owner": {"spread_among": [f"sales-{i}" for i in range(MAX_OWNERS)]},
            },
        )
    )
    text = as_json(data)
    settings = settings_of(text)
    pricing = settings.rules[0].branches[1]
    assert len(pricing.conditions[0].values) == MAX_CONDITION_VALUES
    assert pricing.action.owner is not None
    assert len(pricing.action.owner.spread_among) == MAX_OWNERS


def _small_rule(rule_id: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "network": "twitter",
        "triggers": ["mention"],
        "branches": [{"action": {"add_as": None}}],
    }


FEW_FOLLOWERS = {"field": "follower_count", "op": "at_most", "value": 1}


def _many_branches(count: int) -> list[dict[str, Any]]:
    return [{"action": {"add_as": None}}] * count


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        (
            also({"field": "text", "op": "contains_any", "value": _keywords(100_000)}),
            (*CONDITIONS, 1, "text", "value"),
        ),
        (
            also({"field": "brand", "op": "in", "value": _keywords(MAX_CONDITION_VALUES + 1)}),
            (*CONDITIONS, 1, "brand", "value"),
        ),
        (
            action(owner={"spread_among": [f"s{i}" for i in range(MAX_OWNERS + 1)]}),
            (*OWNER, "spread_among"),
        ),
        (
            branch(conditions=[FEW_FOLLOWERS] * (MAX_CONDITIONS + 1)),
            CONDITIONS,
        ),
        (rule(branches=_many_branches(MAX_BRANCHES + 1)), (*RULE, "branches")),
        (
            changed(lambda d: d.update(rules=[_small_rule(f"r{i}") for i in range(MAX_RULES + 1)])),
            ("rules",),
        ),
    ],
    ids=["100k-keywords", "values", "owners", "conditions", "branches", "rules"],
)
def test_P6_documents_over_the_documented_limits_are_refused_by_length(
    data: dict[str, Any], loc: tuple[str | int, ...]
) -> None:
    assert_refused_by_length(settings_of, data, loc)


def test_P6_the_branch_limit_holds_a_long_rule() -> None:
    settings = settings_of(rule(branches=_many_branches(MAX_BRANCHES)))
    assert len(settings.rules[0].branches) == MAX_BRANCHES


# -- JSON Schema ---------------------------------------------------------------------------------


def test_P6_the_settings_document_exports_its_json_schema() -> None:
    schema = json_schemas()["crm_settings"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "CrmSettingsDocument"
    assert "required" not in schema
    assert schema["additionalProperties"] is False
    definitions = schema["$defs"]
    for definition in definitions.values():
        if definition.get("type") == "object":
            assert definition["additionalProperties"] is False
    assert schema["properties"]["rules"]["maxItems"] == MAX_RULES

    rule = definitions["CrmRulePayload"]
    assert set(rule["required"]) == {"id", "network", "triggers", "branches"}
    assert rule["properties"]["network"]["enum"] == ["twitter", "facebook"]
    triggers = rule["properties"]["triggers"]
    assert triggers["minItems"] == 1
    assert triggers["items"] == {"type": "string", "enum": [t.value for t in CrmTrigger]}
    by_network = {
        part["if"]["properties"]["network"]["const"]: part["then"]["properties"]["triggers"][
            "items"
        ]["enum"]
        for part in rule["allOf"]
    }
    assert {n: set(t) for n, t in by_network.items()} == {
        n: {t.value for t in offered} for n, offered in CRM_TRIGGERS.items()
    }
    assert rule["properties"]["branches"]["minItems"] == 1
    assert rule["properties"]["branches"]["maxItems"] == MAX_BRANCHES

    conditions = definitions["CrmBranchPayload"]["properties"]["conditions"]
    assert conditions["maxItems"] == MAX_CONDITIONS
    assert conditions["items"]["discriminator"]["propertyName"] == "field"
    assert set(conditions["items"]["discriminator"]["mapping"]) == {f.value for f in ConditionField}
    count = definitions["FollowerCountConditionPayload"]["properties"]
    assert count["value"]["type"] == "integer"
    assert (count["value"]["minimum"], count["value"]["maximum"]) == (0, 2**63 - 1)
    assert count["op"]["enum"] == ["at_least", "at_most"]
    keywords = definitions["TextConditionPayload"]["properties"]["value"]
    assert (keywords["minItems"], keywords["maxItems"]) == (1, MAX_CONDITION_VALUES)
    assert definitions["CrmActionPayload"]["required"] == ["add_as"]
    json.dumps(schema)


def test_P6_the_example_validates_against_the_json_schema() -> None:
    schema = json_schemas()["crm_settings"]
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(EXAMPLE)
    validator.validate(DOCUMENT)
    assert not validator.is_valid(rule(triggers=["like"]))
    assert not validator.is_valid(also({"field": "colour", "op": "in", "value": ["x"]}))


def test_P6_the_rule_payload_is_exported_in_the_document_schema() -> None:
    assert "CrmRulePayload" in json_schemas()["crm_settings"]["$defs"]
    assert CrmRulePayload.model_json_schema()["title"] == "CrmRulePayload"
