"""The ``deskcore`` command: ``demo``, ``replay``, ``explain``, ``sample`` and ``schema``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskcore", description="The rules of a modern support desk, from the terminal."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="run a sample stream of social items, emails and chats through the engine",
        description="Take in a bundled stream of inbound messages (English and Japanese) on "
        "a SQLite file and print what happened to each and why.",
    )
    demo.add_argument(
        "--db",
        default="deskcore-demo.sqlite3",
        help="SQLite file to write (replaced on each run; default: %(default)s)",
    )
    demo.add_argument("--stream", help="a JSON-lines stream to play instead of the bundled sample")

    replay = commands.add_parser(
        "replay",
        help="feed a JSON-lines stream of events through the desk into a SQLite file",
        description="Apply every line of EVENTS (messages, social items, chats, status "
        "changes; see `deskcore schema replay_entry`) in order, idempotently: replaying the "
        "same file again changes nothing. Exit status: 0 when every line applied, 1 when a "
        "line was skipped or the run stopped at one, 2 when the run could not start or the "
        "database failed, 130 when interrupted (replay again to finish).",
    )
    _common(replay, events_help="the stream, JSON Lines (- for standard input)")
    replay.add_argument(
        "--explain", action="store_true", help="print every decision with its reason"
    )
    replay.add_argument(
        "--on-error",
        choices=("skip", "stop"),
        default="skip",
        help="a malformed or refused line: report it and go on (skip, the default), or "
        "report it and stop, keeping the lines before it (stop)",
    )
    replay.add_argument(
        "--batch-size",
        type=int,
        default=500,
        help="entries a commit groups, 1 to 10,000 (default: %(default)s)",
    )
    progress = replay.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show a progress line on standard error (default: when it is a terminal)",
    )
    progress.add_argument("--no-progress", dest="progress", action="store_false")

    explain = commands.add_parser(
        "explain",
        help="say what the desk would do with one event, without writing",
        description="Apply one line of EVENTS to a copy of the database and print the "
        "decision with its reason; the database itself is not changed.",
    )
    _common(explain, events_help="a JSON-lines file (- for standard input)")
    explain.add_argument(
        "--line", type=int, default=1, help="which line to explain (default: %(default)s)"
    )

    sample = commands.add_parser(
        "sample",
        help="write the sample data set: events.jsonl and settings.json",
        description="Write a realistic, deterministic stream (English and Japanese) and its "
        "settings, for `deskcore replay`.",
    )
    sample.add_argument("--out", default="samples", help="folder (default: %(default)s)")
    sample.add_argument("--count", type=int, default=3000, help="events (default: %(default)s)")
    sample.add_argument("--seed", type=int, default=2026, help="seed (default: %(default)s)")

    schema = commands.add_parser(
        "schema",
        help="print (or write) the JSON Schemas of the settings documents and event types",
    )
    schema.add_argument("name", nargs="?", help="one schema by name; all when omitted")
    schema.add_argument(
        "--out", help="write each schema to OUT/<name>.schema.json instead of printing"
    )
    return parser


def _common(command: argparse.ArgumentParser, *, events_help: str) -> None:
    command.add_argument("events", help=events_help)
    command.add_argument("--db", required=True, help="the SQLite file (created if missing)")
    command.add_argument(
        "--settings",
        required=True,
        help="the settings document, JSON (see `deskcore schema replay_settings`)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    try:
        return _run(argv)
    except BrokenPipeError:
        # The reader went away (``deskcore replay --explain ... | head``): stop quietly, and
        # keep Python from complaining again when it flushes standard output at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _run(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from deskcore.cli.demo import run_demo

        return run_demo(db=args.db, stream=args.stream, out=sys.stdout)
    if args.command in ("replay", "explain"):
        from deskcore.cli._commands import run_explain, run_replay

        if args.command == "replay":
            return run_replay(args, out=sys.stdout, err=sys.stderr)
        return run_explain(args, out=sys.stdout, err=sys.stderr)
    if args.command == "sample":
        from deskcore.cli.sample import write_sample

        events, settings = write_sample(Path(args.out), count=args.count, seed=args.seed)
        print(f"wrote {events} ({args.count:,} events) and {settings}")
        return 0
    return _schema(args.name, args.out)


def _schema(name: str | None, out: str | None) -> int:
    from deskcore.wire import json_schemas

    schemas = json_schemas()
    if name is not None:
        if name not in schemas:
            print(f"unknown schema {name!r}; known: {', '.join(schemas)}", file=sys.stderr)
            return 2
        schemas = {name: schemas[name]}
    if out is None:
        print(json.dumps(schemas, indent=2, ensure_ascii=False))
        return 0
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for key, schema in schemas.items():
        path = folder / f"{key}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0
