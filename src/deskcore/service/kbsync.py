"""The knowledge-base sync use case (KB1-KB10): read the source, plan, apply through the
target, and record the run so the same occurrence never runs twice.

:class:`KnowledgeSync` is the only place that touches the article ports. A host calls
:meth:`~KnowledgeSync.run_due` from its scheduler as often as it likes (every few minutes,
from several workers): a due occurrence runs once, missed ones coalesce (KB5). An admin's
"sync now" is :meth:`~KnowledgeSync.sync_now` (KB6).
"""

from __future__ import annotations

import enum
from contextlib import suppress
from datetime import datetime

import attrs

from deskcore.errors import DeskcoreError, InvalidModelError, NaiveDatetimeError
from deskcore.models._validate import is_aware
from deskcore.models.events import ArticleSynced
from deskcore.models.kbsync import SyncedArticle, SyncRun, SyncSettings, SyncTrigger
from deskcore.models.parties import Actor
from deskcore.models.schedule import Occurrence
from deskcore.policies.kbsync import (
    SyncAction,
    SyncPlan,
    plan_sync,
    require_sync_admin,
    sync_events,
    update_sync_settings,
)
from deskcore.policies.schedule import due_run, next_run, sync_now_key
from deskcore.ports.connectors import ArticleSource, ArticleTarget, SyncRunLog
from deskcore.ports.runtime import Clock
from deskcore.service.runtime import SystemClock

__all__ = ["MANUAL_SYNC_ID", "KnowledgeSync", "SyncOutcome", "SyncResult"]

MANUAL_SYNC_ID = "kb-sync"
"""The id that prefixes "sync now" keys when the settings have no schedule."""


class SyncOutcome(enum.StrEnum):
    """What a request to sync came to."""

    RAN = "ran"
    """The sync ran: the plan was applied and the run recorded."""
    NOT_DUE = "not_due"
    """No scheduled occurrence is due (the last one ran already, or none has come yet)."""
    DISABLED = "disabled"
    """Sync is disabled: nothing ran, synced articles are left as they are (KB1)."""
    NO_SCHEDULE = "no_schedule"
    """The settings have no schedule; only "sync now" runs (KB6)."""
    ALREADY_CLAIMED = "already_claimed"
    """The run's key is recorded already: another worker runs it, or it ran (KB5)."""


@attrs.frozen(kw_only=True)
class SyncResult:
    """What :meth:`KnowledgeSync.run_due` or :meth:`KnowledgeSync.sync_now` did.

    Attributes:
        outcome: Whether it ran, and if not, why.
        trigger: Scheduled or manual.
        key: The run's key: the occurrence key or the sync-now key; ``None`` when nothing
            was due.
        occurrence: The scheduled occurrence that ran (or was claimed elsewhere).
        plan: The plan that was applied; ``None`` unless it ran.
        run: The finished run as recorded; ``None`` unless it ran.
        written: The copies created and updated, as the target stored them.
        next_run: The next scheduled occurrence after now; ``None`` without a schedule.
        events: One :class:`~deskcore.models.ArticleSynced` per copy written (P4).
    """

    outcome: SyncOutcome
    trigger: SyncTrigger
    key: str | None = None
    occurrence: Occurrence | None = None
    plan: SyncPlan | None = None
    run: SyncRun | None = None
    written: tuple[SyncedArticle, ...] = ()
    next_run: Occurrence | None = None
    events: tuple[ArticleSynced, ...] = ()

    @property
    def ran(self) -> bool:
        """True when the sync ran."""
        return self.outcome is SyncOutcome.RAN

    @property
    def explanation(self) -> str:
        """What happened, in words."""
        if self.run is not None:
            return (
                f"synced ({self.trigger.value}, {self.key}): {self.run.created} created, "
                f"{self.run.updated} updated, {self.run.unchanged} unchanged, "
                f"{self.run.orphaned} orphaned, {self.run.removed} removed"
            )
        return {
            SyncOutcome.NOT_DUE: "no scheduled sync is due",
            SyncOutcome.DISABLED: "sync is disabled; synced articles are left as they are",
            SyncOutcome.NO_SCHEDULE: "no schedule is set; use sync now",
            SyncOutcome.ALREADY_CLAIMED: f"run {self.key} is recorded already",
        }[self.outcome]


class KnowledgeSync:
    """The knowledge-base sync of one helpdesk into one chat tool (KB1-KB10).

    Every method needs an admin (KB9): pass the person who asks, or the host's scheduler as
    an actor holding the ``admin`` role.

    Args:
        source: The helpdesk knowledge base.
        target: The chat tool's article store.
        run_log: Where runs are recorded; the reference targets are run logs too, so
            ``run_log=target`` keeps both in one store.
        settings: The sync settings.
        clock: Source of ``now``; the system clock in UTC by default.
    """

    def __init__(
        self,
        *,
        source: ArticleSource,
        target: ArticleTarget,
        run_log: SyncRunLog,
        settings: SyncSettings,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(settings, SyncSettings):
            raise InvalidModelError("KnowledgeSync", "settings", "expected SyncSettings")
        self.source = source
        self.target = target
        self.run_log = run_log
        self._settings = settings
        self.clock: Clock = clock if clock is not None else SystemClock()

    @property
    def settings(self) -> SyncSettings:
        """The current settings; change them with :meth:`configure`."""
        return self._settings

    def _now(self) -> datetime:
        now = self.clock.now()
        if not isinstance(now, datetime) or not is_aware(now):
            raise NaiveDatetimeError(
                "Clock", "now", f"the clock returned a naive datetime {now!r} (T1)"
            )
        return now

    def _next(self, now: datetime) -> Occurrence | None:
        schedule = self._settings.schedule
        return None if schedule is None else next_run(schedule, now)

    def configure(self, settings: SyncSettings, *, actor: Actor) -> SyncSettings:
        """Replace the settings, if ``actor`` is an admin (KB9). Disabling stops runs and
        leaves synced articles as they are (KB1). Returns the new settings, for the host to
        store.

        Raises:
            PermissionDeniedError: The actor is not an admin.
        """
        self._settings = update_sync_settings(self._settings, settings, actor=actor)
        return self._settings

    def preview(self, *, actor: Actor) -> SyncPlan:
        """The plan a sync would apply now, without applying or recording anything (KB8).

        Raises:
            PermissionDeniedError: The actor is not an admin (KB9).
        """
        require_sync_admin(actor, "preview the knowledge-base sync")
        return plan_sync(
            self.source.list_articles(), self.target.list_synced(), self._settings, self._now()
        )

    def next_run(self) -> Occurrence | None:
        """The next scheduled occurrence after now; ``None`` without a schedule."""
        return self._next(self._now())

    def run_due(self, actor: Actor) -> SyncResult:
        """Run the scheduled sync if an occurrence is due (KB5).

        Asks :func:`~deskcore.policies.due_run` with the last scheduled run the log holds;
        missed occurrences coalesce into the latest. The occurrence is claimed under its key
        before anything is read, so two workers asking at once run it once; if the sync
        fails, the claim is released and the exception propagates, so the next call retries.

        Raises:
            PermissionDeniedError: The actor is not an admin (KB9).
        """
        require_sync_admin(actor)
        trigger = SyncTrigger.SCHEDULED
        now = self._now()
        settings = self._settings
        if not settings.enabled:
            return SyncResult(outcome=SyncOutcome.DISABLED, trigger=trigger)
        schedule = settings.schedule
        if schedule is None:
            return SyncResult(outcome=SyncOutcome.NO_SCHEDULE, trigger=trigger)
        last = self.run_log.last_scheduled_run(schedule.id)
        occurrence = due_run(schedule, now=now, last_run=None if last is None else last.occurrence)
        if occurrence is None:
            return SyncResult(
                outcome=SyncOutcome.NOT_DUE, trigger=trigger, next_run=self._next(now)
            )
        return self._run(occurrence.key, trigger, occurrence, now)

    def sync_now(self, actor: Actor) -> SyncResult:
        """Sync at once, whatever the schedule says (KB6).

        The run is recorded under a sync-now key, never as an occurrence: the schedule, its
        anchor and the last scheduled run stay as they are, so the next scheduled run is the
        same before and after.

        Raises:
            PermissionDeniedError: The actor is not an admin (KB9).
        """
        require_sync_admin(actor)
        trigger = SyncTrigger.MANUAL
        now = self._now()
        if not self._settings.enabled:
            return SyncResult(outcome=SyncOutcome.DISABLED, trigger=trigger)
        schedule = self._settings.schedule
        key = sync_now_key(MANUAL_SYNC_ID if schedule is None else schedule.id, now)
        return self._run(key, trigger, None, now)

    def _run(
        self, key: str, trigger: SyncTrigger, occurrence: Occurrence | None, now: datetime
    ) -> SyncResult:
        started = SyncRun(key=key, trigger=trigger, started_at=now, occurrence=occurrence)
        if not self.run_log.claim_run(started):
            return SyncResult(
                outcome=SyncOutcome.ALREADY_CLAIMED,
                trigger=trigger,
                key=key,
                occurrence=occurrence,
                next_run=self._next(now),
            )
        try:
            plan = plan_sync(
                self.source.list_articles(), self.target.list_synced(), self._settings, now
            )
            written = tuple(self.target.apply(plan))
        except BaseException:
            # Free the key, so the occurrence is due again; the first error is the one to see.
            with suppress(DeskcoreError):
                self.run_log.release_run(key)
            raise
        counts = plan.counts()
        finished = attrs.evolve(
            started,
            finished_at=max(self._now(), now),
            created=counts[SyncAction.CREATE],
            updated=counts[SyncAction.UPDATE],
            unchanged=counts[SyncAction.UNCHANGED],
            orphaned=counts[SyncAction.ORPHANED],
            removed=counts[SyncAction.REMOVE],
        )
        self.run_log.finish_run(finished)
        return SyncResult(
            outcome=SyncOutcome.RAN,
            trigger=trigger,
            key=key,
            occurrence=occurrence,
            plan=plan,
            run=finished,
            written=written,
            next_run=self._next(now),
            events=sync_events(plan, run_key=key, at=now),
        )
