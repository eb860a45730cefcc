"""The :class:`Desk`: use cases that load through the ports, decide with the policies, and
write in one unit of work (the functional core's thin shell).

The use cases are grouped by capability in their own modules (:mod:`deskcore.service.chat`,
:mod:`deskcore.service.social`, merging and the shared base); :class:`Desk` puts them
together.
"""

from __future__ import annotations

from deskcore.service.base import IntakeResult
from deskcore.service.chat import ChatOutcome, ChatUseCases
from deskcore.service.levels import ServiceLevelUseCases
from deskcore.service.merging import MergeUseCases
from deskcore.service.social import SocialUseCases

__all__ = ["ChatOutcome", "Desk", "IntakeResult"]


class Desk(MergeUseCases, ChatUseCases, SocialUseCases, ServiceLevelUseCases):
    """The support desk's use cases over a ticket store.

    Args:
        store: Where tickets live (:class:`deskcore.adapters.InMemoryTicketRepository`,
            :class:`deskcore.adapters.SQLiteTicketRepository`, or the host's own).
        settings: How new tickets are filed.
        clock: Source of ``now``; the system clock in UTC by default.
        ids: Source of new ids; random UUIDs by default.
        merge_policy: Merge limits (M1); at most five tickets at once by default.
        service_levels: Calendars and SLA policies (SL1, SL2); without them no ticket has
            a deadline and the queue orders by need of action, priority and age.
        notifications: Routing rules, agents and templates (N1, N2); without them
            :meth:`follow_up` notifies nobody.
        max_attempts: How often a use case is retried when a concurrent writer wins a race
            (a :class:`~deskcore.errors.ConcurrencyError` or a lost reference claim).
    """
