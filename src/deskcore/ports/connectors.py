"""Connector and notifier ports (P2), sketched: later capabilities give them richer types.

The host implements these around the network calls it owns. deskcore never calls them from
the pure core; only :mod:`deskcore.service` does, outside any unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from deskcore.models import ExternalReference, InboundMessage
from deskcore.models.crm import CrmRecord, NewCrmRecord, SocialInteraction
from deskcore.models.kbsync import SourceArticle, SyncedArticle, SyncRun
from deskcore.models.social import SocialItem, SocialProfile
from deskcore.policies.kbsync import SyncPlan
from deskcore.policies.notifications import Notification

__all__ = [
    "ArticleSource",
    "ArticleTarget",
    "ChatConnector",
    "CrmConnector",
    "Notifier",
    "SocialConnector",
    "SyncRunLog",
]

Record = Mapping[str, object]
"""A plain record, until the capability that owns it defines a model."""


@runtime_checkable
class SocialConnector(Protocol):
    """A social tool's connected accounts: new posts, comments, mentions and private messages,
    a private conversation's messages, and replies (S1, S5).

    deskcore calls it only from :mod:`deskcore.service`, outside any unit of work; the host
    owns the network calls, paging and rate limits. Items come as
    :class:`~deskcore.models.SocialItem` values (parse webhook JSON with
    ``deskcore.wire.parse_social_item``).
    """

    def fetch_new(self, cursor: str | None) -> tuple[Sequence[SocialItem], str | None]:
        """Items that arrived after ``cursor`` (``None``: from the start the host chooses), in
        any of the four sources (S1), and the cursor to pass next time."""
        ...

    def fetch_conversation(
        self, conversation: ExternalReference, since: datetime | None
    ) -> Sequence[SocialItem]:
        """The messages of one private conversation (its :attr:`SocialItem.conversation_key
        <deskcore.models.SocialItem.conversation_key>`) posted at or after ``since`` (all of
        them when ``None``): what the periodic append check reads (S5)."""
        ...

    def reply(self, to: ExternalReference, text: str) -> ExternalReference:
        """Post ``text`` as a reply to the item ``to`` (publicly to a public item, privately in
        a private conversation); returns the reference of the posted reply, so the reply found
        again by a later fetch is recognised as already on the ticket."""
        ...


@runtime_checkable
class ChatConnector(Protocol):
    """A live-chat tool: chat sessions and their transcripts (C1-C12)."""

    def fetch_chats(self, cursor: str | None) -> tuple[Sequence[Record], str | None]:
        """Chat sessions that changed after ``cursor``, and the next cursor."""
        ...

    def transcript(self, session: ExternalReference) -> Sequence[InboundMessage]:
        """The messages of one chat session, oldest first."""
        ...


@runtime_checkable
class CrmConnector(Protocol):
    """The host's CRM, as far as social automation goes: leads and contacts found by, created
    for, and linked to social profiles, and the interactions linked to them (R1-R5).

    The rules every implementation follows (checked by
    :class:`deskcore.testing.crm_contracts.CrmConnectorContract`):

    - A social profile (its network and id) is linked to at most one record. Creating a
      record for a profile that is linked already, or linking it to a second record, is
      refused with :class:`~deskcore.errors.ProfileAlreadyLinkedError`, atomically: of two
      workers adding the same person at once, one creates the record and the other is told
      which record won (R4).
    - An interaction (by reference) is linked to a record at most once; linking it again
      reports ``False`` and changes nothing, so replaying interactions adds nothing.
    - Records come back as stored, every field included, with their linked profiles.

    :class:`deskcore.adapters.InMemoryCrm` is the reference implementation.
    """

    def find_by_social_profile(self, profile: SocialProfile) -> CrmRecord | None:
        """The lead or contact ``profile`` (by network and id) is linked to, or ``None``."""
        ...

    def get_record(self, record_id: str) -> CrmRecord:
        """One record; raises :class:`~deskcore.errors.NotFoundError`."""
        ...

    def create_lead(self, draft: NewCrmRecord) -> CrmRecord:
        """Create a lead from ``draft`` (its kind is ``lead``), linked to ``draft.profile``.

        Raises:
            ProfileAlreadyLinkedError: The profile is linked to a record already; nothing is
                created.
            InvalidModelError: ``draft`` is not a lead.
        """
        ...

    def create_contact(self, draft: NewCrmRecord) -> CrmRecord:
        """Create a contact from ``draft`` (its kind is ``contact``), linked to
        ``draft.profile``; raises like :meth:`create_lead`."""
        ...

    def link_profile(self, record_id: str, profile: SocialProfile) -> CrmRecord:
        """Link ``profile`` to the record (R5); linking it to the record it is linked to
        already changes nothing. Returns the record as stored.

        Raises:
            NotFoundError: There is no such record.
            ProfileAlreadyLinkedError: The profile is linked to another record.
        """
        ...

    def link_interaction(self, record_id: str, interaction: SocialInteraction) -> bool:
        """Link ``interaction`` to the record (R4), so it shows in the record's social list;
        ``False`` when it is linked already (nothing changes).

        Raises:
            NotFoundError: There is no such record.
            InvalidModelError: The interaction's profile is not linked to the record.
        """
        ...

    def interactions(self, record_id: str) -> Sequence[SocialInteraction]:
        """The interactions linked to the record, in the order they were linked.

        Raises:
            NotFoundError: There is no such record.
        """
        ...


@runtime_checkable
class ArticleSource(Protocol):
    """The helpdesk knowledge base that articles are synced from (KB1-KB10).

    deskcore calls it only from :mod:`deskcore.service`, outside any transaction of the
    target. :class:`deskcore.adapters.InMemoryArticleSource` is a reference implementation.
    """

    def list_articles(self) -> Sequence[SourceArticle]:
        """Every article of the knowledge base, each with its category, permission and
        content (and version, if the knowledge base keeps one); ids unique. Which of them
        sync is the plan's decision (KB2, KB3), not the source's."""
        ...


@runtime_checkable
class ArticleTarget(Protocol):
    """The chat tool's article store, as far as synced articles go (KB1-KB10).

    The rules every implementation follows (checked by
    :class:`deskcore.testing.kb_contracts.ArticleTargetContract`):

    - It holds synced copies (:class:`~deskcore.models.SyncedArticle`) and returns them
      exactly as stored, every field included.
    - :meth:`apply` carries out a :class:`~deskcore.policies.SyncPlan` atomically: it checks
      every operation first, and a plan that does not fit (a create whose target id is taken,
      an update or removal of a copy that is not there) writes nothing.
    - Synced copies are read-only (KB7): :meth:`get` previews one, :meth:`edit` is refused.
    - Only the chat tool's own action, :meth:`publish`, changes a copy's status outside a
      sync (KB4).
    """

    def list_synced(self) -> Sequence[SyncedArticle]:
        """Every synced copy, in any order."""
        ...

    def get(self, target_id: str) -> SyncedArticle:
        """One copy, for a preview (KB7); raises :class:`~deskcore.errors.NotFoundError`."""
        ...

    def apply(self, plan: SyncPlan) -> Sequence[SyncedArticle]:
        """Carry out ``plan``: create, update and remove copies; orphaned and unchanged ones
        stay as they are (KB8). All or nothing.

        Returns:
            The created and updated copies as stored, in the plan's order. A target that
            assigns ids of its own returns created copies with them; the reference targets
            keep the ids the plan proposes.

        Raises:
            DuplicateError: A create's target id is taken.
            NotFoundError: An update or removal names a copy that is not there.
        """
        ...

    def publish(self, target_id: str) -> SyncedArticle:
        """Publish a copy in the chat tool, as an admin does there after a sync (KB4);
        publishing a published copy changes nothing. Returns the copy as stored."""
        ...

    def edit(
        self, target_id: str, *, title: str | None = None, body: str | None = None
    ) -> SyncedArticle:
        """Edit an article in the chat tool.

        Raises:
            ReadOnlyArticleError: Always for a synced copy: synced articles are read-only in
                the chat tool (KB7). A target that also holds the chat tool's own articles
                may edit those.
            NotFoundError: There is no such article.
        """
        ...


@runtime_checkable
class SyncRunLog(Protocol):
    """The record of sync runs, so the same scheduled occurrence never runs twice (KB5, KB6).

    A run is *claimed* under its key before anything is synced; the claim is atomic, so of
    two workers asking at once only one runs. The run is finished with its counts afterwards,
    or released if it failed, so the occurrence is due again. The reference targets implement
    this protocol too, so the copies and the log can live in one store (one SQLite file).
    Checked by :class:`deskcore.testing.kb_contracts.SyncRunLogContract`.
    """

    def claim_run(self, run: SyncRun) -> bool:
        """Record ``run`` (unfinished) under its key; ``False``, recording nothing, when the
        key is recorded already."""
        ...

    def finish_run(self, run: SyncRun) -> SyncRun:
        """Store the finished ``run`` over its claim; returns it.

        Raises:
            NotFoundError: No run is recorded under ``run.key``.
            InvalidModelError: ``run`` is not finished.
        """
        ...

    def release_run(self, key: str) -> None:
        """Forget the unfinished run under ``key`` (it failed), so it can run again. A
        finished run, or an unknown key, is left as it is."""
        ...

    def last_scheduled_run(self, schedule_id: str) -> SyncRun | None:
        """The scheduled run of ``schedule_id`` with the latest occurrence, finished or not;
        ``None`` when there is none. Manual runs never count (KB6)."""
        ...

    def runs(self) -> Sequence[SyncRun]:
        """Every recorded run, oldest first (by start, then key)."""
        ...


@runtime_checkable
class Notifier(Protocol):
    """Delivers notifications after a change is committed (N3)."""

    def send(self, notifications: Sequence[Notification]) -> None:
        """Deliver rendered notifications to their recipients (what
        :meth:`Desk.follow_up <deskcore.service.Desk.follow_up>` and
        :meth:`Desk.check_service_levels <deskcore.service.Desk.check_service_levels>`
        return)."""
        ...
