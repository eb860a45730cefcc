"""Domain models (T1-T7): immutability, validation at construction, code lists, provenance,
external references and permissions; and the strategies of :mod:`deskcore.testing`."""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import deskcore.models
from deskcore import (
    Account,
    Actor,
    Attachment,
    Brand,
    Channel,
    ChatSession,
    Classification,
    Comment,
    Contact,
    Department,
    DeskSettings,
    Direction,
    ExternalReference,
    FirstResponseRecorded,
    FrozenMap,
    InboundAttachment,
    InboundMessage,
    InvalidModelError,
    ItemAppended,
    ItemRevised,
    MergeJournalEntry,
    Message,
    NaiveDatetimeError,
    Permission,
    PermissionDeniedError,
    Priority,
    ReferenceConflict,
    Revision,
    Role,
    SocialConversation,
    SocialItem,
    SocialProfile,
    StatusChanged,
    Ticket,
    TicketCreated,
    TicketMerged,
    TicketQuery,
    TicketRestored,
    TicketStatus,
    TicketTrashed,
    UnknownValueError,
    Visibility,
    digest_content,
)
from deskcore.models._validate import is_aware
from deskcore.testing import FixedClock
from deskcore.testing import strategies as s

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
NAIVE = datetime(2026, 4, 1, 9, 0)
REF = ExternalReference(network="twitter", account="brand", kind="tweet", native_id="1")


def attachment(**changes: Any) -> Attachment:
    fields: dict[str, Any] = {
        "id": "a-1",
        "origin_ticket_id": "t-1",
        "name": "receipt.pdf",
        "size": 1024,
        "storage_key": "s3://bucket/receipt.pdf",
        "created_at": T0,
    }
    return Attachment(**(fields | changes))


def message(**changes: Any) -> Message:
    fields: dict[str, Any] = {
        "id": "m-1",
        "origin_ticket_id": "t-1",
        "direction": Direction.INBOUND,
        "author_id": "c-1",
        "body": "返品したいです 😀",
        "channel": Channel.TWITTER,
        "sent_at": T0,
    }
    return Message(**(fields | changes))


def comment(**changes: Any) -> Comment:
    fields: dict[str, Any] = {
        "id": "n-1",
        "origin_ticket_id": "t-1",
        "author_id": "agent-1",
        "body": "checking with the warehouse",
        "created_at": T0,
    }
    return Comment(**(fields | changes))


def revision(**changes: Any) -> Revision:
    fields: dict[str, Any] = {"body": "old", "content_digest": "sha256:x", "replaced_at": T0}
    return Revision(**(fields | changes))


def ticket(**changes: Any) -> Ticket:
    fields: dict[str, Any] = {
        "id": "t-1",
        "number": 1,
        "department_id": "support",
        "channel": Channel.EMAIL,
        "contact_id": "c-1",
        "created_at": T0,
    }
    return Ticket(**(fields | changes))


def inbound(**changes: Any) -> InboundMessage:
    fields: dict[str, Any] = {
        "reference": REF,
        "channel": Channel.TWITTER,
        "contact": Contact(id="c-1", name="山田"),
        "body": "hello",
        "sent_at": T0,
    }
    return InboundMessage(**(fields | changes))


def event(cls: type[Any], **changes: Any) -> Any:
    extra: dict[type[Any], dict[str, Any]] = {
        TicketCreated: {"number": 1},
        ItemAppended: {"item_id": "m-1"},
        ItemRevised: {"item_id": "m-1", "revision": 1},
        StatusChanged: {
            "from_status": TicketStatus.OPEN,
            "to_status": TicketStatus.CLOSED,
            "reason": "agent",
        },
        FirstResponseRecorded: {"item_id": "m-1"},
        ReferenceConflict: {"reference": REF, "stored_digest": None, "received_digest": "d"},
        TicketMerged: {"merged_ticket_ids": ("t-2",), "journal_id": "merge-1"},
        TicketTrashed: {"merged_into": "t-2"},
        TicketRestored: {"was_merged_into": "t-2"},
    }
    return cls(**({"ticket_id": "t-1", "at": T0} | extra[cls] | changes))


def journal_entry(**changes: Any) -> MergeJournalEntry:
    fields: dict[str, Any] = {
        "id": "merge-1",
        "at": T0,
        "actor_id": "lead-1",
        "primary_id": "t-1",
        "merged_ticket_ids": ("t-2",),
    }
    return MergeJournalEntry(**(fields | changes))


def chat_session(**changes: Any) -> ChatSession:
    fields: dict[str, Any] = {"reference": REF, "department_id": "chat-d", "started_at": T0}
    if "answered_at" in changes:
        fields["answered_by"] = "agent-1"
    return ChatSession(**(fields | changes))


def social_item(**changes: Any) -> SocialItem:
    fields: dict[str, Any] = {
        "reference": REF,
        "kind": "mention",
        "author": SocialProfile(network=REF.network, id="u-1"),
        "created_at": T0,
    }
    return SocialItem(**(fields | changes))


def social_conversation(**changes: Any) -> SocialConversation:
    return SocialConversation(**({"conversation": REF, "ticket_id": "t-1"} | changes))


# Every datetime field of every model, with a builder that makes the rest of the model valid.
def synced_article(**changes: Any) -> deskcore.models.SyncedArticle:
    fields = {
        "target_id": "kb-1",
        "source_id": "a-1",
        "department_id": "support",
        "title": "T",
        "body": "B",
        "source_digest": "sha256:0",
        "synced_at": T0,
    }
    return deskcore.models.SyncedArticle(**(fields | changes))


def sync_run(**changes: Any) -> deskcore.models.SyncRun:
    fields = {"key": "k", "trigger": "manual", "started_at": T0 - timedelta(hours=1)}
    return deskcore.models.SyncRun(**(fields | changes))


def occurrence(**changes: Any) -> deskcore.models.Occurrence:
    fields = {"schedule_id": "kb", "local_date": T0.date(), "at": T0}
    return deskcore.models.Occurrence(**(fields | changes))


def article_synced(**changes: Any) -> deskcore.models.ArticleSynced:
    fields: dict[str, Any] = {
        "source_id": "kb-1",
        "target_id": "kb-1",
        "action": "create",
        "reason": "new_article",
        "run_key": "kb@2026-05-01",
        "at": T0,
    }
    return deskcore.models.ArticleSynced(**(fields | changes))


def _log(at: datetime, old: str, new: str) -> deskcore.models.StatusRecord:
    return deskcore.models.StatusRecord(at=at, from_status=old, to_status=new)


def status_record(**changes: Any) -> deskcore.models.StatusRecord:
    fields: dict[str, Any] = {"at": T0, "from_status": "open", "to_status": "on_hold"}
    return deskcore.models.StatusRecord(**(fields | changes))


def queue_entry(**changes: Any) -> deskcore.models.QueueEntry:
    ticket = Ticket(
        id="t-1",
        number=1,
        department_id="d",
        channel=Channel.EMAIL,
        contact_id="c",
        created_at=T0,
    )
    return deskcore.models.QueueEntry(**({"ticket": ticket} | changes))


_PROFILE = deskcore.models.SocialProfile(network="twitter", id="42", handle="@yamada")
_TWEET = deskcore.models.ExternalReference(
    network="twitter", account="brand", kind="tweet", native_id="1"
)


def interaction(**changes: Any) -> deskcore.models.SocialInteraction:
    fields: dict[str, Any] = {
        "reference": _TWEET,
        "trigger": "mention",
        "profile": _PROFILE,
        "at": T0,
    }
    return deskcore.models.SocialInteraction(**(fields | changes))


def record_added(**changes: Any) -> deskcore.models.CrmRecordAdded:
    fields: dict[str, Any] = {"record_id": "lead-1", "kind": "lead", "profile": _PROFILE, "at": T0}
    return deskcore.models.CrmRecordAdded(**(fields | changes))


def profile_linked(**changes: Any) -> deskcore.models.CrmProfileLinked:
    fields: dict[str, Any] = {"record_id": "lead-1", "profile": _PROFILE, "at": T0}
    return deskcore.models.CrmProfileLinked(**(fields | changes))


def interaction_linked(**changes: Any) -> deskcore.models.CrmInteractionLinked:
    fields: dict[str, Any] = {
        "record_id": "lead-1",
        "reference": _TWEET,
        "trigger": "mention",
        "at": T0,
    }
    return deskcore.models.CrmInteractionLinked(**(fields | changes))


DATETIME_FIELDS: list[tuple[type[Any], str, Callable[..., Any]]] = [
    (Attachment, "created_at", attachment),
    (Revision, "replaced_at", revision),
    (Message, "sent_at", message),
    (Comment, "created_at", comment),
    (Ticket, "created_at", ticket),
    (Ticket, "first_responded_at", ticket),
    (Ticket, "on_hold_since", lambda **kw: ticket(status=TicketStatus.ON_HOLD, **kw)),
    (Ticket, "closed_at", lambda **kw: ticket(status=TicketStatus.CLOSED, **kw)),
    (Ticket, "trashed_at", ticket),
    (InboundMessage, "sent_at", inbound),
    (MergeJournalEntry, "at", journal_entry),
    (ChatSession, "started_at", chat_session),
    (ChatSession, "answered_at", chat_session),
    (ChatSession, "ended_at", chat_session),
    (SocialItem, "created_at", social_item),
    (SocialConversation, "last_checked_at", social_conversation),
    (deskcore.models.SyncedArticle, "synced_at", synced_article),
    (deskcore.models.SyncRun, "started_at", sync_run),
    (deskcore.models.SyncRun, "finished_at", sync_run),
    (deskcore.models.Occurrence, "at", occurrence),
    (deskcore.models.ArticleSynced, "at", article_synced),
    (deskcore.models.StatusRecord, "at", status_record),
    (deskcore.models.QueueEntry, "due_at", queue_entry),
    (deskcore.models.QueueEntry, "overdue_since", queue_entry),
    (deskcore.models.SocialInteraction, "at", interaction),
    (deskcore.models.CrmRecordAdded, "at", record_added),
    (deskcore.models.CrmProfileLinked, "at", profile_linked),
    (deskcore.models.CrmInteractionLinked, "at", interaction_linked),
    *(
        (cls, "at", lambda cls=cls, **kw: event(cls, **kw))
        for cls in (
            TicketCreated,
            ItemAppended,
            ItemRevised,
            StatusChanged,
            FirstResponseRecorded,
            ReferenceConflict,
            TicketMerged,
            TicketTrashed,
            TicketRestored,
        )
    ),
]

ALL_MODELS = st.one_of(
    s.external_references(),
    s.channels(),
    s.classifications(),
    s.contacts(),
    s.accounts(),
    s.departments(),
    s.brands(),
    s.actors(),
    s.attachments(),
    s.revisions(),
    s.messages(),
    s.comments(),
    s.tickets(max_items=3),
    s.inbound_attachments(),
    s.inbound_messages(),
    s.desk_settings(),
    s.ticket_queries(),
    s.domain_events(),
)


# -- T1: immutable values --------------------------------------------------------------------------


@given(ALL_MODELS)
def test_T1_every_model_is_frozen(value: Any) -> None:
    """T1: no model can be changed in place."""
    name = attrs.fields(type(value))[0].name
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(value, name, getattr(value, name))


@given(ALL_MODELS)
def test_T1_models_are_hashable_values(value: Any) -> None:
    """T1: models are values: equal to an unchanged evolve of themselves, with equal hashes."""
    copy = attrs.evolve(value)
    assert copy == value
    assert hash(copy) == hash(value)


@given(s.tickets(max_items=4))
def test_T1_evolve_returns_a_new_value_and_leaves_the_original(t: Ticket) -> None:
    """T1: a change returns a new value; the original is untouched."""
    before = pickle.loads(pickle.dumps(t))
    changed = attrs.evolve(t, subject=t.subject + "!")
    assert changed is not t
    assert changed.subject == t.subject + "!"
    assert t == before


@given(s.tickets(max_items=2))
def test_T1_evolve_reruns_validators(t: Ticket) -> None:
    """T1: attrs.evolve re-runs every validator."""
    with pytest.raises(InvalidModelError, match=r"Ticket\.id"):
        attrs.evolve(t, id="")
    with pytest.raises(InvalidModelError, match=r"Ticket\.number"):
        attrs.evolve(t, number=0)
    with pytest.raises(NaiveDatetimeError):
        attrs.evolve(t, created_at=NAIVE)
    with pytest.raises(UnknownValueError):
        attrs.evolve(t, priority="urgent")


def test_T1_evolve_reruns_invariants() -> None:
    """T1: evolve also re-checks the cross-field invariants of the ticket."""
    with pytest.raises(InvalidModelError, match="closed_at"):
        attrs.evolve(ticket(), status=TicketStatus.CLOSED)
    with pytest.raises(InvalidModelError, match="size"):
        attrs.evolve(attachment(), size=-1)


def test_T1_thread_and_references_are_tuples() -> None:
    """T1: collection fields are immutable tuples, not lists."""
    t = ticket(thread=(message(),), external_refs=(ExternalReference("a", "b", "c", "d"),))
    assert isinstance(t.thread, tuple)
    assert isinstance(t.external_refs, tuple)
    with pytest.raises(InvalidModelError, match="tuple"):
        ticket(thread=[message()])


# -- T1: FrozenMap ---------------------------------------------------------------------------------


def test_T1_frozen_map_cannot_be_changed_in_place() -> None:
    """T1: custom fields live in a FrozenMap that has no mutating methods."""
    m: FrozenMap[str, int] = FrozenMap({"a": 1})
    with pytest.raises(TypeError):
        m["a"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        del m["a"]  # type: ignore[attr-defined]
    for name in ("update", "pop", "popitem", "clear", "setdefault", "__setitem__"):
        assert not hasattr(m, name)
    with pytest.raises(AttributeError):
        m.extra = 1  # type: ignore[attr-defined]
    assert m == {"a": 1}


def test_T1_frozen_map_copies_its_input() -> None:
    """T1: changing the dict a FrozenMap (or a ticket) was built from changes nothing."""
    source: dict[str, Any] = {"plan": "gold"}
    m = FrozenMap(source)
    t = ticket(custom_fields=source)
    source["plan"] = "free"
    assert m["plan"] == "gold"
    assert t.custom_fields["plan"] == "gold"
    assert isinstance(t.custom_fields, FrozenMap)


def test_T1_frozen_map_set_returns_a_copy() -> None:
    """T1: FrozenMap.set returns a new map and leaves the original as it was."""
    m: FrozenMap[str, int] = FrozenMap({"a": 1})
    n = m.set("b", 2)
    assert m == {"a": 1}
    assert n == {"a": 1, "b": 2}
    assert isinstance(n, FrozenMap)


@given(s.custom_fields(), st.randoms(use_true_random=False))
def test_T1_frozen_map_hashes_by_content(data: dict[str, Any], rnd: Any) -> None:
    """T1: FrozenMap is hashable; equal content gives equal maps and hashes, in any order."""
    items = list(data.items())
    rnd.shuffle(items)
    a, b = FrozenMap(data), FrozenMap(dict(items))
    assert a == b
    assert hash(a) == hash(b)
    assert {a: "x"}[b] == "x"
    assert pickle.loads(pickle.dumps(a)) == a
    assert list(pickle.loads(pickle.dumps(a))) == list(a)


def test_T1_frozen_map_differs_from_other_content() -> None:
    """T1: maps with other content are not equal."""
    assert FrozenMap({"a": 1}) != FrozenMap({"a": 2})
    assert FrozenMap({"a": 1}) != FrozenMap({"b": 1})
    assert FrozenMap({"a": 1}) != 1


def test_T1_custom_fields_hold_json_scalars_only() -> None:
    """T1/T2: custom fields are JSON scalars under non-empty names."""
    ok = ticket(custom_fields={"plan": "gold", "seats": 3, "ratio": 0.5, "vip": True, "x": None})
    assert ok.custom_fields["seats"] == 3
    with pytest.raises(InvalidModelError, match="JSON scalar"):
        ticket(custom_fields={"tags": ["a", "b"]})
    with pytest.raises(InvalidModelError, match="custom field name"):
        ticket(custom_fields={"": 1})


# -- T1: aware datetimes ---------------------------------------------------------------------------


def test_T1_every_datetime_field_is_covered() -> None:
    """T1: the naive-datetime test below covers every datetime field of every model."""
    covered = {(cls, name) for cls, name, _ in DATETIME_FIELDS}
    found = set()
    for name in deskcore.models.__all__:
        cls = getattr(deskcore.models, name)
        if isinstance(cls, type) and attrs.has(cls):
            for field in attrs.fields(cls):
                if "datetime" in str(field.type):
                    found.add((cls, field.name))
    assert found
    assert found <= covered, found - covered


@pytest.mark.parametrize(
    ("model", "field", "build"),
    DATETIME_FIELDS,
    ids=[f"{cls.__name__}.{name}" for cls, name, _ in DATETIME_FIELDS],
)
def test_T1_naive_datetime_rejected(
    model: type[Any], field: str, build: Callable[..., Any]
) -> None:
    """T1: every model rejects a naive datetime; the error names the model and the field."""
    build(**{field: T0})  # the same value with a time zone is fine
    with pytest.raises(NaiveDatetimeError) as caught:
        build(**{field: NAIVE})
    error = caught.value
    assert error.code == "naive_datetime"
    assert error.model == model.__name__
    assert error.field == field
    assert f"{model.__name__}.{field}" in str(error)
    assert "naive" in str(error)
    assert isinstance(error, InvalidModelError)
    assert isinstance(error, ValueError)


class _NoOffset(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_T1_tzinfo_without_offset_counts_as_naive() -> None:
    """T1: a datetime whose tzinfo gives no UTC offset is naive, and rejected."""
    with pytest.raises(NaiveDatetimeError):
        ticket(created_at=datetime(2026, 1, 1, tzinfo=_NoOffset()))


def test_T1_datetime_fields_reject_other_types() -> None:
    """T1: a date string is not a datetime."""
    with pytest.raises(InvalidModelError, match="expected a datetime"):
        ticket(created_at="2026-04-01T09:00:00Z")


def test_T1_fixed_clock_rejects_naive_time() -> None:
    """T1: the testing clock refuses naive datetimes too."""
    with pytest.raises(NaiveDatetimeError):
        FixedClock(NAIVE)
    clock = FixedClock(T0)
    with pytest.raises(NaiveDatetimeError):
        clock.set(NAIVE)


def test_T1_datetimes_in_any_zone_are_accepted_and_kept() -> None:
    """T1: aware datetimes in any zone are accepted as given."""
    jst = timezone(timedelta(hours=9))
    t = ticket(created_at=T0.astimezone(jst))
    assert t.created_at == T0
    assert t.created_at.utcoffset() == timedelta(hours=9)


# -- T1/P5: ids and text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "must not be empty"),
        (" t-1", "surrounding whitespace"),
        ("t-1\n", "surrounding whitespace"),
        ("t\x00-1", "unprintable"),
        ("x" * 256, "longer than 255"),
        (42, "expected a string id"),
    ],
)
def test_T1_bad_ids_rejected(value: Any, problem: str) -> None:
    """T1/P5: ids are non-empty printable strings of at most 255 characters, unpadded."""
    with pytest.raises(InvalidModelError, match=problem) as caught:
        ticket(id=value)
    assert caught.value.field == "id"
    assert caught.value.model == "Ticket"


@given(s.ids())
def test_T1_generated_ids_are_valid(value: str) -> None:
    """T1: the id strategy only produces ids that the validator accepts."""
    assert ticket(id=value).id == value


@given(st.text(max_size=300))
def test_T1_the_id_check_agrees_with_its_definition(value: str) -> None:
    """T1: the validator accepts exactly the non-empty printable ids of at most 255
    characters without surrounding whitespace, for str and for str subclasses alike."""

    class Name(str):
        pass

    valid = 0 < len(value) <= 255 and value.isprintable() and value == value.strip()
    for candidate in (value, Name(value)):
        if valid:
            assert ticket(id=candidate).id == value
        else:
            with pytest.raises(InvalidModelError):
                ticket(id=candidate)


def test_T1_lone_surrogate_rejected() -> None:
    """T1/P5: text must be valid Unicode: a lone surrogate is rejected."""
    with pytest.raises(InvalidModelError, match="lone surrogate"):
        message(body="broken \ud800 text")


def test_T1_text_length_limit() -> None:
    """T1/P5: a subject longer than its limit is rejected with the limit named."""
    with pytest.raises(InvalidModelError, match="limit of 1000"):
        ticket(subject="x" * 1001)


@given(s.texts(max_size=60))
def test_T1_unicode_text_round_trips(text: str) -> None:
    """T1: Japanese, emoji and right-to-left text is kept exactly as given."""
    assert message(body=text).body == text
    text.encode("utf-8")


# -- T2: the ticket --------------------------------------------------------------------------------


def test_T2_ticket_has_every_field_of_the_spec() -> None:
    """T2: a ticket holds every field the spec lists."""
    names = set(attrs.fields_dict(Ticket))
    assert {
        "id",
        "number",
        "department_id",
        "subject",
        "status",
        "priority",
        "classification",
        "channel",
        "contact_id",
        "account_id",
        "product_name",
        "assignee_id",
        "created_at",
        "first_responded_at",
        "on_hold_time",
        "closed_at",
        "custom_fields",
        "thread",
        "external_refs",
        "merged_into",
        "trashed_at",
        "version",
    } <= names


def test_T2_ticket_defaults() -> None:
    """T2: a new ticket is open, medium priority, version 0, with an empty thread."""
    t = ticket()
    assert t.status is TicketStatus.OPEN
    assert t.priority is Priority.MEDIUM
    assert t.version == 0
    assert t.thread == ()
    assert t.on_hold_time == timedelta(0)
    assert not t.is_trashed


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"number": 0}, "number"),
        ({"number": True}, "number"),
        ({"version": -1}, "version"),
        ({"on_hold_time": timedelta(seconds=-1)}, "on_hold_time"),
        ({"status": TicketStatus.ON_HOLD}, "on_hold_since"),
        ({"on_hold_since": T0}, "on_hold_since"),
        ({"status": TicketStatus.CLOSED}, "closed_at"),
        ({"closed_at": T0}, "closed_at"),
        ({"merged_into": "t-2"}, "trashed_at"),
        ({"merged_into": "t-1", "trashed_at": T0}, "merged_into"),
        ({"thread": (message(), message())}, "thread"),
        (
            {"thread": (message(sent_at=T0 + timedelta(1)), message(id="m-2"))},
            "thread",
        ),
        ({"external_refs": (REF,), "thread": (message(external_ref=REF),)}, "external_refs"),
        ({"external_refs": (REF, REF)}, "external_refs"),
        ({"channel": "email"}, "channel"),
        # SL7: the status log is a chain in time order ending in the current status.
        ({"status_log": (_log(T0, "open", "escalated"),)}, "status_log"),
        (
            {
                "status": "escalated",
                "status_log": (
                    _log(T0, "open", "on_hold"),
                    _log(T0 + timedelta(1), "open", "escalated"),
                ),
            },
            "status_log",
        ),
        (
            {
                "status": "open",
                "status_log": (
                    _log(T0 + timedelta(1), "open", "on_hold"),
                    _log(T0, "on_hold", "open"),
                ),
            },
            "status_log",
        ),
        (
            {
                "status": "on_hold",
                "on_hold_since": T0 + timedelta(1),
                "status_log": (_log(T0, "open", "on_hold"),),
            },
            "status_log",
        ),
        ({"status_log": (("open", "closed"),)}, "status_log"),
    ],
)
def test_T2_ticket_invariants(changes: dict[str, Any], field: str) -> None:
    """T2: a ticket that breaks an invariant cannot be built; the error names the field."""
    with pytest.raises(InvalidModelError) as caught:
        ticket(**changes)
    assert caught.value.field == field


@given(s.tickets())
def test_T2_generated_tickets_keep_their_invariants(t: Ticket) -> None:
    """T2: the ticket strategy yields consistent tickets (status, thread order, refs)."""
    assert (t.status is TicketStatus.ON_HOLD) == (t.on_hold_since is not None)
    assert (t.status is TicketStatus.CLOSED) == (t.closed_at is not None)
    assert t.merged_into is None or t.is_trashed
    instants = [item.created_at.astimezone(UTC) for item in t.thread]
    assert instants == sorted(instants)
    assert len({item.id for item in t.thread}) == len(t.thread)
    assert len(set(t.all_references())) == len(t.all_references())
    assert t.version >= 0
    assert all(is_aware(item.created_at) for item in t.thread)
    if t.status_log:
        assert t.status_log[-1].to_status is t.status
        assert t.status_history() == t.status_log


def test_SL7_a_status_record_is_a_change() -> None:
    """SL7: a status record from a status to itself is refused: it is no change."""
    with pytest.raises(InvalidModelError, match="to itself"):
        _log(T0, "open", "open")


def test_T2_item_lookup() -> None:
    """T2: a ticket finds its thread items by id."""
    m = message()
    t = ticket(thread=(m,))
    assert t.item("m-1") is m
    assert list(t.messages()) == [m]
    with pytest.raises(LookupError, match="m-2"):
        t.item("m-2")


# -- T3: statuses, priorities, classifications -----------------------------------------------------


def test_T3_four_statuses_three_priorities() -> None:
    """T3: status is open, on hold, escalated or closed; priority high, medium or low."""
    assert {x.value for x in TicketStatus} == {"open", "on_hold", "escalated", "closed"}
    assert {x.value for x in Priority} == {"high", "medium", "low"}
    assert ticket(status="escalated").status is TicketStatus.ESCALATED
    assert ticket(priority="high").priority is Priority.HIGH


def test_T3_unknown_status_rejected() -> None:
    """T3: an unknown status is rejected with the allowed values listed."""
    with pytest.raises(UnknownValueError) as caught:
        ticket(status="pending")
    error = caught.value
    assert error.code == "unknown_value"
    assert error.value == "pending"
    assert set(error.allowed) == {"open", "on_hold", "escalated", "closed"}
    assert "'pending'" in str(error)
    assert "Ticket.status" in str(error)


def test_T3_default_classifications_and_host_list() -> None:
    """T3: the default classification list, and a host's own list."""
    assert [c.code for c in Classification.defaults()] == [
        "question",
        "problem",
        "feature_request",
        "others",
    ]
    own = (Classification("billing"), Classification("shipping"))
    settings = DeskSettings(default_department_id="support", classifications=own)
    assert settings.classifications == own
    assert DeskSettings(default_department_id="support").classifications == (
        Classification.defaults()
    )
    with pytest.raises(InvalidModelError, match="at least one"):
        DeskSettings(default_department_id="support", classifications=())
    with pytest.raises(InvalidModelError, match="not a code"):
        Classification("Feature Request")


# -- T4: channels ----------------------------------------------------------------------------------


def test_T4_default_channels() -> None:
    """T4: email, chat, web, phone, facebook and twitter are the defaults."""
    assert [str(c) for c in Channel.defaults()] == [
        "email",
        "chat",
        "web",
        "phone",
        "facebook",
        "twitter",
    ]
    assert Channel("email") == Channel.EMAIL
    assert hash(Channel("email")) == hash(Channel.EMAIL)
    assert repr(Channel.EMAIL) == "Channel('email')"


def test_T4_host_adds_a_channel() -> None:
    """T4: a host can add channels: Channel("line") is accepted."""
    line = Channel("line")
    assert str(line) == "line"
    assert ticket(channel=line).channel == Channel("line")
    assert sorted([Channel.WEB, line, Channel.CHAT]) == [Channel.CHAT, line, Channel.WEB]


@pytest.mark.parametrize("code", ["Bad Code", "", "1line", "LINE", "li-ne", "x" * 65, None, 3])
def test_T4_malformed_channel_code_rejected(code: Any) -> None:
    """T4: a channel code is 1-64 lowercase letters, digits or '_', starting with a letter."""
    with pytest.raises(InvalidModelError, match="not a code") as caught:
        Channel(code)
    assert caught.value.model == "Channel"


@given(s.codes(max_size=64))
def test_T4_any_well_formed_code_is_a_channel(code: str) -> None:
    """T4: every well-formed code makes a channel that prints as that code."""
    assert re.fullmatch(r"[a-z][a-z0-9_]{0,63}", code)
    assert str(Channel(code)) == code
    assert Classification(code).code == code


# -- T5: thread items ------------------------------------------------------------------------------


@given(s.thread_items("T-42"))
def test_T5_thread_items_carry_their_origin_ticket(item: Any) -> None:
    """T5: every thread item (and every attachment of a message) names its origin ticket."""
    assert item.origin_ticket_id == "T-42"
    if isinstance(item, Message):
        assert all(a.origin_ticket_id == "T-42" for a in item.attachments)


@pytest.mark.parametrize("build", [message, comment, attachment])
def test_T5_origin_ticket_id_is_required(build: Callable[..., Any]) -> None:
    """T5: an item's origin ticket id must be a valid id."""
    with pytest.raises(InvalidModelError, match="origin_ticket_id"):
        build(origin_ticket_id="")


def test_T5_message_fields_and_defaults() -> None:
    """T5: a message has direction, visibility, author, body, channel, sent time, external id
    and attachments; it is public by default, and a comment private by default."""
    a = attachment()
    m = message(external_ref=REF, attachments=(a,))
    assert m.kind == "message"
    assert m.visibility is Visibility.PUBLIC
    assert m.created_at == m.sent_at
    assert m.attachments == (a,)
    assert m.content_digest == digest_content(m.body, (a,))
    assert comment().visibility is Visibility.PRIVATE
    assert comment().kind == "comment"
    assert a.kind == "attachment"
    assert a.content_type == "application/octet-stream"


@pytest.mark.parametrize(
    ("direction", "visibility", "expected"),
    [
        (Direction.OUTBOUND, Visibility.PUBLIC, True),
        (Direction.OUTBOUND, Visibility.PRIVATE, False),
        (Direction.INBOUND, Visibility.PUBLIC, False),
        (Direction.INBOUND, Visibility.PRIVATE, False),
    ],
)
def test_T5_public_reply_is_public_outbound(
    direction: Direction, visibility: Visibility, expected: bool
) -> None:
    """T5/L4: only a public outbound message counts as an agent's reply."""
    assert message(direction=direction, visibility=visibility).is_public_reply is expected


def test_T5_bad_items_rejected() -> None:
    """T5/P5: negative sizes, unknown directions and foreign attachments are rejected."""
    with pytest.raises(InvalidModelError, match="negative"):
        attachment(size=-1)
    with pytest.raises(InvalidModelError, match="integer"):
        attachment(size=1.5)
    with pytest.raises(UnknownValueError, match="sideways"):
        message(direction="sideways")
    with pytest.raises(UnknownValueError, match="secret"):
        comment(visibility="secret")
    with pytest.raises(InvalidModelError, match="expected Attachment"):
        message(attachments=("file.txt",))
    with pytest.raises(InvalidModelError, match="negative"):
        InboundAttachment(name="f", size=-5, storage_key="k")


# -- T6: external references -----------------------------------------------------------------------


@given(s.external_references())
def test_T6_reference_string_round_trip(ref: ExternalReference) -> None:
    """T6: str(reference) has four '/'-separated parts and parses back to the same value."""
    text = str(ref)
    assert text.count("/") == 3
    assert ExternalReference.parse(text) == ref


@given(s.external_references(), s.external_references())
def test_T6_reference_string_is_injective(a: ExternalReference, b: ExternalReference) -> None:
    """T6: two references have the same string form only if they are equal."""
    assert (str(a) == str(b)) == (a == b)


@pytest.mark.parametrize(
    "native_id", ["<a/b@mail>", "100%", "%2F", "%25", "a%2Fb/c%", "//", "%%", "問い合わせ/😀"]
)
def test_T6_slash_and_percent_in_parts(native_id: str) -> None:
    """T6: '/' and '%' in a part (a Message-ID, a URL) survive the string form."""
    ref = ExternalReference(
        network="email", account="support/jp", kind="message", native_id=native_id
    )
    text = str(ref)
    assert text.startswith("email/support%2Fjp/message/")
    assert ExternalReference.parse(text) == ref


@pytest.mark.parametrize("text", ["a/b/c", "a/b/c/d/e", "", "a//c/d", "a/b/c/ d"])
def test_T6_malformed_reference_string_rejected(text: str) -> None:
    """T6/P5: a string without four valid parts is rejected."""
    with pytest.raises(InvalidModelError):
        ExternalReference.parse(text)


def test_T6_reference_belongs_to_one_ticket() -> None:
    """T6: one external reference appears at most once on a ticket."""
    with pytest.raises(InvalidModelError, match="appears twice"):
        ticket(
            thread=(
                message(external_ref=REF),
                message(id="m-2", external_ref=REF, sent_at=T0 + timedelta(1)),
            )
        )
    t = ticket(external_refs=(REF,))
    assert t.all_references() == (REF,)


# -- T7: actors ------------------------------------------------------------------------------------


def test_T7_require_names_the_missing_permission() -> None:
    """T7: an operation the actor may not do raises PermissionDeniedError naming what is missing."""
    agent = Actor(id="agent-7", roles=["agent"], permissions=["view_ticket"])
    assert agent.can(Permission.VIEW_TICKET)
    assert not agent.can(Permission.SEARCH_AND_MERGE)
    agent.require(Permission.VIEW_TICKET, "view the ticket")
    with pytest.raises(PermissionDeniedError) as caught:
        agent.require(Permission.SEARCH_AND_MERGE, "merge tickets")
    error = caught.value
    assert error.code == "permission_denied"
    assert error.missing == "search_and_merge"
    assert error.actor_id == "agent-7"
    assert error.operation == "merge tickets"
    assert "search_and_merge" in str(error)
    assert isinstance(error, PermissionError)


def test_T7_require_role_names_the_missing_role() -> None:
    """T7: social settings need the social admin role; the error names the role."""
    admin = Actor(id="a-1", roles={Role.ADMIN})
    admin.require_role(Role.ADMIN, "run a sync")
    with pytest.raises(PermissionDeniedError, match="role:social_admin") as caught:
        admin.require_role(Role.SOCIAL_ADMIN, "change auto-ticket rules")
    assert caught.value.missing == "role:social_admin"


@given(s.actors(), st.sampled_from(Permission))
def test_T7_require_agrees_with_permissions(actor: Actor, permission: Permission) -> None:
    """T7: require passes exactly when the actor holds the permission."""
    if permission in actor.permissions:
        actor.require(permission, "do it")
    else:
        with pytest.raises(PermissionDeniedError, match=permission.value):
            actor.require(permission, "do it")


def test_T7_unknown_roles_and_permissions_rejected() -> None:
    """T7/P5: roles and permissions are closed sets."""
    with pytest.raises(UnknownValueError, match="boss"):
        Actor(id="a", roles=["boss"])
    with pytest.raises(UnknownValueError, match="fly"):
        Actor(id="a", permissions=["fly"])
    with pytest.raises(InvalidModelError, match="set of Role"):
        Actor(id="a", roles="admin")


# -- parties ---------------------------------------------------------------------------------------


@given(st.one_of(s.contacts(), s.accounts(), s.departments(), s.brands()))
def test_T2_parties_are_valid_values(party: Any) -> None:
    """T2: contacts, accounts, departments and brands keep their ids and names."""
    assert party == attrs.evolve(party)
    assert party.id == party.id.strip()


def test_T2_parties_reject_bad_ids() -> None:
    """T2/P5: parties need valid ids."""
    for build in (
        lambda: Contact(id=""),
        lambda: Account(id="", name="ACME"),
        lambda: Department(id="", name="Support"),
        lambda: Brand(id="", name="ACME"),
        lambda: Contact(id="c", account_id=" "),
    ):
        with pytest.raises(InvalidModelError):
            build()


# -- P3: content digests ---------------------------------------------------------------------------


@given(st.text(max_size=30), st.lists(s.inbound_attachments(), max_size=2))
def test_P3_digest_is_stable(body: str, files: list[InboundAttachment]) -> None:
    """P3: the digest depends on content only: same body and attachments, same digest."""
    assert digest_content(body, files) == digest_content(body, list(files))
    assert digest_content(body, files).startswith("sha256:")


def test_P3_digest_tells_content_apart() -> None:
    """P3: other body, other attachment name, size or key: other digest."""
    a = InboundAttachment(name="a.png", size=10, storage_key="k1")
    base = digest_content("hi", [a])
    assert digest_content("hi!", [a]) != base
    assert digest_content("hi", []) != base
    assert digest_content("hi", [attrs.evolve(a, size=11)]) != base
    assert digest_content("hi", [attrs.evolve(a, storage_key="k2")]) != base


def test_P3_digest_separates_body_from_attachments() -> None:
    """P3: a body that spells out an attachment's fields does not collide with that
    attachment (otherwise a different message is taken for a redelivery and dropped)."""
    a = InboundAttachment(name="f", size=1, content_type="t", storage_key="k")
    assert digest_content("hi\x00f\x001\x00t\x00k") != digest_content("hi", [a])


@pytest.mark.parametrize(
    "criteria",
    [
        {"subject": ""},
        {"subject": "  \u3000 "},
        {"contact_name": "x" * 1001},
        {"contact_email": "\ud800@example.com"},
        {"limit": 0},
        {"limit": 1001},
        {"limit": True},
        {"offset": -1},
        {"offset": 2**31},
        {"number": 0},
        {"number": 2**63},
        {"statuses": {"pending"}},
        {"statuses": 3},
    ],
    ids=repr,
)
def test_P2_bad_search_criteria_raise_typed_errors(criteria: dict[str, object]) -> None:
    with pytest.raises(InvalidModelError):
        TicketQuery(**criteria)  # type: ignore[arg-type]


def test_P2_search_criteria_are_normalised() -> None:
    query = TicketQuery(statuses=["open", TicketStatus.CLOSED], department_ids="support")
    assert query.statuses == frozenset({TicketStatus.OPEN, TicketStatus.CLOSED})
    assert query.department_ids == frozenset({"support"})
    assert TicketQuery(statuses="on_hold").statuses == frozenset({TicketStatus.ON_HOLD})
