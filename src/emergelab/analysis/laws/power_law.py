"""Power law with an offset, y = E + A x^(-alpha), for quantities that *fall* with scale.

Meant for losses and error rates (E is the irreducible floor, E >= 0). For a rising metric such as
accuracy, fit its complement (1 - accuracy) instead; alpha is not constrained, so a rising curve
fits with alpha < 0, but then E is a floor below a growing term and no longer an asymptote.

Fitted like Chinchilla, in log space: log y = LSE(a - alpha log(x / x0), e) with A = e^a x0^alpha,
E = e^e, Huber loss on the log residuals (delta = 1e-3 by default: relative errors, robust to odd
points), multi-start L-BFGS over a grid in (alpha, E / min y). x0, the geometric mean of x, keeps
a of order one whatever the units of x.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch

from emergelab.analysis.laws.base import LawBase, LawFit, register_law
from emergelab.analysis.laws.robust import (
    RobustProblem,
    bootstrap,
    bootstrap_weights,
    distinct_minima,
    huber_np,
    multistart,
)

PARAMS = ("E", "A", "alpha")


def predict(params: dict[str, float], x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return params["E"] + params["A"] * x ** (-params["alpha"])


def _forward(lx: torch.Tensor):
    def forward(theta: torch.Tensor):
        a, e, al = theta[:, 0:1], theta[:, 1:2], theta[:, 2:3]
        t1 = a - al * lx
        m = torch.maximum(t1, e)
        x1, x2 = torch.exp(t1 - m), torch.exp(e - m)
        tot = x1 + x2
        w1, w2 = x1 / tot, x2 / tot

        def vjp(g: torch.Tensor) -> torch.Tensor:
            g1 = g * w1
            return torch.stack([g1.sum(1), (g * w2).sum(1), -(g1 @ lx)], dim=1)

        return m + torch.log(tot), vjp

    return forward


def _starts(lx: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(a, e, alpha) starts: for each alpha and floor fraction, a from the mean of y - E."""
    rows = []
    for alpha, frac in itertools.product((0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2), (1e-3, 0.3, 0.6, 0.9, 0.99)):
        e0 = frac * y.min()
        a0 = np.log(np.mean(np.maximum(y - e0, 1e-3 * y.min()) * np.exp(alpha * lx)))
        rows.append((a0, np.log(e0), alpha))
    return np.array(rows)


@register_law("power_law")
class PowerLaw(LawBase):
    param_names = PARAMS
    formula = "y = E + A·x^(−alpha)"

    def fit(self, x: Any, y: np.ndarray, *, n_bootstrap: int, seed: int, delta: float = 1e-3,
            warm_starts: int = 2, **_: Any) -> LawFit:
        x = np.asarray(x, dtype=float).ravel()
        if x.shape != y.shape or len(x) < 3 or np.any(x <= 0) or np.any(y <= 0):
            raise ValueError("power_law needs >= 3 points with positive x and y of equal length")
        x0 = float(np.exp(np.mean(np.log(x))))
        lx = np.log(x / x0)
        t_lx = torch.as_tensor(lx)
        problem = RobustProblem(lambda th: _forward(t_lx)(th)[0], torch.as_tensor(np.log(y)), delta,
                                forward=_forward(t_lx))
        xs, fs = multistart(problem, _starts(lx, y))

        def to_params(theta: np.ndarray) -> np.ndarray:
            return np.stack([np.exp(theta[:, 1]), np.exp(theta[:, 0]) * x0 ** theta[:, 2], theta[:, 2]], axis=1)

        params = dict(zip(PARAMS, to_params(xs[:1])[0].tolist(), strict=True))
        pred = predict(params, x)
        r = np.log(pred) - np.log(y)
        gof = {
            "n": float(len(y)),
            "huber": float(huber_np(r, delta).sum()),
            "rmse_log": float(np.sqrt(np.mean(r * r))),
            "rmse": float(np.sqrt(np.mean((pred - y) ** 2))),
            "r2": float(1.0 - np.sum((pred - y) ** 2) / max(np.sum((y - y.mean()) ** 2), 1e-300)),
        }
        fit = LawFit(law=self.name, params=params, gof=gof, predictor=predict,
                     options={"delta": delta, "seed": seed})
        if n_bootstrap > 0:
            warm = distinct_minima(xs, fs, warm_starts)
            samples = to_params(bootstrap(problem, warm, bootstrap_weights(len(y), n_bootstrap, seed, len(PARAMS))))
            fit.add_bootstrap(PARAMS, samples, n_bootstrap)
        return fit
