"""How many skills can a model combine, and how does that number grow with scale?

On the `skill_mix` task (tasks/skills.py) every test example names a set of k skills the model never
saw together in training. Per model size this module measures

* success by k: exact match on the k-sets (seeds pooled), with a 95 % percentile bootstrap interval
  over seeds and then examples within each seed;
* k* = the largest k whose success is ≥ `level` (0.5), 0 when even single skills fail; its interval
  is the same statistic on the bootstrap replicates (replicate success curves, one k* each);
* k_cross, a continuous k*: from the last k with success ≥ level, the point where the success
  curve falls through the level, interpolated linearly to the next k (k* ≤ k_cross < k* + 1). An
  integer k* barely moves between bootstrap replicates, so its γ interval collapses to a point;
  k_cross carries the same information with an interval that reflects the sampling noise;
* the scaling of k*: k* ∝ N^γ fitted by least squares in log–log over the sizes with k* ≥ 1, γ's
  interval from refitting the replicates' k* (one replicate per size per draw). "10× scale doubles
  k" is γ = log10 2 ≈ 0.30.

k* is censored at the task's k_max: a size that handles every tested k has k* ≥ k_max, not = k_max;
such sizes are reported and the fit warns, since they pull γ down.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emergelab.store import Store
from emergelab.tasks.base import task_from_config
from emergelab.tasks.skills import SkillMix

LEVEL = 0.5
DOUBLING_GAMMA = float(np.log10(2.0))  # k* doubles per 10x in N


@dataclass
class SkillCurve:
    """Success by tuple size k for one task at one model size (seeds pooled)."""

    task: str
    model: str
    params: float  # non-embedding N
    seeds: int
    k: np.ndarray  # (K,) 1 … k_max
    k_train: int
    success: np.ndarray  # (K,) exact match on held-out k-sets
    lo: np.ndarray
    hi: np.ndarray
    examples: np.ndarray  # (K,) test examples per k, all seeds
    k_star: int
    k_star_lo: int
    k_star_hi: int
    k_star_replicates: np.ndarray  # (B,) k* on each bootstrap replicate
    k_cross: float
    k_cross_lo: float
    k_cross_hi: float
    k_cross_replicates: np.ndarray  # (B,)

    @property
    def censored(self) -> bool:
        """True when every tested k succeeds: k* is only a lower bound."""
        return self.k_star >= int(self.k[-1])


@dataclass
class KStarScaling:
    """k* ∝ N^gamma (or k_cross ∝ N^gamma) over the sizes of one task with k* ≥ 1."""

    task: str
    measure: str  # "k_star" or "k_cross"
    gamma: float
    gamma_lo: float
    gamma_hi: float
    prefactor: float  # k* at N = 1 on the fitted line
    sizes: int
    n_min: float
    n_max: float


def k_star(success: np.ndarray, level: float = LEVEL) -> int:
    """Largest k (1-based position) with success ≥ level; 0 when none reaches it."""
    ok = np.nonzero(np.asarray(success) >= level)[0]
    return int(ok[-1]) + 1 if len(ok) else 0


def k_cross(success: np.ndarray, level: float = LEVEL) -> float:
    """k* plus the interpolated share of the step to k* + 1 spent above the level; k* itself when
    k* is 0 or the last tested k (nothing to interpolate towards)."""
    ks = k_star(success, level)
    if ks == 0 or ks == len(success):
        return float(ks)
    above, below = success[ks - 1], success[ks]
    return float(ks + (above - level) / (above - below))


def skill_curves(folder: str | Path, n_boot: int = 1000, seed: int = 0, level: float = LEVEL) -> list[SkillCurve]:
    """Success by k and k* for every skill_mix task × model size at the final checkpoint, N ascending."""
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, str, float], list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
    tasks: dict[str, SkillMix] = {}
    with Store(folder, read_only=True) as store:
        for run in store.runs():
            if run.task_config.get("name") != "skill_mix" or run.source != "native":
                continue
            task = task_from_config(run.task_config)
            assert isinstance(task, SkillMix)
            outputs = store.token_outputs(run.run_id)
            if not outputs:
                warnings.warn(f"run {run.run_id} has no stored outputs; left out of the skill curves", stacklevel=2)
                continue
            out = outputs[max(outputs)]
            correct = (out.pred == out.target).all(axis=1).astype(float)
            groups[(run.task, run.model, float(run.non_embedding_params))].append((task.k_of(out.example_id), correct))
            tasks[run.task] = task
    rows = []
    for (label, model, n), parts in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        task = tasks[label]
        ks = np.arange(1, task.k_max + 1)
        by_seed = [[c[k_of == k] for k in ks] for k_of, c in parts]
        success = np.array([np.concatenate([s[i] for s in by_seed]).mean() for i in range(len(ks))])
        reps = _replicate_success(by_seed, n_boot, rng)
        lo, hi = np.quantile(reps, [0.025, 0.975], axis=0) if len(reps) else (np.full(len(ks), np.nan),) * 2
        k_reps = np.array([k_star(r, level) for r in reps], dtype=int)
        k_lo, k_hi = (np.quantile(k_reps, [0.025, 0.975]) if len(k_reps) else (np.nan, np.nan))
        c_reps = np.array([k_cross(r, level) for r in reps])
        c_lo, c_hi = (np.quantile(c_reps, [0.025, 0.975]) if len(c_reps) else (np.nan, np.nan))
        rows.append(SkillCurve(label, model, n, len(parts), ks, task.k_train, success, lo, hi,
                               np.array([sum(len(s[i]) for s in by_seed) for i in range(len(ks))]),
                               k_star(success, level), int(np.floor(k_lo)), int(np.ceil(k_hi)), k_reps,
                               k_cross(success, level), float(c_lo), float(c_hi), c_reps))
    return rows


def _replicate_success(by_seed: list[list[np.ndarray]], n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(B, K) success curves: seeds resampled, then examples within each (seed, k) cell."""
    if n_boot <= 0:
        return np.empty((0, len(by_seed[0])))
    reps = np.empty((n_boot, len(by_seed[0])))
    for b in range(n_boot):
        chosen = [by_seed[i] for i in rng.integers(len(by_seed), size=len(by_seed))]
        for j in range(reps.shape[1]):
            cells = [s[j] for s in chosen]
            reps[b, j] = np.concatenate([c[rng.integers(len(c), size=len(c))] for c in cells]).mean()
    return reps


def fit_gamma(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(gamma, log10 prefactor) of y ∝ x^gamma by least squares in log10–log10."""
    slope, intercept = np.polyfit(np.log10(x), np.log10(y), 1)
    return float(slope), float(intercept)


def fit_k_star_scaling(curves: list[SkillCurve], measure: str = "k_star") -> list[KStarScaling]:
    """γ of k* ∝ N^γ per task (measure "k_star", or the continuous "k_cross"), with a percentile
    interval over the curves' bootstrap replicates.
    Sizes with k* = 0 cannot enter a log fit and are left out with a warning; censored sizes
    (k* = k_max) are kept with a warning. Fewer than two usable sizes: no fit, with a warning."""
    fits = []
    for task in sorted({c.task for c in curves}):
        rows = [c for c in curves if c.task == task]
        used = [c for c in rows if c.k_star >= 1]
        if len(used) < len(rows):
            dropped = ", ".join(f"{c.model} (N={c.params:.3g})" for c in rows if c.k_star < 1)
            warnings.warn(f"{task}: k* = 0 at {dropped}; left out of the k* ∝ N^gamma fit", stacklevel=2)
        if any(c.censored for c in used):
            warnings.warn(f"{task}: some sizes solve every tested k (k* is a lower bound there); "
                          "gamma is biased low — test larger k (k_max)", stacklevel=2)
        if len({c.params for c in used}) < 2:
            warnings.warn(f"{task}: fewer than two sizes with k* ≥ 1; no k* ∝ N^gamma fit", stacklevel=2)
            continue
        n = np.array([c.params for c in used])
        gamma, intercept = fit_gamma(n, np.array([getattr(c, measure) for c in used], dtype=float))
        replicates = [getattr(c, f"{measure}_replicates") for c in used]
        reps = []
        for b in range(min(len(r) for r in replicates)):
            kb = np.array([r[b] for r in replicates], dtype=float)
            if (kb >= 1).sum() >= 2:
                ok = kb >= 1
                reps.append(fit_gamma(n[ok], kb[ok])[0])
        lo, hi = np.quantile(reps, [0.025, 0.975]) if reps else (np.nan, np.nan)
        fits.append(KStarScaling(task, measure, gamma, float(lo), float(hi), 10**intercept, len(used),
                                 float(n.min()), float(n.max())))
    return fits


@dataclass
class TheoryPrediction:
    """What the skill_graph theory system predicts for the growth of k* with scale."""

    crossing_ratio: float  # tuple size at competence 0.5 when theta halves, over the size before
    gamma: float  # log10 of the ratio: the slope of k* against N when theta halves per 10x


def skill_graph_prediction(seed: int = 0) -> TheoryPrediction:
    """Run the `skill_graph` system (random errors, independent skill failures) and turn its
    crossing ratio into a slope: if one 10× scale-up halves the error rate θ, k* grows by the
    ratio per decade of N, i.e. γ = log10(ratio) (exactly 0.30 when the ratio is 2)."""
    from emergelab.theory.skill_graph import run

    result = run(n_skills=200, n_pieces=10_000, max_tuple=24, n_tuples=1_000, max_scale_decades=1.0, seed=seed)
    ratio = float(result.params["crossing_ratio"])
    return TheoryPrediction(ratio, float(np.log10(ratio)))
