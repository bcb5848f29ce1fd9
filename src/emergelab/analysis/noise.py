"""Per-point noise of a curve: example sampling, seed scatter and heterogeneity between models.

Why a model and not a stderr column: a point of a scaling curve is one or a few trained models
scored on a finite test set, and each source of variation moves it. The variance of point i is

    var_i = v_i + τ² · g_i / m_i

* v_i — sampling variance of the mean over test examples: from per-example scores (within-seed
  variance), else the reported stderr, else binomial at the example count n with the Jeffreys
  smoothing p̃ = (k + ½)/(n + 1), so 0/n and n/n are ordinary points with a non-zero error
  (Brown, Cai & DasGupta 2001, "Interval estimation for a binomial proportion").
* τ² — variance of a model's true score around the smooth trend: seed to seed, or model to model
  at one size (other data, recipe, family). For rates it lives on the logit scale (a seed shifts
  the log-odds, so it vanishes at 0 and 1) and g_i = (p̃_i(1 − p̃_i))² maps it to the rate's scale
  (delta method); for other metrics g_i = 1. m_i is the number of independent models averaged in
  the point (seeds pooled into one point; 1 for a single imported model).

τ² is a pooled method-of-moments estimate from replicates: the seeds inside each point (S_i − 1
degrees of freedom) and the points at one size (models, or seeds imported as models: m − 1 per
size), pooled over all sizes — two seeds per size give one degree of freedom per size but eight
over eight sizes. Without replicates the verdict estimates τ² from the residuals of the trend
through the small models (`residual_tau2`). The degrees of freedom travel with τ², so tests use a
Satterthwaite F reference (`satterthwaite_dof`) instead of treating an estimate as known.

Whatever had to be imputed (a missing or zero stderr, a point with no noise information) is listed
in `notices` and raised as a warning by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats

from emergelab.analysis.curve import Curve

SIZE_TOL = 0.02  # log10 units: models within ~5 % of each other's size share one scale


@dataclass(frozen=True)
class NoiseModel:
    """Variance components per point (see module doc); `var`/`se` are what the tests use."""

    sampling_var: np.ndarray
    g: np.ndarray
    n_units: np.ndarray
    rate: bool
    tau2: float = 0.0
    tau2_dof: float = 0.0
    tau2_source: str = "none"
    notices: list[str] = field(default_factory=list)
    unknown: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    smoothed: np.ndarray = field(default_factory=lambda: np.zeros(0))  # Jeffreys p̃ (rates) or y

    @property
    def var(self) -> np.ndarray:
        return self.sampling_var + self.tau2 * self.g / self.n_units

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(self.var)

    def with_tau2(self, tau2: float, dof: float, source: str) -> NoiseModel:
        return replace(self, tau2=max(float(tau2), 0.0), tau2_dof=float(dof), tau2_source=source)


def size_groups(x: np.ndarray) -> np.ndarray:
    """Group id per point (x sorted): consecutive sizes within SIZE_TOL decades share a group."""
    lx = np.log10(np.asarray(x, dtype=float))
    return np.concatenate([[0], np.cumsum(np.diff(lx) > SIZE_TOL)]).astype(int)


def is_rate(curve: Curve) -> bool:
    y = curve.y[np.isfinite(curve.y)]
    return bool(y.size) and bool(np.all((y >= 0.0) & (y <= 1.0)))


def jeffreys_p(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    return (np.clip(np.asarray(p, dtype=float), 0.0, 1.0) * n + 0.5) / (n + 1.0)


def jeffreys_interval(p: np.ndarray, n: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Jeffreys interval of a proportion p = k/n: Beta(k + ½, n − k + ½) quantiles; at k = 0 the
    lower end is 0 and at k = n the upper end is 1 (Brown, Cai & DasGupta 2001, §4.1.2)."""
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    k = np.clip(np.asarray(p, dtype=float), 0.0, 1.0) * n
    a = (1.0 - level) / 2.0
    lo = np.where(k <= 0, 0.0, stats.beta.ppf(a, k + 0.5, n - k + 0.5))
    hi = np.where(k >= n, 1.0, stats.beta.ppf(1.0 - a, k + 0.5, n - k + 0.5))
    return lo, hi


def _logit_var_factor(p: np.ndarray) -> np.ndarray:
    """g = (p(1 − p))²: logit-scale variance × g = rate-scale variance (delta method)."""
    return (p * (1.0 - p)) ** 2


def _from_samples(s: np.ndarray, rate: bool) -> tuple[float, int, float, float, float]:
    """(sampling var of the point mean, seeds S, observed link variance between seeds, expected
    link variance from sampling alone, examples in total) of a (seeds, examples) score array."""
    a = np.atleast_2d(np.asarray(s, dtype=float))
    n_ex = np.sum(np.isfinite(a), axis=1)
    keep = n_ex > 0
    a, n_ex = a[keep], n_ex[keep]
    n_seeds = a.shape[0]
    if n_seeds == 0:
        return np.nan, 0, np.nan, np.nan, 0.0
    means = np.nanmean(a, axis=1)
    dev = np.where(np.isfinite(a), a - means[:, None], 0.0)
    within = (dev**2).sum(axis=1) / np.maximum(n_ex - 1, 1)
    v = float(np.sum(within / n_ex)) / n_seeds**2
    observed = expected = np.nan
    if rate:
        pt = jeffreys_p(means, n_ex)
        v = max(v, float(np.mean(pt * (1 - pt) / n_ex)) / n_seeds)  # never below binomial
        if n_seeds > 1:
            observed = float(np.var(np.log(pt / (1 - pt)), ddof=1))
            expected = float(np.mean(1.0 / (n_ex * pt * (1 - pt))))
    elif n_seeds > 1:
        observed, expected = float(np.var(means, ddof=1)), float(np.mean(within / n_ex))
    return v, n_seeds, observed, expected, float(n_ex.sum())


def pool_tau2(dof: np.ndarray, observed: np.ndarray, expected: np.ndarray, scale: np.ndarray) -> tuple[float, float]:
    """Pooled maximum-likelihood estimate of τ² from replicate groups. Group i has `dof` degrees of
    freedom and an observed link variance, distributed as σ²_i·χ²_dof/dof with σ²_i = expected_i
    (sampling alone) + τ²/scale_i (each unit averages `scale` models). ML weights each group by its
    information, so a floor point whose logit scatter is all sampling noise does not swamp the
    informative ones. Returns (τ², effective dof = Satterthwaite's (Σw·d)²/Σw²·d, w = 1/σ⁴)."""
    dof, observed, expected, scale = (np.asarray(a, dtype=float) for a in (dof, observed, expected, scale))
    ok = (dof > 0) & np.isfinite(observed) & np.isfinite(expected)
    if not ok.any():
        return 0.0, 0.0
    dof, observed, expected, scale = dof[ok], observed[ok], expected[ok], scale[ok]
    grid = np.concatenate([[0.0], np.logspace(-4, 1.5, 300)])
    tiny = 1e-12 * max(float(np.max(observed)), float(np.max(expected)), 1e-300)  # a group with no spread at all
    sig = np.maximum(expected[None, :] + grid[:, None] / scale[None, :], tiny)
    loglik = -0.5 * np.sum(dof * (np.log(sig) + observed / sig), axis=1)
    tau2 = float(grid[int(np.argmax(loglik))])
    w = 1.0 / np.maximum(expected + tau2 / scale, tiny) ** 2
    return tau2, float(np.sum(w * dof) ** 2 / np.sum(w**2 * dof))


def estimate_noise(curve: Curve) -> NoiseModel:
    """The noise model of `curve` from its own evidence (module doc); imputations in `notices`."""
    k = len(curve)
    rate = is_rate(curve)
    v = np.full(k, np.nan)
    m = np.ones(k)
    n_tot = np.where(np.isfinite(curve.n) & (curve.n > 0), curve.n, np.nan)
    seed_groups: list[tuple[float, float, float, float]] = []  # (dof, observed, expected, scale)
    notices: list[str] = []
    imputed_zero: list[int] = []
    for i in range(k):
        if curve.samples is not None and curve.samples[i] is not None:
            v[i], s, observed, expected, n_i = _from_samples(curve.samples[i], rate)
            m[i], n_tot[i] = max(s, 1), n_i
            if s > 1:
                seed_groups.append((s - 1, observed, expected, 1.0))
        elif curve.stderr is not None and np.isfinite(curve.stderr[i]) and curve.stderr[i] > 0:
            v[i] = curve.stderr[i] ** 2
        elif rate and np.isfinite(n_tot[i]):
            if curve.stderr is not None and np.isfinite(curve.stderr[i]):
                imputed_zero.append(i)
            v[i] = np.nan  # binomial below
        elif np.isfinite(curve.lo[i]) and np.isfinite(curve.hi[i]) and curve.hi[i] > curve.lo[i]:
            v[i] = ((curve.hi[i] - curve.lo[i]) / (2.0 * 1.959964)) ** 2
    y = curve.y
    binom = rate & np.isnan(v) & np.isfinite(n_tot)
    if binom.any():
        pt = jeffreys_p(y[binom], n_tot[binom])
        v[binom] = pt * (1 - pt) / n_tot[binom]
        given_stderr = curve.stderr is not None
        if imputed_zero:
            notices.append(f"stderr 0 at {_names(curve, imputed_zero)} replaced by the Jeffreys binomial "
                           "error at n (a rate at 0/n or n/n is not exact)")
        missing = [i for i in np.flatnonzero(binom) if i not in imputed_zero]
        if given_stderr and missing:
            notices.append(f"no stderr at {_names(curve, missing)}: binomial error at n_examples used")
    if not rate and curve.samples is not None:
        # a point whose examples all score the same has a sample variance of 0; a mean over n
        # examples cannot be resolved finer than one example's worth of the curve's range
        spread = float(np.nanmax(y) - np.nanmin(y)) if k else 0.0
        floor_v = (spread / (2.0 * np.maximum(n_tot, 1.0))) ** 2
        v = np.where(np.isfinite(floor_v), np.fmax(v, floor_v), v)
    unknown = ~np.isfinite(v)
    if unknown.any() and (~unknown).any():
        if rate:
            n_eff = np.nanmedian(np.where(unknown, np.nan, jeffreys_p(y, 1e6) * (1 - jeffreys_p(y, 1e6)) / v))
            pt = jeffreys_p(y[unknown], n_eff)
            v[unknown] = pt * (1 - pt) / n_eff
            how = f"the binomial error at the other points' median n ≈ {n_eff:.0f}"
        else:
            v[unknown] = float(np.nanmedian(v[~unknown]))
            how = "the other points' median error"
        notices.append(f"no stderr, n or samples at {_names(curve, np.flatnonzero(unknown))}: imputed from {how}")
    elif unknown.any():
        v[:] = 0.0  # nothing known anywhere: all noise must come from τ² (replicates or residuals)
        notices.append("no point has a stderr, n or samples: the noise is estimated from the scatter "
                       "between models (replicates or residuals) alone")
    pt = jeffreys_p(y, np.where(np.isfinite(n_tot), n_tot, 1e6)) if rate else y
    g = _logit_var_factor(pt) if rate else np.ones(k)
    nm = NoiseModel(sampling_var=v, g=g, n_units=m, rate=rate, notices=notices, unknown=unknown, smoothed=pt)
    rep_groups = _replicate_groups(curve.x, y, nm)
    both = seed_groups + rep_groups
    if both:
        tau2, dof = pool_tau2(*np.array(both).T)
        if dof > 0:
            src = " and ".join(s for s, g in (("seeds", seed_groups), ("models at the same size", rep_groups)) if g)
            nm = nm.with_tau2(tau2, dof, src)
    return nm


def _replicate_groups(x: np.ndarray, y: np.ndarray, nm: NoiseModel) -> list[tuple[float, float, float, float]]:
    """(dof, observed link variance, expected sampling part, models per point) of every size with
    several points: the between-model part of the pooled τ² estimate."""
    groups = size_groups(x)
    out = []
    for gid in np.unique(groups):
        idx = np.flatnonzero(groups == gid)
        if idx.size < 2:
            continue
        if nm.rate:
            pt = nm.smoothed[idx]
            link, sampling = np.log(pt / (1 - pt)), nm.sampling_var[idx] / nm.g[idx]
        else:
            link, sampling = y[idx], nm.sampling_var[idx]
        out.append((idx.size - 1, float(np.var(link, ddof=1)), float(np.mean(sampling)),
                    float(np.mean(nm.n_units[idx]))))
    return out


def residual_tau2(resid: np.ndarray, nm: NoiseModel, idx: np.ndarray, n_params: int) -> tuple[float, float]:
    """Moment estimate of τ² from residuals r of a fit with `n_params` parameters at points idx:
    E[r_i²] ≈ (v_i + τ²g_i/m_i)·dof/n. Returns (τ², dof); dof ≤ 0 means no information."""
    n = idx.size
    dof = n - n_params
    if dof <= 0:
        return 0.0, 0.0
    scale = n / dof
    num = float(np.sum(resid**2) * scale - np.sum(nm.sampling_var[idx]))
    den = float(np.sum(nm.g[idx] / nm.n_units[idx]))
    return (max(num / den, 0.0) if den > 0 else 0.0), float(dof)


def satterthwaite_dof(nm: NoiseModel, idx: np.ndarray) -> float:
    """Effective dof of var at points idx: τ²'s dof divided by the squared share of τ² in the
    variance (Satterthwaite 1946); inf when τ² plays no part or is taken as known."""
    if nm.tau2 <= 0 or not idx.size:
        return float("inf")
    if nm.tau2_dof <= 0:
        return float("inf")
    share = float(np.mean((nm.tau2 * nm.g[idx] / nm.n_units[idx]) / nm.var[idx]))
    return float("inf") if share <= 0 else nm.tau2_dof / share**2


def _names(curve: Curve, idx) -> str:
    idx = list(idx)
    names = [(curve.labels[i] if curve.labels and curve.labels[i] else f"x={curve.x[i]:.3g}") for i in idx[:4]]
    more = f" (+{len(idx) - 4} more)" if len(idx) > 4 else ""
    return ", ".join(names) + more
