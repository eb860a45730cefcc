"""PF4: intake through the SQLite adapter, end to end (``Desk.receive``).

Figures, all from one run:

- ``intake.sqlite``: a realistic stream of inbound messages through :class:`Desk` on
  :class:`SQLiteTicketRepository` (a temporary file), in items a second. The baseline is raw
  :mod:`sqlite3` doing the least equivalent work per item (one ``BEGIN IMMEDIATE``
  transaction inserting one JSON row under a unique key, WAL, ``synchronous=NORMAL``), so the
  ratio is the share of bare SQLite's speed that deskcore keeps. PF4 asks for 5,000 items/s.
- ``intake.sqlite.vs-memory``: the same figure against the same stream through
  :class:`InMemoryTicketRepository`, so the ratio shows what storage costs.
- ``intake.append@N.<store>``: the CPU cost of appending one message to a conversation whose
  ticket already holds N items, against the cost at 10 items. Appends should not get much
  slower as a thread grows (a goal, not a spec target).

Run ``python benchmarks/bench_intake.py --profile 1000 [--store memory]`` to profile appends to
a 1,000-item thread with :mod:`cProfile`.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import pstats
import random
import sqlite3
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from _harness import Result, Sample, Target, Timing, measure, timed
from deskcore import (
    Channel,
    Contact,
    Desk,
    DeskSettings,
    Direction,
    ExternalReference,
    InboundAttachment,
    InboundMessage,
    TicketStore,
)
from deskcore.adapters import InMemoryTicketRepository, SQLiteTicketRepository
from deskcore.policies.intake import open_ticket, to_message
from deskcore.testing import FixedClock, SequentialIds

__all__ = ["Sizes", "build_stream", "run"]

PF4_ITEMS_PER_SECOND = 5_000.0
GROWTH_GOAL = 2.0
"""Appending at 100 or 1,000 items should cost at most this many times the cost at 10."""

START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
SETTINGS = DeskSettings(default_department_id="support")

REDELIVERY_SHARE = 0.20
EDIT_SHARE = 0.01
NEW_CONVERSATION_SHARE = 0.15
"""Of the messages that are neither redeliveries nor edits, the share starting a conversation."""
ACTIVE_CONVERSATIONS = 300
"""Appends go to one of the most recently started conversations, as on a real desk."""
RETRY_WINDOW = 500
"""Redeliveries repeat one of the most recent original messages (webhook retries come soon)."""


@dataclass(frozen=True)
class Sizes:
    """How much work one run does."""

    stream: int
    repeats: int
    growth_lengths: tuple[int, ...]
    growth_tickets: int
    growth_rounds: int


FULL = Sizes(
    stream=10_000, repeats=3, growth_lengths=(10, 100, 1000), growth_tickets=40, growth_rounds=3
)
QUICK = Sizes(
    stream=300, repeats=1, growth_lengths=(10, 100, 1000), growth_tickets=2, growth_rounds=1
)


# -- the stream ----------------------------------------------------------------------------------

_EN_BODIES = (
    "Hi, my order {n} has not arrived yet. The tracking page says it left the warehouse on "
    "Monday but nothing has moved since. Could you check what is going on?",
    "I was charged twice for invoice {n}. Please refund the second payment.",
    "Thanks, that fixed it!",
    "The app crashes every time I open the settings screen (version 4.{n}). I already tried "
    "reinstalling it.\n\nSent from my phone",
    "Can I change the delivery address for order {n}? I moved last week.",
    "Still waiting for an answer on this one...",
    "Hello,\n\nI would like to cancel my subscription at the end of the current billing "
    "period. My account number is {n}.\n\nBest regards,\nAlex",
)
_JA_BODIES = (
    "注文番号{n}の商品がまだ届きません。配送状況を確認していただけますか。",
    "お世話になっております。請求書{n}について、二重に請求されているようです。ご確認をお願いいたします。",
    "ありがとうございます！解決しました。",
    "アプリの設定画面を開くと毎回落ちてしまいます（バージョン4.{n}）。再インストールも試しました。",
    "届いた商品が壊れていました。交換は可能でしょうか。写真を添付します。\n\nよろしくお願いいたします。",
    "まだ返信をいただけていないのですが、状況はいかがでしょうか。",
)
_EN_NAMES = ("Alex Morgan", "Sam Lee", "Jordan Smith", "Taylor Brown", "Chris Evans")
_JA_NAMES = ("佐藤 花子", "鈴木 一郎", "高橋 美咲", "田中 健太", "伊藤 さくら")


@dataclass(frozen=True)
class _ChannelKind:
    """How one channel names its messages and conversations."""

    channel: Channel
    network: str
    account: str
    message_kind: str
    conversation_kind: str | None
    """``None``: the conversation is named by its first message (an email thread, a tweet)."""
    outbound_share: float
    """Messages the brand itself posted on the platform, received back through the feed."""


_CHANNELS: tuple[tuple[_ChannelKind, float], ...] = (
    (_ChannelKind(Channel.EMAIL, "email", "support.example.com", "message", None, 0.0), 0.35),
    (_ChannelKind(Channel.CHAT, "chat", "widget-1", "line", "session", 0.0), 0.20),
    (_ChannelKind(Channel.TWITTER, "twitter", "brand", "dm", "dm_conversation", 0.15), 0.15),
    (_ChannelKind(Channel.TWITTER, "twitter", "brand", "tweet", None, 0.10), 0.10),
    (_ChannelKind(Channel.FACEBOOK, "facebook", "page-42", "comment", "post", 0.10), 0.15),
    (_ChannelKind(Channel.WEB, "web", "form", "submission", "case", 0.0), 0.05),
)


@dataclass
class _Conversation:
    kind: _ChannelKind
    contact: Contact
    japanese: bool
    reference: ExternalReference | None = None


def _body(rng: random.Random, japanese: bool) -> str:
    template = rng.choice(_JA_BODIES if japanese else _EN_BODIES)
    return template.format(n=rng.randrange(10_000, 99_999))


def build_stream(size: int, *, seed: int = 2026) -> list[InboundMessage]:
    """A deterministic, realistic stream of ``size`` inbound messages.

    English and Japanese bodies over email, chat, Twitter DMs and tweets, Facebook comments and
    web forms; about 20% redeliveries of recent messages (equal content, a new object), 1%
    platform edits, and otherwise mostly appends to recent conversations with some new ones.
    Sent times only move forward, as a feed delivers them.
    """
    rng = random.Random(seed)
    kinds = [kind for kind, _ in _CHANNELS]
    weights = [weight for _, weight in _CHANNELS]
    conversations: list[_Conversation] = []
    originals: list[InboundMessage] = []
    stream: list[InboundMessage] = []
    sent = START
    serial = 0
    while len(stream) < size:
        roll = rng.random()
        if originals and roll < REDELIVERY_SHARE:
            again = rng.choice(originals[-RETRY_WINDOW:])
            stream.append(attrs.evolve(again))
            continue
        if originals and roll < REDELIVERY_SHARE + EDIT_SHARE:
            edited = rng.choice(originals[-RETRY_WINDOW:])
            body = edited.body + ("（追記）" if "。" in edited.body else " (edited)")
            stream.append(attrs.evolve(edited, body=body, is_edit=True))
            continue
        sent += timedelta(seconds=rng.randint(1, 20))
        serial += 1
        if not conversations or rng.random() < NEW_CONVERSATION_SHARE:
            japanese = rng.random() < 0.5
            customer = rng.randrange(5_000)
            contact = Contact(
                id=f"cust-{customer}",
                name=rng.choice(_JA_NAMES if japanese else _EN_NAMES),
                email=f"customer{customer}@example.net",
            )
            conversation = _Conversation(rng.choices(kinds, weights)[0], contact, japanese)
            conversations.append(conversation)
        else:
            conversation = rng.choice(conversations[-ACTIVE_CONVERSATIONS:])
        message = _new_message(rng, conversation, serial, sent)
        originals.append(message)
        stream.append(message)
    return stream


def _new_message(
    rng: random.Random, conversation: _Conversation, serial: int, sent: datetime
) -> InboundMessage:
    kind = conversation.kind
    reference = ExternalReference(
        network=kind.network,
        account=kind.account,
        kind=kind.message_kind,
        native_id=(
            f"<{serial}.{rng.getrandbits(32):08x}@mail.example.net>"
            if kind.network == "email"
            else str(10**12 + serial)
        ),
    )
    if conversation.reference is None:
        conversation.reference = (
            reference
            if kind.conversation_kind is None
            else ExternalReference(
                network=kind.network,
                account=kind.account,
                kind=kind.conversation_kind,
                native_id=f"{kind.conversation_kind}-{serial}",
            )
        )
    outbound = rng.random() < kind.outbound_share
    attachments: tuple[InboundAttachment, ...] = ()
    if kind.network == "email" and rng.random() < 0.05:
        attachments = (
            InboundAttachment(
                name="screenshot.png",
                size=rng.randrange(10_000, 2_000_000),
                content_type="image/png",
                storage_key=f"blobs/{serial}",
            ),
        )
    return InboundMessage(
        reference=reference,
        conversation=conversation.reference,
        channel=kind.channel,
        contact=conversation.contact,
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        author_id="agent-7" if outbound else None,
        author_name="Support" if outbound else "",
        subject=_subject(kind, first=conversation.reference == reference),
        body=_body(rng, conversation.japanese),
        sent_at=sent,
        attachments=attachments,
    )


def _subject(kind: _ChannelKind, *, first: bool) -> str:
    if kind.network != "email":
        return ""
    return "Order enquiry" if first else "Re: Order enquiry"


# -- stores --------------------------------------------------------------------------------------

StoreFactory = Callable[[Path], TicketStore]


def _sqlite_store(folder: Path) -> TicketStore:
    return SQLiteTicketRepository(folder / "bench.sqlite3")


def _memory_store(folder: Path) -> TicketStore:
    return InMemoryTicketRepository()


@contextmanager
def _opened(factory: StoreFactory) -> Iterator[TicketStore]:
    """A fresh, empty store in a temporary folder, closed and deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="deskcore-bench-") as folder:
        store = factory(Path(folder))
        try:
            yield store
        finally:
            if isinstance(store, SQLiteTicketRepository):
                store.close()


def _desk(store: TicketStore, prefix: str = "") -> Desk:
    return Desk(
        store=store,
        settings=SETTINGS,
        clock=FixedClock(START + timedelta(days=30)),
        ids=SequentialIds(prefix),
    )


# -- end to end ----------------------------------------------------------------------------------


BATCH = 100
"""Messages per ``Desk.receive_many`` call (one transaction) in the batched figures."""


def _intake_pass(factory: StoreFactory, stream: Sequence[InboundMessage]) -> Sample:
    """The time to receive the whole stream into a fresh store, one transaction a message."""
    with _opened(factory) as store:
        desk = _desk(store)
        receive = desk.receive

        def body() -> None:
            for message in stream:
                receive(message)

        return timed(body)


def _batched_pass(factory: StoreFactory, stream: Sequence[InboundMessage]) -> Sample:
    """The time to receive the stream in batches of ``BATCH``, one transaction a batch."""
    with _opened(factory) as store:
        receive_many = _desk(store).receive_many
        batches = [stream[i : i + BATCH] for i in range(0, len(stream), BATCH)]

        def body() -> None:
            for batch in batches:
                receive_many(batch)

        return timed(body)


def _raw_record(message: InboundMessage) -> str:
    return json.dumps(
        {
            "conversation": None if message.conversation is None else str(message.conversation),
            "channel": message.channel.code,
            "contact": message.contact.id,
            "direction": message.direction.value,
            "subject": message.subject,
            "body": message.body,
            "sent_at": message.sent_at.isoformat(),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _raw_sqlite_pass(stream: Sequence[InboundMessage], batch: int = 1) -> Sample:
    """The time for bare sqlite3 to store the stream: one JSON row an item, one transaction
    every ``batch`` items."""
    with tempfile.TemporaryDirectory(prefix="deskcore-bench-") as folder:
        db = sqlite3.connect(Path(folder) / "raw.sqlite3", isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(
                "CREATE TABLE messages (key TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID"
            )
            execute = db.execute

            def body() -> None:
                for start in range(0, len(stream), batch):
                    execute("BEGIN IMMEDIATE")
                    for message in stream[start : start + batch]:
                        execute(
                            "INSERT OR IGNORE INTO messages (key, record) VALUES (?, ?)",
                            (str(message.reference), _raw_record(message)),
                        )
                    execute("COMMIT")

            return timed(body)
        finally:
            db.close()


def _actions(stream: Sequence[InboundMessage]) -> Counter[str]:
    """What intake does with each message of the stream (in memory; untimed)."""
    desk = _desk(InMemoryTicketRepository())
    return Counter(desk.receive(message).action.value for message in stream)


def _rate(seconds: float, items: int) -> float:
    """Items a second."""
    return items / seconds


# -- thread growth -------------------------------------------------------------------------------


def _thread(
    conversation: ExternalReference, contact: Contact, start: int, count: int
) -> list[InboundMessage]:
    return [
        InboundMessage(
            reference=ExternalReference(
                network="chat", account="widget-1", kind="line", native_id=f"{conversation}-{n}"
            ),
            conversation=conversation,
            channel=Channel.CHAT,
            contact=contact,
            body=_EN_BODIES[n % len(_EN_BODIES)].format(n=n)
            if n % 2
            else _JA_BODIES[n % len(_JA_BODIES)].format(n=n),
            sent_at=START + timedelta(seconds=n),
        )
        for n in range(start, start + count)
    ]


def _conversation(index: int) -> tuple[ExternalReference, Contact]:
    return (
        ExternalReference(
            network="chat", account="widget-1", kind="session", native_id=f"s{index}"
        ),
        Contact(id=f"cust-{index}", name="佐藤 花子"),
    )


def _seed_threads(store: TicketStore, tickets: int, length: int) -> None:
    """Store ``tickets`` tickets whose threads already hold ``length`` messages each.

    The tickets are built in one step (not by ``length`` appends), so the setup stays cheap.
    """
    with store.unit_of_work() as uow:
        for index in range(tickets):
            conversation, contact = _conversation(index)
            messages = _thread(conversation, contact, 0, length)
            ticket_id = f"seed-{index}"
            first = open_ticket(
                messages[0],
                ticket_id=ticket_id,
                number=uow.tickets.next_number(),
                item_id=f"{ticket_id}-0",
                settings=SETTINGS,
                now=START,
            ).ticket
            rest = tuple(
                to_message(m, item_id=f"{ticket_id}-{n}", ticket_id=ticket_id)
                for n, m in enumerate(messages[1:], start=1)
            )
            uow.tickets.add(attrs.evolve(first, thread=first.thread + rest))
            uow.tickets.save_contact(contact)
        uow.commit()


def _append_pass(
    factory: StoreFactory, sizes: Sizes, length: int, profiler: cProfile.Profile | None = None
) -> Sample:
    """The time per appended message, appending to threads that hold ``length`` items.

    With ``profiler``, profiles the appends (and not the setup).
    """
    with _opened(factory) as store:
        _seed_threads(store, sizes.growth_tickets, length)
        desk = _desk(store, prefix="bench-")
        receive = desk.receive
        batch = [
            message
            for round_ in range(sizes.growth_rounds)
            for index in range(sizes.growth_tickets)
            for message in _thread(*_conversation(index), length + round_, 1)
        ]

        def body() -> None:
            if profiler is not None:
                profiler.enable()
            for message in batch:
                result = receive(message)
                assert result.action.value == "append", result.reason
            if profiler is not None:
                profiler.disable()

        total = timed(body)
        return Sample(wall=total.wall / len(batch), cpu=total.cpu / len(batch))


def _growth(sizes: Sizes) -> list[Result]:
    """Append cost at each thread length, against the cost at the shortest.

    The figures are CPU time: the question is how the work grows with the thread, and CPU
    time is not inflated by other processes competing for the core (each append writes the
    same one row, so the disk's share does not grow).
    """
    results: list[Result] = []
    for label, factory in (("sqlite", _sqlite_store), ("memory", _memory_store)):
        costs: dict[int, Timing] = {}
        for length in sizes.growth_lengths:
            costs[length] = measure(
                functools.partial(_append_pass, factory, sizes, length), repeats=sizes.repeats
            )
        base_length = sizes.growth_lengths[0]
        base = costs[base_length].best_cpu * 1e6
        for length, timing in costs.items():
            results.append(
                Result(
                    name=f"intake.append@{length}.{label}",
                    value=timing.best_cpu * 1e6,
                    median=timing.median_cpu * 1e6,
                    unit="us/item",
                    better="lower",
                    baseline_name=f"append@{base_length}",
                    baseline=base,
                    target=None
                    if length == base_length
                    else Target(
                        source="goal",
                        text=f"<= {GROWTH_GOAL:g}x the cost at {base_length} items",
                        bound=GROWTH_GOAL,
                        at_least=False,
                        on_ratio=True,
                    ),
                    note=f"CPU time to append 1 message to a {label} ticket holding {length} "
                    f"items ({timing.best * 1e6:,.0f} us wall-clock)",
                )
            )
    return results


# -- entry points --------------------------------------------------------------------------------


def run(quick: bool) -> list[Result]:
    """Measure intake; ``quick`` uses tiny sizes (a smoke test, not a measurement)."""
    sizes = QUICK if quick else FULL
    stream = build_stream(sizes.stream)
    actions = _actions(stream)
    mix = ", ".join(f"{action} {count}" for action, count in sorted(actions.items()))
    n = len(stream)
    repeats = sizes.repeats

    sqlite = measure(lambda: _intake_pass(_sqlite_store, stream), repeats=repeats)
    memory = measure(lambda: _intake_pass(_memory_store, stream), repeats=repeats)
    raw = measure(lambda: _raw_sqlite_pass(stream), repeats=repeats)
    batched = measure(lambda: _batched_pass(_sqlite_store, stream), repeats=repeats)
    raw_batched = measure(lambda: _raw_sqlite_pass(stream, BATCH), repeats=repeats)
    storage_us = (sqlite.best - memory.best) / n * 1e6
    cpu_only = ", ".join(
        f"{label} {_rate(timing.best_cpu, n):,.0f}"
        for label, timing in (("sqlite", sqlite), ("memory", memory), ("raw", raw))
    )
    return [
        Result(
            name="intake.sqlite.batched",
            value=_rate(batched.best, n),
            median=_rate(batched.median, n),
            unit="items/s",
            better="higher",
            baseline_name="raw sqlite3 batched",
            baseline=_rate(raw_batched.best, n),
            target=Target(
                source="goal",
                text=f">= {PF4_ITEMS_PER_SECOND:,.0f} items/s, PF4's bound without the JSON "
                "(PF4 itself: replay.sqlite)",
                bound=PF4_ITEMS_PER_SECOND,
                at_least=True,
            ),
            note=f"Desk.receive_many, {BATCH} messages a transaction; baseline: bare sqlite3, "
            f"1 JSON row per item, {BATCH} rows a transaction",
        ),
        Result(
            name="intake.sqlite",
            value=_rate(sqlite.best, n),
            median=_rate(sqlite.median, n),
            unit="items/s",
            better="higher",
            baseline_name="raw sqlite3",
            baseline=_rate(raw.best, n),
            note=f"Desk.receive, one transaction a message; {n:,} messages ({mix}); "
            f"baseline: 1 transaction + 1 JSON row per item; "
            f"items/s by CPU time alone: {cpu_only}",
        ),
        Result(
            name="intake.sqlite.vs-memory",
            value=_rate(sqlite.best, n),
            median=_rate(sqlite.median, n),
            unit="items/s",
            better="higher",
            baseline_name="deskcore in memory",
            baseline=_rate(memory.best, n),
            note=f"the same stream; storage adds {storage_us:,.0f} us/item over the in-memory "
            f"store ({_rate(memory.median, n):,.0f} items/s median in memory)",
        ),
        *_growth(sizes),
    ]


def _profile(store: str, length: int, tickets: int) -> None:
    """Print where appends to ``length``-item threads spend their time."""
    sizes = Sizes(
        stream=0, repeats=1, growth_lengths=(length,), growth_tickets=tickets, growth_rounds=1
    )
    factory = _sqlite_store if store == "sqlite" else _memory_store
    profiler = cProfile.Profile()
    per_item = _append_pass(factory, sizes, length, profiler)
    print(f"{per_item.wall * 1e6:,.0f} us/item under the profiler, appending at {length} items")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)


def main(argv: Sequence[str] | None = None) -> int:
    """``python benchmarks/bench_intake.py --profile N``: profile appends at N items."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", type=int, metavar="N", default=1000)
    parser.add_argument("--tickets", type=int, default=20)
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    args = parser.parse_args(argv)
    _profile(args.store, args.profile, args.tickets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
