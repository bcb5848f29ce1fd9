"""Labels: each route on its own, then one overall label that names the route that decided.

Route label (judged at the larger models, x > fit_below, where the discrete metric jumped):

- `undetermined` when the route cannot be built (no answer length for a per-token link, fewer
  than 3 smaller models, a link that cannot be fitted), when its trend has fewer than 2 residual
  degrees of freedom (3 smaller models: t = 12.7), or when its band is *uninformative*:
  wider than `max_band_frac` (½) of the discrete metric's range at any judged model. A band that
  covers most of [0, 1] predicts nothing, so it can neither explain nor refute the jump.
- `metric_artifact` when at least `min_cover` (75 %) of the judged models lie inside the band
  (widened by each point's own noise, ±1.96·se): the continuous metric, extrapolated smoothly
  from the smaller models and passed through its link, predicts the jump.
- otherwise `genuine` when the misses lie mostly above the band (the discrete metric rises more
  than the smooth continuous trend allows: the continuous metric's trend does not explain the
  jump, whether the continuous metric itself jumps or rises smoothly into a link it outgrows), and
  `undetermined` when they lie mostly below (the link over-predicts: it does not hold here).

Overall label (one rule): routes through a named link decide before routes through a fitted
(generic) link; within the first class that has an informative route, `metric_artifact` if any
route says so — one smooth quantity with a link that predicts the jump is enough to explain it
(Schaeffer et al.'s argument is existential) — else `genuine`. `undetermined` routes never decide;
with no informative route the overall label is `undetermined`. The reason names the deciding
route and, when routes disagree, the dissenting ones.

The discrete curve must sit at the floor for its smaller models and then rise (the verdict's
split exists and the verdict is `emergent` or `smooth`): without a jump there is nothing to
explain, and the test answers `undetermined`. Whether the verdict finds the jump predictable from
the discrete metric's own trend is a separate question from whether a continuous metric predicts
it. The smaller models are those up to the split (the last model at the floor), moved up to
include at least 3 continuous points.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from emergelab.analysis.curve import Curve
from emergelab.analysis.mirage.links import GENERIC
from emergelab.analysis.mirage.route import MIN_DOF, MirageRoute, build_route, too_few, unusable_route
from emergelab.analysis.verdict import Verdict, verdict
from emergelab.metrics import metric_record

MIRAGE_LABELS = ("metric_artifact", "genuine", "undetermined")


@dataclass
class MirageResult:
    """The overall label, the route that decided it (`deciding`, a continuous metric name) and
    every route tried, each with its own label and reason."""

    task: str
    discrete_metric: str
    label: str
    discrete: Curve
    routes: list[MirageRoute] = field(default_factory=list)
    deciding: str | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def route(self) -> MirageRoute | None:
        """The deciding route, else the first one with a prediction (for plots)."""
        for r in self.routes:
            if r.continuous_metric == self.deciding:
                return r
        return next((r for r in self.routes if np.isfinite(r.pred).any()), None)


def judge_route(route: MirageRoute, *, min_cover: float = 0.75, max_band_frac: float = 0.5) -> MirageRoute:
    """Fill `covered`, `band_width`, `label` and `reason` of a built route (module doc)."""
    j = route.judged & np.isfinite(route.observed)
    name = f"{route.continuous_metric} via {route.link_label}"
    if not j.any():
        route.label, route.reason = "undetermined", f"{name}: no larger models to compare with"
        return route
    lo, hi = route.lo[j], route.hi[j]
    width = np.where(np.isfinite(lo) & np.isfinite(hi), hi - lo, np.inf)
    route.band_width = float(np.max(width))
    if route.params.get("dof", MIN_DOF) < MIN_DOF:
        route.label = "undetermined"
        route.reason = f"{name}: {too_few(int(route.params['points']), int(route.params['dof']))}"
        return route
    limit = max_band_frac * route.range_width
    if not route.band_width <= limit:
        worst = int(np.argmax(width))
        route.label = "undetermined"
        fitted = (f"; trend from {int(route.params['points'])} smaller models, {int(route.params['dof'])} dof"
                  if "dof" in route.params else "")
        route.reason = (f"{name}: band uninformative, {route.band_width:.3g} wide at x = {route.x[j][worst]:.3g} "
                        f"(> {max_band_frac:g} of the range){fitted}")
        return route
    se = np.where(np.isfinite(route.observed_se), route.observed_se, 0.0)[j]
    obs = route.observed[j]
    above = obs > hi + 1.96 * se
    below = obs < lo - 1.96 * se
    route.covered = np.zeros(len(route.x), dtype=bool)
    route.covered[np.flatnonzero(j)] = ~(above | below)
    n, k = int(j.sum()), int((~(above | below)).sum())
    if k >= min_cover * n:
        route.label = "metric_artifact"
        route.reason = f"{name} fitted below {route.fit_below:.3g} predicts the jump: {k}/{n} larger models inside the band"
    elif above.sum() >= below.sum():
        route.label = "genuine"
        route.reason = (f"{route.discrete_metric} rises above what {name} predicts at {int(above.sum())}/{n} "
                        "larger models: its smooth trend from the smaller models does not explain the jump")
    else:
        route.label = "undetermined"
        route.reason = f"{name} over-predicts {int(below.sum())}/{n} larger models: the link does not hold here"
    return route


def overall(routes: list[MirageRoute]) -> tuple[str, str | None, str]:
    """(label, deciding continuous metric, reason) by the one rule in the module doc."""
    for kind, named in (("named link", True), ("fitted link", False)):
        cls = [r for r in routes if (r.link != GENERIC) == named and r.label != "undetermined"]
        if not cls:
            continue
        art = [r for r in cls if r.label == "metric_artifact"]
        deciding = art[0] if art else cls[0]
        others = [r.continuous_metric for r in cls if r.label != deciding.label]
        dissent = f" ({', '.join(others)} disagree)" if others else ""
        return deciding.label, deciding.continuous_metric, f"decided by {deciding.continuous_metric} ({kind}){dissent}: {deciding.reason}"
    return "undetermined", None, "no route gives an informative band"


class MirageNotice(UserWarning):
    """Points the mirage test could not use (shown by the CLI)."""


def _usable(c: Curve) -> Curve:
    """The curve without points at a non-positive or missing scale or value (a log scale and a
    link need both), with a warning naming what was left out."""
    ok = np.isfinite(c.x) & (c.x > 0) & np.isfinite(c.y)
    if ok.all():
        return c
    warnings.warn(f"mirage test: {c.task}/{c.metric}: left out {int((~ok).sum())} point(s) at a non-positive "
                  f"or missing scale or value (x = {', '.join(f'{v:g}' for v in c.x[~ok][:4])})",
                  MirageNotice, stacklevel=3)
    return c.subset(ok)


def _default_fit_below(dv: Verdict, discrete: Curve, continuous: Curve) -> float:
    fb = dv.split_x if dv.split_x is not None else float(np.median(discrete.x))
    xs = np.sort(continuous.x[np.isfinite(continuous.y)])
    if xs.size >= 4 and np.sum(xs <= fb) < 3:
        fb = float(xs[2])
    return float(fb)


def mirage(
    discrete: Curve, continuous: Curve | list[Curve], *, fit_below: float | None = None,
    answer_length: float | None = None, level: float = 0.95, min_cover: float = 0.75,
    max_band_frac: float = 0.5, discrete_verdict: Verdict | None = None,
) -> MirageResult:
    """Metric-artifact test of one discrete curve against its continuous counterparts (module doc).
    `fit_below` defaults to the discrete verdict's split; giving it skips the emergence check."""
    cands = [continuous] if isinstance(continuous, Curve) else list(continuous)
    cands = [_usable(c) for c in cands if c.task == discrete.task and c is not discrete]
    discrete = _usable(discrete)
    out = MirageResult(discrete.task, discrete.metric, "undetermined", discrete)
    dv = None
    if fit_below is None:
        dv = discrete_verdict or verdict(discrete, n_boot=0)
        if dv.split_x is None or dv.label not in ("emergent", "smooth"):
            out.reasons.append(f"{discrete.metric} does not rise from a floor of smaller models ({dv.label}); "
                               "no jump to explain")
            return out
    for c in cands:
        fb = fit_below if fit_below is not None else _default_fit_below(dv, discrete, c)
        try:
            route = build_route(discrete, c, fb, answer_length=answer_length, level=level)
        except ValueError as exc:
            out.routes.append(unusable_route(discrete, c, fb, str(exc)))
            continue
        out.routes.append(judge_route(route, min_cover=min_cover, max_band_frac=max_band_frac))
    if not out.routes:
        out.reasons.append(f"no continuous counterpart of {discrete.metric} for task {discrete.task}")
        return out
    out.label, out.deciding, reason = overall(out.routes)
    out.reasons.append(reason)
    return out


def mirage_for_task(curves: list[Curve], discrete: Curve, **kw) -> MirageResult:
    """`mirage` with the continuous counterparts picked from `curves`: same task, scale and group,
    and a metric whose record has a link."""
    cont = [c for c in curves if c.task == discrete.task and c.scale == discrete.scale
            and c.group == discrete.group and has_link(c.metric)]
    return mirage(discrete, cont, **kw)


def has_link(metric: str) -> bool:
    """True when the metric's record is continuous with a (named or generic) link to exact match."""
    rec = metric_record(metric, warn=False)
    return not rec.discrete and rec.link is not None
