"""The sweep's phase timers (read by benchmarks/demo_time.py) account for the work they name: a
tiny sweep's worker phases are all there, positive where work was done, and add up to no more
than the sweep's own wall time (one process, so nothing ran side by side)."""

from __future__ import annotations

import time

import yaml

from conftest import tiny_spec_dict
from emergelab.spec import load_spec
from emergelab.sweep import run_experiment
from emergelab.sweep.timing import SWEEP_TIMES, PhaseTimes


def test_phase_times_cover_the_sweep(tmp_path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(tiny_spec_dict()))
    SWEEP_TIMES.clear()
    t0 = time.perf_counter()
    run_experiment(load_spec(path), tmp_path / "out")
    wall = time.perf_counter() - t0
    s = SWEEP_TIMES.seconds
    for phase in ("planning", "set-up", "training", "evaluation", "store writes", "worker start-up"):
        assert phase in s, phase
    assert s["training"] > 0 and s["evaluation"] > 0 and s["store writes"] > 0
    assert sum(s.values()) <= wall


def test_wrap_accumulates_calls() -> None:
    times = PhaseTimes()
    slow = times.wrap("nap", time.sleep)
    slow(0.01)
    slow(0.02)
    assert times.seconds["nap"] >= 0.03
    other = PhaseTimes({"nap": 1.0})
    other.merge(times)
    assert other.seconds["nap"] >= 1.03
