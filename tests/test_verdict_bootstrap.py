"""Nested bootstrap over seeds and examples; normal/binomial intervals without samples."""

import numpy as np
import pytest

from emergelab.analysis.bootstrap import (
    binomial_stderr,
    bootstrap_point,
    percentile_interval,
    point_stderr,
    replicate_curves,
    with_intervals,
)
from emergelab.analysis.curve import Curve


def _curve(y, n=400, samples=None, stderr=None):
    y = np.asarray(y, dtype=float)
    nan = np.full_like(y, np.nan)
    return Curve("t", "exact_match", "params", np.logspace(6, 6 + len(y) - 1, len(y)), y, nan, nan,
                 np.full_like(y, n), samples=samples, stderr=stderr, discrete=True, chance=0.0)


def test_bootstrap_point_matches_binomial_spread():
    rng = np.random.default_rng(1)
    s = (rng.random((1, 2000)) < 0.3).astype(float)
    reps = bootstrap_point(s, 2000, np.random.default_rng(0))
    assert reps.mean() == pytest.approx(s.mean(), abs=0.005)
    assert reps.std() == pytest.approx(np.sqrt(0.3 * 0.7 / 2000), rel=0.15)


def test_seed_resampling_widens_interval():
    rng = np.random.default_rng(2)
    seeds = np.array([0.1, 0.5, 0.3, 0.7])[:, None]  # large seed-to-seed variation
    s = (rng.random((4, 500)) < seeds).astype(float)
    lo, hi = percentile_interval(bootstrap_point(s, 1000, np.random.default_rng(0)))
    pooled = np.sqrt(s.mean() * (1 - s.mean()) / s.size)
    assert hi - lo > 4 * 1.96 * pooled


def test_nan_entries_ignored():
    s = np.array([[1.0, 0.0, np.nan, 1.0]])
    reps = bootstrap_point(s, 200)
    assert np.all((reps >= 0) & (reps <= 1) | np.isnan(reps))


def test_with_intervals_samples_and_binomial():
    rng = np.random.default_rng(3)
    samples = [(rng.random((2, 300)) < p).astype(float) for p in (0.1, 0.5)]
    c = _curve([s.mean() for s in samples], samples=samples)
    ci = with_intervals(c, n_boot=500)
    assert np.all(ci.lo < ci.y) and np.all(ci.y < ci.hi)
    b = with_intervals(_curve([0.0, 0.5], n=100))
    assert b.lo[0] == 0.0 and b.hi[0] > 0.0  # Jeffreys-smoothed: not a zero-width interval at 0
    assert b.hi[1] - b.lo[1] == pytest.approx(2 * 1.96 * binomial_stderr(0.5, 100), rel=1e-2)


def test_stderr_used_when_given_and_replicates_shape():
    c = _curve([0.2, 0.4, 0.6], stderr=np.array([0.01, 0.02, 0.03]))
    assert np.allclose(point_stderr(c), [0.01, 0.02, 0.03], atol=0.006)
    reps = replicate_curves(c, 300)
    assert reps.shape == (300, 3)
    assert np.std(reps[:, 2]) == pytest.approx(point_stderr(c)[2], rel=0.2)


@pytest.mark.parametrize("missing", [False, True])
def test_report_interval_is_the_nested_resample_written_out(missing):
    """curves.bootstrap_interval against the definition, one resample at a time with the same
    draws: seeds with replacement, then examples within each, mean of what is not missing."""
    from emergelab.analysis.curves import bootstrap_interval

    rng = np.random.default_rng(3)
    samples = (rng.random((3, 40)) < 0.4).astype(float)
    if missing:
        samples[1, 30:] = np.nan  # a seed scored on fewer examples
    draws = np.random.default_rng(7)
    seeds = draws.integers(0, 3, size=(200, 3))
    examples = draws.integers(0, 40, size=(200, 3, 40))
    means = []
    for b in range(200):
        picked = [samples[seeds[b, j], examples[b, j, i]] for j in range(3) for i in range(40)]
        kept = [v for v in picked if not np.isnan(v)]
        means.append(sum(kept) / len(kept))
    lo, hi = bootstrap_interval(samples, 200, seed=7)
    assert (lo, hi) == pytest.approx(tuple(np.quantile(means, [0.025, 0.975])), abs=1e-12)
