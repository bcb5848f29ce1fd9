"""A small decoder-only transformer whose every weight carries a leading *ensemble* axis.

In the spirit of nanoGPT's model file (pre-LayerNorm blocks, learned positions, causal attention,
GELU MLP, tied input/output embeddings), with one difference: K same-shape models live in one
module. Each weight has shape (K, ...), inputs are (K, B, T) and every matmul is a batched matmul
over K. A single model is simply K = 1, so there is only one code path.

Inside, activations are *feature-major*, (K, d, T, B): with widths of 8 … 48 a row of d features is
too short for SIMD, so every weight is applied as a batched matmul whose wide axis is the T·B tokens,
and every elementwise op and reduction (LayerNorm over d, the causal softmax) runs over contiguous
slabs of B sequences. `hidden()` hands the usual (K, B, T, d) layout to callers.

Members are independent: each is initialised from its own seed, in the same order as a K = 1
model with that seed, and nothing in the forward pass mixes members. Hence member k of an
ensemble and a lone model with seed k compute the same function (up to float round-off).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from emergelab.models.attention import causal_attention


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    seq_len: int
    width: int
    depth: int
    heads: int
    mlp_ratio: int = 4
    attn_only: bool = False  # no MLP blocks: the induction-head models of Olsson et al. 2022

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def name(self) -> str:
        kind = "attn" if self.attn_only else "w"
        return f"{kind}{self.width}-d{self.depth}-h{self.heads}"

    def param_counts(self) -> tuple[int, int]:
        """(total, non-embedding) parameters of one member; non-embedding excludes token and
        position embeddings (Kaplan et al. 2020), the head being tied to the token embedding."""
        d, f = self.width, self.mlp_ratio * self.width
        attn = d * 3 * d + 3 * d + d * d + d + 2 * d
        mlp = 0 if self.attn_only else d * f + f + f * d + d + 2 * d
        non_embedding = self.depth * (attn + mlp) + 2 * d
        return non_embedding + self.vocab_size * d + self.seq_len * d, non_embedding


class _Normalize(torch.autograd.Function):
    """(x − mean) / std over the feature axis of x (K, d, N): LayerNorm without its affine.

    Written out (forward and backward) because the feature axis is not the last one, so
    F.layer_norm does not apply, and autograd through the composite costs about half again as
    many passes over the activations. The affine is folded into the matmul that follows."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        centred = x - x.mean(1, keepdim=True)
        inv_std = torch.rsqrt(centred.square().mean(1, keepdim=True).add_(1e-5))
        normed = centred.mul_(inv_std)
        ctx.save_for_backward(normed, inv_std)
        return normed

    @staticmethod
    def backward(ctx, g: torch.Tensor) -> torch.Tensor:
        normed, inv_std = ctx.saved_tensors
        return (g - g.mean(1, keepdim=True)).sub_(normed * (g * normed).mean(1, keepdim=True)).mul_(inv_std)


_normalize = _Normalize.apply


def _layer_norm(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """LayerNorm over the feature axis of x (K, d, N) with a per-member affine w, b (K, d)."""
    return torch.addcmul(b[:, :, None], _normalize(x), w[:, :, None])


class _Linear(torch.autograd.Function):
    """Per-member affine map in feature-major layout: x (K, i, N), w (K, i, o), b (K, o) -> (K, o, N).

    Written out for the weight gradient, a (K, i, o) sum over the N tokens: autograd through
    baddbmm forms it as g @ xᵀ, (o × N)(N × i), which MKL runs about half as fast as x @ gᵀ when the
    map widens (i < o: the qkv and MLP-in maps), so the wider product is taken whichever way round."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, w)
        return torch.baddbmm(b[:, :, None], w.transpose(1, 2), x)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        x, w = ctx.saved_tensors
        dx = torch.bmm(w, g) if ctx.needs_input_grad[0] else None
        if w.shape[1] <= w.shape[2]:
            dw = torch.bmm(x, g.transpose(1, 2))
        else:
            dw = torch.bmm(g, x.transpose(1, 2)).transpose(1, 2)
        return dx, dw, g.sum(2)


_linear = _Linear.apply


def _norm_linear(
    x: torch.Tensor, ln_w: torch.Tensor, ln_b: torch.Tensor, w: torch.Tensor, b: torch.Tensor
) -> torch.Tensor:
    """_linear(_layer_norm(x, ln_w, ln_b), w, b) with the LayerNorm's affine folded into the weights
    (diag(ln_w)·w and b + ln_b·w, a few tiny ops), saving two passes over the activations each way."""
    return _linear(
        _normalize(x), ln_w[:, :, None] * w, torch.baddbmm(b[:, None], ln_b[:, None], w).squeeze(1)
    )


# Vocabularies up to this size are embedded by a one-hot matmul (see EnsembleGPT.embed); its cost
# grows with V, a gather's does not. Measured fwd+bwd, one thread: V = 13 (16 width-8 models)
# 0.9 vs 2.9 ms; V = 64 1.6 vs 2.8 ms; V = 120 3.4 vs 2.6 ms (one-hot vs gather).
ONE_HOT_VOCAB = 64


class Block(nn.Module):
    """Pre-LayerNorm block on feature-major activations (K, d, T, B)."""

    def __init__(self, cfg: ModelConfig, k: int):
        super().__init__()
        d, f = cfg.width, cfg.mlp_ratio * cfg.width
        self.heads, self.attn_only = cfg.heads, cfg.attn_only
        self.ln1_w, self.ln1_b = nn.Parameter(torch.ones(k, d)), nn.Parameter(torch.zeros(k, d))
        self.qkv_w, self.qkv_b = nn.Parameter(torch.empty(k, d, 3 * d)), nn.Parameter(torch.zeros(k, 3 * d))
        self.out_w, self.out_b = nn.Parameter(torch.empty(k, d, d)), nn.Parameter(torch.zeros(k, d))
        if not cfg.attn_only:
            self.ln2_w, self.ln2_b = nn.Parameter(torch.ones(k, d)), nn.Parameter(torch.zeros(k, d))
            self.fc_w, self.fc_b = nn.Parameter(torch.empty(k, d, f)), nn.Parameter(torch.zeros(k, f))
            self.proj_w, self.proj_b = nn.Parameter(torch.empty(k, f, d)), nn.Parameter(torch.zeros(k, d))

    def attention(self, x: torch.Tensor, return_pattern: bool = False, last: int | None = None):
        """Attention output (K, d, Tq, B) for the last Tq = `last` positions (default all) and, if
        asked, the pattern (K·B, heads, Tq, T)."""
        k, d, t, b = x.shape
        h, queries = self.heads, t if last is None else last
        qkv = _norm_linear(x.view(k, d, t * b), self.ln1_w, self.ln1_b, self.qkv_w, self.qkv_b)
        qkv = qkv.view(k, 3, h, d // h, t, b)  # the 3·d outputs are (q | k | v) × heads × head dim
        y, pattern = causal_attention(qkv, queries, return_pattern)
        if pattern is not None:
            pattern = pattern.permute(0, 4, 1, 2, 3).reshape(k * b, h, queries, t)
        out = _linear(y.reshape(k, d, queries * b), self.out_w, self.out_b)
        return out.view(k, d, queries, b), pattern

    def forward(self, x: torch.Tensor, last: int | None = None) -> torch.Tensor:
        """(K, d, T, B) -> (K, d, Tq, B): the residual stream at the last Tq = `last` positions."""
        attended = self.attention(x, last=last)[0]
        x = (x if last is None else x[:, :, -last:]) + attended
        if not self.attn_only:
            k, d, t, b = x.shape
            flat = x.reshape(k, d, t * b)
            hidden = F.gelu(_norm_linear(flat, self.ln2_w, self.ln2_b, self.fc_w, self.fc_b))
            x = (flat + _linear(hidden, self.proj_w, self.proj_b)).view(k, d, t, b)
        return x


class EnsembleGPT(nn.Module):
    """K independent decoder-only transformers evaluated as one batched computation."""

    def __init__(self, cfg: ModelConfig, seeds: list[int]):
        super().__init__()
        self.cfg, self.seeds = cfg, list(seeds)
        k, d = len(seeds), cfg.width
        self.wte = nn.Parameter(torch.empty(k, cfg.vocab_size, d))
        self.wpe = nn.Parameter(torch.empty(k, cfg.seq_len, d))
        self.blocks = nn.ModuleList(Block(cfg, k) for _ in range(cfg.depth))
        self.lnf_w, self.lnf_b = nn.Parameter(torch.ones(k, d)), nn.Parameter(torch.zeros(k, d))
        self._init(seeds)

    @property
    def ensemble_size(self) -> int:
        return len(self.seeds)

    @torch.no_grad()
    def _init(self, seeds: list[int]) -> None:
        """nanoGPT's initialisation, drawn member by member from each member's own seed."""
        residual_std = 0.02 / math.sqrt(2 * self.cfg.depth)
        for member, seed in enumerate(seeds):
            gen = torch.Generator().manual_seed(int(seed))
            for name, p in self.named_parameters():
                if name.endswith(("_b", "ln1_w", "ln2_w", "lnf_w")):
                    continue
                std = residual_std if name.endswith(("out_w", "proj_w")) else 0.02
                p[member].copy_(torch.randn(p.shape[1:], generator=gen) * std)

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        """Token + position embeddings, feature-major: idx (K, B, T) -> (K, d, T, B).

        Task vocabularies are tiny, so the lookup is a one-hot matmul (K, d, V) @ (K, V, T·B): it
        lands in the feature-major layout directly and its backward is one more matmul, about 3x
        faster than a gather + transpose whose backward scatters into the table row by row."""
        k, b, t = idx.shape
        if self.cfg.vocab_size <= ONE_HOT_VOCAB:
            one_hot = torch.zeros(k, self.cfg.vocab_size, t * b, device=idx.device, dtype=self.wte.dtype)
            one_hot.scatter_(1, idx.transpose(1, 2).reshape(k, 1, t * b), 1.0)
            tokens = torch.bmm(self.wte.transpose(1, 2), one_hot).view(k, -1, t, b)
        else:
            offsets = (torch.arange(k, device=idx.device) * self.cfg.vocab_size).view(k, 1, 1)
            tokens = F.embedding(idx.transpose(1, 2) + offsets, self.wte.reshape(-1, self.cfg.width))
            # contiguous: an elementwise op keeps its input's memory layout, and everything
            # downstream of a (K, T, B, d)-strided residual stream would run strided
            tokens = tokens.permute(0, 3, 1, 2).contiguous()
        return tokens + self.wpe[:, :t].transpose(1, 2)[:, :, :, None]

    def features(self, idx: torch.Tensor, last: int | None = None) -> torch.Tensor:
        """Residual stream after the last block, feature-major (K, d, T, B), before the final
        LayerNorm; with `last`, only at the last positions (the last block skips the other queries)."""
        x = self.embed(idx)
        for i, block in enumerate(self.blocks):
            x = block(x, last if i == len(self.blocks) - 1 else None)
        return x

    def answer_logits(self, idx: torch.Tensor, answer_len: int) -> torch.Tensor:
        """Logits (K, V, L·B) on the last `answer_len` positions, position-major then sequence —
        the layout F.cross_entropy takes with the class axis second (training's fast path)."""
        x = self.features(idx, last=answer_len)
        k, d, length, b = x.shape
        head = self.wte.transpose(1, 2)  # (K, d, V): the tied head as a (d -> V) map for _norm_linear
        return _norm_linear(
            x.reshape(k, d, length * b), self.lnf_w, self.lnf_b, head, torch.zeros_like(head[:, 0])
        )

    def hidden(self, idx: torch.Tensor) -> torch.Tensor:
        """Final hidden states (K, B, T, d) for token ids idx (K, B, T)."""
        x = self.features(idx)
        k, d, t, b = x.shape
        return _layer_norm(x.view(k, d, t * b), self.lnf_w, self.lnf_b).view(k, d, t, b).permute(0, 3, 2, 1)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Tied output head: (K, B, T, d) -> (K, B, T, V)."""
        k, *mid, d = hidden.shape
        return torch.bmm(hidden.reshape(k, -1, d), self.wte.transpose(1, 2)).view(k, *mid, -1)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.logits(self.hidden(idx))

    def member_state(self, member: int) -> dict[str, torch.Tensor]:
        """The weights of one member, without the ensemble axis (for safetensors / HF export)."""
        return {name: p[member].detach().contiguous().clone() for name, p in self.named_parameters()}

    def load_member_state(self, member: int, state: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, p in self.named_parameters():
                p[member].copy_(state[name])
