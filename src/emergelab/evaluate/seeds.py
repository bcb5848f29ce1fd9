"""What two trained models look like from the inside: their residual streams, and the loss on the
straight line between their weights (linear mode connectivity; Frankle et al. 2020).

Both run on saved final weights (safetensors, sweep `save_weights`), so comparing seeds never
retrains anything. The interpolation evaluates every α at once as the members of one ensemble.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from emergelab.models import EnsembleGPT, ModelConfig
from emergelab.models.hf_export import read_weights


def load_model(path: str | Path) -> tuple[EnsembleGPT, dict[str, torch.Tensor]]:
    """A one-member model with the weights of a saved file, and the weights themselves."""
    state, cfg, seed = read_weights(path)
    model = EnsembleGPT(cfg, [seed or 0])
    model.load_member_state(0, state)
    return model.eval(), state


@torch.no_grad()
def residual_stream(model: EnsembleGPT, prompts: np.ndarray) -> np.ndarray:
    """(n, d) residual stream after the last block at the last prompt position — where the first
    answer token is read from — for one-member `model` (before the final LayerNorm)."""
    idx = torch.as_tensor(prompts).unsqueeze(0)
    return model.features(idx, last=1)[0, :, -1, :].T.double().numpy()


@torch.no_grad()
def interpolation_losses(state_a: dict[str, torch.Tensor], state_b: dict[str, torch.Tensor], cfg: ModelConfig,
                         prompts: np.ndarray, answers: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Mean teacher-forced cross-entropy on the answer tokens of the weights (1 − α)·a + α·b, per α."""
    model = EnsembleGPT(cfg, list(range(len(alphas))))
    for m, alpha in enumerate(alphas):
        model.load_member_state(m, {k: (1 - alpha) * state_a[k] + alpha * state_b[k] for k in state_a})
    model.eval()
    length = answers.shape[1]
    seq = torch.as_tensor(np.concatenate([prompts, answers[:, :-1]], axis=1)).unsqueeze(0).expand(len(alphas), -1, -1)
    logp = model(seq)[:, :, -length:].double().log_softmax(-1)
    target = torch.as_tensor(answers).unsqueeze(0).expand(len(alphas), -1, -1)
    nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    return nll.mean(dim=(1, 2)).numpy()


def loss_barrier(losses: np.ndarray, alphas: np.ndarray) -> float:
    """Largest rise of the loss above the straight line between the end points' losses
    (Frankle et al. 2020's barrier; 0 when the path is never worse than the chord)."""
    chord = (1 - alphas) * losses[0] + alphas * losses[-1]
    return float(np.max(losses - chord))


def cross_entropy_of(model: EnsembleGPT, prompts: np.ndarray, answers: np.ndarray) -> float:
    """Mean answer-token cross-entropy of a one-member model (the end points of the path)."""
    seq = torch.as_tensor(np.concatenate([prompts, answers[:, :-1]], axis=1)).unsqueeze(0)
    with torch.no_grad():
        logits = model(seq)[0, :, -answers.shape[1]:].double()
    return float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.as_tensor(answers).reshape(-1)))
