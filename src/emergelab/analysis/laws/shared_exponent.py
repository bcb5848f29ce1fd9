"""Loss with one shared exponent for model size and data (Gadre et al. 2024, "Language models scale
reliably with over-training and on downstream tasks", eq. 3-4):

    L(N, M) = E + a·N^eta + b·(M·N)^eta,   M = D / N (tokens per parameter), eta < 0

M·N is D, so this is Chinchilla's L(N, D) with alpha = beta = −eta. Gadre et al. impose the shared
exponent because it makes the over-training ratio M a clean knob: at fixed M, loss is a power law
in compute with the same exponent whatever M is, which is what lets small, over-trained runs
predict large ones. Inputs are (N, D), like every two-variable law here.

Fitted like Chinchilla (log L = LSE(a' + eta log N, b' + eta log D, e), Huber delta = 1e-3 on the
log residuals, multi-start L-BFGS over a grid, bootstrap warm-started from the distinct minima).
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
    bootstrap_weights,
    distinct_minima,
    huber_np,
    multistart,
)

PARAMS = ("a", "b", "eta", "E")


def predict(params: dict[str, float], x: Any) -> np.ndarray:
    n, d = split_pair(x, "shared_exponent")
    return params["E"] + params["a"] * n ** params["eta"] + params["b"] * d ** params["eta"]


def _log_forward(log_n: torch.Tensor, log_d: torch.Tensor):
    """log L for theta = (a', b', e, h) with a = e^a', b = e^b', E = e^e, eta = −h, and its
    vector-Jacobian product (softmax weights of the three terms, as in chinchilla.py)."""

    def forward(theta: torch.Tensor):
        a, b, e, h = (theta[:, i : i + 1] for i in range(4))
        t1, t2 = a - h * log_n, b - h * log_d
        m = torch.maximum(torch.maximum(t1, t2), e)
        x1, x2, x3 = torch.exp(t1 - m), torch.exp(t2 - m), torch.exp(e - m)
        tot = x1 + x2 + x3
        w1, w2, w3 = x1 / tot, x2 / tot, x3 / tot

        def vjp(g: torch.Tensor) -> torch.Tensor:
            g1, g2 = g * w1, g * w2
            return torch.stack([g1.sum(1), g2.sum(1), (g * w3).sum(1), -(g1 @ log_n) - (g2 @ log_d)], dim=1)

        return m + torch.log(tot), vjp

    return forward


def _grid() -> np.ndarray:
    """Hoffmann et al.'s grid with one exponent: a', b' in {0, 5, ..., 25}, e in {-1, ..., 1}, h in {0, ..., 2}."""
    ab = np.arange(0.0, 30.0, 5.0)
    return np.array(list(itertools.product(ab, ab, np.arange(-1.0, 1.5, 0.5), np.arange(0.0, 2.5, 0.5))))


def _to_params(theta: np.ndarray) -> np.ndarray:
    return np.stack([np.exp(theta[:, 0]), np.exp(theta[:, 1]), -theta[:, 3], np.exp(theta[:, 2])], axis=1)


@register_law("shared_exponent")
class SharedExponent(LawBase):
    param_names = PARAMS
    inputs = ("N", "D")
    formula = "L = E + a·N^eta + b·(M·N)^eta, M = D/N (Gadre et al. 2024)"

    def fit(self, x: Any, y: np.ndarray, *, n_bootstrap: int, seed: int, delta: float = 1e-3,
            warm_starts: int = 2, **_: Any) -> LawFit:
        n, d = split_pair(x, self.name)
        if y.shape != n.shape or np.any(~(y > 0)) or not np.all(np.isfinite(y)):
            raise ValueError("shared_exponent needs one positive, finite loss per (N, D)")
        log_n, log_d = torch.as_tensor(np.log(n)), torch.as_tensor(np.log(d))
        forward = _log_forward(log_n, log_d)
        problem = RobustProblem(lambda th: forward(th)[0], torch.as_tensor(np.log(y)), delta, forward=forward)
        xs, fs = multistart(problem, _grid())
        params = dict(zip(PARAMS, _to_params(xs[:1])[0].tolist(), strict=True))
        pred = predict(params, (n, d))
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
            weights = bootstrap_weights(len(y), n_bootstrap, seed, len(PARAMS))
            fit.add_bootstrap(PARAMS, _to_params(bootstrap(problem, warm, weights)), n_bootstrap)
        return fit
