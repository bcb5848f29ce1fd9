"""pass@k and coverage: metrics computed from per-problem sample counts (n drawn, c correct).

A greedy answer says whether the most likely answer is right; sampling says how likely a right
answer is, which is what pass@k reports and what makes tiny success probabilities of small models
visible at all. Counts come from two sampling schemes:

- `fixed`: n samples per problem, c of them correct. pass@k is Chen et al.'s (2021, the Codex
  paper) unbiased estimator 1 − C(n−c, k)/C(n, k), defined for k ≤ n.
- `until_success`: sampling stopped at the first correct sample (c = 1 after n draws) or at the
  budget (c = 0 after n = budget draws). The first-success index K is geometric, and
  1[K ≤ k] is an unbiased estimate of P(K ≤ k) = 1 − (1 − p)^k = pass@k for every k ≤ budget.
  (The fixed-n formula would be biased here: the stopping rule depends on the outcomes.)

`coverage` is the share of problems solved by at least one of all the samples drawn (Brown et
al. 2024, "Large Language Monkeys", at k = n).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np

from emergelab.metrics.registry import METRICS, Metric, register_metric

Scheme = Literal["fixed", "until_success"]
SCHEMES: tuple[str, ...] = ("fixed", "until_success")
PASS_AT_K = re.compile(r"pass(?:@|_at_)([1-9][0-9]*)")
_PRODUCT_TERMS = 1000  # up to this many factors, problems are summed in lockstep


@dataclass(frozen=True)
class CountOutputs:
    """Sample counts of one checkpoint: per problem (example) n samples drawn, c correct."""

    example_id: np.ndarray  # int, (problems,)
    n: np.ndarray           # int, samples drawn
    c: np.ndarray           # int, correct samples (0 or 1 under until_success)
    scheme: Scheme = "fixed"

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown sampling scheme {self.scheme!r} (known: {', '.join(SCHEMES)})")

    @property
    def n_examples(self) -> int:
        return int(len(self.n))


def pass_at_k(n: np.ndarray | int, c: np.ndarray | int, k: int) -> np.ndarray:
    """Unbiased pass@k per problem from n samples with c correct (Chen et al. 2021), k ≤ n.

    1 − C(n−c, k)/C(n, k), with the ratio written as a product of t = min(c, k) factors,
    Π_j (1 − k/(n−j)) or Π_j (1 − c/(n−j)), summed as log1p terms and finished with −expm1, so a
    tiny pass@k (one success in 10⁶ samples) keeps full relative precision (log-gamma or
    log-beta differences lose ~1e-4 of it there). Products longer than 1000 factors are summed one
    problem at a time instead of in lockstep across problems.
    """
    n_arr, c_arr = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(c, dtype=float))
    if k < 1:
        raise ValueError(f"pass@k needs k >= 1, got {k}")
    if np.any(n_arr < k):
        raise ValueError(f"pass@{k} needs at least {k} samples per problem (smallest n is {int(n_arr.min())})")
    if np.any((c_arr < 0) | (c_arr > n_arr)):
        raise ValueError("counts need 0 <= c <= n")
    out = np.where(n_arr - c_arr < k, 1.0, 0.0)
    mid = (c_arr > 0) & (n_arr - c_arr >= k)
    nm, cm = n_arr[mid], c_arr[mid]
    terms = np.minimum(cm, k)
    other = np.where(cm <= k, float(k), cm)  # Π over the smaller of c, k of (1 − other/(n − j))
    log_ratio = np.zeros(len(nm))
    short = terms <= _PRODUCT_TERMS
    for j in range(int(terms[short].max()) if short.any() else 0):
        use = short & (j < terms)
        log_ratio[use] += np.log1p(-other[use] / (nm[use] - j))
    for i in np.flatnonzero(~short):  # long products one problem at a time, same terms
        log_ratio[i] = np.log1p(-other[i] / (nm[i] - np.arange(terms[i]))).sum()
    out[mid] = -np.expm1(log_ratio)
    return out if out.shape else out[()]


def pass_at_k_until_success(n: np.ndarray, c: np.ndarray, k: int) -> np.ndarray:
    """Unbiased pass@k per problem under sample-until-first-success: 1 if the first success came
    within k draws, 0 if it came later or never within a budget ≥ k, NaN if the budget was < k
    and no success came (nothing is known about draws that were never taken)."""
    n_arr, c_arr = np.asarray(n, dtype=float), np.asarray(c, dtype=float)
    solved = c_arr > 0
    return np.where(solved, (n_arr <= k).astype(float), np.where(n_arr >= k, 0.0, np.nan))


def problem_pass_at_k(counts: CountOutputs, k: int) -> np.ndarray:
    """pass@k per problem under the counts' scheme; NaN for problems with fewer than k samples
    (fixed) or a budget below k without a success (until_success) — callers warn about those."""
    if counts.scheme == "until_success":
        return pass_at_k_until_success(counts.n, counts.c, k)
    n, c = np.asarray(counts.n), np.asarray(counts.c)
    out = np.full(len(n), np.nan)
    ok = n >= k
    if ok.any():
        out[ok] = pass_at_k(n[ok], c[ok], k)
    return out


def problem_coverage(counts: CountOutputs) -> np.ndarray:
    """1 where at least one of the problem's samples was correct."""
    return (np.asarray(counts.c) > 0).astype(float)


def parse_pass_at_k(name: str) -> int | None:
    """`pass@10` (or `pass_at_10`) -> 10; None for any other name."""
    m = PASS_AT_K.fullmatch(name)
    return int(m.group(1)) if m else None


def default_ks(n_min: int) -> list[int]:
    """The k of the default pass@k metrics for counts with at least n_min samples per problem:
    1, 10, 100, ... up to n_min (the estimator is defined only for k ≤ n)."""
    return [10**j for j in range(int(np.floor(np.log10(max(n_min, 1)) + 1e-9)) + 1)]


# ---------------------------------------------------------------- registry entries


@register_metric("coverage", discrete=True, reads="counts")
def coverage(counts: CountOutputs) -> np.ndarray:
    """Share of problems solved by at least one of all the samples drawn (pass@n)."""
    return problem_coverage(counts)


@cache
def pass_at_k_metric(k: int) -> Metric:
    """The metric record of pass@k for one k (every `pass@<k>` name finds it in METRICS)."""
    return Metric(f"pass@{k}", lambda counts: problem_pass_at_k(counts, k), higher_is_better=True, discrete=True,
                  description=f"chance that at least one of {k} samples is correct (unbiased, from counts)",
                  reads="counts")


METRICS.add_family("pass@<k>", PASS_AT_K.pattern, lambda m: pass_at_k_metric(int(m.group(1))))
