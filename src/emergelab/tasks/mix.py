"""One vocabulary and one prompt layout for a model that learns several tasks at once (a mix).

Tasks bring their own tiny vocabularies, and ids collide across them ('+' of addition and '*' of
multiplication are both id 10). A mix therefore re-encodes every task into a *union* vocabulary:

    [PAD, <tag of task 0>, <tag of task 1>, ..., tokens of task 0, new tokens of task 1, ...]

Tokens are matched by their text, so digits keep one id across tasks (a digit learned in one task
is the same embedding in another: the tasks really share parameters). Each prompt starts with its
task's tag token, so two tasks whose prompts look alike stay distinguishable. Prompts are
left-padded with PAD to the longest prompt (plus the tag); answers are right-padded with PAD.

The training side (sweep/mix.py) and the analyses that re-run a trained mix model on each task's
prompts (analysis/shared_circuits.py) both encode through this one class, so they cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emergelab.tasks.base import PAD, Task


def union_vocab(tasks: list[Task]) -> list[str]:
    """PAD, one tag per task, then every task's tokens in order of first appearance."""
    vocab = [PAD] + [f"<{i}>" for i in range(len(tasks))]
    for task in tasks:
        vocab += [t for t in task.vocab if t not in vocab]
    return vocab


@dataclass(frozen=True)
class MixEncoding:
    """The union vocabulary of `tasks` and the common prompt / answer lengths."""

    tasks: tuple[Task, ...]
    vocab: tuple[str, ...]
    prompt_len: int  # 1 (the tag) + the longest prompt
    answer_len: int  # the longest answer

    @classmethod
    def of(cls, tasks: list[Task]) -> MixEncoding:
        if not tasks:
            raise ValueError("a mix needs at least one task")
        return cls(tuple(tasks), tuple(union_vocab(tasks)), 1 + max(t.prompt_len for t in tasks),
                   max(t.answer_len for t in tasks))

    @property
    def pad(self) -> int:
        return self.vocab.index(PAD)

    def _remap(self, i: int) -> np.ndarray:
        lookup = {t: j for j, t in enumerate(self.vocab)}
        return np.array([lookup[t] for t in self.tasks[i].vocab])

    def prompts(self, i: int, ids: np.ndarray) -> np.ndarray:
        """Task i's prompt token ids (n, P_i), own vocabulary -> (n, prompt_len) union ids."""
        out = np.full((len(ids), self.prompt_len), self.pad, dtype=np.int64)
        out[:, -ids.shape[1] - 1] = self.vocab.index(f"<{i}>")
        out[:, -ids.shape[1]:] = self._remap(i)[ids]
        return out

    def answers(self, i: int, ids: np.ndarray, length: int | None = None) -> np.ndarray:
        """Task i's answer ids (n, L_i) -> union ids right-padded to `length` (default L_i)."""
        out = np.full((len(ids), ids.shape[1] if length is None else length), self.pad, dtype=np.int64)
        out[:, : ids.shape[1]] = self._remap(i)[ids]
        return out
