"""How much memory a training run needs, estimated before anything is allocated.

A spec asking for `batch_size: 1000000000` used to die of MemoryError half a minute into training
(and without a memory cap it would take the machine down); an estimate made when the spec is
loaded refuses it up front. The estimate is of the same order as the measured peak (0.8-1.6x the
peak RSS of a training step over seven shapes, batches 1k-33k; tests/test_spec.py checks it
against a real one): float32 parameters with their gradient and two AdamW moments, the token
arrays of the data set, and the activations kept for the backward pass, per token and layer of
every member's batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

FLOAT = 4  # bytes per float32
INDEX = 8  # bytes per int64 token id or input index
# activations kept for backward, per token and layer, in units of the width (qkv, norms, residuals,
# attention and projection inputs) and of the MLP hidden size (pre-activation, GELU in and out)
PER_WIDTH, PER_HIDDEN = 10, 3


@dataclass(frozen=True)
class RunSize:
    """What decides a group's memory: the model shape, the ensemble size and the batch."""

    vocab_size: int
    seq_len: int
    answer_len: int
    width: int
    depth: int
    heads: int
    mlp_ratio: int
    attn_only: bool
    members: int
    batch: int          # sequences per member per step (the whole set when full_batch)
    n_sequences: int    # training + test sequences held in memory
    space_size: int     # distinct inputs the split is drawn from
    eval_batch: int = 2048


def training_bytes(size: RunSize) -> int:
    """Upper-bound estimate (bytes) of the peak memory of training and scoring one group.

    Python ints throughout, so an absurd spec gives an absurd number rather than an overflow."""
    d, f, t, k = size.width, size.mlp_ratio * size.width, size.seq_len, size.members
    per_layer = PER_WIDTH * d + (0 if size.attn_only else PER_HIDDEN * f) + 2 * size.heads * t
    per_token = size.depth * per_layer + size.vocab_size + d  # one-hot embedding and its output
    tokens = k * max(size.batch, min(size.eval_batch, size.n_sequences)) * t
    activations = FLOAT * tokens * per_token
    logits = 3 * FLOAT * k * size.batch * size.answer_len * size.vocab_size  # logits, softmax, gradient
    block = 4 * d * d + 2 * d * f + 9 * d if not size.attn_only else 4 * d * d + 6 * d
    params = k * (size.depth * block + (size.vocab_size + t) * d)
    optimizer = 4 * FLOAT * params  # weights, gradients, two AdamW moments
    data = 3 * INDEX * size.n_sequences * t  # numpy prompt/answer arrays, their concatenation, tensor
    # numpy draws distinct indices by permuting the whole population unless the sample is tiny
    sampling = INDEX * size.space_size if 50 * size.n_sequences >= size.space_size else 0
    return activations + logits + optimizer + data + sampling


def _cgroup_limit() -> int | None:
    """The container's memory limit (cgroup v2 or v1), if one is set."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            return int(text)
    return None


def memory_limit_bytes() -> int:
    """Physical memory of this machine, or the container's limit when lower."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limit = _cgroup_limit()
    return min(physical, limit) if limit else physical


def gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB"
