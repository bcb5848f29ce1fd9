"""Multitask sparse parity (Michaud, Liu, Girit & Tegmark 2023, "The Quantization Model of Neural
Scaling"): many small skills ("quanta") used with Zipf frequencies.

The prompt is one control token naming a subtask t (of S), then n bits, then "="; the answer is the
parity of subtask t's own fixed random k-subset of the bits (subsets drawn once from `salt`). Each
subtask is a sharp, all-or-nothing skill: without it the answer is a coin flip (loss log 2), with it
the answer is exact. In TRAINING subtask t (rank t + 1) makes up a share p_t ∝ (t + 1)^−(α+1) of the
examples, so frequent subtasks get most of the gradient and are learned first; the quantization
model then predicts that the aggregate loss falls as a power law with exponent α in the number of
subtasks learned, while every single subtask's curve jumps. The TEST set is balanced over subtasks so
each one's curve is measured with the same precision (`subtask_of` groups test examples).

The input index is t · 2^n + bits (bits read most-significant first), so an index is its content and
train and test are disjoint by construction: `make_split` draws the test indices first, then the
training indices of each subtask from the rest.
"""

from __future__ import annotations

import numpy as np

from emergelab.tasks.base import Split, Task, register_task


def zipf_shares(n_subtasks: int, alpha: float) -> np.ndarray:
    """Training share of each subtask: p_t ∝ (t + 1)^−(alpha + 1), normalised (the quanta model's
    frequencies, theory/quanta.py)."""
    p = np.arange(1, n_subtasks + 1, dtype=float) ** -(alpha + 1.0)
    return p / p.sum()


def largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    """Integer counts summing to `total` that follow `shares` as closely as integers can."""
    raw = total * np.asarray(shares, dtype=float)
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: total - int(counts.sum())]] += 1
    return counts


@register_task("multitask_sparse_parity")
class MultitaskSparseParity(Task):
    """S subtasks, each the parity of its own k of n bits; Zipf(alpha) subtask shares in training,
    a balanced test set (see the module docstring)."""

    def __init__(self, subtasks: int = 16, bits: int = 14, k: int = 3, alpha: float = 0.4, salt: int = 0):
        if not 1 <= subtasks <= 256:
            raise ValueError("subtasks must be in 1..256")
        if not 1 <= bits <= 30:
            raise ValueError("bits must be in 1..30")
        if not 1 <= k <= bits:
            raise ValueError("need 1 ≤ k ≤ bits")
        if alpha <= 0:
            raise ValueError("alpha must be > 0")
        self.subtasks, self.bits, self.k, self.alpha, self.salt = subtasks, bits, k, alpha, salt
        # answers "0"/"1"; each input bit is one token naming its position and value ("4:1"), see
        # the module docstring for why
        self.vocab = ["0", "1", "="] + [f"T{t}" for t in range(subtasks)] + [f"{i}:{v}" for i in range(bits)
                                                                             for v in (0, 1)]
        rng = np.random.default_rng(salt)
        # subtask t reads bits subsets[t] (positions in the prompt's bit string, 0 = leftmost)
        self.subsets = np.stack([np.sort(rng.choice(bits, size=k, replace=False)) for _ in range(subtasks)])
        self.shares = zipf_shares(subtasks, alpha)

    @property
    def space_size(self) -> int:
        return self.subtasks * 2**self.bits

    @property
    def prompt_len(self) -> int:
        return 1 + self.bits + 1

    @property
    def answer_len(self) -> int:
        return 1

    @property
    def chance_exact_match(self) -> float:
        return 0.5

    def subtask_of(self, index: np.ndarray) -> np.ndarray:
        """Subtask id (0 = most frequent in training) of each input index."""
        return np.asarray(index, dtype=np.int64) >> self.bits

    def bit_matrix(self, index: np.ndarray) -> np.ndarray:
        """(n, bits) the input bits of each index, most significant first."""
        low = np.asarray(index, dtype=np.int64) & ((1 << self.bits) - 1)
        shifts = np.arange(self.bits - 1, -1, -1, dtype=np.int64)
        return (low[:, None] >> shifts[None, :]) & 1

    def encode(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        index = np.asarray(index, dtype=np.int64)
        t = self.subtask_of(index)
        x = self.bit_matrix(index)
        parity = np.take_along_axis(x, self.subsets[t], axis=1).sum(axis=1) % 2
        n = len(index)
        bit_tokens = 3 + self.subtasks + 2 * np.arange(self.bits)[None, :] + x
        prompt = np.concatenate([(3 + t)[:, None], bit_tokens, np.full((n, 1), 2)], axis=1)
        return prompt, parity[:, None]

    def _counts(self, n_train: int, n_test: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-subtask (test, train) counts: test balanced, train by the Zipf shares."""
        return (largest_remainder(n_test, np.full(self.subtasks, 1.0 / self.subtasks)),
                largest_remainder(n_train, self.shares))

    def check_split(self, n_train: int, n_test: int) -> None:
        """Every subtask must have enough distinct inputs for its test share plus its training share."""
        per_sub = 2**self.bits
        test_counts, train_counts = self._counts(n_train, n_test)
        for t in range(self.subtasks):
            need = int(test_counts[t] + train_counts[t])
            if need > per_sub:
                raise ValueError(f"{self.name}: subtask {t} needs {need} distinct inputs (train share "
                                 f"{self.shares[t]:.3f}) but has only 2^{self.bits} = {per_sub}; raise bits "
                                 "or lower train_size")

    def make_split(self, n_train: int, n_test: int, seed: int) -> Split:
        """Test: n_test spread evenly over the subtasks. Train: n_train split over the subtasks by
        their Zipf shares (largest remainders), drawn from each subtask's inputs not in the test set;
        a subtask that would need more inputs than it has is an error (raise `bits`)."""
        self.check_split(n_train, n_test)
        rng = np.random.default_rng(seed)
        per_sub = 2**self.bits
        test_counts, train_counts = self._counts(n_train, n_test)
        test_parts, train_parts = [], []
        for t in range(self.subtasks):
            drawn = t * per_sub + rng.choice(per_sub, size=int(test_counts[t] + train_counts[t]), replace=False)
            test_parts.append(drawn[: test_counts[t]])
            train_parts.append(drawn[test_counts[t]:])
        test_index = np.concatenate(test_parts)
        train_index = rng.permutation(np.concatenate(train_parts))
        # shuffled last (the training draw stays as it was): checkpoints score the test set's first
        # examples (evaluate/subset.py), which must not be one subtask's
        test_index = rng.permutation(test_index)
        tp, ta = self.encode(test_index)
        rp, ra = self.encode(train_index)
        return Split(rp, ra, tp, ta, train_index, test_index)

    def render(self, ids: np.ndarray) -> str:
        return " ".join(self.vocab[int(i)] for i in ids)

    def config(self) -> dict:
        return {"subtasks": self.subtasks, "bits": self.bits, "k": self.k, "alpha": self.alpha, "salt": self.salt}
