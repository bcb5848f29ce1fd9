"""Forecast a metric at larger scales from the smaller models, and back-test the forecast.

Every method fits on the points with scale ≤ `fit_below`, predicts every larger scale (and any
`x_new`) with an interval, and, where the larger points were measured, reports predicted vs
observed, the relative error and whether the interval covered the observation. Methods are
looked up in a registry (`FORECASTERS`, decorator `register_forecaster`):

- `sigmoid` — metric = floor + (ceiling − floor)·σ(a·ln x + b), the logistic-in-log-scale form
  used to extrapolate benchmark curves (e.g. Ruan et al. 2024, "Observational scaling laws";
  Owen 2024, "How predictable is language model benchmark performance?"). Intervals by
  parametric bootstrap of the fitted points.
- `via_continuous` — the route of `mirage`: fit a continuous counterpart (log-likelihood, token
  accuracy, …) as a power law and map it to the discrete metric (Schaeffer et al. 2023).
- `via_loss` — two stages (Du et al. 2024, "Understanding emergent abilities of language models
  from the loss perspective"; Gadre et al. 2024, "Language models scale reliably with
  over-training and on downstream tasks"): validation loss vs scale with any registered law
  (`loss_law`: a one-variable law on the curve's scale, or a two-variable one on (N, D) such as
  `chinchilla` or `shared_exponent`), then the metric vs the *observed* loss with the
  `error_link` law Err(L) = ε − k·exp(−γ·L) (for a higher-is-better metric, Err = −metric).
  Each stage has its own point set (`loss_below`, `link_below`; both default to `fit_below`),
  as in Gadre et al., who fit the link on runs the loss law never saw. The interval pairs the
  two laws' percentile-bootstrap draws.
- `high_resolution` — Hu et al. 2024 ("Predicting emergent abilities with infinite resolution
  evaluation", ICLR; PassUntil): estimate tiny pass rates from many samples per example, then fit
  log(−log P) linear in log N and extrapolate.

Back-tests have one row per held-out *run* (`labels`): runs at equal N with different D stay
apart (see `analysis.laws.points`). `n_boot = 0` turns intervals off.

`pass_at_k` (re-exported from `metrics.sampling`) is the unbiased estimator of Chen et al. 2021.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import optimize, special, stats

from emergelab.analysis.bootstrap import point_stderr
from emergelab.analysis.curve import Curve
from emergelab.analysis.laws import LAWS, LawFit, fit_law
from emergelab.analysis.laws.points import RunPoints, select
from emergelab.metrics import metric_record
from emergelab.metrics.sampling import pass_at_k  # noqa: F401  (re-exported: analysis.pass_at_k)
from emergelab.registry import Registry

# ---------------------------------------------------------------- record


@dataclass
class Forecast:
    """A forecast and its back-test. Arrays over `x` (the predicted scales, sorted)."""

    method: str
    task: str
    metric: str
    scale: str
    fit_below: float
    x_fit: np.ndarray
    y_fit: np.ndarray
    x: np.ndarray
    pred: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    observed: np.ndarray  # NaN where the scale was not measured
    obs_se: np.ndarray | None = None  # noise of the observed points (bootstrap/binomial)
    level: float = 0.95
    params: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # the run behind each row of x ("" for x_new)

    @property
    def abs_error(self) -> np.ndarray:
        return np.abs(self.pred - self.observed)

    @property
    def rel_error(self) -> np.ndarray:
        """|pred − obs| / |obs| (NaN where obs is 0 or missing)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.observed != 0, self.abs_error / np.abs(self.observed), np.nan)

    @property
    def covered(self) -> np.ndarray:
        """Observed inside the interval, widened by the observation's own noise (z·obs_se):
        the forecast is of the expected metric, the observation is one noisy draw of it."""
        z = float(stats.norm.ppf(0.5 + self.level / 2))
        pad = 0.0 if self.obs_se is None else z * np.nan_to_num(self.obs_se)
        return (self.observed >= self.lo - pad) & (self.observed <= self.hi + pad)

    def summary(self) -> dict[str, float]:
        """Back-test in three numbers: mean relative error, mean absolute error, coverage."""
        have = np.isfinite(self.observed) & np.isfinite(self.pred)  # rows with no forecast do not count
        if not have.any():
            return {"n_backtest": 0.0}
        rel = self.rel_error[have]
        return {
            "n_backtest": float(have.sum()),
            "mean_abs_error": float(np.mean(self.abs_error[have])),
            "mean_rel_error": float(np.nanmean(rel)) if np.isfinite(rel).any() else float("nan"),
            "n_rel_error": float(np.isfinite(rel).sum()),  # an observation of 0 has no relative error
            # no interval (n_boot = 0), no coverage
            "coverage": float(np.mean(self.covered[have])) if np.isfinite(self.lo[have]).any() else float("nan"),
        }


@dataclass
class _Prediction:
    pred: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    x_fit: np.ndarray
    y_fit: np.ndarray
    params: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class ForecastInputs:
    """What a forecaster may use; each method takes what it needs and says what is missing."""

    target: Curve | None
    curves: list[Curve]
    fit_below: float
    x: np.ndarray
    level: float
    n_boot: int
    rng: np.random.Generator
    loss: Curve | None = None
    counts: SampleCounts | None = None
    options: dict = field(default_factory=dict)
    runs: list[RunPoints] = field(default_factory=list)  # per-run points with N and D, when known
    labels: list[str] = field(default_factory=list)  # the run of each entry of x ("" for x_new)


Forecaster = Callable[[ForecastInputs], _Prediction]
FORECASTERS: Registry[Forecaster] = Registry("forecast method")


def register_forecaster(name: str) -> Callable[[Forecaster], Forecaster]:
    def deco(fn: Forecaster) -> Forecaster:
        FORECASTERS.add(name, fn)
        return fn

    return deco


def _percentiles(reps: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    a = (1 - level) / 2
    with np.errstate(invalid="ignore"):
        return np.nanquantile(reps, a, axis=0), np.nanquantile(reps, 1 - a, axis=0)


def _small(curve: Curve, fit_below: float) -> Curve:
    mask = (curve.x <= fit_below) & np.isfinite(curve.y)
    return curve.subset(mask)


def _noise(curve: Curve) -> np.ndarray:
    """Per-point standard errors for weighting; unknown ones are imputed, with a warning."""
    se = point_stderr(curve)
    known = np.isfinite(se) & (se > 0)
    if known.all():
        return se
    fallback = 0.02 * max(float(np.nanstd(curve.y)), 1e-3)
    warnings.warn(f"{curve.task}/{curve.metric}: {int((~known).sum())} fitted point(s) have no standard error; "
                  f"weighted as if it were {fallback:.3g} (2 % of the curve's spread)", UserWarning, stacklevel=3)
    return np.where(known, se, fallback)


def _is_rate(curve: Curve) -> bool:
    y = curve.y[np.isfinite(curve.y)]
    return bool(y.size) and bool(np.all((y >= 0) & (y <= 1)))


# ---------------------------------------------------------------- sigmoid


@register_forecaster("sigmoid")
def _sigmoid(inp: ForecastInputs) -> _Prediction:
    c = _need_target(inp)
    small = _small(c, inp.fit_below)
    if len(small) < 3:
        raise ValueError("sigmoid needs at least 3 points at scale <= fit_below")
    sign = 1.0 if c.higher_is_better else -1.0
    s, se = sign * small.y, _noise(small)
    floor = inp.options.get("floor", c.chance)
    floor_s = sign * floor if floor is not None else float(np.min(s))
    ceil = inp.options.get("ceiling", (1.0 if c.higher_is_better else 0.0) if _is_rate(c) else None)
    lx, lxp = np.log(small.x), np.log(inp.x)

    def model(theta, lxv):  # theta = (ln a, b[, ceiling]); a > 0 by construction
        top = sign * ceil if ceil is not None else theta[2]
        return floor_s + (top - floor_s) * special.expit(np.exp(theta[0]) * lxv + theta[1])

    def fit(svals, start):
        return optimize.least_squares(lambda th: (model(th, lx) - svals) / se, start, method="lm").x

    frac = np.clip((s - floor_s) / ((sign * ceil if ceil is not None else np.max(s) * 1.2 + 1e-9) - floor_s), 1e-3, 1 - 1e-3)
    a0 = max(float(np.polyfit(lx, special.logit(frac), 1)[0]), 0.1) if len(lx) > 1 else 1.0
    start = np.array([np.log(a0), float(special.logit(frac[-1]) - a0 * lx[-1])] + ([float(np.max(s))] if ceil is None else []))
    theta = fit(s, start)
    reps = np.array([model(fit(s + se * inp.rng.standard_normal(len(s)), theta), lxp) for _ in range(inp.n_boot)])
    lo, hi = _percentiles(reps, inp.level) if inp.n_boot else (np.full(len(lxp), np.nan),) * 2
    pred = model(theta, lxp)
    notes = []
    if np.all((s - floor_s) <= 2 * se):
        notes.append("all fitted points sit at the floor: the sigmoid's slope and midpoint are unidentified")
    a = float(np.exp(theta[0]))
    params = {"a": a, "b": float(theta[1]), "floor": float(sign * floor_s),
              "midpoint": float(np.exp(np.clip(-theta[1] / a, -700, 700)))}
    if ceil is None:
        params["ceiling"] = float(sign * theta[2])
    if sign < 0:
        pred, lo, hi = -pred, -hi, -lo
    return _Prediction(pred, lo, hi, small.x, small.y, params, notes)


def _need_target(inp: ForecastInputs) -> Curve:
    if inp.target is None:
        raise ValueError("this method needs the target curve")
    return inp.target


# ---------------------------------------------------------------- via_continuous


CONTINUOUS_PRIORITY = ("target_logprob", "target_prob", "token_accuracy", "token_edit_distance", "brier")


@register_forecaster("via_continuous")
def _via_continuous(inp: ForecastInputs) -> _Prediction:
    from emergelab.analysis.mirage import has_link, predict_via_continuous

    c = _need_target(inp)
    want = inp.options.get("continuous_metric")
    length = inp.options.get("answer_length")
    pool = {k.metric: k for k in inp.curves if k.task == c.task and has_link(k.metric) and k is not c}
    names = [want] if want else [m for m in CONTINUOUS_PRIORITY if m in pool]
    errors = []
    for m in names:
        if m not in pool:
            errors.append(f"no {m} curve for task {c.task}")
            continue
        try:
            r = predict_via_continuous(c, pool[m], inp.fit_below, answer_length=length, level=inp.level, x=inp.x)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        small = _small(pool[m], inp.fit_below)
        return _Prediction(r.pred, np.minimum(r.lo, r.hi), np.maximum(r.lo, r.hi), small.x, small.y,
                           dict(r.params), [f"via {m}"] + r.notes)
    raise ValueError("via_continuous: " + ("; ".join(errors) or f"no continuous counterpart for task {c.task}"))


# ---------------------------------------------------------------- via_loss


LOSS_METRICS = ("loss", "test_loss", "val_loss", "validation_loss")


@dataclass
class _Aligned:
    """The loss, metric and law inputs of the same runs, matched by run label (or by x)."""

    labels: list[str]
    scale: np.ndarray
    law_x: np.ndarray | tuple[np.ndarray, ...]
    loss: np.ndarray
    metric: np.ndarray


def _loss_source(inp: ForecastInputs, c: Curve) -> Curve | RunPoints:
    """The loss the first stage fits: `loss=`, a loss series of the task, or −target_logprob.
    A metric whose record is on a log scale (perplexity) enters as its logarithm, a loss in nats."""
    if inp.loss is not None:
        return inp.loss
    want = inp.options.get("loss_metric")
    names = (want,) if want else LOSS_METRICS
    for source in (*inp.runs, *inp.curves):
        if source.metric in names and source.task == c.task:
            return _log_if_log_scale(source)
    for source in inp.curves:
        if source.task == c.task and source.metric == "target_logprob" and not want:
            return Curve(source.task, "neg_target_logprob", source.scale, source.x, -source.y, -source.hi,
                         -source.lo, source.n, higher_is_better=False, stderr=point_stderr(source),
                         labels=list(source.labels))
    raise ValueError(f"via_loss needs a loss for task {c.task}: loss=, a {'/'.join(names)} series, "
                     "or a target_logprob curve")


def _log_if_log_scale(source: Curve | RunPoints) -> Curve | RunPoints:
    if not metric_record(source.metric, warn=False).log_scale:
        return source
    y = np.asarray(source.y, dtype=float)
    se = None if source.stderr is None else np.asarray(source.stderr, dtype=float) / y
    if isinstance(source, RunPoints):
        return replace(source, metric=f"log {source.metric}", y=np.log(y), stderr=se)
    return replace(source, metric=f"log {source.metric}", y=np.log(y), lo=np.log(np.maximum(source.lo, 1e-300)),
                   hi=np.log(np.maximum(source.hi, 1e-300)), stderr=se, samples=None)


def _law_inputs(law: str, scale: str) -> tuple[str, ...]:
    """Coordinates a law takes: the forecast's scale for one variable; (N, D) for two, with N the
    scale when it is a parameter count (so non-embedding N stays non-embedding)."""
    if len(LAWS[law].inputs) == 1:
        return (scale,)
    return (scale if scale in ("params", "non_embedding_params") else "params", "tokens")


def _align(src: Curve | RunPoints, inp: ForecastInputs, c: Curve, names: tuple[str, ...]) -> _Aligned:
    """Loss rows with their law inputs; the target metric attached where the same run has it."""
    metric_of = dict(zip(c.labels, c.y.tolist(), strict=True)) if c.labels else {}
    if isinstance(src, RunPoints):
        pts = src.known(list(dict.fromkeys([*names, c.scale])))
        return _Aligned(pts.labels, pts.column(c.scale), pts.inputs(names), pts.y,
                        np.array([metric_of.get(lab, np.nan) for lab in pts.labels]))
    if len(names) > 1:
        raise ValueError(f"a two-variable loss law needs per-run (N, D); the loss curve {src.metric} has one scale")
    by_x = dict(zip(c.x.tolist(), c.y.tolist(), strict=False))
    return _Aligned(list(src.labels) or [""] * len(src), src.x, src.x, src.y,
                    np.array([by_x.get(v, np.nan) for v in src.x.tolist()]))


def _target_inputs(inp: ForecastInputs, c: Curve, names: tuple[str, ...]) -> np.ndarray | tuple[np.ndarray, ...]:
    """The law inputs at the forecast's rows: x itself, or (N, D) of each held-out run."""
    if len(names) == 1:
        return inp.x
    pts = next((r for r in inp.runs if r.task == c.task and r.metric == c.metric), None)
    if pts is None:
        raise ValueError("a two-variable loss law needs the target's runs (forecast_runs) to know each run's N and D")
    row = {lab: i for i, lab in enumerate(pts.labels)}
    missing = [lab or "x_new" for lab in inp.labels if lab not in row]
    if missing:
        raise ValueError(f"no (N, D) for {', '.join(missing)}: a two-variable loss law forecasts measured runs only")
    idx = np.array([row[lab] for lab in inp.labels], dtype=int)
    return tuple(pts.column(n)[idx] for n in names)


def _chain(loss_fit: LawFit, link_fit: LawFit, x) -> tuple[np.ndarray, np.ndarray | None]:
    """Point forecast through both laws and, when both were bootstrapped, the paired draws."""
    point = link_fit.predict(loss_fit.predict(x))
    if loss_fit.samples is None or link_fit.samples is None:
        return point, None
    names_l, names_k = loss_fit.sample_names or loss_fit.param_names, link_fit.sample_names or link_fit.param_names
    draws = []
    for row_l, row_k in zip(loss_fit.samples, link_fit.samples, strict=False):
        if np.all(np.isfinite(row_l)) and np.all(np.isfinite(row_k)):
            loss = loss_fit.predictor(dict(zip(names_l, row_l.tolist(), strict=True)), x)
            draws.append(link_fit.predictor(dict(zip(names_k, row_k.tolist(), strict=True)), loss))
    return point, (np.array(draws) if draws else None)


@register_forecaster("via_loss")
def _via_loss(inp: ForecastInputs) -> _Prediction:
    c = _need_target(inp)
    law = inp.options.get("loss_law", "power_law")
    if law not in LAWS:
        raise ValueError(f"unknown loss law {law!r}; known: {', '.join(LAWS)}")
    names = _law_inputs(law, c.scale)
    loss_below = float(inp.options.get("loss_below", inp.fit_below))
    link_below = float(inp.options.get("link_below", inp.fit_below))
    source = _loss_source(inp, c)
    rows = _align(source, inp, c, names)
    on_law = rows.scale <= loss_below
    on_link = (rows.scale <= link_below) & np.isfinite(rows.metric)
    if on_law.sum() < 2 or on_link.sum() < 3:
        raise ValueError(f"via_loss needs >= 2 loss points at scale <= {loss_below:g} and >= 3 runs with both loss "
                         f"and {c.metric} at scale <= {link_below:g} (have {int(on_law.sum())}, {int(on_link.sum())})")
    sign = 1.0 if c.higher_is_better else -1.0

    def pick(x, mask):
        return tuple(v[mask] for v in x) if isinstance(x, tuple) else x[mask]

    loss_fit = fit_law(law, pick(rows.law_x, on_law), rows.loss[on_law], n_bootstrap=inp.n_boot,
                       seed=int(inp.rng.integers(2**31)))
    link_fit = fit_law("error_link", rows.loss[on_link], -sign * rows.metric[on_link], n_bootstrap=inp.n_boot,
                       seed=int(inp.rng.integers(2**31)))
    at = _target_inputs(inp, c, names)
    cols = at if isinstance(at, tuple) else (at,)
    ok = np.all([np.isfinite(v) & (v > 0) for v in cols], axis=0)
    point, lo, hi = (np.full(len(inp.x), np.nan) for _ in range(3))
    draws = None
    if ok.any():
        point[ok], draws = _chain(loss_fit, link_fit, pick(at, ok))
    if draws is not None:
        lo[ok], hi[ok] = _percentiles(-sign * draws, inp.level)
        lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    notes = [f"loss from {source.metric}: {law} ({LAWS[law].formula}) on {int(on_law.sum())} runs; "
             f"link {LAWS['error_link'].formula} on {int(on_link.sum())} runs", *loss_fit.notes, *link_fit.notes]
    if not ok.all():
        skipped = [lab or f"x={x:g}" for lab, x, good in zip(inp.labels, inp.x, ok, strict=True) if not good]
        notes.append(f"no forecast for {len(skipped)} run(s) without positive {' and '.join(names)}: "
                     + ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else ""))
        warnings.warn(notes[-1], UserWarning, stacklevel=2)
    if inp.n_boot and draws is None:
        notes.append("no interval: a stage has no bootstrap (too few points for its parameters)")
    params = {f"loss.{k}": v for k, v in loss_fit.params.items()} | {f"link.{k}": v for k, v in link_fit.params.items()}
    return _Prediction(-sign * point, lo, hi, rows.scale[on_link], rows.metric[on_link], params, notes)


# ---------------------------------------------------------------- high resolution (PassUntil)


@dataclass
class SampleCounts:
    """Repeated sampling per example at each scale: `draws[i][e]` samples taken and
    `successes[i][e]` correct ones for example e at scale x[i]. `scheme` says how sampling
    stopped: 'fixed' (a fixed number per example) or 'until_success' (until the first — or the
    r-th — success or a budget; PassUntil)."""

    x: np.ndarray
    draws: list[np.ndarray]
    successes: list[np.ndarray]
    scheme: str = "fixed"
    task: str = ""
    metric: str = "pass@1"


def estimate_pass_rate(draws: np.ndarray, successes: np.ndarray, scheme: str = "fixed") -> tuple[float, float]:
    """Task pass rate (probability that one sample is correct) and its standard error.

    - 'fixed': mean over examples of c_e/n_e — unbiased for each example.
    - 'until_success': sampling stops at the r-th success or at the budget. Where every example
      reached r ≥ 2 successes, Haldane's (1945) unbiased estimator (r−1)/(K−1) per example
      is averaged. Otherwise (r = 1, or budgets hit) we use the pooled right-censored geometric
      MLE Σ successes / Σ draws. We do *not* average 1/K per example: for a geometric K,
      E[1/K] = −p·ln p/(1−p), which overstates small p by a factor ln(1/p).
    """
    d = np.asarray(draws, dtype=float)
    s = np.asarray(successes, dtype=float)
    if scheme == "fixed":
        p_e = s / np.maximum(d, 1)
        p = float(p_e.mean())
        se = float(np.sqrt(max(p * (1 - p), 1e-300) / max(d.sum(), 1)))
        return p, se
    if scheme != "until_success":
        raise ValueError(f"unknown sampling scheme {scheme!r} (fixed, until_success)")
    if np.all(s >= 2) and np.all(s == s[0]):
        p_e = (s - 1) / np.maximum(d - 1, 1)
        p = float(p_e.mean())
        return p, float(np.std(p_e, ddof=1) / np.sqrt(len(p_e))) if len(p_e) > 1 else p
    tot_s, tot_d = float(s.sum()), float(d.sum())
    p = tot_s / max(tot_d, 1.0)
    # Fisher information of the censored geometric: Σs / (p²(1−p))
    se = p * np.sqrt((1 - p) / tot_s) if tot_s > 0 else 1.0 / max(tot_d, 1.0)
    return p, float(se)


@register_forecaster("high_resolution")
def _high_resolution(inp: ForecastInputs) -> _Prediction:
    cnt = inp.counts
    if cnt is None:
        raise ValueError("high_resolution needs SampleCounts (counts=) with per-example draws and successes")
    est = [estimate_pass_rate(d, s, cnt.scheme) for d, s in zip(cnt.draws, cnt.successes, strict=True)]
    x = np.asarray(cnt.x, dtype=float)
    p = np.array([e[0] for e in est])
    sp = np.array([e[1] for e in est])
    keep = (x <= inp.fit_below) & (p > 0) & (p < 1)
    if keep.sum() < 2:
        raise ValueError("high_resolution needs >= 2 scales <= fit_below with 0 < pass rate < 1")
    t = np.log(-np.log(p[keep]))
    st = np.maximum(sp[keep] / (p[keep] * np.abs(np.log(p[keep]))), 1e-6)
    lx = np.log(x[keep])
    w = 1 / st**2
    X = np.stack([np.ones_like(lx), lx], axis=1)
    cov = np.linalg.pinv(X.T @ (w[:, None] * X))
    coef = cov @ (X.T @ (w * t))
    dof = int(keep.sum()) - 2
    if dof > 0:
        cov = cov * max(1.0, float(np.sum(w * (t - X @ coef) ** 2)) / dof)
    lxp = np.log(inp.x)
    mean = coef[0] + coef[1] * lxp
    sd = np.sqrt(np.maximum(cov[0, 0] + 2 * cov[0, 1] * lxp + cov[1, 1] * lxp**2, 0))
    q = stats.t.ppf(0.5 + inp.level / 2, dof) if dof > 0 else stats.norm.ppf(0.5 + inp.level / 2)
    g = lambda tt: np.exp(-np.exp(tt))  # noqa: E731
    notes = [f"log(-log P) = {coef[0]:.3g} + {coef[1]:.3g}·ln N on {int(keep.sum())} scales ({cnt.scheme})"]
    return _Prediction(g(mean), g(mean + q * sd), g(mean - q * sd), x[keep], p[keep],
                       {"intercept": float(coef[0]), "slope": float(coef[1])}, notes)


# ---------------------------------------------------------------- entry point


def _pick_target(curves: list[Curve], task: str | None, metric: str | None) -> Curve | None:
    sel = [c for c in curves if (task is None or c.task == task) and (metric is None or c.metric == metric)]
    if len(sel) == 1:
        return sel[0]
    if not sel:
        return None
    raise ValueError(f"{len(sel)} curves match task={task!r} metric={metric!r}; name both")


def forecast(
    curves_or_curve: Curve | list[Curve] | None, method: str = "sigmoid", fit_below: float | None = None, *,
    task: str | None = None, metric: str | None = None, loss: Curve | None = None,
    counts: SampleCounts | None = None, x_new: np.ndarray | None = None, level: float = 0.95,
    n_boot: int = 200, seed: int = 0, runs: list[RunPoints] | None = None, **options,
) -> Forecast:
    """Fit `method` on scales ≤ `fit_below` and forecast the larger ones (see module doc).

    `curves_or_curve`: the target curve, or a list from which `task`/`metric` pick it (the
    others serve as continuous counterparts / loss). `x_new`: extra scales to forecast.
    `runs`: per-run points (see `forecast_runs`), which two-variable loss laws need.
    `options` go to the method (sigmoid: floor, ceiling; via_continuous: continuous_metric,
    answer_length; via_loss: loss_law, loss_below, link_below, loss_metric). `n_boot = 0`: no
    intervals. Raises ValueError with a one-line reason when the method cannot run.
    """
    if method not in FORECASTERS:
        raise ValueError(f"unknown forecast method {method!r} (known: {', '.join(sorted(FORECASTERS))})")
    curves = [] if curves_or_curve is None else (
        [curves_or_curve] if isinstance(curves_or_curve, Curve) else list(curves_or_curve))
    target = _pick_target(curves, task, metric) if curves else None
    if target is None and method != "high_resolution":
        raise ValueError(f"no curve for task={task!r} metric={metric!r}")
    xs_all = target.x if target is not None else np.asarray(counts.x if counts else [], dtype=float)
    notes: list[str] = []
    if fit_below is None:
        fit_below = float(np.sort(xs_all)[max(len(xs_all) // 2 - 1, 0)])
        notes.append(f"fit_below not given: fitting the smaller half (x <= {fit_below:g})")
    extra = np.asarray(x_new if x_new is not None else [], dtype=float)
    observed = obs_se = np.zeros(0)
    if target is not None:  # one back-test row per held-out point (run), equal x values kept apart
        held = np.flatnonzero(target.x > fit_below)
        labels = [target.labels[i] if target.labels else "" for i in held] + [""] * len(extra)
        x = np.concatenate([target.x[held], extra])
        observed = np.concatenate([target.y[held], np.full(len(extra), np.nan)])
        obs_se = np.concatenate([point_stderr(target)[held], np.full(len(extra), np.nan)])
    else:
        x = np.unique(np.concatenate([xs_all[xs_all > fit_below], extra]))
        labels = [""] * len(x)
    inp = ForecastInputs(target, curves, float(fit_below), x, level, n_boot, np.random.default_rng(seed),
                         loss, counts, options, list(runs or []), labels)
    p = FORECASTERS[method](inp)
    if target is None and counts is not None:
        est = {float(xv): estimate_pass_rate(d, s, counts.scheme)
               for xv, d, s in zip(counts.x, counts.draws, counts.successes, strict=True)}
        observed = np.array([est.get(v, (np.nan, np.nan))[0] for v in x.tolist()])
        obs_se = np.array([est.get(v, (np.nan, np.nan))[1] for v in x.tolist()])
    elif target is None:
        observed = obs_se = np.full(len(x), np.nan)
    ref = target if target is not None else None
    pred, lo, hi = (np.asarray(a, dtype=float) for a in (p.pred, p.lo, p.hi))
    if target is None or _is_rate(target):  # a rate cannot leave [0, 1] (e.g. c + k·e^{−γL} can)
        pred, lo, hi = np.clip(pred, 0, 1), np.clip(lo, 0, 1), np.clip(hi, 0, 1)
    order = np.argsort(x, kind="stable")
    return Forecast(
        method=method, task=ref.task if ref else (counts.task if counts else ""),
        metric=ref.metric if ref else (counts.metric if counts else ""),
        scale=ref.scale if ref else "", fit_below=float(fit_below), x_fit=p.x_fit, y_fit=p.y_fit,
        x=x[order], pred=pred[order], lo=lo[order], hi=hi[order], observed=observed[order], obs_se=obs_se[order],
        level=level, params=p.params, notes=notes + p.notes, labels=[labels[i] for i in order],
    )


def forecast_runs(runs: list[RunPoints], method: str = "sigmoid", fit_below: float | None = None, *,
                  task: str | None, metric: str, scale: str = "params", **kwargs) -> Forecast:
    """`forecast` on per-run points (`analysis.laws.points.load_run_points`): every series becomes a
    curve with one point per run on `scale`, so runs at equal N and different D are never merged,
    and two-variable loss laws see each run's (N, D)."""
    target = select(runs, task, metric)
    curves = [target.curve(scale)] + [r.curve(scale) for r in runs if r is not target and r.task == target.task]
    return forecast(curves, method, fit_below, task=target.task, metric=target.metric, runs=runs, **kwargs)
