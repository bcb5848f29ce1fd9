"""Monogenic vs polygenic (Michaud et al. 2023): per-subtask curves and the aggregate loss.

On `multitask_sparse_parity` (tasks/parity.py) every test example belongs to one subtask, each a
sharp skill (a subtask not learned is a coin flip, loss log 2). The quantization model predicts that
subtasks are learned one at a time in order of their training frequency, so

* each subtask's accuracy jumps from chance (0.5) to 1 — over model size N and over training steps;
* the frequency-weighted ("aggregate") test loss, the loss on the training distribution, falls
  smoothly as a power law: with shares p_t ∝ t^−(α+1) and the n most frequent subtasks learned,
  L ≈ log 2 · Σ_{t>n} p_t ∝ n^−α (theory/quanta.py).

The test set is balanced over subtasks, so the aggregate loss is Σ_t p_t · L_t, every subtask's mean
test loss L_t weighted by its training share p_t. This module measures, from stored outputs:

* per size (final checkpoint, seeds pooled): each subtask's accuracy and loss with 95 % bootstrap
  intervals (seeds, then examples within each seed and subtask), the aggregate loss with its
  interval, and the number of subtasks learned (accuracy ≥ `LEARNED` = 0.9);
* per size, over checkpoints: each subtask's accuracy and the aggregate loss against step;
* onsets: the N (and, per size, the step) where each subtask first reaches `LEARNED`, interpolated
  in log scale, and Spearman's ρ between onset and frequency rank (> 0: frequent ones first);
* transition widths: decades of steps a subtask takes from accuracy 0.6 to 0.9 (sharp: a fraction
  of a decade) against the decades the aggregate loss takes from 20 % to 80 % of its fall;
* the scaling fit: L_agg ∝ N^−a (least squares in log–log over sizes, interval from refits with
  each size's loss redrawn within its bootstrap interval) and L_agg against the number of subtasks
  learned, next to the quantization model's exponent: α itself, and the exponent of the exact
  finite-S model (log 2 · tail mass) over the same range of learned counts.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from emergelab.store import Store
from emergelab.tasks.base import task_from_config
from emergelab.tasks.parity import MultitaskSparseParity

LEARNED = 0.9  # a subtask counts as learned at this accuracy (chance is 0.5)
RISE = (0.6, 0.9)  # accuracy levels bracketing a subtask's transition
FALL = (0.2, 0.8)  # shares of the aggregate loss's total fall bracketing its transition


@dataclass
class SizeQuanta:
    """Every subtask's final accuracy and loss at one model size (seeds pooled)."""

    task: str
    model: str
    params: float  # non-embedding N
    seeds: int
    shares: np.ndarray  # (S,) training share of each subtask
    accuracy: np.ndarray  # (S,)
    acc_lo: np.ndarray
    acc_hi: np.ndarray
    loss: np.ndarray  # (S,) mean test loss (nats) per subtask
    aggregate_loss: float  # Σ p_t L_t
    aggregate_lo: float
    aggregate_hi: float
    learned: int  # subtasks with accuracy ≥ LEARNED


@dataclass
class SizeTrajectory:
    """Per-subtask accuracy and the aggregate loss over the checkpoints of one size (seeds pooled)."""

    task: str
    model: str
    params: float
    steps: np.ndarray  # (C,)
    accuracy: np.ndarray  # (C, S)
    aggregate_loss: np.ndarray  # (C,)
    onset_step: np.ndarray  # (S,) first step with accuracy ≥ LEARNED (log-interpolated); inf if never
    subtask_width: np.ndarray  # (S,) decades of steps from accuracy RISE[0] to RISE[1]; nan if not both
    aggregate_width: float  # decades of steps from FALL[0] to FALL[1] of the aggregate loss's fall


@dataclass
class QuantaScaling:
    """The aggregate loss against scale, next to the quantization model's exponent."""

    task: str
    alpha: float  # the task's Zipf exponent (shares ∝ rank^−(alpha+1))
    exponent_n: float  # L_agg ∝ N^−exponent_n over model sizes
    exponent_n_lo: float
    exponent_n_hi: float
    r2_n: float  # R² of the log–log line
    exponent_learned: float  # L_agg ∝ learned^−exponent over sizes with ≥ 1 subtask learned
    theory_learned: float  # the finite-S quantization model's exponent over the same learned range
    onset_n: np.ndarray  # (S,) N where each subtask first reaches LEARNED; inf if never
    order_rho: float  # Spearman ρ(rank, onset N) over subtasks learned at some size
    sizes: int


def _cells(correct: np.ndarray, logprob: np.ndarray, subtask: np.ndarray, n_sub: int) -> list[tuple]:
    return [(correct[subtask == t], logprob[subtask == t]) for t in range(n_sub)]


def _collect(folder: str | Path) -> tuple[dict, dict]:
    """{(task, model, N): [per seed {step: (subtask, correct, logprob)}]} and {task: task object}."""
    groups: dict[tuple[str, str, float], list[dict[int, tuple]]] = defaultdict(list)
    tasks: dict[str, MultitaskSparseParity] = {}
    with Store(folder, read_only=True) as store:
        for run in store.runs():
            if run.task_config.get("name") != "multitask_sparse_parity" or run.source != "native":
                continue
            task = task_from_config(run.task_config)
            assert isinstance(task, MultitaskSparseParity)
            outputs = store.token_outputs(run.run_id)
            if not outputs:
                warnings.warn(f"run {run.run_id} has no stored outputs; left out of the subtask curves", stacklevel=3)
                continue
            groups[(run.task, run.model, float(run.non_embedding_params))].append(
                {step: (task.subtask_of(o.example_id), (o.pred == o.target).all(axis=1).astype(float),
                        o.logprob.sum(axis=1)) for step, o in outputs.items()})
            tasks[run.task] = task
    return groups, tasks


def size_quanta(folder: str | Path, n_boot: int = 1000, seed: int = 0) -> list[SizeQuanta]:
    """Final-checkpoint subtask accuracies and the aggregate loss, per task × size, N ascending."""
    rng = np.random.default_rng(seed)
    groups, tasks = _collect(folder)
    rows = []
    for (label, model, n), seeds in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        task = tasks[label]
        s = task.subtasks
        per_seed = [_cells(*(run[max(run)][1], run[max(run)][2], run[max(run)][0]), s) for run in seeds]
        acc, loss = _pooled(per_seed)
        reps_acc, reps_loss = _replicates(per_seed, n_boot, rng)
        agg_reps = reps_loss @ task.shares
        acc_lo, acc_hi = np.quantile(reps_acc, [0.025, 0.975], axis=0)
        agg_lo, agg_hi = np.quantile(agg_reps, [0.025, 0.975])
        rows.append(SizeQuanta(label, model, n, len(seeds), task.shares, acc, acc_lo, acc_hi, loss,
                               float(loss @ task.shares), float(agg_lo), float(agg_hi),
                               int((acc >= LEARNED).sum())))
    return rows


def _pooled(per_seed: list[list[tuple]]) -> tuple[np.ndarray, np.ndarray]:
    """(S,) accuracy and mean loss per subtask, all seeds' examples pooled; NaN for an empty cell."""
    n_sub = len(per_seed[0])
    acc, loss = np.full(n_sub, np.nan), np.full(n_sub, np.nan)
    for t in range(n_sub):
        c = np.concatenate([cells[t][0] for cells in per_seed])
        lp = np.concatenate([cells[t][1] for cells in per_seed])
        if len(c):
            acc[t], loss[t] = c.mean(), -lp.mean()
    if np.isnan(acc).any():
        warnings.warn(f"{int(np.isnan(acc).sum())} subtask(s) have no test examples; raise test_size", stacklevel=3)
    return acc, loss


def _replicates(per_seed: list[list[tuple]], n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(B, S) accuracy and loss per subtask: seeds resampled, then examples within (seed, subtask)."""
    n_sub = len(per_seed[0])
    acc, loss = np.empty((n_boot, n_sub)), np.empty((n_boot, n_sub))
    for b in range(n_boot):
        chosen = [per_seed[i] for i in rng.integers(len(per_seed), size=len(per_seed))]
        for t in range(n_sub):
            picks = [(c, lp, rng.integers(len(c), size=len(c))) for c, lp in (cells[t] for cells in chosen)]
            acc[b, t] = np.concatenate([c[i] for c, _, i in picks]).mean()
            loss[b, t] = -np.concatenate([lp[i] for _, lp, i in picks]).mean()
    return acc, loss


def trajectories(folder: str | Path) -> list[SizeTrajectory]:
    """Per-subtask accuracy and aggregate loss against step for every size, using the checkpoints
    every seed of that size has stored (a checkpoint scored on a subset keeps only that subset)."""
    groups, tasks = _collect(folder)
    out = []
    for (label, model, n), seeds in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        task = tasks[label]
        steps = sorted(set.intersection(*(set(run) for run in seeds)))
        acc, agg = [], []
        for step in steps:
            a, lo = _pooled([_cells(run[step][1], run[step][2], run[step][0], task.subtasks) for run in seeds])
            acc.append(a)
            agg.append(float(np.nansum(lo * task.shares) / task.shares[~np.isnan(lo)].sum()))
        acc_arr, agg_arr, st = np.array(acc), np.array(agg), np.array(steps, dtype=float)
        onset = np.array([first_crossing(st, acc_arr[:, t], LEARNED) for t in range(task.subtasks)])
        width = np.array([crossing_width(st, acc_arr[:, t], *RISE) for t in range(task.subtasks)])
        out.append(SizeTrajectory(label, model, n, st, acc_arr, agg_arr, onset, width, loss_fall_width(st, agg_arr)))
    return out


def first_crossing(x: np.ndarray, y: np.ndarray, level: float) -> float:
    """The first x where y reaches `level`, interpolated linearly in log x between the last point
    below and the first at or above; inf if never, x[0] if already there. Points with x ≤ 0 are
    skipped (a log cannot be taken)."""
    keep = (np.asarray(x) > 0) & np.isfinite(y)
    x, y = np.asarray(x, dtype=float)[keep], np.asarray(y, dtype=float)[keep]
    hit = np.nonzero(y >= level)[0]
    if not len(hit):
        return math.inf
    i = int(hit[0])
    if i == 0:
        return float(x[0])
    lx0, lx1 = math.log10(x[i - 1]), math.log10(x[i])
    return float(10 ** (lx0 + (level - y[i - 1]) / (y[i] - y[i - 1]) * (lx1 - lx0)))


def crossing_width(x: np.ndarray, y: np.ndarray, low: float, high: float) -> float:
    """Decades of x between y first reaching `low` and first reaching `high`; nan unless both are
    reached after the first point (a rise that was over before the first point has no width)."""
    a, b = first_crossing(x, y, low), first_crossing(x, y, high)
    first = np.asarray(x, dtype=float)[np.asarray(x) > 0]
    if not (math.isfinite(a) and math.isfinite(b)) or not len(first) or a <= first[0]:
        return math.nan
    return math.log10(b) - math.log10(a)


def loss_fall_width(x: np.ndarray, loss: np.ndarray) -> float:
    """Decades of x the loss takes from FALL[0] to FALL[1] of its total fall (first to lowest)."""
    start, end = loss[0], np.nanmin(loss)
    if not start > end:
        return math.nan
    progress = (start - np.asarray(loss, dtype=float)) / (start - end)
    return crossing_width(x, progress, *FALL)


def power_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(exponent a, R²) of y ∝ x^−a by least squares on log10–log10."""
    lx, ly = np.log10(x), np.log10(y)
    slope, icpt = np.polyfit(lx, ly, 1)
    resid = ly - (slope * lx + icpt)
    total = ((ly - ly.mean()) ** 2).sum()
    return float(-slope), float(1 - (resid**2).sum() / total) if total > 0 else math.nan


def theory_exponent(shares: np.ndarray, learned_lo: int, learned_hi: int, loss_unknown: float = math.log(2)) -> float:
    """The quantization model's exponent over n in [learned_lo, learned_hi] for these shares: the
    log–log slope of L(n) = loss_unknown · Σ_{t>n} p_t (known subtasks cost 0) on the integers."""
    from emergelab.theory.quanta import mean_loss

    n = np.arange(max(learned_lo, 1), learned_hi + 1)
    loss = mean_loss(n, np.asarray(shares, dtype=float), 0.0, loss_unknown)
    keep = loss > 0
    if keep.sum() < 2:
        return math.nan
    return power_fit(n[keep], loss[keep])[0]


def fit_quanta_scaling(rows: list[SizeQuanta], n_boot: int = 1000, seed: int = 0) -> list[QuantaScaling]:
    """Per task: the aggregate-loss exponent over N with its interval, against learned counts, the
    theory's exponent, and whether subtasks are learned in order of frequency (see module doc)."""
    rng = np.random.default_rng(seed)
    out = []
    for task in sorted({r.task for r in rows}):
        pts = [r for r in rows if r.task == task]
        if len(pts) < 3:
            warnings.warn(f"{task}: {len(pts)} size(s); the loss exponent needs at least 3", stacklevel=2)
            continue
        n = np.array([r.params for r in pts])
        y = np.array([r.aggregate_loss for r in pts])
        sd = np.array([(r.aggregate_hi - r.aggregate_lo) / (2 * 1.96) for r in pts])
        a, r2 = power_fit(n, y)
        draws = [power_fit(n, yb)[0] for yb in (y + sd * rng.standard_normal(len(y)) for _ in range(n_boot))
                 if np.all(yb > 0)]
        if len(draws) < 0.9 * n_boot:
            warnings.warn(f"{task}: {n_boot - len(draws)} of {n_boot} bootstrap draws reached a loss ≤ 0 and were "
                          "left out; the interval is optimistic", stacklevel=2)
        lo, hi = np.quantile(draws, [0.025, 0.975]) if draws else (math.nan, math.nan)
        learned = np.array([r.learned for r in pts])
        ok = learned >= 1
        if ok.sum() >= 2 and len(set(learned[ok])) >= 2:
            a_learned = power_fit(learned[ok].astype(float), y[ok])[0]
            a_theory = theory_exponent(pts[0].shares, int(learned[ok].min()), int(learned[ok].max()))
        else:
            warnings.warn(f"{task}: fewer than two distinct learned counts ≥ 1; no exponent against learned "
                          "subtasks", stacklevel=2)
            a_learned = a_theory = math.nan
        acc = np.array([r.accuracy for r in pts])  # (sizes, S)
        onset = np.array([first_crossing(n, acc[:, t], LEARNED) for t in range(acc.shape[1])])
        seen = np.isfinite(onset)
        rho = float(spearmanr(np.nonzero(seen)[0], onset[seen]).statistic) if seen.sum() >= 3 else math.nan
        out.append(QuantaScaling(task, _alpha_of(pts[0].shares), a, float(lo), float(hi), r2, a_learned, a_theory,
                                 onset, rho, len(pts)))
    return out


def _alpha_of(shares: np.ndarray) -> float:
    """The Zipf exponent α back from shares ∝ rank^−(α+1) (exact for shares built that way)."""
    if len(shares) < 2:
        return math.nan
    return float(math.log(shares[0] / shares[1]) / math.log(2) - 1)


def step_order_rho(traj: SizeTrajectory) -> float:
    """Spearman ρ between frequency rank and onset step over the subtasks this size learns."""
    seen = np.isfinite(traj.onset_step)
    return float(spearmanr(np.nonzero(seen)[0], traj.onset_step[seen]).statistic) if seen.sum() >= 3 else math.nan
