"""Is a curve emergent? A verdict with its evidence, following Wei et al. 2022.

Wei et al. 2022 ("Emergent abilities of large language models", TMLR, §2) call an ability
emergent when it is "not present in smaller models but is present in larger models" and the jump
"cannot be predicted simply by extrapolating the performance of smaller models". The rule, as
`analyze --help` and the README state it:

    A curve is `emergent` when (1) at least 2 of its smallest sizes sit at the floor (chance, or
    the smallest model) — within noise of it or within 10 % of the curve's rise; (2) the largest
    size is clearly above the floor (z > 3); (3) the next larger sizes — those within 1 decade of
    the last floor size, and at least two — exceed every smooth trend through the small ones: their
    excess over the closest smooth trend that still fits the small models has a 95 % interval above
    0; and (4) the excess is large: at least `min_excess` (default 0.1) of the metric's range.
    Smooth trends are lines and power laws (exponent −1…1) in the scale, and
    logistics in log-scale up to 2.5 logits per decade (`trend.py`). Per-point noise is example sampling plus the scatter between seeds and between
    models at one size, estimated from the data (`noise.py`). Otherwise the curve is `smooth` (it
    rises, predictably or too little), `flat` (nothing clearly above the floor) or `inconclusive` (fewer than
    4 sizes, noise that cannot be judged, a rate rising by half its range or more that the noise
    cannot confirm, or the largest model back at the floor).

Why only the next decade: a jump shows right after the floor, while a smooth curve of a shape
outside the trend family (an accelerating quadratic in log-scale, say) drifts away from any fitted
trend the further it is extrapolated — with tight errors, far extrapolation read such curves as
jumps 89 % of the time (calibration, 12 sizes × 5 seeds, n = 5000); with the window, ≤ 5 %.

The *excess* is measured per tested size (points at one size pooled) as observed minus the closest
trend, and the largest is reported with a normal interval from the point's noise and the small-model
trend's uncertainty. Significance (3) and size (4) are separate questions: with thousands of examples
a 2 % misfit of any trend family is significant, and with heavy scatter between models a large-looking
gap is not.

Why the excess, and not a joint test, decides significance: "the closest trend that still fits the
small models" is the least favourable smooth explanation (any trend within the 95 % χ² region of
the small-model fit), so the test is one-sided against every trend at once. The profile
likelihood-ratio test of one trend for all points (`joint_p`, still reported) asks a two-sided,
several-point question and, referred to an F with the few degrees of freedom two seeds give the
seed variance, cost most of the power on small designs (5 sizes × 2 seeds: 62 % → 92 % at a 0.3
jump) while no null scenario of the calibration grid needed it (worst false `emergent` 2.0 % with
it, 2.7 % without, 13 designs × 27–54 nulls × 150 curves). The normal interval does not widen for
the τ² estimate's degrees of freedom; the least favourable trend more than pays for that (the
grid's seed sd 0.6 with 2 seeds: ≤ 2.7 %). The metric's range is 1 − floor for rates (chance to perfect), else the observed spread.

The *threshold* is the scale where the oriented metric first crosses floor + ½·(best − floor),
interpolated linearly in log-scale; its interval comes from the same crossing on bootstrap replicate
curves (`bootstrap.replicate_curves`). Calibration by simulation with known labels lives in
`calibrate.py` (`emergelab calibrate`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats

from emergelab.analysis.bootstrap import replicate_curves
from emergelab.analysis.curve import Curve
from emergelab.analysis.emergence import emergence_score
from emergelab.analysis.linearity import linearity
from emergelab.analysis.noise import NoiseModel, estimate_noise, residual_tau2, satterthwaite_dof, size_groups
from emergelab.analysis.trend import (
    TrendFamily,
    closest_trend,
    fit_trend,
    joint_delta_chi2,
    prediction_band,
    surprise,
)

LABELS = ("emergent", "smooth", "flat", "inconclusive")


class NoiseNotice(UserWarning):
    """Something about a curve's noise had to be imputed or assumed (shown by the CLI)."""


@dataclass
class Verdict:
    """The verdict on one curve and the evidence behind it (all metric values in the curve's own
    units and orientation). `pred_*` is the small-model trend at the larger points; `excess` is how
    far the larger models exceed the closest smooth trend (module doc), in metric units."""

    task: str
    metric: str
    label: str
    emergence_score: float
    linearity: float
    floor: float
    higher_is_better: bool = True
    split_index: int | None = None  # last index of the small models at the floor
    split_x: float | None = None
    threshold: float | None = None  # scale of the crossing of `threshold_level`
    threshold_lo: float | None = None
    threshold_hi: float | None = None
    threshold_level: float | None = None
    pred_x: np.ndarray = field(default_factory=lambda: np.empty(0))
    pred_y: np.ndarray = field(default_factory=lambda: np.empty(0))
    pred_lo: np.ndarray = field(default_factory=lambda: np.empty(0))
    pred_hi: np.ndarray = field(default_factory=lambda: np.empty(0))
    surprise: np.ndarray = field(default_factory=lambda: np.empty(0))
    joint_p: float = float("nan")  # LR test: one smooth trend for small and large models
    excess: float = float("nan")  # oriented: > 0 means the larger models are above the trend
    excess_lo: float = float("nan")
    excess_hi: float = float("nan")
    excess_x: float | None = None  # the size where the excess is largest
    metric_range: float = float("nan")
    tau2: float = 0.0  # between-model variance (logit scale for rates)
    tau2_dof: float = 0.0
    trend: str = ""  # the closest smooth trend, in words
    reasons: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # imputations and assumptions about noise

    @property
    def emergent(self) -> bool:
        return self.label == "emergent"

    @property
    def excess_frac(self) -> float:
        """The excess as a fraction of the metric's range."""
        return self.excess / self.metric_range if self.metric_range > 0 else float("nan")


@dataclass(frozen=True)
class VerdictConfig:
    """Knobs of the tests; the defaults are the calibrated ones (`calibrate.py`)."""

    z_floor: float = 1.96
    near_floor_frac: float = 0.1
    z_clear: float = 3.0
    min_excess: float = 0.1  # fraction of the metric's range
    unconfirmed_rise: float = 0.5  # a rate rising this much of its range, not confirmed: inconclusive, not flat
    excess_window: float = 1.0  # decades past the last small model that tests (3) and (4) look at
    min_floor_points: int = 2
    min_points: int = 4  # distinct sizes
    alpha_max: float = 1.0
    n_alpha: int = 41
    logistic_max_slope: float = 2.5  # logits per decade
    level: float = 0.95
    threshold_frac: float = 0.5
    n_boot: int = 400
    seed: int = 0
    warn: bool = True  # raise NoiseNotice warnings for imputed noise


# ---------------------------------------------------------------- threshold


def crossing_scale(x: np.ndarray, s: np.ndarray, level: float) -> np.ndarray:
    """Scale where each row of s (…, n) first reaches `level`, linear in log x between points;
    x[0] when already above at the smallest scale, +inf when never reached."""
    s = np.atleast_2d(s)
    lx = np.log(x)
    above = s >= level
    first = np.where(above.any(axis=1), above.argmax(axis=1), -1)
    out = np.full(s.shape[0], np.inf)
    out[first == 0] = x[0]
    mid = first > 0
    i = first[mid]
    r = np.arange(s.shape[0])[mid]
    s0, s1 = s[r, i - 1], s[r, i]
    t = np.clip((level - s0) / np.where(s1 > s0, s1 - s0, np.inf), 0.0, 1.0)
    out[mid] = np.exp(lx[i - 1] + t * (lx[i] - lx[i - 1]))
    return out


def _group_mean(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Unweighted mean per size group along the last axis."""
    counts = np.bincount(groups, minlength=n_groups)
    out = np.zeros(values.shape[:-1] + (n_groups,))
    for g in range(n_groups):
        out[..., g] = values[..., groups == g].sum(axis=-1) / counts[g]
    return out


def _threshold(curve: Curve, s: np.ndarray, floor_s: float, groups: np.ndarray, xg: np.ndarray,
               cfg: VerdictConfig) -> tuple:
    sg = _group_mean(s, groups, xg.size)
    level_s = floor_s + cfg.threshold_frac * (np.nanmax(sg) - floor_s)
    sign = 1.0 if curve.higher_is_better else -1.0
    t = float(crossing_scale(xg, sg[None, :], level_s)[0])
    lo = hi = None
    if cfg.n_boot > 0:
        reps = _group_mean(sign * replicate_curves(curve, cfg.n_boot, cfg.seed), groups, xg.size)
        ts = crossing_scale(xg, reps, level_s)
        a = (1 - cfg.level) / 2
        lo = float(np.quantile(ts, a, method="inverted_cdf"))
        hi = float(np.quantile(ts, 1 - a, method="inverted_cdf"))
    return (t if np.isfinite(t) else None), lo, hi, float(sign * level_s)


# ---------------------------------------------------------------- the verdict


def _pooled(s: np.ndarray, var: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision-weighted mean and its standard error per size group."""
    w = 1.0 / var
    sw = np.bincount(groups, weights=w, minlength=n_groups)
    return np.bincount(groups, weights=w * s, minlength=n_groups) / sw, 1.0 / np.sqrt(sw)


def _metric_range(rate: bool, hib: bool, s: np.ndarray, floor_s: float) -> float:
    if rate:
        best = 1.0 if hib else -0.0
        span = best - floor_s
        if span > 0:
            return float(span)
    return float(np.max(s) - np.min(s)) or 1.0


def verdict(curve: Curve, config: VerdictConfig | None = None, **overrides: float) -> Verdict:
    """Label `curve` emergent / smooth / flat / inconclusive with the evidence (module doc).

    Keyword overrides set fields of `VerdictConfig`, e.g. ``verdict(c, n_boot=0, min_excess=0.2)``.
    """
    cfg = config or VerdictConfig()
    if overrides:
        cfg = replace(cfg, **overrides)
    sign = 1.0 if curve.higher_is_better else -1.0
    v = Verdict(task=curve.task, metric=curve.metric, label="inconclusive",
                emergence_score=emergence_score(sign * curve.y), linearity=linearity(sign * curve.y),
                floor=float("nan"), higher_is_better=curve.higher_is_better)
    finite = np.isfinite(curve.y) & np.isfinite(curve.x) & (curve.x > 0)
    if not finite.all():
        dropped = int((~finite).sum())
        v.notices.append(f"dropped {dropped} point(s) with a missing or non-positive value or scale")
        if cfg.warn:
            warnings.warn(f"{curve.task}/{curve.metric}: {v.notices[-1]}", NoiseNotice, stacklevel=2)
        curve = curve.subset(finite)
    groups = size_groups(curve.x) if len(curve) else np.zeros(0, dtype=int)
    n_groups = int(groups.max()) + 1 if groups.size else 0
    if n_groups < cfg.min_points:
        v.reasons.append(f"only {n_groups} distinct sizes with usable points (< {cfg.min_points})")
        return v

    nm = estimate_noise(curve)
    v.notices += nm.notices
    return _judge(curve, nm, groups, n_groups, sign, cfg, v)


def _judge(curve: Curve, nm: NoiseModel, groups: np.ndarray, n_groups: int, sign: float,
           cfg: VerdictConfig, v: Verdict) -> Verdict:
    s = sign * curve.y
    xg = np.array([curve.x[groups == g][0] for g in range(n_groups)])
    var = nm.var
    if nm.unknown.all() and nm.tau2_dof <= 0:
        v.reasons.append("per-point noise unknown: no stderr, n or samples, and no replicate models to "
                         "measure the scatter")
        _warn(v, cfg, curve)
        return v
    sg, seg = _pooled(s, var, groups, n_groups)
    if curve.chance is not None:
        floor_s, se_floor, floor_src = sign * float(curve.chance), 0.0, "chance"
    else:
        floor_s, se_floor, floor_src = float(sg[0]), float(seg[0]), "smallest model"
    v.floor = float(sign * floor_s)
    z_above = (sg - floor_s) / np.sqrt(seg**2 + se_floor**2)
    clear = z_above > cfg.z_clear
    if not clear.any():
        rise = float(np.max(sg)) - floor_s
        if nm.rate and rise >= cfg.unconfirmed_rise * _metric_range(True, curve.higher_is_better, s, floor_s):
            # half the range or more that the noise cannot confirm is no evidence of flatness either;
            # smaller unconfirmed rises stay `flat` (the largest of 8 noisy points sits ~2 se up)
            v.reasons.append(f"rises by {rise:.3g} above the floor ({floor_src} = {v.floor:.4g}) but no size is "
                             f"clearly above it (z ≤ {cfg.z_clear:g}): the scatter between seeds or models is "
                             "too large to tell; more seeds or examples per size would")
        else:
            v.label = "flat"
            v.reasons.append(f"no size is clearly above the floor ({floor_src} = {v.floor:.4g}; z ≤ {cfg.z_clear:g})")
        _warn(v, cfg, curve)
        return v
    v.threshold, v.threshold_lo, v.threshold_hi, v.threshold_level = _threshold(curve, s, floor_s, groups, xg, cfg)

    near = (sg - floor_s) <= cfg.near_floor_frac * (float(np.max(sg)) - floor_s)
    at_floor = (z_above <= cfg.z_floor) | near
    k = int(np.argmin(at_floor)) if not at_floor.all() else n_groups
    if k < cfg.min_floor_points:
        v.label = "smooth"
        v.reasons.append(f"only {k} of the smallest sizes at the floor (< {cfg.min_floor_points}): "
                         "the metric is already rising at small scale")
        _warn(v, cfg, curve)
        return v
    small = groups < k
    last_small = int(np.flatnonzero(small)[-1])
    v.split_index, v.split_x = last_small, float(curve.x[last_small])
    family = TrendFamily.for_range(curve.x, float(curve.x[last_small]), cfg.alpha_max, cfg.n_alpha,
                                   cfg.logistic_max_slope)
    fit_small = fit_trend(family, curve.x[small], s[small], var[small])
    if nm.tau2_dof <= 0:  # no replicates: between-model scatter from the small models' residuals
        idx = np.flatnonzero(small)
        b = fit_small.best
        resid = s[idx] - (fit_small.coef[b, 0] + fit_small.coef[b, 1] * family.basis(curve.x[idx])[b])
        tau2, dof = residual_tau2(resid, nm, idx, n_params=2)
        if dof > 0:
            nm = nm.with_tau2(tau2, dof, "residuals of the small-model trend")
            var = nm.var
            fit_small = fit_trend(family, curve.x[small], s[small], var[small])
        else:
            v.notices.append("between-model scatter not estimable (no seeds or models sharing a size, "
                             "too few small models): binomial/example noise assumed")
    v.tau2, v.tau2_dof = nm.tau2, nm.tau2_dof
    # the tests look at the larger sizes within `excess_window` decades of the last small one (at
    # least the first two): a jump shows there, while a smooth curve outside the family drifts from any
    # fitted trend the further one extrapolates
    reach = np.log10(xg) <= np.log10(v.split_x) + cfg.excess_window
    reach[k: k + 2] = True
    test_g = np.flatnonzero(reach[k:]) + k
    large = np.isin(groups, test_g)
    fit_all = fit_trend(family, curve.x[small | large], s[small | large], var[small | large])
    fit_large = fit_trend(family, curve.x[large], s[large], var[large])
    if not np.isfinite(np.min(fit_small.chi2)):
        v.reasons.append("the small-model trend could not be fitted")
        _warn(v, cfg, curve)
        return v

    # plot material: the small-model band at the larger sizes
    post_g = np.arange(k, n_groups)
    v.pred_x = xg[post_g]
    _, seg_now = _pooled(s, var, groups, n_groups)
    lo, hi = prediction_band(fit_small, v.pred_x, seg_now[post_g] ** 2, cfg.level)
    mean_best = fit_small.predict(v.pred_x)[0][fit_small.best]
    sg, seg = _pooled(s, var, groups, n_groups)
    v.surprise = surprise(fit_small, v.pred_x, sg[post_g], seg[post_g] ** 2)
    v.pred_y, v.pred_lo, v.pred_hi = (mean_best, lo, hi) if sign > 0 else (-mean_best, -hi, -lo)

    # evidence, not a criterion (module doc): one smooth trend for all points?
    q = int(large.sum())
    delta = joint_delta_chi2(fit_small, fit_all)
    d_eff = satterthwaite_dof(nm, np.flatnonzero(large))
    v.joint_p = float(stats.chi2.sf(delta, q) if not np.isfinite(d_eff) else stats.f.sf(delta / q, q, d_eff))
    # (3) and (4): the larger sizes against the closest trend that still fits the small models
    shape, theta = closest_trend(fit_small, fit_large, float(stats.chi2.ppf(cfg.level, 2)))
    v.trend = family.describe(shape)
    trend_g = theta[0] + theta[1] * family.basis(xg[test_g])[shape]
    tvar = fit_small.predict(xg[test_g])[1][shape]
    gaps = sg[test_g] - trend_g
    j = int(np.nanargmax(gaps))
    half = float(stats.norm.ppf(0.5 + cfg.level / 2)) * float(np.sqrt(seg[test_g][j] ** 2 + tvar[j]))
    v.metric_range = _metric_range(nm.rate, curve.higher_is_better, s, floor_s)
    v.excess, v.excess_lo, v.excess_hi = float(gaps[j]), float(gaps[j] - half), float(gaps[j] + half)
    v.excess_x = float(xg[test_g][j])

    v.reasons.append(f"{k} smallest sizes at the floor ({floor_src} = {v.floor:.4g})")
    if not clear[-1]:
        v.label = "inconclusive"
        v.reasons.append("the largest size is not clearly above the floor although a smaller one is "
                         "(a rise that falls back)")
        _warn(v, cfg, curve)
        return v
    frac = v.excess_frac
    significant = v.excess_lo > 0
    big = frac >= cfg.min_excess
    excess_txt = (f"excess over the closest smooth trend ({v.trend}) {v.excess:.3g} "
                  f"[{v.excess_lo:.3g}, {v.excess_hi:.3g}] = {frac:.2f} of the range at x = {v.excess_x:.3g}")
    if significant and big:
        v.label = "emergent"
        v.reasons.append(f"no smooth trend through the small models reaches the larger ones: {excess_txt} "
                         f"≥ {cfg.min_excess:g}, interval above 0")
    elif not significant:
        v.label = "smooth"
        v.reasons.append(f"a smooth trend through the small models reaches the larger ones: {excess_txt}, "
                         "interval not above 0")
    else:
        v.label = "smooth"
        v.reasons.append(f"the larger sizes exceed the smooth trends but only by {frac:.2f} of the range "
                         f"(< {cfg.min_excess:g}): {excess_txt}")
    _warn(v, cfg, curve)
    return v


def _warn(v: Verdict, cfg: VerdictConfig, curve: Curve) -> None:
    if cfg.warn:
        for note in v.notices:
            warnings.warn(f"{curve.task}/{curve.metric}: {note}", NoiseNotice, stacklevel=3)
