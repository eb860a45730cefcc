"""Notifications (N1-N3): routing rules as data, safe templates, values for the host."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore.errors import InvalidModelError, TemplateError, UnknownValueError
from deskcore.models.notifications import Audience, RoutingRule, Template
from deskcore.policies.notifications import (
    Notification,
    RenderedTemplate,
    RoutingReason,
    compile_routing_matcher,
    render_template,
    route_notifications,
)

AGENTS = ("agent-1", "agent-2", "returns-lead")
RULES = (
    RoutingRule(id="everyone", audience="all_agents", event_kinds=["ticket_created"]),
    RoutingRule(id="lead", audience=Audience.NAMED, agent_ids=["agent-2", "agent-2"]),
    RoutingRule(
        id="returns",
        audience="phrase",
        agent_ids=["returns-lead", "returns-team"],
        phrases=["返品", "ﾍﾝﾋﾟﾝ", "refund"],
    ),
    RoutingRule(id="outage", audience="phrase", agent_ids=["ops"], phrases=["down"], prefix=True),
)
MATCHER = compile_routing_matcher(RULES)


def route(text: str, event_kind: str = "ticket_created") -> tuple[Notification, ...]:
    return route_notifications(event_kind, text, RULES, matcher=MATCHER, agents=AGENTS)


def recipients(notifications: tuple[Notification, ...]) -> list[str]:
    return [n.recipient_id for n in notifications]


# -- N1: routing ---------------------------------------------------------------------------------


def test_N1_all_agents_and_named_agents_once_each() -> None:
    """N1: all agents, then named agents; a person named twice is notified once."""
    notifications = route("hello")
    assert recipients(notifications) == ["agent-1", "agent-2", "returns-lead"]
    by_id = {n.recipient_id: n for n in notifications}
    assert [r.rule_id for r in by_id["agent-2"].reasons] == ["everyone", "lead"]
    assert [r.rule_id for r in by_id["agent-1"].reasons] == ["everyone"]
    assert all(n.event_kind == "ticket_created" for n in notifications)


def test_N1_W1_返品_also_notifies_the_returns_team_with_the_phrase_and_its_position() -> None:
    """N1/W5: a Japanese phrase anywhere in the text notifies the extra people, and the
    reason names the rule, the phrase and where it is."""
    text = "商品を返品したいです"
    notifications = route(text)
    assert recipients(notifications) == ["agent-1", "agent-2", "returns-lead", "returns-team"]
    team = notifications[-1]
    assert team.reasons == (
        RoutingReason(rule_id="returns", audience=Audience.PHRASE, matches=team.reasons[0].matches),
    )
    (match,) = team.reasons[0].matches
    assert (match.keyword, match.start, match.end) == ("返品", 3, 5)
    assert text[match.start : match.end] == "返品"
    lead = next(n for n in notifications if n.recipient_id == "returns-lead")
    assert [r.rule_id for r in lead.reasons] == ["everyone", "returns"]


def test_N1_W1_full_width_and_half_width_phrases_match() -> None:
    """N1/W1: ``ﾍﾝﾋﾟﾝ`` matches ``ヘンピン`` and ``ＲＥＦＵＮＤ`` matches ``refund``."""
    katakana = route("ヘンピンお願いします", event_kind="social_item")
    assert recipients(katakana) == ["agent-2", "returns-lead", "returns-team"]
    (match,) = katakana[-1].reasons[0].matches
    assert (match.keyword, match.start, match.end) == ("ﾍﾝﾋﾟﾝ", 0, 4)
    wide = route("I want a ＲＥＦＵＮＤ now", event_kind="social_item")
    (match,) = wide[-1].reasons[0].matches
    assert (match.keyword, match.start, match.end) == ("refund", 9, 15)


def test_N1_W2_english_phrases_match_whole_words_unless_prefix() -> None:
    """N1/W2: ``refund`` does not fire on ``refunds``; the prefix rule ``down`` fires on
    ``downtime``."""
    assert "returns-team" not in recipients(route("two refunds please"))
    assert "ops" in recipients(route("Downtime since noon"))


def test_N1_rules_apply_to_their_event_kinds() -> None:
    """N1: a rule limited to some events stays silent on others; no rule, no notification."""
    assert "agent-1" not in recipients(route("hello", event_kind="social_item"))
    assert (
        route_notifications("x", "返品", (), matcher=compile_routing_matcher(()), agents=AGENTS)
        == ()
    )


def test_N1_W3_long_texts_and_emoji_are_searched_whole() -> None:
    """N1/W3: a phrase at the end of a long post with emoji still fires."""
    text = "😀" * 50_000 + " refund"
    (match,) = route(text)[-1].reasons[0].matches
    assert text[match.start : match.end] == "refund"


def test_N1_rules_are_validated_as_data() -> None:
    """N1: each audience has what it needs, and nothing it cannot use."""
    with pytest.raises(InvalidModelError, match="names no agents"):
        RoutingRule(id="r", audience="all_agents", agent_ids=["a"])
    with pytest.raises(InvalidModelError, match="at least one agent"):
        RoutingRule(id="r", audience="named")
    with pytest.raises(InvalidModelError, match="at least one phrase"):
        RoutingRule(id="r", audience="phrase", agent_ids=["a"])
    with pytest.raises(InvalidModelError, match="only phrase rules"):
        RoutingRule(id="r", audience="named", agent_ids=["a"], phrases=["x"])
    with pytest.raises(InvalidModelError, match="blank"):
        RoutingRule(id="r", audience="phrase", agent_ids=["a"], phrases=["\u3000"])
    with pytest.raises(InvalidModelError):
        RoutingRule(id="r", audience="phrase", agent_ids=["a"], phrases=["\ud800"])
    with pytest.raises(InvalidModelError):
        RoutingRule(id="r", audience="named", agent_ids="agent-1")
    with pytest.raises(UnknownValueError):
        RoutingRule(id="r", audience="everybody")


def test_N1_a_matcher_from_other_rules_or_duplicate_ids_are_refused() -> None:
    """N1: the matcher must come from the same rules; rule ids are unique."""
    with pytest.raises(InvalidModelError, match="other rules"):
        route_notifications("e", "返品", RULES, matcher=compile_routing_matcher(()), agents=())
    with pytest.raises(InvalidModelError, match="twice"):
        compile_routing_matcher([RULES[0], RULES[0]])
    with pytest.raises(InvalidModelError):
        route_notifications("e", b"x", RULES, matcher=MATCHER, agents=())  # type: ignore[arg-type]


def test_N1_N3_notifications_are_values_carrying_the_rendered_content() -> None:
    """N1/N3: routing returns plain values (with the rendered template); nothing is sent."""
    content = render_template(
        Template(id="new", subject="New ticket #$number", body="From ${name}"),
        {"number": 42, "name": "佐藤"},
    )
    notifications = route_notifications(
        "ticket_created", "hi", RULES, matcher=MATCHER, agents=AGENTS, content=content
    )
    assert {n.content for n in notifications} == {
        RenderedTemplate(template_id="new", subject="New ticket #42", body="From 佐藤")
    }


# -- N2: templates -------------------------------------------------------------------------------


def test_N2_placeholders_are_filled_with_str_of_the_values() -> None:
    """N2: ``$name`` and ``${name}`` take ``str()`` of the value; ``$$`` is a dollar."""
    template = Template(id="t", subject="$who: ${count}x", body="costs $$5 — $who")
    assert template.placeholders == ("count", "who")
    rendered = render_template(template, {"who": "Ana", "count": 3, "unused": object()})
    assert (rendered.subject, rendered.body) == ("Ana: 3x", "costs $5 — Ana")


def test_N2_a_missing_placeholder_is_a_typed_error_naming_every_one() -> None:
    """N2: missing values raise TemplateError naming each missing placeholder."""
    template = Template(id="t", subject="$a", body="${b} $c")
    with pytest.raises(TemplateError) as caught:
        render_template(template, {"a": 1})
    assert caught.value.missing == ("b", "c")
    assert caught.value.template_id == "t"
    assert "${b}" in str(caught.value)
    assert caught.value.code == "template_error"
    assert isinstance(caught.value, LookupError)


def test_N2_hostile_templates_evaluate_nothing() -> None:
    """N2: ``${__class__}`` is only a name to look up; ``{0.__class__}`` and ``%s`` are text."""
    template = Template(id="t", body="${__class__} {0.__class__} {x!r:>10} %(x)s %s $$x")
    with pytest.raises(TemplateError) as caught:
        render_template(template, {"x": 1})
    assert caught.value.missing == ("__class__",)
    rendered = render_template(template, {"__class__": "plain"})
    assert rendered.body == "plain {0.__class__} {x!r:>10} %(x)s %s $x"


@pytest.mark.parametrize(
    "body",
    ["$", "cost: $5", "${a.b}", "${a[0]}", "${}", "$ {a}", "${a", "${a!r}", "${a:>5}"],
)
def test_N2_invalid_placeholders_are_refused_at_construction(body: str) -> None:
    """N2: anything after ``$`` that is not a plain name is refused when the template is
    made, so a template that was accepted always renders."""
    with pytest.raises(InvalidModelError, match=r"\$"):
        Template(id="t", body=body)


def test_N2_lone_surrogates_and_bad_types_are_refused() -> None:
    """N2: a template must be valid Unicode text; values must be a mapping."""
    with pytest.raises(InvalidModelError, match="surrogate"):
        Template(id="t", body="\udc80 $x")
    with pytest.raises(InvalidModelError):
        Template(id="t", subject=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError):
        render_template(Template(id="t"), [("x", 1)])  # type: ignore[arg-type]


class _Trap:
    """A value that records ``str()`` and fails on every other way of reading it."""

    def __init__(self) -> None:
        self.calls = 0

    def __str__(self) -> str:
        self.calls += 1
        return "<trap>"

    def __format__(self, spec: str) -> str:
        raise AssertionError("format() was called")

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"attribute {name} was read")

    def __getitem__(self, key: object) -> object:
        raise AssertionError("indexing was used")


_NAMES = st.sampled_from(["a", "b", "_x", "name_2", "__class__", "__globals__"])
_PIECES = st.one_of(
    st.text(max_size=8),
    _NAMES.map(lambda n: "$" + n + " "),
    _NAMES.map(lambda n: "${" + n + "}"),
    st.just("$$"),
    st.sampled_from(["{0.__class__}", "{a}", "%s", "%(a)s", "{{", "}}", "\\", "😀", "ﾍﾝﾋﾟﾝ"]),
)


@given(st.lists(_PIECES, max_size=8).map("".join))
def test_N2_rendering_any_text_with_known_placeholders_never_raises_or_evaluates(
    body: str,
) -> None:
    """N2: for any valid template, rendering with every placeholder given never raises,
    reads each value only through ``str()``, and agrees with ``string.Template``."""
    try:
        template = Template(id="t", subject=body, body=body)
    except InvalidModelError:
        assert not string.Template(body).is_valid()
        return
    traps = {name: _Trap() for name in template.placeholders}
    rendered = render_template(template, traps)
    assert all(trap.calls == 1 for trap in traps.values())  # once for subject and body
    expected = string.Template(body).substitute(dict.fromkeys(traps, "<trap>"))
    assert rendered.body == rendered.subject == expected
