"""Hypothesis strategies for every deskcore model (P7).

Use them to property-test your own code against valid domain values, or your own repository
against the contract suite. Every strategy produces values that pass the models' validators:
ids are non-empty, printable and unpadded; datetimes are always aware (UTC, fixed offsets and
IANA zones, daylight-saving ones included); text mixes Japanese, emoji and right-to-left
scripts but never holds a lone surrogate. Sizes are small by default (threads of at most eight
items), so tests stay fast.

>>> from hypothesis import given
>>> from deskcore.testing.strategies import tickets
>>> @given(tickets())
... def test_closed_tickets_need_no_action(ticket):
...     if ticket.status == "closed":
...         assert not ticket.needs_action

Needs the ``testing`` extra (``pip install deskcore[testing]``), which brings hypothesis.
"""

from __future__ import annotations

import operator
import string
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st

from deskcore.models import (
    Account,
    Actor,
    Attachment,
    Brand,
    Channel,
    Classification,
    Comment,
    Contact,
    CustomValue,
    Department,
    DeskSettings,
    Direction,
    DomainEvent,
    ExternalReference,
    FirstResponseRecorded,
    InboundAttachment,
    InboundMessage,
    ItemAppended,
    ItemRevised,
    Message,
    Permission,
    Priority,
    ReferenceConflict,
    Revision,
    Role,
    StatusChanged,
    StatusRecord,
    ThreadItem,
    Ticket,
    TicketCreated,
    TicketMerged,
    TicketQuery,
    TicketRestored,
    TicketStatus,
    TicketTrashed,
    Visibility,
    digest_content,
    fold,
)
from deskcore.models._validate import is_aware

__all__ = [
    "ZONE_NAMES",
    "accounts",
    "actors",
    "attachments",
    "aware_datetimes",
    "brands",
    "channels",
    "classifications",
    "codes",
    "comments",
    "contacts",
    "custom_fields",
    "custom_values",
    "departments",
    "desk_settings",
    "digests",
    "domain_events",
    "external_references",
    "fixed_offsets",
    "ids",
    "inbound_attachments",
    "inbound_messages",
    "merge_sets",
    "messages",
    "revisions",
    "texts",
    "thread_items",
    "ticket_queries",
    "tickets",
    "time_zones",
    "zoneinfo_zones",
]

ZONE_NAMES: tuple[str, ...] = (
    "UTC",
    "Asia/Tokyo",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # a 30-minute daylight-saving shift
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30 / -02:30
    "Pacific/Kiritimati",  # +14:00
    "America/Santiago",  # southern-hemisphere daylight saving
)
"""The IANA zones :func:`zoneinfo_zones` draws from: odd offsets and daylight saving."""

_MIN_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_MAX_TIME = datetime(2099, 12, 31, tzinfo=UTC)

# Characters a generic generator rarely picks, so they are mixed in on purpose: Japanese
# (kana, kanji, half- and full-width forms), emoji (with a skin tone and a zero-width
# joiner), Hebrew and Arabic, and the bidirectional marks that trip up naive rendering.
_SPICE = tuple("問い合わせ返品ﾍﾝﾋﾟﾝＡＢＣ😀👍🏽👨\u200d👩שלוםمرحبا\u200f\u202e")
_ANY_CHAR = st.characters(exclude_categories=["Cs"])  # everything but lone surrogates
_TEXT_CHARS = st.one_of(_ANY_CHAR, st.sampled_from(_SPICE))
# An id character: printable and not whitespace, or an inner space (ids are filtered to have
# no surrounding whitespace).
_ID_CHARS = st.characters(exclude_categories=["C", "Z"], include_characters=" ")
_CODE_HEAD = st.sampled_from(string.ascii_lowercase)
_CODE_TAIL = string.ascii_lowercase + string.digits + "_"
_EMAILS = st.builds(
    "{}@{}.example".format,
    st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=10),
    st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=10),
)
# '/' separates the parts of ExternalReference's string form and '%' escapes, so reference
# parts get them, and things that look like escapes, on purpose.
_AWKWARD_INFIXES = st.sampled_from(("", "", "/", "%", "%2F", "%25", "%%/", " / "))


# -- scalars -----------------------------------------------------------------------------------


def texts(*, min_size: int = 0, max_size: int = 20) -> st.SearchStrategy[str]:
    """Unicode text with Japanese, emoji and right-to-left characters, no lone surrogates.

    Any code point but a surrogate may appear, control characters and newlines included.
    """
    return st.text(alphabet=_TEXT_CHARS, min_size=min_size, max_size=max_size)


def _valid_id(value: str) -> bool:
    return value == value.strip() and value.isprintable()


def ids(*, max_size: int = 12) -> st.SearchStrategy[str]:
    """Valid ids: non-empty, printable, no surrounding whitespace, inner spaces allowed.

    Args:
        max_size: Longest id, at most 255.
    """
    if not 1 <= max_size <= 255:
        raise ValueError("max_size must be in 1..255")
    return st.text(_ID_CHARS, min_size=1, max_size=max_size).filter(_valid_id)


def codes(*, max_size: int = 16) -> st.SearchStrategy[str]:
    """Well-formed codes of the open code lists (:class:`Channel`, :class:`Classification`):
    a lowercase letter, then lowercase letters, digits or ``_``."""
    if not 1 <= max_size <= 64:
        raise ValueError("max_size must be in 1..64")
    return st.builds(operator.add, _CODE_HEAD, st.text(_CODE_TAIL, max_size=max_size - 1))


def digests() -> st.SearchStrategy[str]:
    """Content digests in the form :func:`deskcore.digest_content` produces."""
    return texts().map(digest_content)


# -- time --------------------------------------------------------------------------------------


def fixed_offsets() -> st.SearchStrategy[tzinfo]:
    """Fixed-offset time zones from UTC-14:00 to UTC+14:00, to the minute."""
    return st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


def zoneinfo_zones() -> st.SearchStrategy[tzinfo]:
    """IANA zones (:data:`ZONE_NAMES`), resolved with :mod:`zoneinfo` when drawn."""
    return st.sampled_from(ZONE_NAMES).map(ZoneInfo)


def time_zones() -> st.SearchStrategy[tzinfo]:
    """UTC, fixed offsets and IANA zones."""
    return st.one_of(st.just(UTC), fixed_offsets(), zoneinfo_zones())


def _to_utc_naive(value: datetime, name: str) -> datetime:
    if not is_aware(value):
        raise ValueError(f"{name} must be an aware datetime")
    return value.astimezone(UTC).replace(tzinfo=None)


def _local(instant: datetime, zone: tzinfo) -> datetime:
    return instant.astimezone(zone)


def aware_datetimes(
    *,
    min_value: datetime = _MIN_TIME,
    max_value: datetime = _MAX_TIME,
    timezones: st.SearchStrategy[tzinfo] | None = None,
) -> st.SearchStrategy[datetime]:
    """Aware datetimes, never naive, between two aware bounds (inclusive).

    An instant is drawn in UTC and shown in a drawn zone, so every value is a real local time:
    never one in a daylight-saving gap, and with ``fold`` set on the repeated hour.

    Args:
        min_value: Earliest instant (aware); default 2000-01-01 UTC.
        max_value: Latest instant (aware); default 2099-12-31 UTC.
        timezones: Zones to show the instants in; default :func:`time_zones`.
    """
    instants = st.datetimes(
        min_value=_to_utc_naive(min_value, "min_value"),
        max_value=_to_utc_naive(max_value, "max_value"),
    ).map(lambda naive: naive.replace(tzinfo=UTC))
    return st.builds(_local, instants, timezones if timezones is not None else time_zones())


# -- references, code lists and parties --------------------------------------------------------


def _reference_parts() -> st.SearchStrategy[str]:
    part = ids(max_size=8)
    return st.one_of(
        part,
        st.builds(lambda head, infix, tail: f"{head}{infix}{tail}", part, _AWKWARD_INFIXES, part),
    )


def external_references() -> st.SearchStrategy[ExternalReference]:
    """External references whose parts may hold '/', '%', spaces and non-ASCII text (T6)."""
    parts = _reference_parts()
    return st.builds(
        ExternalReference,
        network=st.one_of(st.sampled_from(("twitter", "facebook", "chat", "email")), parts),
        account=parts,
        kind=st.one_of(st.sampled_from(("tweet", "dm", "comment", "chat_session")), parts),
        native_id=parts,
    )


def channels() -> st.SearchStrategy[Channel]:
    """The six default channels and host-defined ones such as ``Channel("line")`` (T4)."""
    return st.one_of(st.sampled_from(Channel.defaults()), codes().map(Channel))


def classifications() -> st.SearchStrategy[Classification]:
    """The default classifications and host-defined ones (T3)."""
    return st.one_of(st.sampled_from(Classification.defaults()), codes().map(Classification))


def contacts() -> st.SearchStrategy[Contact]:
    """Customers, with or without email, phone and account."""
    return st.builds(
        Contact,
        id=ids(),
        name=texts(max_size=20),
        email=st.none() | _EMAILS,
        phone=st.none() | st.from_regex(r"\+?[0-9][0-9 -]{2,14}", fullmatch=True),
        account_id=st.none() | ids(),
    )


def accounts() -> st.SearchStrategy[Account]:
    """Customer organisations."""
    return st.builds(Account, id=ids(), name=texts(max_size=20))


def departments() -> st.SearchStrategy[Department]:
    """Helpdesk departments."""
    return st.builds(Department, id=ids(), name=texts(max_size=20))


def brands() -> st.SearchStrategy[Brand]:
    """Brands with zero to three channel accounts."""
    return st.builds(
        Brand,
        id=ids(),
        name=texts(max_size=20),
        channel_accounts=st.lists(ids(), max_size=3).map(tuple),
    )


def actors() -> st.SearchStrategy[Actor]:
    """Actors with any set of roles and permissions (T7)."""
    return st.builds(
        Actor,
        id=ids(),
        name=texts(max_size=20),
        roles=st.frozensets(st.sampled_from(Role)),
        permissions=st.frozensets(st.sampled_from(Permission)),
    )


# -- thread items ------------------------------------------------------------------------------
#
# The composite strategies draw from strategies built once, at import time (the constants
# below); building strategies inside a draw would make hypothesis validate them anew for every
# example, which is several times slower.

_CONTENT_TYPES = ("application/octet-stream", "image/png", "text/plain; charset=utf-8", "")


def _draw_attachment(draw: st.DrawFn, origin: str, at: datetime) -> Attachment:
    return Attachment(
        id=draw(_ID),
        origin_ticket_id=origin,
        name=draw(_NAME),
        size=draw(_SIZE),
        content_type=draw(_CONTENT_TYPE),
        storage_key=draw(_NAME),
        created_at=at,
    )


def _draw_message(
    draw: st.DrawFn,
    origin: str,
    at: datetime,
    *,
    direction: Direction | None = None,
    visibility: Visibility | None = None,
    with_reference: bool | None = None,
) -> Message:
    if with_reference is None:
        with_reference = draw(st.booleans())
    # Mostly computed from the content, sometimes a digest the host supplied.
    given_digest = draw(_DIGEST) if draw(_ONE_IN_FOUR) else None
    return Message(
        id=draw(_ID),
        origin_ticket_id=origin,
        direction=direction if direction is not None else draw(_DIRECTION),
        visibility=visibility if visibility is not None else draw(_VISIBILITY),
        author_id=draw(_ID),
        author_name=draw(_SHORT_TEXT),
        body=draw(_BODY),
        channel=draw(_CHANNEL),
        sent_at=at,
        external_ref=draw(_REFERENCE) if with_reference else None,
        content_digest=given_digest,
        attachments=tuple(_draw_attachment(draw, origin, at) for _ in range(draw(_UP_TO_ONE))),
        revisions=tuple(draw(_REVISIONS)),
        in_reply_to=draw(_OPTIONAL_ID),
    )


def _draw_comment(
    draw: st.DrawFn, origin: str, at: datetime, visibility: Visibility | None = None
) -> Comment:
    return Comment(
        id=draw(_ID),
        origin_ticket_id=origin,
        visibility=visibility if visibility is not None else draw(_VISIBILITY),
        author_id=draw(_ID),
        author_name=draw(_SHORT_TEXT),
        body=draw(_BODY),
        created_at=at,
    )


@st.composite
def attachments(
    draw: st.DrawFn, ticket_id: str | None = None, *, created_at: datetime | None = None
) -> Attachment:
    """Attachments of ``ticket_id`` (drawn when ``None``), with sizes from 0 bytes to 1 TB.

    Args:
        ticket_id: The origin ticket id every attachment carries (T5).
        created_at: Fix the creation time instead of drawing one.
    """
    origin = ticket_id if ticket_id is not None else draw(_ID)
    return _draw_attachment(draw, origin, created_at if created_at is not None else draw(_TIME))


def revisions() -> st.SearchStrategy[Revision]:
    """Earlier versions of an edited message (P3)."""
    return st.builds(
        Revision, body=texts(), content_digest=digests(), replaced_at=aware_datetimes()
    )


@st.composite
def messages(
    draw: st.DrawFn,
    ticket_id: str | None = None,
    *,
    sent_at: datetime | None = None,
    direction: Direction | None = None,
    visibility: Visibility | None = None,
    with_reference: bool | None = None,
) -> Message:
    """Messages on ``ticket_id`` (drawn when ``None``), with attachments and revisions.

    Args:
        ticket_id: The origin ticket id of the message and its attachments (T5).
        sent_at: Fix the sent time instead of drawing one.
        direction: Fix the direction instead of drawing it.
        visibility: Fix the visibility instead of drawing it.
        with_reference: ``True`` always gives an external reference, ``False`` never,
            ``None`` either.
    """
    return _draw_message(
        draw,
        ticket_id if ticket_id is not None else draw(_ID),
        sent_at if sent_at is not None else draw(_TIME),
        direction=direction,
        visibility=visibility,
        with_reference=with_reference,
    )


@st.composite
def comments(
    draw: st.DrawFn,
    ticket_id: str | None = None,
    *,
    created_at: datetime | None = None,
    visibility: Visibility | None = None,
) -> Comment:
    """Agents' comments on ``ticket_id`` (drawn when ``None``), public or private.

    Args:
        ticket_id: The origin ticket id (T5).
        created_at: Fix the creation time instead of drawing one.
        visibility: Fix the visibility instead of drawing it.
    """
    return _draw_comment(
        draw,
        ticket_id if ticket_id is not None else draw(_ID),
        created_at if created_at is not None else draw(_TIME),
        visibility,
    )


_ITEM_KINDS = st.sampled_from(("message", "message", "comment", "attachment"))


def _draw_item(
    draw: st.DrawFn, origin: str, at: datetime, with_reference: bool | None = None
) -> ThreadItem:
    kind = draw(_ITEM_KINDS)
    if kind == "message":
        return _draw_message(draw, origin, at, with_reference=with_reference)
    if kind == "comment":
        return _draw_comment(draw, origin, at)
    return _draw_attachment(draw, origin, at)


@st.composite
def thread_items(
    draw: st.DrawFn,
    ticket_id: str | None = None,
    *,
    created_at: datetime | None = None,
    with_reference: bool | None = None,
) -> ThreadItem:
    """Any thread item (message, comment or attachment) on ``ticket_id``.

    Args:
        ticket_id: The origin ticket id (drawn when ``None``).
        created_at: Fix the creation (sent) time instead of drawing one.
        with_reference: Passed to :func:`messages`.
    """
    return _draw_item(
        draw,
        ticket_id if ticket_id is not None else draw(_ID),
        created_at if created_at is not None else draw(_TIME),
        with_reference,
    )


# -- tickets -----------------------------------------------------------------------------------


def custom_values() -> st.SearchStrategy[CustomValue]:
    """JSON scalars: ``None``, booleans, integers, finite floats and text."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        texts(max_size=20),
    )


def custom_fields() -> st.SearchStrategy[dict[str, CustomValue]]:
    """Custom field mappings of up to three fields, under printable names."""
    names = st.text(_ID_CHARS, min_size=1, max_size=20)  # printable; spaces allowed
    return st.dictionaries(names, custom_values(), max_size=3)


_GAPS = st.one_of(
    st.just(timedelta(0)),  # ties: items created at the same instant
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
)


def _thread_time(instant: datetime, zone: tzinfo) -> datetime:
    local = instant.astimezone(zone)
    # Python compares two datetimes of the same zone by their wall time, which runs backwards
    # across a repeated (fall-back) hour; a repeated-hour time is shown in UTC instead, so a
    # thread sorted by instant is also sorted for every comparison the Ticket makes.
    return instant.astimezone(UTC) if local.fold else local


@st.composite
def tickets(
    draw: st.DrawFn,
    *,
    ticket_id: str | None = None,
    statuses: st.SearchStrategy[TicketStatus] | None = None,
    max_items: int = 8,
    trashed: bool | None = None,
) -> Ticket:
    """Valid tickets (T2) with a thread of up to ``max_items`` items.

    The thread is sorted by creation time (ties included), item ids are unique, some items come
    from other (merged) tickets, and no external reference appears twice. ``on_hold_since`` is
    set exactly when the status is on hold and ``closed_at`` exactly when it is closed, both at
    or after the last item; ``first_responded_at`` is the sent time of the first public
    outbound message, if any. ``version`` is 0 or more.

    Args:
        ticket_id: Fix the ticket id instead of drawing one.
        statuses: Draw the status from this strategy; any status by default.
        max_items: Longest thread.
        trashed: ``True`` gives only trashed tickets (some merged into another), ``False``
            only active ones, ``None`` either.
    """
    tid = ticket_id if ticket_id is not None else draw(_ID)

    def other_id() -> str:
        value = draw(_ID)
        return value if value != tid else value + "~"

    created_at = draw(_TIME)
    instant = created_at.astimezone(UTC)
    seen_ids: set[str] = set()  # unique by construction: a serial number starts each id
    seen_refs: set[ExternalReference] = set()
    thread: list[ThreadItem] = []
    for _ in range(draw(st.integers(0, max_items))):
        instant += draw(_GAPS)
        at = _thread_time(instant, draw(_ZONE))
        origin = other_id() if draw(_ONE_IN_FOUR) else tid
        item = _draw_item(draw, origin, at, with_reference=False)
        item_id = item.id
        while item_id in seen_ids:
            item_id += "+"
        seen_ids.add(item_id)
        if item_id != item.id:
            item = attrs.evolve(item, id=item_id)
        if isinstance(item, Message):
            reference = draw(_OPTIONAL_REFERENCE)
            if reference is not None and reference not in seen_refs:
                seen_refs.add(reference)
                item = attrs.evolve(item, external_ref=reference)
        thread.append(item)
    external_refs = tuple(dict.fromkeys(r for r in draw(_TICKET_REFERENCES) if r not in seen_refs))

    def later() -> datetime:
        return _local(instant + draw(_GAPS), draw(_ZONE))

    status = draw(statuses if statuses is not None else _STATUS)
    first_reply = next(
        (m.sent_at for m in thread if isinstance(m, Message) and m.is_public_reply), None
    )
    states = {
        None: ("active", "active", "trashed", "merged"),
        True: ("trashed", "merged"),
        False: ("active",),
    }
    state = draw(st.sampled_from(states[trashed]))
    # Some tickets carry a status log: a chain of changes ending in the status, the last at
    # the start of the current hold or the close.
    chain = [draw(_STATUS) for _ in range(draw(st.integers(0, 3)))]
    chain = [a for a, b in pairwise([*chain, status]) if a is not b]
    log: list[StatusRecord] = []
    for before, after in pairwise([*chain, status]):
        instant += draw(_GAPS)
        log.append(
            StatusRecord(at=_local(instant, draw(_ZONE)), from_status=before, to_status=after)
        )
    since = later() if status in (TicketStatus.ON_HOLD, TicketStatus.CLOSED) else None
    if log and since is not None:
        log[-1] = attrs.evolve(log[-1], at=since)
    return Ticket(
        id=tid,
        number=draw(_NUMBER),
        department_id=draw(_ID),
        subject=draw(_SUBJECT),
        status=status,
        priority=draw(_PRIORITY),
        classification=draw(_OPTIONAL_CLASSIFICATION),
        channel=draw(_CHANNEL),
        contact_id=draw(_ID),
        account_id=draw(_OPTIONAL_ID),
        product_name=draw(_OPTIONAL_SHORT_TEXT),
        assignee_id=draw(_OPTIONAL_ID),
        created_at=created_at,
        first_responded_at=first_reply,
        on_hold_time=draw(_DURATION),
        on_hold_since=since if status is TicketStatus.ON_HOLD else None,
        closed_at=since if status is TicketStatus.CLOSED else None,
        custom_fields=draw(_CUSTOM_FIELDS),
        thread=tuple(thread),
        external_refs=external_refs,
        merged_into=other_id() if state == "merged" else None,
        trashed_at=later() if state != "active" else None,
        status_log=tuple(log),
        version=draw(_VERSION),
    )


# -- merge sets --------------------------------------------------------------------------------


def _draw_merge_item(
    draw: st.DrawFn,
    item_id: str,
    origin: str,
    at: datetime,
    reference: Callable[[], ExternalReference | None],
) -> ThreadItem:
    # Lighter than _draw_item: merge properties are about ids, times, visibility and
    # provenance, so texts come mostly from small pools and the draws stay cheap.
    kind = draw(_ITEM_KINDS)
    if kind == "comment":
        return Comment(
            id=item_id,
            origin_ticket_id=origin,
            visibility=draw(_VISIBILITY),
            author_id=draw(_MERGE_AUTHOR),
            body=draw(_MERGE_BODY),
            created_at=at,
        )
    files = tuple(
        Attachment(
            id=f"{item_id}.{n}" if kind == "message" else item_id,
            origin_ticket_id=origin,
            name=draw(_MERGE_FILE_NAME),
            size=draw(_SIZE),
            content_type=draw(_CONTENT_TYPE),
            storage_key=f"store/{item_id}.{n}",
            created_at=at,
        )
        for n in range(1 if kind == "attachment" else draw(_UP_TO_ONE))
    )
    if kind == "attachment":
        return files[0]
    return Message(
        id=item_id,
        origin_ticket_id=origin,
        direction=draw(_DIRECTION),
        visibility=draw(_VISIBILITY),
        author_id=draw(_MERGE_AUTHOR),
        body=draw(_MERGE_BODY),
        channel=draw(_MERGE_CHANNEL),
        sent_at=at,
        external_ref=reference(),
        attachments=files,
    )


@st.composite
def _merge_set(
    draw: st.DrawFn,
    min_size: int,
    max_size: int,
    offsets: st.SearchStrategy[list[int]],
    department_id: str | None,
    contact_ids: st.SearchStrategy[str],
) -> list[Ticket]:
    size = draw(st.integers(min_size, max_size))
    ticket_ids = draw(st.lists(_ID, min_size=size, max_size=size, unique=True))
    numbers = draw(st.lists(_NUMBER, min_size=size, max_size=size, unique=True))
    department = department_id if department_id is not None else draw(_ID)
    # Every time of the set lies on one grid of a few slots, so creation times (of tickets
    # and of items, across tickets) tie often; a zero step ties everything.
    base = draw(_TIME).astimezone(UTC)
    step = draw(_MERGE_STEPS)

    def slot(index: int) -> datetime:
        return _local(base + index * step, draw(_ZONE))

    seen_ids: set[str] = set()  # unique by construction: a serial number starts each id
    seen_refs: set[ExternalReference] = set()

    def fresh_reference() -> ExternalReference | None:
        # Unique by construction (a serial number in the native id), so no draw is wasted.
        if not draw(_MERGE_HAS_REFERENCE):
            return None
        network, kind = draw(_MERGE_NETWORK_KIND)
        reference = ExternalReference(
            network=network,
            account=draw(_MERGE_ACCOUNT_NAME),
            kind=kind,
            native_id=f"{len(seen_refs) + 1}{draw(_AWKWARD_INFIXES)}x",
        )
        seen_refs.add(reference)
        return reference

    result = []
    for tid, number in zip(ticket_ids, numbers, strict=True):
        start = draw(_MERGE_START)
        slots = sorted(start + offset for offset in draw(offsets))
        thread: list[ThreadItem] = []
        for index in slots:
            origin = draw(_MERGE_ORIGIN) if draw(_ONE_IN_FOUR) else tid
            serial = len(seen_ids) + 1
            item_id = f"i{serial}{draw(_MERGE_ID_SUFFIX)}"
            seen_ids.add(item_id)
            thread.append(_draw_merge_item(draw, item_id, origin, slot(index), fresh_reference))
        external_refs = tuple(
            r for r in (fresh_reference() for _ in range(draw(_UP_TO_TWO))) if r is not None
        )
        last = base + (slots[-1] if slots else start) * step
        status = draw(_STATUS)

        def later(last: datetime = last) -> datetime:
            return _local(last + draw(_GAPS), draw(_ZONE))

        result.append(
            Ticket(
                id=tid,
                number=number,
                department_id=department,
                subject=draw(_MERGE_SUBJECT),
                status=status,
                priority=draw(_PRIORITY),
                classification=draw(_MERGE_CLASSIFICATION),
                channel=draw(_CHANNEL),
                contact_id=draw(contact_ids),
                account_id=draw(_MERGE_ACCOUNT),
                product_name=draw(_MERGE_PRODUCT),
                assignee_id=draw(_MERGE_ASSIGNEE),
                created_at=slot(start),
                first_responded_at=next(
                    (m.sent_at for m in thread if isinstance(m, Message) and m.is_public_reply),
                    None,
                ),
                on_hold_time=draw(_DURATION),
                on_hold_since=later() if status is TicketStatus.ON_HOLD else None,
                closed_at=later() if status is TicketStatus.CLOSED else None,
                custom_fields=draw(_MERGE_CUSTOM_FIELDS),
                thread=tuple(thread),
                external_refs=external_refs,
                version=draw(_SMALL_VERSION),
            )
        )
    return result


_MERGE_CONTACTS = ("c-1", "c-2", "c-3")


def merge_sets(
    min_size: int = 2,
    max_size: int = 5,
    *,
    max_items: int = 5,
    department_id: str | None = None,
    contact_ids: Sequence[str] = _MERGE_CONTACTS,
) -> st.SearchStrategy[list[Ticket]]:
    """Lists of tickets that can be merged together (M1-M15): the input of a merge.

    Every ticket is valid and not in the trash; all are in one department; ticket ids and
    numbers are distinct; item ids and external references (of tickets and of messages) are
    unique across the whole set. Contacts, accounts, subjects, priorities, classifications,
    products, assignees and custom fields are drawn from small pools, so the tickets agree on
    some fields and differ on others (``1``, ``1.0`` and ``True`` included: equal in Python,
    different values to a merge). Creation times of tickets and items lie on a coarse grid
    of instants shown in various time zones, so ties between tickets and between items of
    different tickets are common. Threads hold messages (public and private, some with
    attachments and references), comments and attachments; some items carry the id of
    another origin ticket (an earlier merge). ``version`` is small but not always 0: reset
    it to 0 before adding the tickets to a repository.

    Args:
        min_size: Fewest tickets in a set (at least 1).
        max_size: Most tickets in a set.
        max_items: Longest thread of each ticket.
        department_id: Fix the department instead of drawing one.
        contact_ids: The contacts the tickets belong to; one id gives a set of one customer.
    """
    if not 1 <= min_size <= max_size:
        raise ValueError("need 1 <= min_size <= max_size")
    if max_items < 0:
        raise ValueError("max_items must not be negative")
    contacts = tuple(contact_ids)
    if not contacts:
        raise ValueError("contact_ids must name at least one contact")
    # An item is created 0-4 grid slots after its ticket, so threads of different tickets
    # overlap in time.
    offsets = st.lists(st.integers(0, 4), max_size=max_items)
    return _merge_set(min_size, max_size, offsets, department_id, st.sampled_from(contacts))


# -- intake, settings, queries and events ------------------------------------------------------


def inbound_attachments() -> st.SearchStrategy[InboundAttachment]:
    """Files arriving with an inbound message."""
    return st.builds(
        InboundAttachment,
        name=texts(min_size=1, max_size=20),
        size=st.integers(0, 10**9),
        content_type=st.sampled_from(("application/octet-stream", "image/jpeg", "text/plain")),
        storage_key=texts(min_size=1, max_size=20),
    )


@st.composite
def inbound_messages(
    draw: st.DrawFn,
    *,
    reference: ExternalReference | None = None,
    conversation: ExternalReference | None = None,
    sent_at: datetime | None = None,
    direction: Direction | None = None,
) -> InboundMessage:
    """Inbound messages as the edge hands them to intake (P3).

    Mostly inbound, public, without a subject or an edit flag, and with the digest left for
    intake to compute; the rest vary. Fixed arguments replace the drawn values.
    """
    return InboundMessage(
        reference=reference if reference is not None else draw(_REFERENCE),
        conversation=conversation if conversation is not None else draw(_OPTIONAL_REFERENCE),
        channel=draw(_CHANNEL),
        contact=draw(_CONTACT),
        direction=direction if direction is not None else draw(_MOSTLY_INBOUND),
        visibility=draw(_MOSTLY_PUBLIC),
        author_id=draw(_OPTIONAL_ID),
        author_name=draw(_SHORT_TEXT),
        subject=draw(_MAYBE_SUBJECT),
        body=draw(_INBOUND_BODY),
        sent_at=sent_at if sent_at is not None else draw(_TIME),
        department_id=draw(_OPTIONAL_ID),
        attachments=tuple(draw(_INBOUND_ATTACHMENTS)),
        content_digest=draw(_DIGEST) if draw(_ONE_IN_EIGHT) else None,
        is_edit=draw(_ONE_IN_EIGHT),
    )


def desk_settings() -> st.SearchStrategy[DeskSettings]:
    """Desk settings with a default department and a host classification list."""
    return st.builds(
        DeskSettings,
        default_department_id=ids(),
        default_priority=st.sampled_from(Priority),
        classifications=st.lists(classifications(), min_size=1, max_size=5, unique=True).map(tuple),
        subject_length=st.integers(1, 200),
    )


def _search_terms() -> st.SearchStrategy[str]:
    return texts(min_size=1, max_size=20).filter(lambda value: bool(fold(value)))


def ticket_queries() -> st.SearchStrategy[TicketQuery]:
    """Search criteria, each criterion set or not."""
    return st.builds(
        TicketQuery,
        number=st.none() | st.integers(1, 10**9),
        contact_id=st.none() | ids(),
        subject=st.none() | _search_terms(),
        contact_email=st.none() | _search_terms(),
        contact_name=st.none() | _search_terms(),
        department_ids=st.none() | st.frozensets(ids(), max_size=3),
        statuses=st.none() | st.frozensets(st.sampled_from(TicketStatus), max_size=3),
        include_trashed=st.booleans(),
        limit=st.integers(1, 1000),
        offset=st.integers(0, 5) | st.integers(0, 2**31 - 1),
    )


def domain_events() -> st.SearchStrategy[DomainEvent]:
    """Any domain event (P4)."""
    common = {"ticket_id": ids(), "at": aware_datetimes()}
    return st.one_of(
        st.builds(
            TicketCreated,
            number=st.integers(1, 10**9),
            reference=st.none() | external_references(),
            **common,
        ),
        st.builds(
            ItemAppended, item_id=ids(), reference=st.none() | external_references(), **common
        ),
        st.builds(ItemRevised, item_id=ids(), revision=st.integers(1, 100), **common),
        st.builds(
            StatusChanged,
            from_status=st.sampled_from(TicketStatus),
            to_status=st.sampled_from(TicketStatus),
            reason=st.sampled_from(("agent", "reopened_by_customer")),
            **common,
        ),
        st.builds(FirstResponseRecorded, item_id=ids(), **common),
        st.builds(
            ReferenceConflict,
            reference=external_references(),
            stored_digest=st.none() | digests(),
            received_digest=digests(),
            **common,
        ),
        st.builds(
            TicketMerged,
            merged_ticket_ids=st.lists(ids(), min_size=1, max_size=4).map(tuple),
            journal_id=ids(),
            **common,
        ),
        st.builds(TicketTrashed, merged_into=st.none() | ids(), **common),
        st.builds(TicketRestored, was_merged_into=st.none() | ids(), **common),
    )


# -- strategies built once, drawn from by the composites above ---------------------------------

_ID = ids()
_OPTIONAL_ID = st.none() | _ID
_NAME = texts(min_size=1, max_size=12)
_SHORT_TEXT = texts(max_size=12)
_OPTIONAL_SHORT_TEXT = st.none() | _SHORT_TEXT
_SUBJECT = texts(max_size=30)
_MAYBE_SUBJECT = st.just("") | _SUBJECT
_BODY = texts(max_size=40)
_INBOUND_BODY = texts(max_size=60)
_TIME = aware_datetimes()
_ZONE = time_zones()
_REFERENCE = external_references()
_OPTIONAL_REFERENCE = st.none() | _REFERENCE
_CHANNEL = channels()
_OPTIONAL_CLASSIFICATION = st.none() | classifications()
_CONTACT = contacts()
_DIGEST = digests()
_REVISIONS = st.lists(revisions(), max_size=1)
_INBOUND_ATTACHMENTS = st.lists(inbound_attachments(), max_size=2)
_CUSTOM_FIELDS = custom_fields()
_TICKET_REFERENCES = st.lists(_REFERENCE, max_size=2)
_SIZE = st.integers(0, 10**12)
_CONTENT_TYPE = st.sampled_from(_CONTENT_TYPES)
_DIRECTION = st.sampled_from(Direction)
_VISIBILITY = st.sampled_from(Visibility)
_MOSTLY_INBOUND = st.sampled_from((Direction.INBOUND,) * 3 + (Direction.OUTBOUND,))
_MOSTLY_PUBLIC = st.sampled_from((Visibility.PUBLIC,) * 3 + (Visibility.PRIVATE,))
_STATUS = st.sampled_from(TicketStatus)
_PRIORITY = st.sampled_from(Priority)
_NUMBER = st.integers(1, 10**9)
_VERSION = st.integers(0, 1000)
_SMALL_VERSION = st.integers(0, 5)
_DURATION = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))
_UP_TO_ONE = st.integers(0, 1)
_UP_TO_TWO = st.integers(0, 2)
_ONE_IN_FOUR = st.integers(0, 3).map(lambda n: n == 0)
_ONE_IN_EIGHT = st.integers(0, 7).map(lambda n: n == 0)

_MERGE_STEPS = st.sampled_from(
    (timedelta(0), timedelta(microseconds=1), timedelta(seconds=1), timedelta(hours=1))
)
# Small pools, so that the tickets of a set often agree on a field and often do not (M8).
_MERGE_ACCOUNT = st.sampled_from((None, "acct-1", "acct-2"))
_MERGE_HAS_REFERENCE = st.booleans()
_MERGE_START = st.integers(0, 3)
_MERGE_ORIGIN = st.sampled_from(("t-merged", "元の問い合わせ", "x/y"))
_MERGE_ID_SUFFIX = st.sampled_from(("", "", "-é", "😀", " 問", "%2F", "/x"))
_MERGE_AUTHOR = st.sampled_from(("c-1", "c-2", "agent-1", "担当者"))
_MERGE_BODY = st.one_of(st.sampled_from(("Hello", "返品したいです 😀", "שלום", "")), _BODY)
_MERGE_FILE_NAME = st.sampled_from(("receipt.pdf", "写真.png", "a b.txt"))
_MERGE_CHANNEL = st.sampled_from(Channel.defaults())
_MERGE_NETWORK_KIND = st.sampled_from(
    (("twitter", "tweet"), ("twitter", "dm"), ("facebook", "comment"), ("email", "message"))
)
_MERGE_ACCOUNT_NAME = st.sampled_from(("brand", "ブランド", "a/b%2F"))
_MERGE_SUBJECT = st.one_of(st.sampled_from(("", "Order missing", "注文が届かない")), _SUBJECT)
_MERGE_PRODUCT = st.sampled_from((None, "Widget", "ガジェット"))
_MERGE_ASSIGNEE = st.sampled_from((None, "agent-1", "agent-2"))
_MERGE_CLASSIFICATION = st.none() | st.sampled_from(Classification.defaults())
# 1, 1.0 and True are equal in Python but different JSON values: a merge must tell them apart.
_MERGE_CUSTOM_POOL = st.sampled_from((None, True, False, 1, 1.0, 0, "gold", "silver", ""))
_MERGE_CUSTOM_VALUE = st.one_of(_MERGE_CUSTOM_POOL, _MERGE_CUSTOM_POOL, custom_values())
_MERGE_CUSTOM_FIELDS = st.dictionaries(
    st.sampled_from(("order_id", "plan", "vip", "注文番号")), _MERGE_CUSTOM_VALUE, max_size=3
)
