"""A plain reference GPT in standard PyTorch modules: what a researcher would write instead.

The shape of nanoGPT's model file (Karpathy, `model.py`): `nn.Embedding` for tokens and positions,
pre-LayerNorm blocks of `nn.LayerNorm`, a fused q/k/v `nn.Linear`, `F.scaled_dot_product_attention`
with the causal flag, an exact-GELU MLP, a final LayerNorm and an output head tied to the token
embedding; nanoGPT's initialisation. Nothing here is tuned for tiny models: it is the peer baseline
of `benchmarks/ensemble_vs_sequential.py` (trained one by one, and stacked with `torch.func`), and
the independent check of `tests/test_reference_gpt.py`, where a single-member `EnsembleGPT` with
the same weights must give the same logits and gradients.

Only `ModelConfig` (a plain record of sizes) is taken from emergelab, so the two implementations
share no computation.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from emergelab.models import ModelConfig


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: ModelConfig, fused: bool = True):
        super().__init__()
        self.heads, self.fused = cfg.heads, fused
        self.c_attn = nn.Linear(cfg.width, 3 * cfg.width)
        self.c_proj = nn.Linear(cfg.width, cfg.width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        if self.fused:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # nanoGPT's explicit path (torch.func's vmap has no batching rule for SDPA on CPU)
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(k.shape[-1])
            causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            y = scores.masked_fill(~causal, float("-inf")).softmax(-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, d))


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.c_fc = nn.Linear(cfg.width, cfg.mlp_ratio * cfg.width)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(cfg.mlp_ratio * cfg.width, cfg.width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, fused_attention: bool = True):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.width)
        self.attn = CausalSelfAttention(cfg, fused_attention)
        self.mlp = None
        if not cfg.attn_only:
            self.ln_2 = nn.LayerNorm(cfg.width)
            self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        if self.mlp is not None:
            x = x + self.mlp(self.ln_2(x))
        return x


class ReferenceGPT(nn.Module):
    def __init__(self, cfg: ModelConfig, seed: int = 0, fused_attention: bool = True):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.width)
        self.wpe = nn.Embedding(cfg.seq_len, cfg.width)
        self.h = nn.ModuleList(Block(cfg, fused_attention) for _ in range(cfg.depth))
        self.ln_f = nn.LayerNorm(cfg.width)
        self.lm_head = nn.Linear(cfg.width, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying, as in nanoGPT
        gen = torch.Generator().manual_seed(seed)
        residual_std = 0.02 / math.sqrt(2 * cfg.depth)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("bias"):
                    p.zero_()
                elif p.dim() >= 2:
                    p.normal_(0.0, residual_std if name.endswith("c_proj.weight") else 0.02, generator=gen)

    def forward(self, idx: torch.Tensor, last: int | None = None) -> torch.Tensor:
        """Logits (B, T, V) for token ids (B, T); with `last`, only at the last positions (the head is
        applied where the loss is taken, as nanoGPT does at inference)."""
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))
        for block in self.h:
            x = block(x)
        x = self.ln_f(x if last is None else x[:, -last:])
        return self.lm_head(x)


def answer_loss(model: nn.Module, seqs: torch.Tensor, answer_len: int) -> torch.Tensor:
    """Mean cross-entropy on the answer tokens of sequences (B, T) = prompt + answer."""
    logits = model(seqs[:, :-1], last=answer_len)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), seqs[:, -answer_len:].reshape(-1))


def parameter_pairs(model: ReferenceGPT) -> dict[str, tuple[str, bool]]:
    """Reference parameter name -> (emergelab member-state name, stored transposed?).

    emergelab stores each matrix as (in, out) — `nn.Linear` as (out, in) — and names the LayerNorm
    affines of block i `blocks.i.ln1_w` etc.; the embeddings map one to one (the head is tied)."""
    pairs = {"wte.weight": ("wte", False), "wpe.weight": ("wpe", False),
             "ln_f.weight": ("lnf_w", False), "ln_f.bias": ("lnf_b", False)}
    for i, block in enumerate(model.h):
        names = {"ln_1": ("ln1_w", "ln1_b"), "attn.c_attn": ("qkv_w", "qkv_b"), "attn.c_proj": ("out_w", "out_b")}
        if block.mlp is not None:
            names |= {"ln_2": ("ln2_w", "ln2_b"), "mlp.c_fc": ("fc_w", "fc_b"), "mlp.c_proj": ("proj_w", "proj_b")}
        for module, (weight, bias) in names.items():
            pairs[f"h.{i}.{module}.weight"] = (f"blocks.{i}.{weight}", not module.startswith("ln"))
            pairs[f"h.{i}.{module}.bias"] = (f"blocks.{i}.{bias}", False)
    missing = {name for name, _ in model.named_parameters()} - set(pairs)
    if missing:
        raise KeyError(f"reference parameters without an emergelab counterpart: {sorted(missing)}")
    return pairs


def load_member_state(model: ReferenceGPT, state: dict[str, torch.Tensor]) -> None:
    """Copy one emergelab member's weights (`EnsembleGPT.member_state`) into the reference model."""
    params = dict(model.named_parameters())  # the tied lm_head.weight is wte.weight, listed once
    with torch.no_grad():
        for ref_name, (our_name, transposed) in parameter_pairs(model).items():
            value = state[our_name]
            params[ref_name].copy_(value.t() if transposed else value)


def make_optimizer(model: nn.Module, lr: float, weight_decay: float, beta2: float) -> torch.optim.AdamW:
    """nanoGPT's `configure_optimizers`: weight decay on every tensor of 2 or more dimensions."""
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, beta2))


@dataclass(frozen=True)
class Recipe:
    """emergelab's training recipe (train.TrainConfig's defaults), restated for the plain loops."""

    steps: int
    batch_size: int = 128
    lr: float = 3e-3
    warmup_steps: int = 100
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    beta2: float = 0.98
    grad_clip: float = 1.0

    def lr_at(self, step: int) -> float:
        """Linear warm-up, then cosine decay to min_lr_ratio of the peak (step counted from 0)."""
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        progress = (step - self.warmup_steps) / max(1, self.steps - self.warmup_steps)
        return self.lr * (self.min_lr_ratio + (1 - self.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def train_reference(model: ReferenceGPT, sequences: torch.Tensor, answer_len: int, seed: int,
                    recipe: Recipe) -> list[float]:
    """A plain training loop with emergelab's recipe (the batches of seed `seed`, AdamW, global-norm
    clipping); returns the loss of every step."""
    rng = np.random.default_rng([seed, 1])  # the data order emergelab's trainer draws for this seed
    opt = make_optimizer(model, recipe.lr, recipe.weight_decay, recipe.beta2)
    losses = []
    for step in range(recipe.steps):
        for group in opt.param_groups:
            group["lr"] = recipe.lr_at(step)
        batch = sequences[torch.as_tensor(rng.choice(len(sequences), size=recipe.batch_size))]
        loss = answer_loss(model, batch, answer_len)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
        opt.step()
        losses.append(loss.item())
    return losses


def train_vmap_ensemble(cfg: ModelConfig, seeds: list[int], sequences: torch.Tensor, answer_len: int,
                        recipe: Recipe) -> list[list[float]]:
    """The reference models of `seeds` stacked with torch.func (`stack_module_state` + `vmap` over
    `functional_call`, the ensembling recipe of PyTorch's tutorial) and trained together: one
    AdamW over the stacked weights, clipping per member. Returns each step's per-member losses."""
    models = [ReferenceGPT(cfg, seed, fused_attention=False) for seed in seeds]
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")  # moving to "meta" unties the head: tie it in the call

    def member_loss(p: dict, b: dict, batch: torch.Tensor) -> torch.Tensor:
        tied = p | {"lm_head.weight": p["wte.weight"]}
        logits = functional_call(base, (tied, b), (batch[:, :-1],), {"last": answer_len})
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, -answer_len:].reshape(-1))

    stacked = list(params.values())
    groups = [{"params": [p for p in stacked if p.dim() >= 3], "weight_decay": recipe.weight_decay},
              {"params": [p for p in stacked if p.dim() < 3], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=recipe.lr, betas=(0.9, recipe.beta2))
    rngs = [np.random.default_rng([seed, 1]) for seed in seeds]
    losses = []
    for step in range(recipe.steps):
        for group in opt.param_groups:
            group["lr"] = recipe.lr_at(step)
        idx = np.stack([r.choice(len(sequences), size=recipe.batch_size) for r in rngs])
        member_losses = vmap(member_loss)(params, buffers, sequences[torch.as_tensor(idx)])
        opt.zero_grad(set_to_none=True)
        member_losses.sum().backward()
        norms = torch.stack([p.grad.flatten(1).norm(dim=1) for p in stacked]).norm(dim=0)  # (K,)
        scale = (recipe.grad_clip / (norms + 1e-6)).clamp(max=1.0)
        for p in stacked:
            p.grad.mul_(scale.view(-1, *[1] * (p.dim() - 1)))
        opt.step()
        losses.append(member_losses.tolist())
    return losses
