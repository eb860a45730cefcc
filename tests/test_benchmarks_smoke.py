"""The benchmark suite runs: ``benchmarks/run.py --quick`` exits 0 and reports every benchmark.

No timing is asserted here, ever (DESIGN.md): speed is read from the benchmark's own table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _benchmark_names() -> list[str]:
    return [path.stem.removeprefix("bench_") for path in sorted(BENCHMARKS.glob("bench_*.py"))]


def test_quick_run_reports_every_benchmark() -> None:
    names = _benchmark_names()
    assert names, "no bench_*.py found"
    completed = subprocess.run(
        [sys.executable, "-W", "error", str(BENCHMARKS / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    for name in names:
        assert f"running {name} ..." in lines
        assert any(line.startswith(f"{name}.") for line in lines), f"no row for {name}"
    assert "targets:" in lines


def test_only_runs_the_named_benchmark() -> None:
    name = _benchmark_names()[0]
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--only", name],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"running {name} ..." in completed.stdout.splitlines()
