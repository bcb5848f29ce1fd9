"""Progress measures for training-time phase changes: grokking and induction heads.

Each probe is registered by name (`probes:` in a spec) and returns one value per ensemble member
(or a dict of such arrays), recorded in `checkpoints.extra` at every checkpoint. They exist because
the test metric alone shows *when* a phase change happens, not what moved before it:
  train_accuracy   reaches 1 long before test accuracy rises (grokking = memorise, then generalise)
  train_loss_full  the loss on the whole training set in float64 (the logged train loss is one batch)
  fourier_power    share of the residue embeddings' power in their top-k Fourier frequencies; the
                   grokked solution of modular addition uses a few frequencies (Nanda et al. 2023),
                   so this grows during the "circuit formation" phase before test accuracy jumps
  prefix_matching  per layer and head, the attention from a token in a repeated segment to the token
                   that followed its earlier occurrence — the signature of an induction head
                   (Olsson et al. 2022); it switches on with the drop of the in-context loss
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from emergelab.evaluate.probes import register_probe
from emergelab.models import EnsembleGPT
from emergelab.tasks import Split, Task

MAX_EXAMPLES = 4096  # probes on the train set look at most this many examples (cost bound)
TOP_FREQUENCIES = 4  # modular addition is solved with a handful of key frequencies


def _train_sequences(split: Split, limit: int = MAX_EXAMPLES) -> tuple[torch.Tensor, int]:
    seqs = np.concatenate([split.train_prompt[:limit], split.train_answer[:limit]], axis=1)
    return torch.as_tensor(seqs), split.train_answer.shape[1]


@torch.no_grad()
def _answer_logits(model: EnsembleGPT, seqs: torch.Tensor, answer_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher-forced float64 logits (K, n, L, V) on the answer positions and targets (K, n, L)."""
    device = next(model.parameters()).device
    k = model.ensemble_size
    batch = seqs.to(device).unsqueeze(0).expand(k, -1, -1)
    hidden = model.hidden(batch[:, :, :-1])[:, :, -answer_len:]
    return model.logits(hidden).double(), batch[:, :, -answer_len:]


@register_probe("train_accuracy")
def train_accuracy(model: EnsembleGPT, task: Task, split: Split) -> np.ndarray:
    """Exact match (every answer token right, teacher forced) on up to MAX_EXAMPLES training examples."""
    logits, target = _answer_logits(model, *_train_sequences(split))
    return (logits.argmax(-1) == target).all(-1).double().mean(-1).cpu().numpy()


@register_probe("train_loss_full")
def train_loss_full(model: EnsembleGPT, task: Task, split: Split) -> np.ndarray:
    """Mean answer-token cross-entropy over the training set, in float64: once the model has
    memorised its data this falls below float32's resolution, where grokking continues."""
    logits, target = _answer_logits(model, *_train_sequences(split))
    ce = F.cross_entropy(logits.flatten(1, 2).transpose(1, 2), target.flatten(1), reduction="none")
    return ce.mean(-1).cpu().numpy()


def fourier_concentration(embedding: np.ndarray, top: int = TOP_FREQUENCIES) -> float:
    """Share of an embedding's non-constant power (p, d) in its `top` strongest frequencies.

    The DFT runs along the residue axis; frequencies f and p − f carry the same power (real input),
    so they are merged and f = 0 (the mean embedding, invisible to a + b mod p) is left out. A random
    embedding spreads its power evenly, giving about top / ((p − 1) / 2)."""
    p = embedding.shape[0]
    power = (np.abs(np.fft.rfft(embedding, axis=0)) ** 2).sum(axis=1)[1:]  # f = 1 .. p // 2
    if p % 2 == 0:
        power[-1] /= 2  # the Nyquist frequency has no mirror twin
    total = power.sum()
    return float(np.sort(power)[::-1][:top].sum() / total) if total > 0 else float("nan")


@register_probe("fourier_power")
@torch.no_grad()
def fourier_power(model: EnsembleGPT, task: Task, split: Split) -> np.ndarray:
    """Top-k Fourier concentration of the residue tokens' embeddings (tasks with a modulus `p`
    whose first p vocabulary entries are the residues; NaN for other tasks)."""
    p = getattr(task, "p", None)
    k = model.ensemble_size
    if not isinstance(p, int) or p > task.vocab_size:
        return np.full(k, np.nan)
    emb = model.wte[:, :p].detach().double().cpu().numpy()
    return np.array([fourier_concentration(emb[m]) for m in range(k)])


@register_probe("prefix_matching")
@torch.no_grad()
def prefix_matching(model: EnsembleGPT, task: Task, split: Split) -> dict[str, np.ndarray]:
    """Per layer l and head h ("prefix_matching/l{l}h{h}"): mean attention from each repeated token to
    the token right after its first occurrence, on up to 512 test examples. The task must say where
    its repeat is (`repeat_layout`, see tasks/induction.py); other tasks give no values."""
    layout = getattr(task, "repeat_layout", None)
    if layout is None:
        return {}
    n = min(512, len(split.test_index))
    first, repeat, length = layout(split.test_index[:n])  # (n,), (n,), int
    seqs = torch.as_tensor(np.concatenate([split.test_prompt[:n], split.test_answer[:n]], axis=1))[:, :-1]
    device = next(model.parameters()).device
    k, t = model.ensemble_size, seqs.shape[1]
    idx = seqs.to(device).unsqueeze(0).expand(k, -1, -1)
    # query: the i-th repeated token (i = 0 .. length-2); key: the token after its first occurrence
    offs = np.arange(length - 1)
    rows = np.repeat(np.arange(n), length - 1)
    queries = (repeat[:, None] + offs).ravel()
    keys = (first[:, None] + offs + 1).ravel()
    if queries.max() >= t:
        raise ValueError("prefix_matching: repeat extends past the model input")
    x = model.embed(idx)
    out: dict[str, np.ndarray] = {}
    for layer, block in enumerate(model.blocks):
        _, pattern = block.attention(x, return_pattern=True)  # (K·n, heads, T, T)
        picked = pattern.view(k, n, block.heads, t, t).transpose(1, 2)[:, :, rows, queries, keys]  # (K, heads, M)
        score = picked.double().mean(-1).cpu().numpy()  # (K, heads)
        for head in range(block.heads):
            out[f"prefix_matching/l{layer}h{head}"] = score[:, head]
        x = block(x)
    return out
