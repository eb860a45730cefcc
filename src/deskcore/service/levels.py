"""Service levels, notifications, the work queue and contact metrics as use cases (SL1-SL7,
N1-N3, Q1, X1, C9).

The desk reads tickets through the store and decides with the pure policies
(:mod:`deskcore.policies.sla`, :mod:`deskcore.policies.notifications`,
:mod:`deskcore.policies.queue`, :mod:`deskcore.policies.metrics`). It writes nothing: these
use cases run *after* a change has committed, so the values they return (notifications,
alerts, reports) never speak of a change that was rolled back (N3). The host delivers them.

The host's loop, in full:

1. After each change (``receive``, a chat or social outcome, a status change...), call
   :meth:`~ServiceLevelUseCases.follow_up` with the change's events: it returns the new-ticket
   and new-message notifications (N1) and the touched tickets' SLA reports, with the earliest
   instant a clock changes on its own.
2. Keep one wake-up at the earliest ``next_wakeup_at`` seen. When it comes, call
   :meth:`~ServiceLevelUseCases.check_service_levels` with the previous check's instant as
   ``since``: it returns the warnings and breaches that happened in between (SL6), as alerts
   and as notifications for each ticket's assignee and the policy's managers, and the next
   wake-up.
3. Show :meth:`~ServiceLevelUseCases.work_queue` (Q1) to agents.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs

from deskcore.errors import InvalidModelError, NaiveDatetimeError, NotFoundError
from deskcore.models import (
    Audience,
    Direction,
    DomainEvent,
    ItemAppended,
    Message,
    QueueEntry,
    Ticket,
    TicketCreated,
    TicketMerged,
    TicketQuery,
    TicketStatus,
)
from deskcore.models._validate import is_aware
from deskcore.models.query import MAX_LIMIT
from deskcore.policies import (
    ContactMetrics,
    Notification,
    Rating,
    RoutingReason,
    SlaAlert,
    SlaAlertKind,
    SlaReport,
    compile_routing_matcher,
    contact_metrics,
    format_business_time,
    order_queue,
    render_template,
    route_notifications,
    sla_alerts,
    to_queue_entry,
)
from deskcore.policies.keywords import KeywordMatcher
from deskcore.service.base import DeskBase

__all__ = ["FollowUp", "ServiceLevelCheck", "ServiceLevelUseCases"]

_QUEUED = frozenset({TicketStatus.OPEN, TicketStatus.ON_HOLD, TicketStatus.ESCALATED})


@attrs.frozen(kw_only=True)
class FollowUp:
    """What follows a committed change (N1, N3, SL7).

    Attributes:
        notifications: Who hears of the new tickets and customer messages (N1), in event
            order; empty without notification settings.
        reports: The SLA report of each ticket the change touched that a policy covers, in
            event order.
        next_wakeup_at: The earliest ``next_wakeup_at`` of the reports: when to call
            :meth:`ServiceLevelUseCases.check_service_levels` at the latest.
    """

    notifications: tuple[Notification, ...] = ()
    reports: tuple[SlaReport, ...] = ()
    next_wakeup_at: datetime | None = None


@attrs.frozen(kw_only=True)
class ServiceLevelCheck:
    """The result of a wake-up (SL6, SL7).

    Attributes:
        checked_at: The check's ``now``: pass it as the next check's ``since``.
        alerts: The warnings and breaches in ``(since, checked_at]``, in time order.
        notifications: One per alert and recipient (the assignee, then the policy's
            managers), with the template of ``sla_warning`` or ``sla_breach`` when the
            settings have one.
        next_wakeup_at: When to check next; ``None`` when no clock is running.
        checked: How many tickets were evaluated.
    """

    checked_at: datetime
    alerts: tuple[SlaAlert, ...]
    notifications: tuple[Notification, ...]
    next_wakeup_at: datetime | None
    checked: int


def _local(moment: datetime, report: SlaReport, desk: DeskBase) -> str:
    """``moment`` in the zone of the report's calendar, to the minute."""
    assert desk.service_levels is not None
    zone = desk.service_levels.calendar(report.calendar_id).timezone
    return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes")


def _ticket_values(kind: str, ticket: Ticket) -> dict[str, object]:
    """The placeholders every notification's template may use (``TEMPLATE_VALUES``)."""
    return {
        "event": kind,
        "ticket_id": ticket.id,
        "number": ticket.number,
        "subject": ticket.subject,
        "channel": ticket.channel.code,
        "department": ticket.department_id,
        "priority": ticket.priority.value,
    }


def _earliest(moments: Iterable[datetime | None]) -> datetime | None:
    found = [moment for moment in moments if moment is not None]
    return min(found) if found else None


class ServiceLevelUseCases(DeskBase):
    """SLA, notification, queue and metrics use cases of :class:`~deskcore.service.Desk`."""

    _matcher: KeywordMatcher | None = None

    # -- evaluation --------------------------------------------------------------------------

    def sla_report(self, ticket_id: str, *, explain: bool = True) -> SlaReport | None:
        """The service levels of one ticket now (SL7), explained by default: the business
        intervals each clock counted. ``None`` without settings, for a trashed ticket, or
        when no policy matches. A merged ticket is reported where it lives now (M14).

        Raises:
            NotFoundError: No ticket ``ticket_id``.
        """
        return self._report(self.resolve(ticket_id), self._now(), explain=explain)

    def _queued_tickets(self, query: TicketQuery | None = None) -> Iterator[Ticket]:
        """Every ticket matching ``query`` (by default those in the queue), page by page,
        each once."""
        page_query = query or TicketQuery(statuses=_QUEUED, limit=MAX_LIMIT)
        seen: set[str] = set()
        while True:
            page = self.store.search(page_query)
            for ticket in page:
                if ticket.id not in seen:
                    seen.add(ticket.id)
                    yield ticket
            if len(page) < page_query.limit:
                return
            page_query = attrs.evolve(page_query, offset=page_query.offset + len(page))

    # -- after a change ----------------------------------------------------------------------

    def follow_up(self, events: Iterable[DomainEvent]) -> FollowUp:
        """Notifications and SLA reports for a committed change (N1, N3, SL7).

        ``events`` are the change's domain events (``result.events`` of any use case). A new
        ticket notifies as ``ticket_created`` with its first customer message as the text that
        phrase rules search; a customer message added to an existing ticket notifies as
        ``message_received``. The brand's own messages, notes and attachments notify nobody.
        Each touched ticket still in the store gets its report; a merged ticket's is its
        primary's.

        Raises:
            InvalidModelError: ``events`` holds something that is not a domain event.
        """
        now = self._now()
        order: dict[str, None] = {}
        created: set[str] = set()
        notices: list[tuple[str, str, str]] = []  # (kind, ticket id, item id or "")
        for event in events:
            if not hasattr(event, "ticket_id") or not hasattr(event, "name"):
                raise InvalidModelError(
                    "follow_up", "events", f"expected domain events, got {type(event).__name__}"
                )
            order.setdefault(event.ticket_id, None)
            if isinstance(event, TicketCreated):
                created.add(event.ticket_id)
                notices.append(("ticket_created", event.ticket_id, ""))
            elif isinstance(event, ItemAppended) and event.ticket_id not in created:
                notices.append(("message_received", event.ticket_id, event.item_id))
            elif isinstance(event, TicketMerged):
                order.setdefault(event.ticket_id, None)
        tickets: dict[str, Ticket] = {}
        for ticket_id in order:
            try:
                tickets[ticket_id] = self.resolve(ticket_id)
            except NotFoundError:
                continue
        notifications: list[Notification] = []
        for kind, ticket_id, item_id in notices:
            ticket = tickets.get(ticket_id)
            if ticket is not None:
                notifications.extend(self._notify_ticket(kind, ticket, item_id))
        reports: list[SlaReport] = []
        seen: set[str] = set()
        for ticket in tickets.values():
            if ticket.id in seen:
                continue
            seen.add(ticket.id)
            report = self._report(ticket, now)
            if report is not None:
                reports.append(report)
        return FollowUp(
            notifications=tuple(notifications),
            reports=tuple(reports),
            next_wakeup_at=_earliest(r.next_wakeup_at for r in reports),
        )

    def _routing_matcher(self) -> KeywordMatcher:
        assert self.notifications is not None
        if self._matcher is None:
            self._matcher = compile_routing_matcher(self.notifications.rules)
        return self._matcher

    def _notify_ticket(self, kind: str, ticket: Ticket, item_id: str) -> tuple[Notification, ...]:
        settings = self.notifications
        if settings is None:
            return ()
        if kind == "ticket_created":
            message = next((m for m in ticket.messages() if m.direction is Direction.INBOUND), None)
        else:
            item = next((i for i in ticket.thread if i.id == item_id), None)
            message = item if isinstance(item, Message) else None
            if message is None or message.direction is not Direction.INBOUND:
                return ()
        text = ticket.subject if message is None else message.body
        values = _ticket_values(kind, ticket) | {"text": text, "contact": ticket.contact_id}
        template = settings.templates.get(kind)
        return route_notifications(
            kind,
            text,
            settings.rules,
            matcher=self._routing_matcher(),
            agents=settings.agents,
            content=None if template is None else render_template(template, values),
            ticket_id=ticket.id,
        )

    # -- the wake-up -------------------------------------------------------------------------

    def check_service_levels(self, *, since: datetime | None) -> ServiceLevelCheck:
        """Evaluate every ticket in the queue now and announce what happened since ``since``
        (SL6): warnings of running clocks and breaches of clocks not stopped, each once when
        ``since`` is the previous check's ``checked_at``. ``since=None`` announces everything
        so far (a first check).

        Raises:
            NaiveDatetimeError: ``since`` has no time zone.
        """
        if since is not None and (not isinstance(since, datetime) or not is_aware(since)):
            raise NaiveDatetimeError(
                "check_service_levels", "since", f"{since!r} is not an aware datetime (T1)"
            )
        now = self._now()
        alerts: list[SlaAlert] = []
        notifications: list[Notification] = []
        wakeups: list[datetime | None] = []
        checked = 0
        for ticket in self._queued_tickets():
            report = self._report(ticket, now)
            if report is None:
                continue
            checked += 1
            wakeups.append(report.next_wakeup_at)
            found = sla_alerts(report, since=since)
            alerts.extend(found)
            notifications.extend(
                n for alert in found for n in self._notify_alert(alert, ticket, report)
            )
        alerts.sort(key=lambda alert: alert.at)
        return ServiceLevelCheck(
            checked_at=now,
            alerts=tuple(alerts),
            notifications=tuple(notifications),
            next_wakeup_at=_earliest(wakeups),
            checked=checked,
        )

    def _notify_alert(
        self, alert: SlaAlert, ticket: Ticket, report: SlaReport
    ) -> tuple[Notification, ...]:
        kind = "sla_warning" if alert.kind is SlaAlertKind.WARNING else "sla_breach"
        template = None if self.notifications is None else self.notifications.templates.get(kind)
        content = None
        if template is not None:
            clock = report.clock(alert.metric)
            assert clock is not None
            values = _ticket_values(kind, ticket) | {
                "metric": alert.metric.value,
                "due_at": "" if alert.due_at is None else _local(alert.due_at, report, self),
                "remaining": format_business_time(clock.remaining),
                "breached_by": format_business_time(clock.breached_by),
            }
            content = render_template(template, values)
        reason = RoutingReason(rule_id=report.policy_id, audience=Audience.NAMED)
        return tuple(
            Notification(
                recipient_id=recipient,
                event_kind=kind,
                reasons=(reason,),
                content=content,
                ticket_id=ticket.id,
                alert_key=alert.key,
            )
            for recipient in alert.recipients
        )

    # -- the queue and the numbers -------------------------------------------------------------

    def work_queue(self, *, limit: int | None = None) -> list[QueueEntry]:
        """The unified work queue now (Q1): every open, on-hold and escalated ticket of every
        channel, overdue first (longest overdue first, until an agent acts), then those that
        need action, then by next deadline, priority and age. ``limit`` cuts the list.

        The whole queue is evaluated to order it; a host with a large queue stores
        :func:`~deskcore.policies.queue.queue_key` in indexed columns instead, refreshing a
        ticket's key when it changes and at its ``next_wakeup_at``.

        Raises:
            InvalidModelError: ``limit`` is not a positive int.
        """
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise InvalidModelError("work_queue", "limit", f"{limit!r}: use a positive int")
        now = self._now()
        entries = [
            to_queue_entry(ticket, self._report(ticket, now)) for ticket in self._queued_tickets()
        ]
        ordered = order_queue(entries, now)
        return ordered if limit is None else ordered[:limit]

    def contact_metrics(
        self, contact_id: str, *, ratings: Mapping[str, Rating | str] | None = None
    ) -> ContactMetrics:
        """A contact's numbers now (X1): averages of first response and resolution time,
        satisfaction from ``ratings`` (by ticket id), total tickets, and overdue tickets under
        the desk's service levels (``None`` without them).

        Raises:
            InvalidModelError: ``contact_id`` is not an id.
        """
        query = TicketQuery(contact_id=contact_id, limit=MAX_LIMIT)
        tickets = list(self._queued_tickets(query))
        return contact_metrics(
            tickets,
            now=self._now(),
            ratings=ratings,
            is_overdue=None if self.service_levels is None else self.is_overdue,
        )
