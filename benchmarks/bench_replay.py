"""PF4 end to end: a JSON-lines stream through the service into SQLite (``deskcore replay``).

Figures, all from one run, on the sample data set (``deskcore sample``: messages, social
items, chats and status changes, English and Japanese):

- ``replay.sqlite``: :class:`deskcore.cli.replay.Replayer` over the stream's bytes into a
  fresh SQLite file, with the adapter's commit batching (500 entries a commit), in entries a
  second: read the line, parse and validate it (pydantic), convert it, decide and write it.
  Target: PF4, at least 5,000 items a second. Baseline: bare :mod:`sqlite3` doing the least
  equivalent work per line (``json.loads`` the line, then ``INSERT OR IGNORE`` it under its
  reference, 200 rows a transaction), so the ratio is the share of bare SQLite's speed kept.
- ``replay.unbatched``: the same with one commit an entry (batch size 1), against the batched
  figure: what the batching buys.
- ``replay.again``: the same stream replayed into the database the first pass filled (every
  entry found already, nothing written), against the first pass. Goal: at least as fast.

``python benchmarks/bench_replay.py --profile`` profiles one pass.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sqlite3
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _harness import Result, Sample, Target, measure, timed
from deskcore.adapters import SQLiteTicketRepository
from deskcore.cli.replay import Replayer, ReplaySummary, read_lines
from deskcore.cli.sample import sample_events, sample_settings
from deskcore.wire.replay import ReplaySettings, parse_replay_settings

__all__ = ["run"]

PF4_ITEMS_PER_SECOND = 5_000.0
BATCH = 500


@dataclass(frozen=True)
class Sizes:
    events: int
    repeats: int


FULL = Sizes(events=10_000, repeats=3)
QUICK = Sizes(events=300, repeats=1)


def _stream(count: int) -> bytes:
    lines = (json.dumps(entry, ensure_ascii=False) for entry in sample_events(count))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _settings() -> ReplaySettings:
    return parse_replay_settings(sample_settings()).to_settings()


@contextmanager
def _fresh() -> Iterator[SQLiteTicketRepository]:
    """An empty SQLite repository in a temporary folder, deleted afterwards."""
    with (
        tempfile.TemporaryDirectory(prefix="deskcore-bench-") as folder,
        SQLiteTicketRepository(Path(folder) / "replay.sqlite3") as store,
    ):
        yield store


def _replay(store: SQLiteTicketRepository, data: bytes, batch: int) -> ReplaySummary:
    replayer = Replayer(store, _settings(), batch_size=batch)
    return replayer.run(read_lines(io.BytesIO(data)))


def _pass(data: bytes, batch: int, summaries: list[ReplaySummary]) -> Sample:
    """One replay into a fresh file; the settings are compiled outside the timing."""
    with _fresh() as store:
        replayer = Replayer(store, _settings(), batch_size=batch)

        def body() -> None:
            summaries.append(replayer.run(read_lines(io.BytesIO(data))))

        return timed(body)


def _again(data: bytes, summaries: list[ReplaySummary]) -> Sample:
    """A second replay over the first's database (untimed first pass)."""
    with _fresh() as store:
        _replay(store, data, BATCH)
        replayer = Replayer(store, _settings(), batch_size=BATCH)

        def body() -> None:
            summaries.append(replayer.run(read_lines(io.BytesIO(data))))

        return timed(body)


def _key(entry: dict[str, object]) -> str:
    for field in ("message", "item", "chat"):
        value = entry.get(field)
        if isinstance(value, dict):
            return json.dumps(value.get("reference"), sort_keys=True)
    return json.dumps([entry.get("conversation"), entry.get("at")], sort_keys=True)


def _raw_pass(data: bytes) -> Sample:
    """Bare sqlite3: parse each line and insert it under its reference, BATCH rows a commit."""
    with tempfile.TemporaryDirectory(prefix="deskcore-bench-") as folder:
        db = sqlite3.connect(Path(folder) / "raw.sqlite3", isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("CREATE TABLE entries (key TEXT PRIMARY KEY, record TEXT) WITHOUT ROWID")
            execute = db.execute

            def body() -> None:
                lines = data.splitlines()
                for start in range(0, len(lines), BATCH):
                    execute("BEGIN IMMEDIATE")
                    for line in lines[start : start + BATCH]:
                        entry = json.loads(line)
                        execute(
                            "INSERT OR IGNORE INTO entries (key, record) VALUES (?, ?)",
                            (_key(entry), line),
                        )
                    execute("COMMIT")

            return timed(body)
        finally:
            db.close()


def _rate(seconds: float, items: int) -> float:
    return items / seconds if seconds > 0 else float("inf")


def _mix(summary: ReplaySummary) -> str:
    kinds: Counter[str] = Counter()
    for (kind, _action), count in summary.outcomes.items():
        kinds[kind] += count
    return ", ".join(f"{kind} {count:,}" for kind, count in sorted(kinds.items()))


def run(quick: bool) -> list[Result]:
    """Measure the end-to-end replay; ``quick`` uses tiny sizes (a smoke test)."""
    sizes = QUICK if quick else FULL
    data = _stream(sizes.events)
    n = data.count(b"\n")
    first: list[ReplaySummary] = []
    batched = measure(lambda: _pass(data, BATCH, first), repeats=sizes.repeats)
    single: list[ReplaySummary] = []
    unbatched = measure(lambda: _pass(data, 1, single), repeats=sizes.repeats)
    second: list[ReplaySummary] = []
    again = measure(lambda: _again(data, second), repeats=sizes.repeats)
    raw = measure(lambda: _raw_pass(data), repeats=sizes.repeats)
    summary, replayed = first[0], second[0]
    if summary.problems or replayed.problems or replayed.changed:
        raise AssertionError(
            f"the sample must replay cleanly and idempotently: {summary.problems[:3]}, "
            f"{replayed.problems[:3]}, {replayed.changed} changed on the second pass"
        )
    written = ", ".join(
        f"{kind}/{action} {count:,}" for (kind, action), count in summary.outcomes.most_common(6)
    )
    return [
        Result(
            name="replay.sqlite",
            value=_rate(batched.best, n),
            median=_rate(batched.median, n),
            unit="items/s",
            better="higher",
            baseline_name="raw sqlite3: parse + insert",
            baseline=_rate(raw.best, n),
            target=Target(
                source="PF4",
                text=f">= {PF4_ITEMS_PER_SECOND:,.0f} items/s from JSON lines into SQLite",
                bound=PF4_ITEMS_PER_SECOND,
                at_least=True,
            ),
            note=f"{n:,} sample entries ({_mix(summary)}), {BATCH} a commit; most common: "
            f"{written}; items/s by CPU time alone {_rate(batched.best_cpu, n):,.0f}",
        ),
        Result(
            name="replay.unbatched",
            value=_rate(unbatched.best, n),
            median=_rate(unbatched.median, n),
            unit="items/s",
            better="higher",
            baseline_name="replay.sqlite",
            baseline=_rate(batched.best, n),
            note="one commit an entry: the ratio is what one commit per batch buys",
        ),
        Result(
            name="replay.again",
            value=_rate(again.best, n),
            median=_rate(again.median, n),
            unit="items/s",
            better="higher",
            baseline_name="replay.sqlite",
            baseline=_rate(batched.best, n),
            target=Target(
                source="goal",
                text=">= 1x the first pass (a replay finds everything and writes nothing)",
                bound=1.0,
                at_least=True,
                on_ratio=True,
            ),
            note=f"the same stream over the first pass's database: {replayed.changed} entries "
            "changed something",
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """``python benchmarks/bench_replay.py --profile [N]``: profile one replay of N entries."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", type=int, metavar="N", default=FULL.events)
    args = parser.parse_args(argv)
    data = _stream(args.profile)
    profiler = cProfile.Profile()
    with _fresh() as store:
        replayer = Replayer(store, _settings(), batch_size=BATCH)
        profiler.enable()
        replayer.run(read_lines(io.BytesIO(data)))
        profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
