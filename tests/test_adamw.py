"""train/adamw.py: PyTorch's fused AdamW kernel called directly gives, bit for bit, what
torch.optim.AdamW(fused=True) gives, keeps its state-dict layout, and never imports torch._dynamo."""

import subprocess
import sys
import textwrap

import pytest
import torch

from emergelab.train.adamw import FusedAdamW


def _params(dtype: torch.dtype) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    shapes = [(2, 5, 4), (2, 3, 5, 4), (2, 4), (2, 1, 5)]  # matrices (decayed), then vectors
    return [torch.randn(s, generator=g, dtype=dtype).requires_grad_() for s in shapes]


def _groups(params: list[torch.Tensor]) -> list[dict]:
    return [{"params": [p for p in params if p.dim() >= 3], "weight_decay": 0.1},
            {"params": [p for p in params if p.dim() < 3], "weight_decay": 0.0}]


def _step(opt, params: list[torch.Tensor], step: int, lr: float) -> None:
    """Deterministic gradients (the same for both optimizers) and a per-step learning rate."""
    for group in opt.param_groups:
        group["lr"] = lr
    opt.zero_grad()
    loss = sum(((p - 0.3 * step) ** 2 * torch.arange(p.numel(), dtype=p.dtype).view(p.shape)).sum() for p in params)
    loss.backward()
    opt.step()


def _assert_same(ours: FusedAdamW, theirs: torch.optim.AdamW, p_ours, p_theirs) -> None:
    for a, b in zip(p_ours, p_theirs, strict=True):
        assert torch.equal(a, b)
    s_ours, s_theirs = ours.state_dict(), theirs.state_dict()
    assert s_ours["param_groups"] == s_theirs["param_groups"]
    assert s_ours["state"].keys() == s_theirs["state"].keys()
    for i, s in s_theirs["state"].items():
        assert s_ours["state"][i].keys() == s.keys() == {"step", "exp_avg", "exp_avg_sq"}
        for k, v in s.items():
            assert v.dtype == s_ours["state"][i][k].dtype, (i, k)
            assert torch.equal(v, s_ours["state"][i][k]), (i, k)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bitwise_equal_to_torch_fused_adamw(dtype):
    p_ours, p_theirs = _params(dtype), _params(dtype)
    ours = FusedAdamW(_groups(p_ours), lr=3e-3, betas=(0.9, 0.98))
    theirs = torch.optim.AdamW(_groups(p_theirs), lr=3e-3, betas=(0.9, 0.98), fused=True)
    for step in range(1, 8):
        lr = 3e-3 * (0.5 + 0.1 * step)
        _step(ours, p_ours, step, lr)
        _step(theirs, p_theirs, step, lr)
        _assert_same(ours, theirs, p_ours, p_theirs)
    assert all(float(s["step"]) == 7.0 for s in ours.state.values())


@pytest.mark.parametrize("direction", ["torch→ours", "ours→torch"])
def test_state_dicts_interchange(direction):
    """A snapshot's optimizer state written by one resumes in the other, bit for bit."""
    p_ours, p_theirs = _params(torch.float32), _params(torch.float32)
    ours = FusedAdamW(_groups(p_ours), lr=1e-2, betas=(0.9, 0.98))
    theirs = torch.optim.AdamW(_groups(p_theirs), lr=1e-2, betas=(0.9, 0.98), fused=True)
    for step in range(1, 4):
        _step(ours, p_ours, step, 1e-2)
        _step(theirs, p_theirs, step, 1e-2)
    src, dst = (theirs, ours) if direction == "torch→ours" else (ours, theirs)
    saved = {i: {k: v.clone() for k, v in s.items()} for i, s in src.state_dict()["state"].items()}
    sd = dst.state_dict()
    sd["state"] = saved  # what TrainState.restore does
    dst.load_state_dict(sd)
    for step in range(4, 7):
        _step(ours, p_ours, step, 1e-2)
        _step(theirs, p_theirs, step, 1e-2)
    _assert_same(ours, theirs, p_ours, p_theirs)


def test_parameters_without_gradient_are_left_alone():
    params = _params(torch.float32)
    before = [p.detach().clone() for p in params]
    opt = FusedAdamW(_groups(params), lr=1e-2)
    (params[0] ** 2).sum().backward()
    opt.step()
    assert not torch.equal(params[0], before[0])
    assert all(torch.equal(p, b) for p, b in zip(params[1:], before[1:], strict=True))
    assert list(opt.state_dict()["state"]) == [0]


def test_training_never_imports_dynamo():
    """A worker trains without torch._dynamo (seconds of import; the fork server no longer preloads it)."""
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import torch
        from emergelab.models import EnsembleGPT, ModelConfig
        from emergelab.tasks import TASKS
        from emergelab.train import TrainConfig, TrainData, TrainState, train
        from emergelab.train.trainer import make_optimizer

        task = TASKS["addition"](digits=2, fmt="reversed")
        split = task.make_split(200, 20, 0)
        seqs = torch.as_tensor(np.concatenate([split.train_prompt, split.train_answer], axis=1))
        cfg = ModelConfig(vocab_size=task.vocab_size, seq_len=task.seq_len - 1, width=8, depth=1, heads=2)
        model = EnsembleGPT(cfg, [0, 1])
        tcfg = TrainConfig(steps=2, batch_size=8, warmup_steps=1)
        train(model, TrainData(seqs, task.answer_len), tcfg, [2])
        opt = make_optimizer(model, tcfg)
        TrainState.capture(2, model, opt, [np.random.default_rng(0)] * 2, np.zeros(2)).restore(
            model, opt, [np.random.default_rng(0)] * 2)
        print("torch._dynamo" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
