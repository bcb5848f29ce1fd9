"""Is an emergent jump an artifact of the metric? (Schaeffer, Miranda & Koyejo 2023)

Schaeffer et al. 2023 ("Are emergent abilities of large language models a mirage?", NeurIPS)
argue that a per-token quantity improving smoothly with scale, e.g. cross-entropy
L_CE(N) = (N/c)^α, looks like a sudden ability once it is scored by an all-or-nothing metric:
with per-token probability p = exp(−L_CE) and an answer of L tokens, exact match ≈ p^L, which sits
near 0 and then shoots up, while token edit distance ≈ L·(1 − p) declines smoothly.
(`compounding_toy` reproduces their toy numbers.)

The test here turns that argument into a prediction. For a task whose discrete metric is
`emergent` (see `verdict`):

1. take a continuous counterpart of the same task (target_logprob, target_prob, token_accuracy,
   token_edit_distance, brier) and map it to a *loss-like* u > 0 through a registered link;
2. fit a power law u = A·x^b to the smaller models (weighted least squares in log–log space with
   the per-point noise, scatter-inflated; the form of Schaeffer's toy) and extrapolate with a
   prediction interval;
3. map back to the discrete metric through the link's compounding rule (EM ≈ exp(−u) for the
   whole-answer NLL, ≈ p^L per token, p ≈ 1 − d/L from edit distance d) and compare with the
   observed larger models, widened by their own noise.

Verdict: `metric_artifact` when the continuous curve is itself not emergent and its extrapolation
predicts the observed jump (observed inside the interval at ≥ 75 % of the larger points,
including the largest); `genuine` when the continuous curve jumps too or the extrapolation
misses; `undetermined` when no counterpart can be used. One smooth counterpart that predicts
the jump is enough for `metric_artifact`: it exhibits a smooth quantity that explains it.

Links are approximations, stated so: the curve-level mean of log-probabilities gives
exp(mean log P) ≤ mean P (Jensen), so the whole-answer routes slightly under-predict; the
Brier route assumes the non-target probability mass is spread evenly over K = 1/chance options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from emergelab.analysis.bootstrap import point_stderr
from emergelab.analysis.curve import Curve
from emergelab.analysis.verdict import Verdict, verdict
from emergelab.registry import Registry

MIRAGE_LABELS = ("metric_artifact", "genuine", "undetermined")
DISCRETE_METRICS = ("exact_match", "acc", "accuracy", "multiple_choice_grade", "pass@1", "acc_norm")


# ---------------------------------------------------------------- links (registry)


@dataclass(frozen=True)
class Link:
    """How a continuous metric relates to the discrete one.

    `to_loss(y, L, K)` maps the metric to a loss-like u > 0 that decreases with scale;
    `to_discrete(u, L)` maps u to the predicted discrete metric. Both act elementwise.
    """

    metric: str
    to_loss: Callable[[np.ndarray, float | None, float], np.ndarray]
    to_discrete: Callable[[np.ndarray, float | None], np.ndarray]
    needs_length: bool = False
    note: str = ""


LINKS: Registry[Link] = Registry("mirage link")


def register_link(metric: str, *, needs_length: bool = False, note: str = ""):
    """Decorator: the decorated function returns (to_loss, to_discrete) for `metric`."""

    def deco(fn: Callable[[], tuple]):
        to_loss, to_discrete = fn()
        LINKS.add(metric, Link(metric, to_loss, to_discrete, needs_length, note or (fn.__doc__ or "").strip()))
        return fn

    return deco


def _pos(a: np.ndarray) -> np.ndarray:
    return np.maximum(np.asarray(a, dtype=float), 1e-12)


@register_link("target_logprob")
def _logprob():
    """u = −Σ log p (whole-answer NLL); EM ≈ P(answer) = exp(−u)."""
    return (lambda y, L, K: _pos(-y)), (lambda u, L: np.exp(-u))


@register_link("target_prob")
def _prob():
    """u = −log P(answer); EM ≈ P(answer)."""
    return (lambda y, L, K: _pos(-np.log(_pos(y)))), (lambda u, L: np.exp(-u))


@register_link("token_accuracy", needs_length=True)
def _token_acc():
    """u = −log p per token; EM ≈ p^L (errors compound over L tokens)."""
    return (lambda y, L, K: _pos(-np.log(_pos(y)))), (lambda u, L: np.exp(-L * u))


@register_link("token_edit_distance", needs_length=True)
def _edit():
    """p ≈ 1 − d/L, u = −log p per token; EM ≈ p^L."""
    return (lambda y, L, K: _pos(-np.log(_pos(1.0 - y / L)))), (lambda u, L: np.exp(-L * u))


@register_link("brier")
def _brier():
    """q = P(correct) from Brier = (1−q)²·K/(K−1) (rest spread evenly); u = −log q; acc ≈ q."""

    def to_loss(y, L, K):
        q = 1.0 - np.sqrt(np.clip(y, 0.0, None) * (K - 1.0) / K)
        return _pos(-np.log(_pos(q)))

    return to_loss, (lambda u, L: np.exp(-u))


# ---------------------------------------------------------------- power-law extrapolation


@dataclass
class PowerFit:
    """log u = a + b·log x fitted by WLS; `predict` gives mean and sd of log u."""

    a: float
    b: float
    cov: np.ndarray
    dof: int

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lx = np.log(np.asarray(x, dtype=float))
        mean = self.a + self.b * lx
        var = self.cov[0, 0] + 2 * self.cov[0, 1] * lx + self.cov[1, 1] * lx**2
        return mean, np.sqrt(np.maximum(var, 0.0))


def fit_power(x: np.ndarray, u: np.ndarray, su: np.ndarray) -> PowerFit:
    """Pure power law u = A·x^b in log–log space, weights from the delta-method sd of log u.
    The covariance is inflated by the reduced χ² when the points scatter more than their noise
    says (Birge ratio), so a bad fit widens its own prediction interval."""
    lx, lu = np.log(x), np.log(u)
    sl = np.maximum(su / u, 1e-6)
    w = 1.0 / sl**2
    X = np.stack([np.ones_like(lx), lx], axis=1)
    xtwx = X.T @ (w[:, None] * X)
    cov = np.linalg.pinv(xtwx)
    coef = cov @ (X.T @ (w * lu))
    dof = len(x) - 2
    if dof > 0:
        chi2 = float(np.sum(w * (lu - X @ coef) ** 2))
        cov = cov * max(1.0, chi2 / dof)
    return PowerFit(float(coef[0]), float(coef[1]), cov, dof)


# ---------------------------------------------------------------- the route and the verdict


@dataclass
class ContinuousRoute:
    """The discrete metric predicted from one continuous counterpart, at every scale of the
    discrete curve (fit on x ≤ fit_below)."""

    link: str
    continuous: Curve
    fit_below: float
    x: np.ndarray
    pred: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    fit: PowerFit
    notes: list[str] = field(default_factory=list)


def predict_via_continuous(
    discrete: Curve, continuous: Curve, fit_below: float, *,
    answer_length: float | None = None, level: float = 0.95, x: np.ndarray | None = None,
) -> ContinuousRoute:
    """Fit the continuous counterpart on x ≤ fit_below and predict the discrete metric at `x`
    (default: the discrete curve's scales). Raises ValueError when the route is unusable."""
    link = LINKS.get(continuous.metric)
    if link is None:
        raise ValueError(f"no link from {continuous.metric!r} to a discrete metric (known: {sorted(LINKS)})")
    answer_length = answer_length or continuous.answer_len or discrete.answer_len
    if link.needs_length and not answer_length:
        raise ValueError(f"{continuous.metric} needs the answer length L (answer_length=)")
    K = 1.0 / discrete.chance if discrete.chance and discrete.chance > 0 else 2.0
    mask = (continuous.x <= fit_below) & np.isfinite(continuous.y)
    if mask.sum() < 2:
        raise ValueError(f"fewer than 2 {continuous.metric} points at scale <= {fit_below:g}")
    small = continuous.subset(mask)
    u = link.to_loss(small.y, answer_length, K)
    se = point_stderr(small)
    se = np.where(np.isfinite(se), se, 0.0)
    eps = 1e-4 * np.maximum(np.abs(small.y), 1e-6)
    du = np.abs(link.to_loss(small.y + eps, answer_length, K) - u) / eps  # numerical |du/dy|
    su = np.maximum(du * se, 1e-3 * u)
    fit = fit_power(small.x, u, su)
    xs = discrete.x if x is None else np.asarray(x, dtype=float)
    mean, sd = fit.predict(xs)
    q = stats.t.ppf(0.5 + level / 2, fit.dof) if fit.dof > 0 else stats.norm.ppf(0.5 + level / 2)
    g = lambda lu: link.to_discrete(np.exp(lu), answer_length)  # noqa: E731  decreasing in u
    notes = [f"power law u = A·x^b on {int(mask.sum())} points: b = {fit.b:.3g}"]
    if link.note:
        notes.append(link.note)
    return ContinuousRoute(continuous.metric, continuous, float(fit_below), xs, g(mean),
                           g(mean + q * sd), g(mean - q * sd), fit, notes)


@dataclass
class MirageResult:
    """Evidence for the report: the discrete curve, the chosen route (prediction with interval),
    which larger points it covers, and the verdict on the continuous curve."""

    task: str
    discrete_metric: str
    label: str
    discrete: Curve
    route: ContinuousRoute | None = None
    covered: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    continuous_label: str | None = None
    reasons: list[str] = field(default_factory=list)
    alternatives: list[MirageResult] = field(default_factory=list)


def _judge(discrete: Curve, route: ContinuousRoute, dverdict: Verdict, min_cover: float) -> MirageResult:
    res = MirageResult(discrete.task, discrete.metric, "genuine", discrete, route)
    cv = verdict(route.continuous, n_boot=0)
    res.continuous_label = cv.label
    large = discrete.x > route.fit_below
    se = point_stderr(discrete)
    se = np.where(np.isfinite(se), se, 0.0)
    yo = discrete.y[large]
    lo = np.minimum(route.lo, route.hi)[large] - 1.96 * se[large]
    hi = np.maximum(route.lo, route.hi)[large] + 1.96 * se[large]
    res.covered = (yo >= lo) & (yo <= hi)
    if cv.label == "emergent":
        res.reasons.append(f"{route.link} jumps too (its own verdict: emergent)")
        return res
    if not large.any():
        res.label = "undetermined"
        res.reasons.append("no larger points to compare with")
        return res
    frac = float(res.covered.mean())
    if res.covered[-1] and frac >= min_cover:
        res.label = "metric_artifact"
        res.reasons.append(
            f"{route.link} ({cv.label}) fitted below {route.fit_below:g} predicts the jump: "
            f"{int(res.covered.sum())}/{res.covered.size} larger points inside the interval"
        )
    else:
        res.reasons.append(
            f"{route.link} extrapolation misses {int((~res.covered).sum())}/{res.covered.size} larger points"
        )
    return res


def mirage(
    discrete: Curve, continuous: Curve | list[Curve], *, fit_below: float | None = None,
    answer_length: float | None = None, level: float = 0.95, min_cover: float = 0.75,
    discrete_verdict: Verdict | None = None,
) -> MirageResult:
    """Metric-artifact verdict for one emergent discrete curve (module doc).

    `fit_below` defaults to the split of the discrete verdict (the last small model at the
    floor), moved up to include at least three continuous points when possible.
    """
    dv = discrete_verdict or verdict(discrete, n_boot=0)
    cands = [continuous] if isinstance(continuous, Curve) else list(continuous)
    cands = [c for c in cands if c.task == discrete.task and c.metric in LINKS]
    out = MirageResult(discrete.task, discrete.metric, "undetermined", discrete)
    if dv.label != "emergent":
        out.reasons.append(f"{discrete.metric} is not emergent ({dv.label}); nothing to explain")
        return out
    if not cands:
        out.reasons.append(f"no continuous counterpart with a link ({', '.join(sorted(LINKS))})")
        return out
    results: list[MirageResult] = []
    for c in cands:
        fb = fit_below
        if fb is None:
            fb = dv.split_x if dv.split_x is not None else float(np.median(discrete.x))
            xs = np.sort(c.x[np.isfinite(c.y)])
            if xs.size >= 4 and np.sum(xs <= fb) < 3:
                fb = float(xs[2])
        try:
            route = predict_via_continuous(discrete, c, fb, answer_length=answer_length, level=level)
        except ValueError as exc:
            out.reasons.append(f"{c.metric}: {exc}")
            continue
        results.append(_judge(discrete, route, dv, min_cover))
    if not results:
        return out
    order = {"metric_artifact": 0, "genuine": 1, "undetermined": 2}
    results.sort(key=lambda r: order[r.label])
    best = results[0]
    best.alternatives = results[1:]
    best.reasons = out.reasons + best.reasons
    return best


def mirage_for_task(curves: list[Curve], discrete: Curve, **kw) -> MirageResult:
    """`mirage` with the continuous counterparts picked from `curves` (same task and scale)."""
    cont = [c for c in curves if c.task == discrete.task and c.scale == discrete.scale
            and not c.discrete and c.metric in LINKS]
    return mirage(discrete, cont, **kw)


# ---------------------------------------------------------------- Schaeffer et al.'s toy


def compounding_toy(n_params: np.ndarray, c: float = 1e8, alpha: float = -0.5, length: int = 5) -> dict[str, np.ndarray]:
    """Schaeffer et al. 2023, §2: per-token CE L_CE = (N/c)^α, p = exp(−L_CE),
    accuracy (exact match over L tokens) = p^L, token edit distance ≈ L·(1 − p)."""
    n = np.asarray(n_params, dtype=float)
    ce = (n / c) ** alpha
    p = np.exp(-ce)
    return {"cross_entropy": ce, "p_token": p, "accuracy": p**length, "edit_distance": length * (1 - p)}
