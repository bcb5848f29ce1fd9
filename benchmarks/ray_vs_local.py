"""The Ray executor on a local Ray cluster against the local executor, same spec, same cores.

Runs the demo spec (or `--steps` fewer training steps of it) twice in this process: with the local
executor (2 worker processes × 1 thread, the baseline) and with `executor: ray` on a local cluster
of 2 CPUs (`ray.init(num_cpus=2)`, one CPU per group). Prints both wall times, their ratio, and
whether the stored outputs are identical. Needs the `[ray]` extra.

    .venv/bin/python benchmarks/ray_vs_local.py --steps 300
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import ray

from emergelab.cli.run import demo_spec_path
from emergelab.spec import load_spec
from emergelab.sweep import run_experiment


def _outputs(folder: Path) -> list:
    con = duckdb.connect(str(folder / "emergelab.duckdb"), read_only=True)
    rows = con.execute("SELECT * FROM outputs ORDER BY ALL").fetchall()
    con.close()
    return rows


def timed(kind: str, steps: int | None) -> tuple[float, Path]:
    spec = load_spec(demo_spec_path())
    update = {"executor": spec.executor.model_copy(update={"kind": kind, "workers": 2, "save_weights": False})}
    if steps:
        update["training"] = spec.training.model_copy(update={"steps": steps, "checkpoints": "final"})
    spec = spec.model_copy(update=update)
    out = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    started = time.perf_counter()
    run_experiment(spec, out)
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=None, help="training steps per model (default: the demo's)")
    args = parser.parse_args()
    local_s, local_out = timed("local", args.steps)
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    init_s = time.perf_counter() - started
    ray_s, ray_out = timed("ray", args.steps)
    ray.shutdown()
    same = _outputs(local_out) == _outputs(ray_out)
    print(f"local executor (2 processes): {local_s:.1f} s")
    print(f"ray executor (local cluster, 2 CPUs): {ray_s:.1f} s (+ {init_s:.1f} s to start the cluster)")
    print(f"ratio ray / local: {ray_s / local_s:.2f}; stored outputs identical: {same}")


if __name__ == "__main__":
    main()
