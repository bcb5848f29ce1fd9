"""Tasks whose answers are random with a known distribution, so the entropy floor is exact.

A model's test cross-entropy splits as CE = H(p) + KL(p‖q): the entropy of the data, which no
model can beat, plus how far the model q is from the truth p. With natural text H(p) is unknown and
the split is guesswork; here p is chosen, so H(p) is a number and KL = CE − H(p) is measured.

`noisy_modular`: the prompt is "a + b =" (a, b < p); the answer is (a + b) mod p with probability
1 − ε and a uniformly random residue otherwise, so
    p(y | a, b) = (1 − ε)·[y = (a + b) mod p] + ε/p.
Each input index is one draw: index = context · repeats + r, the draw is fixed by a hash of the
index (SplitMix64), so a split is deterministic and train/test stay disjoint by index while both
see every context with fresh draws.
"""

from __future__ import annotations

import numpy as np

from emergelab.tasks.base import Task, register_task

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele, Lea & Flood 2014): a well-mixed 64-bit hash of each entry."""
    z = (np.asarray(x, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)) & _MASK
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK
    return z ^ (z >> np.uint64(31))


def uniform_of(index: np.ndarray, salt: int) -> np.ndarray:
    """A uniform number in [0, 1) per index, fixed by (index, salt)."""
    with np.errstate(over="ignore"):
        h = splitmix64(np.asarray(index, dtype=np.uint64) ^ np.uint64(salt))
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@register_task("noisy_modular")
class NoisyModular(Task):
    """a + b mod p, but with probability ε the answer is a uniformly random residue: the answer
    distribution is known, so the test loss splits exactly into entropy H(p) + KL(p‖model)."""

    def __init__(self, p: int = 11, noise: float = 0.3, repeats: int = 64, salt: int = 0):
        if p < 2:
            raise ValueError("p must be ≥ 2")
        if not 0.0 <= noise <= 1.0:
            raise ValueError("noise must be in [0, 1]")
        if repeats < 1:
            raise ValueError("repeats must be ≥ 1")
        self.p, self.noise, self.repeats, self.salt = p, noise, repeats, salt
        self.vocab = [str(i) for i in range(p)] + ["+", "="]

    @property
    def space_size(self) -> int:
        return self.p**2 * self.repeats

    @property
    def prompt_len(self) -> int:
        return 4

    @property
    def answer_len(self) -> int:
        return 1

    def context(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ctx = np.asarray(index, dtype=np.int64) // self.repeats
        return ctx // self.p, ctx % self.p

    def answer_distribution(self, index: np.ndarray) -> np.ndarray:
        """(n, p) exact answer probabilities p(y | prompt) for each input index."""
        a, b = self.context(index)
        probs = np.full((len(a), self.p), self.noise / self.p)
        probs[np.arange(len(a)), (a + b) % self.p] += 1.0 - self.noise
        return probs

    def answer_entropy(self, index: np.ndarray) -> np.ndarray:
        """H(p(· | prompt)) in nats, per input index (the floor of the per-example test loss)."""
        probs = self.answer_distribution(index)
        return -(probs * np.log(np.where(probs > 0, probs, 1.0))).sum(axis=1)

    def encode(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        index = np.asarray(index, dtype=np.int64)
        a, b = self.context(index)
        n = len(index)
        prompt = np.stack([a, np.full(n, self.p), b, np.full(n, self.p + 1)], axis=1)
        u = uniform_of(index, self.salt)
        noisy = u < self.noise
        # below ε the same draw, rescaled, is uniform on [0, 1): a uniform residue
        scaled = np.zeros_like(u)
        scaled[noisy] = u[noisy] / self.noise  # only where u < ε (no overflow for a denormal ε)
        random_residue = np.minimum((scaled * self.p).astype(np.int64), self.p - 1)
        answer = np.where(noisy, random_residue, (a + b) % self.p)
        return prompt, answer[:, None]

    def render(self, ids: np.ndarray) -> str:
        return " ".join(self.vocab[int(i)] for i in ids)

    def config(self) -> dict:
        return {"p": self.p, "noise": self.noise, "repeats": self.repeats, "salt": self.salt}
