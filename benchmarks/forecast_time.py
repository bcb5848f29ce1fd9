"""Time of a `via_loss` forecast with intervals on <= 20 points: today's code against the old path.

    .venv/bin/python benchmarks/forecast_time.py [--boot 200] [--old-commit beee0ae]

The old path is the forecast module as it was before issue 11 (`git show OLD:src/.../forecast.py`,
loaded as a temporary module, so it stays runnable without keeping dead code in the package). It
bootstrapped `via_loss` by refitting the loss law from scratch (a multi-start L-BFGS) for every
replicate; the new one fits each law once with its batched bootstrap (warm-started resamples in one
tensor problem) and the error link in closed form, then pairs the draws.

Both sides forecast the same simulated data (11 sizes, a loss curve and an error curve, fitted on
the 5 smallest, up to 1.6e7) with `power_law` for loss, the only law the old path had. The new side
is also timed with a two-variable law (`shared_exponent` on a 5 x 3 over-training grid, 15 runs) and with
intervals off. Each line prints wall and CPU seconds; the ratio is old / new wall time.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from emergelab.analysis.curve import Curve
from emergelab.analysis.forecast import forecast, forecast_runs
from emergelab.analysis.laws.points import RunPoints

ROOT = Path(__file__).resolve().parents[1]
N_EX = 2000


def old_module(commit: str):
    """The forecast module of `commit`, imported under another name."""
    text = subprocess.run(["git", "show", f"{commit}:src/emergelab/analysis/forecast.py"], cwd=ROOT,
                          check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "forecast_old.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("forecast_old", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["forecast_old"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def loss_of(n: np.ndarray, d: np.ndarray) -> np.ndarray:
    return 1.9 + 60.0 * n**-0.25 + 300.0 * d**-0.25


def error_of(loss: np.ndarray) -> np.ndarray:
    return 0.95 - 3.0 * np.exp(-0.45 * loss)


def curves(rng: np.random.Generator) -> list[Curve]:
    """11 sizes at 20 tokens per parameter: a loss curve and an error curve."""
    n = np.logspace(6, 9, 11)
    loss = loss_of(n, 20 * n) * np.exp(rng.normal(0, 0.002, n.size))
    err = rng.binomial(N_EX, error_of(loss_of(n, 20 * n))) / N_EX
    se_l, se_e = np.full(n.size, 0.002 * loss.mean()), np.sqrt(err * (1 - err) / N_EX)
    nn = np.full(n.size, N_EX)
    return [Curve("lm", "error", "params", n, err, err - 2 * se_e, err + 2 * se_e, nn, higher_is_better=False,
                  stderr=se_e),
            Curve("lm", "loss", "params", n, loss, loss - 2 * se_l, loss + 2 * se_l, nn, higher_is_better=False,
                  stderr=se_l)]


def grid(rng: np.random.Generator) -> list[RunPoints]:
    """5 sizes x 3 tokens-per-parameter ratios (15 runs)."""
    n = np.repeat(np.logspace(6, 8, 5), 3)
    d = n * np.tile([10.0, 40.0, 320.0], 5)
    loss = loss_of(n, d) * np.exp(rng.normal(0, 0.002, n.size))
    err = rng.binomial(N_EX, error_of(loss_of(n, d))) / N_EX
    labels = [f"m{i}" for i in range(n.size)]
    return [RunPoints("lm", m, labels, n, n, d, 6 * n * d, y, se, np.full(n.size, N_EX), higher_is_better=False)
            for m, y, se in (("loss", loss, np.full(n.size, 0.002)), ("error", err, np.sqrt(err * (1 - err) / N_EX)))]


def timed(label: str, fn) -> float:
    w0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fn()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    err = np.nanmean(np.abs(result.pred - result.observed))
    print(f"{label:58s} {wall:7.2f} s wall {cpu:7.2f} s CPU   mean |pred - obs| {err:.3f}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boot", type=int, default=200, help="bootstrap replicates (both sides)")
    ap.add_argument("--old-commit", default="beee0ae", help="the commit whose forecast module is the old path")
    args = ap.parse_args()
    data = curves(np.random.default_rng(0))
    runs = grid(np.random.default_rng(1))
    fit_below = 3e7  # the 5 smallest sizes (1e6 .. 1.6e7; the next is 3.16e7)
    new = timed(f"new  via_loss power_law, 11 points, {args.boot} resamples",
                lambda: forecast(data, "via_loss", fit_below, task="lm", metric="error", n_boot=args.boot))
    timed("new  via_loss power_law, intervals off",
          lambda: forecast(data, "via_loss", fit_below, task="lm", metric="error", n_boot=0))
    timed(f"new  via_loss shared_exponent on (N, D), 15 runs, {args.boot} resamples",
          lambda: forecast_runs(runs, "via_loss", 1.01e7, task=None, metric="error", scale="params",
                                loss_law="shared_exponent", n_boot=args.boot))
    old = old_module(args.old_commit)
    before = timed(f"old  via_loss power_law ({args.old_commit}), {args.boot} resamples",
                   lambda: old.forecast(data, "via_loss", fit_below, task="lm", metric="error", n_boot=args.boot))
    print(f"ratio old / new (power_law, {args.boot} resamples): {before / new:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
