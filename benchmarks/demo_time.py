"""Wall time of the demo (train + score + store + report) and the parallel executor's speed-up.

Runs the packaged demo spec twice into temporary folders, in this process: once as shipped
(local executor, 2 worker processes × 1 torch thread) and once as the baseline (1 process,
1 thread), and prints both times and their ratio.

    .venv/bin/python benchmarks/demo_time.py            # both
    .venv/bin/python benchmarks/demo_time.py --no-baseline
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from emergelab.analysis.curves import load_curves
from emergelab.analysis.emergence import emergence_score
from emergelab.cli.run import demo_spec_path
from emergelab.report import write_report
from emergelab.spec import load_spec
from emergelab.sweep import run_experiment

METRICS = ["exact_match", "token_accuracy", "target_logprob"]


def timed_demo(workers: int) -> tuple[float, Path]:
    spec = load_spec(demo_spec_path())
    spec = spec.model_copy(update={"executor": spec.executor.model_copy(update={"workers": workers})})
    out = Path(tempfile.mkdtemp(prefix=f"demo-w{workers}-"))
    started = time.perf_counter()
    run_experiment(spec, out)
    write_report(out)
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-baseline", action="store_true", help="skip the 1-process baseline")
    args = parser.parse_args()
    seconds, out = timed_demo(workers=2)
    print(f"demo (2 workers × 1 thread): {seconds:.1f} s  → {out}")
    curves = load_curves(out, metrics=METRICS, n_boot=200)
    for c in curves:
        print(f"  {c.metric:15s} smallest {c.y[0]:8.3f}  largest {c.y[-1]:8.3f}  emergence score {emergence_score(c.y):6.2f}")
    if not args.no_baseline:
        base, base_out = timed_demo(workers=1)
        print(f"baseline (1 process × 1 thread): {base:.1f} s")
        print(f"ratio baseline / demo: {base / seconds:.2f}x")
        same = all(np.array_equal(a.y, b.y) for a, b in zip(curves, load_curves(base_out, metrics=METRICS, n_boot=200), strict=True))
        print(f"metric curves of the two runs identical: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
