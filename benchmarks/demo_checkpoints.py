"""What the demo's dense training-time view costs: 20 log-spaced checkpoints with intermediate
ones scored on a fixed 100-problem subset (as shipped) vs the former 6 checkpoints scored on all
500 test problems (the baseline), both train + score + store + report, in this process.

    .venv/bin/python benchmarks/demo_checkpoints.py

Prints both wall times, their ratio, the number of checkpoints and where exact match's training
transition falls for each model (the dense view should resolve it between neighbouring steps).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from emergelab.analysis.curves import metric_rows
from emergelab.cli.run import demo_spec_path
from emergelab.report import write_report
from emergelab.report.training import collect_series, transition_step
from emergelab.spec import load_spec
from emergelab.store import Store
from emergelab.sweep import run_experiment


def timed(update: dict, name: str) -> tuple[float, Path]:
    spec = load_spec(demo_spec_path())
    spec = spec.model_copy(update={"training": spec.training.model_copy(update=update)})
    out = Path(tempfile.mkdtemp(prefix=f"demo-{name}-"))
    started = time.perf_counter()
    run_experiment(spec, out)
    write_report(out)
    return time.perf_counter() - started, out


def transitions(folder: Path) -> str:
    with Store(folder, read_only=True) as store:
        series = collect_series(store, metric_rows(store, ["exact_match"]))
    parts = []
    for s in series:
        if s.quantity == "exact_match":
            step = transition_step(s.steps, s.values)
            below = [int(x) for x in s.steps if step is not None and x <= step]
            above = [int(x) for x in s.steps if step is not None and x > step]
            bracket = f" (between checkpoints {below[-1]} and {above[0]})" if below and above else ""
            parts.append(f"{s.model}: {'none' if step is None else f'{step:.0f}'}{bracket}")
    return "; ".join(parts)


def main() -> None:
    dense, dense_out = timed({}, "dense")
    base, base_out = timed({"checkpoints": "log:6", "checkpoint_test_size": None}, "coarse")
    n_dense = len(load_spec(demo_spec_path()).training.checkpoint_steps())
    print(f"as shipped ({n_dense} checkpoints, subset 100): {dense:.1f} s → {dense_out}")
    print(f"baseline (6 checkpoints, all 500 problems):   {base:.1f} s → {base_out}")
    print(f"ratio shipped / baseline: {dense / base:.2f}")
    print(f"exact-match transitions, shipped:  {transitions(dense_out)}")
    print(f"exact-match transitions, baseline: {transitions(base_out)}")


if __name__ == "__main__":
    main()
