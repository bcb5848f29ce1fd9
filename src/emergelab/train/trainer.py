"""One trainer for single models and ensembles (a single model is an ensemble of one).

Members share a shape and a training recipe and differ in seed: seed → initialisation and the
order of training batches. The loss is the sum over members of each member's mean cross-entropy
on answer tokens, so each member receives exactly the gradient it would receive alone; AdamW is
elementwise and gradient clipping is done per member, so nothing couples the members.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from emergelab.models import EnsembleGPT
from emergelab.train.adamw import FusedAdamW
from emergelab.train.schedule import warmup_cosine
from emergelab.train.snapshot import SnapshotPolicy, TrainState


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000
    batch_size: int = 128
    lr: float = 3e-3
    warmup_steps: int = 100
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    beta2: float = 0.98
    grad_clip: float | None = 1.0
    full_batch: bool = False  # use the whole training set every step (grokking)
    loss_dtype: str = "float32"  # "float64" keeps softmax exact once the train loss is tiny


@dataclass
class TrainData:
    """Token sequences (n, T) = prompt + answer; loss is taken on the last `answer_len` tokens."""

    sequences: torch.Tensor
    answer_len: int
    weights: torch.Tensor | None = None  # sampling weights per sequence (task mixes)


CheckpointFn = Callable[[int, EnsembleGPT, np.ndarray], None]


def answer_loss(model: EnsembleGPT, seqs: torch.Tensor, answer_len: int, dtype: torch.dtype) -> torch.Tensor:
    """Per-member mean cross-entropy on answer tokens: seqs (K, B, T) -> (K,)."""
    logits = model.answer_logits(seqs[:, :, :-1], answer_len).to(dtype)  # (K, V, L·B)
    targets = seqs[:, :, -answer_len:].transpose(1, 2).reshape(seqs.shape[0], -1)  # (K, L·B)
    return F.cross_entropy(logits, targets, reduction="none").mean(1)


def _clip_per_member(model: EnsembleGPT, max_norm: float) -> None:
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    norms = torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads])  # (params, K)
    scale = (max_norm / (torch.linalg.vector_norm(norms, dim=0) + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))


def make_optimizer(model: EnsembleGPT, cfg: TrainConfig) -> FusedAdamW:
    """AdamW; weight decay on matrices and embeddings only (nanoGPT's rule, shifted by the K axis)."""
    decay = [p for p in model.parameters() if p.dim() >= 3]
    no_decay = [p for p in model.parameters() if p.dim() < 3]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    # fused: one kernel per tensor instead of a dozen foreach passes (about 3x faster a step on CPU);
    # torch.optim.AdamW(fused=True)'s own kernel, called without torch.optim (train/adamw.py says why)
    return FusedAdamW(groups, lr=cfg.lr, betas=(0.9, cfg.beta2))


def train(
    model: EnsembleGPT,
    data: TrainData,
    cfg: TrainConfig,
    checkpoint_steps: list[int],
    on_checkpoint: CheckpointFn | None = None,
    on_step: Callable[[int], None] | None = None,
    resume: TrainState | None = None,
    snapshots: SnapshotPolicy | None = None,
) -> None:
    """Train every member for cfg.steps steps; call `on_checkpoint(step, model, train_losses)`
    after the listed steps (step 0 = the initialisation, if listed).

    `resume` continues from a snapshot (train/snapshot.py) as if training had never stopped;
    `snapshots` decides when to hand the state to its `save` (after that step's checkpoint)."""
    k = model.ensemble_size
    device = next(model.parameters()).device
    seqs = data.sequences.to(device)
    n = seqs.shape[0]
    rngs = [np.random.default_rng([int(s), 1]) for s in model.seeds]  # data order, per member
    probs = None if data.weights is None else (data.weights / data.weights.sum()).cpu().numpy()
    loss_dtype = getattr(torch, cfg.loss_dtype)
    opt = make_optimizer(model, cfg)
    wanted = set(checkpoint_steps)
    recent = np.zeros(k)
    start = 0
    if resume is not None:
        recent, start = resume.restore(model, opt, rngs), resume.step
    elif 0 in wanted and on_checkpoint:
        on_checkpoint(0, model, np.full(k, np.nan))
    if snapshots is not None:
        snapshots.start()
    for step in range(start + 1, cfg.steps + 1):
        mult = warmup_cosine(step - 1, cfg.steps, cfg.warmup_steps, cfg.min_lr_ratio)
        for group in opt.param_groups:
            group["lr"] = cfg.lr * mult
        if cfg.full_batch:
            batch = seqs.unsqueeze(0).expand(k, -1, -1)
        else:
            idx = np.concatenate([r.choice(n, size=cfg.batch_size, p=probs) for r in rngs])
            # index_select: a third of the time of seqs[idx] with a (K, B) index at K = 16
            batch = seqs.index_select(0, torch.as_tensor(idx, device=device)).view(k, cfg.batch_size, -1)
        losses = answer_loss(model, batch, data.answer_len, loss_dtype)
        opt.zero_grad()
        losses.sum().backward()
        if cfg.grad_clip:
            _clip_per_member(model, cfg.grad_clip)
        opt.step()
        recent = losses.detach().double().cpu().numpy()
        if on_step:
            on_step(step)
        if step in wanted and on_checkpoint:
            on_checkpoint(step, model, recent)
        if snapshots is not None and step < cfg.steps and snapshots.due(step):
            snapshots.save(TrainState.capture(step, model, opt, rngs, recent))
            snapshots.saved()
