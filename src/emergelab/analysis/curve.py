"""The record every analysis works on: one metric of one task as a function of one scale.

A curve carries its evidence with it: per point, either the per-example scores of every seed (so
intervals come from a bootstrap over examples and seeds) or, for results imported from elsewhere,
a standard error and an example count. Analyses never go back to the store or to a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SCALES = ("non_embedding_params", "params", "flops", "tokens", "step", "loss")


@dataclass
class Curve:
    """Metric `metric` of task `task` against scale `scale`, one point per distinct scale value.

    x, y, lo, hi, n are 1-D arrays of equal length sorted by x. `samples[i]` (optional) is a
    2-D array (seeds, examples) of per-example scores at x[i]; NaN marks a missing entry.
    `stderr[i]` (optional) is used when samples are absent. `chance` is the metric's floor for
    a guessing model (None when unknown); `higher_is_better` orients verdicts.
    """

    task: str
    metric: str
    scale: str
    x: np.ndarray
    y: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    n: np.ndarray
    higher_is_better: bool = True
    chance: float | None = None
    discrete: bool = False
    samples: list[np.ndarray] | None = None
    stderr: np.ndarray | None = None
    labels: list[str] = field(default_factory=list)  # model name per point, for tables
    group: str = ""  # facilitation knob setting shared by the curve's runs, e.g. "depth=2"
    answer_len: int | None = None  # answer tokens L, for per-token links (p^L)
    model: str = ""  # set on a per-model training curve (x = step, tokens or flops of its checkpoints)
    family: str = ""  # model family shared by all the curve's points ("" = mixed or not recorded)
    families: list[str] = field(default_factory=list)  # family per point (imports), like labels
    shots: int | None = None  # in-context examples of the evaluation (None = not recorded)

    @property
    def series(self) -> str:
        """What tells this curve apart from others of the same task and metric, for labels:
        "depth=2", "pythia, 5-shot", "pythia-70m" ("" when nothing does)."""
        parts = [self.group, self.family, "" if self.shots is None else f"{self.shots}-shot", self.model]
        return ", ".join(p for p in parts if p)

    def __post_init__(self) -> None:
        for name in ("x", "y", "lo", "hi", "n"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=float))
        if self.stderr is not None:
            self.stderr = np.asarray(self.stderr, dtype=float)
        order = np.argsort(self.x, kind="stable")
        if np.any(order != np.arange(len(order))):
            for name in ("x", "y", "lo", "hi", "n"):
                setattr(self, name, getattr(self, name)[order])
            if self.stderr is not None:
                self.stderr = self.stderr[order]
            if self.samples is not None:
                self.samples = [self.samples[i] for i in order]
            if self.labels:
                self.labels = [self.labels[i] for i in order]
            if self.families:
                self.families = [self.families[i] for i in order]

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, mask: np.ndarray) -> Curve:
        """The curve restricted to the points where `mask` is true (e.g. the smaller models)."""
        idx = np.flatnonzero(mask)
        return Curve(
            task=self.task, metric=self.metric, scale=self.scale,
            x=self.x[idx], y=self.y[idx], lo=self.lo[idx], hi=self.hi[idx], n=self.n[idx],
            higher_is_better=self.higher_is_better, chance=self.chance, discrete=self.discrete,
            samples=None if self.samples is None else [self.samples[i] for i in idx],
            stderr=None if self.stderr is None else self.stderr[idx],
            labels=[self.labels[i] for i in idx] if self.labels else [],
            group=self.group, answer_len=self.answer_len, model=self.model, family=self.family, shots=self.shots,
            families=[self.families[i] for i in idx] if self.families else [],
        )
