"""Superposition: sparse features share too few dimensions once they are rare enough (a phase change).

Claim (Elhage et al. 2022, "Toy Models of Superposition", §3–4): a model x' = ReLU(WᵀW x + b)
that squeezes n features into m < n dimensions keeps only the m most important features, each in
its own direction, while the features are dense; when features become sparse enough it packs more
features than dimensions into superposition (for n = 2, m = 1: W₁ ≈ −W₂, antipodal), because the
ReLU and a negative bias filter the rare interference. The switch is sharp in feature density and
its position moves with the relative importance of the extra feature — the paper's phase diagram.

Set-up as in the paper: feature i is 0 with probability S (sparsity) and uniform on [0, 1]
otherwise; loss Σᵢ Iᵢ (xᵢ − x'ᵢ)². Features 1 … n−1 have importance `decay`**i; the last, "extra"
feature has importance r relative to the first. Every (density 1 − S, r) grid point is trained with
several random initialisations at once as one batched torch problem, and the lowest-loss restart
is kept (the paper also reports the best of several runs): a single run lands in a one-feature
local minimum about half the time near the boundary (measured at density 0.03, equal importance),
so 8 restarts miss the optimum with probability ≈ 0.5⁸.

Each feature is then classified from W: *dropped* (‖Wᵢ‖ < 0.5), *alone* (represented, and the
interference Σⱼ≠ᵢ (Ŵᵢ·Wⱼ)² < 0.3 from other features), or *superposed*. A grid point's phase is the
extra feature's class.
"""

from __future__ import annotations

import numpy as np
import torch

from emergelab.theory.registry import TheoryCurve, TheoryResult, register_system

PHASES = ("dropped", "alone", "superposed")
REPRESENTED_NORM = 0.5
ALONE_INTERFERENCE = 0.3


def importances(n_features: int, relative: np.ndarray, decay: float) -> np.ndarray:
    """(len(relative), n) importance vectors: decay**i for features 0..n-2, r for the extra one."""
    base = decay ** np.arange(n_features - 1, dtype=float)
    out = np.empty((len(relative), n_features))
    out[:, :-1] = base
    out[:, -1] = relative
    return out


def train_grid(density: np.ndarray, importance: np.ndarray, m_dims: int, *, restarts: int = 4,
               steps: int = 2000, batch: int = 256, lr: float = 0.1, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train one toy model per (density[g], importance[g]) grid point; return the best restart's
    W (G, m, n), b (G, n) and its loss (G,) on a fresh evaluation batch.

    Runs on one intra-op thread: the tensors are tiny, and a second thread only adds
    synchronisation (measured 8x slower on a loaded 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_grid(density, importance, m_dims, restarts, steps, batch, lr, seed)
    finally:
        torch.set_num_threads(threads)


def _train_grid(density: np.ndarray, importance: np.ndarray, m_dims: int, restarts: int, steps: int,
                batch: int, lr: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gen = torch.Generator().manual_seed(seed)
    g, n = importance.shape
    k = g * restarts  # one independent model per (grid point, restart), trained side by side
    dens = torch.as_tensor(np.repeat(density, restarts), dtype=torch.float32).view(k, 1, 1)
    imp = torch.as_tensor(np.repeat(importance, restarts, axis=0), dtype=torch.float32).view(k, 1, n)
    w = torch.nn.init.xavier_normal_(torch.empty(k, m_dims, n), generator=gen).requires_grad_()
    b = torch.zeros(k, 1, n, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=lr)

    def sample(size: int) -> torch.Tensor:
        # One draw serves both: u < density switches the feature on, and given that, u / density
        # is uniform on [0, 1].
        u = torch.rand(k, size, n, generator=gen)
        return torch.where(u < dens, u / dens, 0.0)

    def loss_of(x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(torch.baddbmm(b, torch.bmm(x, w.transpose(1, 2)), w))
        return (imp * (x - out) ** 2).sum(-1).mean(-1)  # (k,)

    for step in range(steps):
        for group in opt.param_groups:  # cosine decay helps the sparse points settle
            group["lr"] = lr * 0.5 * (1 + np.cos(np.pi * step / steps))
        loss = loss_of(sample(batch)).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = loss_of(sample(8 * batch)).view(g, restarts)
        best = final.argmin(dim=1)
        idx = torch.arange(g)
        w_best = w.detach().view(g, restarts, m_dims, n)[idx, best]
        b_best = b.detach().view(g, restarts, n)[idx, best]
        return w_best.numpy().astype(float), b_best.numpy().astype(float), final[idx, best].numpy().astype(float)


def feature_classes(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per feature of W (m, n): norm ‖Wᵢ‖, interference Σⱼ≠ᵢ (Ŵᵢ·Wⱼ)² and class index into PHASES."""
    norms = np.linalg.norm(w, axis=0)
    unit = w / np.maximum(norms, 1e-12)
    overlap = (unit.T @ w) ** 2
    interference = overlap.sum(axis=1) - np.diag(overlap)
    cls = np.where(norms < REPRESENTED_NORM, 0, np.where(interference < ALONE_INTERFERENCE, 1, 2))
    return norms, interference, cls


def _boundary(densities: np.ndarray, superposed: np.ndarray) -> float:
    """Largest density at which the extra feature is superposed, scanning from sparse to dense
    (NaN if it never is): the phase boundary for one importance."""
    hits = densities[superposed]
    return float(hits.max()) if hits.size else float("nan")


@register_system("superposition")
def run(
    n_features: int = 2,
    m_dims: int = 1,
    n_density: int = 10,
    n_importance: int = 7,
    min_density: float = 0.01,
    importance_range: float = 10.0,
    decay: float = 1.0,
    restarts: int = 8,
    steps: int = 1500,
    batch: int = 256,
    seed: int = 0,
) -> TheoryResult:
    """Phase diagram of the extra feature over feature density × relative importance."""
    if not 0 < m_dims < n_features:
        raise ValueError(f"need 0 < m_dims < n_features (got m_dims={m_dims}, n_features={n_features})")
    densities = np.geomspace(min_density, 1.0, n_density)
    relative = np.geomspace(1.0 / importance_range, importance_range, n_importance)
    dd, rr = np.meshgrid(densities, relative, indexing="ij")  # (n_density, n_importance)
    imp = importances(n_features, rr.ravel(), decay)
    w, b, loss = train_grid(dd.ravel(), imp, m_dims, restarts=restarts, steps=steps, batch=batch, seed=seed)

    rows, phase = [], np.zeros(dd.size, dtype=int)
    represented = np.zeros(dd.size)
    for k in range(dd.size):
        norms, interf, cls = feature_classes(w[k])
        phase[k] = cls[-1]
        represented[k] = float((cls > 0).sum())
        rows.append([float(dd.ravel()[k]), float(rr.ravel()[k]), PHASES[cls[-1]], int((cls > 0).sum()),
                     float(norms[-1]), float(interf[-1]), float(b[k, -1]), float(loss[k])])
    phase = phase.reshape(dd.shape)
    represented = represented.reshape(dd.shape)

    boundary = [_boundary(densities, phase[:, j] == 2) for j in range(n_importance)]
    mid = int(np.argmin(np.abs(np.log(relative))))  # the importance closest to 1
    curves = [
        TheoryCurve("superposition boundary (extra feature)", "relative importance of the extra feature",
                    "feature density", relative, boundary, log_x=True, log_y=True),
        TheoryCurve(f"features represented (r = {relative[mid]:.2g})", "feature density", "features represented",
                    densities, represented[:, mid], log_x=True),
        TheoryCurve(f"features represented (r = {relative[0]:.2g})", "feature density", "features represented",
                    densities, represented[:, 0], log_x=True),
        TheoryCurve(f"features represented (r = {relative[-1]:.2g})", "feature density", "features represented",
                    densities, represented[:, -1], log_x=True),
    ]
    counts = {p: int((phase == i).sum()) for i, p in enumerate(PHASES)}
    return TheoryResult(
        name="superposition",
        claim=(f"{n_features} sparse features in {m_dims} dimension(s): dense features keep only the "
               "most important; rare enough features are packed into superposition, with a sharp boundary."),
        source="Elhage et al. 2022, Toy Models of Superposition (Transformer Circuits Thread), §3-4.",
        params={"n_features": n_features, "m_dims": m_dims, "n_density": n_density,
                "n_importance": n_importance, "min_density": min_density,
                "importance_range": importance_range, "decay": decay, "restarts": restarts,
                "steps": steps, "batch": batch, "seed": seed},
        curves=curves,
        table_columns=["density", "relative_importance", "extra_feature", "features_represented",
                       "extra_norm", "extra_interference", "extra_bias", "loss"],
        table_rows=rows,
        notes=(f"Grid {n_density} densities × {n_importance} importances; extra feature dropped at "
               f"{counts['dropped']}, alone at {counts['alone']}, superposed at {counts['superposed']} points. "
               f"Represented: ‖Wᵢ‖ ≥ {REPRESENTED_NORM}; alone: interference < {ALONE_INTERFERENCE}."),
    )
