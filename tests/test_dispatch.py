"""The local pool's submission order: checked against brute force over every assignment."""

import itertools
from dataclasses import replace

import numpy as np
import pytest

from emergelab.cli.run import demo_spec_path
from emergelab.spec import load_spec
from emergelab.sweep import executors
from emergelab.sweep.executors import dispatch_order, makespan
from emergelab.sweep.plan import plan


def _optimum(costs, workers):
    """Shortest makespan of any assignment of jobs to workers (brute force, order-free)."""
    best = np.inf
    for assign in itertools.product(range(workers), repeat=len(costs)):
        loads = np.zeros(workers)
        np.add.at(loads, list(assign), costs)
        best = min(best, loads.max())
    return best


def test_makespan_simulates_a_pool():
    # two workers: 5 → A (0–5); 3 → B (0–3); 4 → B (3–7); 1 → A (5–6): ends at 7
    assert makespan([5, 3, 4, 1], 2) == 7
    assert makespan([5, 3, 4, 1], 1) == 13


@pytest.mark.parametrize("workers", [2, 3])
def test_dispatch_order_reaches_the_best_assignment(monkeypatch, workers):
    rng = np.random.default_rng(workers)
    groups = plan(load_spec(demo_spec_path()))[:1] * 7
    for _ in range(25):
        n = int(rng.integers(3, 8))
        costs = rng.uniform(1.0, 10.0, n).round(2)
        jobs = [replace(groups[0], run_ids=[f"r{i}"]) for i in range(n)]
        cost_of = {j.run_ids[0]: c for j, c in zip(jobs, costs, strict=True)}
        monkeypatch.setattr(executors, "_cost", lambda g, cost_of=cost_of: cost_of[g.run_ids[0]])
        order = dispatch_order(jobs, workers)
        assert sorted(g.run_ids[0] for g in order) == sorted(cost_of)  # every group, once
        got = makespan([cost_of[g.run_ids[0]] for g in order], workers)
        assert got == pytest.approx(_optimum(costs, workers))


def test_demo_order_beats_longest_first_on_measured_times():
    """The demo's six groups timed alone (1 thread, seconds): longest-first ends at 90.2 s, the
    best assignment at 85.2 s; the cost model must find the latter without the measurements."""
    measured = {8: 16.6, 12: 16.1, 16: 21.1, 24: 28.5, 32: 34.9, 48: 52.5}
    groups = plan(load_spec(demo_spec_path()))
    widths = [g.shape.width for g in dispatch_order(groups, 2)]
    assert makespan([measured[w] for w in widths], 2) == pytest.approx(_optimum(list(measured.values()), 2))
    assert makespan([measured[w] for w in sorted(measured, reverse=True)], 2) == pytest.approx(90.2)
