"""Where a sweep's time goes: wall seconds accumulated per phase, in the process that ran it.

A worker times its group's phases (set-up, training, scoring at checkpoints, snapshots, weight
serialisation) and sends them back with the group's output; the driver adds them to `SWEEP_TIMES`
together with its own (planning, store writes). `benchmarks/demo_time.py` reads the totals to split
a demo run. Timing costs two clock reads a phase, so it is always on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class PhaseTimes:
    """Seconds per phase name; for a group, also when (time.time()) its worker began it."""

    seconds: dict[str, float] = field(default_factory=dict)
    started_at: float | None = None

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t0)

    def wrap(self, name: str, fn: Callable[P, R]) -> Callable[P, R]:
        """`fn`, with its calls timed as phase `name`."""

        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            with self.phase(name):
                return fn(*args, **kwargs)

        return timed

    def merge(self, other: PhaseTimes) -> None:
        for name, s in other.seconds.items():
            self.add(name, s)

    def clear(self) -> None:
        self.seconds.clear()


SWEEP_TIMES = PhaseTimes()  # this process's sweeps, workers' phases included
