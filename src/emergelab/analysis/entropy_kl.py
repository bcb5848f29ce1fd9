"""Loss = entropy + KL: how far each model is from the truth, once the irreducible part is known.

A model q's expected test cross-entropy on answers drawn from the true p is
    CE = E_x E_{y~p(·|x)} [−log q(y|x)] = H(p) + KL(p‖q),
with H(p) the entropy floor and KL ≥ 0 the part scale can remove. On tasks with a known answer
distribution (`tasks/stochastic.py`; deterministic tasks have H = 0) H is exact per example, so
each stored answer gives an unbiased per-example KL estimate, −log q(y_i|x_i) − H(p(·|x_i)), and the
split needs no extra model run. Intervals are percentile bootstraps over examples (and seeds).

The scaling question ("10× scale halves the KL") is a power law KL(N) ∝ N^(−α): α is fitted by
least squares in log–log over model sizes, its interval from refits on bootstrap replicates, and
`factor_per_decade` = 10^α is the KL reduction per 10× in N (2 means "halves").
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emergelab.store import Store
from emergelab.tasks.base import task_from_config


@dataclass
class LossSplit:
    """CE = H + KL for one task at one model size (seeds pooled), in nats per example."""

    task: str
    model: str
    params: float  # non-embedding parameters N
    seeds: int
    examples: int
    cross_entropy: float
    entropy: float
    kl: float
    kl_lo: float
    kl_hi: float


@dataclass
class KLScaling:
    """KL(N) ∝ N^(−alpha) fitted over the sizes of one task."""

    task: str
    alpha: float
    alpha_lo: float
    alpha_hi: float
    factor_per_decade: float
    factor_lo: float
    factor_hi: float
    sizes: int


def per_example_kl(logprob: np.ndarray, entropy: np.ndarray) -> np.ndarray:
    """−log q(y|x) − H(p(·|x)) per example: unbiased for KL(p(·|x) ‖ q(·|x)) when y ~ p."""
    return -np.asarray(logprob, dtype=float) - np.asarray(entropy, dtype=float)


def loss_splits(folder: str | Path, n_boot: int = 1000, seed: int = 0) -> list[LossSplit]:
    """The split of every task × size at each run's final checkpoint, sizes ascending."""
    rng = np.random.default_rng(seed)
    by_size: dict[tuple[str, str, float], list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
    with Store(folder, read_only=True) as store:
        for run in store.runs():
            if run.source != "native":
                continue
            try:
                task = task_from_config(run.task_config)
            except KeyError as e:
                warnings.warn(f"run {run.run_id}: {e.args[0]}; left out of the loss split", stacklevel=2)
                continue
            outputs = store.token_outputs(run.run_id)
            if not outputs:
                continue
            out = outputs[max(outputs)]
            logprob = out.logprob.sum(axis=1)
            by_size[(run.task, run.model, float(run.non_embedding_params))].append(
                (logprob, task.answer_entropy(out.example_id)))
    rows = []
    for (task, model, n), parts in sorted(by_size.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        kl_seeds = [per_example_kl(lp, h) for lp, h in parts]
        ce = float(np.mean([-lp.mean() for lp, _ in parts]))
        ent = float(np.mean([h.mean() for _, h in parts]))
        reps = _bootstrap_mean(kl_seeds, n_boot, rng)
        lo, hi = np.quantile(reps, [0.025, 0.975]) if len(reps) else (np.nan, np.nan)
        rows.append(LossSplit(task, model, n, len(parts), sum(len(k) for k in kl_seeds), ce, ent, ce - ent,
                              float(lo), float(hi)))
    return rows


def _bootstrap_mean(groups: list[np.ndarray], n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Two-stage bootstrap of the mean over seeds, then examples within each seed."""
    if n_boot <= 0:
        return np.array([])
    means = np.empty(n_boot)
    for b in range(n_boot):
        chosen = rng.integers(len(groups), size=len(groups))
        means[b] = np.mean([groups[i][rng.integers(len(groups[i]), size=len(groups[i]))].mean() for i in chosen])
    return means


def fit_kl_scaling(rows: list[LossSplit], n_boot: int = 1000, seed: int = 0) -> list[KLScaling]:
    """α of KL ∝ N^(−α) per task, with a bootstrap interval that redraws each size's KL within
    its own interval (normal with the interval's width); sizes whose KL is not positive are left
    out with a warning, since a log cannot be taken."""
    rng = np.random.default_rng(seed)
    out = []
    for task in sorted({r.task for r in rows}):
        pts = [r for r in rows if r.task == task]
        keep = [r for r in pts if r.kl > 0]
        if len(keep) < len(pts):
            warnings.warn(f"{task}: {len(pts) - len(keep)} size(s) with KL ≤ 0 (at the entropy floor) left out "
                          "of the power-law fit", stacklevel=2)
        if len(keep) < 3:
            warnings.warn(f"{task}: fewer than 3 sizes with positive KL; no scaling fit", stacklevel=2)
            continue
        x = np.log10([r.params for r in keep])
        y = np.array([r.kl for r in keep])
        sd = np.array([(r.kl_hi - r.kl_lo) / (2 * 1.96) for r in keep])
        alpha = -np.polyfit(x, np.log10(y), 1)[0]
        draws = []
        for _ in range(n_boot):
            yb = y + sd * rng.standard_normal(len(y))
            if np.all(yb > 0):
                draws.append(-np.polyfit(x, np.log10(yb), 1)[0])
        if len(draws) < 0.9 * n_boot:
            warnings.warn(f"{task}: {n_boot - len(draws)} of {n_boot} bootstrap draws reached KL ≤ 0 and were "
                          "left out; the interval is optimistic", stacklevel=2)
        lo, hi = np.quantile(draws, [0.025, 0.975]) if draws else (np.nan, np.nan)
        out.append(KLScaling(task, float(alpha), float(lo), float(hi), float(10**alpha), float(10**lo),
                             float(10**hi), len(keep)))
    return out
