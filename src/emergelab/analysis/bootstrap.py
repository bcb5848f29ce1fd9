"""Uncertainty of a curve point: bootstrap over seeds and examples, or normal intervals.

Why two levels: a point of a scaling curve averages over training seeds *and* test examples, and
both are random draws (Madaan et al. 2024, "Quantifying variance in evaluation benchmarks", show
seed variance is often as large as example variance for small models). A bootstrap that resamples
only examples understates the spread; we resample seeds, then examples within each chosen seed
(the nested/hierarchical bootstrap, Davison & Hinkley 1997, §3.8), and read 95 % percentile
intervals off the replicates (Efron & Tibshirani 1993, ch. 13).

Without per-example scores (imported results) we fall back to a normal interval y ± z·stderr,
with stderr = sqrt(p(1−p)/n) when only the example count n is known and the metric is a rate.
For rates at 0 or 1 the plug-in binomial stderr is 0, which would make a floor point look
infinitely precise; `point_stderr` therefore uses the Jeffreys-smoothed p̃ = (k + ½)/(n + 1)
(Brown, Cai & DasGupta 2001) as a lower bound.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import stats

from emergelab.analysis.curve import Curve

DEFAULT_BOOT = 1000
_CHUNK_ELEMENTS = 4_000_000  # cap on B·S·E floats materialised at once


def bootstrap_point(
    samples: np.ndarray, n_boot: int = DEFAULT_BOOT, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Replicates (n_boot,) of the mean of a (seeds, examples) score array, resampling seeds
    then examples within each resampled seed. NaN entries (missing scores) are ignored."""
    rng = np.random.default_rng(0) if rng is None else rng
    a = np.asarray(samples, dtype=float)
    if a.ndim == 1:
        a = a[None, :]
    n_seeds, n_ex = a.shape
    out = np.empty(n_boot)
    per_rep = max(1, n_seeds * n_ex)
    chunk = max(1, _CHUNK_ELEMENTS // per_rep)
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        seeds = rng.integers(0, n_seeds, size=(b, n_seeds))
        examples = rng.integers(0, n_ex, size=(b, n_seeds, n_ex))
        vals = a[seeds[:, :, None], examples]
        with np.errstate(invalid="ignore"), _quiet():
            out[start:start + b] = np.nanmean(vals.reshape(b, -1), axis=1)
    return out


class _quiet:
    """Silence numpy's 'mean of empty slice' warning for all-NaN replicates (they stay NaN)."""

    def __enter__(self) -> None:
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)


def percentile_interval(replicates: np.ndarray, level: float = 0.95, axis: int = 0) -> tuple:
    """Percentile interval of bootstrap replicates (Efron & Tibshirani 1993, §13.3)."""
    alpha = (1.0 - level) / 2.0
    dropped = int(np.sum(np.isnan(replicates)))
    if dropped:  # replicates with no scored example at all: left out, and said so
        import warnings

        warnings.warn(f"{dropped} of {np.size(replicates)} bootstrap replicate(s) had no scored example "
                      "and were left out of the interval", RuntimeWarning, stacklevel=2)
    with _quiet():
        lo = np.nanquantile(replicates, alpha, axis=axis)
        hi = np.nanquantile(replicates, 1.0 - alpha, axis=axis)
    return lo, hi


def _is_rate(curve: Curve) -> bool:
    y = curve.y[np.isfinite(curve.y)]
    return bool(y.size) and bool(np.all((y >= 0.0) & (y <= 1.0)))


def binomial_stderr(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Jeffreys-smoothed binomial standard error: never 0 at p ∈ {0, 1} (see module doc)."""
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    pt = (p * n + 0.5) / (n + 1.0)
    return np.sqrt(pt * (1.0 - pt) / n)


def _samples_stderr(s: np.ndarray) -> float:
    """Analytic stderr of the grand mean under the two-level design (seed then example)."""
    a = np.atleast_2d(np.asarray(s, dtype=float))
    with _quiet():
        seed_means = np.nanmean(a, axis=1)
        seed_means = seed_means[np.isfinite(seed_means)]
        n_seeds = max(1, seed_means.size)
        n_ex = np.sum(np.isfinite(a), axis=1)
        within = np.nanvar(a, axis=1, ddof=1) if a.shape[1] > 1 else np.zeros(a.shape[0])
    within = np.where(np.isfinite(within), within, 0.0)
    var_within = float(np.mean(within / np.maximum(n_ex, 1))) / n_seeds
    var_between = float(np.var(seed_means, ddof=1)) / n_seeds if n_seeds > 1 else 0.0
    # the seed-mean variance already contains within-seed noise; take the larger, not the sum
    return float(np.sqrt(max(var_within, var_between)))


def point_stderr(curve: Curve) -> np.ndarray:
    """Per-point standard error used by the verdicts: samples, else stderr, else binomial(n),
    else the half-width of the stored interval; NaN when nothing is known. For rate metrics
    without an explicit stderr, the Jeffreys binomial stderr at the total number of scored
    examples is a lower bound (all-zero samples would otherwise claim zero noise)."""
    k = len(curve)
    se = np.full(k, np.nan)
    rate = _is_rate(curve)
    for i in range(k):
        if curve.samples is not None and curve.samples[i] is not None:
            se[i] = _samples_stderr(curve.samples[i])
        elif curve.stderr is not None and np.isfinite(curve.stderr[i]):
            se[i] = curve.stderr[i]
        elif rate and np.isfinite(curve.n[i]) and curve.n[i] > 0:
            se[i] = binomial_stderr(curve.y[i], curve.n[i])
        elif np.isfinite(curve.lo[i]) and np.isfinite(curve.hi[i]) and curve.hi[i] > curve.lo[i]:
            se[i] = (curve.hi[i] - curve.lo[i]) / (2.0 * 1.959964)
    if rate:
        n_tot = curve.n.copy()
        if curve.samples is not None:
            for i, s in enumerate(curve.samples):
                if s is not None:
                    n_tot[i] = np.sum(np.isfinite(s))
        ok = np.isfinite(n_tot) & (n_tot > 0)
        if curve.stderr is not None:  # an explicit stderr (imported result) is taken as given
            ok &= ~np.isfinite(curve.stderr)
        se[ok] = np.fmax(se[ok], binomial_stderr(curve.y[ok], n_tot[ok]))
    elif curve.samples is not None:
        # a point whose examples all score the same (e.g. edit distance 0 everywhere) has a sample
        # stderr of exactly 0; a mean over n examples cannot be resolved finer than one example's
        # worth of the curve's range, so that is the floor
        spread = float(np.nanmax(curve.y) - np.nanmin(curve.y)) if k else 0.0
        for i, s in enumerate(curve.samples):
            n_i = int(np.sum(np.isfinite(s))) if s is not None else 0
            if n_i and spread > 0:
                se[i] = np.fmax(se[i], spread / (2.0 * n_i))
    return se


def replicate_curves(curve: Curve, n_boot: int = DEFAULT_BOOT, seed: int = 0) -> np.ndarray:
    """(n_boot, len(curve)) replicate curves: bootstrap where samples exist, normal draws around y
    with `point_stderr` elsewhere. Used for intervals of derived quantities (threshold scales)."""
    rng = np.random.default_rng(seed)
    se = point_stderr(curve)
    reps = np.empty((n_boot, len(curve)))
    for i in range(len(curve)):
        if curve.samples is not None and curve.samples[i] is not None:
            reps[:, i] = bootstrap_point(curve.samples[i], n_boot, rng)
        else:
            s = se[i] if np.isfinite(se[i]) else 0.0
            reps[:, i] = curve.y[i] + s * rng.standard_normal(n_boot)
    return reps


def with_intervals(
    curve: Curve, n_boot: int = DEFAULT_BOOT, level: float = 0.95, seed: int = 0
) -> Curve:
    """A copy of `curve` with lo/hi recomputed: percentile bootstrap where per-example samples
    exist, normal y ± z·stderr otherwise (stderr from `point_stderr`). Rates are clipped to [0, 1]."""
    rng = np.random.default_rng(seed)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    se = point_stderr(curve)
    lo, hi = curve.lo.copy(), curve.hi.copy()
    for i in range(len(curve)):
        if curve.samples is not None and curve.samples[i] is not None:
            lo[i], hi[i] = percentile_interval(bootstrap_point(curve.samples[i], n_boot, rng), level)
        elif np.isfinite(se[i]):
            lo[i], hi[i] = curve.y[i] - z * se[i], curve.y[i] + z * se[i]
    if _is_rate(curve):
        lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
    return replace(curve, lo=lo, hi=hi, samples=curve.samples, labels=list(curve.labels))
