"""The service-levels section of ``deskcore demo`` (SL1-SL7, N1-N3, Q1).

Plays ``data/sample_levels.json`` after the knowledge-base section, on the demo's store and
clock, through a :class:`deskcore.Desk` that has the file's ``service_levels`` (a business
calendar and SLA policies, SL1-SL4) and ``notifications`` (routing rules, agents and
templates, N1, N2). The policies cover the department ``care`` only, so the tickets of the
earlier sections have no deadline. Its ``steps`` are, besides ``section`` headings, steps
(with ``at`` and ``note``) holding one or more of, done in this order:

- ``settings``: print the calendars, the policies and the routing rules.
- ``event``: one of ``events``, an inbound event as a host's webhook posts it, received by
  :meth:`deskcore.Desk.receive`; then :meth:`deskcore.Desk.follow_up` with its events: the
  notifications (N1, N2, N3) and the SLA report of the ticket (SL7). With ``detail``, the
  intake is reported in full, and where the first response's time left will be counted.
- ``status``: an agent changes the status of the ticket of an event's conversation
  (``{"ticket": event, "to": status}``), then ``follow_up`` as above (SL5).
- ``explain``: :meth:`deskcore.Desk.sla_report` of an event's ticket, with the business
  intervals its first-response clock counted (SL5, SL7).
- ``check``: the host's wake-up, :meth:`deskcore.Desk.check_service_levels` with the previous
  check's ``checked_at`` as ``since`` (SL6).
- ``queue``: the first entries of :meth:`deskcore.Desk.work_queue` (Q1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from deskcore import (
    BusinessCalendar,
    Desk,
    DomainEvent,
    ExternalReference,
    Notification,
    NotificationSettings,
    QueueEntry,
    QueueGroup,
    RoutingRule,
    SlaAlertKind,
    SlaClock,
    SlaConditions,
    SlaMetric,
    SlaPolicy,
    SlaReport,
    SlaSettings,
    SlaState,
    SlaTarget,
    Template,
    Ticket,
    TicketStatus,
    queue_group,
)
from deskcore.cli.demo import Label, _event_names, _report, _say, _Scene, _short
from deskcore.policies.calendar import business_intervals
from deskcore.testing.fakes import FixedClock
from deskcore.wire import parse_inbound_event, to_inbound_message

__all__ = ["_LevelsScene"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_GROUPS = {
    QueueGroup.OVERDUE: "overdue",
    QueueGroup.NEEDS_ACTION: "needs action",
    QueueGroup.OTHER: "other",
}


# -- the settings, built from the data file ---------------------------------------------------


def _target(spec: Mapping[str, Any] | None) -> SlaTarget | None:
    if spec is None:
        return None
    before = spec.get("warn_before_hours")
    return SlaTarget(
        within=timedelta(hours=spec["within_hours"]),
        warn_before=None if before is None else timedelta(hours=before),
        warn_fraction=spec.get("warn_fraction"),
    )


def _service_levels(spec: Mapping[str, Any]) -> SlaSettings:
    calendars = [
        BusinessCalendar(
            id=c["id"],
            timezone=c["timezone"],
            weekly=c["weekly"],
            holidays=[date.fromisoformat(day) for day in c.get("holidays", {})],
            exceptions={date.fromisoformat(k): v for k, v in c.get("exceptions", {}).items()},
        )
        for c in spec["calendars"]
    ]
    policies = [
        SlaPolicy(
            id=p["id"],
            name=p.get("name", ""),
            conditions=SlaConditions(**p.get("conditions", {})),
            first_response=_target(p.get("first_response")),
            next_response=_target(p.get("next_response")),
            resolution=_target(p.get("resolution")),
            calendar_id=p.get("calendar_id"),
            managers=p.get("managers", ()),
        )
        for p in spec["policies"]
    ]
    return SlaSettings(
        calendars=calendars, default_calendar_id=spec["default_calendar_id"], policies=policies
    )


def _notifications(spec: Mapping[str, Any]) -> NotificationSettings:
    return NotificationSettings(
        rules=[RoutingRule(**rule) for rule in spec["rules"]],
        agents=spec["agents"],
        templates={kind: Template(**t) for kind, t in spec.get("templates", {}).items()},
    )


# -- formatting -------------------------------------------------------------------------------


def _span(value: timedelta) -> str:
    """Business time as ``4h``, ``15m`` or ``3h30m``."""
    hours, minutes = divmod(round(value.total_seconds()) // 60, 60)
    if not minutes:
        return f"{hours}h"
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _weekly(calendar: BusinessCalendar) -> str:
    """The weekly schedule, days with the same hours together: ``Mon-Fri 09:00-12:00, ...``."""
    runs: list[tuple[int, int, str]] = []
    for day in range(7):
        hours = ", ".join(f"{_hhmm(s)}-{_hhmm(e)}" for s, e in calendar.weekly[day])
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == hours:
            runs[-1] = (runs[-1][0], day, hours)
        else:
            runs.append((day, day, hours))
    return "; ".join(
        f"{_DAYS[a]}{'' if a == b else '-' + _DAYS[b]} {hours}" for a, b, hours in runs if hours
    )


def _metric(metric: SlaMetric) -> str:
    return metric.value.replace("_", " ")


def _target_text(metric: SlaMetric, target: SlaTarget) -> str:
    text = f"{_metric(metric)} {_span(target.within)}"
    if target.warn_before is not None:
        text += f" (warn {_span(target.warn_before)} before)"
    elif target.warn_fraction is not None:
        text += f" (warn at {target.warn_fraction:.0%} left)"
    return text


def _conditions(conditions: SlaConditions) -> str:
    parts = [", ".join(sorted(conditions.department_ids))]
    if conditions.priorities:
        parts.append(f"priority {', '.join(sorted(p.value for p in conditions.priorities))}")
    if conditions.channels:
        parts.append(f"channel {', '.join(sorted(c.code for c in conditions.channels))}")
    return ", ".join(parts)


# -- the scene --------------------------------------------------------------------------------


class _LevelsScene(_Scene):
    """Plays the service-levels section of ``sample_levels.json`` (SL1-SL7, N1-N3, Q1) on a
    desk of its own, over the demo desk's store, clock and ids."""

    def __init__(
        self, out: TextIO, desk: Desk, clock: FixedClock, data: Mapping[str, Any], label: Label
    ) -> None:
        self.levels = _service_levels(data["service_levels"])
        self.notices = _notifications(data["notifications"])
        desk = Desk(
            store=desk.store,
            settings=desk.settings,
            clock=clock,
            ids=desk.ids,
            merge_policy=desk.merge_policy,
            service_levels=self.levels,
            notifications=self.notices,
        )
        super().__init__(out, desk, clock, data, label)
        self.calendar = self.levels.calendar()
        self.tz = ZoneInfo(self.calendar.timezone)
        self.holidays: dict[date, str] = {
            date.fromisoformat(day): name
            for c in data["service_levels"]["calendars"]
            for day, name in c.get("holidays", {}).items()
        }
        self.covered = {d for p in self.levels.policies for d in p.conditions.department_ids}
        self.checked_at: datetime | None = None

    def _step(self, entry: Mapping[str, Any]) -> None:
        touched: list[DomainEvent] = []
        detail = bool(entry.get("detail"))
        if entry.get("settings"):
            self._settings()
        if "event" in entry:
            touched.extend(self._event(entry["event"], detail=detail))
        if "status" in entry:
            touched.extend(self._status(entry["status"]["ticket"], entry["status"]["to"]))
        explained = self._ticket(entry["explain"]) if "explain" in entry else None
        if touched:
            skip = None if explained is None else explained.id
            self._follow_up(touched, skip=skip, detail=detail)
        if explained is not None:
            self._explain(explained)
        if entry.get("check"):
            self._check()
        if "queue" in entry:
            self._queue(entry["queue"])

    # -- helpers ------------------------------------------------------------------------------

    def _local(self, moment: datetime, *, near: datetime | None = None) -> str:
        """``Tue 2027-01-12 11:00`` in the calendar's zone; with ``near``, just ``11:00`` on
        the same day as ``near`` and ``Wed 16:00`` on another."""
        local = moment.astimezone(self.tz)
        if near is None:
            return f"{local:%a %Y-%m-%d %H:%M}"
        if local.date() == near.astimezone(self.tz).date():
            return f"{local:%H:%M}"
        return f"{local:%a %H:%M}"

    def _ticket(self, event: str) -> Ticket:
        spec = self.data["events"][event]["conversation"]
        found = self.desk.store.find_by_reference(ExternalReference(**spec))
        assert found is not None, f"no ticket for the conversation of {event}"
        return self.desk.resolve(found.id)

    # -- settings (SL1-SL4, N1, N2) -----------------------------------------------------------

    def _settings(self) -> None:
        for calendar in self.levels.calendars:
            holidays = ", ".join(
                f"{day:%a} {day} {self.holidays.get(day, '')}".rstrip()
                for day in sorted(calendar.holidays)
            )
            _say(
                self.out,
                f"calendar {calendar.id} ({calendar.timezone}): {_weekly(calendar)}; "
                f"holidays {holidays or 'none'}",
                hang="  ",
            )
        policies = self.levels.policies
        shared = {p.managers for p in policies}
        managers = ", ".join(next(iter(shared))) if len(shared) == 1 else ""
        print(
            "    policies, the first that matches applies (SL1)"
            + (f"; managers {managers}:" if managers else ":"),
            file=self.out,
        )
        for policy in policies:
            targets = ", ".join(_target_text(m, t) for m, t in policy.targets())
            if not managers:
                targets += f"; managers {', '.join(policy.managers) or 'none'}"
            _say(
                self.out,
                f"{policy.id} ({_conditions(policy.conditions)}): {targets}",
                indent="      ",
                hang="  ",
            )
        rules = []
        for rule in self.notices.rules:
            what = f"{rule.id} → {', '.join(rule.agent_ids or self.notices.agents)}"
            if rule.phrases:
                what += f" when the text holds {', '.join(rule.phrases)}"
            rules.append(what)
        _say(self.out, f"notifications (N1): {'; '.join(rules)}", hang="  ")

    # -- changes ------------------------------------------------------------------------------

    def _event(self, key: str, *, detail: bool) -> Sequence[DomainEvent]:
        message = to_inbound_message(parse_inbound_event(self.data["events"][key]))
        author = message.author_name or message.contact.name or message.contact.id
        head = f"    {message.channel} {message.direction.value} from {author}: "
        print(f"{head}“{_short(message.body, max(24, 88 - len(head)))}”", file=self.out)
        result = self.desk.receive(message)
        if detail:
            _report(self.out, result, self.label)
        else:
            assert result.ticket is not None
            _say(
                self.out,
                f"→ {result.action.value.upper()} ({result.reason}) on ticket "
                f"#{result.ticket.number}: {_event_names(result.events)}",
                hang="  ",
            )
        return result.events

    def _status(self, event: str, to: str) -> Sequence[DomainEvent]:
        ticket = self._ticket(event)
        change = self.desk.change_status(ticket.id, TicketStatus(to))
        print(
            f"    change_status(#{ticket.number}, {to}) → {_event_names(change.events)}",
            file=self.out,
        )
        return change.events

    def _follow_up(self, events: Iterable[DomainEvent], *, skip: str | None, detail: bool) -> None:
        follow = self.desk.follow_up(events)
        self._notifications(follow.notifications)
        for report in follow.reports:
            if report.ticket_id != skip:
                self._clocks(report, detail=detail)

    def _notifications(self, notifications: Sequence[Notification]) -> None:
        if not notifications:
            return
        groups: dict[str, list[str]] = {}
        for notification in notifications:
            reasons = []
            for reason in notification.reasons:
                found = ", ".join(f"{m.keyword} at {m.start}-{m.end}" for m in reason.matches)
                reasons.append(reason.rule_id + (f", phrase {found}" if found else ""))
            why = f"{notification.event_kind} by {'; '.join(reasons)}"
            groups.setdefault(why, []).append(notification.recipient_id)
        lines = [f"{', '.join(recipients)}: {why}" for why, recipients in groups.items()]
        head = f"    follow_up → {len(notifications)} notifications (N1):"
        if len(lines) == 1:
            print(f"{head} {lines[0]}", file=self.out)
        else:
            print(head, file=self.out)
            for line in lines:
                print(f"      {line}", file=self.out)
        content = notifications[0].content
        if content is not None:
            print(f"      template {content.template_id}: “{content.subject}”", file=self.out)

    # -- service levels (SL5-SL7) -------------------------------------------------------------

    def _clock(self, clock: SlaClock) -> str:
        counted = f"{_span(clock.counted)} counted, " if clock.counted else ""
        if clock.state is SlaState.RUNNING:
            assert clock.due_at is not None
            warn = clock.warn_at
            warning = "" if warn is None else f", warning {self._local(warn, near=clock.due_at)}"
            return f"{counted}due {self._local(clock.due_at)}{warning}"
        if clock.state is SlaState.PAUSED:
            return f"{counted}{_span(clock.remaining)} left; no deadline while paused (SL5)"
        if clock.state is SlaState.MET:
            assert clock.stopped_at is not None
            return f"{counted}met at {self._local(clock.stopped_at)}"
        assert clock.due_at is not None
        due = self._local(clock.due_at)
        if clock.stopped_at is not None:
            return (
                f"{counted}due {due}, stopped by the reply at "
                f"{self._local(clock.stopped_at, near=clock.due_at)}: breached by "
                f"{_span(clock.breached_by)}"
            )
        return f"{counted}overdue since {due}"

    def _clocks(self, report: SlaReport, *, detail: bool = False, head: str = "") -> None:
        wakeup = report.next_wakeup_at
        when = "none" if wakeup is None else self._local(wakeup, near=self.clock.now())
        print(
            f"    {head or f'SLA of {self.label(report.ticket_id)}'} ({report.policy_id}, "
            f"{report.calendar_id} hours): next_wakeup_at {when}",
            file=self.out,
        )
        for clock in report.clocks:
            _say(
                self.out,
                f"{_metric(clock.metric):<15}{clock.state.value:<9}{self._clock(clock)}",
                indent="      ",
                hang="  ",
            )
            if detail and clock.metric is SlaMetric.FIRST_RESPONSE and clock.due_at:
                self._projection(clock.due_at)

    def _projection(self, due_at: datetime) -> None:
        """Where the time left of a running clock is counted, and the days skipped."""
        now = self.clock.now()
        spans = " + ".join(
            f"{_span(b - a)} {a.astimezone(self.tz):%a %H:%M}-{b.astimezone(self.tz):%H:%M}"
            for a, b in business_intervals(self.calendar, now, due_at)
        )
        first = now.astimezone(self.tz).date()
        between = (
            first + timedelta(days=n)
            for n in range(1, (due_at.astimezone(self.tz).date() - first).days)
        )
        skipped = [
            f"{day:%a %m-%d} holiday" if day in self.calendar.holidays else f"{day:%a}"
            for day in between
            if not self.calendar.intervals_on(day)
        ]
        _say(
            self.out,
            f"counts {spans}; skips {', '.join(skipped) or 'no day'}",
            indent="        ",
            hang="  ",
        )

    def _explain(self, ticket: Ticket) -> None:
        report = self.desk.sla_report(ticket.id)
        assert report is not None
        self._clocks(report, head=f"sla_report(#{ticket.number})")
        clock = report.clock(SlaMetric.FIRST_RESPONSE)
        assert clock is not None
        spans = ", ".join(
            f"{self._local(a)}-{b.astimezone(self.tz):%H:%M}" for a, b in clock.intervals
        )
        _say(self.out, f"first response counted {spans}", indent="        ", hang="  ")
        held = [
            record.at
            for record in ticket.status_history()
            if TicketStatus.ON_HOLD in (record.from_status, record.to_status)
        ]
        if len(held) >= 2:
            print(
                f"        on hold {self._local(held[0])} to {self._local(held[1])}: not counted",
                file=self.out,
            )
            _say(self.out, f"why: {clock.explanation}", indent="        ", hang="  ")

    # -- the wake-up (SL6) --------------------------------------------------------------------

    def _check(self) -> None:
        since = self.checked_at
        check = self.desk.check_service_levels(since=since)
        self.checked_at = check.checked_at
        now = self.clock.now()
        after = "None" if since is None else self._local(since)
        found = {0: "no alerts", 1: "1 alert"}.get(len(check.alerts), f"{len(check.alerts)} alerts")
        wakeup = check.next_wakeup_at
        print(
            f"    check_service_levels(since={after}) → {found} (SL6); next wake-up "
            f"{'none' if wakeup is None else self._local(wakeup, near=now)}",
            file=self.out,
        )
        for alert in check.alerts:
            kind = "sla_warning" if alert.kind is SlaAlertKind.WARNING else "sla_breach"
            content = next(
                (
                    n.content
                    for n in check.notifications
                    if n.ticket_id == alert.ticket_id and n.event_kind == kind
                ),
                None,
            )
            assert alert.due_at is not None
            what = (
                f"at {self._local(alert.at, near=now)}, due {self._local(alert.due_at, near=now)}"
                if alert.kind is SlaAlertKind.WARNING
                else f"overdue since {self._local(alert.at, near=now)}"
            )
            print(
                f"      {alert.kind.value.upper()} {self.label(alert.ticket_id)} "
                f"{_metric(alert.metric)} {what} → {', '.join(alert.recipients)}",
                file=self.out,
            )
            if content is not None:
                print(f"        {content.template_id}: “{content.subject}”", file=self.out)

    # -- the work queue (Q1) ------------------------------------------------------------------

    def _entry(self, n: int, entry: QueueEntry, now: datetime) -> str:
        ticket = entry.ticket
        group = queue_group(entry, now)
        if group is QueueGroup.OVERDUE:
            assert entry.overdue_since is not None
            when = f"since {self._local(entry.overdue_since, near=now)}"
        elif entry.due_at is not None:
            when = f"due {self._local(entry.due_at, near=now)}"
        else:
            when = "no deadline"
        return (
            f"{n:2}. #{ticket.number:<3} {_GROUPS[group]:<12} {when:<13} "
            f"{ticket.channel.code:<8} {_short(ticket.subject, 30)}"
        )

    def _queue(self, limit: int) -> None:
        now = self.clock.now()
        entries = self.desk.work_queue()
        print(f"    work_queue (Q1): the first {limit} of {len(entries)}", file=self.out)
        for n, entry in enumerate(entries[:limit], start=1):
            print(f"     {self._entry(n, entry, now)}", file=self.out)
        later = [
            (n, entry)
            for n, entry in enumerate(entries, start=1)
            if n > limit and entry.ticket.department_id in self.covered
        ]
        for n, entry in later:
            print(f"     {self._entry(n, entry, now)}", file=self.out)
