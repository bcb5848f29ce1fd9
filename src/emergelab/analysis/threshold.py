"""The emergence threshold per knob value: where a discrete metric crosses a fixed level.

A facilitating factor (more of the task in the data mix, a better answer format, a deeper model
at the same size) shows itself as a *moved threshold*: the same ability appearing at a smaller
scale. To compare knob values we need one number per curve with an honest interval, so:

* threshold = the scale x* where the metric (exact match by default) first reaches `level`
  (default 0.5), interpolated linearly in log x between the bracketing points — scaling curves are
  drawn and fitted against log-scale, and log interpolation is invariant to the unit of x;
* interval = percentile interval of the same crossing on bootstrap replicate curves
  (`bootstrap.replicate_curves`: seeds, then examples within seed, resampled per point; normal
  draws around y for imported points with only a standard error);
* a curve that never reaches the level has no threshold ("not_reached": it lies beyond the largest
  model), and one whose smallest model is already above has only an upper bound ("below_range").
  Replicates behave the same way, so an interval end can be ±inf: "at least beyond the range".

An absolute level (not "half-way to the maximum", which `verdict.py` uses) is deliberate here:
curves of different knob values saturate at different heights, and a relative level would then
compare different abilities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from emergelab.analysis.bootstrap import replicate_curves
from emergelab.analysis.curve import Curve

STATUSES = ("crossed", "not_reached", "below_range", "no_data")


@dataclass
class Threshold:
    """The threshold of one curve (one task × knob setting). `value` is NaN unless `status` is
    "crossed"; `lo`/`hi` may be -inf (below the smallest model) or +inf (beyond the largest)."""

    task: str
    metric: str
    scale: str
    group: str
    knobs: dict[str, str]
    level: float
    value: float
    lo: float
    hi: float
    status: str
    reached: float  # fraction of bootstrap replicates that cross inside the measured range
    x_min: float
    x_max: float
    n_points: int
    extra: dict = field(default_factory=dict)

    @property
    def knob(self) -> str:
        return ",".join(self.knobs)

    @property
    def knob_value(self) -> str:
        return ",".join(self.knobs.values())


def parse_group(group: str) -> dict[str, str]:
    """"depth=2,format=plain" → {"depth": "2", "format": "plain"} (the inverse of curves._row)."""
    out = {}
    for part in filter(None, group.split(",")):
        key, _, value = part.partition("=")
        out[key] = value
    return out


def crossing(x: np.ndarray, y: np.ndarray, level: float) -> tuple[float, str]:
    """First upward crossing of `level`, interpolated in log x (linearly where x ≤ 0)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) == 0:
        return math.nan, "no_data"
    above = np.flatnonzero(y >= level)
    if len(above) == 0:
        return math.nan, "not_reached"
    i = int(above[0])
    if i == 0:
        return math.nan, "below_range"
    t = (level - y[i - 1]) / (y[i] - y[i - 1])
    if x[i - 1] > 0 and x[i] > 0:
        return float(np.exp(np.log(x[i - 1]) + t * (np.log(x[i]) - np.log(x[i - 1])))), "crossed"
    return float(x[i - 1] + t * (x[i] - x[i - 1])), "crossed"


def _replicate_crossings(x: np.ndarray, reps: np.ndarray, level: float) -> np.ndarray:
    """Crossing of each replicate curve; +inf when not reached, -inf when below the range."""
    out = np.empty(len(reps))
    for b, y in enumerate(reps):
        value, status = crossing(x, y, level)
        out[b] = {"crossed": value, "not_reached": math.inf, "below_range": -math.inf}.get(status, math.nan)
    return out


def threshold(curve: Curve, level: float = 0.5, n_boot: int = 1000, ci: float = 0.95, seed: int = 0) -> Threshold:
    """The level crossing of one curve with its bootstrap interval (see the module docstring)."""
    value, status = crossing(curve.x, curve.y, level)
    lo = hi = math.nan
    reached = math.nan
    if len(curve) and n_boot > 0:
        crossings = _replicate_crossings(curve.x, replicate_curves(curve, n_boot, seed), level)
        crossings = crossings[~np.isnan(crossings)]
        if len(crossings):
            a = (1 - ci) / 2
            # no interpolation between order statistics: the ends may be ±inf
            lo, hi = (float(v) for v in np.quantile(crossings, [a, 1 - a], method="inverted_cdf"))
            reached = float(np.mean(np.isfinite(crossings)))
    x = curve.x[np.isfinite(curve.x)]
    return Threshold(
        task=curve.task, metric=curve.metric, scale=curve.scale, group=curve.group,
        knobs=parse_group(curve.group), level=level, value=value, lo=lo, hi=hi, status=status,
        reached=reached, x_min=float(x.min()) if len(x) else math.nan,
        x_max=float(x.max()) if len(x) else math.nan, n_points=len(curve),
    )


def _sort_value(v: str) -> tuple:
    try:
        return (0, float(v), "")
    except ValueError:
        return (1, 0.0, v)


def knob_thresholds(curves: list[Curve], metric: str = "exact_match", level: float = 0.5,
                    n_boot: int = 1000, seed: int = 0) -> list[Threshold]:
    """Thresholds of every curve of `metric` that carries a knob setting, ordered by knob, task and
    value (numeric values numerically). Empty when the experiment turns no knob."""
    chosen = [c for c in curves if c.metric == metric and c.group]
    rows = [threshold(c, level, n_boot, seed=seed) for c in chosen]
    return sorted(rows, key=lambda t: (t.knob, t.task, [_sort_value(v) for v in t.knobs.values()]))


def with_group_labels(curves: list[Curve]) -> list[Curve]:
    """Copies whose task names carry the knob setting and other dimensions that split curves
    ("addition [share=0.1]", "lambada_openai [5-shot]"), for tables and analyses that key on the task
    alone (so curves of different knob values, shots or models stay apart)."""
    from dataclasses import replace

    return [replace(c, task=f"{c.task} [{c.series}]") if c.series else c for c in curves]


def describe(t: Threshold) -> str:
    """The threshold as text: "3.1e+03 [1.2e+03, 8e+03]", "not reached (> 2.5e+04)", "≤ 1.8e+03"."""
    def f(v: float) -> str:
        if v == math.inf:
            return f"> {t.x_max:.3g}"
        if v == -math.inf:
            return f"< {t.x_min:.3g}"
        return "nan" if math.isnan(v) else f"{v:.3g}"

    if t.status == "not_reached":
        head = f"not reached (> {t.x_max:.3g})"
    elif t.status == "below_range":
        head = f"below range (≤ {t.x_min:.3g})"
    elif t.status == "no_data":
        return "no data"
    else:
        head = f(t.value)
    return head if math.isnan(t.lo) else f"{head} [{f(t.lo)}, {f(t.hi)}]"


def _json_num(v: float) -> object:
    if math.isnan(v):
        return None
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def to_records(rows: list[Threshold]) -> list[dict]:
    """JSON-able dicts (NaN → None, ±inf → "inf"/"-inf")."""
    return [{"task": t.task, "metric": t.metric, "scale": t.scale, "knob": t.knob, "value": t.knob_value,
             "level": t.level, "threshold": _json_num(t.value), "threshold_lo": _json_num(t.lo),
             "threshold_hi": _json_num(t.hi), "status": t.status, "reached": _json_num(t.reached),
             "x_min": _json_num(t.x_min), "x_max": _json_num(t.x_max), "n_points": t.n_points} for t in rows]
