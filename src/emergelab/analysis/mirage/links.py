"""Named links from a continuous metric to exact match (Schaeffer, Miranda & Koyejo 2023).

A link turns the continuous metric y into u = −log p, the loss of one *unit* — one answer token
when the metric's record says `per_token`, else the whole answer — so that exact match ≈ p^L
(L answer tokens) or ≈ p. Working with u rather than p keeps tiny probabilities of small models
(a whole-answer log-probability of −40) exact. NaN marks a value the link cannot map (p ≤ 0). Which link a metric uses, and whether it is per token, is a fact
on the metric's record (`emergelab.metrics`); this module only knows the formulas.

Links are approximations, stated so: a curve-level mean of log-probabilities gives
exp(mean log P) ≤ mean P (Jensen), so the log-probability routes slightly under-predict; edit
distance counts substitutions only (p = 1 − d/L); a Brier score fixes p only within bounds (how
the wrong probability mass is spread is unknown), so the Brier link carries both ends and the
route's band covers the two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from emergelab.registry import Registry

LossFn = Callable[[np.ndarray, float | None, float], np.ndarray]  # (y, L, K options) -> u = −log p per unit
GENERIC = "generic"  # a record's link when no formula is known: the route fits a monotone link


@dataclass(frozen=True)
class Link:
    """u = to_loss(y, L, K); `alt_to_loss` is the other end when the link is known only within
    bounds. `label` is how tables show the link to exact match (`per_token` adds the power L)."""

    name: str
    label: str
    to_loss: LossFn
    note: str
    needs_length: bool = False  # needs L even to compute p (edit distance)
    alt_to_loss: LossFn | None = None


LINKS: Registry[Link] = Registry("mirage link")


def _link(name: str, label: str, *, needs_length: bool = False, alt: LossFn | None = None):
    """Decorator: the decorated function is `to_loss`; its docstring is the link's note."""

    def deco(fn: LossFn) -> LossFn:
        LINKS.add(name, Link(name, label, fn, (fn.__doc__ or "").strip(), needs_length, alt))
        return fn

    return deco


def _neg_log(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, -np.log(np.minimum(p, 1.0)), np.nan)


@_link("logprob", "exp(log p)")
def _logprob(y, L, K):
    """p = exp(Σ log p): the probability of the whole target answer."""
    return np.maximum(-np.asarray(y, dtype=float), 0.0)


@_link("probability", "p")
def _probability(y, L, K):
    """p is the metric itself (per-token accuracy, probability of the answer)."""
    return _neg_log(y)


@_link("nll", "exp(-loss)")
def _nll(y, L, K):
    """p = exp(−cross-entropy) per token."""
    return np.maximum(np.asarray(y, dtype=float), 0.0)


@_link("edit_distance", "1-d/L", needs_length=True)
def _edit_distance(y, L, K):
    """p = 1 − d/L: each of the L tokens is wrong with probability 1 − p (substitutions only)."""
    return _neg_log(1.0 - np.asarray(y, dtype=float) / float(L))


def _brier_concentrated(y, L, K):
    """All wrong mass on one competitor: B = 2(1 − p)²."""
    return _neg_log(1.0 - np.sqrt(np.clip(y, 0.0, None) / 2.0))


@_link("brier", "1-sqrt(B)", alt=_brier_concentrated)
def _brier(y, L, K):
    """B = (1 − p)²·K/(K − 1) when the wrong mass is spread evenly over K − 1 options (K = 1/chance,
    or unbounded per token); the band also covers all wrong mass on one option, B = 2(1 − p)²."""
    factor = (K - 1.0) / K if np.isfinite(K) and K > 1 else 1.0
    return _neg_log(1.0 - np.sqrt(np.clip(y, 0.0, None) * factor))
