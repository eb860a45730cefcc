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
    MAX_BATCH_SIZE,
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
        return parse_replay_settings(data.removeprefix(b"\xef\xbb\xbf")).to_settings()
    except ValidationError as error:
        errors = error.errors()
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'the document'}: {e['msg']}"
            for e in errors[:5]
        )
        more = f"; and {len(errors) - 5} more" if len(errors) > 5 else ""
        raise _UsageError(f"the settings {path} are invalid: {problems}{more}") from None
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


def _open(path: str) -> SQLiteTicketRepository:
    """The database at ``path``; a file that cannot be used is a usage error naming it."""
    try:
        return SQLiteTicketRepository(path)
    except DeskcoreError as error:
        raise _UsageError(f"cannot use the database {path}: {error.message}") from None


def run_replay(args: argparse.Namespace, *, out: TextIO, err: TextIO) -> int:
    """``deskcore replay``; returns the exit status."""
    try:
        settings = _settings(args.settings)
        if not 1 <= args.batch_size <= MAX_BATCH_SIZE:
            raise _UsageError(f"--batch-size {args.batch_size}: use 1 to {MAX_BATCH_SIZE:,}")
        with _events(args.events) as stream, _open(args.db) as store:
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
            except (DeskcoreError, KeyboardInterrupt) as error:
                _stopped(err, error, replayer.summary)
                return 130 if isinstance(error, KeyboardInterrupt) else 2
            finally:
                if progress is not None:
                    progress.finish()
    except _UsageError as error:
        print(f"deskcore replay: {error}", file=err)
        return 2
    for line in summary.report():
        print(line, file=out)
    return 1 if summary.problems else 0


def _stopped(err: TextIO, error: BaseException, summary: ReplaySummary) -> None:
    """Say why a replay stopped short, and what the database holds."""
    if isinstance(error, DeskcoreError):
        print(f"deskcore replay: [{error.code}] {error.message}", file=err)
    else:
        print("deskcore replay: interrupted", file=err)
    kept = (
        f"lines 1-{summary.committed:,} are committed"
        if summary.committed
        else "nothing is committed"
    )
    print(
        f"  {kept}; the batch in progress was rolled back (its decisions did not take "
        "effect); replay the same file again to finish",
        file=err,
    )


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
        if chosen[1] == b"" or (isinstance(chosen[1], bytes) and not chosen[1].strip()):
            raise _UsageError(f"line {args.line} of {args.events} is blank: nothing to explain")
        with tempfile.TemporaryDirectory(prefix="deskcore-explain-") as folder:
            copy = Path(folder) / "copy.sqlite3"
            found = _copy_database(args.db, copy)
            decisions: list[Decision] = []
            with _open(str(copy)) as store:
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
        if found:
            print("(explained on a copy of the database: nothing was written)", file=out)
        else:
            print(f"(there is no database {args.db}: explained against an empty one)", file=out)
    for problem in summary.problems:
        print(f"! {problem.describe()}", file=out)
    return 1 if summary.problems else 0


def _copy_database(source: str, target: Path) -> bool:
    """Copy the SQLite file ``source`` to ``target``, consistently; False when there is no
    such file."""
    if not Path(source).exists():
        return False
    try:
        with (
            closing(sqlite3.connect(f"file:{Path(source).as_posix()}?mode=ro", uri=True)) as origin,
            closing(sqlite3.connect(target)) as copy,
        ):
            origin.backup(copy)
    except sqlite3.Error as error:
        raise _UsageError(f"cannot read the database {source}: {error}") from None
    return True
