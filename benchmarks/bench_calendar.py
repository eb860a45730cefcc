"""PF3: business-time deadlines (``deskcore.policies.calendar.add``) as the span grows.

Figures, all from one run, on a realistic calendar: Monday to Friday 09:00-18:00 with lunch
12:00-13:00 in Asia/Tokyo, with the Japanese public holidays of 2026 and 2027 as data. Each
figure is the cost of one ``add`` in microseconds, averaged over starts spread across 2026
(inside and outside business hours, on holidays and weekends):

- ``calendar.add.<span>``: ``add`` of 1 hour, 1 week (40 business hours) and 1 year (1,960
  business hours: 245 working days of 8 hours) of business time. Baseline: a plain
  day-stepping implementation (below, the way most business-hours libraries work: visit
  every local date, build its intervals, subtract), measured in the same run on the same
  starts. PF3: on the one-year span at least 30x faster than day-stepping.
- ``calendar.growth``: the one-year cost against the one-hour cost. PF3 asks for a cost
  independent of the span; the goal read here is "within about 2x".

Before timing, every start's deadline is checked to equal the day-stepping one.

Run ``python benchmarks/bench_calendar.py --profile`` to profile the one-year ``add``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from _harness import Result, Target, Timing, measure, timed
from deskcore.models.calendar import BusinessCalendar
from deskcore.policies.calendar import add

__all__ = ["CALENDAR", "JAPANESE_HOLIDAYS", "day_stepping_add", "run"]

PF3_FACTOR = 30.0
"""PF3: at least 30x faster than day-stepping on a one-year span."""
GROWTH_GOAL = 2.0
"""PF3 ("a one-year span costs about the same as one hour") as this suite reads it."""

TOKYO = ZoneInfo("Asia/Tokyo")
JAPANESE_HOLIDAYS = frozenset(
    date.fromisoformat(day)
    for day in (
        "2026-01-01",
        "2026-01-12",
        "2026-02-11",
        "2026-02-23",
        "2026-03-20",
        "2026-04-29",
        "2026-05-03",
        "2026-05-04",
        "2026-05-05",
        "2026-05-06",
        "2026-07-20",
        "2026-08-11",
        "2026-09-21",
        "2026-09-22",
        "2026-09-23",
        "2026-10-12",
        "2026-11-03",
        "2026-11-23",
        "2027-01-01",
        "2027-01-11",
        "2027-02-11",
        "2027-02-23",
        "2027-03-22",
        "2027-04-29",
        "2027-05-03",
        "2027-05-04",
        "2027-05-05",
        "2027-07-19",
        "2027-08-11",
        "2027-09-20",
        "2027-09-23",
        "2027-10-11",
        "2027-11-03",
        "2027-11-23",
    )
)
"""Japanese public holidays of 2026 and 2027 (substitute and "sandwiched" days included)."""
HOURS = ((time(9), time(12)), (time(13), time(18)))
CALENDAR = BusinessCalendar(
    id="tokyo-office",
    timezone="Asia/Tokyo",
    weekly=dict.fromkeys(range(5), HOURS),
    holidays=JAPANESE_HOLIDAYS,
)
SPANS = {
    "1h": timedelta(hours=1),
    "1w": timedelta(hours=40),
    "1y": timedelta(hours=245 * 8),
}


def day_stepping_add(start: datetime, duration: timedelta) -> datetime:
    """The baseline: walk local dates one by one, subtracting each day's business time."""
    local = start.astimezone(TOKYO)
    day = local.date()
    remaining = duration
    while True:
        if day.weekday() < 5 and day not in JAPANESE_HOLIDAYS:
            for opening, closing in HOURS:
                low = max(datetime.combine(day, opening, TOKYO), local)
                high = datetime.combine(day, closing, TOKYO)
                if low >= high:
                    continue
                if high - low >= remaining:
                    return (low + remaining).astimezone(UTC)
                remaining -= high - low
        day += timedelta(days=1)


def starts(count: int) -> list[datetime]:
    """``count`` starts spread over 2026, at varied times of day (some outside hours)."""
    first = datetime(2026, 1, 1, tzinfo=TOKYO)
    step = timedelta(days=365) / count
    return [first + step * n + timedelta(minutes=37 * n % 1440) for n in range(count)]


def _per_call(
    body: Callable[[datetime], object], moments: Sequence[datetime]
) -> Callable[[], object]:
    def run() -> None:
        for moment in moments:
            body(moment)

    return run


def _us(timing: Timing, calls: int) -> tuple[float, float]:
    return timing.best / calls * 1e6, timing.median / calls * 1e6


def run(quick: bool) -> list[Result]:
    """Measure ``add``; ``quick`` uses a handful of starts (a smoke test, not a measurement)."""
    count, baseline_count, repeats = (8, 4, 1) if quick else (400, 40, 5)
    moments = starts(count)
    baseline_moments = moments[:: count // baseline_count][:baseline_count]
    for span in SPANS.values():
        for moment in baseline_moments:
            assert add(CALENDAR, moment, span) == day_stepping_add(moment, span), moment
    figures: dict[str, tuple[float, float, float]] = {}
    for label, span in SPANS.items():
        ours = measure(
            lambda span=span: timed(_per_call(lambda m: add(CALENDAR, m, span), moments)),
            repeats=repeats,
        )
        theirs = measure(
            lambda span=span: timed(
                _per_call(lambda m: day_stepping_add(m, span), baseline_moments)
            ),
            repeats=repeats,
        )
        best, median = _us(ours, len(moments))
        figures[label] = (best, median, _us(theirs, len(baseline_moments))[0])
    results = [
        Result(
            name=f"calendar.add.{label}",
            value=best,
            median=median,
            unit="us/call",
            better="lower",
            baseline_name="day-stepping",
            baseline=baseline,
            target=Target(
                source="PF3",
                text=f">= {PF3_FACTOR:g}x faster than day-stepping (ratio <= {1 / PF3_FACTOR:.3f})",
                bound=1 / PF3_FACTOR,
                at_least=False,
                on_ratio=True,
            )
            if label == "1y"
            else None,
            note=f"{SPANS[label]} of business time from {len(moments)} starts over 2026 "
            f"(baseline on {len(baseline_moments)}); day-stepping takes "
            f"{baseline / best:,.1f}x as long",
        )
        for label, (best, median, baseline) in figures.items()
    ]
    results.append(
        Result(
            name="calendar.growth",
            value=figures["1y"][0],
            median=figures["1y"][1],
            unit="us/call",
            better="lower",
            baseline_name="calendar.add.1h",
            baseline=figures["1h"][0],
            target=Target(
                source="goal",
                text=f"<= about {GROWTH_GOAL:g}x the one-hour cost (span-independent)",
                bound=GROWTH_GOAL,
                at_least=False,
                on_ratio=True,
            ),
            note="one year of business time against one hour; day-stepping grows "
            f"{figures['1y'][2] / figures['1h'][2]:,.0f}x for the same spans",
        )
    )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """``python benchmarks/bench_calendar.py --profile``: profile one-year ``add`` calls."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", action="store_true")
    parser.parse_args(argv)
    moments = starts(400)
    profiler = cProfile.Profile()
    profiler.runcall(_per_call(lambda m: add(CALENDAR, m, SPANS["1y"]), moments))
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
