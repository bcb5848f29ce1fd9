"""Inside a trained one-member model: every block's residual stream and MLP neurons, and what
mean-ablating each MLP neuron does to the answer loss.

The forward pass is re-traced block by block from the model's own pieces (`embed`, each block's
`attention`, its MLP weights, the tied head), so the MLP's hidden units — which the fast forward
never materialises — can be read and edited. `tests/test_shared_circuits.py` checks the traced
logits against the model's own forward.

Ablating neuron j of block ℓ replaces its output by its mean: the residual stream after block ℓ
moves by (mean_j − h_j)·proj_w[j] at every position, and only the blocks after ℓ are re-run —
with the ablated copies of the batch stacked along the batch axis, so one pass serves many neurons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from emergelab.models import EnsembleGPT

EPS = 1e-5  # the model's LayerNorm epsilon


@dataclass
class Trace:
    """Activations of a batch of sequences, (B, T, units) per block; `hidden` is empty for an
    attention-only block."""

    residual: list[torch.Tensor]  # after each block, before the final LayerNorm
    hidden: list[torch.Tensor | None]  # MLP units after the GELU
    logits: torch.Tensor  # (B, T, V)


def _feature_major(x: torch.Tensor) -> torch.Tensor:
    """(B, T, d) -> the model's (1, d, T, B) layout."""
    return x.permute(2, 1, 0).unsqueeze(0).contiguous()


def _batch_major(x: torch.Tensor) -> torch.Tensor:
    """(1, d, T, B) -> (B, T, d)."""
    return x[0].permute(2, 1, 0)


def _mlp(block, mid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Hidden units and block output for the residual `mid` (B, T, d) after attention."""
    d = mid.shape[-1]
    normed = F.layer_norm(mid, (d,), block.ln2_w[0], block.ln2_b[0], EPS)
    hidden = F.gelu(normed @ block.fc_w[0] + block.fc_b[0])
    return hidden, mid + hidden @ block.proj_w[0] + block.proj_b[0]


def _head(model: EnsembleGPT, x: torch.Tensor) -> torch.Tensor:
    """Final LayerNorm and tied unembedding: (B, T, d) -> logits (B, T, V)."""
    normed = F.layer_norm(x, (x.shape[-1],), model.lnf_w[0], model.lnf_b[0], EPS)
    return model.logits(normed.unsqueeze(0))[0]


@torch.no_grad()
def trace(model: EnsembleGPT, seq: np.ndarray) -> Trace:
    """Every block's residual stream and MLP units for token ids `seq` (B, T)."""
    if model.ensemble_size != 1:
        raise ValueError("trace a one-member model (evaluate.seeds.load_model)")
    x = _batch_major(model.embed(torch.as_tensor(seq).unsqueeze(0)))
    residual, hidden = [], []
    for block in model.blocks:
        mid = x + _batch_major(block.attention(_feature_major(x))[0])
        if block.attn_only:
            h, x = None, mid
        else:
            h, x = _mlp(block, mid)
        residual.append(x)
        hidden.append(h)
    return Trace(residual, hidden, _head(model, x))


def answer_nll(logits: torch.Tensor, answers: np.ndarray) -> np.ndarray:
    """Mean teacher-forced cross-entropy per example (nats per answer token) of logits (B, T, V)
    whose last L positions predict `answers` (B, L)."""
    length = answers.shape[1]
    logp = logits[:, -length:].double().log_softmax(-1)
    target = torch.as_tensor(answers)
    return (-logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)).mean(1).numpy()


@torch.no_grad()
def neuron_ablation_nll(model: EnsembleGPT, seq: np.ndarray, answers: np.ndarray, layer: int,
                        means: torch.Tensor, chunk: int = 16) -> np.ndarray:
    """(units, B) answer loss per example with each MLP unit of block `layer` in turn replaced by
    its value in `means` (units,) at every position; `seq` (B, T) ends with the teacher-forced
    answer, whose L = answers.shape[1] tokens are scored."""
    tr = trace(model, seq)
    hidden, out = tr.hidden[layer], tr.residual[layer]
    if hidden is None:
        raise ValueError(f"block {layer} has no MLP")
    proj = model.blocks[layer].proj_w[0]  # (units, d)
    b, t, d = out.shape
    rest = list(model.blocks)[layer + 1:]
    length = answers.shape[1]
    result = []
    for start in range(0, hidden.shape[-1], chunk):
        units = torch.arange(start, min(start + chunk, hidden.shape[-1]))
        shift = (means[units] - hidden[..., units]).permute(2, 0, 1)  # (k, B, T)
        x = (out.unsqueeze(0) + shift.unsqueeze(-1) * proj[units][:, None, None, :]).reshape(-1, t, d)
        if rest:
            z = _feature_major(x)
            for i, block in enumerate(rest):
                z = block(z, last=length if i == len(rest) - 1 else None)
            x = _batch_major(z)
        nll = answer_nll(_head(model, x), np.tile(answers, (len(units), 1)))
        result.append(nll.reshape(len(units), b))
    return np.concatenate(result)
