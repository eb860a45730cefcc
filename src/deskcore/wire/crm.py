"""The CRM automation settings document (R1, R2, R9; P6): JSON in, domain settings out.

:class:`CrmSettingsDocument` is what a host stores and a social admin edits: whether the CRM
integration is on, and the ordered automation rules with their branches, conditions and
actions. :func:`parse_crm_settings` parses it into the domain's
:class:`~deskcore.models.CrmSettings`.

The format, and the choices behind it:

- **A rule names its network and its triggers by their lowercase names**: ``"network"`` is
  ``"twitter"`` or ``"facebook"``; ``"triggers"`` is a non-empty list of what the network
  offers (Twitter: ``mention``, ``message``, ``reply``, ``retweet``; Facebook: ``post``,
  ``comment``, ``like``, ``message``), each at most once. An unknown trigger and a trigger of
  the other network are both refused at ``rules.<i>.triggers``, with a message naming the rule,
  the trigger, the network and what the network offers. The exported JSON Schema says the
  same with an ``if``/``then`` per network. ``"enabled"`` defaults to ``true``, ``"name"`` to
  ``""``; a rule has 1 to 100 branches.
- **A condition is an object told apart by its ``"field"``**: ``network``, ``trigger``,
  ``text``, ``follower_count``, ``brand``, ``channel_account`` or ``handle``. Each field takes
  its own operators and values: ``follower_count`` takes ``at_least`` or ``at_most`` with a
  JSON integer from 0 to 2**63 - 1; ``text`` takes ``contains_any`` or ``contains_none`` with
  a non-empty list of keywords; the others take ``in`` or ``not_in`` with a non-empty list of
  strings (``network`` and ``trigger`` values are the known names). A list holds at most
  :data:`MAX_CONDITION_VALUES` values and keeps its order. An unknown field is refused at the
  condition (``rules.<i>.branches.<j>.conditions.<k>``) by a message listing the known fields;
  an error inside a condition is located under the field's name, as pydantic locates a
  discriminated union (``...conditions.0.follower_count.value``).
- **An action always says ``"add_as"``**: ``"lead"``, ``"contact"``, or ``null`` for a branch
  that adds nobody (placed before the others, it keeps some people out). Adding needs
  ``"owner"``, an owner rule with exactly one of ``"user_id"`` (one owner) and
  ``"spread_among"`` (a non-empty list of owners, no repeats, at most :data:`MAX_OWNERS`);
  adding nobody takes no owner. ``add_as`` is required rather than defaulting to ``null`` so
  that ``{}`` is not a silent "add nobody".
- **The document** has ``"schema_version": 1`` (optional), ``"enabled"`` (defaults to
  ``false``, as the domain's) and ``"rules"`` (at most :data:`MAX_RULES`, ids unique), in the
  order they are tried.

Example::

    {
      "enabled": true,
      "rules": [
        {"id": "twitter-people", "name": "People on Twitter", "network": "twitter",
         "triggers": ["mention", "retweet"], "enabled": true,
         "branches": [
           {"name": "big accounts",
            "conditions": [{"field": "follower_count", "op": "at_least", "value": 1000}],
            "action": {"add_as": "contact", "owner": {"user_id": "sales-1"}}},
           {"name": "pricing questions",
            "conditions": [{"field": "text", "op": "contains_any", "value": ["price", "料金"]}],
            "action": {"add_as": "lead", "owner": {"spread_among": ["sales-2", "sales-3"]}}},
           {"name": "everyone else", "conditions": [], "action": {"add_as": null}}
         ]}
      ]
    }

The document is strict: unknown fields, wrong JSON types (``"1000"`` or ``true`` for a follower
count), unknown networks, triggers, condition fields and operators, blank keywords and repeated
list entries are :class:`pydantic.ValidationError`\\ s, located at the offending field. So is
whatever the domain refuses (a condition that can never hold in its rule, a trigger condition
naming a trigger the rule does not react to, an action adding someone without an owner rule,
repeated rule ids): the error carries the domain's message, located at the rule, branch or
action that holds the problem. Whatever parses converts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, TypeAlias, TypeVar

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from deskcore.errors import InvalidModelError
from deskcore.models.crm import (
    CRM_TRIGGERS,
    LEAD_SOURCES,
    MAX_BRANCHES,
    MAX_CONDITION_VALUES,
    MAX_CONDITIONS,
    MAX_OWNERS,
    MAX_RULES,
    CrmAction,
    CrmBranch,
    CrmCondition,
    CrmRecordKind,
    CrmRule,
    CrmSettings,
    CrmTrigger,
    OwnerRule,
)
from deskcore.models.social import MAX_KEYWORD_LENGTH
from deskcore.wire._types import (
    MAX_INT64,
    MAX_LABEL_LENGTH,
    FromList,
    Identifier,
    Label,
    WireModel,
)

__all__ = [
    "MAX_BRANCHES",
    "MAX_CONDITIONS",
    "MAX_CONDITION_VALUES",
    "MAX_OWNERS",
    "MAX_RULES",
    "BrandConditionPayload",
    "ChannelAccountConditionPayload",
    "CrmActionPayload",
    "CrmBranchPayload",
    "CrmConditionPayload",
    "CrmRulePayload",
    "CrmSettingsDocument",
    "FollowerCountConditionPayload",
    "HandleConditionPayload",
    "NetworkConditionPayload",
    "OwnerRulePayload",
    "TextConditionPayload",
    "TriggerConditionPayload",
    "parse_crm_settings",
]

_MAX_TRIGGER_NAME = 64  # longer than any trigger; keeps a refused name short in messages

_NETWORKS = tuple(CRM_TRIGGERS)
_TRIGGER_NAMES = tuple(t.value for t in CrmTrigger)

_T = TypeVar("_T")


def _refusal(error: InvalidModelError) -> ValueError:
    # A domain refusal becomes a validation error with the domain's own message.
    return ValueError(error.message)


def _domain(build: Callable[[], _T]) -> _T:
    """``build()``, with a domain refusal turned into a validation error at the caller."""
    try:
        return build()
    except InvalidModelError as error:
        raise _refusal(error) from None


def _unique(what: str, values: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise PydanticCustomError(
                "duplicate", "{what} {value} is listed twice", {"what": what, "value": value}
            )
        seen.add(value)
    return values


def _unique_owners(values: tuple[str, ...]) -> tuple[str, ...]:
    return _unique("owner", values)


def _not_empty(values: tuple[_T, ...]) -> tuple[_T, ...]:
    # Checked after the items rather than as min_length, so that a list whose only item is
    # wrong is reported at that item alone, not also as empty.
    if not values:
        raise PydanticCustomError("too_short", "A condition takes at least one value")
    return values


_NON_EMPTY = Field(json_schema_extra={"minItems": 1})


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "A condition value must not be blank")
    return value


# -- field types ----------------------------------------------------------------------------------

Network: TypeAlias = Literal["twitter", "facebook"]
"""A network CRM automation covers."""

TriggerName: TypeAlias = Literal[
    "mention", "message", "reply", "retweet", "post", "comment", "like"
]
"""A trigger of either network."""

Keyword = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_KEYWORD_LENGTH),
    AfterValidator(_not_blank),
]
"""A keyword: 1 to 1,000 characters, not only whitespace."""

Value = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_LABEL_LENGTH),
    AfterValidator(_not_blank),
]
"""A brand id, channel account or handle: 1 to 1,000 characters, not only whitespace."""

Count = Annotated[int, Field(ge=0, le=MAX_INT64)]
"""A follower count: a JSON integer from 0 to 2**63 - 1."""


NetworkValues: TypeAlias = Annotated[
    tuple[Network, ...],
    FromList,
    Field(max_length=MAX_CONDITION_VALUES),
    _NON_EMPTY,
    AfterValidator(_not_empty),
]
"""One to 10,000 networks."""

TriggerValues: TypeAlias = Annotated[
    tuple[TriggerName, ...],
    FromList,
    Field(max_length=MAX_CONDITION_VALUES),
    _NON_EMPTY,
    AfterValidator(_not_empty),
]
"""One to 10,000 trigger names."""

Keywords: TypeAlias = Annotated[
    tuple[Keyword, ...],
    FromList,
    Field(max_length=MAX_CONDITION_VALUES),
    _NON_EMPTY,
    AfterValidator(_not_empty),
]
"""One to 10,000 keywords."""

Values: TypeAlias = Annotated[
    tuple[Value, ...],
    FromList,
    Field(max_length=MAX_CONDITION_VALUES),
    _NON_EMPTY,
    AfterValidator(_not_empty),
]
"""One to 10,000 brand ids, channel accounts or handles."""


# -- conditions -----------------------------------------------------------------------------------


class NetworkConditionPayload(WireModel):
    """The interaction's network is (``in``) or is not (``not_in``) one of these."""

    field: Literal["network"]
    """``network``."""
    op: Literal["in", "not_in"]
    """``in`` or ``not_in``."""
    value: NetworkValues
    """``twitter`` and/or ``facebook``."""

    def to_domain(self) -> CrmCondition:
        """The domain condition."""
        return CrmCondition(field=self.field, op=self.op, value=self.value)


class TriggerConditionPayload(WireModel):
    """What the person did is (``in``) or is not (``not_in``) one of these; only triggers
    the rule reacts to."""

    field: Literal["trigger"]
    """``trigger``."""
    op: Literal["in", "not_in"]
    """``in`` or ``not_in``."""
    value: TriggerValues
    """Trigger names."""

    def to_domain(self) -> CrmCondition:
        """The domain condition."""
        return CrmCondition(field=self.field, op=self.op, value=self.value)


class TextConditionPayload(WireModel):
    """The interaction's text contains at least one (``contains_any``) or none
    (``contains_none``) of these keywords."""

    field: Literal["text"]
    """``text``."""
    op: Literal["contains_any", "contains_none"]
    """``contains_any`` or ``contains_none``."""
    value: Keywords
    """The keywords, each 1 to 1,000 characters and not blank."""

    def to_domain(self) -> CrmCondition:
        """The domain condition."""
        return CrmCondition(field=self.field, op=self.op, value=self.value)


class FollowerCountConditionPayload(WireModel):
    """The profile's follower count is at least (``at_least``) or at most (``at_most``) this
    number; an unknown count never matches."""

    field: Literal["follower_count"]
    """``follower_count``."""
    op: Literal["at_least", "at_most"]
    """``at_least`` or ``at_most``."""
    value: Count
    """A whole number from 0."""

    def to_domain(self) -> CrmCondition:
        """The domain condition."""
        return CrmCondition(field=self.field, op=self.op, value=self.value)


class BrandConditionPayload(WireModel):
    """The brand the interaction came through is (``in``) or is not (``not_in``) one of
    these ids."""

    field: Literal["brand"]
    """``brand``."""
    op: Literal["in", "not_in"]
    """``in`` or ``not_in``."""
    value: Values
    """Brand ids."""

    def to_domain(self) -> CrmCondition:
        """The domain condition."""
        return CrmCondition(field=self.field, op=self.op, value=self.value)


class ChannelAccountConditionPayload(WireModel):
    """The brand's channel account the interaction came through is (``in``) or is not
    (``not_in``) one of these."""

    field: Literal["channel_account"]
    """``channel_account``."""
    op: Literal["in", "not_in"]
    """``in`` or ``not_in``."""
    value: Values
    """Channel accounts."""

    def to_domain(self) -> CrmCondition:
        """The domain condition."""
        return CrmCondition(field=self.field, op=self.op, value=self.value)


class HandleConditionPayload(WireModel):
    """The person's handle is (``in``) or is not (``not_in``) one of these, compared without
    ``@`` and case."""

    field: Literal["handle"]
    """``handle``."""
    op: Literal["in", "not_in"]
    """``in`` or ``not_in``."""
    value: Values
    """Handles (``@yamada`` and ``yamada`` are one handle)."""

    def to_domain(self) -> CrmCondition:
        """The domain condition."""
        return CrmCondition(field=self.field, op=self.op, value=self.value)


CrmConditionPayload: TypeAlias = Annotated[
    NetworkConditionPayload
    | TriggerConditionPayload
    | TextConditionPayload
    | FollowerCountConditionPayload
    | BrandConditionPayload
    | ChannelAccountConditionPayload
    | HandleConditionPayload,
    Field(discriminator="field"),
]
"""One condition of a branch, told apart by its ``field``."""


def _condition_data(condition: CrmCondition) -> dict[str, Any]:
    value = condition.value
    return {
        "field": condition.field.value,
        "op": condition.op.value,
        "value": value if isinstance(value, int) else [str(v) for v in value],
    }


# -- actions --------------------------------------------------------------------------------------


class OwnerRulePayload(WireModel):
    """Who owns a record a branch adds (R2): exactly one of ``user_id`` and
    ``spread_among``."""

    user_id: Identifier | None = None
    """The one owner."""
    spread_among: Annotated[
        tuple[Identifier, ...],
        FromList,
        Field(max_length=MAX_OWNERS),
        AfterValidator(_unique_owners),
    ] = ()
    """Owners to spread the new records among; the same person always gets the same owner."""

    @model_validator(mode="after")
    def _valid_owner(self) -> OwnerRulePayload:
        if self.user_id is None and not self.spread_among:
            raise PydanticCustomError(
                "owner_rule",
                "An owner rule needs an owner: give user_id (one owner) or spread_among "
                "(owners to spread the records among)",
            )
        if self.user_id is not None and self.spread_among:
            raise PydanticCustomError(
                "owner_rule", "An owner rule gives user_id or spread_among, not both"
            )
        _domain(self.to_domain)
        return self

    def to_domain(self) -> OwnerRule:
        """The domain owner rule."""
        return OwnerRule(user_id=self.user_id, spread_among=self.spread_among)


class CrmActionPayload(WireModel):
    """What a branch does (R2): add the person as a lead or contact with an owner, or, with
    ``add_as`` ``null``, add nobody."""

    add_as: Annotated[CrmRecordKind, Strict(False)] | None
    """``lead``, ``contact``, or ``null`` to add nobody. Required."""
    owner: OwnerRulePayload | None = None
    """Who owns the new record: required when adding, refused when adding nobody."""

    @model_validator(mode="after")
    def _valid_action(self) -> CrmActionPayload:
        _domain(self.to_domain)
        return self

    def to_domain(self) -> CrmAction:
        """The domain action."""
        owner = None if self.owner is None else self.owner.to_domain()
        return CrmAction(add_as=self.add_as, owner=owner)


def _action_data(action: CrmAction) -> dict[str, Any]:
    owner = action.owner
    return {
        "add_as": None if action.add_as is None else action.add_as.value,
        "owner": None
        if owner is None
        else {"user_id": owner.user_id, "spread_among": list(owner.spread_among)},
    }


# -- branches and rules ---------------------------------------------------------------------------


class CrmBranchPayload(WireModel):
    """A branch of a rule (R2): when every condition holds (none: always), the action
    applies."""

    name: Label = ""
    """What the branch is for, shown in explanations (``"big accounts"``)."""
    conditions: Annotated[
        tuple[CrmConditionPayload, ...], FromList, Field(max_length=MAX_CONDITIONS)
    ] = ()
    """The conditions, all of which must hold."""
    action: CrmActionPayload
    """What to do."""

    @model_validator(mode="after")
    def _valid_branch(self) -> CrmBranchPayload:
        _domain(self.to_domain)
        return self

    def to_domain(self) -> CrmBranch:
        """The domain branch."""
        return CrmBranch(
            name=self.name,
            conditions=tuple(c.to_domain() for c in self.conditions),
            action=self.action.to_domain(),
        )


def _branch_data(branch: CrmBranch) -> dict[str, Any]:
    return {
        "name": branch.name,
        "conditions": [_condition_data(c) for c in branch.conditions],
        "action": _action_data(branch.action),
    }


def _own_triggers(network: str) -> list[str]:
    """The network's triggers, in the order of :class:`CrmTrigger`."""
    return [t.value for t in CrmTrigger if t in CRM_TRIGGERS[network]]


_TRIGGER_SCHEMA = {"type": "string", "enum": list(_TRIGGER_NAMES)}

# The network's own triggers, for tools that read the schema (the parser also says why).
_TRIGGERS_BY_NETWORK_SCHEMA: dict[str, Any] = {
    "allOf": [
        {
            "if": {"properties": {"network": {"const": network}}, "required": ["network"]},
            "then": {"properties": {"triggers": {"items": {"enum": _own_triggers(network)}}}},
        }
        for network in _NETWORKS
    ]
}


class CrmRulePayload(WireModel):
    """An automation rule (R1, R2): interactions of these triggers on this network go through
    the branches in order; the first branch whose conditions hold applies."""

    model_config = ConfigDict(json_schema_extra=_TRIGGERS_BY_NETWORK_SCHEMA)

    id: Identifier
    """The rule's id, reported with its decisions; unique in the document."""
    name: Label = ""
    """What the rule is for."""
    network: Network
    """``twitter`` or ``facebook``."""
    triggers: Annotated[
        tuple[
            Annotated[
                str,
                StringConstraints(max_length=_MAX_TRIGGER_NAME),
                WithJsonSchema(_TRIGGER_SCHEMA),
            ],
            ...,
        ],
        FromList,
        Field(max_length=len(CrmTrigger)),
        _NON_EMPTY,
    ]
    """What the rule reacts to, each once: Twitter offers ``mention``, ``message``, ``reply``
    and ``retweet``; Facebook ``post``, ``comment``, ``like`` and ``message``."""
    enabled: bool = True
    """A disabled rule is kept but applies to nothing."""
    branches: Annotated[
        tuple[CrmBranchPayload, ...], FromList, Field(max_length=MAX_BRANCHES), _NON_EMPTY
    ]
    """The branches, in order."""

    @field_validator("triggers")
    @classmethod
    def _known_triggers(cls, triggers: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        rule_id = info.data.get("id")
        network = info.data.get("network")
        where = "" if rule_id is None else f"rule {rule_id}: "
        if not triggers:
            raise PydanticCustomError(
                "too_short", "{where}give at least one trigger (R1)", {"where": where}
            )
        for trigger in triggers:
            if network is None:
                if trigger not in _TRIGGER_NAMES:
                    raise PydanticCustomError(
                        "crm_trigger",
                        "{where}{trigger} is not a trigger; triggers are {known} (R1)",
                        {"where": where, "trigger": trigger, "known": ", ".join(_TRIGGER_NAMES)},
                    )
            elif trigger not in CRM_TRIGGERS[network]:
                raise PydanticCustomError(
                    "crm_trigger",
                    "{where}{trigger} is not a {source} trigger; {network} offers {offered} (R1)",
                    {
                        "where": where,
                        "trigger": trigger,
                        "source": LEAD_SOURCES[network],
                        "network": network,
                        "offered": ", ".join(_own_triggers(network)),
                    },
                )
        return _unique("trigger", triggers)

    @model_validator(mode="after")
    def _valid_rule(self) -> CrmRulePayload:
        _domain(self.to_domain)
        return self

    def to_domain(self) -> CrmRule:
        """The domain rule."""
        return CrmRule(
            id=self.id,
            network=self.network,
            triggers=frozenset(CrmTrigger(t) for t in self.triggers),
            branches=tuple(b.to_domain() for b in self.branches),
            enabled=self.enabled,
            name=self.name,
        )


def _rule_data(rule: CrmRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "network": rule.network,
        "triggers": [t.value for t in CrmTrigger if t in rule.triggers],
        "enabled": rule.enabled,
        "branches": [_branch_data(b) for b in rule.branches],
    }


def _unique_rule_ids(rules: tuple[CrmRulePayload, ...]) -> tuple[CrmRulePayload, ...]:
    _unique("rule id", tuple(rule.id for rule in rules))
    return rules


# -- the document ---------------------------------------------------------------------------------


class CrmSettingsDocument(WireModel):
    """A desk's CRM automation settings (R1, R2, R9), as a host stores them or a social admin
    edits them."""

    schema_version: Literal[1] = 1
    """The version of this document format."""
    enabled: bool = False
    """The integration is on; while off, interactions add and link nobody."""
    rules: Annotated[
        tuple[CrmRulePayload, ...],
        FromList,
        Field(max_length=MAX_RULES),
        AfterValidator(_unique_rule_ids),
    ] = ()
    """The automation rules, in order: the first rule that watches an interaction and has a
    branch whose conditions hold decides."""

    @model_validator(mode="after")
    def _valid_settings(self) -> CrmSettingsDocument:
        _domain(self.to_settings)
        return self

    def to_settings(self) -> CrmSettings:
        """The domain settings."""
        return CrmSettings(enabled=self.enabled, rules=tuple(r.to_domain() for r in self.rules))

    @classmethod
    def from_domain(cls, settings: CrmSettings) -> CrmSettingsDocument:
        """The document of ``settings``, ready to store (``model_dump_json``);
        ``to_settings`` gives them back unchanged.

        Raises:
            pydantic.ValidationError: The settings exceed a limit of the document
                (:data:`MAX_RULES`).
        """
        return cls.model_validate(
            {"enabled": settings.enabled, "rules": [_rule_data(r) for r in settings.rules]}
        )


def parse_crm_settings(
    data: bytes | bytearray | str | Mapping[str, Any],
) -> CrmSettingsDocument:
    """Parse the CRM automation settings document at the edge (P6); ``.to_settings()`` gives
    the domain settings.

    ``data`` is JSON text (bytes or str) or an already decoded mapping
    (``json.loads``); both validate alike.

    Raises:
        pydantic.ValidationError: The document is malformed, has unknown fields or wrong JSON
            types, names an unknown trigger, condition field or operator, has an action that
            adds someone without an owner rule, or holds settings the domain refuses (a
            condition that can never hold in its rule, repeated rule ids).
    """
    if isinstance(data, bytes | bytearray | str):
        return CrmSettingsDocument.model_validate_json(data)
    document = dict(data) if isinstance(data, Mapping) else data
    return CrmSettingsDocument.model_validate(document)
