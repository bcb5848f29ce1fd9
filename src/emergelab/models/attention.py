"""Causal self-attention for tiny models, in the model's feature-major layout.

Activations in `EnsembleGPT` are laid out (K, features, T, B): ensemble member, feature, position,
sequence in the batch. Heads and head dimensions are then free views, q, k, v: (K, h, dh, T, B).
With T ≈ 10 and dh = 2 … 12 a (T × dh) matrix per (member, sequence, head) is far too small for a
BLAS call (a batched matmul over K·B·h such matrices pays a fixed cost per matrix), while the batch
axis B, innermost, is long: so for short sequences the scores, the causal softmax and the weighted
values are computed as T or dh fused multiply-adds over whole (…, T, B) slabs that vectorise over B,
with the backward pass written out by hand (autograd through the slices would allocate a full-size
zero tensor per slice). Longer sequences use PyTorch's fused kernel.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

# The slab formulation costs about T·dh small ops per call, the fused kernel a fixed cost per
# (member, sequence, head) matrix. Measured fwd+bwd, one thread (K, h, dh, T, B → slab vs fused):
# 16, 3, 4, 11, 128 → 7.2 vs 33.8 ms; 16, 2, 4, 32, 128 → 45 vs 56 ms; 2, 2, 16, 32, 64 → 8.8 vs
# 6.6 ms; 2, 2, 16, 64, 64 → 16.2 vs 16.1 ms. So slabs while T·dh is at most this:
SLAB_MAX_T_DH = 128


def _scores(a: torch.Tensor, b: torch.Tensor, scale: float, start: torch.Tensor) -> torch.Tensor:
    """s[..., i, j, :] = start[i, j, :] + scale · Σ_c a[..., c, i, :] · b[..., c, j, :]:
    (K, h, dh, Ta, B), (K, h, dh, Tb, B) -> (K, h, Ta, Tb, B). The scale and the starting value (the
    causal mask, or zero) ride along in the multiply-adds: separate passes over the largest tensor
    of the layer would cost more than all of them together."""
    s = torch.addcmul(start, a[:, :, 0, :, None], b[:, :, 0, None], value=scale)
    for c in range(1, a.shape[2]):
        s.addcmul_(a[:, :, c, :, None], b[:, :, c, None], value=scale)
    return s


def _mix_rows(w: torch.Tensor, v: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """out[..., c, i, :] = Σ_j w[..., i, j, :] · v[..., c, j, :] for causal w (K, h, Tq, Tk, B), whose
    query i sits at position Tk − Tq + i and so sees keys j ≤ Tk − Tq + i."""
    offset = w.shape[3] - w.shape[2]
    torch.mul(w[:, :, None, :, 0], v[:, :, :, 0, None], out=out)  # key 0 is seen by every query
    for j in range(1, w.shape[3]):
        first = max(0, j - offset)
        out[:, :, :, first:].addcmul_(w[:, :, None, first:, j], v[:, :, :, j, None])
    return out


def _mix_cols(w: torch.Tensor, v: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """out[..., c, j, :] = Σ_i w[..., i, j, :] · v[..., c, i, :] for causal w (K, h, Tq, Tk, B)."""
    tq, offset = w.shape[2], w.shape[3] - w.shape[2]
    torch.mul(w[:, :, None, tq - 1], v[:, :, :, tq - 1, None], out=out)  # the last query sees every key
    for i in range(tq - 1):
        seen = offset + i + 1
        out[:, :, :, :seen].addcmul_(w[:, :, None, i, :seen], v[:, :, :, i, None])
    return out


def _causal_mask(tq: int, tk: int, device: torch.device) -> torch.Tensor:
    """True where query i (at position tk − tq + i) must not see key j."""
    return torch.ones(tq, tk, dtype=torch.bool, device=device).triu(tk - tq + 1)


@functools.lru_cache(maxsize=32)
def _additive_mask(tq: int, tk: int, b: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """The causal mask as a contiguous (Tq, Tk, B) slab of 0 / −inf (cached, read-only): adding it
    costs a tenth of a masked_fill_ whose boolean mask is broadcast along the innermost axis."""
    mask = torch.zeros(tq, tk, 1, device=device, dtype=dtype).masked_fill_(
        _causal_mask(tq, tk, device)[:, :, None], float("-inf")
    )
    return mask.expand(tq, tk, b).contiguous()


class _SlabAttention(torch.autograd.Function):
    """softmax(q·kᵀ/√dh + causal mask) · v from one qkv tensor (K, 3, h, dh, T, B), queries at the
    last `queries` positions; returns (y (K, h, dh, Tq, B), pattern (K, h, Tq, T, B)). Taking qkv whole
    lets the backward write dq, dk, dv straight into one gradient buffer."""

    @staticmethod
    def forward(ctx, qkv: torch.Tensor, queries: int):
        q, k, v = qkv[:, 0, :, :, -queries:], qkv[:, 1], qkv[:, 2]
        scale = 1.0 / math.sqrt(q.shape[2])
        mask = _additive_mask(queries, k.shape[3], k.shape[4], qkv.device, qkv.dtype)
        pattern = _scores(q, k, scale, mask).softmax(3)
        ctx.save_for_backward(qkv, pattern)
        ctx.scale, ctx.queries = scale, queries
        ctx.mark_non_differentiable(pattern)
        return _mix_rows(pattern, v, torch.empty_like(q)), pattern

    @staticmethod
    def backward(ctx, dy: torch.Tensor, _dpattern: torch.Tensor):
        qkv, pattern = ctx.saved_tensors
        queries = ctx.queries
        q, k, v = qkv[:, 0, :, :, -queries:], qkv[:, 1], qkv[:, 2]
        dqkv = torch.empty_like(qkv)
        dqkv[:, 0, :, :, : qkv.shape[4] - queries].zero_()  # positions that asked no query
        _mix_cols(pattern, dy, out=dqkv[:, 2])
        zero = torch.zeros((), device=dy.device, dtype=dy.dtype)  # the softmax backward is linear: scale first
        ds = torch.ops.aten._softmax_backward_data(_scores(dy, v, ctx.scale, zero), pattern, 3, pattern.dtype)
        _mix_rows(ds, k, out=dqkv[:, 0, :, :, -queries:])
        _mix_cols(ds, q, out=dqkv[:, 1])
        return dqkv, None


def causal_attention(qkv: torch.Tensor, queries: int | None = None, return_pattern: bool = False):
    """qkv (K, 3, h, dh, T, B) -> (y (K, h, dh, Tq, B), pattern (K, h, Tq, T, B) or None), for the
    last Tq = `queries` positions (all T by default: the last layer of a model scored only on its
    answer positions needs no other queries)."""
    kk, _, h, dh, t, b = qkv.shape
    queries = t if queries is None else queries
    if t * dh <= SLAB_MAX_T_DH:
        y, pattern = _SlabAttention.apply(qkv, queries)
        return y, (pattern if return_pattern else None)
    q, k, v = (
        z.permute(0, 4, 1, 3, 2).reshape(kk * b, h, -1, dh)
        for z in (qkv[:, 0, :, :, -queries:], qkv[:, 1], qkv[:, 2])
    )
    hidden = _causal_mask(queries, t, qkv.device)
    if return_pattern:
        pattern = (q @ k.transpose(-1, -2) / math.sqrt(dh)).masked_fill(hidden, float("-inf")).softmax(-1)
        y = pattern @ v
        pattern = pattern.view(kk, b, h, queries, t).permute(0, 2, 3, 4, 1)
    else:
        causal = queries == t  # PyTorch's is_causal aligns the mask top-left, right only for square scores
        mask = None if causal else ~hidden  # SDPA's boolean mask marks the keys a query may see
        y, pattern = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal), None
    return y.view(kk, b, h, queries, dh).permute(0, 2, 4, 3, 1), pattern
