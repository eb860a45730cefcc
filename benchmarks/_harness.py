"""Shared pieces of the benchmark suite: results, targets and a stdlib timer.

A benchmark module is a ``bench_<name>.py`` file next to this one that defines
``run(quick: bool) -> list[Result]``, naming its rows ``<name>.<case>``. :mod:`run` discovers
the modules, calls them and prints the table. Every figure comes with a baseline measured in
the same run, so the ratio still means something on a noisy or slow machine (DESIGN.md:
timing never lives in unit tests).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Result", "Sample", "Target", "Timing", "measure", "timed"]

Better = Literal["higher", "lower"]


@dataclass(frozen=True)
class Sample:
    """One timed run: wall-clock seconds and the CPU seconds this process used meanwhile."""

    wall: float
    cpu: float


@dataclass(frozen=True)
class Timing:
    """The samples of each repeat of one measured body."""

    samples: tuple[Sample, ...]

    @property
    def best(self) -> float:
        """The fastest repeat's wall-clock seconds: the least disturbed by the machine's noise."""
        return min(s.wall for s in self.samples)

    @property
    def median(self) -> float:
        """The median repeat's wall-clock seconds."""
        return statistics.median(s.wall for s in self.samples)

    @property
    def median_cpu(self) -> float:
        """The median repeat's CPU seconds."""
        return statistics.median(s.cpu for s in self.samples)

    @property
    def best_cpu(self) -> float:
        """The least CPU seconds of a repeat: what the work costs when no other process competes
        for the core (it still counts SQLite's own work, but not waiting for the disk)."""
        return min(s.cpu for s in self.samples)


def timed(body: Callable[[], object]) -> Sample:
    """Time one call of ``body``, after a garbage collection so earlier garbage is not billed."""
    gc.collect()
    cpu = time.process_time()
    start = time.perf_counter()
    body()
    wall = time.perf_counter() - start
    return Sample(wall=wall, cpu=time.process_time() - cpu)


def measure(body: Callable[[], Sample | None], *, repeats: int) -> Timing:
    """Run ``body`` ``repeats`` times and time each run.

    ``body`` may do untimed setup itself and return the :class:`Sample` of its timed part
    (see :func:`timed`); when it returns ``None`` the whole call is timed.
    """
    samples: list[Sample] = []
    for _ in range(repeats):
        gc.collect()
        cpu = time.process_time()
        start = time.perf_counter()
        own = body()
        whole = Sample(wall=time.perf_counter() - start, cpu=time.process_time() - cpu)
        samples.append(whole if own is None else own)
    return Timing(tuple(samples))


@dataclass(frozen=True)
class Target:
    """A bound a figure should meet.

    Attributes:
        source: Where the bound comes from: a spec id (``PF4``) or ``goal`` for a design
            expectation the spec does not state (reported, but never called a spec failure).
        text: The bound as a human reads it (``>= 5,000 items/s``).
        bound: The number the figure (or, with ``on_ratio``, the ratio) is compared with.
        at_least: The observed number must be at least ``bound``; otherwise at most.
        on_ratio: Compare the ratio to the baseline instead of the figure itself.
    """

    source: str
    text: str
    bound: float
    at_least: bool
    on_ratio: bool = False

    @property
    def is_spec(self) -> bool:
        """True when the spec states this bound (PASS/FAIL); otherwise it is a goal (ok/SLOW)."""
        return self.source != "goal"


@dataclass(frozen=True)
class Result:
    """One row of the table.

    Attributes:
        name: ``<benchmark>.<case>``, unique in a run.
        value: The figure (best of the repeats).
        median: The median of the repeats, to show the spread.
        unit: Unit of ``value`` (``items/s``, ``us/item``).
        better: Whether a higher or a lower figure is better.
        baseline_name: What the baseline is.
        baseline: The baseline's figure, in the same unit, measured in the same run.
        target: The bound this figure should meet, if any.
        note: One short line explaining the row.
    """

    name: str
    value: float
    median: float
    unit: str
    better: Better
    baseline_name: str | None = None
    baseline: float | None = None
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """``value / baseline``, or ``None`` without a baseline."""
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    def meets_target(self) -> bool | None:
        """Whether the target is met, or ``None`` without a target (or a needed ratio)."""
        target = self.target
        if target is None:
            return None
        observed = self.ratio if target.on_ratio else self.value
        if observed is None:
            return None
        return observed >= target.bound if target.at_least else observed <= target.bound
