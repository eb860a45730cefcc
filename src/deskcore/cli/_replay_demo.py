"""The demo's last section: the sample data set through ``deskcore replay``, twice."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import TextIO

from deskcore.adapters import SQLiteTicketRepository
from deskcore.cli.replay import Decision, Replayer, ReplaySummary, read_lines
from deskcore.cli.sample import sample_events, sample_settings
from deskcore.wire.replay import parse_replay_settings

__all__ = ["SAMPLE_COUNT", "play_replay"]

SAMPLE_COUNT = 3000
"""Entries of the sample the demo replays."""

SHOWN = 12
"""Decisions printed in full, from the start of the stream."""


def play_replay(out: TextIO, *, count: int = SAMPLE_COUNT) -> None:
    """Generate the sample data set, replay it into a fresh SQLite file, then again."""
    print(
        "\n── Replaying the sample data set: deskcore sample, then deskcore replay, twice "
        "(P3, PF4) ──\n",
        file=out,
    )
    entries = sample_events(count)
    data = ("\n".join(json.dumps(e, ensure_ascii=False) for e in entries) + "\n").encode("utf-8")
    settings = parse_replay_settings(sample_settings()).to_settings()
    print(
        f"{count:,} events (messages, social items, chats, status changes; English and "
        "Japanese), as `deskcore sample --out samples` writes them; the first decisions, "
        "as `deskcore replay samples/events.jsonl --explain` prints them:",
        file=out,
    )
    shown: list[Decision] = []

    def first(decision: Decision) -> None:
        if len(shown) < SHOWN:
            shown.append(decision)
            print(f"  {decision.describe()}", file=out)

    with (
        tempfile.TemporaryDirectory(prefix="deskcore-demo-") as folder,
        SQLiteTicketRepository(Path(folder) / "replay.sqlite3") as store,
    ):
        once = Replayer(store, settings, on_decision=first).run(read_lines(io.BytesIO(data)))
        print("  ...\nThe first replay:", file=out)
        _report(out, once)
        again = Replayer(store, settings).run(read_lines(io.BytesIO(data)))
        print(
            "The same file replayed again into the same database: every entry is found, "
            "nothing is written (P3):",
            file=out,
        )
        _report(out, again)


def _report(out: TextIO, summary: ReplaySummary) -> None:
    for line in summary.report(timing=False):
        print(f"  {line}", file=out)
