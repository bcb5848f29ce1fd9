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
