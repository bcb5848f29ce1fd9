"""emergelab's model and trainer against a plain nanoGPT-style reference written with standard
PyTorch modules (benchmarks/reference_gpt.py: nn.Linear, nn.LayerNorm, scaled_dot_product_attention,
torch.optim.AdamW): with the same weights a single-member EnsembleGPT gives the same logits and
gradients in float64, and with the same batches it trains to the same weights."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from emergelab.models import EnsembleGPT, ModelConfig
from emergelab.models import transformer as transformer_module
from emergelab.tasks import make_task
from emergelab.train import TrainConfig, TrainData, train
from emergelab.train.trainer import answer_loss

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from reference_gpt import (  # noqa: E402
    Recipe,
    ReferenceGPT,
    load_member_state,
    parameter_pairs,
    train_reference,
    train_vmap_ensemble,
)
from reference_gpt import answer_loss as reference_loss  # noqa: E402


def _random_member(cfg: ModelConfig, seed: int) -> EnsembleGPT:
    """A K = 1 model in float64 with every weight random, LayerNorm affines and biases included (the
    initialisation leaves those at 1 and 0, where a mix-up would go unnoticed)."""
    model = EnsembleGPT(cfg, [seed]).double()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.3 + (p == 1).double())
    return model


def _reference_for(model: EnsembleGPT, fused_attention: bool = True) -> ReferenceGPT:
    ref = ReferenceGPT(model.cfg, fused_attention=fused_attention).double()
    load_member_state(ref, model.member_state(0))
    return ref


CASES = {
    # vocabulary 13 is embedded by a one-hot matmul, 80 by a gather; T·dh = 40 takes the slab
    # attention, 160 PyTorch's fused kernel; attention-only models skip the MLP
    "demo-shape": ModelConfig(vocab_size=13, seq_len=10, width=12, depth=2, heads=3),
    "gather-embedding": ModelConfig(vocab_size=80, seq_len=10, width=8, depth=2, heads=2),
    "fused-attention": ModelConfig(vocab_size=13, seq_len=40, width=16, depth=2, heads=4),
    "attention-only": ModelConfig(vocab_size=13, seq_len=10, width=8, depth=3, heads=2, attn_only=True),
}


@pytest.mark.parametrize("fused", [True, False], ids=["sdpa", "explicit-attention"])
@pytest.mark.parametrize("cfg", CASES.values(), ids=CASES.keys())
def test_logits_and_gradients_match_reference(cfg: ModelConfig, fused: bool) -> None:
    model = _random_member(cfg, seed=7)
    ref = _reference_for(model, fused)
    idx = torch.randint(cfg.vocab_size, (6, cfg.seq_len + 1), generator=torch.Generator().manual_seed(1))
    answer_len = 4

    full = model(idx[None, :, :-1])[0]
    torch.testing.assert_close(full, ref(idx[:, :-1]), rtol=1e-10, atol=1e-10)

    ours = answer_loss(model, idx[None], answer_len, torch.float64)[0]
    theirs = reference_loss(ref, idx, answer_len)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    ours.backward()
    theirs.backward()
    grads = {name: p.grad[0] for name, p in model.named_parameters()}
    ref_params = dict(ref.named_parameters())
    for ref_name, (our_name, transposed) in parameter_pairs(ref).items():
        expected = ref_params[ref_name].grad
        assert expected is not None and expected.abs().max() > 0, ref_name
        got = grads[our_name].t() if transposed else grads[our_name]
        torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-12, msg=ref_name)


def test_one_hot_threshold_is_covered() -> None:
    """The cases above exercise both embedding routes (guards against the threshold moving)."""
    assert CASES["demo-shape"].vocab_size <= transformer_module.ONE_HOT_VOCAB < CASES["gather-embedding"].vocab_size


def test_training_matches_plain_adamw_loop() -> None:
    """20 steps of emergelab's trainer (K = 1, float64) and of a plain loop with torch.optim.AdamW on
    the same batches end at the same weights: schedule, weight-decay groups, clipping and the
    optimizer agree with the textbook recipe."""
    torch.set_num_threads(1)
    task = make_task("addition", digits=2, fmt="reversed")
    split = task.make_split(300, 10, seed=0)
    seqs = torch.as_tensor(np.concatenate([split.train_prompt, split.train_answer], axis=1))
    cfg = ModelConfig(task.vocab_size, task.seq_len - 1, width=8, depth=2, heads=2)
    tcfg = TrainConfig(steps=20, batch_size=16, lr=3e-3, warmup_steps=5, grad_clip=0.5, loss_dtype="float64")
    seed = 4
    model = EnsembleGPT(cfg, [seed]).double()
    ref = _reference_for(model)
    losses: list[float] = []
    train(model, TrainData(seqs, task.answer_len), tcfg, list(range(1, 21)),
          lambda step, m, loss: losses.append(float(loss[0])))
    recipe = Recipe(tcfg.steps, tcfg.batch_size, tcfg.lr, tcfg.warmup_steps, tcfg.min_lr_ratio, tcfg.weight_decay,
                    tcfg.beta2, tcfg.grad_clip)
    ref_losses = train_reference(ref, seqs, task.answer_len, seed, recipe)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-9)
    assert ref_losses[-1] < ref_losses[0] - 0.1  # it did train
    after = _reference_for(model)
    for (name, p), (_, q) in zip(ref.named_parameters(), after.named_parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-8, atol=1e-10, msg=name)


def test_vmap_ensemble_matches_members_trained_alone() -> None:
    """The torch.func-stacked peer baseline trains each member as the plain loop trains it alone
    (so the benchmark compares equal work)."""
    torch.set_num_threads(1)
    task = make_task("addition", digits=2, fmt="reversed")
    split = task.make_split(300, 10, seed=0)
    seqs = torch.as_tensor(np.concatenate([split.train_prompt, split.train_answer], axis=1))
    cfg = ModelConfig(task.vocab_size, task.seq_len - 1, width=8, depth=2, heads=2)
    recipe = Recipe(steps=8, batch_size=16, warmup_steps=3, grad_clip=0.5)
    stacked = np.array(train_vmap_ensemble(cfg, [2, 9], seqs, task.answer_len, recipe))
    for member, seed in enumerate([2, 9]):
        alone = train_reference(ReferenceGPT(cfg, seed), seqs, task.answer_len, seed, recipe)
        np.testing.assert_allclose(stacked[:, member], alone, rtol=1e-4)
    assert not np.allclose(stacked[:, 0], stacked[:, 1])
