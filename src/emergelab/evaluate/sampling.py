"""Evaluation by sampling: per test example, how many of n sampled answers were correct.

Greedy decoding says whether the most likely answer is right; a small model whose right answer
has probability 10⁻³ scores 0 there, and exact match cannot tell it from a model at 10⁻⁹.
Sampling at temperature T measures that probability: `fixed` draws n answers per example (pass@k
for every k ≤ n by the unbiased estimator), `until_success` draws until the first correct answer
or a budget (the first-success index is geometric, so even tiny probabilities are reached with
few draws on average; Hu et al. 2024's PassUntil). Counts are stored like imported ones
(`sample_counts`: step, example, n, c), so every metric and forecast reads both the same way.

A sampled answer is correct when all its answer tokens equal the target's; the probability of
that under temperature T is Π_t softmax(logits_t / T)[target_t] with the correct prefix — the
quantity `answer_probability` computes exactly and the tests hold the sampled counts against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from emergelab.models import EnsembleGPT


@dataclass(frozen=True)
class SamplingPlan:
    """How to sample: temperature, and either `samples` per example (fixed) or a `budget`
    (until the first success). `seed` makes the draws repeatable."""

    temperature: float = 1.0
    samples: int | None = None
    budget: int | None = None
    seed: int = 0
    batch_rows: int = 8192  # sampled answers decoded in one forward pass (memory bound)

    def __post_init__(self) -> None:
        if (self.samples is None) == (self.budget is None):
            raise ValueError("give either samples (fixed n per example) or budget (until the first success)")
        if self.temperature <= 0:
            raise ValueError("temperature must be > 0")

    @property
    def scheme(self) -> str:
        return "fixed" if self.samples is not None else "until_success"


@torch.no_grad()
def _sample_correct(model: EnsembleGPT, prompts: torch.Tensor, answers: torch.Tensor, temperature: float,
                    gen: torch.Generator) -> torch.Tensor:
    """One sampled answer per row for every member: (K, rows) bool, True where it equals the target."""
    k = model.ensemble_size
    seq = prompts.unsqueeze(0).expand(k, -1, -1)
    correct = torch.ones(k, prompts.shape[0], dtype=torch.bool, device=prompts.device)
    for t in range(answers.shape[1]):
        logits = model(seq)[:, :, -1].double() / temperature
        probs = logits.softmax(-1)
        nxt = torch.multinomial(probs.reshape(-1, probs.shape[-1]), 1, generator=gen).view(k, -1, 1)
        correct &= nxt[:, :, 0] == answers[:, t].unsqueeze(0)
        seq = torch.cat([seq, nxt], dim=2)
    return correct


def _draw(model: EnsembleGPT, prompts: torch.Tensor, answers: torch.Tensor, rows: np.ndarray, plan: SamplingPlan,
          gen: torch.Generator) -> torch.Tensor:
    """Correctness of one sampled answer per entry of `rows` (example indices), in batches: (K, len(rows))."""
    out = []
    for start in range(0, len(rows), plan.batch_rows):
        idx = torch.as_tensor(rows[start:start + plan.batch_rows], device=prompts.device)
        out.append(_sample_correct(model, prompts[idx], answers[idx], plan.temperature, gen))
    return torch.cat(out, dim=1)


def sample_counts(model: EnsembleGPT, prompts: np.ndarray, answers: np.ndarray, plan: SamplingPlan
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per member, (n, c) per example: samples drawn and correct ones, under `plan`."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator(device=device)
    gen.manual_seed(plan.seed)
    p = torch.as_tensor(prompts, device=device)
    a = torch.as_tensor(answers, device=device)
    k, e = model.ensemble_size, len(prompts)
    if plan.samples is not None:
        correct = _draw(model, p, a, np.repeat(np.arange(e), plan.samples), plan, gen)
        c = correct.view(k, e, plan.samples).sum(-1).cpu().numpy()
        result = [(np.full(e, plan.samples), c[m]) for m in range(k)]
    else:
        result = _until_success(model, p, a, plan, gen)
    model.train(was_training)
    return result


def _until_success(model: EnsembleGPT, p: torch.Tensor, a: torch.Tensor, plan: SamplingPlan,
                   gen: torch.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Draw in rounds that double in size (16, 32, ...) for the examples some member has not solved
    yet; per member and example, n = index of the first success (c = 1), or the budget (c = 0)."""
    budget = int(plan.budget or 0)
    k, e = model.ensemble_size, p.shape[0]
    first = np.zeros((k, e), dtype=np.int64)  # 0: no success yet
    drawn = 0
    size = 16
    while drawn < budget:
        active = np.flatnonzero((first == 0).any(axis=0))
        if not len(active):
            break
        r = min(size, budget - drawn)
        correct = _draw(model, p, a, np.repeat(active, r), plan, gen).view(k, len(active), r).cpu().numpy()
        hit = correct.any(axis=2)
        index = drawn + 1 + correct.argmax(axis=2)  # 1-based draw of the first success in this round
        sub = first[:, active]
        new = (sub == 0) & hit
        sub[new] = index[new]
        first[:, active] = sub
        drawn += r
        size *= 2
    solved = first > 0
    return [(np.where(solved[m], first[m], budget), solved[m].astype(np.int64)) for m in range(k)]


@torch.no_grad()
def answer_probability(model: EnsembleGPT, prompts: np.ndarray, answers: np.ndarray, temperature: float = 1.0
                       ) -> np.ndarray:
    """Exact probability (K, examples) that one sampled answer equals the target at `temperature`:
    the product of the teacher-forced per-token probabilities of softmax(logits / T)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    pr = torch.as_tensor(prompts, device=device)
    an = torch.as_tensor(answers, device=device)
    k, length = model.ensemble_size, an.shape[1]
    seq = torch.cat([pr, an[:, :-1]], dim=1).unsqueeze(0).expand(k, -1, -1)
    logp = (model(seq)[:, :, -length:].double() / temperature).log_softmax(-1)
    lp = logp.gather(-1, an.unsqueeze(0).expand(k, -1, -1).unsqueeze(-1)).squeeze(-1).sum(-1)
    model.train(was_training)
    return lp.exp().cpu().numpy()
