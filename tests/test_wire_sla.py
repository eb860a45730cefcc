"""The service-level settings document (P6; SL1, SL2, SL6).

Durations are whole minutes, wall times ``"HH:MM"`` (``"24:00"`` for midnight at an end),
weekdays lowercase names, dates ``YYYY-MM-DD``. Every malformed, hostile or refused document
ends as a :class:`pydantic.ValidationError` that says what is wrong and where.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st
from pydantic import ValidationError

from deskcore.errors import InvalidModelError
from deskcore.models import Channel, Priority, Ticket
from deskcore.models.calendar import BusinessCalendar
from deskcore.models.sla import SlaConditions, SlaPolicy, SlaSettings, SlaTarget
from deskcore.policies.calendar import add
from deskcore.policies.sla import select_policy
from deskcore.testing.strategies import ZONE_NAMES, codes, ids, texts
from deskcore.wire import SlaSettingsDocument, json_schemas, parse_sla_settings
from deskcore.wire.sla import (
    MAX_CALENDARS,
    MAX_DATES,
    MAX_INTERVALS_PER_DAY,
    MAX_POLICIES,
    MAX_TARGET_MINUTES,
)
from wire_support import as_json, assert_refused_at, assert_refused_by_length, hostile_ids, parsers


def settings_of(data: Any) -> SlaSettings:
    """The domain settings of a document (P6): parse, then convert."""
    return parse_sla_settings(data).to_settings()


JST = timezone(timedelta(hours=9))
WORKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")

DOCUMENT: dict[str, Any] = {
    "schema_version": 1,
    "calendars": [
        {
            "id": "tokyo-office",
            "timezone": "Asia/Tokyo",
            "weekly": {day: [["09:00", "12:00"], ["13:00", "18:00"]] for day in WORKDAYS},
            "holidays": ["2026-11-03", "2026-11-23"],  # 文化の日, 勤労感謝の日
            "exceptions": {
                "2026-12-28": [["09:00", "12:00"]],  # 仕事納め: mornings only
                "2026-12-29": [],  # closed although a Tuesday
            },
        },
        {
            "id": "support-ny",
            "timezone": "America/New_York",
            # Night shifts start on the day they belong to and run into the next morning.
            "weekly": {
                **{day: [["22:00", "06:00"]] for day in WORKDAYS},
                "saturday": [["18:00", "24:00"]],
            },
            "holidays": ["2026-11-26"],  # Thanksgiving: no night shift starts
        },
    ],
    "default_calendar_id": "tokyo-office",
    "policies": [
        {
            "id": "urgent",
            "name": "緊急 (urgent)",
            "conditions": {"priorities": ["high"], "channels": ["email", "chat", "phone"]},
            "first_response": {"within_minutes": 60, "warn_before_minutes": 15},
            "resolution": {"within_minutes": 480, "warn_fraction": 0.25},
            "managers": ["mgr-sato", "mgr-suzuki"],
        },
        {
            "id": "us-nights",
            "name": "US night support",
            "conditions": {"department_ids": ["support-us"], "channels": ["phone"]},
            "first_response": {"within_minutes": 30},
            "next_response": {"within_minutes": 120, "warn_before_minutes": 30},
            "calendar_id": "support-ny",
        },
        {
            "id": "standard",
            "name": "Standard",
            "first_response": {"within_minutes": 300},
            "resolution": {"within_minutes": 2400},
        },
    ],
}


PARSERS = parsers(settings_of)


@pytest.fixture(params=sorted(PARSERS))
def parse(request: pytest.FixtureRequest) -> Callable[[dict[str, Any]], SlaSettings]:
    return PARSERS[request.param]


def ticket(**changes: Any) -> Ticket:
    fields: dict[str, Any] = {
        "id": "t-1",
        "number": 1,
        "department_id": "support-jp",
        "channel": Channel.EMAIL,
        "contact_id": "c-1",
        "created_at": datetime(2026, 11, 2, 17, tzinfo=JST),
    }
    return Ticket(**(fields | changes))


# -- a realistic document ------------------------------------------------------------------------


def test_SL1_SL2_P6_a_realistic_document_becomes_settings(
    parse: Callable[[dict[str, Any]], SlaSettings],
) -> None:
    settings = parse(DOCUMENT)

    tokyo = settings.calendar()
    assert tokyo.id == "tokyo-office"
    assert tokyo.timezone == "Asia/Tokyo"
    assert tokyo.weekly[0] == ((540, 720), (780, 1080))  # lunch break 12:00-13:00
    assert tokyo.weekly[5] == tokyo.weekly[6] == ()
    assert tokyo.holidays == {date(2026, 11, 3), date(2026, 11, 23)}
    assert tokyo.intervals_on(date(2026, 11, 3)) == ()
    assert tokyo.intervals_on(date(2026, 12, 28)) == ((540, 720),)
    assert tokyo.intervals_on(date(2026, 12, 29)) == ()

    ny = settings.calendar("support-ny")
    assert ny.weekly[4] == ((1320, 360),)  # an overnight shift, kept as it was written
    assert ny.weekly[5] == ((1080, 1440),)  # "24:00" is a true midnight
    assert ny.intervals_on(date(2026, 11, 26)) == ()

    urgent, nights, standard = settings.policies
    assert urgent.name == "緊急 (urgent)"
    assert urgent.conditions == SlaConditions(
        priorities=frozenset({Priority.HIGH}),
        channels=frozenset({Channel.EMAIL, Channel.CHAT, Channel.PHONE}),
    )
    assert urgent.first_response == SlaTarget(
        within=timedelta(hours=1), warn_before=timedelta(minutes=15)
    )
    assert urgent.resolution == SlaTarget(within=timedelta(hours=8), warn_fraction=0.25)
    assert urgent.next_response is None
    assert urgent.managers == ("mgr-sato", "mgr-suzuki")
    assert urgent.calendar_id is None
    assert settings.calendar_of(nights) is ny
    assert nights.conditions.department_ids == {"support-us"}
    assert standard.conditions == SlaConditions()
    assert standard.first_response == SlaTarget(within=timedelta(hours=5))


def test_SL1_SL2_the_parsed_settings_drive_policy_choice_and_business_time() -> None:
    settings = settings_of(as_json(DOCUMENT))
    night_call = ticket(department_id="support-us", channel=Channel.PHONE)
    assert select_policy(settings.policies, night_call) == settings.policies[1]
    assert select_policy(settings.policies, ticket(priority=Priority.HIGH)) == settings.policies[0]
    mail = ticket()
    policy = select_policy(settings.policies, mail)
    assert policy is not None
    assert policy.id == "standard"
    assert policy.first_response is not None

    # Monday 2026-11-02 17:00 JST + 5 business hours: 17-18 on Monday, Tuesday is a holiday
    # (文化の日), then 09-12 and 13-14 on Wednesday.
    due = add(settings.calendar_of(policy), mail.created_at, policy.first_response.within)
    assert due == datetime(2026, 11, 4, 14, tzinfo=JST)


def test_P6_a_decoded_mapping_may_hold_python_dates_and_tuples() -> None:
    data = copy.deepcopy(DOCUMENT)
    data["calendars"][0]["holidays"] = (date(2026, 11, 3), date(2026, 11, 23))
    data["calendars"][0]["exceptions"] = {date(2026, 12, 28): (("09:00", "12:00"),)}
    settings = settings_of(data)
    assert settings.calendar().exceptions == {date(2026, 12, 28): ((540, 720),)}


def test_SL2_a_weekday_left_out_is_closed_and_an_end_at_midnight_may_read_00_00() -> None:
    data = {
        "calendars": [
            {"id": "late", "timezone": "UTC", "weekly": {"sunday": [["20:00", "00:00"]]}}
        ],
        "default_calendar_id": "late",
    }
    calendar = settings_of(data).calendar()
    assert calendar.weekly == {0: (), 1: (), 2: (), 3: (), 4: (), 5: (), 6: ((1200, 1440),)}
    document = SlaSettingsDocument.from_domain(settings_of(data))
    assert document.calendars[0].weekly.sunday == (("20:00", "24:00"),)


def test_SL1_a_document_without_policies_is_valid() -> None:
    data = {"calendars": DOCUMENT["calendars"], "default_calendar_id": "support-ny"}
    settings = settings_of(data)
    assert settings.policies == ()
    assert settings.calendar().id == "support-ny"


# -- round trip ----------------------------------------------------------------------------------


def test_P6_the_realistic_settings_round_trip_through_the_document() -> None:
    settings = settings_of(DOCUMENT)
    document = SlaSettingsDocument.from_domain(settings)
    assert document.to_settings() == settings
    stored = document.model_dump_json()
    assert settings_of(stored) == settings
    assert SlaSettingsDocument.model_validate_json(stored) == document
    dumped = json.loads(stored)
    assert dumped["calendars"][1]["weekly"]["saturday"] == [["18:00", "24:00"]]
    assert dumped["policies"][0]["first_response"] == {
        "within_minutes": 60,
        "warn_before_minutes": 15,
        "warn_fraction": None,
    }


_POINTS = st.lists(st.integers(360, 1320), unique=True, max_size=6).map(sorted)
_LATE = st.integers(1320, 1439)


@st.composite
def days(draw: st.DrawFn) -> list[tuple[int, int]]:
    """A day's intervals, apart by construction: same-day ones between 06:00 and 22:00, then
    perhaps a late shift to 24:00 or an overnight one ending by 06:00 the next morning."""
    points = draw(_POINTS)
    intervals = [(points[i], points[i + 1]) for i in range(0, len(points) - 1, 2)]
    late = draw(st.sampled_from(["none", "midnight", "overnight"]))
    if late == "midnight":
        intervals.append((draw(_LATE), 1440))
    elif late == "overnight":
        intervals.append((draw(_LATE), draw(st.integers(1, 360))))
    return intervals


@st.composite
def calendars(draw: st.DrawFn, calendar_id: str) -> BusinessCalendar:
    day_dates = st.dates(date(1990, 1, 1), date(2100, 12, 31))
    try:
        return BusinessCalendar(
            id=calendar_id,
            timezone=draw(st.sampled_from(ZONE_NAMES)),
            weekly={d: draw(days()) for d in range(7)},
            holidays=draw(st.frozensets(day_dates, max_size=4)),
            exceptions=draw(st.dictionaries(day_dates, days(), max_size=3)),
        )
    except InvalidModelError:  # no business time at all
        reject()


@st.composite
def targets(draw: st.DrawFn) -> SlaTarget:
    within = draw(st.integers(1, MAX_TARGET_MINUTES))
    warning = draw(st.sampled_from(["none", "before", "fraction"]))
    if warning == "before" and within > 1:
        before = timedelta(minutes=draw(st.integers(1, within - 1)))
        return SlaTarget(within=timedelta(minutes=within), warn_before=before)
    if warning == "fraction":
        fraction = draw(st.floats(0, 1, exclude_min=True, exclude_max=True))
        return SlaTarget(within=timedelta(minutes=within), warn_fraction=fraction)
    return SlaTarget(within=timedelta(minutes=within))


@st.composite
def policies(draw: st.DrawFn, policy_id: str, calendar_ids: list[str]) -> SlaPolicy:
    first, following, resolution = draw(
        st.tuples(*[st.none() | targets()] * 3).filter(lambda t: any(x is not None for x in t))
    )
    return SlaPolicy(
        id=policy_id,
        name=draw(texts(max_size=30)),
        conditions=SlaConditions(
            priorities=draw(st.frozensets(st.sampled_from(Priority))),
            channels=draw(st.frozensets(codes().map(Channel), max_size=3)),
            department_ids=draw(st.frozensets(ids(), max_size=3)),
        ),
        first_response=first,
        next_response=following,
        resolution=resolution,
        calendar_id=draw(st.none() | st.sampled_from(calendar_ids)),
        managers=draw(st.lists(ids(), unique=True, max_size=3)),
    )


@st.composite
def sla_settings(draw: st.DrawFn) -> SlaSettings:
    calendar_ids = draw(st.lists(ids(), min_size=1, max_size=3, unique=True))
    policy_ids = draw(st.lists(ids(), max_size=4, unique=True))
    fields: dict[str, Any] = {  # mypy's attrs plugin mistypes converter=tuple fields
        "calendars": [draw(calendars(i)) for i in calendar_ids],
        "default_calendar_id": draw(st.sampled_from(calendar_ids)),
        "policies": [draw(policies(i, calendar_ids)) for i in policy_ids],
    }
    return SlaSettings(**fields)


@given(sla_settings())
def test_P6_SL1_SL2_any_settings_round_trip_exactly(settings: SlaSettings) -> None:
    document = SlaSettingsDocument.from_domain(settings)
    assert document.to_settings() == settings
    assert settings_of(document.model_dump_json()) == settings
    assert settings_of(json.loads(document.model_dump_json())) == settings
    assert SlaSettingsDocument.from_domain(document.to_settings()) == document


@pytest.mark.parametrize(
    "target",
    [
        SlaTarget(within=timedelta(minutes=90, seconds=30)),
        SlaTarget(within=timedelta(hours=2), warn_before=timedelta(seconds=90)),
    ],
)
def test_P6_a_duration_of_no_whole_minutes_cannot_be_stored(target: SlaTarget) -> None:
    settings = settings_of(DOCUMENT)
    policy = SlaPolicy(id="odd", first_response=target)
    odd = attrs.evolve(settings, policies=(policy,))  # type: ignore[arg-type]  # attrs plugin
    with pytest.raises(InvalidModelError, match="not a whole number of minutes"):
        SlaSettingsDocument.from_domain(odd)


# -- hostile input -------------------------------------------------------------------------------


def changed(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    """The realistic document with ``edit`` applied to a deep copy."""
    data = copy.deepcopy(DOCUMENT)
    edit(data)
    return data


def tokyo(**changes: Any) -> dict[str, Any]:
    return changed(lambda d: d["calendars"][0].update(changes))


def weekly(**changes: Any) -> dict[str, Any]:
    return changed(lambda d: d["calendars"][0]["weekly"].update(changes))


def urgent(**changes: Any) -> dict[str, Any]:
    return changed(lambda d: d["policies"][0].update(changes))


def first_response(**changes: Any) -> dict[str, Any]:
    return changed(lambda d: d["policies"][0]["first_response"].update(changes))


def conditions(**changes: Any) -> dict[str, Any]:
    return changed(lambda d: d["policies"][0]["conditions"].update(changes))


CAL = ("calendars", 0)
WEEK = (*CAL, "weekly")
POLICY = ("policies", 0)
FIRST = (*POLICY, "first_response")

# pydantic words a type error by the input's form: JSON text or a decoded mapping.
SEQUENCE = "valid array|valid tuple"
OBJECT = "valid dictionary|an object|SlaConditionsPayload"

# (rule, document, where the error is, what it says; "|" separates alternatives)
HOSTILE: list[tuple[str, dict[str, Any], tuple[str | int, ...], str]] = [
    # unknown fields, at every level
    ("P6", changed(lambda d: d.update(sla="on")), ("sla",), "Extra inputs are not permitted"),
    ("P6", tokyo(region="kanto"), (*CAL, "region"), "Extra inputs"),
    ("P6", urgent(priority="high"), (*POLICY, "priority"), "Extra inputs"),
    ("P6", first_response(minutes=5), (*FIRST, "minutes"), "Extra inputs"),
    ("P6", conditions(tags=["vip"]), (*POLICY, "conditions", "tags"), "Extra inputs"),
    ("P6", first_response(within="PT1H"), (*FIRST, "within"), "Extra inputs"),
    ("P6", changed(lambda d: d.update(schema_version=2)), ("schema_version",), "Input should be 1"),
    # wrong JSON types for minutes
    ("SL1", first_response(within_minutes="60"), (*FIRST, "within_minutes"), "valid integer"),
    ("SL1", first_response(within_minutes=True), (*FIRST, "within_minutes"), "valid integer"),
    ("SL1", first_response(within_minutes=60.0), (*FIRST, "within_minutes"), "valid integer"),
    ("SL1", first_response(within_minutes=60.5), (*FIRST, "within_minutes"), "valid integer"),
    ("SL1", first_response(within_minutes=None), (*FIRST, "within_minutes"), "valid integer"),
    ("SL6", first_response(warn_before_minutes=False), (*FIRST, "warn_before_minutes"), "integer"),
    ("SL6", first_response(warn_before_minutes="15"), (*FIRST, "warn_before_minutes"), "integer"),
    # zero, negative and too long durations
    (
        "SL1",
        first_response(within_minutes=0),
        (*FIRST, "within_minutes"),
        "greater than or equal to 1",
    ),
    (
        "SL1",
        first_response(within_minutes=-60),
        (*FIRST, "within_minutes"),
        "greater than or equal",
    ),
    (
        "SL1",
        first_response(within_minutes=MAX_TARGET_MINUTES + 1),
        (*FIRST, "within_minutes"),
        "less than or equal to 5270400",
    ),
    ("SL6", first_response(warn_before_minutes=0), (*FIRST, "warn_before_minutes"), "greater"),
    ("SL6", first_response(warn_before_minutes=-5), (*FIRST, "warn_before_minutes"), "greater"),
    # warnings the domain refuses
    ("SL6", first_response(warn_before_minutes=60), FIRST, "not shorter than the target"),
    ("SL6", first_response(warn_before_minutes=90), FIRST, "not shorter than the target"),
    ("SL6", first_response(warn_fraction=0.5), FIRST, "set warn_before or warn_fraction, not both"),
    (
        "SL6",
        first_response(warn_before_minutes=None, warn_fraction=1),
        (*FIRST, "warn_fraction"),
        "less than 1",
    ),
    (
        "SL6",
        first_response(warn_before_minutes=None, warn_fraction=0),
        (*FIRST, "warn_fraction"),
        "greater than 0",
    ),
    (
        "SL6",
        first_response(warn_before_minutes=None, warn_fraction="0.5"),
        (*FIRST, "warn_fraction"),
        "valid number",
    ),
    # weekdays
    (
        "SL2",
        weekly(funday=[["09:00", "17:00"]]),
        (*WEEK, "funday"),
        "Extra inputs are not permitted",
    ),
    (
        "SL2",
        weekly(Monday=[["09:00", "17:00"]]),
        (*WEEK, "Monday"),
        "Extra inputs are not permitted",
    ),
    ("SL2", weekly(mon=[["09:00", "17:00"]]), (*WEEK, "mon"), "Extra inputs are not permitted"),
    ("SL2", tokyo(weekly=[["09:00", "17:00"]]), (*WEEK,), OBJECT),
    ("SL2", weekly(monday="09:00-18:00"), (*WEEK, "monday"), SEQUENCE),
    # wall times
    (
        "SL2",
        weekly(monday=[["25:00", "26:00"]]),
        (*WEEK, "monday", 0, 0),
        "start time from 00:00 to 23:59",
    ),
    (
        "SL2",
        weekly(monday=[["09:00", "24:01"]]),
        (*WEEK, "monday", 0, 1),
        "end time from 00:00 to 24:00",
    ),
    ("SL2", weekly(monday=[["24:00", "06:00"]]), (*WEEK, "monday", 0, 0), "start time"),
    ("SL2", weekly(monday=[["9:00", "18:00"]]), (*WEEK, "monday", 0, 0), "as HH:MM"),
    ("SL2", weekly(monday=[["09:00:00", "18:00"]]), (*WEEK, "monday", 0, 0), "as HH:MM"),
    ("SL2", weekly(monday=[["09:60", "18:00"]]), (*WEEK, "monday", 0, 0), "as HH:MM"),
    ("SL2", weekly(monday=[["０９:００", "18:00"]]), (*WEEK, "monday", 0, 0), "as HH:MM"),
    ("SL2", weekly(monday=[["09:00\n", "18:00"]]), (*WEEK, "monday", 0, 0), "as HH:MM"),
    ("SL2", weekly(monday=[[540, 1080]]), (*WEEK, "monday", 0, 0), "valid string"),
    ("SL2", weekly(monday=[["09:00"]]), (*WEEK, "monday", 0, 1), "Field required"),
    ("SL2", weekly(monday=[["09:00", "12:00", "18:00"]]), (*WEEK, "monday", 0), "at most 2 items"),
    (
        "SL2",
        weekly(monday=[{"start": "09:00", "end": "18:00"}]),
        (*WEEK, "monday", 0),
        SEQUENCE,
    ),
    ("SL2", weekly(monday=[["09:00", "09:00"]]), CAL, "empty interval"),
    # overlaps and empty calendars
    ("SL2", weekly(monday=[["09:00", "12:30"], ["12:00", "18:00"]]), CAL, "overlap on monday"),
    (
        "SL2",
        weekly(friday=[["22:00", "06:00"]], saturday=[["05:00", "10:00"]]),
        CAL,
        "overlap on saturday",
    ),
    (
        "SL2",
        tokyo(exceptions={"2026-12-28": [["08:00", "10:00"], ["09:00", "11:00"]]}),
        CAL,
        "overlap on 2026-12-28",
    ),
    ("SL2", tokyo(exceptions={"2026-12-27": [["20:00", "10:00"]]}), CAL, "overlap on 2026-12-28"),
    ("SL2", tokyo(weekly={}, exceptions={}), CAL, "no business time at all"),
    ("SL2", tokyo(weekly={"sunday": []}, exceptions={"2026-12-29": []}), CAL, "no business time"),
    # dates
    ("SL2", tokyo(holidays=["2026-02-30"]), (*CAL, "holidays", 0), "valid date"),
    ("SL2", tokyo(holidays=["2026/11/03"]), (*CAL, "holidays", 0), "date like 2026-05-01"),
    ("SL2", tokyo(holidays=["2026-11-03T00:00:00+09:00"]), (*CAL, "holidays", 0), "date like"),
    ("SL2", tokyo(holidays=[20261103]), (*CAL, "holidays", 0), "valid date"),
    ("SL2", tokyo(holidays="2026-11-03"), (*CAL, "holidays"), SEQUENCE),
    (
        "SL2",
        tokyo(holidays=["2026-11-03", "2026-11-03"]),
        (*CAL, "holidays"),
        "holiday 2026-11-03 is listed twice",
    ),
    (
        "SL2",
        tokyo(exceptions={"2026-13-01": []}),
        (*CAL, "exceptions", "2026-13-01", "[key]"),
        "valid date",
    ),
    (
        "SL2",
        tokyo(exceptions={"next friday": []}),
        (*CAL, "exceptions", "next friday", "[key]"),
        "date like",
    ),
    (
        "SL2",
        tokyo(exceptions={"2026-12-28": None}),
        (*CAL, "exceptions", "2026-12-28"),
        SEQUENCE,
    ),
    # time zones
    (
        "SL2",
        tokyo(timezone="Mars/Olympus_Mons"),
        (*CAL, "timezone"),
        "unknown time zone 'Mars/Olympus_Mons'",
    ),
    ("SL2", tokyo(timezone="JST+9"), (*CAL, "timezone"), "unknown time zone"),
    ("SL2", tokyo(timezone="localtime"), (*CAL, "timezone"), "is not an IANA time zone"),
    ("SL2", tokyo(timezone="../../etc/passwd"), (*CAL, "timezone"), "time zone"),
    ("SL2", tokyo(timezone=""), (*CAL, "timezone"), "at least 1 character"),
    ("SL2", tokyo(timezone=9), (*CAL, "timezone"), "valid string"),
    # ids and references
    ("SL2", tokyo(id=""), (*CAL, "id"), "at least 1 character"),
    ("SL2", tokyo(id=" tokyo"), (*CAL, "id"), "surrounding whitespace"),
    (
        "SL2",
        changed(lambda d: d["calendars"][1].update(id="tokyo-office")),
        (),
        "calendar id 'tokyo-office' appears twice",
    ),
    (
        "SL1",
        changed(lambda d: d["policies"][2].update(id="urgent")),
        (),
        "policy id 'urgent' appears twice",
    ),
    ("SL1", urgent(calendar_id="osaka-office"), (), "policy urgent names calendar 'osaka-office'"),
    ("SL2", changed(lambda d: d.update(default_calendar_id="osaka")), (), "no calendar 'osaka'"),
    ("SL2", changed(lambda d: d.update(calendars=[])), (), "no calendar 'tokyo-office'; known: []"),
    (
        "SL2",
        changed(lambda d: d.pop("default_calendar_id")),
        ("default_calendar_id",),
        "Field required",
    ),
    ("SL2", changed(lambda d: d.pop("calendars")), ("calendars",), "Field required"),
    # policies and conditions
    (
        "SL1",
        urgent(first_response=None, resolution=None),
        POLICY,
        "policy urgent sets no target",
    ),
    ("SL1", changed(lambda d: d["policies"][0].pop("id")), (*POLICY, "id"), "Field required"),
    ("SL1", urgent(name="x" * 201), (*POLICY, "name"), "at most 200 characters"),
    (
        "SL6",
        urgent(managers=["mgr-sato", "mgr-sato"]),
        (*POLICY, "managers"),
        "manager mgr-sato is listed twice",
    ),
    ("SL6", urgent(managers="mgr-sato"), (*POLICY, "managers"), SEQUENCE),
    (
        "SL1",
        conditions(priorities=["urgent"]),
        (*POLICY, "conditions", "priorities", 0),
        "'high', 'medium' or 'low'",
    ),
    (
        "SL1",
        conditions(priorities=["high", "high"]),
        (*POLICY, "conditions", "priorities"),
        "priority high is listed twice",
    ),
    ("SL1", conditions(priorities="high"), (*POLICY, "conditions", "priorities"), SEQUENCE),
    (
        "SL1",
        conditions(channels=["E-mail"]),
        (*POLICY, "conditions", "channels", 0),
        "match pattern",
    ),
    (
        "SL1",
        conditions(channels=["chat", "chat"]),
        (*POLICY, "conditions", "channels"),
        "channel chat is listed twice",
    ),
    (
        "SL1",
        conditions(department_ids=[""]),
        (*POLICY, "conditions", "department_ids", 0),
        "at least 1",
    ),
    (
        "SL1",
        conditions(department_ids=[7]),
        (*POLICY, "conditions", "department_ids", 0),
        "valid string",
    ),
    ("SL1", urgent(conditions=None), (*POLICY, "conditions"), OBJECT),
    ("SL1", changed(lambda d: d.update(policies={"urgent": {}})), ("policies",), SEQUENCE),
]


@pytest.mark.parametrize(("rule", "data", "loc", "fragment"), HOSTILE, ids=hostile_ids(HOSTILE))
def test_SL1_SL2_SL6_P6_hostile_documents_are_refused_with_what_and_where(
    parse: Callable[[dict[str, Any]], SlaSettings],
    rule: str,
    data: dict[str, Any],
    loc: tuple[str | int, ...],
    fragment: str,
) -> None:
    assert_refused_at(parse, rule, data, loc, fragment)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"[]",
        b"null",
        b'"calendars"',
        b"\xff\xfe{}",
        b'{"calendars": [], "calendars": []}',
        json.dumps({**DOCUMENT, "policies": [{"id": "\ud800"}]}).encode(),
        b"[" * 10_000 + b"]" * 10_000,
    ],
)
def test_P6_malformed_json_is_a_validation_error(data: bytes) -> None:
    with pytest.raises(ValidationError):
        settings_of(data)


@pytest.mark.parametrize("data", [[], ["calendars"], None, 42, "{}"])
def test_P6_decoded_input_that_is_not_an_object_is_a_validation_error(data: Any) -> None:
    with pytest.raises(ValidationError):
        settings_of(data)


def test_SL2_P6_the_errors_of_one_document_are_reported_together() -> None:
    data = copy.deepcopy(DOCUMENT)
    data["calendars"][0]["timezone"] = "Asia/Tokio"
    data["calendars"][1]["weekly"]["sunday"] = [["07:00", "25:00"]]
    data["policies"][1]["first_response"]["within_minutes"] = "30"
    with pytest.raises(ValidationError) as caught:
        settings_of(as_json(data))
    assert {e["loc"] for e in caught.value.errors()} == {
        ("calendars", 0, "timezone"),
        ("calendars", 1, "weekly", "sunday", 0, 1),
        ("policies", 1, "first_response", "within_minutes"),
    }


# -- size limits ---------------------------------------------------------------------------------


def _days_from(start: date, count: int) -> list[str]:
    return [(start + timedelta(days=i)).isoformat() for i in range(count)]


def test_P6_SL2_a_calendar_at_the_documented_limits_parses() -> None:
    data = tokyo(
        holidays=_days_from(date(2000, 1, 1), MAX_DATES),
        exceptions={day: [["10:00", "15:00"]] for day in _days_from(date(2030, 1, 1), MAX_DATES)},
    )
    text = as_json(data)
    settings = settings_of(text)
    assert len(settings.calendar().holidays) == MAX_DATES
    assert len(settings.calendar().exceptions) == MAX_DATES


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        (tokyo(holidays=_days_from(date(1900, 1, 1), 100_000)), (*CAL, "holidays")),
        (
            tokyo(exceptions={d: [] for d in _days_from(date(1900, 1, 1), MAX_DATES + 1)}),
            (*CAL, "exceptions"),
        ),
        (
            weekly(
                monday=[
                    [f"{h:02d}:{m:02d}", f"{h:02d}:{m + 5:02d}"]
                    for h in range(24)
                    for m in (0, 10, 20, 30, 40)
                ]
            ),
            (*WEEK, "monday"),
        ),
        (
            changed(lambda d: d.update(calendars=d["calendars"] * (MAX_CALENDARS // 2 + 1))),
            ("calendars",),
        ),
        (
            changed(
                lambda d: d.update(
                    policies=[
                        {"id": f"p{i}", "first_response": {"within_minutes": 60}}
                        for i in range(MAX_POLICIES + 1)
                    ]
                )
            ),
            ("policies",),
        ),
    ],
    ids=["100k-holidays", "exceptions", "intervals", "calendars", "policies"],
)
def test_P6_documents_over_the_documented_limits_are_refused_by_length(
    data: dict[str, Any], loc: tuple[str | int, ...]
) -> None:
    assert_refused_by_length(settings_of, data, loc)


def test_P6_the_documented_interval_limit_holds_a_busy_day() -> None:
    slots = [
        [f"{m // 60:02d}:{m % 60:02d}", f"{(m + 5) // 60:02d}:{(m + 5) % 60:02d}"]
        for m in range(0, 1000, 10)
    ]
    assert len(slots) == MAX_INTERVALS_PER_DAY
    calendar = settings_of(weekly(monday=slots)).calendar()
    assert len(calendar.weekly[0]) == MAX_INTERVALS_PER_DAY


# -- JSON Schema ---------------------------------------------------------------------------------


def test_P6_the_settings_document_exports_its_json_schema() -> None:
    schema = json_schemas()["sla_settings"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "SlaSettingsDocument"
    assert set(schema["required"]) == {"calendars", "default_calendar_id"}
    definitions = schema["$defs"]
    for definition in definitions.values():
        if definition.get("type") == "object":
            assert definition["additionalProperties"] is False
    assert schema["additionalProperties"] is False
    assert list(definitions["WeeklyPayload"]["properties"]) == [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    within = definitions["SlaTargetPayload"]["properties"]["within_minutes"]
    assert within == {
        "description": within["description"],
        "maximum": MAX_TARGET_MINUTES,
        "minimum": 1,
        "title": "Within Minutes",
        "type": "integer",
    }
    pair = definitions["WeeklyPayload"]["properties"]["monday"]["items"]
    assert pair["prefixItems"][1]["pattern"] == "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
    assert definitions["BusinessCalendarPayload"]["properties"]["holidays"]["items"] == {
        "format": "date",
        "type": "string",
    }
    json.dumps(schema)


def test_SL2_an_overnight_shift_from_the_document_counts_into_the_next_morning() -> None:
    settings = settings_of(DOCUMENT)
    ny = settings.calendar("support-ny")
    # Friday 2026-11-06 23:00 New York (04:00 UTC Saturday) is inside Friday's night shift.
    start = datetime(2026, 11, 7, 4, tzinfo=UTC)
    assert add(ny, start, timedelta(hours=1)) == datetime(2026, 11, 7, 5, tzinfo=UTC)
