"""Write the sample replay data set: ``events.jsonl`` and ``settings.json`` (P6).

Usage::

    python scripts/make_sample.py --out samples --count 3000 --seed 2026
    deskcore replay samples/events.jsonl --db desk.sqlite --settings samples/settings.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from deskcore.cli.sample import write_sample


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, write the sample and say what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("samples"), help="folder to write into")
    parser.add_argument("--count", type=int, default=3000, help="number of stream entries")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (same seed, same data)")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must be 0 or more")
    events, settings = write_sample(args.out, count=args.count, seed=args.seed)
    print(f"wrote {args.count} entries to {events} (seed {args.seed})")
    print(f"wrote the settings to {settings}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
