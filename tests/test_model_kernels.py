"""The model's hand-written kernels (slab attention, feature-axis LayerNorm, linear) equal the textbook ops, gradients included."""

from __future__ import annotations

import math

import pytest
import torch

from emergelab.models import attention


def reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Textbook causal attention on (K, h, dh, T, B) inputs, queries at the last Tq positions."""
    q, k, v = (z.permute(0, 4, 1, 3, 2) for z in (q, k, v))  # (K, B, h, T, dh)
    tq, tk = q.shape[3], k.shape[3]
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    mask = torch.ones(tq, tk, dtype=torch.bool).triu(tk - tq + 1)
    y = s.masked_fill(mask, float("-inf")).softmax(-1) @ v
    return y.permute(0, 2, 4, 3, 1)


@pytest.mark.parametrize("t,queries", [(1, 1), (7, 7), (11, 4), (40, 40), (40, 3)])
def test_attention_matches_reference_with_gradients(t: int, queries: int) -> None:
    gen = torch.Generator().manual_seed(t)
    qkv = torch.randn(2, 3, 3, 4, t, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    y, _ = attention.causal_attention(qkv, queries)
    y_ref = reference(qkv[:, 0, :, :, -queries:], qkv[:, 1], qkv[:, 2])
    assert y.shape == (2, 3, 4, queries, 5)
    assert torch.allclose(y, y_ref, atol=1e-12)
    dy = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    (grad,) = torch.autograd.grad(y, qkv, dy)
    (grad_ref,) = torch.autograd.grad(y_ref, qkv, dy)
    assert torch.allclose(grad, grad_ref, atol=1e-12)


@pytest.mark.parametrize("t", [9, 40])
def test_pattern_is_causal_and_normalised(t: int) -> None:
    qkv = torch.randn(1, 3, 2, 4, t, 3)
    _, pattern = attention.causal_attention(qkv, return_pattern=True)  # (K, h, T, T, B)
    assert pattern.shape == (1, 2, t, t, 3)
    assert torch.allclose(pattern.sum(3), torch.ones(1, 2, t, 3), atol=1e-6)
    assert pattern.permute(0, 1, 4, 2, 3).triu(1).abs().max() == 0  # no weight on later positions


def test_feature_axis_layer_norm_matches_reference_with_gradients() -> None:
    from emergelab.models.transformer import _layer_norm

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 8, 20, generator=gen, dtype=torch.float64, requires_grad=True)
    w, b = (torch.randn(3, 8, generator=gen, dtype=torch.float64, requires_grad=True) for _ in range(2))
    y = _layer_norm(x, w, b)
    y_ref = torch.nn.functional.layer_norm(x.transpose(1, 2), (8,), eps=1e-5) * w[:, None] + b[:, None]
    assert torch.allclose(y, y_ref.transpose(1, 2), atol=1e-12)
    dy = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    for g, g_ref in zip(
        torch.autograd.grad(y, (x, w, b), dy),
        torch.autograd.grad(y_ref.transpose(1, 2), (x, w, b), dy),
        strict=True,
    ):
        assert torch.allclose(g, g_ref, atol=1e-10)


@pytest.mark.parametrize("i,o", [(6, 9), (9, 6), (5, 5)])
def test_linear_matches_per_member_matmul_with_gradients(i: int, o: int) -> None:
    """Both ways of forming the weight gradient (widening and narrowing maps) are right."""
    from emergelab.models.transformer import _linear

    gen = torch.Generator().manual_seed(i * o)
    x, w, b = (
        torch.randn(*shape, generator=gen, dtype=torch.float64, requires_grad=True)
        for shape in ((3, i, 14), (3, i, o), (3, o))
    )
    y = _linear(x, w, b)
    y_ref = torch.einsum("kin,kio->kon", x, w) + b[:, :, None]
    assert torch.allclose(y, y_ref, atol=1e-12)
    dy = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    for g, g_ref in zip(torch.autograd.grad(y, (x, w, b), dy), torch.autograd.grad(y_ref, (x, w, b), dy), strict=True):
        assert g.shape == g_ref.shape and torch.allclose(g, g_ref, atol=1e-12)


def test_folded_layer_norm_linear_matches_the_composition() -> None:
    from emergelab.models.transformer import _layer_norm, _linear, _norm_linear

    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 6, 15, generator=gen, dtype=torch.float64, requires_grad=True)
    params = [
        torch.randn(*shape, generator=gen, dtype=torch.float64, requires_grad=True)
        for shape in ((2, 6), (2, 6), (2, 6, 9), (2, 9))
    ]
    y = _norm_linear(x, *params)
    y_ref = _linear(_layer_norm(x, params[0], params[1]), params[2], params[3])
    assert torch.allclose(y, y_ref, atol=1e-12)
    dy = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    for g, g_ref in zip(
        torch.autograd.grad(y, [x, *params], dy), torch.autograd.grad(y_ref, [x, *params], dy), strict=True
    ):
        assert torch.allclose(g, g_ref, atol=1e-10)


def test_one_hot_and_gather_embeddings_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    from emergelab.models import EnsembleGPT, ModelConfig, transformer

    model = EnsembleGPT(ModelConfig(vocab_size=11, seq_len=6, width=8, depth=1, heads=2), [0, 1, 2]).double()
    idx = torch.randint(0, 11, (3, 5, 6), generator=torch.Generator().manual_seed(0))
    one_hot = model.embed(idx)
    monkeypatch.setattr(transformer, "ONE_HOT_VOCAB", 0)
    assert torch.allclose(model.embed(idx), one_hot, atol=1e-14)
    assert one_hot.shape == (3, 8, 6, 5) and one_hot.is_contiguous()
