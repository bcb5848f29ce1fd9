"""Chinchilla bootstrap: the batched tensor bootstrap vs a plain scipy loop, in one process.

    .venv/bin/python benchmarks/fit_bootstrap.py [--variant huber_likelihood] [--resamples 4000] [--loop 50]

Both sides solve the same problems: the same multinomial resamples, the same warm starts (the
distinct full-data minima), the same objective with an analytic gradient (numpy for scipy).
(For huber_likelihood the vectorised side also runs the threshold continuation of
`bootstrap_continuation`, i.e. more work than the loop, which stops where scipy stops.)
The loop runs `--loop` resamples and is extrapolated to `--resamples`. Wall and CPU seconds are
both printed: on a shared machine wall time depends on the neighbours, CPU time less so.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from emergelab.analysis.laws import fit_law  # noqa: E402
from emergelab.analysis.laws.chinchilla import PARAMS, _log_forward, _log_model, hoffmann_grid, to_params  # noqa: E402
from emergelab.analysis.laws.robust import (  # noqa: E402
    RobustProblem,
    bootstrap,
    bootstrap_continuation,
    bootstrap_weights,
    distinct_minima,
    huber_log_normaliser,
    huber_np,
    multistart,
)
from test_laws import chinchilla_points  # noqa: E402


def scipy_objective(log_n: np.ndarray, log_d: np.ndarray, log_l: np.ndarray, w: np.ndarray, delta: float,
                    likelihood: bool):
    """Value and gradient of the same objective as `RobustProblem`, in numpy, for one resample."""
    log_z = huber_log_normaliser(delta)
    tot = w.sum()

    def f(p: np.ndarray) -> tuple[float, np.ndarray]:
        a, b, e, al, be = p
        t = np.stack([a - al * log_n, b - be * log_d, np.full_like(log_n, e)])
        m = t.max(0)
        x = np.exp(t - m)
        s = x.sum(0)
        r = m + np.log(s) - log_l
        sw = x / s
        if likelihood:
            sig = max(delta * float(w @ np.abs(r)) / tot, 1e-300)
            rs = r / sig
            val = float(w @ huber_np(rs, delta)) + tot * (np.log(sig) + log_z)
            g = w * np.clip(rs, -delta, delta) / sig
        else:
            val = float(w @ huber_np(r, delta))
            g = w * np.clip(r, -delta, delta)
        grad = np.array([g @ sw[0], g @ sw[1], g @ sw[2], -(g * sw[0]) @ log_n, -(g * sw[1]) @ log_d])
        return val, grad

    return f


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", default="huber_likelihood", choices=["huber_sum", "huber_likelihood"])
    ap.add_argument("--resamples", type=int, default=4000)
    ap.add_argument("--loop", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    n, d, loss = chinchilla_points()
    log_n, log_d, log_l = np.log(n), np.log(d), np.log(loss)
    problem = RobustProblem(_log_model(torch.as_tensor(log_n), torch.as_tensor(log_d)), torch.as_tensor(log_l),
                            1e-3, args.variant, forward=_log_forward(torch.as_tensor(log_n), torch.as_tensor(log_d)))

    t0, c0 = time.perf_counter(), time.process_time()
    xs, fs = multistart(problem, hoffmann_grid())
    grid_wall, grid_cpu = time.perf_counter() - t0, time.process_time() - c0
    warm = distinct_minima(xs, fs, 2)
    weights = bootstrap_weights(len(loss), args.resamples, args.seed)

    t0, c0 = time.perf_counter(), time.process_time()
    vec = (bootstrap_continuation if problem.likelihood else bootstrap)(problem, warm, weights)
    vec_wall, vec_cpu = time.perf_counter() - t0, time.process_time() - c0

    k = min(args.loop, args.resamples)
    loop = np.empty((k, 5))
    t0, c0 = time.perf_counter(), time.process_time()
    for r in range(k):
        f = scipy_objective(log_n, log_d, log_l, weights[r], 1e-3, args.variant == "huber_likelihood")
        best = min((minimize(f, w0, jac=True, method="L-BFGS-B") for w0 in warm), key=lambda res: res.fun)
        loop[r] = best.x
    loop_wall, loop_cpu = time.perf_counter() - t0, time.process_time() - c0
    scale = args.resamples / k

    agree = np.abs(to_params(loop) - to_params(vec[:k])) / np.abs(to_params(vec[:k]))
    print(f"variant {args.variant}; {len(loss)} points; {len(hoffmann_grid())} grid starts; {len(warm)} warm starts")
    print(f"full-data grid fit (batched):          wall {grid_wall:7.2f} s   cpu {grid_cpu:7.2f} s")
    print(f"vectorised bootstrap, {args.resamples} resamples: wall {vec_wall:7.2f} s   cpu {vec_cpu:7.2f} s")
    print(f"the fit with {args.resamples} resamples (both):  wall {grid_wall + vec_wall:7.2f} s   "
          f"cpu {grid_cpu + vec_cpu:7.2f} s   (issue 15's target: <= 10 s)")
    print(f"scipy loop, {k} resamples:               wall {loop_wall:7.2f} s   cpu {loop_cpu:7.2f} s")
    print(f"scipy loop extrapolated to {args.resamples}:       wall {loop_wall * scale:7.1f} s   cpu {loop_cpu * scale:7.1f} s")
    print(f"speed ratio (loop / vectorised):       wall {loop_wall * scale / vec_wall:7.1f}x  cpu {loop_cpu * scale / vec_cpu:7.1f}x")
    print(f"median |rel. difference| loop vs vectorised on the shared resamples: {np.median(agree):.2e} "
          f"(90th pct {np.quantile(agree, 0.9):.2e})")
    fit = fit_law("chinchilla", (n, d), loss, variant=args.variant, n_bootstrap=0)
    samples = to_params(vec)
    lo, hi = np.nanquantile(samples, [0.025, 0.975], axis=0)
    sd = np.nanstd(samples, axis=0, ddof=1)
    for j, name in enumerate(PARAMS):
        print(f"  {name:6s} {fit.params[name]:12.5g}   95 % [{lo[j]:.5g}, {hi[j]:.5g}]   se {sd[j]:.3g}")


if __name__ == "__main__":
    main()
