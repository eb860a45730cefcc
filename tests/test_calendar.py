"""Business calendars and business-time arithmetic (SL2, SL3, SL4).

The fast arithmetic is checked against a minute-stepping oracle: walk UTC minutes, hold the
local wall clock at its high-water mark (so the repeated hour after the clocks go back reads
as the moment the clock first reached), and count a minute when that wall time is inside an
interval of its local date (or the overnight spill of the date before), honouring holidays
and exceptions. That is the policy's rule "a wall time means its first occurrence, a skipped
one the transition instant", stated minute by minute.
"""

from __future__ import annotations

import contextlib
import pickle
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz
from hypothesis import given, reject
from hypothesis import strategies as st

from calendar_oracle import MINUTE, ZONES, business_minutes, day_intervals
from deskcore.errors import InvalidModelError, NaiveDatetimeError, NoBusinessTimeError
from deskcore.models.calendar import BusinessCalendar
from deskcore.policies.calendar import add, business_intervals, elapsed, next_open

HOUR = timedelta(hours=1)
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
WEEKDAYS = range(5)


def office(key: str = "Asia/Tokyo", **changes: object) -> BusinessCalendar:
    """Mon-Fri 09:00-18:00 with lunch 12:00-13:00."""
    fields: dict[str, object] = {
        "id": "office",
        "timezone": key,
        "weekly": {d: [(time(9), time(12)), (time(13), time(18))] for d in WEEKDAYS},
    }
    return BusinessCalendar(**(fields | changes))  # type: ignore[arg-type]


def always(key: str) -> BusinessCalendar:
    return BusinessCalendar(
        id="24x7", timezone=key, weekly={d: [("00:00", "24:00")] for d in range(7)}
    )


# The minute-stepping oracle lives in calendar_oracle.py, shared with the SLA tests.


def test_SL2_an_empty_calendar_raises_instead_of_looping() -> None:
    with pytest.raises(InvalidModelError, match="no business time"):
        BusinessCalendar(id="empty", timezone="Asia/Tokyo", weekly={})
    with pytest.raises(InvalidModelError, match="no business time"):
        BusinessCalendar(
            id="empty", timezone="UTC", weekly={0: []}, exceptions={date(2026, 1, 3): []}
        )


def test_SL2_overlapping_intervals_raise_also_after_splitting_an_overnight_shift() -> None:
    with pytest.raises(InvalidModelError, match="overlap"):
        BusinessCalendar(
            id="c", timezone="UTC", weekly={0: [("09:00", "12:00"), ("11:00", "13:00")]}
        )
    with pytest.raises(InvalidModelError, match="overlap on tuesday"):
        BusinessCalendar(
            id="c", timezone="UTC", weekly={0: [("22:00", "06:00")], 1: [("05:00", "09:00")]}
        )
    with pytest.raises(InvalidModelError, match="overlap on 2026-01-06"):
        BusinessCalendar(
            id="c",
            timezone="UTC",
            weekly={1: [("05:00", "09:00")]},
            exceptions={date(2026, 1, 5): [("22:00", "06:00")]},
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus"),
        ("weekly", {7: []}),
        ("weekly", {0: [("09:00",)]}),
        ("weekly", {0: [("09:00", "09:00")]}),
        ("weekly", {0: [("25:00", "26:00")]}),
        ("weekly", {0: [(time(9, 0, 30), time(10))]}),
        ("holidays", {datetime(2026, 1, 1, tzinfo=UTC)}),
        ("exceptions", {"2026-01-01": []}),
    ],
)
def test_SL2_bad_values_raise_invalid_model_error(field: str, value: object) -> None:
    with pytest.raises(InvalidModelError):
        office(**{field: value})


def test_SL2_intervals_are_kept_as_minutes_and_calendars_compare_by_value() -> None:
    a = office()
    b = BusinessCalendar(
        id="office", timezone="Asia/Tokyo", weekly={n: [(540, 720), (780, 1080)] for n in WEEKDAYS}
    )
    assert a == b
    assert hash(a) == hash(b)
    assert a.weekly[0] == ((540, 720), (780, 1080))
    assert a.weekly[6] == ()
    assert pickle.loads(pickle.dumps(a)) == a
    assert office(weekly={"mon": [("09:00", "17:00")]}).weekly[0] == ((540, 1020),)


def test_SL2_a_lunch_break_is_not_business_time() -> None:
    start = datetime(2026, 6, 1, 11, 30, tzinfo=TOKYO)  # a Monday
    assert add(office(), start, HOUR) == datetime(2026, 6, 1, 13, 30, tzinfo=TOKYO)
    assert elapsed(office(), start, datetime(2026, 6, 1, 14, tzinfo=TOKYO)) == 1.5 * HOUR
    assert next_open(office(), datetime(2026, 6, 1, 12, 15, tzinfo=TOKYO)) == datetime(
        2026, 6, 1, 13, tzinfo=TOKYO
    )


def test_SL2_a_24_7_calendar_has_no_midnight_gap() -> None:
    calendar = always("Asia/Tokyo")
    start = datetime(2026, 6, 1, 23, tzinfo=TOKYO)
    assert add(calendar, start, 2 * HOUR) == start + 2 * HOUR
    assert elapsed(calendar, start, start + timedelta(days=30)) == timedelta(days=30)
    assert business_intervals(calendar, start, start + timedelta(days=3)) == (
        (start.astimezone(UTC), (start + timedelta(days=3)).astimezone(UTC)),
    )


def test_SL2_a_true_24_00_end_runs_to_midnight() -> None:
    calendar = BusinessCalendar(id="late", timezone="Asia/Tokyo", weekly={0: [("18:00", "24:00")]})
    assert calendar.weekly[0] == ((1080, 1440),)
    start = datetime(2026, 6, 1, 18, tzinfo=TOKYO)
    assert add(calendar, start, 6 * HOUR) == datetime(2026, 6, 2, tzinfo=TOKYO)
    assert add(calendar, start, 7 * HOUR) == datetime(2026, 6, 8, 19, tzinfo=TOKYO)


def test_SL2_a_shift_belongs_to_the_day_it_starts_holidays_blank_shifts_starting_that_day() -> None:
    """Documented rule: a holiday on the second day of an overnight shift does not shorten it;
    a holiday on the day it starts removes all of it, including its hours after midnight."""
    night = BusinessCalendar(
        id="night",
        timezone="Asia/Tokyo",
        weekly={d: [("22:00", "06:00")] for d in range(7)},
        holidays={date(2026, 6, 2)},
    )
    evening = datetime(2026, 6, 1, 22, tzinfo=TOKYO)
    # Monday's shift runs into the Tuesday holiday in full.
    assert elapsed(night, evening, datetime(2026, 6, 2, 6, tzinfo=TOKYO)) == 8 * HOUR
    # Tuesday's shift (22:00 Tue to 06:00 Wed) is blanked, including Wednesday's early hours.
    assert elapsed(night, evening, datetime(2026, 6, 3, 22, tzinfo=TOKYO)) == 8 * HOUR
    assert next_open(night, datetime(2026, 6, 3, 1, tzinfo=TOKYO)) == datetime(
        2026, 6, 3, 22, tzinfo=TOKYO
    )


def test_SL2_an_extra_working_saturday_and_a_short_day() -> None:
    saturday, friday = date(2026, 6, 6), date(2026, 6, 5)
    calendar = office(exceptions={saturday: [("10:00", "14:00")], friday: [("09:00", "12:00")]})
    start = datetime(2026, 6, 5, 9, tzinfo=TOKYO)
    assert elapsed(calendar, start, datetime(2026, 6, 8, tzinfo=TOKYO)) == 7 * HOUR
    assert add(calendar, start, 4 * HOUR) == datetime(2026, 6, 6, 11, tzinfo=TOKYO)
    # An exception wins over a holiday on the same date.
    both = office(holidays={saturday}, exceptions={saturday: [("10:00", "14:00")]})
    assert add(both, start, 9 * HOUR) == datetime(2026, 6, 6, 11, tzinfo=TOKYO)


def test_SL2_no_business_time_left_in_the_data_raises_a_typed_error_never_loops() -> None:
    calendar = BusinessCalendar(
        id="events",
        timezone="Europe/Berlin",
        weekly={},
        exceptions={date(2026, 6, 6): [("10:00", "12:00")]},
    )
    start = datetime(2026, 6, 1, tzinfo=BERLIN)
    assert add(calendar, start, HOUR) == datetime(2026, 6, 6, 11, tzinfo=BERLIN)
    with pytest.raises(NoBusinessTimeError) as caught:
        add(calendar, start, 3 * HOUR)
    assert caught.value.code == "no_business_time"
    assert caught.value.calendar_id == "events"
    with pytest.raises(LookupError):
        next_open(calendar, datetime(2026, 6, 7, tzinfo=BERLIN))
    assert elapsed(calendar, start, datetime(2500, 1, 1, tzinfo=UTC)) == 2 * HOUR


def test_SL2_a_search_stops_at_a_horizon() -> None:
    with pytest.raises(NoBusinessTimeError):
        add(always("Europe/Berlin"), datetime(2026, 1, 1, tzinfo=UTC), timedelta(days=365 * 101))


# -- SL3: arithmetic -----------------------------------------------------------------------------


def test_SL3_a_deadline_that_exactly_fills_a_day_ends_at_closing_time() -> None:
    start = datetime(2026, 6, 1, 9, tzinfo=TOKYO)
    assert add(office(), start, 8 * HOUR) == datetime(2026, 6, 1, 18, tzinfo=TOKYO)
    assert add(office(), start, 3 * HOUR) == datetime(2026, 6, 1, 12, tzinfo=TOKYO)
    friday = datetime(2026, 6, 5, 9, tzinfo=TOKYO)
    assert add(office(), friday, 8 * HOUR) == datetime(2026, 6, 5, 18, tzinfo=TOKYO)


def test_SL3_a_start_outside_hours_counts_from_the_next_opening() -> None:
    saturday = datetime(2026, 6, 6, 15, tzinfo=TOKYO)
    assert add(office(), saturday, HOUR) == datetime(2026, 6, 8, 10, tzinfo=TOKYO)
    assert next_open(office(), saturday) == datetime(2026, 6, 8, 9, tzinfo=TOKYO)
    assert elapsed(office(), saturday, datetime(2026, 6, 8, 9, tzinfo=TOKYO)) == timedelta(0)
    assert add(office(), saturday, timedelta(0)) == saturday


def test_SL3_elapsed_is_antisymmetric() -> None:
    a = datetime(2026, 6, 1, 10, tzinfo=TOKYO)
    b = datetime(2026, 6, 3, 10, tzinfo=TOKYO)
    assert elapsed(office(), b, a) == -elapsed(office(), a, b) == -16 * HOUR


def test_SL3_naive_datetimes_and_bad_arguments_raise() -> None:
    with pytest.raises(NaiveDatetimeError):
        add(office(), datetime(2026, 6, 1, 9), HOUR)
    with pytest.raises(NaiveDatetimeError):
        elapsed(office(), datetime(2026, 6, 1, 9, tzinfo=UTC), datetime(2026, 6, 2))
    with pytest.raises(NaiveDatetimeError):
        next_open(office(), datetime(2026, 6, 1, 9))
    with pytest.raises(InvalidModelError):
        add(office(), datetime(2026, 6, 1, 9, tzinfo=UTC), -HOUR)
    with pytest.raises(InvalidModelError):
        add("office", datetime(2026, 6, 1, 9, tzinfo=UTC), HOUR)  # type: ignore[arg-type]


def test_SL3_results_do_not_depend_on_the_tz_library() -> None:
    calendar = office("America/New_York")
    instants = [
        datetime(2026, 3, 6, 16, tzinfo=NY),
        datetime(2026, 3, 6, 16, tzinfo=dateutil_tz.gettz("America/New_York")),
        datetime(2026, 3, 6, 16, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 3, 6, 21, tzinfo=UTC),
    ]
    end = datetime(2026, 3, 10, 11, tzinfo=timezone(timedelta(hours=-4)))
    results = {
        (add(calendar, s, 20 * HOUR), elapsed(calendar, s, end), next_open(calendar, s))
        for s in instants
    }
    assert len(results) == 1
    due = add(calendar, instants[1], 20 * HOUR)
    assert due.tzinfo is UTC
    assert due == datetime(2026, 3, 11, 11, tzinfo=NY)  # 2 + 8 + 8 + 2 hours


# -- SL4: daylight saving ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "spring", "autumn"),
    [
        ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
        ("Europe/Berlin", date(2026, 3, 29), date(2026, 10, 25)),
    ],
)
def test_SL4_intervals_spanning_the_change_lose_or_gain_an_hour(
    key: str, spring: date, autumn: date
) -> None:
    calendar = always(key)
    zone = ZoneInfo(key)

    def day(d: date) -> timedelta:
        return elapsed(
            calendar,
            datetime.combine(d, time(), zone),
            datetime.combine(d + timedelta(days=1), time(), zone),
        )

    assert day(spring) == 23 * HOUR
    assert day(autumn) == 25 * HOUR
    night = BusinessCalendar(
        id="n", timezone=key, weekly={d: [("00:00", "06:00")] for d in range(7)}
    )
    midnight = datetime.combine(spring, time(), zone)
    assert elapsed(night, midnight, midnight + timedelta(days=1)) == 5 * HOUR
    midnight = datetime.combine(autumn, time(), zone)
    assert elapsed(night, midnight, midnight + timedelta(days=1)) == 7 * HOUR
    assert add(night, midnight, 7 * HOUR) == datetime.combine(autumn, time(6), zone)


def test_SL4_an_interval_starting_in_a_skipped_hour_starts_at_the_first_valid_instant() -> None:
    calendar = BusinessCalendar(
        id="c", timezone="America/New_York", weekly={6: [("02:30", "05:00")]}
    )
    sunday = datetime(2026, 3, 8, tzinfo=NY)  # 02:00 EST -> 03:00 EDT
    assert next_open(calendar, sunday) == datetime(2026, 3, 8, 7, tzinfo=UTC)  # 03:00 EDT
    assert elapsed(calendar, sunday, sunday + timedelta(days=1)) == 2 * HOUR
    berlin = BusinessCalendar(id="c", timezone="Europe/Berlin", weekly={6: [("02:15", "02:45")]})
    sunday = datetime(2026, 3, 29, tzinfo=BERLIN)
    assert elapsed(berlin, sunday, sunday + timedelta(days=1)) == timedelta(0)


@pytest.mark.parametrize("holiday", [date(2026, 3, 8), date(2026, 11, 1)])
def test_SL4_a_holiday_on_a_23_or_25_hour_day_blanks_the_whole_local_day(holiday: date) -> None:
    calendar = BusinessCalendar(
        id="c",
        timezone="America/New_York",
        weekly={d: [("00:00", "24:00")] for d in range(7)},
        holidays={holiday},
    )
    midnight = datetime.combine(holiday, time(), NY)
    after = datetime.combine(holiday + timedelta(days=1), time(), NY)
    assert elapsed(calendar, midnight, after) == timedelta(0)
    assert elapsed(calendar, midnight - HOUR, after + HOUR) == 2 * HOUR
    assert add(calendar, midnight - HOUR, HOUR) == midnight
    assert add(calendar, midnight - HOUR, 2 * HOUR) == after + HOUR


# -- properties against the oracle ---------------------------------------------------------------


@st.composite
def windows(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime, datetime]:
    key = draw(st.sampled_from(sorted(ZONES)))
    anchor = draw(st.sampled_from(ZONES[key]))
    dates = [anchor + timedelta(days=n) for n in range(-3, 4)]
    try:
        calendar = BusinessCalendar(
            id="gen",
            timezone=key,
            weekly={d: draw(day_intervals()) for d in range(7)},
            holidays=draw(st.sets(st.sampled_from(dates), max_size=3)),
            exceptions=draw(st.dictionaries(st.sampled_from(dates), day_intervals(), max_size=2)),
        )
    except InvalidModelError:
        reject()
    base = datetime.combine(anchor, time(), ZoneInfo(key)).astimezone(UTC)
    start = base + MINUTE * draw(st.integers(-2 * 1440, 1440))
    end = start + MINUTE * draw(st.integers(0, 3 * 1440))
    return calendar, start, end


@given(windows())
def test_SL3_SL4_elapsed_and_business_intervals_match_the_minute_business_minutes(
    window: tuple[BusinessCalendar, datetime, datetime],
) -> None:
    calendar, start, end = window
    minutes = business_minutes(calendar, start, end)
    assert elapsed(calendar, start, end) == MINUTE * len(minutes)
    spans = business_intervals(calendar, start, end)
    assert sum((b - a for a, b in spans), timedelta(0)) == MINUTE * len(minutes)


@given(windows(), st.data())
def test_SL3_SL4_add_matches_the_minute_business_minutes(
    window: tuple[BusinessCalendar, datetime, datetime], data: st.DataObject
) -> None:
    calendar, start, end = window
    minutes = business_minutes(calendar, start, end)
    n = data.draw(st.integers(0, len(minutes)))
    expected = start if n == 0 else minutes[n - 1] + MINUTE
    assert add(calendar, start, MINUTE * n) == expected
    if minutes:
        assert next_open(calendar, start) == minutes[0]


durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400))


@given(windows(), durations, durations)
def test_SL3_add_composes_is_monotone_and_elapsed_inverts_it(
    window: tuple[BusinessCalendar, datetime, datetime], a: timedelta, b: timedelta
) -> None:
    calendar, start, _ = window
    try:
        first = add(calendar, start, a)
        both = add(calendar, start, a + b)
    except NoBusinessTimeError:
        reject()
    assert elapsed(calendar, start, first) == a
    assert elapsed(calendar, start, both) == a + b
    assert add(calendar, first, b) == both
    assert first <= both


def test_SL4_lord_howe_changes_by_half_an_hour() -> None:
    calendar = always("Australia/Lord_Howe")
    zone = ZoneInfo("Australia/Lord_Howe")
    for day, hours in ((date(2026, 4, 5), 24.5), (date(2026, 10, 4), 23.5)):
        midnight = datetime.combine(day, time(), zone)
        after = datetime.combine(day + timedelta(days=1), time(), zone)
        assert elapsed(calendar, midnight, after) == hours * HOUR


def test_SL7_business_intervals_explain_what_was_counted() -> None:
    start = datetime(2026, 6, 5, 17, tzinfo=TOKYO)  # a Friday
    end = datetime(2026, 6, 8, 10, tzinfo=TOKYO)
    assert business_intervals(office(), start, end) == (
        (datetime(2026, 6, 5, 8, tzinfo=UTC), datetime(2026, 6, 5, 9, tzinfo=UTC)),
        (datetime(2026, 6, 8, 0, tzinfo=UTC), datetime(2026, 6, 8, 1, tzinfo=UTC)),
    )
    assert elapsed(office(), start, end) == 2 * HOUR


def test_SL2_no_business_time_error_is_a_deskcore_error_that_survives_pickling() -> None:
    error = NoBusinessTimeError("events", "no business time")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is NoBusinessTimeError
    assert copy.to_dict() == error.to_dict()
    assert error.to_dict()["details"] == {"calendar_id": "events"}


@given(windows(), st.integers(0, 10**12))
def test_SL3_results_do_not_depend_on_the_callers_tzinfo(
    window: tuple[BusinessCalendar, datetime, datetime], micros: int
) -> None:
    calendar, start, end = window
    start += timedelta(microseconds=micros % 60_000_000)
    key = calendar.timezone
    offset = timezone(start.astimezone(ZoneInfo(key)).utcoffset() or timedelta(0))
    variants = [
        start,
        start.astimezone(ZoneInfo(key)),
        start.astimezone(dateutil_tz.gettz(key)),
        start.astimezone(offset),
    ]
    assert len({elapsed(calendar, s, end) for s in variants}) == 1
    with contextlib.suppress(NoBusinessTimeError):  # an events-only calendar may run out
        assert len({add(calendar, s, HOUR) for s in variants}) == 1
