"""pass@k at larger k from a distribution of per-problem success probabilities.

Schaeffer et al. 2025 ("How Do Large Language Monkeys Get Their Power (Laws)?"): for one problem
with success probability p, the failure rate (1 − p)^k falls exponentially in k; the power law in
k seen across a benchmark comes from the *distribution* of p over problems. If p ~ Beta(α, β),

    1 − pass@k = E[(1 − p)^k] = B(α, β + k) / B(α, β)  ≈  Γ(α + β)/Γ(β) · k^(−α)   (large k),

so −log pass@k ≈ a·k^(−b) with b = α (the beta's left-tail exponent) and a = Γ(α + β)/Γ(β).
Fitting (α, β) by maximum likelihood on the per-problem counts (the beta-binomial likelihood of c
correct out of n) uses every sample of every problem, and the exact expectation then forecasts
pass@k far beyond the n samples that were drawn. Intervals resample problems (percentile
bootstrap). A back-test fits on the first m samples per problem (drawn without replacement from
the stored n, i.e. hypergeometric) and compares with the unbiased pass@k of all n samples.

A plain beta cannot hold a point mass of problems the model never solves (Schaeffer et al. fit a
scaled beta for that); such a mass shows up here as a small α and a slower forecast rise.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import optimize, special

from emergelab.analysis.curves import task_catalog
from emergelab.analysis.forecast import Forecast, SampleCounts, forecast
from emergelab.analysis.select import Selection, SelectionError
from emergelab.metrics.sampling import CountOutputs, pass_at_k
from emergelab.store import Store


@dataclass(frozen=True)
class BetaFit:
    """Beta(α, β) over per-problem success probabilities, fitted on n_problems problems."""

    alpha: float
    beta: float
    n_problems: int
    loglik: float

    def pass_at_k(self, k: np.ndarray | float) -> np.ndarray:
        """Expected pass@k over problems: 1 − B(α, β + k)/B(α, β), exact for every k > 0."""
        k = np.asarray(k, dtype=float)
        return -np.expm1(special.betaln(self.alpha, self.beta + k) - special.betaln(self.alpha, self.beta))

    def neg_log_pass_at_k(self, k: np.ndarray | float) -> np.ndarray:
        return -np.log(self.pass_at_k(k))

    @property
    def power_law(self) -> tuple[float, float]:
        """(a, b) of −log pass@k ≈ a·k^(−b) for large k: a = Γ(α+β)/Γ(β), b = α."""
        return float(np.exp(special.gammaln(self.alpha + self.beta) - special.gammaln(self.beta))), self.alpha

    @property
    def mean(self) -> float:
        """pass@1: the mean per-problem success probability α/(α+β)."""
        return self.alpha / (self.alpha + self.beta)


def _neg_loglik(theta: np.ndarray, n: np.ndarray, c: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Beta-binomial −log-likelihood per problem (without the constant binomial coefficients) and
    its gradient in θ = (ln α, ln β); `w` weighs each distinct (n, c) pair by how many problems
    share it. Per problem, so that optimiser tolerances mean the same for 50 or 50 000 problems."""
    a, b = np.exp(theta)
    ll = special.betaln(c + a, n - c + b) - special.betaln(a, b)
    d_ab = special.digamma(a + b) - special.digamma(n + a + b)
    ga = np.sum(w * (special.digamma(c + a) - special.digamma(a) + d_ab))
    gb = np.sum(w * (special.digamma(n - c + b) - special.digamma(b) + d_ab))
    total = float(np.sum(w))
    return -float(np.sum(w * ll)) / total, -np.array([ga * a, gb * b]) / total


def _hessian(theta: np.ndarray, n: np.ndarray, c: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Hessian of `_neg_loglik` in θ (trigamma terms), for Newton-type steps."""
    a, b = np.exp(theta)
    t_ab = special.polygamma(1, a + b) - special.polygamma(1, n + a + b)
    d_ab = special.digamma(a + b) - special.digamma(n + a + b)
    ga = np.sum(w * (special.digamma(c + a) - special.digamma(a) + d_ab))
    gb = np.sum(w * (special.digamma(n - c + b) - special.digamma(b) + d_ab))
    haa = np.sum(w * (special.polygamma(1, c + a) - special.polygamma(1, a) + t_ab))
    hbb = np.sum(w * (special.polygamma(1, n - c + b) - special.polygamma(1, b) + t_ab))
    hab = np.sum(w * t_ab)
    h = np.array([[a * ga + a * a * haa, a * b * hab], [a * b * hab, b * gb + b * b * hbb]])
    return -h / float(np.sum(w))


def _check_counts(n: np.ndarray, c: np.ndarray) -> None:
    if n.shape != c.shape or n.ndim != 1 or len(n) < 2:
        raise ValueError("fitting a beta needs counts of at least 2 problems")
    if np.any(n < 1) or np.any((c < 0) | (c > n)):
        raise ValueError("counts need n >= 1 and 0 <= c <= n")


def _start(n: np.ndarray, c: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Method-of-moments (ln α, ln β): the spread of c/n less its binomial noise."""
    p = c / n
    m = float(np.average(p, weights=w))
    v = float(np.average((p - m) ** 2, weights=w)) - float(np.average(p * (1 - p) / n, weights=w))
    v = max(v, 1e-4 * m * (1 - m))
    s = max(m * (1 - m) / v - 1, 1e-2)
    return np.log([max(m * s, 1e-3), max((1 - m) * s, 1e-3)])


_BOUND = 20.0  # |ln α| or |ln β| beyond this: the beta is degenerate (no spread, or all mass at 0/1)


def _fit_pairs(n: np.ndarray, c: np.ndarray, w: np.ndarray, theta0: np.ndarray | None = None) -> BetaFit:
    """The beta-binomial MLE on distinct (n, c) pairs weighted by their problem counts `w`."""
    if not np.any(w * c):
        raise ValueError("no correct sample in any problem: the success distribution is unidentified")
    if not np.any(w * (n - c)):
        raise ValueError("every sample of every problem is correct: the success distribution is unidentified")
    # exact Hessian, trust region: a few Newton steps (L-BFGS-B took 30x longer here, TNC's line
    # search failed near the optimum)
    res = optimize.minimize(_neg_loglik, _start(n, c, w) if theta0 is None else theta0, args=(n, c, w), jac=True,
                            hess=_hessian, method="trust-exact")
    a, b = np.exp(res.x)
    if not res.success:
        warnings.warn(f"beta-binomial fit did not converge ({res.message}); using the last iterate", stacklevel=3)
    if np.any(np.abs(res.x) >= _BOUND):
        warnings.warn(f"beta-binomial fit hit a bound (alpha={a:.3g}, beta={b:.3g}): "
                      "the counts barely vary across problems", stacklevel=3)
    return BetaFit(float(a), float(b), int(w.sum()), -float(res.fun) * float(w.sum()))


def fit_beta(n: np.ndarray, c: np.ndarray) -> BetaFit:
    """Maximum-likelihood Beta(α, β) of per-problem success probabilities from counts (n, c).

    Started from the method of moments; optimised on (ln α, ln β) with the analytic gradient.
    Raises ValueError when the counts cannot identify a beta (no success at all, or all samples
    correct): the left tail that drives the forecast is then unknown, not zero.
    """
    n = np.asarray(n, dtype=float)
    c = np.asarray(c, dtype=float)
    _check_counts(n, c)
    pairs, w = np.unique(np.stack([n, c]), axis=1, return_counts=True)
    return _fit_pairs(pairs[0], pairs[1], w.astype(float))


def bootstrap_beta(n: np.ndarray, c: np.ndarray, n_boot: int, rng: np.random.Generator,
                   start: BetaFit | None = None) -> tuple[list[BetaFit], int]:
    """Refits on problems resampled with replacement (as multinomial weights on the distinct (n, c)
    pairs, which is the same draw); returns the fits and how many resamples were unidentified."""
    n = np.asarray(n, dtype=float)
    c = np.asarray(c, dtype=float)
    pairs, w = np.unique(np.stack([n, c]), axis=1, return_counts=True)
    theta0 = None if start is None else np.log([start.alpha, start.beta])
    fits, failed = [], 0
    for _ in range(n_boot):
        wb = rng.multinomial(len(n), w / w.sum()).astype(float)
        try:
            fits.append(_fit_pairs(pairs[0], pairs[1], wb, theta0))
        except ValueError:
            failed += 1
    return fits, failed


def subsample_counts(n: np.ndarray, c: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """Correct counts among m of each problem's n samples drawn without replacement: what an
    evaluation with only m samples per problem would have seen (hypergeometric)."""
    n = np.asarray(n, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    if m < 1 or np.any(n < m):
        raise ValueError(f"cannot take {m} samples per problem: the smallest n is {int(n.min())}")
    return rng.hypergeometric(c, n - c, m)


def observed_pass_at_k(n: np.ndarray, c: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """Unbiased pass@k averaged over problems for each k ≤ min(n); NaN above."""
    n = np.asarray(n)
    return np.array([float(np.mean(pass_at_k(n, c, int(k)))) if k <= n.min() else np.nan for k in ks])


def forecast_pass_at_k(
    n: np.ndarray, c: np.ndarray, ks: np.ndarray | list[int], *, fit_samples: int | None = None,
    level: float = 0.95, n_boot: int = 200, seed: int = 0, task: str = "", model: str = "",
) -> Forecast:
    """Forecast pass@k at each k in `ks` from a beta fitted to one model's counts (module doc).

    `fit_samples` = m < n: fit on m samples per problem only (a back-test: pass@k for m < k ≤ n is
    then observed from all n samples and compared). The record is a `Forecast` over x = k.
    """
    rng = np.random.default_rng(seed)
    n = np.asarray(n, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    m = int(n.min()) if fit_samples is None else int(fit_samples)
    n_fit, c_fit = (n, c) if fit_samples is None else (np.full(len(n), m), subsample_counts(n, c, m, rng))
    fit = fit_beta(n_fit, c_fit)
    ks = np.unique(np.asarray(ks, dtype=float))
    if np.any(ks < 1):
        raise ValueError("k must be >= 1")
    fits, failed = bootstrap_beta(n_fit, c_fit, n_boot, rng, start=fit)
    reps = [f.pass_at_k(ks) for f in fits]
    notes = [f"Beta(alpha={fit.alpha:.4g}, beta={fit.beta:.4g}) on {fit.n_problems} problems x "
             f"{'n' if fit_samples is None else m} samples; -log pass@k ~ {fit.power_law[0]:.4g}*k^-{fit.power_law[1]:.4g}"]
    if failed:
        warnings.warn(f"{failed} of {n_boot} bootstrap resamples had no success (or no failure) and were skipped",
                      stacklevel=2)
        notes.append(f"{failed} bootstrap resamples unidentified, skipped")
    if reps:
        a = (1 - level) / 2
        lo, hi = np.quantile(np.array(reps), [a, 1 - a], axis=0)
    else:
        lo = hi = np.full(len(ks), np.nan)
    k_fit = np.array([k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if k <= m], dtype=float)
    observed = observed_pass_at_k(n, c, ks)
    obs_se = np.array([
        float(np.std(pass_at_k(n, c, int(k)), ddof=1) / np.sqrt(len(n))) if k <= n.min() else np.nan for k in ks
    ])
    a_pl, b_pl = fit.power_law
    return Forecast(
        method="beta_binomial", task=" / ".join(t for t in (task, model) if t), metric="pass@k", scale="k",
        fit_below=float(m), x_fit=k_fit, y_fit=observed_pass_at_k(n_fit, c_fit, k_fit), x=ks,
        pred=fit.pass_at_k(ks), lo=np.asarray(lo), hi=np.asarray(hi), observed=observed, obs_se=obs_se,
        level=level, params={"alpha": fit.alpha, "beta": fit.beta, "a": a_pl, "b": b_pl, "loglik": fit.loglik},
        notes=notes, labels=[f"pass@{int(k)}" for k in ks],
    )


# ---------------------------------------------------------------- counts of a folder


@dataclass
class ModelCounts:
    """One run's sample counts at one checkpoint, with what a `Selection` and a scale need."""

    task: str
    model: str
    step: int | None
    family: str | None
    shots: int | None
    params: float
    non_embedding_params: float
    tokens: float
    counts: CountOutputs

    def x(self, scale: str) -> float:
        if scale == "flops":
            return 6.0 * self.non_embedding_params * self.tokens
        return float(getattr(self, scale))


def load_counts(folder: str | Path, selection: Selection | None = None,
                scale: str = "non_embedding_params") -> list[ModelCounts]:
    """Every stored (run, checkpoint) with sample counts that `selection` keeps (final
    checkpoints by default). Native sampling runs record their scheme in the run's task_config."""
    found = []
    with Store(folder, read_only=True) as store:
        catalog = task_catalog(store)
        for run in store.runs():
            ckpts = {c.step: c.tokens for c in store.checkpoints(run.run_id)}
            scheme = (run.task_config.get("sampling") or {}).get("scheme", "fixed")
            for step, (ids, n, c) in store.sample_counts(run.run_id).items():
                tokens = ckpts.get(step, step * (run.tokens_per_step or 0))
                found.append(ModelCounts(run.task, run.model, step, run.family, run.shots, run.params,
                                         run.non_embedding_params, tokens, CountOutputs(ids, n, c, scheme)))
    if not found:
        raise SelectionError(f"no sample counts in {folder} (import per-problem counts, or give the spec a sampling: section)")
    return (selection or Selection()).apply(found, catalog, scale)


def _one_task(rows: list[ModelCounts]) -> str:
    tasks = sorted({r.task for r in rows})
    if len(tasks) != 1:
        raise SelectionError(f"counts of {len(tasks)} tasks ({', '.join(tasks)}); choose one with --task")
    return tasks[0]


def high_resolution_forecast(rows: list[ModelCounts], fit_below: float, scale: str = "non_embedding_params", *,
                             level: float = 0.95, seed: int = 0) -> Forecast:
    """The `high_resolution` forecaster (PassUntil, Hu et al. 2024) on stored counts: the pass rate
    of one sample per model vs scale, fitted on scales ≤ fit_below and back-tested above."""
    task = _one_task(rows)
    schemes = {r.counts.scheme for r in rows}
    if len(schemes) > 1:
        raise SelectionError("counts from both fixed and until-success sampling; select one kind with --model")
    rows = sorted(rows, key=lambda r: r.x(scale))
    xs = np.array([r.x(scale) for r in rows])
    if len(set(xs.tolist())) < len(xs):
        raise SelectionError(f"several models share a {scale} value; select with --model or --family")
    counts = SampleCounts(xs, [r.counts.n for r in rows], [r.counts.c for r in rows], schemes.pop(), task, "pass@1")
    f = forecast(None, "high_resolution", fit_below, counts=counts, level=level, seed=seed)
    by_x = {r.x(scale): r.model for r in rows}
    return replace(f, scale=scale, labels=[by_x.get(float(v), "") for v in f.x])


def beta_forecasts(rows: list[ModelCounts], ks: list[int] | None, fit_samples: int | None, *, level: float = 0.95,
                   n_boot: int = 200, seed: int = 0) -> list[Forecast]:
    """`forecast_pass_at_k` for each selected model; default k: 1, 10, 100, ... up to 100× the
    samples drawn (those ≤ n are back-tested when `fit_samples` < n)."""
    task = _one_task(rows)
    out = []
    for r in sorted(rows, key=lambda r: (r.params, r.model)):
        if r.counts.scheme != "fixed":
            raise SelectionError(f"{r.model}: the beta route needs fixed-n counts, not sample-until-success ones")
        n_min = int(r.counts.n.min())
        chosen = ks or [10**j for j in range(int(np.log10(100 * n_min)) + 1)]
        out.append(forecast_pass_at_k(r.counts.n, r.counts.c, chosen, fit_samples=fit_samples, level=level,
                                      n_boot=n_boot, seed=seed, task=task, model=r.model))
    return out
