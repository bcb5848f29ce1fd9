"""Skill composition (Arora & Goyal 2023; Skill-Mix, Yu et al. 2024): use k basic skills at once.

S basic skills act on an input of S symbols (alphabet of A): skill s rewrites position s through
its own fixed substitution π_s (a seeded permutation with no fixed point, so a skipped skill always
shows). The prompt names a set of k distinct skills, sorted and left-padded with "_" to `k_max`
slots, then the input; every position whose skill is named is rewritten, the others are copied:
    "_ _ A C | b d a c =" → π_A(b) d π_C(a) c.
This is the setting of Arora & Goyal's skill graph: a piece of text needs k skills together and is
right only if every one of them is applied; a model whose skills fail independently at rate f
handles a k-set with probability ≈ (1 − f)^k, so k* (the largest k handled half the time) grows
as the per-skill error falls with scale.

What is *composition* and not memory: training uses sets of size k ≤ k_train only, and for
2 ≤ k ≤ k_train a fixed share (`holdout`) of the sets — chosen by a hash of the set, so it is the
same for every split seed — never appears in training. Test examples are spread evenly over
k = 1 … k_max (default k_train + 2): k = 1 on held-out inputs (a basic skill must be learned
from examples of it), 2 ≤ k ≤ k_train on held-out sets, k > k_train on sets larger than any seen.
Success by k on the test set is therefore success on combinations never trained on.

The input index enumerates (k, set, input): blocks by k, inside a block set-rank × A^S + input,
where a set's rank is its place in lexicographic order (itertools.combinations).
"""

from __future__ import annotations

import itertools

import numpy as np

from emergelab.tasks.base import Split, Task, register_task
from emergelab.tasks.stochastic import uniform_of

SYMBOLS = "abcdefghijklmnop"
SKILL_NAMES = "ABCDEFGHIJKLMNOP"


@register_task("skill_mix")
class SkillMix(Task):
    """Sets of k of S position-wise substitution skills applied together to an S-symbol input;
    train k ≤ k_train, test held-out sets up to k_max (see the module docstring)."""

    def __init__(self, skills: int = 8, symbols: int = 4, k_train: int = 3,
                 k_max: int = 0, holdout: float = 0.25, salt: int = 0):
        k_max = k_max or k_train + 2
        if not 2 <= symbols <= len(SYMBOLS):
            raise ValueError(f"symbols must be in 2..{len(SYMBOLS)}")
        if not 1 <= skills <= len(SKILL_NAMES):
            raise ValueError(f"skills must be in 1..{len(SKILL_NAMES)}")
        if not 1 <= k_train <= k_max <= skills:
            raise ValueError("need 1 ≤ k_train ≤ k_max ≤ skills")
        if skills > 12:
            raise ValueError("skills must be ≤ 12 (the input has one symbol per skill)")
        if not 0.0 < holdout < 1.0:
            raise ValueError("holdout must be in (0, 1)")
        self.skills, self.symbols, self.length = skills, symbols, skills
        self.k_train, self.k_max, self.holdout, self.salt = k_train, k_max, holdout, salt
        self.vocab = list(SYMBOLS[:symbols]) + list(SKILL_NAMES[:skills]) + ["_", "|", "="]
        rng = np.random.default_rng(salt)
        self.permutations = np.stack([_derangement(symbols, rng) for _ in range(skills)])  # (S, A)
        self.sets = [np.array(list(itertools.combinations(range(skills), k)), dtype=np.int64).reshape(-1, k)
                     for k in range(1, k_max + 1)]
        self.tuples_of_size = [len(c) for c in self.sets]
        self.inputs = symbols**self.length
        self.block_start = np.concatenate([[0], np.cumsum([t * self.inputs for t in self.tuples_of_size])])

    # --- sizes --------------------------------------------------------------------------------
    @property
    def space_size(self) -> int:
        return int(self.block_start[-1])

    @property
    def prompt_len(self) -> int:
        return self.k_max + 1 + self.length + 1

    @property
    def answer_len(self) -> int:
        return self.length

    @property
    def chance_exact_match(self) -> float:
        return float(self.symbols) ** (-self.length)

    # --- index <-> (k, tuple, input) ----------------------------------------------------------
    def k_of(self, index: np.ndarray) -> np.ndarray:
        """Tuple size k of each input index."""
        return np.searchsorted(self.block_start, np.asarray(index, dtype=np.int64), side="right").astype(np.int64)

    def decode(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(k (n,), tuple rank (n,), input id (n,)) of each input index."""
        index = np.asarray(index, dtype=np.int64)
        k = self.k_of(index)
        within = index - self.block_start[k - 1]
        return k, within // self.inputs, within % self.inputs

    def tuple_skills(self, k: np.ndarray, rank: np.ndarray) -> np.ndarray:
        """(n, k_max) skill ids of each example's set, ascending; −1 in slots past k."""
        out = np.full((len(k), self.k_max), -1, dtype=np.int64)
        for size in np.unique(k):
            rows = k == size
            out[rows, :size] = self.sets[size - 1][rank[rows]]
        return out

    def apply(self, skills: np.ndarray, inputs: np.ndarray) -> np.ndarray:
        """Rewrite the named positions of each row through their skill's substitution: (n, S)."""
        named = np.zeros(inputs.shape, dtype=bool)
        rows = np.nonzero(skills >= 0)
        named[rows[0], skills[rows]] = True
        rewritten = self.permutations[np.arange(self.skills)[None, :], inputs]
        return np.where(named, rewritten, inputs)

    def input_symbols(self, input_id: np.ndarray) -> np.ndarray:
        powers = self.symbols ** np.arange(self.length - 1, -1, -1, dtype=np.int64)
        return (np.asarray(input_id, dtype=np.int64)[:, None] // powers[None, :]) % self.symbols

    def held_out(self, k: np.ndarray, rank: np.ndarray) -> np.ndarray:
        """True for tuples kept out of training: a hashed share of each size 2 … k_train, and every
        tuple longer than k_train. Single skills are never held out (they must be learned)."""
        u = uniform_of(np.asarray(rank, dtype=np.int64) * 64 + k, self.salt + 1)
        return (k > self.k_train) | ((k >= 2) & (u < self.holdout))

    def encode(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k, rank, input_id = self.decode(index)
        skills = self.tuple_skills(k, rank)
        x = self.input_symbols(input_id)
        n = len(k)
        pad, bar, eq = self.vocab.index("_"), self.vocab.index("|"), self.vocab.index("=")
        # left-pad: the last skill always sits next to the bar
        slots = np.full((n, self.k_max), pad, dtype=np.int64)
        for row in range(n):
            kk = int(k[row])
            slots[row, self.k_max - kk:] = self.symbols + skills[row, :kk]
        prompt = np.concatenate([slots, np.full((n, 1), bar), x, np.full((n, 1), eq)], axis=1)
        return prompt, self.apply(skills, x)

    # --- split --------------------------------------------------------------------------------
    def eligible_ranks(self, k: int, held_out: bool | None) -> np.ndarray:
        """Tuple ranks of size k that are held out (True), seen in training (False), or all (None)."""
        rank = np.arange(self.tuples_of_size[k - 1], dtype=np.int64)
        return rank if held_out is None else rank[self.held_out(np.full(len(rank), k), rank) == held_out]

    def _draw(self, k: int, count: int, held_out: bool | None, exclude: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
        """`count` distinct indices of size-k tuples of the given kind, none of them in `exclude`."""
        ranks = self.eligible_ranks(k, held_out)
        pos = rng.choice(len(ranks) * self.inputs, size=min(count + len(exclude), len(ranks) * self.inputs),
                         replace=False)
        index = self.block_start[k - 1] + ranks[pos // self.inputs] * self.inputs + pos % self.inputs
        index = index[~np.isin(index, exclude)][:count]
        if len(index) < count:
            raise ValueError(f"{self.name}: only {len(index)} distinct examples with k = {k} are available, "
                             f"{count} asked; raise skills/symbols or lower the set sizes")
        return index

    def check_split(self, n_train: int, n_test: int) -> None:
        """The per-k and per-tuple limits are simplest to check by drawing the split once (a few
        thousand indices: milliseconds)."""
        self.make_split(n_train, n_test, seed=0)

    def make_split(self, n_train: int, n_test: int, seed: int) -> Split:
        """Test: n_test spread evenly over k = 1 … k_max (held-out inputs for k = 1, held-out tuples
        above). Train: n_train over k = 1 … k_train, seen tuples only, never a test input; evenly
        spread, except that a size with fewer examples than its share (k = 1 has only S · A^L) gives
        all it has and the rest go to the larger sizes."""
        rng = np.random.default_rng(seed)
        test_parts = [self._draw(k, count, None if k == 1 else True, np.array([], np.int64), rng)
                      for k, count in zip(range(1, self.k_max + 1), _even(n_test, self.k_max), strict=True)]
        test_index = np.concatenate(test_parts)
        available = [len(self.eligible_ranks(k, False)) * self.inputs - (len(test_parts[0]) if k == 1 else 0)
                     for k in range(1, self.k_train + 1)]
        train_parts = [self._draw(k, count, False, test_index if k == 1 else np.array([], np.int64), rng)
                       for k, count in zip(range(1, self.k_train + 1), _water_fill(n_train, available), strict=True)
                       if count]
        train_index = rng.permutation(np.concatenate(train_parts))
        # shuffled last (the training draw stays as it was): checkpoints score the test set's first
        # examples (evaluate/subset.py), which must not all have k = 1
        test_index = rng.permutation(test_index)
        tp, ta = self.encode(test_index)
        rp, ra = self.encode(train_index)
        return Split(rp, ra, tp, ta, train_index, test_index)

    def render(self, ids: np.ndarray) -> str:
        return " ".join(self.vocab[int(i)] for i in ids)

    def config(self) -> dict:
        return {"skills": self.skills, "symbols": self.symbols, "k_train": self.k_train,
                "k_max": self.k_max, "holdout": self.holdout, "salt": self.salt}


def _derangement(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of range(n) with no fixed point (rejection sampling, ~e tries)."""
    while True:
        p = rng.permutation(n)
        if not np.any(p == np.arange(n)):
            return p


def _water_fill(total: int, capacity: list[int]) -> list[int]:
    """`total` spread as evenly as the capacities allow (a full size's excess goes to the others)."""
    counts = [0] * len(capacity)
    open_ = [i for i, c in enumerate(capacity) if c > 0]
    left = total
    while left > 0 and open_:
        share = _even(left, len(open_))
        for i, extra in zip(list(open_), share, strict=True):
            add = min(extra, capacity[i] - counts[i])
            counts[i] += add
            left -= add
        open_ = [i for i in open_ if counts[i] < capacity[i]]
    if left > 0:
        raise ValueError(f"only {sum(capacity)} training examples are available, {total} asked")
    return counts


def _even(total: int, parts: int) -> list[int]:
    """`total` split into `parts` counts that differ by at most one."""
    return [total // parts + (i < total % parts) for i in range(parts)]
