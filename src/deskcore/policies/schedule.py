"""When a knowledge-base sync runs: next run, occurrences in a window, what is due (KB5, KB6).

Pure arithmetic over a :class:`~deskcore.models.schedule.Schedule`: every function takes
``now`` (or a window) as an argument and never reads a clock.

How a local run becomes an instant:

- The recurrence is computed on naive local *dates* with :func:`dateutil.rrule.rrule`; a
  monthly schedule uses the clamping idiom ``bymonthday=range(min(d, 28), d + 1),
  bysetpos=-1``, so a schedule anchored on the 31st runs on the last day of shorter months and
  returns to the 31st afterwards (no drift).
- Each local date is combined with the run time and resolved in the schedule's zone: a wall
  time that exists once runs then; one that exists twice (the clocks went back) runs at the
  first (``fold=0``); one that does not exist (the clocks went forward) runs once at the first
  valid instant after it, which is the transition instant itself.
- The recurrence starts a few days (months, for a monthly schedule) before the local date of
  ``now`` (never before the anchor), not at the anchor, so an anchor decades old costs no more
  than a new one. The rrule's ``byweekday``/``bymonthday`` rules pin the weekday and day of
  month, so starting late gives the same occurrences as starting at the anchor.

Results depend only on instants: ``now``, ``start`` and ``end`` may carry any tzinfo
(``zoneinfo``, ``dateutil.tz``, a fixed offset) and every returned ``at`` is in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, rrule

from deskcore.errors import InvalidModelError, NaiveDatetimeError
from deskcore.models._validate import is_aware
from deskcore.models.schedule import Frequency, Occurrence, Schedule

__all__ = ["SYNC_NOW_MARK", "due_run", "latest_run", "next_run", "occurrences", "sync_now_key"]

# How far before the local date of an instant the recurrence starts. An occurrence's instant
# is within a day of its local date's run time (even across a skipped day, as in
# Pacific/Apia on 2011-12-30), so three days is a safe margin.
_SLACK = timedelta(days=3)
_SECOND = timedelta(seconds=1)
SYNC_NOW_MARK = "sync-now"


def _utc(value: object, function: str, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidModelError(function, field, f"expected a datetime, got {type(value).__name__}")
    if not is_aware(value):
        raise NaiveDatetimeError(
            function, field, f"naive datetime {value.isoformat()}; give it a time zone (T1)"
        )
    return value.astimezone(UTC)


def _schedule(value: object, function: str) -> Schedule:
    if not isinstance(value, Schedule):
        raise InvalidModelError(
            function, "schedule", f"expected a Schedule, got {type(value).__name__}"
        )
    return value


def _rule(schedule: Schedule, start: date) -> rrule:
    """The schedule's local run dates from ``start`` on (never before the anchor)."""
    first = datetime.combine(max(start, schedule.anchor), time())
    anchor = schedule.anchor
    if schedule.frequency is Frequency.DAILY:
        return rrule(DAILY, dtstart=first)
    if schedule.frequency is Frequency.WEEKLY:
        return rrule(WEEKLY, dtstart=first, byweekday=anchor.weekday())
    day = anchor.day
    # The last existing day among (min(day, 28) .. day): the anchor's day, clamped to the last
    # day of a shorter month, and back to the anchor's day in the next longer month.
    return rrule(MONTHLY, dtstart=first, bymonthday=range(min(day, 28), day + 1), bysetpos=-1)


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _instant(local: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant a naive local wall time runs at (KB5's gap and fold rule)."""
    first = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if _wall(first, tz) == local:
        return first  # exists once, or twice and fold=0 is the earlier instant
    # A gap: the two folds read the wall time with the offsets before and after the change,
    # giving instants on either side of the transition. Find the transition (a whole second,
    # as every tz database transition is) by bisection: the first instant whose wall time is
    # past ``local``.
    other = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = sorted((first, other))
    low = low.replace(microsecond=0)
    if high.microsecond:
        high = high.replace(microsecond=0) + _SECOND
    if low == high or _wall(high, tz) <= local or _wall(low, tz) >= local:
        return first  # pragma: no cover - not a plain gap; real tz data has none
    while high - low > _SECOND:
        middle = low + _SECOND * ((high - low) // _SECOND // 2)
        if _wall(middle, tz) > local:
            high = middle
        else:
            low = middle
    return high


def _from(schedule: Schedule, start: date) -> Iterator[Occurrence]:
    """Every occurrence on a local date ``>= max(start, anchor)``, in increasing order."""
    tz = schedule.tz
    try:
        for day in _rule(schedule, start):
            local_date = day.date()
            at = _instant(datetime.combine(local_date, schedule.run_time), tz)
            yield Occurrence(schedule_id=schedule.id, local_date=local_date, at=at)
    except OverflowError:
        return  # the calendar ends (year 9999)


def _start(instant: datetime, tz: ZoneInfo, back: timedelta) -> date:
    try:
        return instant.astimezone(tz).date() - back
    except OverflowError:
        return date.min  # the first days of year 1: start at the anchor


def _lookback(schedule: Schedule) -> timedelta:
    # Far enough back that at least one whole period lies before the instant.
    if schedule.frequency is Frequency.DAILY:
        return _SLACK
    if schedule.frequency is Frequency.WEEKLY:
        return timedelta(days=7) + _SLACK
    return timedelta(days=62) + _SLACK


def next_run(schedule: Schedule, now: datetime) -> Occurrence:
    """The first occurrence strictly after ``now`` (KB5).

    Raises:
        NaiveDatetimeError: ``now`` has no time zone.
        InvalidModelError: No occurrence follows ``now`` before the calendar ends.
    """
    schedule = _schedule(schedule, "next_run")
    moment = _utc(now, "next_run", "now")
    for occurrence in _from(schedule, _start(moment, schedule.tz, _SLACK)):
        if occurrence.at > moment:
            return occurrence
    raise InvalidModelError("next_run", "now", f"no occurrence after {moment.isoformat()}")


def occurrences(schedule: Schedule, start: datetime, end: datetime) -> list[Occurrence]:
    """Every occurrence with ``start < at <= end``, in increasing order (KB5)."""
    schedule = _schedule(schedule, "occurrences")
    low = _utc(start, "occurrences", "start")
    high = _utc(end, "occurrences", "end")
    found: list[Occurrence] = []
    if high <= low:
        return found
    for occurrence in _from(schedule, _start(low, schedule.tz, _SLACK)):
        if occurrence.at > high:
            break
        if occurrence.at > low:
            found.append(occurrence)
    return found


def latest_run(schedule: Schedule, now: datetime) -> Occurrence | None:
    """The latest occurrence at or before ``now``; ``None`` before the first one."""
    schedule = _schedule(schedule, "latest_run")
    moment = _utc(now, "latest_run", "now")
    latest: Occurrence | None = None
    for occurrence in _from(schedule, _start(moment, schedule.tz, _lookback(schedule))):
        if occurrence.at > moment:
            break
        latest = occurrence
    return latest


def due_run(schedule: Schedule, *, now: datetime, last_run: Occurrence | None) -> Occurrence | None:
    """The occurrence to run now, or ``None`` when nothing is due (KB5).

    The latest occurrence at or before ``now`` is due if it comes after ``last_run``: a later
    instant and a later local date (so editing a schedule never re-runs a date already run).
    Runs missed while the host was down coalesce into that one. Asking again with the same
    ``last_run`` (a second worker, a restarted host) gives the same answer; once the host
    records the returned occurrence as ``last_run``, nothing is due until the next one.

    Args:
        schedule: The schedule.
        now: The current instant (aware).
        last_run: The last occurrence the host ran; ``None`` if it never ran one. A "sync now"
            run (KB6) is not an occurrence and does not count.

    Raises:
        NaiveDatetimeError: ``now`` has no time zone.
        InvalidModelError: ``last_run`` belongs to another schedule.
    """
    schedule = _schedule(schedule, "due_run")
    moment = _utc(now, "due_run", "now")
    if last_run is not None:
        if not isinstance(last_run, Occurrence):
            raise InvalidModelError(
                "due_run", "last_run", f"expected an Occurrence, got {type(last_run).__name__}"
            )
        if last_run.schedule_id != schedule.id:
            raise InvalidModelError(
                "due_run",
                "last_run",
                f"an occurrence of schedule {last_run.schedule_id!r}, not {schedule.id!r}",
            )
    latest = latest_run(schedule, moment)
    if latest is None or last_run is None:
        return latest
    if latest.at > last_run.at and latest.local_date > last_run.local_date:
        return latest
    return None


def sync_now_key(schedule_id: str, now: datetime) -> str:
    """Key of a manual "sync now" run (KB6): ``"<id>@sync-now@<UTC instant>"``.

    It never equals an occurrence key (those end in ``@YYYY-MM-DD``; this one ends in a UTC
    offset), depends only on the instant, and leaves the schedule and its anchor untouched:
    the next scheduled run is the same before and after.
    """
    if not isinstance(schedule_id, str) or not schedule_id:
        raise InvalidModelError("sync_now_key", "schedule_id", "expected a non-empty string id")
    moment = _utc(now, "sync_now_key", "now")
    return f"{schedule_id}@{SYNC_NOW_MARK}@{moment.isoformat()}"
