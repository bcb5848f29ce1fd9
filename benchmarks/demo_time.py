"""Where the demo's time goes: one run of `emergelab demo`, split into its phases.

This process *is* the demo run: it imports what the `emergelab` command imports, then does what
`emergelab demo` does (run the packaged spec with the progress display, write the report, print
the smallest-vs-largest table), timing each part. Inside the sweep, every worker times its own
phases and sends them back with its results (`emergelab.sweep.timing`); the driver adds planning,
the pool's start-up and the store writes. Printed as fractions of the total wall time:

  start-up        interpreter and imports, until the command could begin (process age)
  planning        spec loading and the sweep plan
  worker start    from asking the pool for the groups until the first one began
  training        the training steps, in the workers        ┐ each divided by the number of
  evaluation      scoring at checkpoints, in the workers     │ workers: they run side by side
  set-up          data split and model init, in the workers  │
  weights/snaps.  weight serialisation and mid-run snapshots ┘
  store writes    the driver writing each group (weights files + DuckDB), mostly while workers train
  waiting         the rest of the sweep: a worker idle while the other finishes its last group
  report          the HTML report, figures and the closing table

Absolute times depend on the machine and its load (the load average is printed); the fractions
are what the issue's target is about: everything but training ≤ 10 % of the total.

    .venv/bin/python benchmarks/demo_time.py [--baseline]

With --baseline the demo is run a second time in one process (workers: 1) and the two runs'
metric curves are compared (they must be identical: the executor does not change results).
"""

from __future__ import annotations

import os
import time


def process_age() -> float:
    """Seconds since this process was created (Linux /proc; the interpreter's start counts)."""
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":  # what the `emergelab demo` script does before it runs the command
    # (emergelab/__main__.py): start the workers' fork server, then build the CLI (for a command
    # that trains, from run.py's commands only: emergelab/cli/__init__.py::main). The server
    # imports this file as __mp_main__, which skips this block, as it skips the script's.
    from emergelab.forkserver import prestart

    prestart()
    from emergelab.cli import build_app

    build_app(("run",), theory=False)
    STARTUP = process_age()

import argparse  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

METRICS = ["exact_match", "token_accuracy", "target_logprob"]
WORKER_PHASES = ["training", "evaluation", "set-up", "weights", "snapshots", "sampling"]


def demo_command(out: Path) -> tuple[float, float, list]:
    """What `emergelab demo` does (cli/run.py::demo); returns (sweep seconds, report seconds, curves)."""
    from emergelab.cli.run import demo_spec_path, run_with_progress

    t0 = time.perf_counter()
    folder = run_with_progress(demo_spec_path(), out, force=False, report_follows=True)
    t1 = time.perf_counter()
    # as the demo: imported after the sweep (whatever the end-of-sweep warm-up has not imported yet)
    from emergelab.analysis.curves import load_curves
    from emergelab.analysis.emergence import emergence_score
    from emergelab.report import write_report

    write_report(folder)
    curves = load_curves(folder, metrics=METRICS, n_boot=0)  # as the demo: means only
    for c in curves:
        print(f"  {c.metric:15s} smallest {c.y[0]:8.3f}  largest {c.y[-1]:8.3f}  emergence score {emergence_score(c.y):6.2f}")
    return t1 - t0, time.perf_counter() - t1, curves


def split(startup: float, sweep: float, report: float, workers: int) -> list[tuple[str, float]]:
    """(phase, seconds of wall time) summing to the total; worker phases divided by `workers`."""
    from emergelab.sweep.timing import SWEEP_TIMES

    s = SWEEP_TIMES.seconds
    rows = [("start-up (interpreter + imports)", startup), ("planning", s.get("planning", 0.0)),
            ("worker start-up", s.get("worker start-up", 0.0))]
    rows += [(f"{name} (in workers, / {workers})", s.get(name, 0.0) / workers) for name in WORKER_PHASES]
    rows.append(("store writes (driver)", s.get("store writes", 0.0)))
    rows.append(("waiting (uneven finish, driver)", sweep - sum(t for _, t in rows[1:])))
    rows.append(("report", report))
    return rows


def main() -> None:
    import numpy as np

    from emergelab.cli.run import demo_spec_path
    from emergelab.spec import load_spec
    from emergelab.sweep.timing import SWEEP_TIMES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", action="store_true", help="also run the demo in one process and compare")
    args = parser.parse_args()
    workers = load_spec(demo_spec_path()).executor.workers
    load = os.getloadavg()[0]
    SWEEP_TIMES.clear()
    sweep, report, curves = demo_command(Path(tempfile.mkdtemp(prefix="demo-")))
    rows = split(STARTUP, sweep, report, workers)
    total = sum(t for _, t in rows)
    print(f"\ndemo ({workers} workers × 1 thread): {total:.1f} s wall; load average {load:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at the end")
    for name, t in rows:
        print(f"  {name:38s} {t:7.2f} s  {100 * t / total:5.1f} %")
    training = SWEEP_TIMES.seconds.get("training", 0.0) / workers
    print(f"everything but training: {100 * (1 - training / total):.1f} % of the total (target <= 10 %)")
    if args.baseline:
        from emergelab.analysis.curves import load_curves
        from emergelab.sweep import run_experiment

        spec = load_spec(demo_spec_path())
        spec = spec.model_copy(update={"executor": spec.executor.model_copy(update={"workers": 1})})
        out = Path(tempfile.mkdtemp(prefix="demo-w1-"))
        t0 = time.perf_counter()
        run_experiment(spec, out)
        print(f"baseline sweep (1 process × 1 thread): {time.perf_counter() - t0:.1f} s vs {sweep:.1f} s")
        same = all(np.array_equal(a.y, b.y) for a, b in
                   zip(curves, load_curves(out, metrics=METRICS, n_boot=200), strict=True))
        print(f"metric curves of the two runs identical: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
