"""Metrics computed from stored outputs, never from a model: a registry of per-example scorers.

Each metric maps a checkpoint's TokenOutputs (arrays of shape (examples, L)) to one score per
example; curves average these and bootstrap over them. Discrete metrics are all-or-nothing per
example; continuous ones move smoothly with the per-token probabilities. That contrast is the
heart of the "is emergence a mirage?" debate (Schaeffer et al. 2023).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from emergelab.registry import Registry
from emergelab.store import TokenOutputs

MetricFn = Callable[[TokenOutputs], np.ndarray]


@dataclass(frozen=True)
class Metric:
    name: str
    fn: MetricFn
    higher_is_better: bool
    discrete: bool
    description: str

    def __call__(self, out: TokenOutputs) -> np.ndarray:
        return np.asarray(self.fn(out), dtype=float)


METRICS: Registry[Metric] = Registry("metric")


def register_metric(name: str, *, higher_is_better: bool = True, discrete: bool = False) -> Callable[[MetricFn], MetricFn]:
    def deco(fn: MetricFn) -> MetricFn:
        METRICS.add(name, Metric(name, fn, higher_is_better, discrete, (fn.__doc__ or "").strip().splitlines()[0]))
        return fn

    return deco


def get_metric(name: str) -> Metric:
    if name not in METRICS:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
    return METRICS[name]


def levenshtein_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Levenshtein distance between rows of two (n, L1), (n, L2) integer arrays, vectorised over rows."""
    n, l1 = a.shape
    l2 = b.shape[1]
    prev = np.tile(np.arange(l2 + 1), (n, 1))
    for i in range(1, l1 + 1):
        cur = np.empty_like(prev)
        cur[:, 0] = i
        sub = prev[:, :-1] + (a[:, i - 1 : i] != b)
        dele = prev[:, 1:] + 1
        best = np.minimum(sub, dele)
        for j in range(1, l2 + 1):  # insertion depends on the cell to the left
            cur[:, j] = np.minimum(best[:, j - 1], cur[:, j - 1] + 1)
        prev = cur
    return prev[:, -1]


@register_metric("exact_match", discrete=True)
def exact_match(o: TokenOutputs) -> np.ndarray:
    """1 if every greedy answer token equals the target, else 0."""
    return (o.pred == o.target).all(axis=1)


@register_metric("token_accuracy")
def token_accuracy(o: TokenOutputs) -> np.ndarray:
    """Mean per-token correctness of the greedy answer."""
    return (o.pred == o.target).mean(axis=1)


@register_metric("token_edit_distance", higher_is_better=False)
def token_edit_distance(o: TokenOutputs) -> np.ndarray:
    """Levenshtein distance between greedy and target answer tokens."""
    return levenshtein_rows(o.pred, o.target)


@register_metric("target_logprob")
def target_logprob(o: TokenOutputs) -> np.ndarray:
    """Sum of teacher-forced log-probabilities of the target answer tokens."""
    return o.logprob.sum(axis=1)


@register_metric("target_prob")
def target_prob(o: TokenOutputs) -> np.ndarray:
    """Probability of the whole correct answer, exp(target_logprob)."""
    return np.exp(o.logprob.sum(axis=1))


@register_metric("brier", higher_is_better=False)
def brier(o: TokenOutputs) -> np.ndarray:
    """Multi-class Brier score per answer token, 1 − 2·p_target + Σ p_v², averaged over tokens."""
    return (1.0 - 2.0 * np.exp(o.logprob) + o.sum_p2).mean(axis=1)


@register_metric("tf_token_accuracy")
def tf_token_accuracy(o: TokenOutputs) -> np.ndarray:
    """Teacher-forced per-token accuracy (argmax given the correct prefix)."""
    return (o.tf_pred == o.target).mean(axis=1)


DEFAULT_METRICS = ("exact_match", "token_accuracy", "token_edit_distance", "target_logprob", "target_prob", "brier")
