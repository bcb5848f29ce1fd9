"""One point per run, with every scale coordinate: what laws and forecasts fit.

A curve (`analysis.curve.Curve`) pools everything at one x, which is right for seeds but wrong
for a scaling law: two models with the same N trained on different token counts D are two
different points of L(N, D), and pooling them under `--scale params` made an over-trained model
vanish from a back-test. Here a point is one *run configuration* — a model with its data budget
(native: model shape × knob setting × tokens, seeds averaged; imported: model × shots × family,
its final checkpoint) — and carries N, non-embedding N, D and C together, so a law can take any
one of them or the pair (N, D).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emergelab.analysis.curve import Curve
from emergelab.analysis.curves import MetricRow, metric_rows, task_catalog
from emergelab.analysis.select import Selection
from emergelab.metrics import metric_record
from emergelab.store import PointRecord, Store

ALIASES = {"N": "params", "D": "tokens", "C": "flops", "compute": "flops", "data": "tokens"}
COLUMNS = ("params", "non_embedding_params", "tokens", "flops")
NATIVE_LOSS = "test_loss"  # the stored validation loss of a native run's final checkpoint


@dataclass
class RunPoints:
    """Metric `metric` of task `task`, one entry per run configuration (arrays of equal length).

    Unknown coordinates are NaN. `stderr` is the standard error of `y` (NaN: unknown)."""

    task: str
    metric: str
    labels: list[str]
    params: np.ndarray
    non_embedding_params: np.ndarray
    tokens: np.ndarray
    flops: np.ndarray
    y: np.ndarray
    stderr: np.ndarray
    n: np.ndarray
    higher_is_better: bool = True
    discrete: bool = False
    chance: float | None = None

    def __len__(self) -> int:
        return len(self.y)

    def column(self, name: str) -> np.ndarray:
        """A coordinate by name or alias (N, D, C)."""
        key = ALIASES.get(name, name)
        if key not in COLUMNS:
            raise ValueError(f"unknown scale {name!r}; choose from {', '.join(COLUMNS)} (or N, D, C)")
        return getattr(self, key)

    def inputs(self, names: tuple[str, ...] | list[str]) -> np.ndarray | tuple[np.ndarray, ...]:
        """The law input for these coordinates: one array, or a tuple for (N, D)."""
        cols = tuple(self.column(n) for n in names)
        return cols[0] if len(cols) == 1 else cols

    def subset(self, mask: np.ndarray) -> RunPoints:
        idx = np.flatnonzero(mask)
        arrays = {k: getattr(self, k)[idx] for k in (*COLUMNS, "y", "stderr", "n")}
        return RunPoints(self.task, self.metric, [self.labels[i] for i in idx], **arrays,
                         higher_is_better=self.higher_is_better, discrete=self.discrete, chance=self.chance)

    def known(self, names: tuple[str, ...] | list[str]) -> RunPoints:
        """The points whose coordinates `names` and value are all known, with a warning for the rest."""
        ok = np.isfinite(self.y) & np.all([np.isfinite(self.column(n)) & (self.column(n) > 0) for n in names], axis=0)
        if not ok.all():
            dropped = ", ".join(lab for lab, k in zip(self.labels, ok, strict=True) if not k)
            warnings.warn(f"{self.task}/{self.metric}: {int((~ok).sum())} point(s) lack {' or '.join(names)} and are "
                          f"left out: {dropped}", UserWarning, stacklevel=2)
        return self.subset(ok)

    def curve(self, scale: str) -> Curve:
        """The points as a Curve over one scale, one point per run (equal x values stay apart)."""
        pts = self.known([scale])
        se = pts.stderr
        return Curve(task=self.task, metric=self.metric, scale=ALIASES.get(scale, scale), x=pts.column(scale),
                     y=pts.y, lo=pts.y - 1.96 * se, hi=pts.y + 1.96 * se, n=pts.n,
                     higher_is_better=self.higher_is_better, chance=self.chance, discrete=self.discrete,
                     stderr=se, labels=list(pts.labels))


def select(points: list[RunPoints], task: str | None, metric: str) -> RunPoints:
    """The one task × metric the user named; a one-line ValueError listing the choices otherwise."""
    hits = [p for p in points if p.metric == metric and (task is None or p.task == task)]
    if len(hits) == 1:
        return hits[0]
    have = sorted({f"{p.task}/{p.metric}" for p in points})
    raise ValueError(f"--task {task} --metric {metric} selects {len(hits)} series; have: {', '.join(have) or 'none'}")


def load_run_points(folder: str | Path, metrics: list[str] | None = None,
                    selection: Selection | None = None) -> list[RunPoints]:
    """Every task × metric of an experiment folder as per-run points (see the module docstring).

    `selection` (analysis/select.py: tasks, families, shots, models, checkpoint) is applied as for
    size curves: each run's final checkpoint unless it names one. Native runs give their metrics
    recomputed from stored outputs plus `test_loss`, the stored validation loss of each checkpoint;
    imported results give their points."""
    with Store(folder, read_only=True) as store:
        catalog = task_catalog(store)
        rows = metric_rows(store, [m for m in metrics if m != NATIVE_LOSS] if metrics else None)
        if metrics is None or NATIVE_LOSS in metrics:
            rows += _native_losses(store)
        imported = [p for p in store.points() if metrics is None or p.metric in metrics]
    chosen = (selection or Selection()).apply([*rows, *imported], catalog, "params")
    return (_from_native([r for r in chosen if isinstance(r, MetricRow)])
            + _from_imported([p for p in chosen if isinstance(p, PointRecord)]))


def _native_losses(store: Store) -> list[MetricRow]:
    """The stored test loss of every checkpoint of our own runs, as rows like any metric's."""
    out = []
    for run in store.runs():
        if run.source != "native":
            continue
        group = ",".join(f"{k}={v}" for k, v in sorted(run.knob.items()))
        for ck in store.checkpoints(run.run_id):
            if ck.test_loss is not None:
                out.append(MetricRow(run.task, NATIVE_LOSS, run.params, run.non_embedding_params, ck.tokens,
                                     6.0 * run.non_embedding_params * ck.tokens, run.seed, ck.step,
                                     float(ck.test_loss), run.model, np.array([ck.test_loss]), group))
    return out


def _from_native(rows: list[MetricRow]) -> list[RunPoints]:
    """Seeds of one configuration (shape, knob setting, tokens) averaged; nothing else pooled."""
    by_series: dict[tuple[str, str], dict[tuple, list[MetricRow]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_series[(r.task, r.metric)][(r.model, r.group, float(r.tokens))].append(r)
    out = []
    for (task, metric), configs in sorted(by_series.items()):
        cols: dict[str, list[float]] = defaultdict(list)
        labels = []
        for (model, group, tokens), runs in configs.items():
            per_seed = np.array([np.nanmean(r.scores) for r in runs])
            pooled = np.concatenate([np.asarray(r.scores, dtype=float).ravel() for r in runs])
            # examples within a seed and seeds both vary: the larger of the two standard errors
            se_examples = np.nanstd(pooled, ddof=1) / np.sqrt(pooled.size) if pooled.size > 1 else np.nan
            se_seeds = np.std(per_seed, ddof=1) / np.sqrt(len(per_seed)) if len(per_seed) > 1 else np.nan
            n_ne = float(runs[0].non_embedding_params)
            for name, value in (("params", float(runs[0].params)), ("non_embedding_params", n_ne),
                                ("tokens", tokens if tokens > 0 else np.nan),
                                ("flops", 6.0 * n_ne * tokens if tokens > 0 else np.nan),
                                ("y", float(per_seed.mean())), ("stderr", float(np.fmax(se_examples, se_seeds))),
                                ("n", float(pooled.size))):
                cols[name].append(value)
            labels.append(model + (f" [{group}]" if group else "") + (f" D={tokens:.3g}" if tokens > 0 else ""))
        out.append(_make(task, metric, labels, cols))
    return out


def _from_imported(points: list[PointRecord]) -> list[RunPoints]:
    """One point per model × shots × family × checkpoint (the selection chose the checkpoints)."""
    series: dict[tuple[str, str], dict[tuple, PointRecord]] = defaultdict(dict)
    for p in points:
        series[(p.task, p.metric)][(p.model, p.shots, p.family, p.step)] = p
    out = []
    for (task, metric), by_model in sorted(series.items()):
        cols: dict[str, list[float]] = defaultdict(list)
        labels = []
        steps_of = defaultdict(int)
        for key in by_model:
            steps_of[key[:3]] += 1
        for (model, shots, family, step), p in by_model.items():
            se = p.stderr if p.stderr is not None else (
                np.sqrt(max(p.value * (1 - p.value), 0.0) / p.n_examples) if p.n_examples and 0 <= p.value <= 1
                else np.nan)
            for name in COLUMNS:
                v = getattr(p, name)
                cols[name].append(np.nan if v is None else float(v))
            cols["y"].append(float(p.value))
            cols["stderr"].append(float(se))
            cols["n"].append(float(p.n_examples or 0))
            labels.append(model + (f" {shots}-shot" if shots is not None else "")
                          + (f" step {step}" if steps_of[(model, shots, family)] > 1 else ""))  # labels stay unique
        first = next(iter(by_model.values()))
        out.append(_make(task, metric, labels, cols, declared_higher=first.higher_is_better, chance=first.chance))
    return out


def _make(task: str, metric: str, labels: list[str], cols: dict[str, list[float]],
          declared_higher: bool | None = None, chance: float | None = None) -> RunPoints:
    """Facts (orientation, discreteness) come from the metric's registry record; only a metric no
    record describes takes the orientation its import stored (stated in the file or defaulted)."""
    record = metric_record("loss" if metric == NATIVE_LOSS else metric, warn=declared_higher is None)
    higher = record.higher_is_better if record.known or declared_higher is None else declared_higher
    arrays = {k: np.asarray(cols[k], dtype=float) for k in (*COLUMNS, "y", "stderr", "n")}
    return RunPoints(task, metric, labels, **arrays, higher_is_better=higher, discrete=record.discrete,
                     chance=chance if chance is not None else record.chance)
