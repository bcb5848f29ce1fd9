"""Chinchilla's parametric loss L(N, D) = E + A / N^alpha + B / D^beta (Hoffmann et al. 2022, approach 3).

Fitted, as in the paper and its replication (Besiroglu et al. 2024), in log space as
log L = LSE(a - alpha log N, b - beta log D, e) with A = e^a, B = e^b, E = e^e: the log-sum-exp
keeps A, B, E positive without bounds and makes the residuals relative errors. Huber delta = 1e-3
and the paper's grid of 4500 initialisations; every start runs at once (`minimize_batched`).

Bootstrap: each resample starts from the K best *distinct* minima the full-data grid found,
instead of the whole grid again. Why this is safe: a resample reweights the same points, so its
optimum moves continuously away from a full-data basin; the grid's job — finding basins at all —
is done once. `benchmarks/fit_bootstrap.py` checks the warm-started fits against full-grid fits.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch

from emergelab.analysis.laws.base import LawBase, LawFit, register_law, split_pair
from emergelab.analysis.laws.robust import (
    RobustProblem,
    bootstrap,
    bootstrap_continuation,
    bootstrap_weights,
    distinct_minima,
    huber_np,
    multistart,
)

PARAMS = ("A", "B", "E", "alpha", "beta")


def hoffmann_grid() -> np.ndarray:
    """(4500, 5) starts in (a, b, e, alpha, beta): a, b in {0, 5, ..., 25}, e in {-1, -.5, ..., 1},
    alpha, beta in {0, .5, ..., 2}."""
    ab = np.arange(0.0, 30.0, 5.0)
    e = np.arange(-1.0, 1.5, 0.5)
    ex = np.arange(0.0, 2.5, 0.5)
    return np.array(list(itertools.product(ab, ab, e, ex, ex)), dtype=float)


def predict(params: dict[str, float], x: Any) -> np.ndarray:
    n, d = split_pair(x, "chinchilla")
    return params["E"] + params["A"] / n ** params["alpha"] + params["B"] / d ** params["beta"]


def _log_model(log_n: torch.Tensor, log_d: torch.Tensor):
    def log_pred(theta: torch.Tensor) -> torch.Tensor:
        a, b, e, al, be = (theta[:, i : i + 1] for i in range(5))
        terms = torch.stack([a - al * log_n, b - be * log_d, e.expand(-1, log_n.shape[0])])
        return torch.logsumexp(terms, dim=0)

    return log_pred


def _log_forward(log_n: torch.Tensor, log_d: torch.Tensor):
    """Log prediction and its vector-Jacobian product: d log L / d(a, b, e) are the softmax
    weights of the three terms, d / d(alpha, beta) are -weight * log N, -weight * log D."""

    def forward(theta: torch.Tensor):
        a, b, e, al, be = (theta[:, i : i + 1] for i in range(5))
        t1, t2 = a - al * log_n, b - be * log_d
        m = torch.maximum(torch.maximum(t1, t2), e)
        x1, x2, x3 = torch.exp(t1 - m), torch.exp(t2 - m), torch.exp(e - m)
        tot = x1 + x2 + x3
        pred = m + torch.log(tot)
        w1, w2, w3 = x1 / tot, x2 / tot, x3 / tot

        def vjp(g: torch.Tensor) -> torch.Tensor:
            g1, g2 = g * w1, g * w2
            return torch.stack([g1.sum(1), g2.sum(1), (g * w3).sum(1), -(g1 @ log_n), -(g2 @ log_d)], dim=1)

        return pred, vjp

    return forward


def to_params(theta: np.ndarray) -> np.ndarray:
    """Rows of (a, b, e, alpha, beta) to (A, B, E, alpha, beta)."""
    out = theta.copy()
    out[:, :3] = np.exp(theta[:, :3])
    return out


@register_law("chinchilla")
class Chinchilla(LawBase):
    param_names = PARAMS
    inputs = ("N", "D")
    formula = "L = E + A/N^alpha + B/D^beta"

    def fit(self, x: Any, y: np.ndarray, *, n_bootstrap: int, seed: int, variant: str = "huber_sum",
            delta: float = 1e-3, warm_starts: int = 2, **_: Any) -> LawFit:
        n, d = split_pair(x, self.name)
        if y.shape != n.shape or np.any(y <= 0) or not np.all(np.isfinite(y)):
            raise ValueError("chinchilla needs one positive, finite loss per (N, D)")
        log_n, log_d = torch.as_tensor(np.log(n)), torch.as_tensor(np.log(d))
        problem = RobustProblem(_log_model(log_n, log_d), torch.as_tensor(np.log(y)), delta, variant,
                                forward=_log_forward(log_n, log_d))
        starts = hoffmann_grid()
        xs, fs = multistart(problem, starts)
        theta = xs[0]
        params = dict(zip(PARAMS, to_params(theta[None])[0].tolist(), strict=True))
        if problem.likelihood:
            params["sigma"] = problem.scale(theta)

        r = np.log(predict(params, (n, d))) - np.log(y)
        pred = predict(params, (n, d))
        gof = {
            "n": float(len(y)),
            "huber": float(huber_np(r, delta).sum()),
            "objective": float(fs[0]),
            "rmse_log": float(np.sqrt(np.mean(r * r))),
            "mae_log": float(np.mean(np.abs(r))),
            "rmse": float(np.sqrt(np.mean((pred - y) ** 2))),
            "r2": float(1.0 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2)),
        }
        fit = LawFit(law=self.name, params=params, gof=gof, predictor=predict,
                     options={"variant": variant, "delta": delta, "warm_starts": warm_starts, "seed": seed})
        if n_bootstrap > 0:
            warm = distinct_minima(xs, fs, warm_starts)
            weights = bootstrap_weights(len(y), n_bootstrap, seed, len(PARAMS))
            run = bootstrap_continuation if problem.likelihood else bootstrap
            thetas = run(problem, warm, weights)
            samples = to_params(thetas)
            fit.add_bootstrap(PARAMS, samples, n_bootstrap)
            fit.gof["bootstrap_failed"] = float(np.sum(~np.all(np.isfinite(samples), axis=1)))
        return fit
