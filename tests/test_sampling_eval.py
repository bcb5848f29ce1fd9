"""Evaluation by sampling against the model's exact answer probability: on a tiny model, the share of
correct sampled answers (and pass@k from the counts) matches Π_t softmax(logits_t / T)[target_t],
computed by teacher forcing — a different code path from autoregressive sampling."""

import numpy as np
import pytest
import torch

from emergelab.evaluate.sampling import SamplingPlan, answer_probability, sample_counts
from emergelab.metrics.sampling import pass_at_k_until_success
from emergelab.models import EnsembleGPT, ModelConfig


def _tiny():
    torch.manual_seed(0)
    model = EnsembleGPT(ModelConfig(vocab_size=3, seq_len=6, width=8, depth=1, heads=1), [0, 1])
    with torch.no_grad():
        model.wte.mul_(6.0)  # spread the logits so that answer probabilities differ between examples
    rng = np.random.default_rng(0)
    prompts = rng.integers(0, 3, size=(6, 3))
    answers = rng.integers(0, 3, size=(6, 2))
    return model, prompts, answers


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_sampled_success_rate_matches_exact_answer_probability(temperature):
    model, prompts, answers = _tiny()
    exact = answer_probability(model, prompts, answers, temperature)
    assert exact.max() / exact.min() > 4  # the examples span small and large probabilities
    n = 3000
    counts = sample_counts(model, prompts, answers, SamplingPlan(temperature, samples=n, seed=1))
    for member, (drawn, correct) in enumerate(counts):
        assert (drawn == n).all()
        se = np.sqrt(exact[member] * (1 - exact[member]) / n)
        assert np.all(np.abs(correct / n - exact[member]) < 4.5 * se + 1e-9), (correct / n, exact[member])


def test_until_success_gives_unbiased_pass_at_k():
    model, prompts, answers = _tiny()
    exact = answer_probability(model, prompts, answers, 1.0)[0]
    reps = 400
    plan_prompts, plan_answers = np.repeat(prompts, reps, axis=0), np.repeat(answers, reps, axis=0)
    n, c = sample_counts(model, plan_prompts, plan_answers, SamplingPlan(1.0, budget=64, seed=2))[0]
    assert set(np.unique(c)) <= {0, 1} and n.max() <= 64
    for k in (1, 8, 64):
        est = pass_at_k_until_success(n, c, k).reshape(len(prompts), reps).mean(axis=1)
        truth = 1 - (1 - exact) ** k
        se = np.sqrt(truth * (1 - truth) / reps)
        assert np.all(np.abs(est - truth) < 4.5 * se + 1e-9), (k, est, truth)


def test_sampling_is_seeded():
    model, prompts, answers = _tiny()
    a = sample_counts(model, prompts, answers, SamplingPlan(1.0, samples=50, seed=3))
    b = sample_counts(model, prompts, answers, SamplingPlan(1.0, samples=50, seed=3))
    assert all((x[1] == y[1]).all() for x, y in zip(a, b, strict=True))
    with pytest.raises(ValueError, match="either samples"):
        SamplingPlan(1.0, samples=5, budget=10)


def test_spec_sampling_stores_counts_whose_pass_at_1_matches_target_prob(tmp_path):
    """A tiny family sampled at T = 1: per run, pass@1 from the stored counts estimates the same
    quantity as target_prob (the exact probability of the whole answer, teacher-forced)."""
    from conftest import tiny_spec_dict
    from emergelab.analysis.curves import load_rows
    from emergelab.spec import parse_spec
    from emergelab.sweep import run_experiment

    spec = parse_spec(tiny_spec_dict(
        tasks=[{"name": "addition", "digits": 1, "format": "reversed", "train_size": 70, "test_size": 30}],
        family={"widths": [16], "depths": [1], "head_dim": 4},
        sampling={"temperature": 1.0, "samples": 200, "seed": 0},
        training={"steps": 100, "batch_size": 32, "lr": 0.01, "warmup_steps": 5, "checkpoints": "final"}))
    run_experiment(spec, tmp_path / "exp")
    rows = load_rows(tmp_path / "exp", scale="params")
    by = {(r.model, r.seed, r.metric): r for r in rows}
    assert {m for (_, _, m) in by} >= {"pass@1", "pass@10", "pass@100", "coverage", "target_prob"}
    for (model, seed, metric), r in by.items():
        if metric != "pass@1":
            continue
        p = by[(model, seed, "target_prob")].scores
        se = np.sqrt(np.sum(p * (1 - p) / 200)) / len(p)
        assert abs(r.value - p.mean()) < 4.5 * se + 1e-9, (model, seed, r.value, p.mean())
    assert any(r.value > 0.01 for r in rows if r.metric == "pass@1")


def test_count_metrics_need_a_sampling_section():
    from conftest import tiny_spec_dict
    from emergelab.spec import SpecError, parse_spec

    with pytest.raises(SpecError, match="pass@10 need sample counts"):
        parse_spec(tiny_spec_dict(metrics=["exact_match", "pass@10"]))
    assert parse_spec(tiny_spec_dict(metrics=["exact_match", "pass@10"], sampling={"budget": 100})).sampling.budget == 100
    with pytest.raises(SpecError, match="pass@100 needs more than the 50 samples"):
        parse_spec(tiny_spec_dict(metrics=["pass@100"], sampling={"samples": 50}))
