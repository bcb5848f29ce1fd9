"""Which part of an experiment an analysis sees: tasks, families, shots, models and checkpoints.

One `Selection` is built from the command line (the same `--task --family --shots --model
--checkpoint` options on every command) and applied where rows and points are loaded, so every
command selects the same way. Checkpoints: size curves compare *final* models by default (an
intermediate checkpoint of a large model is not a smaller model), training-time curves (step,
tokens) use every checkpoint; `--checkpoint STEP` compares all models at one training step.
A task is named by its registry name (`addition`) or its stored label (`addition-3d`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

# Scales along which one model moves during training: their curves are per model and use every
# checkpoint unless told otherwise. (flops is a size-like scale across final models by default;
# with --checkpoint all it too gives each model's training curve.)
TIME_SCALES = ("step", "tokens")
CHECKPOINT_WORDS = ("final", "all")


class SelectionError(ValueError):
    """A selector that matches nothing or is ambiguous; the message is one line for the user."""


class Selectable(Protocol):
    """What a row or point must expose to be selected (MetricRow and PointRecord both do)."""

    task: str
    model: str
    step: int | None

    @property
    def family(self) -> str | None: ...

    @property
    def shots(self) -> int | None: ...


R = TypeVar("R", bound=Selectable)


@dataclass(frozen=True)
class Selection:
    """Empty tuples select everything; `checkpoint` is "final", "all", a step, or None (by scale)."""

    tasks: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    shots: tuple[int, ...] = ()
    models: tuple[str, ...] = ()
    checkpoint: str | int | None = None

    @classmethod
    def parse(cls, tasks: Sequence[str] | str | None = None, families: Sequence[str] | str | None = None,
              shots: Sequence[int | str] | int | str | None = None, models: Sequence[str] | str | None = None,
              checkpoint: str | int | None = None) -> Selection:
        """From command-line values (a single value or a list; `checkpoint` "final", "all" or a step)."""
        def many(v) -> tuple:
            return () if v is None else (v,) if isinstance(v, str | int) else tuple(v)

        try:
            shot_counts = tuple(int(s) for s in many(shots))
        except ValueError:
            raise SelectionError(f"--shots takes whole numbers, got {', '.join(map(str, many(shots)))}") from None
        return cls(tuple(many(tasks)), tuple(many(families)), shot_counts, tuple(many(models)),
                   _checkpoint(checkpoint))

    def checkpoint_for(self, scale: str) -> str | int:
        """The checkpoint rule in force at `scale`: the explicit one, else all for time scales, final otherwise."""
        if self.checkpoint is not None:
            return self.checkpoint
        return "all" if scale in TIME_SCALES else "final"

    def per_model(self, scale: str) -> bool:
        """Curves of one model each (training curves) rather than one curve across models."""
        return self.checkpoint_for(scale) == "all" and scale in (*TIME_SCALES, "flops")

    # --- tasks --------------------------------------------------------------------------------
    def task_labels(self, catalog: dict[str, str]) -> set[str] | None:
        """The stored labels the `tasks` selector means, given label -> task name; None = all.

        An exact label wins; otherwise a name selects its one label, and a name shared by several
        labels is ambiguous (the message lists them)."""
        if not self.tasks:
            return None
        chosen: set[str] = set()
        for wanted in self.tasks:
            if wanted in catalog:
                chosen.add(wanted)
                continue
            labels = sorted(label for label, name in catalog.items() if name == wanted)
            if len(labels) == 1:
                chosen.add(labels[0])
            elif labels:
                raise SelectionError(f"task {wanted!r} is ambiguous: it could be {', '.join(labels)}; "
                                     "pass one of these labels")
            else:
                raise SelectionError(f"no task {wanted!r} in this experiment; tasks: {_some(sorted(catalog))}")
        return chosen

    # --- rows and points ----------------------------------------------------------------------
    def apply(self, records: Iterable[R], catalog: dict[str, str], scale: str) -> list[R]:
        """The records this selection keeps at `scale` (checkpoint rule included)."""
        records = list(records)
        labels = self.task_labels(catalog)
        for name, have, wanted in (("family", {r.family for r in records}, self.families),
                                   ("shots", {r.shots for r in records}, self.shots),
                                   ("model", {r.model for r in records}, self.models)):
            missing = [w for w in wanted if w not in have]
            if missing:
                known = sorted(str(h) for h in have if h is not None)
                raise SelectionError(f"no {name} {', '.join(map(str, missing))} in this experiment; "
                                     f"{name}: {_some(known) if known else 'none recorded'}")
        kept = [r for r in records
                if (labels is None or r.task in labels)
                and (not self.families or r.family in self.families)
                and (not self.shots or r.shots in self.shots)
                and (not self.models or r.model in self.models)]
        return apply_checkpoints(kept, self.checkpoint_for(scale))


def catalog_of(pairs: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """label -> task name from (label, name) pairs; a label without a name names itself."""
    return {label: name or label for label, name in pairs}


def _checkpoint(value: str | int | None) -> str | int | None:
    if value is None or isinstance(value, int):
        return value
    text = value.strip().lower()
    if text in CHECKPOINT_WORDS:
        return text
    try:
        step = int(text)
    except ValueError:
        raise SelectionError(f"--checkpoint takes final, all or a step number, got {value!r}") from None
    if step < 0:
        raise SelectionError(f"--checkpoint step must be ≥ 0, got {step}")
    return step


def _series_key(r: Selectable) -> tuple:
    """One model's evaluations of one task under one setting (seed, knob, shots): its checkpoints."""
    return (r.task, r.model, r.shots, getattr(r, "seed", None), getattr(r, "group", ""),
            getattr(r, "metric", None))


def apply_checkpoints(records: list[R], rule: str | int) -> list[R]:
    """Records at the checkpoints `rule` names: "all", "final" (each series' latest; no step =
    final model) or one step (models without it are left out with a warning)."""
    if rule == "all" or not records:
        return records
    if rule == "final":
        # A record without a step is a final model; otherwise the latest step of its series.
        last: dict[tuple, float] = {}
        for r in records:
            key = _series_key(r)
            last[key] = max(last.get(key, -1.0), float("inf") if r.step is None else r.step)
        return [r for r in records if (float("inf") if r.step is None else r.step) == last[_series_key(r)]]
    kept = [r for r in records if r.step == rule]
    if not kept:
        steps = sorted({r.step for r in records if r.step is not None})
        raise SelectionError(f"no checkpoint at step {rule}; steps: {_some(steps) if steps else 'none recorded'}")
    lacking = sorted({r.model for r in records} - {r.model for r in kept})
    if lacking:
        warnings.warn(f"--checkpoint {rule}: left out {len(lacking)} model(s) without that step: "
                      f"{_some(lacking)}", stacklevel=3)
    return kept


def _some(values: Sequence, most: int = 8) -> str:
    shown = ", ".join(str(v) for v in values[:most])
    return shown + (f", ... ({len(values)} in all)" if len(values) > most else "")
