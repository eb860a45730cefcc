"""Knowledge-base sync schedules: occurrences, DST days, due runs, sync now (KB5, KB6)."""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from dateutil import tz as dateutil_tz
from hypothesis import assume, event, given
from hypothesis import strategies as st

import deskcore.policies.schedule as schedule_policy
from deskcore.errors import InvalidModelError, NaiveDatetimeError, UnknownValueError
from deskcore.models.schedule import Frequency, Occurrence, Schedule
from deskcore.policies.schedule import (
    due_run,
    latest_run,
    next_run,
    occurrences,
    sync_now_key,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SANTIAGO = ZoneInfo("America/Santiago")
TOKYO = ZoneInfo("Asia/Tokyo")
ZONES = (
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Tokyo",
    "Pacific/Apia",
    "UTC",
)
DST_ZONES = tuple(zone for zone in ZONES if zone not in ("Asia/Tokyo", "UTC"))


def daily(run_time: time, zone: str, anchor: date = date(2020, 1, 1)) -> Schedule:
    return Schedule(
        id="kb", frequency=Frequency.DAILY, anchor=anchor, run_time=run_time, timezone=zone
    )


def local_dates(found: list[Occurrence]) -> list[str]:
    return [occurrence.local_date.isoformat() for occurrence in found]


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From noon the day before to noon the day after, local time."""
    return (
        datetime.combine(day - timedelta(days=1), time(12), zone),
        datetime.combine(day + timedelta(days=1), time(12), zone),
    )


def spring_forward_day(zone: ZoneInfo, year: int) -> date:
    """The local date in ``year`` on which the clocks of ``zone`` go forward."""
    day = date(year, 1, 1)
    while day.year == year:
        before = datetime.combine(day, time(0), zone).astimezone(UTC)
        after = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
        if after - before < timedelta(days=1):
            return day
        day += timedelta(days=1)
    raise AssertionError(f"no spring-forward day in {year}")


# --- Monthly: clamped to shorter months, no drift -------------------------------------------


def test_KB5_monthly_on_the_31st_clamps_and_returns_without_drift() -> None:
    schedule = Schedule(id="kb", frequency="monthly", anchor=date(2028, 1, 31), timezone="UTC")

    found = occurrences(
        schedule, datetime(2027, 12, 1, tzinfo=UTC), datetime(2029, 4, 1, tzinfo=UTC)
    )

    assert local_dates(found) == [
        "2028-01-31",
        "2028-02-29",
        "2028-03-31",
        "2028-04-30",
        "2028-05-31",
        "2028-06-30",
        "2028-07-31",
        "2028-08-31",
        "2028-09-30",
        "2028-10-31",
        "2028-11-30",
        "2028-12-31",
        "2029-01-31",
        "2029-02-28",
        "2029-03-31",
    ]
    assert all(o.at.time() == time(3, 0) for o in found)


def test_KB5_monthly_on_the_29th_takes_the_28th_of_a_common_february_and_returns() -> None:
    schedule = Schedule(
        id="kb", frequency="monthly", anchor=date(2027, 1, 29), timezone="Europe/Berlin"
    )

    found = occurrences(
        schedule, datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 4, 1, tzinfo=UTC)
    )

    assert local_dates(found) == [
        "2027-01-29",
        "2027-02-28",
        "2027-03-29",
        "2027-04-29",
        "2027-05-29",
        "2027-06-29",
        "2027-07-29",
        "2027-08-29",
        "2027-09-29",
        "2027-10-29",
        "2027-11-29",
        "2027-12-29",
        "2028-01-29",
        "2028-02-29",
        "2028-03-29",
    ]


@pytest.mark.parametrize("day", [28, 29, 30, 31])
@pytest.mark.parametrize("year", [2027, 2028])  # a common and a leap February
def test_KB5_monthly_anchors_28_to_31_run_on_their_day_or_the_last_day(day: int, year: int) -> None:
    schedule = Schedule(
        id="kb", frequency="monthly", anchor=date(year - 1, 12, day), timezone="America/New_York"
    )

    found = occurrences(
        schedule, datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    )

    expected = [date(year, m, min(day, calendar.monthrange(year, m)[1])) for m in range(1, 13)]
    assert [o.local_date for o in found] == expected
    assert [o.at.astimezone(NEW_YORK).time() for o in found] == [time(3, 0)] * 12


# --- Weekly near local midnight --------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
@pytest.mark.parametrize("run_time", [time(0, 0), time(0, 30), time(23, 59)])
def test_KB5_weekly_near_local_midnight_runs_on_the_anchor_weekday(
    zone: str, run_time: time
) -> None:
    # A Wednesday; the window crosses New York's spring-forward and fall-back days.
    anchor = date(2026, 3, 4)
    schedule = Schedule(
        id="kb", frequency="weekly", anchor=anchor, run_time=run_time, timezone=zone
    )
    tz = ZoneInfo(zone)

    found = occurrences(schedule, datetime(2026, 1, 1, tzinfo=tz), datetime(2027, 1, 1, tzinfo=tz))

    assert found[0].local_date == anchor
    assert len(found) == 44  # 4 March to 30 December
    for occurrence in found:
        local = occurrence.at.astimezone(tz)
        assert occurrence.local_date.weekday() == calendar.WEDNESDAY
        assert (local.date(), local.time()) == (occurrence.local_date, run_time)


def test_KB5_weekly_at_midnight_in_tokyo_is_the_day_before_in_utc() -> None:
    schedule = Schedule(
        id="kb",
        frequency="weekly",
        anchor=date(2026, 3, 2),
        run_time=time(0),
        timezone="Asia/Tokyo",
    )  # a Monday
    just_before = datetime(2026, 3, 8, 23, 59, 59, tzinfo=TOKYO)  # Sunday night

    upcoming = next_run(schedule, just_before)

    assert upcoming.local_date == date(2026, 3, 9)
    assert upcoming.at == datetime(2026, 3, 8, 15, 0, tzinfo=UTC)
    assert next_run(schedule, upcoming.at).local_date == date(2026, 3, 16)


def test_KB5_weekly_at_23_59_in_new_york_is_the_next_day_in_utc() -> None:
    schedule = Schedule(
        id="kb",
        frequency="weekly",
        anchor=date(2026, 3, 6),
        run_time=time(23, 59),
        timezone="America/New_York",
    )  # a Friday

    upcoming = next_run(schedule, datetime(2026, 3, 13, 23, 58, tzinfo=NEW_YORK))

    assert upcoming.local_date == date(2026, 3, 13)
    assert upcoming.at == datetime(2026, 3, 14, 3, 59, tzinfo=UTC)  # EDT since 8 March


# --- Daylight-saving days --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        # 02:00 EST -> 03:00 EDT: 02:30 does not exist; it runs at the transition, 03:00 EDT.
        ("America/New_York", date(2026, 3, 8), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        # 02:00 CET -> 03:00 CEST.
        ("Europe/Berlin", date(2026, 3, 29), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    ],
)
def test_KB5_a_run_time_in_the_spring_forward_gap_runs_once_at_the_transition(
    zone: str, day: date, expected: datetime
) -> None:
    tz = ZoneInfo(zone)
    schedule = daily(time(2, 30), zone)

    found = [o for o in occurrences(schedule, *day_window(day, tz)) if o.local_date == day]

    assert len(found) == 1
    assert found[0].at == expected
    assert found[0].at.astimezone(tz).time() == time(3, 0)
    assert next_run(schedule, datetime.combine(day, time(0), tz)) == found[0]
    # The instant just before the transition is still before the run.
    assert next_run(schedule, expected - timedelta(microseconds=1)) == found[0]


def test_KB5_santiago_midnight_gap_runs_a_00_30_run_once_at_01_00() -> None:
    day = spring_forward_day(SANTIAGO, 2026)
    round_trip = datetime.combine(day, time(0, 30), SANTIAGO).astimezone(UTC).astimezone(SANTIAGO)
    assert round_trip.time() != time(0, 30)  # 00:30 does not exist that day
    schedule = daily(time(0, 30), "America/Santiago")

    found = [o for o in occurrences(schedule, *day_window(day, SANTIAGO)) if o.local_date == day]

    assert len(found) == 1
    local = found[0].at.astimezone(SANTIAGO)
    assert (local.date(), local.time()) == (day, time(1, 0))
    # 01:00 local is the first valid instant: one microsecond earlier is 23:59:59.999999.
    before = (found[0].at - timedelta(microseconds=1)).astimezone(SANTIAGO)
    assert before.date() == day - timedelta(days=1)


def test_KB5_a_run_time_that_exists_twice_runs_once_at_the_first() -> None:
    day = date(2026, 11, 1)  # 02:00 EDT -> 01:00 EST: 01:30 happens twice
    schedule = daily(time(1, 30), "America/New_York")

    found = [o for o in occurrences(schedule, *day_window(day, NEW_YORK)) if o.local_date == day]

    assert len(found) == 1
    assert found[0].at == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert next_run(schedule, second).local_date == date(2026, 11, 2)
    assert due_run(schedule, now=second, last_run=found[0]) is None


def test_KB5_lord_howe_half_hour_gap_runs_at_the_transition() -> None:
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    day = spring_forward_day(lord_howe, 2026)  # 02:00 -> 02:30
    schedule = daily(time(2, 15), "Australia/Lord_Howe")

    found = [o for o in occurrences(schedule, *day_window(day, lord_howe)) if o.local_date == day]

    assert len(found) == 1
    assert found[0].at.astimezone(lord_howe).time() == time(2, 30)


def test_KB5_apia_skipped_day_runs_once_at_the_transition_and_stays_increasing() -> None:
    apia = ZoneInfo("Pacific/Apia")  # 29 Dec 2011 24:00 -> 31 Dec 2011 00:00: no 30 December
    schedule = daily(time(3, 0), "Pacific/Apia", anchor=date(2011, 12, 1))

    found = occurrences(
        schedule, datetime(2011, 12, 28, tzinfo=UTC), datetime(2012, 1, 2, tzinfo=UTC)
    )

    assert local_dates(found)[:4] == ["2011-12-28", "2011-12-29", "2011-12-30", "2011-12-31"]
    skipped = found[2]
    assert skipped.at == datetime(2011, 12, 30, 10, 0, tzinfo=UTC)
    assert skipped.at.astimezone(apia).replace(tzinfo=None) == datetime(2011, 12, 31)
    assert all(a.at < b.at for a, b in pairwise(found))


# --- Any tzinfo, same instants, same answers ---------------------------------------------------


def _spellings(instant: datetime) -> list[datetime]:
    """The same instant in a zoneinfo zone, a dateutil zone, a fixed offset and UTC."""
    in_zoneinfo = instant.astimezone(NEW_YORK)
    in_dateutil = instant.astimezone(dateutil_tz.gettz("America/New_York"))
    offset = in_zoneinfo.utcoffset()
    assert offset is not None
    return [in_zoneinfo, in_dateutil, instant.astimezone(timezone(offset)), instant]


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC),  # just before spring forward
        datetime(2026, 11, 1, 5, 45, tzinfo=UTC),  # 01:45 EDT, first of the repeated hour
        datetime(2026, 11, 1, 6, 15, tzinfo=UTC),  # 01:15 EST, second of the repeated hour
        datetime(2026, 7, 4, 12, 0, tzinfo=UTC),
    ],
)
def test_KB5_results_depend_only_on_the_instant_not_the_tzinfo(instant: datetime) -> None:
    schedule = daily(time(1, 30), "America/New_York")
    last = latest_run(schedule, instant - timedelta(days=2))

    # Adding a timedelta to a zoned datetime is wall-clock arithmetic: spell the end apart.
    ends = _spellings(instant + timedelta(days=3))
    answers = {
        (
            next_run(schedule, now),
            tuple(occurrences(schedule, now, end)),
            due_run(schedule, now=now, last_run=last),
            due_run(schedule, now=now, last_run=None),
            sync_now_key("kb", now),
        )
        for now, end in zip(_spellings(instant), ends, strict=True)
    }

    assert len(answers) == 1
    (answer,) = answers
    assert answer[0].at.tzinfo is UTC


# --- Speed: the work does not grow with the anchor's age --------------------------------------


@pytest.fixture
def rrule_spy(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record each rrule the policy builds and how many dates were taken from it."""
    real = schedule_policy.rrule
    calls: list[dict[str, Any]] = []

    def spy(*args: Any, **kwargs: Any) -> Iterator[datetime]:
        call: dict[str, Any] = {"dtstart": kwargs["dtstart"], "taken": 0}
        calls.append(call)
        for item in real(*args, **kwargs):
            call["taken"] += 1
            yield item

    monkeypatch.setattr(schedule_policy, "rrule", spy)
    return calls


@pytest.mark.parametrize("frequency", list(Frequency))
def test_KB5_next_run_with_a_20_year_old_anchor_starts_near_now(
    frequency: Frequency, rrule_spy: list[dict[str, Any]]
) -> None:
    now = datetime(2026, 5, 17, 8, 0, tzinfo=UTC)
    schedule = Schedule(id="kb", frequency=frequency, anchor=date(2006, 1, 31), timezone="UTC")

    upcoming = next_run(schedule, now)

    assert upcoming.at > now
    assert len(rrule_spy) == 1
    assert now.replace(tzinfo=None) - rrule_spy[0]["dtstart"] <= timedelta(days=4)
    assert rrule_spy[0]["taken"] <= 5


@pytest.mark.parametrize("frequency", list(Frequency))
def test_KB5_due_run_with_a_years_old_last_run_does_not_walk_the_gap(
    frequency: Frequency, rrule_spy: list[dict[str, Any]]
) -> None:
    schedule = Schedule(id="kb", frequency=frequency, anchor=date(2006, 1, 31), timezone="UTC")
    old = Occurrence(
        schedule_id="kb", local_date=date(2010, 1, 31), at=datetime(2010, 1, 31, 3, tzinfo=UTC)
    )
    now = datetime(2026, 5, 17, 8, 0, tzinfo=UTC)

    due = due_run(schedule, now=now, last_run=old)

    assert due is not None
    assert due.at <= now
    assert now.replace(tzinfo=None) - rrule_spy[0]["dtstart"] <= timedelta(days=70)
    assert sum(call["taken"] for call in rrule_spy) <= 70


# --- Due runs: coalesced, never twice, restart-safe ---------------------------------------------


def test_KB5_missed_runs_coalesce_into_the_latest() -> None:
    schedule = daily(time(3, 0), "Europe/Berlin")
    ran = next_run(schedule, datetime(2026, 6, 1, tzinfo=UTC))  # 1 June, 03:00 CEST
    now = datetime(2026, 6, 11, 12, 0, tzinfo=UTC)  # the host was down for ten days

    due = due_run(schedule, now=now, last_run=ran)

    assert due is not None
    assert due.local_date == date(2026, 6, 11)
    assert due.key == "kb@2026-06-11"
    assert due_run(schedule, now=now, last_run=due) is None


def test_KB5_the_same_occurrence_is_never_due_twice() -> None:
    schedule = daily(time(3, 0), "America/New_York")
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    due = due_run(schedule, now=now, last_run=None)
    assert due is not None
    upcoming = next_run(schedule, now)

    for later in (now, now + timedelta(hours=5), upcoming.at - timedelta(microseconds=1)):
        assert due_run(schedule, now=later, last_run=due) is None
    assert due_run(schedule, now=upcoming.at, last_run=due) == upcoming


def test_KB5_a_restarted_host_asking_again_gets_the_same_answer() -> None:
    schedule = Schedule(id="kb", frequency="weekly", anchor=date(2026, 1, 5), timezone="Asia/Tokyo")
    last = next_run(schedule, datetime(2026, 1, 4, tzinfo=UTC))
    now = datetime(2026, 3, 1, tzinfo=UTC)

    first = due_run(schedule, now=now, last_run=last)
    again = due_run(schedule, now=now, last_run=last)
    rebuilt = due_run(attrs.evolve(schedule), now=now + timedelta(seconds=1), last_run=last)

    assert first is not None
    assert first == again == rebuilt
    assert first.key == again.key == f"kb@{first.local_date.isoformat()}"


def test_KB5_nothing_is_due_before_the_anchor_date() -> None:
    first_sync = datetime(2026, 5, 20, 15, 0, tzinfo=BERLIN)
    schedule = Schedule.anchored(
        id="kb", frequency="monthly", first_sync=first_sync, timezone="Europe/Berlin"
    )

    assert schedule.anchor == date(2026, 5, 20)
    assert due_run(schedule, now=datetime(2026, 5, 19, 12, tzinfo=UTC), last_run=None) is None
    assert next_run(schedule, datetime(2000, 1, 1, tzinfo=UTC)).local_date == date(2026, 5, 20)
    assert occurrences(schedule, datetime(2000, 1, 1, tzinfo=UTC), first_sync) == [
        next_run(schedule, datetime(2000, 1, 1, tzinfo=UTC))
    ]


def test_KB5_anchored_takes_the_local_date_of_the_first_sync() -> None:
    first_sync = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 2 March 08:30 in Tokyo

    schedule = Schedule.anchored(
        id="kb", frequency="weekly", first_sync=first_sync, timezone="Asia/Tokyo"
    )

    assert schedule.anchor == date(2026, 3, 2)
    assert schedule.run_time == time(3, 0)
    assert next_run(schedule, first_sync).local_date == date(2026, 3, 9)


def test_KB5_occurrence_key_is_schedule_id_and_local_date() -> None:
    occurrence = Occurrence(
        schedule_id="kb-sync",
        local_date=date(2026, 3, 8),
        at=datetime(2026, 3, 8, 3, 0, tzinfo=NEW_YORK),
    )

    assert occurrence.key == "kb-sync@2026-03-08"
    assert occurrence.at == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert occurrence.at.tzinfo is UTC


# --- Sync now (KB6) ----------------------------------------------------------------------------


def test_KB6_sync_now_does_not_move_the_anchor_or_the_next_run() -> None:
    schedule = Schedule(
        id="kb", frequency="monthly", anchor=date(2026, 1, 31), timezone="America/Santiago"
    )
    now = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
    before = next_run(schedule, now)
    last = latest_run(schedule, now)

    key = sync_now_key(schedule.id, now)

    assert schedule.anchor == date(2026, 1, 31)
    assert next_run(schedule, now) == before
    assert before.local_date == date(2026, 4, 30)
    assert due_run(schedule, now=now, last_run=last) is None
    year = occurrences(schedule, now - timedelta(days=400), now + timedelta(days=400))
    assert key not in {o.key for o in year}
    assert key.startswith("kb@sync-now@")


def test_KB6_sync_now_keys_depend_only_on_the_instant_and_never_look_like_occurrences() -> None:
    now = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)

    keys = {sync_now_key("kb", spelled) for spelled in _spellings(now)}

    assert keys == {"kb@sync-now@2026-03-08T07:00:00+00:00"}
    # Even a schedule id built to imitate one cannot collide: occurrence keys end in a date.
    imitation = Occurrence(schedule_id="kb@sync-now", local_date=date(2026, 3, 8), at=now)
    assert imitation.key not in keys
    assert sync_now_key("kb", now + timedelta(seconds=1)) not in keys


# --- Hostile input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "America", "localtime", "a\x00b", 42]
)
def test_KB5_unknown_time_zone_is_rejected(zone: object) -> None:
    with pytest.raises(InvalidModelError) as caught:
        Schedule(id="kb", frequency="daily", anchor=date(2026, 1, 1), timezone=zone)  # type: ignore[arg-type]
    assert caught.value.field == "timezone"


def test_KB5_tz_aware_or_non_time_run_time_is_rejected() -> None:
    for run_time in (time(3, 0, tzinfo=UTC), time(3, 0, tzinfo=NEW_YORK), "03:00", 3):
        with pytest.raises(InvalidModelError) as caught:
            Schedule(
                id="kb",
                frequency="daily",
                anchor=date(2026, 1, 1),
                run_time=run_time,  # type: ignore[arg-type]
                timezone="UTC",
            )
        assert caught.value.field == "run_time"


def test_KB5_run_time_with_seconds_is_kept() -> None:
    schedule = daily(time(3, 0, 45), "UTC")
    upcoming = next_run(schedule, datetime(2026, 1, 1, tzinfo=UTC))
    assert upcoming.at == datetime(2026, 1, 1, 3, 0, 45, tzinfo=UTC)


@pytest.mark.parametrize("frequency", ["hourly", "", None, 3, "DAILY"])
def test_KB5_bad_frequency_is_rejected(frequency: object) -> None:
    with pytest.raises(UnknownValueError):
        Schedule(id="kb", frequency=frequency, anchor=date(2026, 1, 1), timezone="UTC")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "anchor",
    [datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01", None, 20260101, date(1, 1, 1), date.max],
)
def test_KB5_non_date_or_out_of_range_anchor_is_rejected(anchor: object) -> None:
    with pytest.raises(InvalidModelError) as caught:
        Schedule(id="kb", frequency="daily", anchor=anchor, timezone="UTC")  # type: ignore[arg-type]
    assert caught.value.field == "anchor"


def test_KB5_naive_datetimes_are_rejected() -> None:
    schedule = daily(time(3, 0), "UTC")
    naive = datetime(2026, 1, 1, 12, 0)
    aware = naive.replace(tzinfo=UTC)

    for call in (
        lambda: next_run(schedule, naive),
        lambda: occurrences(schedule, naive, aware),
        lambda: occurrences(schedule, aware, naive),
        lambda: due_run(schedule, now=naive, last_run=None),
        lambda: latest_run(schedule, naive),
        lambda: sync_now_key("kb", naive),
        lambda: Schedule.anchored(id="kb", frequency="daily", first_sync=naive, timezone="UTC"),
        lambda: Occurrence(schedule_id="kb", local_date=date(2026, 1, 1), at=naive),
    ):
        with pytest.raises(NaiveDatetimeError):
            call()


def test_KB5_wrong_types_and_foreign_last_run_are_rejected() -> None:
    schedule = daily(time(3, 0), "UTC")
    now = datetime(2026, 1, 2, tzinfo=UTC)
    foreign = Occurrence(schedule_id="other", local_date=date(2026, 1, 1), at=now)

    for call in (
        lambda: next_run(schedule, "2026-01-01T00:00Z"),  # type: ignore[arg-type]
        lambda: next_run("kb", now),  # type: ignore[arg-type]
        lambda: due_run(schedule, now=now, last_run=foreign),
        lambda: due_run(schedule, now=now, last_run="kb@2026-01-01"),  # type: ignore[arg-type]
        lambda: sync_now_key("", now),
        lambda: Schedule(id="", frequency="daily", anchor=date(2026, 1, 1), timezone="UTC"),
        lambda: Occurrence(schedule_id="kb", local_date=now, at=now),
    ):
        with pytest.raises(InvalidModelError):
            call()


def test_KB5_an_empty_or_reversed_window_has_no_occurrences() -> None:
    schedule = daily(time(3, 0), "UTC")
    now = datetime(2026, 1, 2, tzinfo=UTC)
    assert occurrences(schedule, now, now) == []
    assert occurrences(schedule, now, now - timedelta(days=5)) == []


def test_KB5_run_time_fold_and_microseconds_do_not_change_the_rule() -> None:
    schedule = daily(time(2, 30, 15, 500, fold=1), "America/New_York")
    day = date(2026, 3, 8)

    assert schedule.run_time.fold == 0
    found = [o for o in occurrences(schedule, *day_window(day, NEW_YORK)) if o.local_date == day]
    assert [o.at for o in found] == [datetime(2026, 3, 8, 7, 0, tzinfo=UTC)]
    ordinary = next_run(schedule, datetime(2026, 3, 9, tzinfo=UTC))
    assert ordinary.at == datetime(2026, 3, 9, 6, 30, 15, 500, tzinfo=UTC)


def test_KB5_extreme_instants_are_answered_or_rejected_with_typed_errors() -> None:
    schedule = daily(time(3, 0), "America/New_York", anchor=date(1900, 1, 1))
    dawn = datetime(1, 1, 1, tzinfo=UTC)

    assert next_run(schedule, dawn).local_date == date(1900, 1, 1)
    assert due_run(schedule, now=dawn, last_run=None) is None
    with pytest.raises(InvalidModelError):
        Schedule.anchored(id="kb", frequency="daily", first_sync="2026-01-01", timezone="UTC")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("zone", "run_time"), [("Asia/Tokyo", time(3)), ("America/New_York", time(23))]
)
def test_KB5_the_end_of_the_calendar_is_a_typed_error_not_a_crash(
    zone: str, run_time: time
) -> None:
    schedule = Schedule(
        id="kb", frequency="daily", anchor=date(9000, 1, 1), run_time=run_time, timezone=zone
    )
    with pytest.raises(InvalidModelError):
        next_run(schedule, datetime(9999, 12, 31, 12, tzinfo=UTC))


# --- Properties ----------------------------------------------------------------------------------


DST_PRONE_TIMES = [
    time(0),
    time(0, 30),
    time(1, 30),
    time(2),
    time(2, 15),
    time(2, 30),
    time(23, 59),
]


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    return Schedule(
        id="kb",
        frequency=draw(st.sampled_from(Frequency)),
        anchor=draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))),
        run_time=draw(
            st.one_of(
                st.builds(time, st.integers(0, 23), st.integers(0, 59)),
                st.sampled_from(DST_PRONE_TIMES),  # the hours clocks change in, and midnight
            )
        ),
        timezone=draw(st.sampled_from(ZONES)),
    )


instants = st.datetimes(min_value=datetime(1999, 12, 1), max_value=datetime(2041, 6, 30)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)


@functools.cache
def _transitions(zone: str, year: int) -> tuple[datetime, ...]:
    """The instants in ``year`` at which ``zone``'s UTC offset changes, to the second."""
    tz = ZoneInfo(zone)
    found = []
    instant = datetime(year, 1, 1, tzinfo=UTC)
    offset = instant.astimezone(tz).utcoffset()
    while instant.year == year:
        instant += timedelta(hours=1)
        if instant.astimezone(tz).utcoffset() != offset:
            low = instant - timedelta(hours=1)  # the change is in (low, instant]
            while instant - low > timedelta(seconds=1):
                middle = low + (instant - low) // 2
                if middle.astimezone(tz).utcoffset() == offset:
                    low = middle
                else:
                    instant = middle
            found.append(instant)
            offset = instant.astimezone(tz).utcoffset()
    return tuple(found)


@st.composite
def near_a_change(draw: st.DrawFn, schedule: Schedule) -> datetime:
    """An instant up to three days before an offset change of the schedule's zone, in the
    anchor's year or the next two (any instant, if the zone has none then)."""
    year = draw(st.integers(schedule.anchor.year, schedule.anchor.year + 2))
    changes = _transitions(schedule.timezone, year)
    if not changes:
        return draw(after_the_anchor(schedule))
    before = draw(st.integers(min_value=0, max_value=3 * 24 * 60))
    return draw(st.sampled_from(changes)) - timedelta(minutes=before)


def after_the_anchor(schedule: Schedule) -> st.SearchStrategy[datetime]:
    """An instant from a month before the anchor date to two years after it."""
    midnight = datetime.combine(schedule.anchor, time(0), ZoneInfo(schedule.timezone))
    minutes = st.integers(min_value=-31 * 24 * 60, max_value=2 * 366 * 24 * 60)
    return minutes.map(lambda m: midnight.astimezone(UTC) + timedelta(minutes=m))


def moments(schedule: Schedule) -> st.SearchStrategy[datetime]:
    """Any instant, one near the anchor, or one just before a daylight-saving change."""
    return st.one_of(instants, after_the_anchor(schedule), near_a_change(schedule))


spans = st.one_of(
    st.integers(min_value=0, max_value=400 * 24 * 60).map(lambda m: timedelta(minutes=m)),
    st.sampled_from([timedelta(days=4), timedelta(days=40), timedelta(days=400)]),
)


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    # Through UTC: ``astimezone`` to a datetime's own tzinfo returns it unchanged, gap or not.
    return instant.astimezone(UTC).astimezone(tz).replace(tzinfo=None)


def _exists(local: datetime, tz: ZoneInfo) -> list[datetime]:
    """Every instant whose wall time in ``tz`` is ``local``, earliest first."""
    found = {
        local.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        for fold in (0, 1)
        if _wall(local.replace(tzinfo=tz, fold=fold), tz) == local
    }
    return sorted(found)


def _oracle_instant(local: datetime, tz: ZoneInfo) -> datetime:
    """Slow and obvious: the first instant whose wall time is ``local``, or else the first
    instant after the gap, found by stepping minutes and then seconds."""
    existing = _exists(local, tz)
    if existing:
        return existing[0]
    instant = min(local.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1))
    instant = instant.replace(second=0, microsecond=0)
    while _wall(instant, tz) < local:
        instant += timedelta(minutes=1)
    instant -= timedelta(minutes=1)
    while _wall(instant, tz) < local:
        instant += timedelta(seconds=1)
    return instant


def _on_rule(schedule: Schedule, day: date) -> bool:
    if day < schedule.anchor:
        return False
    if schedule.frequency is Frequency.DAILY:
        return True
    if schedule.frequency is Frequency.WEEKLY:
        return day.weekday() == schedule.anchor.weekday()
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day == min(schedule.anchor.day, last)


def _oracle_walk(schedule: Schedule, until: date) -> Iterator[Occurrence]:
    """Every occurrence from the anchor on, one local date at a time."""
    tz = ZoneInfo(schedule.timezone)
    day = schedule.anchor
    while day <= until:
        if _on_rule(schedule, day):
            at = _oracle_instant(datetime.combine(day, schedule.run_time), tz)
            yield Occurrence(schedule_id=schedule.id, local_date=day, at=at)
        day += timedelta(days=1)


def _check_occurrences(
    schedule: Schedule, start: datetime, end: datetime, found: list[Occurrence]
) -> None:
    """In order, one per local date, on the rule, at the run time or the gap's end, complete."""
    tz = ZoneInfo(schedule.timezone)
    assert all(a.at < b.at for a, b in pairwise(found))
    assert all(a.local_date < b.local_date for a, b in pairwise(found))
    for occurrence in found:
        assert start < occurrence.at <= end
        assert occurrence.at.tzinfo is UTC
        assert _on_rule(schedule, occurrence.local_date)
        local = datetime.combine(occurrence.local_date, schedule.run_time)
        existing = _exists(local, tz)
        if existing:  # at the run time; the first instant when it happens twice
            event("fold" if len(existing) > 1 else "plain")
            assert occurrence.at == existing[0]
        else:  # in a gap: the first valid instant after it, the transition
            event("gap")
            assert _wall(occurrence.at - timedelta(microseconds=1), tz) < local
            assert _wall(occurrence.at, tz) > local
    # Complete: every local date on the rule whose run falls in the window is there.
    first = _wall(start, tz).date() - timedelta(days=2)
    last = _wall(end, tz).date() + timedelta(days=2)
    expected = []
    day = max(first, schedule.anchor)
    while day <= last:
        if _on_rule(schedule, day):
            at = _oracle_instant(datetime.combine(day, schedule.run_time), tz)
            if start < at <= end:
                expected.append(day)
        day += timedelta(days=1)
    assert [o.local_date for o in found] == expected


@given(schedule=schedules(), data=st.data())
def test_KB5_property_occurrences_follow_the_rule_in_order(
    schedule: Schedule, data: st.DataObject
) -> None:
    start = data.draw(moments(schedule), label="start")
    end = start + data.draw(spans, label="span")

    found = occurrences(schedule, start, end)

    _check_occurrences(schedule, start, end, found)


@st.composite
def dst_days(draw: st.DrawFn) -> tuple[Schedule, datetime]:
    """A schedule whose run time falls in a gap or a fold on one of its run dates, and the
    instant of that offset change."""
    zone = draw(st.sampled_from(DST_ZONES))
    changes = _transitions(zone, draw(st.integers(2000, 2040)))
    assume(changes)
    change = draw(st.sampled_from(changes))
    tz = ZoneInfo(zone)
    before = (change - timedelta(microseconds=1)).astimezone(tz).utcoffset()
    after = change.astimezone(tz).utcoffset()
    assert before is not None
    assert after is not None
    # Wall times in the gap (clocks forward) or the fold (clocks back): [low, low + length).
    low = change.replace(tzinfo=None) + min(before, after)
    length = abs(after - before) // timedelta(minutes=1)
    wall = low + timedelta(minutes=draw(st.integers(0, length - 1)))
    frequency = draw(st.sampled_from(Frequency))
    periods = draw(st.integers(0, 3))
    if frequency is Frequency.WEEKLY:
        anchor = wall.date() - timedelta(weeks=periods)
    elif frequency is Frequency.MONTHLY and wall.day <= 28:
        anchor = wall.date().replace(year=wall.year - periods)
    else:
        anchor = wall.date() - timedelta(days=periods)
    schedule = Schedule(
        id="kb", frequency=frequency, anchor=anchor, run_time=wall.time(), timezone=zone
    )
    return schedule, change


@given(case=dst_days(), before=st.integers(0, 3 * 24 * 60), after=st.integers(0, 3 * 24 * 60))
def test_KB5_property_dst_days_run_once_at_the_run_time_or_the_gap_end(
    case: tuple[Schedule, datetime], before: int, after: int
) -> None:
    schedule, change = case
    start = change - timedelta(minutes=before)
    end = change + timedelta(minutes=after)

    found = occurrences(schedule, start, end)

    _check_occurrences(schedule, start, end, found)
    assert next_run(schedule, start) == occurrences(schedule, start, end + timedelta(days=62))[0]
    walked = [o for o in _oracle_walk(schedule, end.date() + timedelta(days=2)) if o.at <= end]
    for last_run in [None, *found]:
        later = [o for o in walked if last_run is None or o.at > last_run.at]
        assert due_run(schedule, now=end, last_run=last_run) == (later[-1] if later else None)


@given(schedule=schedules(), data=st.data())
def test_KB5_property_next_run_is_the_first_occurrence_after_now(
    schedule: Schedule, data: st.DataObject
) -> None:
    now = data.draw(moments(schedule), label="now")
    upcoming = next_run(schedule, now)

    first_day = datetime.combine(schedule.anchor, time(0), ZoneInfo(schedule.timezone))
    far = max(now, first_day.astimezone(UTC)) + timedelta(days=70)
    assert upcoming.at > now
    assert upcoming == occurrences(schedule, now, far)[0]
    assert upcoming.local_date >= schedule.anchor


@given(schedule=schedules(), data=st.data())
def test_KB5_property_due_run_agrees_with_walking_every_occurrence(
    schedule: Schedule, data: st.DataObject
) -> None:
    tz = ZoneInfo(schedule.timezone)
    offset = data.draw(st.integers(min_value=-3 * 24 * 60, max_value=800 * 24 * 60))
    now = datetime.combine(schedule.anchor, time(12), tz).astimezone(UTC) + timedelta(
        minutes=offset
    )
    walked = list(_oracle_walk(schedule, _wall(now, tz).date() + timedelta(days=2)))
    past = [o for o in walked if o.at <= now]
    last_run = data.draw(st.one_of(st.none(), st.sampled_from(past))) if past else None

    due = due_run(schedule, now=now, last_run=last_run)

    later = [o for o in past if last_run is None or o.at > last_run.at]
    assert due == (later[-1] if later else None)
    assert due_run(schedule, now=now, last_run=last_run) == due  # asking twice
    if due is not None:
        assert due_run(schedule, now=now, last_run=due) is None  # never twice
