"""Do different seeds converge to the same thing?

For every model size trained with several seeds this module compares the seeds

* over training: each seed's emergence step (the first checkpoint step where exact match reaches
  0.5, interpolated in log step) and, across sizes, each seed's threshold N (same rule in log N);
* in function space, on the final test answers: the share of examples with identical answers, and
  on the examples both get wrong, the share with the *same* wrong answer (plus the Jaccard overlap
  of their error sets) — the same function makes the same mistakes;
* in representation space: linear CKA (Kornblith et al. 2019) of the final residual stream at the
  last prompt position, which is invariant to rotations and isotropic scaling of the features, so
  two seeds that learned the same features in another basis score 1;
* in weight space: the loss barrier on the straight line between the two seeds' weights (linear mode
  connectivity). Seeds differ by more than a permutation of units, so even two solutions of one
  function usually sit in different basins unless something aligns them.

CKA and the barrier need the saved final weights (`executor.save_weights`); without them those
columns are NaN and a warning says so.
"""

from __future__ import annotations

import itertools
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emergelab.store import Store
from emergelab.tasks.base import task_from_config

LEVEL = 0.5
ALPHAS = np.linspace(0.0, 1.0, 11)


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of two (n, d1), (n, d2) feature matrices: ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F) after
    centring each feature (Kornblith et al. 2019, eq. for the linear kernel)."""
    x = np.asarray(x, dtype=float) - np.mean(x, axis=0)
    y = np.asarray(y, dtype=float) - np.mean(y, axis=0)
    cross = np.linalg.norm(y.T @ x) ** 2
    return float(cross / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))


@dataclass
class Agreement:
    """Function-space agreement of two models' answers on the same examples."""

    identical: float  # share of examples with the same full answer
    same_errors: float  # among examples both get wrong, share with the same wrong answer (NaN: none)
    error_jaccard: float  # |both wrong| / |either wrong| (NaN: neither errs)


def agreement(pred_a: np.ndarray, pred_b: np.ndarray, target: np.ndarray) -> Agreement:
    """Agreement of answers (n, L) of two models against the targets (n, L)."""
    same = (pred_a == pred_b).all(axis=1)
    wrong_a, wrong_b = ~(pred_a == target).all(axis=1), ~(pred_b == target).all(axis=1)
    both, either = wrong_a & wrong_b, wrong_a | wrong_b
    return Agreement(float(same.mean()), float(same[both].mean()) if both.any() else float("nan"),
                     float(both.sum() / either.sum()) if either.any() else float("nan"))


def crossing_log(x: np.ndarray, y: np.ndarray, level: float = LEVEL) -> float:
    """First x where y reaches `level`, interpolated linearly in log x; NaN if never, x[0] if
    already at the first point."""
    above = np.nonzero(np.asarray(y) >= level)[0]
    if not len(above):
        return float("nan")
    i = int(above[0])
    if i == 0:
        return float(x[0])
    lx0, lx1 = np.log(x[i - 1]), np.log(x[i])
    return float(np.exp(lx0 + (level - y[i - 1]) * (lx1 - lx0) / (y[i] - y[i - 1])))


@dataclass
class PairComparison:
    """Two seeds of one size."""

    task: str
    model: str
    params: float
    seed_a: int
    seed_b: int
    both_solve: bool  # both reach exact match ≥ 0.5
    identical: float
    same_errors: float
    error_jaccard: float
    cka: float
    barrier: float  # nats per answer token above the chord
    end_loss: float  # mean of the two end points' losses


@dataclass
class SeedRun:
    """One seed of one size."""

    task: str
    model: str
    params: float
    seed: int
    final_exact_match: float
    emergence_step: float  # NaN when exact match never reaches 0.5 during training


@dataclass
class SeedThreshold:
    """One seed's threshold across sizes: the N where final exact match first reaches 0.5."""

    task: str
    seed: int
    threshold_params: float


@dataclass
class SeedStudy:
    runs: list[SeedRun]
    pairs: list[PairComparison]
    thresholds: list[SeedThreshold]


def _weights_file(folder: Path, run_id: str) -> Path | None:
    from emergelab.models.hf_export import weights_dir_name

    files = sorted((folder / "weights" / weights_dir_name(run_id)).glob("step_*.safetensors"),
                   key=lambda p: int(p.stem.split("_")[1]))
    return files[-1] if files else None


def seed_study(folder: str | Path, max_examples: int = 1000) -> SeedStudy:
    """Every size with ≥ 2 seeds: per-seed emergence, pairwise function / representation / weight
    comparisons at the final checkpoint; CKA and the barrier on the first `max_examples` tests."""
    from emergelab.evaluate.seeds import (
        cross_entropy_of,
        interpolation_losses,
        load_model,
        loss_barrier,
        residual_stream,
    )

    folder = Path(folder)
    by_size: dict[tuple[str, str], list] = defaultdict(list)
    with Store(folder, read_only=True) as store:
        for run in store.runs():
            if run.source != "native" or run.seed is None:
                continue
            outputs = store.token_outputs(run.run_id)
            if outputs:
                by_size[(run.task, run.model)].append((run, outputs))
    runs, pairs, missing = [], [], []
    for (task_label, model), members in sorted(by_size.items(), key=lambda kv: (kv[0][0], kv[1][0][0].non_embedding_params)):
        if len(members) < 2:
            continue
        members.sort(key=lambda m: m[0].seed)
        task = task_from_config(members[0][0].task_config)
        finals = {}
        for run, outputs in members:
            steps = np.array(sorted(outputs))
            em = np.array([(outputs[s].pred == outputs[s].target).all(axis=1).mean() for s in steps])
            finals[run.seed] = outputs[int(steps[-1])]
            runs.append(SeedRun(task_label, model, float(run.non_embedding_params), int(run.seed), float(em[-1]),
                                crossing_log(np.maximum(steps, 1), em)))
        common = set.intersection(*(set(o.example_id.tolist()) for o in finals.values()))
        ids = np.array(sorted(common))[:max_examples]
        prompts, answers = task.encode(ids)
        aligned = {s: o.pred[np.searchsorted(o.example_id, ids)] if np.all(np.diff(o.example_id) > 0)
                   else o.pred[np.argsort(o.example_id)][np.searchsorted(np.sort(o.example_id), ids)]
                   for s, o in finals.items()}
        models = {}
        for run, _ in members:
            path = _weights_file(folder, run.run_id)
            if path is None:
                missing.append(run.run_id)
            else:
                models[run.seed] = load_model(path)
        streams = {s: residual_stream(m, prompts) for s, (m, _) in models.items()}
        n_params = float(members[0][0].non_embedding_params)
        for (ra, _), (rb, _) in itertools.combinations(members, 2):
            a, b = int(ra.seed), int(rb.seed)
            agr = agreement(aligned[a], aligned[b], answers)
            em_a, em_b = ((aligned[s] == answers).all(axis=1).mean() for s in (a, b))
            cka = barrier = end = float("nan")
            if a in models and b in models:
                cka = linear_cka(streams[a], streams[b])
                (ma, sa), (mb, sb) = models[a], models[b]
                losses = interpolation_losses(sa, sb, ma.cfg, prompts, answers, ALPHAS)
                barrier = loss_barrier(losses, ALPHAS)
                end = 0.5 * (cross_entropy_of(ma, prompts, answers) + cross_entropy_of(mb, prompts, answers))
            pairs.append(PairComparison(task_label, model, n_params, a, b, bool(em_a >= LEVEL and em_b >= LEVEL),
                                        agr.identical, agr.same_errors, agr.error_jaccard, cka, barrier, end))
    if missing:
        warnings.warn(f"{len(missing)} runs have no saved weights (run with executor.save_weights: true); "
                      "their CKA and loss barrier are NaN", stacklevel=2)
    return SeedStudy(runs, pairs, _thresholds(runs))


def _thresholds(runs: list[SeedRun]) -> list[SeedThreshold]:
    out = []
    for (task, seed) in sorted({(r.task, r.seed) for r in runs}):
        rows = sorted((r for r in runs if r.task == task and r.seed == seed), key=lambda r: r.params)
        if len(rows) >= 2:
            out.append(SeedThreshold(task, seed, crossing_log(np.array([r.params for r in rows]),
                                                              np.array([r.final_exact_match for r in rows]))))
    return out


@dataclass
class SizeSummary:
    """The seeds of one size in a few numbers (means over pairs; pairs where both seeds solve the
    task are summarised apart, since two failures agree for other reasons)."""

    task: str
    model: str
    params: float
    seeds: int
    solved: int  # seeds with final exact match ≥ 0.5
    step_lo: float  # earliest and latest emergence step among the seeds that emerge
    step_hi: float
    identical_solved: float
    same_errors_solved: float
    cka_solved: float
    barrier_solved: float
    identical_all: float
    cka_all: float
    barrier_all: float


def summarize(study: SeedStudy) -> list[SizeSummary]:
    out = []
    for task, model in dict.fromkeys((r.task, r.model) for r in study.runs):
        runs = [r for r in study.runs if r.task == task and r.model == model]
        pairs = [p for p in study.pairs if p.task == task and p.model == model]
        if not pairs:
            continue
        solved = [p for p in pairs if p.both_solve]
        steps = [r.emergence_step for r in runs if np.isfinite(r.emergence_step)]

        def mean(ps: list[PairComparison], field: str) -> float:
            vals = [getattr(p, field) for p in ps]
            vals = [v for v in vals if np.isfinite(v)]
            return float(np.mean(vals)) if vals else float("nan")

        out.append(SizeSummary(task, model, runs[0].params, len(runs), sum(r.final_exact_match >= LEVEL for r in runs),
                               min(steps, default=float("nan")), max(steps, default=float("nan")),
                               mean(solved, "identical"), mean(solved, "same_errors"), mean(solved, "cka"),
                               mean(solved, "barrier"), mean(pairs, "identical"), mean(pairs, "cka"),
                               mean(pairs, "barrier")))
    return out
