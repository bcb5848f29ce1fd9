"""Metrics computed from stored outputs, never from a model: a registry of per-example scorers,
and the one place where what is known about a metric lives.

Each native metric maps a checkpoint's TokenOutputs (arrays of shape (examples, L)) to one score
per example; curves average these and bootstrap over them. Discrete metrics are all-or-nothing per
example; continuous ones move smoothly with the per-token probabilities. That contrast is the
heart of the "is emergence a mirage?" debate (Schaeffer et al. 2023).

Every metric, native or only ever imported (lm-eval `acc`, BIG-bench `multiple_choice_grade`,
`bleu`, `ppl`, ...), has ONE `Metric` record with its facts: discrete or continuous, which way is
better, its range, its chance level when the metric alone fixes it, and its link to exact match
(which mirage link applies and whether it acts per answer token, so needs the answer length L).
Imported-only records have no scoring function (`fn is None`); they live in `DECLARED` (see
`metrics/imported.py`), while `METRICS` holds the native scorers. `metric_record(name)` finds the
record for any name a result file may use (aliases, lm-eval filter suffixes, pass@k); an unknown
name gets a warning and a stated default record, never a silent guess.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from emergelab.registry import Registry
from emergelab.store import TokenOutputs

MetricFn = Callable[[TokenOutputs], np.ndarray]
INF = math.inf


@dataclass(frozen=True)
class Metric:
    """One metric and its facts. `link` names the mirage link to exact match (`analysis.mirage`
    LINKS: "logprob", "probability", "nll", "edit_distance", "brier", or "generic" for a monotone
    link fitted on the data); None for discrete metrics. `per_token`: the link gives a per-token
    success probability p and exact match ≈ p^L. `chance`: the floor of a guessing model when the
    metric alone fixes it (None: unknown or task-dependent; `chance_from_choices` says it is
    1 / number of choices, known per task). `log_scale`: the metric spans orders of magnitude
    (perplexity), so trends and links use its logarithm. `reads`: what the scorer takes — "tokens"
    (a checkpoint's TokenOutputs) or "counts" (per-problem sample counts, `metrics.sampling.
    CountOutputs`: pass@k, coverage)."""

    name: str
    fn: MetricFn | None
    higher_is_better: bool
    discrete: bool
    description: str
    range: tuple[float, float] = (0.0, 1.0)
    chance: float | None = None
    chance_from_choices: bool = False
    link: str | None = None
    per_token: bool = False
    log_scale: bool = False
    aliases: tuple[str, ...] = ()
    reads: str = "tokens"
    known: bool = True  # False only for the default record `metric_record` makes up for an unknown name

    def __call__(self, out: TokenOutputs) -> np.ndarray:
        if self.fn is None:
            raise ValueError(f"metric {self.name!r} is only imported: it has no scorer for stored outputs")
        return np.asarray(self.fn(out), dtype=float)

    @property
    def native(self) -> bool:
        """True when emergelab can compute it from stored outputs."""
        return self.fn is not None


METRICS: Registry[Metric] = Registry("metric")
DECLARED: Registry[Metric] = Registry("imported metric")
ALIASES: dict[str, str] = {}  # other names result files use -> record name


def _file(record: Metric, registry: Registry[Metric]) -> Metric:
    for name in (record.name, *record.aliases):
        if name in METRICS or name in DECLARED or name in ALIASES:
            raise ValueError(f"metric {name!r} registered twice")
    registry.add(record.name, record)
    ALIASES.update({a: record.name for a in record.aliases})
    return record


def register_metric(name: str, *, higher_is_better: bool = True, discrete: bool = False,
                    range: tuple[float, float] = (0.0, 1.0), chance: float | None = None,
                    link: str | None = None, per_token: bool = False, log_scale: bool = False,
                    aliases: tuple[str, ...] = (), reads: str = "tokens") -> Callable[[MetricFn], MetricFn]:
    """Decorator: a native scorer with its facts (see `Metric`)."""

    def deco(fn: MetricFn) -> MetricFn:
        _file(Metric(name, fn, higher_is_better, discrete, (fn.__doc__ or "").strip().splitlines()[0],
                     range, chance, False, link, per_token, log_scale, aliases, reads), METRICS)
        return fn

    return deco


def declare_metric(name: str, description: str, *, higher_is_better: bool = True, discrete: bool = False,
                   range: tuple[float, float] = (0.0, 1.0), chance: float | None = None,
                   chance_from_choices: bool = False, link: str | None = None, per_token: bool = False,
                   log_scale: bool = False, aliases: tuple[str, ...] = ()) -> Metric:
    """The facts of a metric that only arrives in imported results (no scorer here)."""
    return _file(Metric(name, None, higher_is_better, discrete, description, range, chance,
                        chance_from_choices, link, per_token, log_scale, aliases), DECLARED)


_PASS_AT_K = re.compile(r"pass(?:@|_at_)(\d+)")
_LOWER_WORDS = ("error", "err", "loss", "perplexity", "ppl", "distance", "bits", "wer", "cer", "ter")


def _says_lower_is_better(name: str) -> bool:
    """Whether a metric name contains a lower-is-better word as a whole word (`word_error_rate`,
    `bits_per_byte`, `wer`), not inside another word (`pct_stereotype` holds "ter", `answer_f1` "wer")."""
    words = re.split(r"[^a-z0-9]+", name.lower())
    return any(w in _LOWER_WORDS or w.rstrip("s") in _LOWER_WORDS for w in words)


class UnknownMetricWarning(UserWarning):
    """An imported metric name no record describes; a default record was used."""


def base_name(name: str) -> str:
    """`acc,none` -> `acc`; `exact_match,strict-match` -> `exact_match` (lm-eval v0.4 filters)."""
    return name.split(",", 1)[0].strip()


def metric_record(name: str, *, warn: bool = True) -> Metric:
    """The record for any metric name: native or declared, through aliases and lm-eval filter
    suffixes; `pass@k` is a discrete rate. An unknown name gets a default record — continuous,
    range unknown, a generic fitted mirage link, lower-is-better only when the name says
    error/loss/perplexity/distance — and an `UnknownMetricWarning` saying so."""
    base = base_name(name)
    key = ALIASES.get(base, base)
    for registry in (METRICS, DECLARED):
        if key in registry:
            return registry[key]
    if _PASS_AT_K.fullmatch(base):
        return Metric(base, None, True, True, "fraction of problems solved within k samples")
    lower = _says_lower_is_better(base)
    if warn:
        warnings.warn(
            f"unknown metric {name!r}: treated as continuous, {'lower' if lower else 'higher'} is better, "
            "range unknown, generic mirage link (declare it in emergelab.metrics.imported to say otherwise)",
            UnknownMetricWarning, stacklevel=2)
    return Metric(base, None, not lower, False, "unknown metric (default facts)", (-INF, INF), link="generic",
                  known=False)


def with_facts(record: Metric, **facts: object) -> Metric:
    """A copy of `record` with some facts overridden (e.g. an orientation stated by the file)."""
    return replace(record, **facts)


def get_metric(name: str) -> Metric:
    return METRICS[name]  # an unknown name: UnknownNameError (a KeyError) with "did you mean"


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


@register_metric("exact_match", discrete=True, aliases=("em", "exact", "exact_str_match"))
def exact_match(o: TokenOutputs) -> np.ndarray:
    """1 if every greedy answer token equals the target, else 0."""
    return (o.pred == o.target).all(axis=1)


@register_metric("token_accuracy", link="probability", per_token=True, aliases=("per_token_accuracy",))
def token_accuracy(o: TokenOutputs) -> np.ndarray:
    """Mean per-token correctness of the greedy answer."""
    return (o.pred == o.target).mean(axis=1)


@register_metric("token_edit_distance", higher_is_better=False, range=(0.0, INF), link="edit_distance",
                 per_token=True)
def token_edit_distance(o: TokenOutputs) -> np.ndarray:
    """Levenshtein distance between greedy and target answer tokens."""
    return levenshtein_rows(o.pred, o.target)


@register_metric("target_logprob", range=(-INF, 0.0), link="logprob",
                 aliases=("loglikelihood", "target_loglikelihood"))
def target_logprob(o: TokenOutputs) -> np.ndarray:
    """Sum of teacher-forced log-probabilities of the target answer tokens."""
    return o.logprob.sum(axis=1)


@register_metric("target_prob", link="probability")
def target_prob(o: TokenOutputs) -> np.ndarray:
    """Probability of the whole correct answer, exp(target_logprob)."""
    return np.exp(o.logprob.sum(axis=1))


@register_metric("brier", higher_is_better=False, range=(0.0, 2.0), link="brier", per_token=True)
def brier(o: TokenOutputs) -> np.ndarray:
    """Multi-class Brier score per answer token, 1 − 2·p_target + Σ p_v², averaged over tokens."""
    return (1.0 - 2.0 * np.exp(o.logprob) + o.sum_p2).mean(axis=1)


@register_metric("tf_token_accuracy", link="probability", per_token=True)
def tf_token_accuracy(o: TokenOutputs) -> np.ndarray:
    """Teacher-forced per-token accuracy (argmax given the correct prefix)."""
    return (o.tf_pred == o.target).mean(axis=1)


DEFAULT_METRICS = ("exact_match", "token_accuracy", "token_edit_distance", "target_logprob", "target_prob", "brier")
