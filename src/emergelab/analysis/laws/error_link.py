"""Downstream error from loss (Gadre et al. 2024, eq. 5; Du et al. 2024 use the same form):

    Err(L) = eps − k·exp(−gamma·L)

Error falls from near chance (eps, large L) towards eps − k·exp(−gamma·L) as loss drops; k > 0,
gamma > 0 make it rise with L. This is the second stage of a loss-based forecast: a loss law
predicts L at a larger scale, and this link turns that L into an error. The input is the loss
(1-D); y is the error (or any metric that falls as loss falls; orient accuracies as 1 − acc).

Fitted by least squares with variable projection: for a fixed gamma the law is linear in
(eps, k), so each gamma on a log grid gets its exact best (eps, k) in closed form, the best grid
gamma is refined by a parabola in log gamma, and the point estimate is polished by
Levenberg-Marquardt. The closed form makes the bootstrap one vectorised pass over
(resamples × grid), with no iterative fit per resample.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import optimize

from emergelab.analysis.laws.base import LawBase, LawFit, register_law
from emergelab.analysis.laws.robust import bootstrap_weights

PARAMS = ("eps", "k", "gamma")
GRID = np.logspace(-2, np.log10(50.0), 400)  # gamma × (range of L): from nearly linear to a step


def predict(params: dict[str, float], x: Any) -> np.ndarray:
    return params["eps"] - params["k"] * np.exp(-params["gamma"] * np.asarray(x, dtype=float))


def _projected(u: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares of y ≈ c0 − c1·u for every (resample, gamma): u (G, n), w (R, n).
    Returns c0, c1 and the residual sum of squares, each (R, G)."""
    return _solve(w.sum(1)[:, None], w @ u.T, w @ (u * u).T, (w @ y)[:, None], (w @ (y * y))[:, None],
                  w @ (u * y).T)


def _projected_rows(u: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_projected` with one u row per resample: u (R, n); each result is (R,)."""
    return _solve(w.sum(1), (w * u).sum(1), (w * u * u).sum(1), w @ y, w @ (y * y), (w * u * y).sum(1))


def _solve(s0, su, suu, sy, syy, suy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 2 × 2 normal equations of y ≈ c0 + slope·u from their weighted sums."""
    det = s0 * suu - su * su
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (s0 * suy - su * sy) / det  # of y on u: −c1
        c0 = (sy - slope * su) / s0
        rss = syy - c0 * sy - slope * suy
    rss = np.where(det > 1e-12 * s0 * suu, rss, np.inf)
    return c0, -slope, rss


def _grid_fit(loss: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(R, 3) rows of (eps, k, gamma), one per weight row, from the grid and a parabola refinement."""
    lmin, span = float(loss.min()), float(np.ptp(loss)) or 1.0
    lg = np.log(GRID)
    u = np.exp(-np.outer(GRID, (loss - lmin) / span))  # (G, n), shifted so nothing underflows
    _, _, rss = _projected(u, y, w)
    best = np.clip(np.argmin(rss, axis=1), 1, len(GRID) - 2)
    r = np.arange(len(w))
    f0, f1, f2 = rss[r, best - 1], rss[r, best], rss[r, best + 1]
    h = lg[1] - lg[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        step = 0.5 * h * (f0 - f2) / (f0 - 2 * f1 + f2)
    step = np.where(np.isfinite(step), np.clip(step, -h, h), 0.0)
    g = np.exp(lg[best] + step)  # gamma × span
    u_best = np.exp(-g[:, None] * (loss - lmin)[None] / span)
    eps, k_shift, rss_best = _projected_rows(u_best, y, w)
    out = np.stack([eps, k_shift * np.exp(g * lmin / span), g / span], axis=1)
    out[~np.isfinite(rss_best)] = np.nan
    return out


@register_law("error_link")
class ErrorLink(LawBase):
    param_names = PARAMS
    inputs = ("L",)
    formula = "Err = eps − k·exp(−gamma·L) (Gadre et al. 2024)"

    def fit(self, x: Any, y: np.ndarray, *, n_bootstrap: int, seed: int, **_: Any) -> LawFit:
        loss = np.asarray(x, dtype=float).ravel()
        if loss.shape != y.shape or len(loss) < 3 or not np.all(np.isfinite(loss) & np.isfinite(y)):
            raise ValueError("error_link needs >= 3 finite (loss, error) pairs")
        if np.ptp(loss) <= 0:
            raise ValueError("error_link needs at least two different losses")
        start = _grid_fit(loss, y, np.ones((1, len(y))))[0]
        notes = []
        gamma_span = start[2] * np.ptp(loss)
        if not np.isfinite(start).all():
            raise ValueError("error_link: the errors cannot be fitted (all equal?)")
        if gamma_span < GRID[1] or gamma_span > GRID[-2]:
            notes.append(f"error_link: gamma·(range of L) = {gamma_span:.3g} sits at the edge of its range "
                         "(a near-linear or step-like link); the parameters are weakly identified")
            warnings.warn(notes[-1], RuntimeWarning, stacklevel=3)
        theta = optimize.least_squares(lambda t: t[0] - t[1] * np.exp(-t[2] * loss) - y, start, method="lm").x
        if not np.all(np.isfinite(theta)) or np.sum((predict(dict(zip(PARAMS, theta, strict=True)), loss) - y) ** 2) \
                > np.sum((predict(dict(zip(PARAMS, start, strict=True)), loss) - y) ** 2):
            theta = start  # the polish only ever improves on the exact grid answer
        params = dict(zip(PARAMS, (float(v) for v in theta), strict=True))
        pred = predict(params, loss)
        gof = {
            "n": float(len(y)),
            "rmse": float(np.sqrt(np.mean((pred - y) ** 2))),
            "r2": float(1.0 - np.sum((pred - y) ** 2) / max(np.sum((y - y.mean()) ** 2), 1e-300)),
        }
        fit = LawFit(law=self.name, params=params, gof=gof, predictor=predict, options={"seed": seed}, notes=notes)
        if n_bootstrap > 0:
            w = bootstrap_weights(len(y), n_bootstrap, seed, len(PARAMS))
            fit.add_bootstrap(PARAMS, _grid_fit(loss, y, w), n_bootstrap)
        return fit
