"""Service-level evaluation (SL1, SL5-SL7): a ticket's clocks at ``now``, as a pure function.

:func:`evaluate_sla` takes a ticket, the policy that applies (:func:`select_policy`, SL1), the
policy's business calendar and ``now``, and gives one :class:`SlaClock` per target. Nothing is
stored: the same inputs always give the same report (SL7), so a host evaluates on demand and
schedules one wake-up at :attr:`SlaReport.next_wakeup_at` instead of polling.

The clocks, exactly:

- **When a clock counts.** Business time (SL2-SL4) while the ticket is open or escalated.
  Time on hold does not count, nor time closed: both pause the clock, in business time (SL5).
  The ticket's :meth:`~deskcore.models.Ticket.status_history` says when the status was what.
- **First response** counts from ``created_at`` until ``first_responded_at`` (the first public
  agent reply, L4).
- **Next response** counts from the oldest customer message not yet answered until the next
  public agent reply (SL1). Only messages after the first response start one: before it, the
  first-response clock runs. The report shows the latest cycle: the one still waiting for an
  answer, or else the last one answered. A ticket with no such message has no next-response
  clock yet.
- **Resolution** counts from ``created_at`` until the ticket is closed. Reopening it resumes
  the clock where it stopped (SL5), and closing it again stops it.
- **State.** A clock stopped by its reply or the closing is ``met`` when it counted no more
  than the target (a reply exactly at the deadline is in time) and ``breached`` otherwise. A
  clock not stopped is ``breached`` once it has counted the whole target (at the deadline
  itself), else ``running`` when it counts at ``now`` and ``paused`` when it does not.
- **Deadline.** ``due_at`` is the instant the clock counts its whole target: in the past for a
  breached clock, ahead for a running one (assuming the ticket stays as it is), ``None`` for a
  paused clock (it depends on when the ticket resumes) and for one met before its deadline.
  ``remaining`` and ``breached_by`` are business time.
- **Warning** (SL6). ``warn_at`` is the instant the clock counted ``target.warn_after``. A
  running clock past it shows ``warning``; a paused one never does. :func:`sla_alerts` turns
  the warnings and breaches that happened in a window into alerts for the assignee and the
  policy's managers.
- **History only up to ``now``.** Status changes and messages after ``now`` are ignored, so
  evaluating at an earlier ``now`` gives the report as it was then.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from deskcore.errors import InvalidModelError, NaiveDatetimeError, NoBusinessTimeError
from deskcore.models._validate import is_aware
from deskcore.models.calendar import BusinessCalendar
from deskcore.models.enums import Direction, TicketStatus
from deskcore.models.queue import QueueEntry
from deskcore.models.schedule import zone
from deskcore.models.sla import SlaMetric, SlaPolicy, SlaTarget
from deskcore.models.thread import Comment, Message
from deskcore.models.ticket import Ticket
from deskcore.policies.calendar import add, business_intervals, elapsed

__all__ = [
    "SlaAlert",
    "SlaAlertKind",
    "SlaClock",
    "SlaReport",
    "SlaState",
    "evaluate_sla",
    "format_business_time",
    "select_policy",
    "sla_alerts",
    "to_queue_entry",
]

_ZERO = timedelta(0)
_COUNTING = frozenset({TicketStatus.OPEN, TicketStatus.ESCALATED})
_PAUSE_WORDS = {TicketStatus.ON_HOLD: "on hold", TicketStatus.CLOSED: "closed"}


class SlaState(enum.StrEnum):
    """Where a clock stands (SL7)."""

    RUNNING = "running"
    """Counting now, deadline ahead."""
    PAUSED = "paused"
    """Not counting now (on hold or closed), deadline not reached."""
    MET = "met"
    """Stopped by its reply or the closing, in time."""
    BREACHED = "breached"
    """Counted past its target: stopped late, or still not stopped after the deadline."""


class SlaAlertKind(enum.StrEnum):
    """What an :class:`SlaAlert` announces (SL6)."""

    WARNING = "warning"
    """The deadline is near."""
    BREACH = "breach"
    """The deadline passed: the ticket is overdue."""


@attrs.frozen(kw_only=True)
class SlaClock:
    """One target's clock at the report's ``now`` (SL7).

    Attributes:
        metric: What it measures.
        target: The policy's target.
        state: ``running``, ``paused``, ``met`` or ``breached``.
        started_at: When the cycle began (creation, or the unanswered customer message).
        stopped_at: The reply or closing that stopped it, or ``None``.
        counted: Business time counted, up to ``now`` or ``stopped_at``.
        remaining: Business time left before the deadline (zero once reached).
        breached_by: Business time counted past the deadline (zero before it).
        due_at: When the clock counts its whole target (see the module notes), or ``None``.
        warn_at: When it counted ``target.warn_after``: in the past once reached, whatever
            the state now, ahead while running; ``None`` without a warning, or when not yet
            reached and not running.
        warning: Running, past ``warn_at``, not yet breached.
        next_wakeup_at: The next instant this clock changes on its own: its warning or its
            deadline, whichever comes first after ``now``; ``None`` unless running.
        intervals: The business intervals counted, as ``(start, end)`` UTC pairs, when the
            report was asked to explain itself; else empty.
        explanation: One sentence saying why.
    """

    metric: SlaMetric
    target: SlaTarget
    state: SlaState
    started_at: datetime
    stopped_at: datetime | None
    counted: timedelta
    remaining: timedelta
    breached_by: timedelta
    due_at: datetime | None
    warn_at: datetime | None
    warning: bool
    next_wakeup_at: datetime | None
    intervals: tuple[tuple[datetime, datetime], ...]
    explanation: str


@attrs.frozen(kw_only=True)
class SlaReport:
    """A ticket's service levels at ``evaluated_at`` (SL7).

    Attributes:
        ticket_id: The ticket.
        policy_id: The policy that applied.
        calendar_id: The calendar the clocks counted in.
        evaluated_at: The ``now`` of the evaluation.
        clocks: One per target of the policy that has a cycle, in metric order.
        recipients: Who hears of warnings and breaches: the assignee, then the managers.
        next_wakeup_at: The earliest instant a clock changes on its own (a warning or a
            deadline); ``None`` when none will. Evaluate again then, or after the ticket
            changes.
        due_at: The earliest deadline of a running clock (Q1's next deadline), or ``None``.
        overdue_since: The earliest deadline of a breached clock not yet stopped: the ticket
            has been overdue since then (Q1); ``None`` when it is not overdue.
        acted_after_overdue: An agent acted (a reply, a note, a status change) at or after
            ``overdue_since``; the ticket then leaves the head of the queue (Q1).
    """

    ticket_id: str
    policy_id: str
    calendar_id: str
    evaluated_at: datetime
    clocks: tuple[SlaClock, ...]
    recipients: tuple[str, ...]
    next_wakeup_at: datetime | None
    due_at: datetime | None
    overdue_since: datetime | None
    acted_after_overdue: bool

    def clock(self, metric: SlaMetric | str) -> SlaClock | None:
        """The clock of ``metric``, or ``None`` when it has none."""
        return next((c for c in self.clocks if c.metric == metric), None)

    @property
    def overdue(self) -> bool:
        """True when a clock is breached and not stopped."""
        return self.overdue_since is not None


@attrs.frozen(kw_only=True)
class SlaAlert:
    """A warning or a breach to announce (SL6), for the host to deliver after commit (N3).

    Attributes:
        ticket_id: The ticket.
        metric: The target.
        kind: ``warning`` or ``breach``.
        at: When it happened (``warn_at`` or ``due_at``).
        due_at: The deadline.
        recipients: The assignee and the policy's managers.
        key: Stable across evaluations: the same alert always has the same key, so a host
            that evaluates twice can drop the repeat.
    """

    ticket_id: str
    metric: SlaMetric
    kind: SlaAlertKind
    at: datetime
    due_at: datetime | None
    recipients: tuple[str, ...]
    key: str


# -- selection -----------------------------------------------------------------------------------


def select_policy(policies: Iterable[SlaPolicy], ticket: Ticket) -> SlaPolicy | None:
    """The first policy whose conditions match ``ticket`` (SL1), or ``None``."""
    if not isinstance(ticket, Ticket):
        raise InvalidModelError(
            "select_policy", "ticket", f"expected a Ticket, got {type(ticket).__name__}"
        )
    for policy in policies:
        if not isinstance(policy, SlaPolicy):
            raise InvalidModelError(
                "select_policy", "policies", f"expected SlaPolicy, got {type(policy).__name__}"
            )
        if policy.conditions.matches(ticket):
            return policy
    return None


# -- evaluation ----------------------------------------------------------------------------------

_Segment = tuple[datetime, datetime | None, TicketStatus]
_Piece = tuple[datetime, datetime | None]


def _segments(ticket: Ticket, now: datetime) -> list[_Segment]:
    """The ticket's statuses over time up to ``now``: ``(start, end, status)``, the last
    open-ended."""
    history = ticket.status_history()
    status = history[0].from_status if history else ticket.status
    start = ticket.created_at
    segments: list[_Segment] = []
    for record in history:
        if record.at > now:
            break
        at = max(record.at, ticket.created_at)
        if at > start:
            segments.append((start, at, status))
            start = at
        status = record.to_status
    segments.append((start, None, status))
    return segments


def _pieces(segments: list[_Segment], start: datetime, stop: datetime | None) -> list[_Piece]:
    """The counting parts of ``[start, stop)`` (``stop`` ``None``: open-ended)."""
    found: list[_Piece] = []
    for a, b, status in segments:
        if status not in _COUNTING:
            continue
        low = max(a, start)
        high = b if stop is None else stop if b is None else min(b, stop)
        if high is None or low < high:
            found.append((low, high))
    return found


@attrs.frozen
class _Measure:
    counted: timedelta
    due_at: datetime | None
    warn_at: datetime | None
    never: bool  # the calendar has no business time left to reach the target


def _measure(
    calendar: BusinessCalendar, pieces: list[_Piece], target: SlaTarget, now: datetime
) -> _Measure:
    counted = _ZERO
    found: dict[timedelta, datetime | None] = {}
    thresholds = [t for t in (target.warn_after, target.within) if t is not None]
    never = False
    for a, b in pieces:
        upto = now if b is None else min(b, now)
        part = elapsed(calendar, a, upto) if upto > a else _ZERO
        for threshold in thresholds:
            if threshold in found:
                continue
            need = threshold - counted
            if b is None:
                try:
                    found[threshold] = add(calendar, a, need)
                except NoBusinessTimeError:
                    found[threshold] = None
                    never = True
            elif part >= need:
                found[threshold] = add(calendar, a, need)
        counted += part
    warn_at = found.get(target.warn_after) if target.warn_after is not None else None
    return _Measure(counted, found.get(target.within), warn_at, never)


def _cycles(ticket: Ticket, now: datetime) -> tuple[datetime, datetime | None] | None:
    """The latest next-response cycle at ``now``: ``(start, reply)``, or ``None``."""
    responded = False
    pending: datetime | None = None
    last: tuple[datetime, datetime | None] | None = None
    for message in ticket.messages():
        if message.sent_at > now:
            break
        if message.is_public_reply:
            if pending is not None:
                last = (pending, message.sent_at)
                pending = None
            responded = True
        elif message.direction is Direction.INBOUND and responded and pending is None:
            pending = message.sent_at
    return (pending, None) if pending is not None else last


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="minutes")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _clock(
    metric: SlaMetric,
    target: SlaTarget,
    window: tuple[datetime, datetime | None],
    segments: list[_Segment],
    calendar: BusinessCalendar,
    now: datetime,
    explain: bool,
) -> SlaClock:
    start, stop = window
    pieces = _pieces(segments, start, stop)
    measure = _measure(calendar, pieces, target, now)
    counted, within = measure.counted, target.within
    counting_now = stop is None and bool(pieces) and pieces[-1][1] is None
    if stop is not None:
        state = SlaState.MET if counted <= within else SlaState.BREACHED
    elif counted >= within:
        state = SlaState.BREACHED
    elif counting_now:
        state = SlaState.RUNNING
    else:
        state = SlaState.PAUSED
    # Only a clock counting now is projected past ``now`` (``_measure``'s open-ended piece).
    due_at = measure.due_at
    warn_at = measure.warn_at
    warning = state is SlaState.RUNNING and warn_at is not None and warn_at <= now
    wakeups = [t for t in (warn_at, due_at) if t is not None and t > now]
    intervals: tuple[tuple[datetime, datetime], ...] = ()
    if explain:
        spans = [(a, now if b is None else min(b, now)) for a, b in pieces]
        intervals = tuple(
            interval for a, b in spans if a < b for interval in business_intervals(calendar, a, b)
        )
    return SlaClock(
        metric=metric,
        target=target,
        state=state,
        started_at=start,
        stopped_at=stop,
        counted=counted,
        remaining=max(within - counted, _ZERO),
        breached_by=max(counted - within, _ZERO),
        due_at=due_at,
        warn_at=warn_at,
        warning=warning,
        next_wakeup_at=min(wakeups) if wakeups else None,
        intervals=intervals,
        explanation=_explain(
            zone(calendar.timezone),
            metric,
            state,
            counted,
            within,
            start,
            stop,
            due_at,
            segments,
            now,
        )
        + (" No business time is left in the calendar to reach it." if measure.never else ""),
    )


def format_business_time(value: timedelta) -> str:
    """A business-time duration as people read it: ``4h10m``, ``0h30m``, ``27h00m05s``."""
    minutes, seconds = divmod(round(value.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if not seconds else f"{hours}h{minutes:02d}m{seconds:02d}s"


def _explain(
    tz: ZoneInfo,
    metric: SlaMetric,
    state: SlaState,
    counted: timedelta,
    within: timedelta,
    start: datetime,
    stop: datetime | None,
    due_at: datetime | None,
    segments: list[_Segment],
    now: datetime,
) -> str:
    name = metric.value.replace("_", " ")
    head = (
        f"{name}: {format_business_time(counted)} of {format_business_time(within)} business "
        f"time counted since {_local(start, tz)}"
    )
    end = stop if stop is not None else now
    paused = sorted(
        {
            _PAUSE_WORDS[status]
            for a, b, status in segments
            if status in _PAUSE_WORDS and a < end and (b is None or b > start)
        }
    )
    if paused:
        head += f", not counting while {' or '.join(paused)} (SL5)"
    if state is SlaState.MET:
        return (
            f"{head}; met at {_local(end, tz)}, {format_business_time(within - counted)} to spare."
        )
    if state is SlaState.BREACHED:
        missed = "" if due_at is None else f" at {_local(due_at, tz)}"
        late = f"{format_business_time(counted - within)} over"
        if stop is not None:
            return f"{head}; stopped at {_local(stop, tz)}, {late}: breached{missed}."
        return f"{head}; not stopped, {late}: breached{missed}."
    if state is SlaState.PAUSED:
        return f"{head}; paused now, {format_business_time(within - counted)} left."
    due = "" if due_at is None else f", due {_local(due_at, tz)}"
    return f"{head}; running, {format_business_time(within - counted)} left{due}."


def _require_now(now: object, operation: str) -> None:
    if not isinstance(now, datetime) or not is_aware(now):
        raise NaiveDatetimeError(operation, "now", f"{now!r} is not an aware datetime (T1)")


def _acted(ticket: Ticket, since: datetime, now: datetime) -> bool:
    """An agent acted in ``[since, now]``: a reply, a note, a status change (not a reopen by
    the customer)."""
    for item in ticket.thread:
        if since <= item.created_at <= now and (
            isinstance(item, Comment)
            or (isinstance(item, Message) and item.direction is Direction.OUTBOUND)
        ):
            return True
    return any(
        since <= record.at <= now and record.reason not in ("reopened_by_customer", "implied")
        for record in ticket.status_history()
    )


def evaluate_sla(
    ticket: Ticket,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    *,
    now: datetime,
    explain: bool = False,
) -> SlaReport:
    """The service levels of ``ticket`` under ``policy`` at ``now`` (SL5-SL7).

    Args:
        ticket: The ticket, with its status history and thread.
        policy: The policy that applies (:func:`select_policy`).
        calendar: The business calendar the policy counts in.
        now: The moment of the evaluation; history after it is ignored.
        explain: Also list, per clock, the business intervals counted (a walk day by day:
            meant for one ticket on screen, not for a sweep over many).

    Raises:
        NaiveDatetimeError: ``now`` has no time zone.
        InvalidModelError: An argument is not of its type.
    """
    _require_now(now, "evaluate_sla")
    for value, kind, field in (
        (ticket, Ticket, "ticket"),
        (policy, SlaPolicy, "policy"),
        (calendar, BusinessCalendar, "calendar"),
    ):
        if not isinstance(value, kind):
            raise InvalidModelError(
                "evaluate_sla",
                field,
                f"expected {kind.__name__}, got {type(value).__name__}",
            )
    segments = _segments(ticket, now)
    windows: dict[SlaMetric, tuple[datetime, datetime | None] | None] = {}
    responded = ticket.first_responded_at
    windows[SlaMetric.FIRST_RESPONSE] = (
        ticket.created_at,
        None if responded is None or responded > now else max(responded, ticket.created_at),
    )
    windows[SlaMetric.NEXT_RESPONSE] = _cycles(ticket, now)
    last_start, _, last_status = segments[-1]
    windows[SlaMetric.RESOLUTION] = (
        ticket.created_at,
        last_start if last_status is TicketStatus.CLOSED else None,
    )
    clocks = tuple(
        _clock(metric, target, window, segments, calendar, now, explain)
        for metric, target in policy.targets()
        if (window := windows[metric]) is not None
    )
    running = [c.due_at for c in clocks if c.state is SlaState.RUNNING and c.due_at is not None]
    overdue = [
        c.due_at
        for c in clocks
        if c.state is SlaState.BREACHED and c.stopped_at is None and c.due_at is not None
    ]
    wakeups = [c.next_wakeup_at for c in clocks if c.next_wakeup_at is not None]
    overdue_since = min(overdue) if overdue else None
    recipients = tuple(
        dict.fromkeys(
            [*([ticket.assignee_id] if ticket.assignee_id is not None else []), *policy.managers]
        )
    )
    return SlaReport(
        ticket_id=ticket.id,
        policy_id=policy.id,
        calendar_id=calendar.id,
        evaluated_at=now,
        clocks=clocks,
        recipients=recipients,
        next_wakeup_at=min(wakeups) if wakeups else None,
        due_at=min(running) if running else None,
        overdue_since=overdue_since,
        acted_after_overdue=overdue_since is not None and _acted(ticket, overdue_since, now),
    )


def sla_alerts(report: SlaReport, *, since: datetime | None) -> tuple[SlaAlert, ...]:
    """The warnings and breaches that happened in ``(since, report.evaluated_at]`` (SL6).

    A warning is announced only for a clock still running at the report's ``now`` (warnings
    do not fire while paused, SL5), and a breach for a clock still not stopped. A host that
    evaluates at each ``next_wakeup_at`` and passes its previous evaluation's ``now`` as
    ``since`` hears of each once; ``since=None`` gives every one so far. Alerts come in time
    order.
    """
    if not isinstance(report, SlaReport):
        raise InvalidModelError(
            "sla_alerts", "report", f"expected SlaReport, got {type(report).__name__}"
        )
    if since is not None:
        _require_now(since, "sla_alerts")
    now = report.evaluated_at

    def within(moment: datetime | None) -> bool:
        return moment is not None and (since is None or since < moment) and moment <= now

    alerts: list[SlaAlert] = []
    for clock in report.clocks:
        candidates = []
        if clock.state is SlaState.RUNNING and within(clock.warn_at):
            candidates.append((SlaAlertKind.WARNING, clock.warn_at))
        if clock.state is SlaState.BREACHED and clock.stopped_at is None and within(clock.due_at):
            candidates.append((SlaAlertKind.BREACH, clock.due_at))
        for kind, at in candidates:
            assert at is not None
            alerts.append(
                SlaAlert(
                    ticket_id=report.ticket_id,
                    metric=clock.metric,
                    kind=kind,
                    at=at,
                    due_at=clock.due_at,
                    recipients=report.recipients,
                    key=f"{report.ticket_id}/{clock.metric.value}/{_utc(clock.started_at)}/"
                    f"{kind.value}",
                )
            )
    alerts.sort(key=lambda alert: alert.at)
    return tuple(alerts)


def to_queue_entry(ticket: Ticket, report: SlaReport | None) -> QueueEntry:
    """The work-queue entry (Q1) of ``ticket`` with its SLA report (``None``: no policy)."""
    if report is None:
        return QueueEntry(ticket=ticket)
    if report.ticket_id != ticket.id:
        raise InvalidModelError(
            "to_queue_entry",
            "report",
            f"the report is of ticket {report.ticket_id}, not {ticket.id}",
        )
    return QueueEntry(
        ticket=ticket,
        due_at=report.due_at,
        overdue_since=report.overdue_since,
        acted_after_overdue=report.acted_after_overdue,
    )
