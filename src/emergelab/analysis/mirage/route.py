"""One route of the mirage test: the discrete metric predicted from one continuous metric.

A route fits the continuous metric on the smaller models only (x ≤ fit_below), extrapolates it
with a prediction band, and maps it to the discrete metric through a link:

- *named link* (`links.py`): y → success probability p of one unit; u = −log p is fitted as a
  power law u = A·x^b (weighted least squares in log–log, the form of Schaeffer et al.'s toy;
  covariance inflated by the reduced χ² when the points scatter more than their noise says);
  the prediction is floor + (best − floor)·exp(−m·u), m = L per token, else 1.
- *generic link* (metrics without a formula: BLEU, chrF, perplexity, ...): the metric becomes a
  loss-like u from its record's range (−log of the normalised score, log perplexity, ...), u is
  extrapolated as a power law from the smaller models as above, and mapped through a fitted
  compounding link D = floor + (best − floor)·exp(−c·u^b) (p^L is the case b = 1, c = L).
  The link cannot be identified from models at the floor, so for each larger model it is fitted
  on all *other* models (leave-one-out): the comparison then tests the extrapolated continuous
  metric, never the point's own value.

The band is the `level` prediction interval of the extrapolation (t quantile with the fit's
degrees of freedom), mapped through the link. A band counts only with at least `MIN_DOF` = 2
residual degrees of freedom (4 usable smaller models): through 3 points the trend's form is
checked by one residual and t = 12.7, so the judge calls such a route `undetermined` whatever its
band looks like (the prediction is still drawn, for the reader).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

from emergelab.analysis.bootstrap import point_stderr
from emergelab.analysis.curve import Curve
from emergelab.analysis.mirage.links import GENERIC, LINKS, Link
from emergelab.metrics import Metric, metric_record

_EPS = 1e-12
MIN_DOF = 2  # a trend's band counts only when its form is checked by at least 2 residual dof


def too_few(points: int, dof: int) -> str:
    return (f"trend from {points} smaller models leaves {dof} degree(s) of freedom (< {MIN_DOF}): "
            "its band would rest on an unchecked form (t = 12.7 at 1 dof)")


@dataclass
class MirageRoute:
    """The discrete metric predicted from one continuous metric, at every scale `x` of the
    discrete curve — the record the report draws (observed discrete points, `pred` with its
    band `lo`..`hi`, a vertical line at `fit_below`) and the table prints.

    `judged` marks the larger models the route is judged on (x > fit_below); `covered` says
    whether each observed point lies inside the band widened by its own noise (±1.96·se);
    `band_width` is the widest band over the judged points, in the discrete metric's units.
    `label` / `reason` are filled by the judge (`judge.py`)."""

    task: str
    discrete_metric: str
    continuous_metric: str
    link: str  # name in LINKS, or "generic"
    link_label: str  # e.g. "(p)^L", "(1 - d/L)^L", "exp(-c u^b)"
    fit_below: float
    x: np.ndarray
    observed: np.ndarray
    observed_se: np.ndarray
    pred: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    judged: np.ndarray
    covered: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    band_width: float = float("nan")
    range_width: float = float("nan")
    label: str = "undetermined"
    reason: str = ""
    params: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def largest(self) -> tuple[float, float]:
        """(predicted, observed) at the largest model."""
        return float(self.pred[-1]), float(self.observed[-1])


@dataclass(frozen=True)
class DiscreteFacts:
    """Where the discrete metric starts (floor: chance or its worst value) and ends (best)."""

    floor: float
    best: float
    range_width: float


def discrete_facts(discrete: Curve) -> DiscreteFacts:
    rec = metric_record(discrete.metric, warn=False)
    lo, hi = rec.range
    if not (np.isfinite(lo) and np.isfinite(hi)):
        y = discrete.y[np.isfinite(discrete.y)]
        lo, hi = (float(y.min()), float(y.max())) if y.size else (0.0, 1.0)
    best = hi if discrete.higher_is_better else lo
    worst = lo if discrete.higher_is_better else hi
    chance = discrete.chance if discrete.chance is not None else rec.chance
    return DiscreteFacts(float(chance) if chance is not None else worst, best, hi - lo)


def _t(level: float, dof: int) -> float:
    return float(stats.t.ppf(0.5 + level / 2, dof))


def _paired(discrete: Curve, continuous: Curve) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i in discrete, j in continuous) of the same scale x (relative tolerance 1e-9)."""
    di, cj = [], []
    for i, x in enumerate(discrete.x):
        hit = np.flatnonzero(np.isclose(continuous.x, x, rtol=1e-9, atol=0.0))
        if hit.size and np.isfinite(continuous.y[hit[0]]):
            di.append(i)
            cj.append(int(hit[0]))
    return np.array(di, dtype=int), np.array(cj, dtype=int)


def _wls_line(t: np.ndarray, v: np.ndarray, sv: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """v = a + b·t by weighted least squares; covariance inflated by χ²/dof when above 1."""
    w = 1.0 / np.maximum(sv, 1e-9) ** 2
    X = np.stack([np.ones_like(t), t], axis=1)
    cov = np.linalg.pinv(X.T @ (w[:, None] * X))
    coef = cov @ (X.T @ (w * v))
    dof = len(t) - 2
    chi2 = float(np.sum(w * (v - X @ coef) ** 2))
    return coef, cov * max(1.0, chi2 / dof), dof


def _line_predict(coef: np.ndarray, cov: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = coef[0] + coef[1] * t
    var = cov[0, 0] + 2 * cov[0, 1] * t + cov[1, 1] * t**2
    return mean, np.sqrt(np.maximum(var, 0.0))


def _small(continuous: Curve, fit_below: float) -> Curve:
    mask = (continuous.x <= fit_below) & np.isfinite(continuous.y)
    if mask.sum() < 3:
        raise ValueError(f"{int(mask.sum())} {continuous.metric} points at scale <= {fit_below:g}; "
                         "a trend with a band needs at least 3")
    return continuous.subset(mask)


def _se(curve: Curve) -> np.ndarray:
    se = point_stderr(curve)
    return np.where(np.isfinite(se), se, 0.0)


def _empty_route(discrete: Curve, continuous: Curve, rec: Metric, fit_below: float, link_name: str,
                 label: str) -> MirageRoute:
    facts = discrete_facts(discrete)
    nan = np.full(len(discrete), np.nan)
    return MirageRoute(discrete.task, discrete.metric, continuous.metric, link_name, label, float(fit_below),
                       discrete.x.copy(), discrete.y.copy(), _se(discrete), nan.copy(), nan.copy(), nan.copy(),
                       discrete.x > fit_below, range_width=facts.range_width)


def link_label(link: Link, rec: Metric) -> str:
    """How a table shows the link to exact match: "p^L", "(1-d/L)^L", "exp(log p)", ..."""
    if not rec.per_token:
        return link.label
    return f"{link.label}^L" if len(link.label) == 1 else f"({link.label})^L"


def unusable_route(discrete: Curve, continuous: Curve, fit_below: float, reason: str) -> MirageRoute:
    """The row of a route that could not be built: `undetermined`, with the reason."""
    rec = metric_record(continuous.metric, warn=False)
    label = link_label(LINKS[rec.link], rec) if rec.link in LINKS else (rec.link or "-")
    route = _empty_route(discrete, continuous, rec, fit_below, rec.link or "-", label)
    route.reason = f"{continuous.metric}: {reason}"
    return route


def named_route(discrete: Curve, continuous: Curve, link: Link, rec: Metric, fit_below: float, *,
                answer_length: float | None, level: float) -> MirageRoute:
    """Power law in u = −log p on the smaller models, mapped to exact match ≈ p^m (module doc)."""
    if (rec.per_token or link.needs_length) and not answer_length:
        raise ValueError(f"{continuous.metric} needs the answer length L (--answer-length)")
    power = float(answer_length) if rec.per_token else 1.0
    label = link_label(link, rec)
    facts = discrete_facts(discrete)
    K = 1.0 / facts.floor if rec.link == "brier" and 0 < facts.floor < 1 and not rec.per_token else np.inf
    small = _small(continuous, fit_below)
    route = _empty_route(discrete, continuous, rec, fit_below, link.name, label)
    se_y = _se(small)
    lx_all = np.log(discrete.x)
    preds, los, his = [], [], []
    for to_loss in [link.to_loss] + ([link.alt_to_loss] if link.alt_to_loss else []):
        u = to_loss(small.y, answer_length, K)
        ends = np.stack([to_loss(small.y - se_y, answer_length, K), to_loss(small.y + se_y, answer_length, K)])
        ok = np.isfinite(u) & (u > 0) & np.all(np.isfinite(ends) & (ends > 0), axis=0)
        if ok.sum() < 3:
            raise ValueError(f"{int(ok.sum())} smaller models where {continuous.metric} resolves a success "
                             "probability (> 0 within its noise); a trend with a band needs at least 3")
        if not ok.all() and to_loss is link.to_loss:
            route.notes.append(f"{int((~ok).sum())} smaller models left out: {continuous.metric} there is "
                               "within noise of zero success probability")
        s_lu = np.maximum(np.abs(np.log(ends[1, ok]) - np.log(ends[0, ok])) / 2.0, 1e-3)
        coef, cov, dof = _wls_line(np.log(small.x[ok]), np.log(u[ok]), s_lu)
        if dof < 1:
            raise ValueError(too_few(int(ok.sum()), dof))
        mean, sd = _line_predict(coef, cov, lx_all)
        q = _t(level, dof)
        to_d = lambda lu: facts.floor + (facts.best - facts.floor) * np.exp(-power * np.exp(lu))  # noqa: E731
        preds.append(to_d(mean))
        los.append(to_d(mean + q * sd))  # larger loss -> lower success
        his.append(to_d(mean - q * sd))
        route.params.setdefault("exponent", float(coef[1]))
        route.params.setdefault("log_amplitude", float(coef[0]))
        route.params.setdefault("points", float(ok.sum()))
        route.params.setdefault("dof", float(dof))
    route.pred = preds[0]
    route.lo, route.hi = np.minimum.reduce(los + his), np.maximum.reduce(los + his)
    route.notes.append(f"power law u = A·x^b on {int(route.params['points'])} points: b = {route.params['exponent']:.3g}")
    route.notes.append(link.note)
    return route


def _link_fit(z: np.ndarray, d: np.ndarray, sd: np.ndarray, facts: DiscreteFacts):
    """D = floor + span·exp(−exp(a + b·z)) by weighted least squares (z = log u: D = exp(−c·u^b),
    which holds Schaeffer's p^L exactly at b = 1, c = L). Returns a predictor of (mean, sd) at new
    z, or None when the link cannot be fitted (degenerate or unidentified points)."""
    span = facts.best - facts.floor
    zc, zs = float(np.mean(z)), float(np.std(z)) or 1.0
    t = (z - zc) / zs
    w = 1.0 / np.maximum(sd, 1e-6)

    def mean_of(th, tv):
        return facts.floor + span * np.exp(-np.exp(np.clip(th[0] + th[1] * tv, -50, 50)))

    frac = np.clip((d - facts.floor) / span, 1e-3, 1 - 1e-3)
    b0 = np.polyfit(t, np.log(-np.log(frac)), 1) if np.ptp(t) > 0 else np.array([0.0, 0.0])
    fit = optimize.least_squares(lambda th: (mean_of(th, t) - d) * w, np.array([b0[1], b0[0]]), method="lm")
    dof = len(z) - 2
    try:
        cov = np.linalg.inv(fit.jac.T @ fit.jac) * max(1.0, 2 * fit.cost / max(dof, 1))
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(cov)):
        return None
    th = fit.x

    def predict(znew: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tn = (np.asarray(znew, dtype=float) - zc) / zs
        e = np.exp(np.clip(th[0] + th[1] * tn, -50, 50))
        dm = -span * np.exp(-e) * e  # d mean / d(a + b·t)
        g = np.stack([dm, dm * tn])
        var = np.einsum("in,ij,jn->n", g, cov, g)
        return mean_of(th, tn), np.sqrt(np.maximum(var, 0.0))

    return predict


def loss_like(rec: Metric) -> Callable[[np.ndarray], np.ndarray] | None:
    """y → a loss-like u > 0 that falls towards 0 as the metric improves, from the record's range
    and orientation: −log of the normalised score for a bounded metric (chrF/100, F1), log(y/lo)
    for a log-scale metric bounded below (perplexity: the mean NLL), y − lo for an error bounded
    below (TER); None when the range says nothing (then z = y itself is extrapolated)."""
    lo, hi = rec.range
    if np.isfinite(lo) and np.isfinite(hi):
        span = hi - lo
        frac = (lambda y: (y - lo) / span) if rec.higher_is_better else (lambda y: (hi - y) / span)
        return lambda y: _neg_log_pos(frac(np.asarray(y, dtype=float)))
    if not rec.higher_is_better and np.isfinite(lo):
        if rec.log_scale and lo > 0:
            return lambda y: np.log(np.asarray(y, dtype=float) / lo)
        return lambda y: np.asarray(y, dtype=float) - lo
    return None


def _neg_log_pos(v: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, -np.log(np.minimum(v, 1.0)), np.nan)


def generic_route(discrete: Curve, continuous: Curve, rec: Metric, fit_below: float, *,
                  level: float) -> MirageRoute:
    """z = log u (u: `loss_like`) linear in log x on the smaller models — a power law in u, as on
    the named routes — and a link D = exp(−c·u^b) fitted leave-one-out maps it to the discrete
    metric (module doc)."""
    facts = discrete_facts(discrete)
    small = _small(continuous, fit_below)
    u_of = loss_like(rec)
    tr = (lambda y: np.log(u_of(y))) if u_of is not None else (lambda y: np.asarray(y, dtype=float))  # noqa: E731
    route = _empty_route(discrete, continuous, rec, fit_below, GENERIC,
                         "exp(-c u^b)" if u_of is not None else "exp(-exp(a+b y))")
    se_y = _se(small)
    with np.errstate(invalid="ignore", divide="ignore"):
        z, z_a, z_b = tr(small.y), tr(small.y - se_y), tr(small.y + se_y)
    ok = np.isfinite(z) & np.isfinite(z_a) & np.isfinite(z_b)
    if ok.sum() < 3:
        raise ValueError(f"{int(ok.sum())} smaller models where {continuous.metric} is resolved within its "
                         "noise; a trend with a band needs at least 3")
    s_z = np.maximum(np.abs(z_b[ok] - z_a[ok]) / 2.0, 1e-6 * (np.ptp(z[ok]) or 1.0))
    coef, cov, dof = _wls_line(np.log(small.x[ok]), z[ok], s_z)
    if dof < 1:
        raise ValueError(too_few(int(ok.sum()), dof))
    zm, zsd = _line_predict(coef, cov, np.log(discrete.x))
    q = _t(level, dof)
    di, cj = _paired(discrete, continuous)
    with np.errstate(invalid="ignore", divide="ignore"):
        z_obs = tr(continuous.y[cj])
    fin = np.isfinite(z_obs) & np.isfinite(discrete.y[di])
    di, z_obs = di[fin], z_obs[fin]
    d_obs, d_se = discrete.y[di], route.observed_se[di]
    qn = float(stats.norm.ppf(0.5 + level / 2))
    for i in np.flatnonzero(route.judged):
        keep = di != i
        if keep.sum() < 3 or np.ptp(z_obs[keep]) <= 0:
            continue
        link = _link_fit(z_obs[keep], d_obs[keep], np.maximum(d_se[keep], 1e-4), facts)
        if link is None:
            continue
        m, s = link(np.array([zm[i], zm[i] - q * zsd[i], zm[i] + q * zsd[i]]))
        route.pred[i] = m[0]
        route.lo[i] = max(float(np.min(m[1:] - qn * s[1:])), min(facts.floor, facts.best))
        route.hi[i] = min(float(np.max(m[1:] + qn * s[1:])), max(facts.floor, facts.best))
    route.params.update({"slope": float(coef[1]), "intercept": float(coef[0]), "points": float(ok.sum()),
                         "dof": float(dof)})
    route.notes.append(f"{'log u' if u_of is not None else continuous.metric} linear in log x on "
                       f"{int(ok.sum())} points; link exp(-c·u^b) fitted leave-one-out on the other models")
    return route


def build_route(discrete: Curve, continuous: Curve, fit_below: float, *, answer_length: float | None = None,
                level: float = 0.95) -> MirageRoute:
    """The route from `continuous` to `discrete` through the link on the continuous metric's
    record. Raises ValueError when the route cannot be built (the reason is the message)."""
    rec = metric_record(continuous.metric, warn=False)
    if rec.discrete:
        raise ValueError(f"{continuous.metric} is discrete, not a continuous counterpart")
    if rec.link is None:
        raise ValueError(f"{continuous.metric} has no link to {discrete.metric}")
    length = answer_length or continuous.answer_len or discrete.answer_len
    if rec.link == GENERIC:
        return generic_route(discrete, continuous, rec, fit_below, level=level)
    return named_route(discrete, continuous, LINKS[rec.link], rec, fit_below, answer_length=length, level=level)


def predict_via_continuous(discrete: Curve, continuous: Curve, fit_below: float, *, answer_length: float | None = None,
                           level: float = 0.95, x: np.ndarray | None = None) -> MirageRoute:
    """The discrete metric predicted at `x` (default: the discrete curve's scales) from a continuous
    curve fitted on x ≤ fit_below through a *named* link (the forecast method `via_continuous`:
    only the smaller models are seen, so a fitted link cannot be identified). Raises ValueError
    when the route cannot be built."""
    rec = metric_record(continuous.metric, warn=False)
    if rec.link in (None, GENERIC):
        raise ValueError(f"{continuous.metric} has no named link to {discrete.metric}")
    if x is not None:
        xs = np.asarray(x, dtype=float)
        nan = np.full(len(xs), np.nan)
        discrete = Curve(discrete.task, discrete.metric, discrete.scale, xs, nan, nan, nan, nan,
                         higher_is_better=discrete.higher_is_better, chance=discrete.chance,
                         discrete=discrete.discrete, answer_len=discrete.answer_len)
    return build_route(discrete, continuous, fit_below, answer_length=answer_length, level=level)
