"""Huber fits of a law over a grid of starts, and their bootstrap, as batched tensor problems.

Two objectives, both robust to the odd bad point (digitisation errors, diverged runs):

* `huber_sum` — sum of Huber losses of the residuals (Hoffmann et al. 2022, eq. 3).
* `huber_likelihood` — the Huber loss read as a negative log-likelihood with a fitted scale sigma
  (Besiroglu et al. 2024): p(r) = exp(-H_delta(r / sigma)) / (sigma Z(delta)), where
  Z(delta) = sqrt(2 pi) (2 Phi(delta) - 1) + 2 exp(-delta^2 / 2) / delta is the integral of
  exp(-H_delta) over the line (a Gaussian core plus two exponential tails). A proper density makes
  the fit a maximum-likelihood estimate, so likelihood-ratio tests and bootstrap standard errors
  mean what they say. sigma is profiled out (solved for each theta), which keeps the problem as
  well conditioned as the plain sum: a free log sigma near 1e-5 makes L-BFGS crawl.

A bootstrap resample is the original points with multinomial counts as weights, so every resample
shares one design and the whole bootstrap is one weighted (R, n) problem for `minimize_batched`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import norm

from emergelab.analysis.laws.lbfgs import autograd_objective, minimize_batched

VARIANTS = ("huber_sum", "huber_likelihood")


def huber(r: torch.Tensor, delta: float) -> torch.Tensor:
    """Quadratic within delta, linear beyond: an L2 core for small residuals, L1 for outliers.
    PyTorch's fused kernel (one pass instead of seven; the same numbers to the bit, tested)."""
    return torch.nn.functional.huber_loss(r, r.new_zeros(()).expand_as(r), reduction="none", delta=delta)


def huber_np(r: np.ndarray, delta: float) -> np.ndarray:
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def huber_log_normaliser(delta: float) -> float:
    """log of the integral of exp(-H_delta(u)) du over the real line (see the module docstring)."""
    core = math.sqrt(2.0 * math.pi) * (2.0 * norm.cdf(delta) - 1.0)
    tails = 2.0 * math.exp(-0.5 * delta * delta) / delta
    return math.log(core + tails)


@dataclass
class RobustProblem:
    """Residuals `predict(theta) - target` of one law on one data set, under a Huber objective.

    `predict` maps the model parameters (b, P) to fitted-space predictions (b, n).
    """

    predict: Callable[[torch.Tensor], torch.Tensor]
    target: torch.Tensor
    delta: float
    variant: str = "huber_sum"
    # Optional analytic derivative: theta -> (pred, vjp) with vjp(dV/dpred (b, n)) -> (b, P).
    # Several times faster than autograd for the hot laws; laws without it use autograd.
    forward: Callable[[torch.Tensor], tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]] | None = None

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; known: {', '.join(VARIANTS)}")
        self.log_z = huber_log_normaliser(self.delta)

    @property
    def likelihood(self) -> bool:
        return self.variant == "huber_likelihood"

    def profile_scale(self, r: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """The sigma (b, 1) that maximises the likelihood for residuals r (b, n).

        Stationarity: sum_out w delta |r| / sigma + sum_in w r^2 / sigma^2 = sum w, where "in" are
        the points with |r| <= delta sigma. Start from the all-linear (Laplace) solution
        sigma = delta * mean_w |r| and refine by fixed-point steps; with delta << 1 almost no
        point is "in", so the first step is already exact to rounding. Rows where the steps do
        not meet the equation (a wide core) are solved by bisection.
        """
        ww = w.expand_as(r)
        tot = ww.sum(1, keepdim=True)
        a = r.abs()
        wa = ww * a
        laplace = (self.delta * wa.sum(1, keepdim=True) / tot).clamp_min(1e-300)
        s = laplace
        for step in range(3):
            inside = a <= self.delta * s
            rows = torch.nonzero(inside.any(1)).squeeze(1)
            if step == 0:  # a point inside the core at the Laplace sigma: the only rows it can miss
                moved = rows
            if rows.numel() == 0:  # all-linear: the Laplace solution is the fixed point
                break
            # only rows with a point inside move; the others are at the Laplace solution. Few rows
            # have one, so updating them alone saves most of this function's time (the profiled
            # likelihood calls it on every objective evaluation of the bootstrap)
            ins, sr = inside[rows], s[rows]
            lin = (wa[rows] * ~ins).sum(1, keepdim=True)
            quad = (ww[rows] * r[rows] * r[rows] * ins).sum(1, keepdim=True)
            s = laplace.clone()
            s[rows] = (self.delta * lin / (tot[rows] - quad / (sr * sr)).clamp_min(1e-300)).clamp_min(1e-300)
        # With a wide core (delta ≳ 1) the fixed point converges slowly or not at all: rows whose
        # stationarity equation is not met are solved by bisection in log sigma instead.
        if moved.numel():
            miss = (self._stationarity(a[moved], ww[moved], tot[moved], s[moved]).abs() > 1e-9 * tot[moved]).squeeze(1)
            bad = moved[miss]
            if bad.numel():
                s = s.clone()
                s[bad] = self._bisect_scale(a[bad], ww[bad], tot[bad], laplace[bad])
        return s

    def _stationarity(self, a: torch.Tensor, ww: torch.Tensor, tot: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Σ w ψ(|r|/σ) − Σ w, ψ(u) = u² inside the core, δu outside: decreasing in σ, 0 at the optimum."""
        u = a / s
        return (ww * torch.where(u <= self.delta, u * u, self.delta * u)).sum(1, keepdim=True) - tot

    def _bisect_scale(self, a: torch.Tensor, ww: torch.Tensor, tot: torch.Tensor, laplace: torch.Tensor) -> torch.Tensor:
        """The root of `_stationarity` in [laplace·e⁻⁶⁰, laplace] (it is ≤ 0 at the Laplace sigma,
        where every point counted as outside, and > 0 far below it), to rounding."""
        hi = torch.log(laplace)
        lo = hi - 60.0
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            above = self._stationarity(a, ww, tot, torch.exp(mid)) > 0  # sigma still too small
            lo, hi = torch.where(above, mid, lo), torch.where(above, hi, mid)
        return torch.exp(0.5 * (lo + hi))

    def value(self, theta: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Weighted objective per row: theta (b, P), w (b, n) or (n,). The likelihood variant
        is profiled over sigma, so its theta never carries the scale."""
        r = self.predict(theta) - self.target
        if self.likelihood:
            s = self.profile_scale(r.detach(), w)
            return (w * huber(r / s, self.delta)).sum(1) + (w * (torch.log(s) + self.log_z)).expand_as(r).sum(1)
        return (w * huber(r, self.delta)).sum(1)

    def value_and_grad(self, theta: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Objective and gradient per row, analytically when `forward` is given. For the profiled
        likelihood the envelope theorem makes d/dtheta at sigma*(theta) the full gradient."""
        if self.forward is None:
            return autograd_objective(lambda th, _rows: self.value(th, w))(theta, theta)
        d = self.delta
        pred, vjp = self.forward(theta)
        r = pred - self.target
        if self.likelihood:
            s = self.profile_scale(r, w)
            rs = r / s
            f = (w * huber(rs, d)).sum(1) + w.expand_as(r).sum(1) * (torch.log(s[:, 0]) + self.log_z)
            return f, vjp(w * rs.clamp(-d, d) / s)
        return (w * huber(r, d)).sum(1), vjp(w * r.clamp(-d, d))

    def scale(self, theta: np.ndarray) -> float:
        """The fitted sigma at theta (P,) on the full data (likelihood variant)."""
        with torch.no_grad():
            r = self.predict(torch.as_tensor(theta[None], dtype=torch.float64)) - self.target
            return float(self.profile_scale(r, torch.ones_like(r))[0, 0])


def _objective(problem: RobustProblem, weights_of: Callable[[torch.Tensor], torch.Tensor]):
    return lambda th, rows: problem.value_and_grad(th, weights_of(rows))


def multistart(problem: RobustProblem, starts: np.ndarray, weights: np.ndarray | None = None,
               polish: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Run every start at once on the full data; return (x, f) sorted by f (failed rows last).

    Two stages: every start runs to a loose tolerance (finding the basins is what the grid is
    for), then the `polish` best distinct points run to a tight one. Most of the grid's thousands
    of starts land in the same basin; converging each of them to 1e-12 would be wasted work.
    """
    n = problem.target.shape[0]
    w = torch.ones(n, dtype=torch.float64) if weights is None else torch.as_tensor(weights, dtype=torch.float64)
    fun = _objective(problem, lambda rows: w)
    rough = minimize_batched(fun, torch.as_tensor(starts, dtype=torch.float64), ftol=1e-5, max_iter=60)
    xr, fr = _sorted(rough.x, rough.f)
    best = distinct_minima(xr, fr, polish)
    fine = minimize_batched(fun, torch.as_tensor(best), ftol=1e-13, gtol=1e-12, max_iter=800)
    xf, ff = _sorted(fine.x, fine.f)
    first = int(np.argsort(_finite_or_inf(fine.f), kind="stable")[0])
    if not bool(fine.converged[first]):
        warnings.warn(f"L-BFGS stopped after {fine.iterations} iterations without meeting its tolerances at the "
                      "best start: the fit may sit slightly off its optimum", RuntimeWarning, stacklevel=3)
    return np.concatenate([xf, xr]), np.concatenate([ff, fr])


def _finite_or_inf(f: torch.Tensor) -> np.ndarray:
    fv = f.numpy().copy()
    fv[~np.isfinite(fv)] = np.inf
    return fv


def _sorted(x: torch.Tensor, f: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    fv = _finite_or_inf(f)
    order = np.argsort(fv, kind="stable")
    return x.numpy()[order], fv[order]


def _warn_unconverged(converged: np.ndarray, what: str) -> None:
    """Resamples whose optimiser stopped early would narrow or shift the bootstrap: say how many."""
    bad = int(np.sum(~converged))
    if bad:
        warnings.warn(f"{bad} of {len(converged)} {what} stopped before L-BFGS converged; their draws are kept "
                      "but may understate the spread", RuntimeWarning, stacklevel=4)


def distinct_minima(x: np.ndarray, f: np.ndarray, k: int, tol: float = 0.05) -> np.ndarray:
    """The k best points of a sorted multistart that differ by more than `tol` in some coordinate:
    the distinct basins the grid found, used as warm starts for the bootstrap."""
    keep: list[np.ndarray] = []
    for xi, fi in zip(x, f, strict=True):
        if not np.isfinite(fi):
            break
        if all(np.max(np.abs(xi - kj)) > tol for kj in keep):
            keep.append(xi)
            if len(keep) == k:
                break
    return np.stack(keep)


def bootstrap_weights(n: int, n_bootstrap: int, seed: int, min_distinct: int = 1) -> np.ndarray:
    """Multinomial counts: row r says how often each point appears in resample r.

    Resamples with fewer than `min_distinct` distinct points are drawn again: a law with P
    parameters is not identified by fewer than P distinct points, and on a handful of points
    such resamples are common (5 points: 1 in 20 has <= 2 distinct), where they would fill the
    interval with arbitrary fits.
    """
    rng = np.random.default_rng(seed)
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=n_bootstrap).astype(float)
    if min_distinct > n:
        raise ValueError(f"{n} points cannot give resamples with {min_distinct} distinct points")
    for _ in range(1000):
        bad = np.flatnonzero((w > 0).sum(1) < min_distinct)
        if bad.size == 0:
            break
        w[bad] = rng.multinomial(n, np.full(n, 1.0 / n), size=bad.size)
    return w


def bootstrap(problem: RobustProblem, warm: np.ndarray, weights: np.ndarray, **opts: float) -> np.ndarray:
    """Best fit per resample from each of the K warm starts: (R, P), NaN rows where all failed.

    All R x K problems run as one batch; rows map to resample r = row // K.
    """
    R, K = weights.shape[0], warm.shape[0]
    W = torch.as_tensor(weights, dtype=torch.float64)
    resample = torch.arange(R * K) // K
    fun = _objective(problem, lambda rows: W[resample[rows]])
    x0 = torch.as_tensor(np.tile(warm, (R, 1)), dtype=torch.float64)
    # A relative tolerance of 1e-10 moves parameters by far less than their bootstrap spread.
    res = minimize_batched(fun, x0, **({"ftol": 1e-10, "xtol": 0.0, "max_iter": 300} | opts))
    f = res.f.reshape(R, K).numpy().copy()
    f[~np.isfinite(f)] = np.inf
    best = np.argmin(f, axis=1)
    out = res.x.reshape(R, K, -1).numpy()[np.arange(R), best].copy()
    out[~np.isfinite(f[np.arange(R), best])] = np.nan
    _warn_unconverged(res.converged.reshape(R, K).numpy()[np.arange(R), best], "bootstrap resamples")
    return out


def refine(problem: RobustProblem, x: np.ndarray, weights: np.ndarray, **opts: float) -> np.ndarray:
    """Continue each resample's fit (row r of x under weights r) on another objective."""
    W = torch.as_tensor(weights, dtype=torch.float64)
    fun = _objective(problem, lambda rows: W[rows])
    res = minimize_batched(fun, torch.as_tensor(x, dtype=torch.float64),
                           **({"ftol": 1e-10, "xtol": 0.0, "max_iter": 300} | opts))
    out = res.x.numpy().copy()
    out[~torch.isfinite(res.f).numpy()] = np.nan
    _warn_unconverged(res.converged.numpy(), "refined bootstrap resamples")
    return out


def bootstrap_continuation(problem: RobustProblem, warm: np.ndarray, weights: np.ndarray,
                           deltas: tuple[float, ...] = (1e-3, 1e-4, 1e-5)) -> np.ndarray:
    """Bootstrap for the likelihood variant by continuation in the Huber threshold.

    With sigma profiled out the likelihood's quadratic core is delta * sigma wide (~1e-8 here),
    so the objective is L1-like and L-BFGS crawls along its kinks: started at the full-data
    optimum, many resamples stop early and the bootstrap spread comes out too narrow (A's SE
    97 instead of the paper's 124). Solving the smooth summed-Huber problem first and shrinking its
    threshold (each stage warm-started from the last) walks every resample into its own optimum;
    the SEs then match Besiroglu et al. and the whole run is about twice as fast.
    """
    # the first stage only picks each resample's basin and a start for the next: a loose tolerance
    x = bootstrap(RobustProblem(problem.predict, problem.target, deltas[0], "huber_sum", problem.forward),
                  warm, weights, ftol=1e-7)
    for d in deltas[1:]:
        x = refine(RobustProblem(problem.predict, problem.target, d, "huber_sum", problem.forward), x, weights)
    # The last stage moves little from the 1e-5 one (SEs equal to 4 digits with or without it):
    # ftol 1e-9 halves its time and leaves the SEs unchanged to 5 digits (measured, 4000 resamples).
    return refine(problem, x, weights, ftol=1e-9)
