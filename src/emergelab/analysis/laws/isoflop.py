"""IsoFLOP profiles (Hoffmann et al. 2022, approach 2): the compute-optimal N*(C) and D*(C).

Per compute budget C, loss is fitted by a parabola in log N; its vertex is the loss-optimal model
size N*(C), and D*(C) = C / (6 N*). Then log N* = log N0 + a log C and log D* = log D0 + b log C by
least squares (b = 1 - a follows from D* = C / 6N*, so b is reported, not fitted). Input x: (N, D), (N, C) with
`given="C"`, or an (n, 2) array; budgets are grouped by C rounded to 3 significant digits in
log10, so digitised or 6ND-rounded budgets still group.

Bootstrap: points are resampled *within* each budget (a stratified bootstrap), so every resample
still has every budget and each parabola stays identifiable. Resamples are weights, and weighted
least squares for all of them is one batched linear solve.
`predict(C)` returns N*(C).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emergelab.analysis.laws.base import LawBase, LawFit, register_law, split_pair

PARAMS = ("a", "N0", "b", "D0")


def predict(params: dict[str, float], c: Any) -> np.ndarray:
    return params["N0"] * np.asarray(c, dtype=float) ** params["a"]


def _n_and_c(x: Any, given: str) -> tuple[np.ndarray, np.ndarray]:
    n, second = split_pair(x, "isoflop")
    return n, (second if given == "C" else 6.0 * n * second)


def _groups(c: np.ndarray) -> list[np.ndarray]:
    key = np.round(np.log10(c), 3)
    return [np.flatnonzero(key == k) for k in np.unique(key)]


def _vertices(ln: np.ndarray, loss: np.ndarray, groups: list[np.ndarray], w: np.ndarray) -> np.ndarray:
    """log N* per (resample, budget) from weighted parabola fits; NaN where not convex."""
    out = np.full((w.shape[0], len(groups)), np.nan)
    for j, idx in enumerate(groups):
        u = ln[idx] - ln[idx].mean()
        X = np.stack([u * u, u, np.ones_like(u)], axis=1)  # (m, 3)
        wg = w[:, idx]  # (R, m)
        xtwx = np.einsum("rm,mi,mj->rij", wg, X, X)
        xtwy = np.einsum("rm,mi,m->ri", wg, X, loss[idx])
        ok = np.linalg.matrix_rank(xtwx) == 3
        coef = np.full((w.shape[0], 3), np.nan)
        coef[ok] = np.linalg.solve(xtwx[ok], xtwy[ok][..., None])[..., 0]
        convex = coef[:, 0] > 0
        out[convex, j] = ln[idx].mean() - coef[convex, 1] / (2 * coef[convex, 0])
    return out


def _power(lc: np.ndarray, lv: np.ndarray) -> np.ndarray:
    """Per row: (slope, intercept) of lv against lc over finite budgets."""
    res = np.full((lv.shape[0], 2), np.nan)
    for r, row in enumerate(lv):
        ok = np.isfinite(row)
        if ok.sum() >= 2:
            res[r] = np.polyfit(lc[ok], row[ok], 1)
    return res


@register_law("isoflop")
class IsoFlop(LawBase):
    param_names = PARAMS
    inputs = ("N", "D")
    formula = "N*(C) = N0·C^a, D*(C) = D0·C^b (N* = the loss-optimal N of each budget C = 6ND)"

    @property
    def predict_inputs(self) -> tuple[str, ...]:
        return ("C",)

    def spare_dof(self, x: Any, y: np.ndarray, given: str = "D", **_: Any) -> int:
        """Each budget's parabola uses 3 points' worth, the line through the vertices 2 budgets'."""
        n, c = _n_and_c(x, given)
        groups = [g for g in _groups(c) if len(g) >= 3]
        if len(groups) < 2:
            raise ValueError("isoflop needs >= 2 compute budgets with >= 3 points each")
        return min(sum(len(g) - 3 for g in groups), len(groups) - 2)

    def fit(self, x: Any, y: np.ndarray, *, n_bootstrap: int, seed: int, given: str = "D",
            **_: Any) -> LawFit:
        n, c = _n_and_c(x, given)
        if n.shape != y.shape:
            raise ValueError("isoflop needs one loss per (N, D) point")
        groups = [g for g in _groups(c) if len(g) >= 3]
        if len(groups) < 2:
            raise ValueError("isoflop needs >= 2 compute budgets with >= 3 points each")
        ln = np.log(n)
        lc = np.array([np.log(c[g]).mean() for g in groups])

        def estimate(w: np.ndarray) -> np.ndarray:
            lnstar = _vertices(ln, y, groups, w)
            pn = _power(lc, lnstar)
            pd = _power(lc, lc[None] - np.log(6.0) - lnstar)
            return np.stack([pn[:, 0], np.exp(pn[:, 1]), pd[:, 0], np.exp(pd[:, 1])], axis=1)

        est = estimate(np.ones((1, len(y))))[0]
        params = dict(zip(PARAMS, est.tolist(), strict=True))
        lnstar = _vertices(ln, y, groups, np.ones((1, len(y))))[0]
        ok = np.isfinite(lnstar)
        resid = lnstar[ok] - np.log(predict(params, np.exp(lc[ok])))
        gof = {
            "budgets": float(len(groups)),
            "budgets_convex": float(ok.sum()),
            "rmse_log_nstar": float(np.sqrt(np.mean(resid**2))) if ok.any() else float("nan"),
            "r2_log_nstar": float(1 - np.sum(resid**2) / max(np.sum((lnstar[ok] - lnstar[ok].mean()) ** 2), 1e-300)),
        }
        fit = LawFit(law=self.name, params=params, gof=gof, predictor=predict, options={"seed": seed})
        if n_bootstrap > 0:
            rng = np.random.default_rng(seed)
            w = np.zeros((n_bootstrap, len(y)))
            for g in groups:
                w[:, g] = rng.multinomial(len(g), np.full(len(g), 1.0 / len(g)), size=n_bootstrap)
            samples = estimate(w)
            fit.add_bootstrap(PARAMS, samples, n_bootstrap)
        return fit
