"""The ``deskcore`` command: ``deskcore demo`` and ``deskcore schema``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

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
    schema = commands.add_parser(
        "schema", help="print the JSON Schema of the wire models (inbound events, tickets)"
    )
    schema.add_argument("name", nargs="?", help="one schema by name; all when omitted")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from deskcore.cli.demo import run_demo

        return run_demo(db=args.db, stream=args.stream, out=sys.stdout)
    from deskcore.wire import json_schemas

    schemas = json_schemas()
    if args.name is not None:
        if args.name not in schemas:
            print(f"unknown schema {args.name!r}; known: {', '.join(schemas)}", file=sys.stderr)
            return 2
        schemas = {args.name: schemas[args.name]}
    print(json.dumps(schemas, indent=2, ensure_ascii=False))
    return 0
