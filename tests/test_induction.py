"""The induction task: fixed shapes, determinism from the index, the repeat where it says it is,
and the prefix-matching probe's shape and meaning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emergelab.evaluate.probes import PROBES, run_probes
from emergelab.models import EnsembleGPT, ModelConfig
from emergelab.spec import SpecError, parse_spec
from emergelab.tasks import make_task


def test_shapes_and_determinism() -> None:
    task = make_task("induction", symbols=16, segment=6, length=24)
    idx = np.array([0, 7, 123456789, 2**61])
    p1, a1 = task.encode(idx)
    p2, a2 = task.encode(idx[::-1])
    assert p1.shape == (4, task.prompt_len) and a1.shape == (4, task.answer_len)
    np.testing.assert_array_equal(p1, p2[::-1])
    np.testing.assert_array_equal(a1, a2[::-1])
    assert p1.max() < task.vocab_size and a1.min() >= 0


def test_answer_is_the_repeated_segment() -> None:
    task = make_task("induction", symbols=8, segment=5, length=20)
    idx = np.arange(200)
    prompt, answer = task.encode(idx)
    first, repeat, length = task.repeat_layout(idx)
    seq = np.concatenate([prompt, answer], axis=1)
    for row in range(len(idx)):
        np.testing.assert_array_equal(seq[row, repeat[row] : repeat[row] + length], seq[row, first[row] : first[row] + length])
    gap = repeat - (first + length)  # filler length varies: no fixed copy offset
    assert gap.min() >= 1 and len(np.unique(gap)) > 3


def test_split_is_disjoint_and_sequences_distinct() -> None:
    task = make_task("induction", symbols=16, segment=8, length=32)
    split = task.make_split(2000, 200, seed=0)
    assert not set(split.train_index) & set(split.test_index)
    seqs = np.concatenate([np.c_[split.train_prompt, split.train_answer], np.c_[split.test_prompt, split.test_answer]])
    assert len(np.unique(seqs, axis=0)) == len(seqs)


def test_bad_parameters_are_spec_errors() -> None:
    with pytest.raises(SpecError, match="length"):
        parse_spec({"name": "x", "tasks": [{"name": "induction", "segment": 8, "length": 10}],
                    "family": {"widths": [8], "depths": [1]}})


def test_prefix_matching_probe_per_layer_and_head() -> None:
    task = make_task("induction", symbols=16, segment=6, length=24)
    split = task.make_split(50, 40, seed=1)
    cfg = ModelConfig(task.vocab_size, task.seq_len - 1, width=16, depth=2, heads=2, attn_only=True)
    model = EnsembleGPT(cfg, [0, 1, 2])
    values = run_probes(["prefix_matching"], model, task, split)
    assert len(values) == 3
    assert sorted(values[0]) == [f"prefix_matching/l{layer}h{head}" for layer in range(2) for head in range(2)]
    for member in values:  # a near-uniform causal pattern at init: small, positive, below 1
        assert all(0 < v < 0.2 for v in member.values())


def test_prefix_matching_is_one_for_a_perfect_head(monkeypatch: pytest.MonkeyPatch) -> None:
    task = make_task("induction", symbols=16, segment=6, length=24)
    split = task.make_split(20, 10, seed=2)
    cfg = ModelConfig(task.vocab_size, task.seq_len - 1, width=8, depth=1, heads=1, attn_only=True)
    model = EnsembleGPT(cfg, [0])
    first, repeat, _ = task.repeat_layout(split.test_index)
    t = cfg.seq_len
    target = torch.zeros(len(first), 1, t, t)
    for row in range(len(first)):
        for q in range(t):
            key = first[row] + (q - repeat[row]) + 1 if q >= repeat[row] else q
            target[row, 0, q, key] = 1.0
    block = model.blocks[0]
    monkeypatch.setattr(block, "attention", lambda x, return_pattern=False, last=None: (x, target))
    assert PROBES["prefix_matching"](model, task, split)["prefix_matching/l0h0"][0] == pytest.approx(1.0)
