"""Techniques that help only at scale: the gain of a knob value over a baseline, as its own curve.

Wei et al. (2022, "Emergent abilities of large language models", §4) list prompting and
fine-tuning methods — chain of thought, scratchpads, instruction tuning — that *hurt or do nothing*
for small models and help only beyond some scale. The question is about a difference of two
curves, so we analyse that difference directly: for each knob value v (e.g. format=scratchpad) and
a baseline b (format=plain), gain(x) = metric_v(x) − metric_b(x) at every scale both were
measured at. Its interval comes from the two curves' bootstrap replicates (independent test
examples, so the replicates are differenced pair by pair), and the scale where the gain turns
positive is the first upward zero crossing, interpolated in log x like `threshold.crossing`, with
a percentile interval over the replicates.

Labels (95 % pointwise intervals):
  helps_from_start     the gain is already positive at the smallest model;
  helps_only_at_scale  not positive at the smallest model, positive at the largest;
  no_gain              never reliably positive (interval reaches 0 or below at the largest model);
  hurts                reliably negative at the largest model.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from emergelab.analysis.bootstrap import replicate_curves
from emergelab.analysis.curve import Curve
from emergelab.analysis.threshold import crossing, parse_group

GAIN_LABELS = ("helps_from_start", "helps_only_at_scale", "no_gain", "hurts")


@dataclass
class TechniqueGain:
    """gain = metric(knob=value) − metric(knob=baseline) against scale, with its evidence."""

    knob: str
    value: str
    baseline: str
    metric: str
    scale: str
    x: np.ndarray
    gain: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    turns_positive: float  # scale of the first upward zero crossing; NaN if none in range
    turns_positive_lo: float  # percentile interval over replicates; ±inf = outside the range
    turns_positive_hi: float
    label: str
    reason: str

    def as_curve(self) -> Curve:
        """The gain as an ordinary curve (chance 0: no gain), for plots and verdicts."""
        se = (self.hi - self.lo) / (2 * 1.96)
        return Curve(task=f"{self.knob}: {self.value} − {self.baseline}", metric=f"{self.metric} gain",
                     scale=self.scale, x=self.x, y=self.gain, lo=self.lo, hi=self.hi,
                     n=np.full(len(self.x), np.nan), chance=0.0, stderr=se)


def _label(lo: np.ndarray, hi: np.ndarray) -> tuple[str, str]:
    if lo[0] > 0:
        return "helps_from_start", "the gain's interval is above 0 already at the smallest model"
    if lo[-1] > 0:
        return "helps_only_at_scale", "no reliable gain at the smallest model; reliably positive at the largest"
    if hi[-1] < 0:
        return "hurts", "reliably negative at the largest model"
    return "no_gain", "the gain's interval reaches 0 at the largest model"


def _common_points(a: Curve, b: Curve) -> tuple[np.ndarray, np.ndarray]:
    """Indices into a and b of the scales both curves were measured at (relative tolerance 1e-6)."""
    ia, ib = [], []
    for i, x in enumerate(a.x):
        j = np.flatnonzero(np.isclose(b.x, x, rtol=1e-6, atol=0.0))
        if len(j):
            ia.append(i)
            ib.append(int(j[0]))
    return np.array(ia, dtype=int), np.array(ib, dtype=int)


def technique_gain(curve: Curve, base: Curve, knob: str, n_boot: int = 1000, ci: float = 0.95,
                   seed: int = 0) -> TechniqueGain | None:
    """The gain of `curve` over `base` (same metric and scale); None, with a warning, when the two
    share fewer than two scales."""
    value, baseline = parse_group(curve.group).get(knob, "?"), parse_group(base.group).get(knob, "?")
    ia, ib = _common_points(curve, base)
    if len(ia) < 2:
        warnings.warn(f"gain of {knob}={value} over {knob}={baseline} ({curve.metric}): the curves share "
                      f"{len(ia)} scale(s), need 2; skipped", stacklevel=2)
        return None
    dropped = len(curve) + len(base) - 2 * len(ia)
    if dropped:
        warnings.warn(f"gain of {knob}={value} over {knob}={baseline}: {dropped} point(s) measured for only "
                      "one of the two left out", stacklevel=2)
    x = curve.x[ia]
    gain = curve.y[ia] - base.y[ib]
    reps = (replicate_curves(curve.subset(np.isin(np.arange(len(curve)), ia)), n_boot, seed)
            - replicate_curves(base.subset(np.isin(np.arange(len(base)), ib)), n_boot, seed + 1))
    a = (1 - ci) / 2
    lo, hi = np.quantile(reps, a, axis=0), np.quantile(reps, 1 - a, axis=0)
    at, status = crossing(x, gain, 0.0)
    crossings = np.array([_crossing_or_bound(x, r) for r in reps])
    crossings = crossings[~np.isnan(crossings)]
    c_lo = c_hi = math.nan
    if len(crossings):
        c_lo, c_hi = (float(v) for v in np.quantile(crossings, [a, 1 - a], method="inverted_cdf"))
    label, reason = _label(lo, hi)
    return TechniqueGain(knob=knob, value=value, baseline=baseline, metric=curve.metric, scale=curve.scale,
                         x=x, gain=gain, lo=lo, hi=hi, turns_positive=at if status == "crossed" else math.nan,
                         turns_positive_lo=c_lo, turns_positive_hi=c_hi, label=label, reason=reason)


def _crossing_or_bound(x: np.ndarray, y: np.ndarray) -> float:
    value, status = crossing(x, y, 0.0)
    return {"crossed": value, "not_reached": math.inf, "below_range": -math.inf}.get(status, math.nan)


def technique_gains(curves: list[Curve], knob: str, baseline: str | None = None, metric: str = "exact_match",
                    n_boot: int = 1000, seed: int = 0) -> list[TechniqueGain]:
    """Every knob value's gain over `baseline` (default: the first value in sorted order), for
    curves of `metric` that agree on every other knob. Raises ValueError for an unknown knob/baseline."""
    groups: dict[tuple, dict[str, Curve]] = defaultdict(dict)
    for c in curves:
        knobs = parse_group(c.group)
        if c.metric != metric or knob not in knobs:
            continue
        rest = tuple(sorted((k, v) for k, v in knobs.items() if k != knob))
        groups[(c.scale, rest)][knobs[knob]] = c
    if not groups:
        raise ValueError(f"no {metric} curves turn the knob {knob!r}")
    out: list[TechniqueGain] = []
    for by_value in groups.values():
        base_value = baseline if baseline is not None else sorted(by_value)[0]
        if base_value not in by_value:
            raise ValueError(f"baseline {knob}={base_value!r} not measured (values: {', '.join(sorted(by_value))})")
        for value, c in sorted(by_value.items()):
            if value != base_value:
                g = technique_gain(c, by_value[base_value], knob, n_boot=n_boot, seed=seed)
                if g is not None:
                    out.append(g)
    return out
