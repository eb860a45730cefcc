"""``deskcore replay`` and ``deskcore explain``: files, progress and output around
:class:`deskcore.cli.replay.Replayer`."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO, TextIO

from pydantic import ValidationError

from deskcore.adapters import SQLiteTicketRepository
from deskcore.cli.replay import (
    Decision,
    OnError,
    Replayer,
    ReplaySummary,
    read_lines,
)
from deskcore.errors import DeskcoreError
from deskcore.wire.replay import ReplaySettings, parse_replay_settings

__all__ = ["run_explain", "run_replay"]


class _UsageError(Exception):
    """The run cannot start: a file is missing or the settings are invalid."""


def _settings(path: str) -> ReplaySettings:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise _UsageError(f"cannot read the settings {path}: {error.strerror or error}") from None
    try:
        return parse_replay_settings(data).to_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'the document'}: {e['msg']}"
            for e in error.errors()[:5]
        )
        raise _UsageError(f"the settings {path} are invalid: {problems}") from None
    except DeskcoreError as error:
        raise _UsageError(f"the settings {path} are invalid: {error.message}") from None


@contextmanager
def _events(path: str) -> Iterator[IO[bytes]]:
    if path == "-":
        yield sys.stdin.buffer
        return
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise _UsageError(f"cannot read the events {path}: {error.strerror or error}") from None
    with stream:
        yield stream


def _size(stream: IO[bytes]) -> int | None:
    try:
        size = os.fstat(stream.fileno()).st_size
    except (OSError, ValueError):
        return None
    return size if size > 0 else None


class _Progress:
    """A progress line on a terminal: percent of the file, lines, rate; redrawn at most five
    times a second."""

    def __init__(self, err: TextIO, stream: IO[bytes]) -> None:
        self.err = err
        self.stream = stream
        self.total = _size(stream)
        self.shown = 0.0
        self.last: ReplaySummary | None = None

    def __call__(self, summary: ReplaySummary) -> None:
        self.last = summary
        now = time.monotonic()
        if now - self.shown < 0.2:
            return
        self.shown = now
        self.err.write(f"\r{self._line(summary)}")
        self.err.flush()

    def _line(self, summary: ReplaySummary) -> str:
        done = ""
        if self.total is not None:
            try:
                share = min(1.0, self.stream.tell() / self.total)
            except (OSError, ValueError):
                share = None
            if share is not None:
                filled = int(share * 30)
                done = f"[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} "
        return (
            f"replay: {done}{summary.lines:,} lines, {len(summary.problems):,} not applied, "
            f"{summary.rate:,.0f} entries/s"
        )

    def finish(self) -> None:
        """Draw the final state and end the line."""
        if self.last is not None:
            self.err.write(f"\r{self._line(self.last)}\n")
            self.err.flush()


def run_replay(args: argparse.Namespace, *, out: TextIO, err: TextIO) -> int:
    """``deskcore replay``; returns the exit status."""
    try:
        settings = _settings(args.settings)
        if args.batch_size < 1:
            raise _UsageError(f"--batch-size {args.batch_size}: use 1 or more")
        with _events(args.events) as stream, SQLiteTicketRepository(args.db) as store:
            show: Callable[[Decision], None] | None = None
            if args.explain:

                def show(decision: Decision) -> None:
                    print(decision.describe(), file=out)

            replayer = Replayer(store, settings, batch_size=args.batch_size, on_decision=show)
            wanted = args.progress if args.progress is not None else err.isatty()
            progress = _Progress(err, stream) if wanted else None
            try:
                summary = replayer.run(
                    read_lines(stream), on_error=OnError(args.on_error), progress=progress
                )
            finally:
                if progress is not None:
                    progress.finish()
    except _UsageError as error:
        print(f"deskcore replay: {error}", file=err)
        return 2
    except DeskcoreError as error:
        print(f"deskcore replay: [{error.code}] {error.message}", file=err)
        print("  the batch in progress was rolled back; replay again to finish", file=err)
        return 2
    for line in summary.report():
        print(line, file=out)
    return 1 if summary.problems else 0


def run_explain(args: argparse.Namespace, *, out: TextIO, err: TextIO) -> int:
    """``deskcore explain``; returns the exit status."""
    try:
        settings = _settings(args.settings)
        if args.line < 1:
            raise _UsageError(f"--line {args.line}: lines count from 1")
        with _events(args.events) as stream:
            chosen = next((pair for pair in read_lines(stream) if pair[0] == args.line), None)
        if chosen is None:
            raise _UsageError(f"{args.events} has no line {args.line}")
        with tempfile.TemporaryDirectory(prefix="deskcore-explain-") as folder:
            copy = Path(folder) / "copy.sqlite3"
            _copy_database(args.db, copy)
            decisions: list[Decision] = []
            with SQLiteTicketRepository(copy) as store:
                replayer = Replayer(store, settings, batch_size=1, on_decision=decisions.append)
                summary = replayer.run([chosen])
    except _UsageError as error:
        print(f"deskcore explain: {error}", file=err)
        return 2
    except DeskcoreError as error:
        print(f"deskcore explain: [{error.code}] {error.message}", file=err)
        return 2
    for decision in decisions:
        print(decision.describe(), file=out)
        print("(explained on a copy of the database: nothing was written)", file=out)
    for problem in summary.problems:
        print(f"! {problem.describe()}", file=out)
    return 1 if summary.problems else 0


def _copy_database(source: str, target: Path) -> None:
    """Copy the SQLite file ``source`` (if it exists) to ``target``, consistently."""
    if not Path(source).exists():
        return
    try:
        with (
            closing(sqlite3.connect(f"file:{Path(source).as_posix()}?mode=ro", uri=True)) as origin,
            closing(sqlite3.connect(target)) as copy,
        ):
            origin.backup(copy)
    except sqlite3.Error as error:
        raise _UsageError(f"cannot read the database {source}: {error}") from None
