"""Shared pieces of `make bench`: a row of the table and a timer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class BenchRow:
    """One figure next to its baseline from the same run."""

    figure: str
    value: float
    baseline: str
    baseline_value: float
    unit: str = "s"
    target: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else float("inf")


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """Yield a one-item list that holds the elapsed seconds after the block."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def best_of(runs: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Run fn `runs` times; return the fastest wall time and the last result."""
    best = float("inf")
    result: T | None = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    assert result is not None or runs > 0
    return best, result  # type: ignore[return-value]
