"""Smoothly broken power law with one break (Caballero et al. 2022, "Broken Neural Scaling Laws"):

    y = a + b x^(-c0) (1 + (x / d1)^(1 / f1))^(-c1 f1)

Below the break d1 the curve is a power law with exponent c0, above it with c0 + c1; f1 sets how
sharp the bend is (small f1: a kink). That makes it the law for curves with a sharp transition,
e.g. an ability that appears: pass the metric as is (b and the exponents may have either sign).

Fitted on y scaled by its standard deviation with a Huber loss (delta = 0.1 by default), over a
grid of breaks spread across the observed x range, widths and exponents; a and b start from the
linear least-squares solution at each grid point (y is linear in them). Internally x is divided
by its geometric mean x0, so b = b~ x0^c0 and d1 = d~1 x0 in the reported units.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from emergelab.analysis.laws.base import LawBase, LawFit, register_law
from emergelab.analysis.laws.robust import (
    RobustProblem,
    bootstrap,
    bootstrap_weights,
    distinct_minima,
    multistart,
)

PARAMS = ("a", "b", "c0", "c1", "d1", "f1")


def predict(params: dict[str, float], x: Any) -> np.ndarray:
    lx = np.log(np.asarray(x, dtype=float))
    f1 = params["f1"]
    bend = f1 * np.logaddexp(0.0, (lx - np.log(params["d1"])) / f1)
    return params["a"] + params["b"] * np.exp(-params["c0"] * lx - params["c1"] * bend)


def _model(lx: torch.Tensor):
    def pred(theta: torch.Tensor) -> torch.Tensor:
        a, b, c0, c1, ld, lf = (theta[:, i : i + 1] for i in range(6))
        f1 = torch.exp(lf)
        return a + b * torch.exp(-c0 * lx - c1 * f1 * F.softplus((lx - ld) / f1))

    return pred


@register_law("broken_power_law")
class BrokenPowerLaw(LawBase):
    param_names = PARAMS
    formula = "y = a + b·x^(−c0)·(1 + (x/d1)^(1/f1))^(−c1·f1)"

    def fit(self, x: Any, y: np.ndarray, *, n_bootstrap: int, seed: int, delta: float = 0.1,
            warm_starts: int = 2, **_: Any) -> LawFit:
        x = np.asarray(x, dtype=float).ravel()
        if x.shape != y.shape or len(x) < 6 or np.any(x <= 0):
            raise ValueError("broken_power_law needs >= 6 points with positive x")
        x0 = float(np.exp(np.mean(np.log(x))))
        lx = np.log(x / x0)
        scale = float(np.std(y)) or 1.0
        ys = y / scale
        t_lx = torch.as_tensor(lx)
        problem = RobustProblem(_model(t_lx), torch.as_tensor(ys), delta)
        starts = []
        for ld, f1, c0, c1 in itertools.product(np.linspace(lx.min(), lx.max(), 9), (0.05, 0.2, 0.6),
                                                (0.0, 0.5), (-3.0, -1.0, 1.0, 3.0)):
            basis = np.exp(-c0 * lx - c1 * f1 * np.logaddexp(0.0, (lx - ld) / f1))
            (a0, b0), *_ = np.linalg.lstsq(np.stack([np.ones_like(lx), basis], 1), ys, rcond=None)
            starts.append((a0, b0, c0, c1, ld, np.log(f1)))
        xs, fs = multistart(problem, np.array(starts))

        def to_params(th: np.ndarray) -> np.ndarray:
            return np.stack([th[:, 0] * scale, th[:, 1] * scale * x0 ** th[:, 2], th[:, 2], th[:, 3],
                             np.exp(th[:, 4]) * x0, np.exp(th[:, 5])], axis=1)

        params = dict(zip(PARAMS, to_params(xs[:1])[0].tolist(), strict=True))
        pred = predict(params, x)
        gof = {
            "n": float(len(y)),
            "rmse": float(np.sqrt(np.mean((pred - y) ** 2))),
            "r2": float(1.0 - np.sum((pred - y) ** 2) / max(np.sum((y - y.mean()) ** 2), 1e-300)),
            "huber": float(fs[0]),
        }
        fit = LawFit(law=self.name, params=params, gof=gof, predictor=predict, options={"delta": delta, "seed": seed})
        if n_bootstrap > 0:
            warm = distinct_minima(xs, fs, warm_starts)
            samples = to_params(bootstrap(problem, warm, bootstrap_weights(len(y), n_bootstrap, seed, len(PARAMS))))
            fit.add_bootstrap(PARAMS, samples, n_bootstrap)
        return fit
