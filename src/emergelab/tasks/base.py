"""Task protocol and registry.

A task maps an integer *input index* (0 … space_size−1) to a fixed-length prompt and a fixed-length
answer over the task's own small vocabulary. Fixed lengths make batching trivial and make every
answer position comparable across models.

Train/test disjointness is by construction: `make_split` draws distinct input indices without
replacement and hands the first `n_test` to the test set and the rest to the training set, so no
input can appear in both. When the input space is smaller than train+test, it is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from emergelab.registry import Registry

PAD = "."


@dataclass
class Split:
    """Token arrays for one task: prompts (n, P) and answers (n, L) per split, plus input indices."""

    train_prompt: np.ndarray
    train_answer: np.ndarray
    test_prompt: np.ndarray
    test_answer: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray


class Task:
    """A generator with exact ground truth. Subclasses define vocab, lengths and `encode`."""

    name: str = ""
    vocab: list[str] = []

    @property
    def space_size(self) -> int:
        raise NotImplementedError

    @property
    def prompt_len(self) -> int:
        raise NotImplementedError

    @property
    def answer_len(self) -> int:
        raise NotImplementedError

    def encode(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Prompt and answer token ids for input indices, shapes (n, prompt_len), (n, answer_len)."""
        raise NotImplementedError

    def config(self) -> dict:
        """The constructor arguments, so the task can be rebuilt from a stored run."""
        raise NotImplementedError

    # ---------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def seq_len(self) -> int:
        return self.prompt_len + self.answer_len

    @property
    def chance_exact_match(self) -> float:
        """Exact match of a model that guesses uniformly over the vocabulary at every answer token."""
        return float(self.vocab_size) ** (-self.answer_len)

    def answer_entropy(self, index: np.ndarray) -> np.ndarray:
        """H(answer | prompt) in nats per input index: the loss floor no model can beat. Zero for
        tasks with one correct answer; tasks with random answers (tasks/stochastic.py) override it."""
        return np.zeros(len(np.asarray(index)))

    def tokens(self, text: str) -> list[int]:
        lookup = {t: i for i, t in enumerate(self.vocab)}
        return [lookup[c] for c in text]

    def render(self, ids: np.ndarray) -> str:
        return "".join(self.vocab[int(i)] for i in ids)

    def check_split(self, n_train: int, n_test: int) -> None:
        """Raise ValueError when `make_split` cannot draw these sizes, so a spec is refused when it
        is loaded rather than in a training worker. Tasks that draw per group override it."""
        if n_train + n_test > self.space_size:
            raise ValueError(
                f"{self.name}: train_size + test_size = {n_train + n_test} exceeds the "
                f"{self.space_size} distinct inputs"
            )

    def make_split(self, n_train: int, n_test: int, seed: int) -> Split:
        """Seeded, disjoint train/test sets (see the module docstring for why they are disjoint)."""
        self.check_split(n_train, n_test)
        rng = np.random.default_rng(seed)
        index = rng.choice(self.space_size, size=n_train + n_test, replace=False)
        test_index, train_index = index[:n_test], index[n_test:]
        tp, ta = self.encode(test_index)
        rp, ra = self.encode(train_index)
        return Split(rp, ra, tp, ta, train_index, test_index)


TASKS: Registry[type[Task]] = Registry("task")


def register_task(name: str) -> Callable[[type[Task]], type[Task]]:
    """Class decorator: make a task constructible by name from a spec."""

    def deco(cls: type[Task]) -> type[Task]:
        cls.name = name
        TASKS.add(name, cls)
        return cls

    return deco


def make_task(name: str, **kwargs) -> Task:
    return TASKS[name](**kwargs)  # an unknown name: UnknownNameError (a KeyError) with "did you mean"


def task_from_config(task_config: dict) -> Task:
    """Rebuild a task from a stored run's `task_config` (its name plus constructor arguments; the
    split sizes and derived facts stored beside them are not passed on). KeyError if unknown."""
    import inspect

    name = task_config.get("name")
    if name not in TASKS:
        raise KeyError(f"task {name!r} is not a registered task; known: {', '.join(sorted(TASKS))}")
    accepted = set(inspect.signature(TASKS[name].__init__).parameters) - {"self"}
    return make_task(name, **{k: v for k, v in task_config.items() if k in accepted})


def digits_of(values: np.ndarray, width: int, base: int = 10) -> np.ndarray:
    """Most-significant-first digits of non-negative integers, zero-padded to `width`: (n, width)."""
    values = np.asarray(values, dtype=np.int64)
    powers = base ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % base
