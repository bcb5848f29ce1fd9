"""Which test examples a checkpoint is scored on.

Dense checkpoints over training time are what resolve a phase change, but scoring the whole test
set at each of them would cost more than the training. Intermediate checkpoints therefore score a
fixed subset: the first `subset` examples of the test split. The split draws its inputs uniformly
without replacement (tasks/base.py), so its head is itself a uniform random subset, and every
intermediate checkpoint sees the *same* examples, so their curves are comparable point to point.
The final checkpoint — the one every size-scale analysis uses — always scores the whole test set.
"""

from __future__ import annotations


def checkpoint_examples(n_test: int, subset: int | None, final: bool) -> slice:
    """The slice of the test split to score: all of it at the final checkpoint or when `subset`
    is None, else its first `subset` examples (so every task's `make_split` returns its test set in
    random order, never grouped)."""
    if final or subset is None or subset >= n_test:
        return slice(0, n_test)
    return slice(0, subset)
