"""An in-memory CRM: for tests, demos, and as the executable specification of
:class:`~deskcore.ports.CrmConnector` (R3-R5, P7).

It keeps leads and contacts with the social profiles linked to them, and the interactions
linked to each record. Every method holds one lock from its checks to its writes, so two
workers sharing the CRM see each change whole: of two workers creating a record for the same
new profile at once, one creates it and the other is refused with
:class:`~deskcore.errors.ProfileAlreadyLinkedError` naming the winner (R4).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable

import attrs

from deskcore.errors import (
    DuplicateError,
    InvalidModelError,
    NotFoundError,
    ProfileAlreadyLinkedError,
)
from deskcore.models.crm import CrmRecord, CrmRecordKind, NewCrmRecord, SocialInteraction
from deskcore.models.refs import ExternalReference
from deskcore.models.social import SocialProfile
from deskcore.ports.runtime import IdGenerator

__all__ = ["InMemoryCrm"]

_ProfileKey = tuple[str, str]


def _key(profile: SocialProfile) -> _ProfileKey:
    return (profile.network, profile.id)


def _expect(value: object, expected: type, field: str, operation: str) -> None:
    if not isinstance(value, expected):
        raise InvalidModelError(
            "InMemoryCrm",
            field,
            f"{operation}: expected {expected.__name__}, got {type(value).__name__}",
        )


class _KindCounters:
    """Ids ``lead-1``, ``lead-2``, ``contact-1``...: the default, deterministic ids."""

    def __init__(self) -> None:
        self._counters = {kind.value: itertools.count(1) for kind in CrmRecordKind}

    def new_id(self, kind: str) -> str:
        return f"{kind}-{next(self._counters[kind])}"


class InMemoryCrm:
    """Leads and contacts in memory: a :class:`~deskcore.ports.CrmConnector`, safe to share
    between threads.

    - A social profile (by network and id) is linked to at most one record; the profile is
      stored as it was first linked (a later handle or display name changes nothing).
    - An interaction is linked at most once, by its reference, to whichever record: linking a
      reference that is linked already reports ``False`` and keeps the first one stored.
    - Refused calls change nothing; a create refused for its kind or its profile does not
      use up an id.

    Args:
        records: Records the CRM starts with (leads and contacts that exist before any social
            automation), as :meth:`add_record` adds them.
        ids: Makes the id of each created record, called with the kind (``"lead"`` or
            ``"contact"``) while the CRM's lock is held. By default ``lead-1``, ``lead-2``...
            and ``contact-1``..., counted per kind.
    """

    def __init__(
        self, records: Iterable[CrmRecord] = (), *, ids: IdGenerator | None = None
    ) -> None:
        self._lock = threading.RLock()
        self._ids: IdGenerator = ids if ids is not None else _KindCounters()
        self._records: dict[str, CrmRecord] = {}
        self._owners: dict[_ProfileKey, str] = {}
        self._interactions: dict[str, list[SocialInteraction]] = {}
        self._linked: dict[ExternalReference, str] = {}
        for record in records:
            self.add_record(record)

    # -- CrmConnector -------------------------------------------------------------------------

    def find_by_social_profile(self, profile: SocialProfile) -> CrmRecord | None:
        """The record ``profile`` (by network and id) is linked to, or ``None``."""
        _expect(profile, SocialProfile, "profile", "find_by_social_profile")
        with self._lock:
            record_id = self._owners.get(_key(profile))
            return None if record_id is None else self._records[record_id]

    def get_record(self, record_id: str) -> CrmRecord:
        """One record; raises :class:`~deskcore.errors.NotFoundError`."""
        _expect(record_id, str, "record_id", "get_record")
        with self._lock:
            return self._get(record_id)

    def create_lead(self, draft: NewCrmRecord) -> CrmRecord:
        """Create a lead from ``draft``, linked to ``draft.profile``."""
        return self._create(draft, CrmRecordKind.LEAD, "create_lead")

    def create_contact(self, draft: NewCrmRecord) -> CrmRecord:
        """Create a contact from ``draft``, linked to ``draft.profile``."""
        return self._create(draft, CrmRecordKind.CONTACT, "create_contact")

    def link_profile(self, record_id: str, profile: SocialProfile) -> CrmRecord:
        """Link ``profile`` to the record (R5); nothing changes when it is linked there
        already. Returns the record as stored."""
        _expect(record_id, str, "record_id", "link_profile")
        _expect(profile, SocialProfile, "profile", "link_profile")
        with self._lock:
            record = self._get(record_id)
            owner = self._owners.get(_key(profile))
            if owner == record_id:
                return record
            if owner is not None:
                raise ProfileAlreadyLinkedError(profile.network, profile.id, owner)
            linked = attrs.evolve(record, profiles=(*record.profiles, profile))
            self._records[record_id] = linked
            self._owners[_key(profile)] = record_id
            return linked

    def link_interaction(self, record_id: str, interaction: SocialInteraction) -> bool:
        """Link ``interaction`` to the record (R4); ``False``, changing nothing, when its
        reference is linked already (to this record or any other)."""
        _expect(record_id, str, "record_id", "link_interaction")
        _expect(interaction, SocialInteraction, "interaction", "link_interaction")
        with self._lock:
            record = self._get(record_id)
            if not record.has_profile(interaction.profile):
                raise InvalidModelError(
                    "InMemoryCrm",
                    "interaction",
                    f"{interaction.reference}: the {interaction.profile.network} profile "
                    f"{interaction.profile.id!r} is not linked to {record_id}",
                )
            if interaction.reference in self._linked:
                return False
            self._linked[interaction.reference] = record_id
            self._interactions[record_id].append(interaction)
            return True

    def interactions(self, record_id: str) -> tuple[SocialInteraction, ...]:
        """The interactions linked to the record, in the order they were linked."""
        _expect(record_id, str, "record_id", "interactions")
        with self._lock:
            self._get(record_id)
            return tuple(self._interactions[record_id])

    # -- for hosts, tests and demos -----------------------------------------------------------

    def records(self) -> list[CrmRecord]:
        """Every record, in the order they were created or added."""
        with self._lock:
            return list(self._records.values())

    def add_record(self, record: CrmRecord) -> CrmRecord:
        """Put a record the CRM holds already (a contact that predates social automation),
        with its id and linked profiles as given.

        Raises:
            DuplicateError: A record with its id exists already.
            ProfileAlreadyLinkedError: One of its profiles is linked to another record.
        """
        _expect(record, CrmRecord, "record", "add_record")
        with self._lock:
            self._store(record)
            return record

    # -- internals ----------------------------------------------------------------------------

    def _get(self, record_id: str) -> CrmRecord:
        found = self._records.get(record_id)
        if found is None:
            raise NotFoundError("CRM record", record_id)
        return found

    def _create(self, draft: NewCrmRecord, kind: CrmRecordKind, operation: str) -> CrmRecord:
        _expect(draft, NewCrmRecord, "draft", operation)
        if draft.kind is not kind:
            raise InvalidModelError(
                "InMemoryCrm",
                "draft",
                f"{operation}: the draft is a {draft.kind.value}, not a {kind.value}",
            )
        with self._lock:
            owner = self._owners.get(_key(draft.profile))
            if owner is not None:
                raise ProfileAlreadyLinkedError(draft.profile.network, draft.profile.id, owner)
            record = CrmRecord(
                id=self._ids.new_id(kind.value),
                kind=kind,
                name=draft.name,
                lead_source=draft.lead_source,
                owner_id=draft.owner_id,
                profiles=(draft.profile,),
            )
            self._store(record)
            return record

    def _store(self, record: CrmRecord) -> None:
        # Every check before the first write: a refused record leaves no trace.
        if record.id in self._records:
            raise DuplicateError("CRM record", record.id)
        for profile in record.profiles:
            owner = self._owners.get(_key(profile))
            if owner is not None:
                raise ProfileAlreadyLinkedError(profile.network, profile.id, owner)
        self._records[record.id] = record
        self._interactions[record.id] = []
        for profile in record.profiles:
            self._owners[_key(profile)] = record.id
