"""Run deskcore's benchmark suite and print each figure next to its same-run baseline.

Usage::

    python benchmarks/run.py            # every bench_*.py in this folder, full sizes
    python benchmarks/run.py --quick    # tiny sizes: checks the suite runs, measures nothing
    python benchmarks/run.py --only intake

Targets from the spec (section 14, PF1-PF4) are reported PASS/FAIL, design goals the spec does
not state ok/SLOW. The exit status is 0 whether or not a target is met: the suite reports, it
does not gate CI. It is 1 only when a benchmark itself fails (raises).
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TextIO, cast

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _harness import Result  # noqa: E402 - needs the folder on sys.path first

__all__ = ["discover", "format_table", "main"]

Runner = Callable[[bool], list[Result]]


def discover() -> dict[str, ModuleType]:
    """The benchmark modules next to this file, in file-name order, by name.

    ``bench_intake.py`` is the benchmark ``intake``; its result rows are named ``intake.*``.
    """
    return {
        path.stem.removeprefix("bench_"): importlib.import_module(path.stem)
        for path in sorted(HERE.glob("bench_*.py"))
    }


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def _figure(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{_number(value)} {unit}"


def _verdict(result: Result) -> str:
    target = result.target
    if target is None:
        return "-"
    met = bool(result.meets_target())
    if target.is_spec:
        return "PASS" if met else "FAIL"
    return "ok" if met else "SLOW"


def _target(result: Result) -> str:
    target = result.target
    if target is None:
        return "-"
    return f"{target.source if target.is_spec else 'goal'}: {target.text}"


def format_table(results: Sequence[Result]) -> list[str]:
    """The results as aligned text lines: one table (each figure, its same-run baseline, the
    ratio, the target it is held against and whether it meets it), then one line per target
    with the observed number, then notes."""
    header = (
        "benchmark",
        "figure (best)",
        "median",
        "baseline",
        "baseline figure",
        "ratio",
        "verdict",
        "target",
    )
    rows = [header]
    for r in results:
        rows.append(
            (
                r.name,
                _figure(r.value, r.unit),
                _figure(r.median, r.unit),
                r.baseline_name or "-",
                _figure(r.baseline, r.unit),
                "-" if r.ratio is None else f"{r.ratio:.2f}x",
                _verdict(r),
                _target(r),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(width) if i in (0, 3, 6, 7) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines.append("")
    lines.append("ratio = figure / baseline (for items/s higher is better; for us/item lower is)")
    lines.append(
        "verdict: PASS/FAIL for a target SPEC.md section 14 states (PF1-PF4), "
        "ok/SLOW for a design goal it does not"
    )
    lines.append("")
    lines.append("targets:")
    targeted = [r for r in results if r.target is not None]
    if not targeted:
        lines.append("  (none)")
    for r in targeted:
        target = r.target
        assert target is not None
        observed = (
            f"{r.ratio:.2f}x {r.baseline_name}"
            if target.on_ratio and r.ratio is not None
            else _figure(r.value, r.unit)
        )
        kind = target.source if target.is_spec else "goal (not in spec)"
        lines.append(f"  {_verdict(r):<4}  {kind}: {r.name} = {observed}; target {target.text}")
    noted = [r for r in results if r.note]
    if noted:
        lines.append("")
        lines.append("notes:")
        lines.extend(f"  {r.name}: {r.note}" for r in noted)
    return lines


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the suite; returns the exit status (0 unless a benchmark raised)."""
    modules = discover()
    parser = argparse.ArgumentParser(description="Run the deskcore benchmark suite.")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(modules),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(sorted(modules))}",
    )
    args = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    selected = args.only or list(modules)
    mode = "quick (smoke test: sizes too small to mean anything)" if args.quick else "full"
    print(
        f"deskcore benchmarks: {mode}; Python {platform.python_version()} "
        f"({platform.python_implementation()}) on {platform.system()} {platform.machine()}",
        file=stream,
    )
    results: list[Result] = []
    failed: list[str] = []
    for name in selected:
        runner = cast(Runner, modules[name].run)
        print(f"running {name} ...", file=stream, flush=True)
        start = time.perf_counter()
        try:
            results.extend(runner(args.quick))
        except Exception:
            failed.append(name)
            print(f"benchmark {name} FAILED:", file=stream)
            traceback.print_exc(file=stream)
            continue
        print(f"  done in {time.perf_counter() - start:.1f} s", file=stream, flush=True)
    print("", file=stream)
    for line in format_table(results):
        print(line, file=stream)
    if failed:
        print(f"\nbenchmarks that raised: {', '.join(failed)}", file=stream)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
