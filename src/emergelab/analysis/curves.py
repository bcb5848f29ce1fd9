"""From a stored experiment to curves: metric vs scale per task, with bootstrap intervals.

Native runs: every metric is recomputed from stored per-token outputs. The x of a run is its
non-embedding parameter count N (or total params, compute C = 6·N·tokens, tokens, or the training
step); size scales use each run's final checkpoint, while `step`/`tokens` use every checkpoint.
Runs with the same x (seeds) pool into one point; the interval is a percentile bootstrap that
resamples seeds and then examples within each seed (Efron's two-stage scheme), so it reflects
both sources of variation. Imported aggregate results become curves with stderr intervals.

What is loaded is chosen by one `Selection` (analysis/select.py: tasks, families, shots, models,
checkpoints). Shots split curves (a zero-shot and a five-shot curve of one task); on step and
tokens, and on flops with `checkpoint="all"`, every model gets its own training curve
(`Curve.model` names it); families are pooled unless selected, with each point's family kept.
"""

from __future__ import annotations

import functools
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emergelab.analysis.curve import SCALES, Curve
from emergelab.analysis.select import Selection, SelectionError, apply_checkpoints, catalog_of
from emergelab.metrics import METRICS, get_metric, metric_record
from emergelab.metrics.sampling import CountOutputs, default_ks
from emergelab.store import PointRecord, RunRecord, Store

SIZE_SCALES = ("non_embedding_params", "params")


@dataclass
class MetricRow:
    """One run × checkpoint × metric: the mean over examples (the `metrics --format csv` row)."""

    task: str
    metric: str
    params: int
    non_embedding_params: int
    tokens: int
    flops: float
    seed: int | None
    step: int
    value: float
    model: str
    scores: np.ndarray  # per-example values
    group: str = ""  # facilitation knob setting, e.g. "depth=2" ("" when the spec has no knob)
    answer_len: int | None = None
    family: str | None = None
    shots: int | None = None


def metric_rows(store: Store, metrics: list[str] | None = None) -> list[MetricRow]:
    """Score every checkpoint of every native or imported run with the requested metrics."""
    rows: list[MetricRow] = []
    for run in store.runs():
        ckpts = {c.step: c for c in store.checkpoints(run.run_id)}
        named = metrics or _spec_metrics(store)
        names = named or list(METRICS)
        for step, out in store.token_outputs(run.run_id).items():
            tokens = ckpts[step].tokens if step in ckpts else step * (run.tokens_per_step or 0)
            for name in names:
                if _reads(name) != "counts":
                    rows.append(_row(run, name, step, tokens, get_metric(name)(out)))
        for step, counts in store.sample_counts(run.run_id).items():
            tokens = ckpts[step].tokens if step in ckpts else step * (run.tokens_per_step or 0)
            scheme = (run.task_config.get("sampling") or {}).get("scheme", "fixed")
            asked = metrics or [n for n in named or [] if _reads(n) == "counts"] or None
            for name, scores in count_scores(CountOutputs(*counts, scheme=scheme), asked,
                                             f"{run.model} / {run.task} step {step}"):
                rows.append(_row(run, name, step, tokens, scores))
        for (step, name), (_, values) in store.example_scores(run.run_id).items():
            if metrics is None or name in metrics:
                rows.append(_row(run, name, step, step * (run.tokens_per_step or 0), values))
    return rows


def _reads(name: str) -> str | None:
    """What a native metric scores ("tokens" or "counts"); None for a name with no scorer here."""
    metric = METRICS.get(name)
    return None if metric is None else metric.reads


def count_scores(counts: CountOutputs, names: list[str] | None, where: str) -> list[tuple[str, np.ndarray]]:
    """Per-problem scores of the count metrics (pass@k, coverage) among `names`; with no names given,
    pass@1, 10, 100, ... up to the samples drawn, and coverage. Problems with too few samples for
    a k are left out with a warning (the unbiased estimator needs k ≤ n)."""
    wanted = [n for n in names or [] if _reads(n) == "counts"]
    if names is None:
        n_min = int(counts.n.max() if counts.scheme == "until_success" else counts.n.min())
        wanted = [f"pass@{k}" for k in default_ks(n_min)] + ["coverage"]
    out = []
    for name in wanted:
        scores = get_metric(name)(counts)
        keep = np.isfinite(scores)
        if not keep.any():
            warnings.warn(f"{name}: no problem of {where} has enough samples; no value", stacklevel=3)
            continue
        if not keep.all():
            warnings.warn(f"{name}: {int((~keep).sum())} of {len(scores)} problems of {where} have too few samples "
                          "for this k and are left out", stacklevel=3)
        out.append((name, scores[keep]))
    return out


def task_catalog(store: Store) -> dict[str, str]:
    """Stored task label -> task name (the registry name for our runs; imports name themselves)."""
    tasks = store.con.execute("SELECT DISTINCT task FROM points").fetchall()
    return catalog_of([(r.task, r.task_config.get("name")) for r in store.runs()] + [(t, None) for (t,) in tasks])


def load_rows(folder: str | Path, metrics: list[str] | None = None, selection: Selection | None = None,
              scale: str = "non_embedding_params") -> list[MetricRow]:
    """The selected per-example rows of a folder (`metrics --format csv` and fits read these)."""
    with Store(folder, read_only=True) as store:
        catalog = task_catalog(store)
        rows = metric_rows(store, metrics)
    return (selection or Selection()).apply(rows, catalog, scale)


def _row(run: RunRecord, metric: str, step: int, tokens: int, scores: np.ndarray) -> MetricRow:
    n = run.non_embedding_params
    group = ",".join(f"{k}={v}" for k, v in sorted(run.knob.items()))
    length = run.task_config.get("answer_len")
    return MetricRow(run.task, metric, run.params, n, int(tokens), 6.0 * n * tokens, run.seed, int(step),
                     float(np.mean(scores)), run.model, scores, group, None if length is None else int(length),
                     run.family, run.shots)


def _spec_metrics(store: Store) -> list[str] | None:
    text = store.fact("spec_yaml")
    return None if text is None else list(_metrics_of_spec(text))


@functools.lru_cache(maxsize=16)
def _metrics_of_spec(text: str) -> tuple[str, ...]:
    """The spec's metric names (parsed once per spec text: a report reads them a dozen times)."""
    import yaml

    return tuple(yaml.safe_load(text).get("metrics") or [])


def bootstrap_interval(samples: np.ndarray, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the mean of a (seeds, examples) array: resample seeds, then examples.
    With n_boot = 0 there is no interval (NaN, NaN)."""
    if n_boot <= 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    s, e = samples.shape
    seeds = rng.integers(0, s, size=(n_boot, s))
    ex = rng.integers(0, e, size=(n_boot, s, e))
    picked = samples[seeds[:, :, None], ex]
    # nanmean copies and masks the (n_boot, seeds, examples) array; without missing scores the
    # plain mean is the same sum over the same count, bit for bit, at a fraction of the cost
    means = np.nanmean(picked, axis=(1, 2)) if np.isnan(samples).any() else picked.mean(axis=(1, 2))
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def _x_of(row: MetricRow, scale: str) -> float:
    return float({"non_embedding_params": row.non_embedding_params, "params": row.params,
                  "flops": row.flops, "tokens": row.tokens, "step": row.step}[scale])


def _split(selection: Selection, scale: str) -> Selection:
    """The selection in force for curves at `scale`; all checkpoints on a size scale would put a
    model's early checkpoints beside larger models as if they were smaller ones."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}")
    if scale in SIZE_SCALES and selection.checkpoint_for(scale) == "all":
        raise SelectionError(f"--checkpoint all cannot make {scale} curves (a model's checkpoints would pose as "
                             "smaller models); use final or a step, or --scale step / tokens for training curves")
    return selection


def _series(task: str, group: str, metric: str, shots: int | None, model: str) -> tuple:
    return (task, group, metric, -1 if shots is None else shots, model)


def curves_from_rows(rows: list[MetricRow], scale: str = "non_embedding_params", n_boot: int = 1000,
                     chance: dict[str, float] | None = None, selection: Selection | None = None) -> list[Curve]:
    """Curves from per-example rows: the selection's checkpoint rule at `scale` (final models on size
    scales by default), one curve per task × knob × metric × shots (× model for training curves)."""
    selection = _split(selection or Selection(), scale)
    rows = apply_checkpoints(rows, selection.checkpoint_for(scale))
    per_model = selection.per_model(scale)
    grouped: dict[tuple, dict[float, list[MetricRow]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        grouped[_series(r.task, r.group, r.metric, r.shots, r.model if per_model else "")][_x_of(r, scale)].append(r)
    curves = []
    for (task, knob, metric, shots, model), by_x in sorted(grouped.items()):
        xs = sorted(by_x)
        samples, ys, lo, hi, ns, labels = [], [], [], [], [], []
        for i, x in enumerate(xs):
            group = sorted(by_x[x], key=lambda r: (r.seed is None, r.seed))
            width = max(len(r.scores) for r in group)
            mat = np.full((len(group), width), np.nan)
            for j, r in enumerate(group):
                mat[j, : len(r.scores)] = r.scores
            a, b = bootstrap_interval(mat, n_boot, seed=i)
            samples.append(mat)
            ys.append(float(np.nanmean(mat)))
            lo.append(a)
            hi.append(b)
            ns.append(width)
            labels.append(f"step {group[0].step}" if per_model else group[0].model)
        m = metric_record(metric)
        families = [by_x[x][0].family or "" for x in xs]
        curves.append(Curve(
            task=task, metric=metric, scale=scale, x=np.array(xs), y=np.array(ys), lo=np.array(lo),
            hi=np.array(hi), n=np.array(ns), higher_is_better=m.higher_is_better,
            chance=(chance or {}).get(task) if metric == "exact_match" else m.chance, discrete=m.discrete,
            samples=samples, labels=labels, group=knob, answer_len=group[0].answer_len,
            model=model, shots=None if shots < 0 else shots, **_family_fields(families),
        ))
    return curves


def _family_fields(families: list[str]) -> dict:
    """Curve.family when every point shares one, and the per-point list when any is recorded."""
    if not any(families):
        return {}
    return {"family": families[0] if len(set(families)) == 1 else "", "families": families}


def curves_from_points(points: list[PointRecord], scale: str, selection: Selection | None = None) -> list[Curve]:
    """Imported aggregate results: y ± 1.96·stderr (binomial stderr from n when only n is known);
    checkpoints and series as in `curves_from_rows`."""
    selection = _split(selection or Selection(), scale)
    points = apply_checkpoints(points, selection.checkpoint_for(scale))
    per_model = selection.per_model(scale)
    grouped: dict[tuple, list[PointRecord]] = defaultdict(list)
    for p in points:
        grouped[_series(p.task, "", p.metric, p.shots, p.model if per_model else "")].append(p)
    curves = []
    for (task, _, metric, shots, model), pts in sorted(grouped.items()):
        pts = [p for p in pts if getattr(p, scale, None) is not None]
        if not pts:
            continue
        x = np.array([float(getattr(p, scale)) for p in pts])
        y = np.array([p.value for p in pts])
        se = np.array([
            p.stderr if p.stderr is not None
            else (np.sqrt(max(p.value * (1 - p.value), 0) / p.n_examples) if p.n_examples and 0 <= p.value <= 1 else np.nan)
            for p in pts
        ], dtype=float)
        rec = metric_record(metric)
        stated = pts[0].higher_is_better  # the file's own orientation counts only for a metric no record knows
        curves.append(Curve(
            task=task, metric=metric, scale=scale, x=x, y=y, lo=y - 1.96 * se, hi=y + 1.96 * se,
            n=np.array([p.n_examples or 0 for p in pts]),
            higher_is_better=rec.higher_is_better if rec.known or stated is None else stated,
            chance=pts[0].chance if pts[0].chance is not None else rec.chance, discrete=rec.discrete,
            stderr=se, labels=[f"step {p.step}" if per_model else p.model for p in pts], model=model, shots=None if shots < 0 else shots,
            **_family_fields([p.family or "" for p in pts]),
        ))
    return curves


def load_curves(folder: str | Path, scale: str = "non_embedding_params", metrics: list[str] | None = None,
                n_boot: int = 1000, selection: Selection | None = None) -> list[Curve]:
    """Every selected curve of an experiment folder (native, imported per-example, imported points).

    Training curves: `load_curves(folder, scale="step")` (or "tokens") gives one curve per model,
    named by `Curve.model`; `selection=Selection(models=("pythia-70m",))` keeps one model.
    Raises `SelectionError` (one line) when a selector matches nothing or is ambiguous."""
    selection = _split(selection or Selection(), scale)
    with Store(folder, read_only=True) as store:
        catalog = task_catalog(store)
        chance = {r.task: float(r.task_config.get("chance_exact_match", 0.0)) for r in store.runs()}
        points = [p for p in store.points() if metrics is None or p.metric in metrics]
        chosen = selection.apply([*metric_rows(store, metrics), *points], catalog, scale)
    curves = curves_from_rows([r for r in chosen if isinstance(r, MetricRow)], scale, n_boot, chance, selection)
    points = [p for p in chosen if isinstance(p, PointRecord)]
    if points:
        curves += curves_from_points(points, scale, selection)
    return curves
