"""Facilitation knobs: the things that move the point of emergence, recorded on every run.

Emergence is a threshold in scale; a *facilitating* factor is one that moves the threshold. Each
knob here names one such factor and says how to read its value off a planned run, so the value is
stored in `RunRecord.knob` and the curves of different values stay apart (`Curve.group`, e.g.
"share=0.1"). `analysis/threshold.py` then puts the threshold of each curve against its knob value.

A registry, not an if-chain: adding a knob is one decorated function. A spec turns a knob either
implicitly (a `mix:` section turns `share`, tasks that differ in answer format turn `format`, a
`family.budgets` grid turns `depth`) or explicitly with `knobs: [depth, ...]`.

  share   the task's share of the training examples in a multi-task mix (Cook's "bit budget":
          abilities compete for the same parameters, so a rarer task should need a larger model)
  format  the answer format of an arithmetic task: plain, reversed, scratchpad (the order in which
          digits are written decides whether each output token depends only on tokens already seen)
  depth   layers, at a fixed non-embedding parameter count when the family is given by budgets
  width   residual width
  aspect  width / depth, the shape of a model at a given size (Kaplan et al. 2020, Fig. 5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from emergelab.registry import Registry
from emergelab.spec import ExperimentSpec, ModelShape, TaskSpec


@dataclass(frozen=True)
class KnobContext:
    """What a knob may look at for one planned run: its task, its shape and, in a mix, its share."""

    task: TaskSpec
    shape: ModelShape
    share: float | None = None


@dataclass(frozen=True)
class Knob:
    name: str
    turned_by: Callable[[ExperimentSpec], bool]  # does the spec turn this knob without naming it?
    value: Callable[[KnobContext], object]       # the knob's value for one run (None: not applicable)
    doc: str = ""


KNOBS: Registry[Knob] = Registry("knob")


def register_knob(name: str, turned_by: Callable[[ExperimentSpec], bool] = lambda spec: False):
    """Decorator: `fn(ctx) -> value` becomes the knob `name`."""

    def deco(fn: Callable[[KnobContext], object]) -> Callable[[KnobContext], object]:
        KNOBS.add(name, Knob(name, turned_by, fn, (fn.__doc__ or "").strip()))
        return fn

    return deco


def task_format(task: TaskSpec) -> str | None:
    """The answer format a task will use (its default when the spec leaves it out)."""
    fmt = task.build().config().get("fmt")
    return None if fmt is None else str(fmt)


@register_knob("share", lambda spec: spec.mix is not None)
def _share(ctx: KnobContext) -> object:
    """Share of the task in the training mix."""
    return None if ctx.share is None else round(float(ctx.share), 6)


def _formats_differ(spec: ExperimentSpec) -> bool:
    """Two tasks of the same name in different formats (addition vs multiplication is no format study)."""
    seen: dict[str, set] = {}
    for t in spec.tasks:
        seen.setdefault(t.name, set()).add(task_format(t))
    return any(len(v - {None}) > 1 for v in seen.values())


@register_knob("format", _formats_differ)
def _format(ctx: KnobContext) -> object:
    """Answer format of the task."""
    return task_format(ctx.task)


@register_knob("depth", lambda spec: bool(spec.family.budgets))
def _depth(ctx: KnobContext) -> object:
    """Number of layers."""
    return ctx.shape.depth


@register_knob("width")
def _width(ctx: KnobContext) -> object:
    """Residual width."""
    return ctx.shape.width


@register_knob("aspect")
def _aspect(ctx: KnobContext) -> object:
    """Width per layer."""
    return round(ctx.shape.width / ctx.shape.depth, 3)


def active_knobs(spec: ExperimentSpec) -> list[str]:
    """The knobs a spec names, or else those it turns implicitly."""
    if spec.knobs is not None:
        return list(spec.knobs)
    return [name for name, knob in KNOBS.items() if knob.turned_by(spec)]


def knob_values(spec: ExperimentSpec, ctx: KnobContext) -> dict:
    """{knob: value} for one run; knobs that do not apply to it (share outside a mix) are left out."""
    out = {}
    for name in active_knobs(spec):
        value = KNOBS[name].value(ctx)
        if value is not None:
            out[name] = value
    return out


@dataclass(frozen=True)
class TrainingUnit:
    """What one model is trained on: a task alone (shares None) or a mix point (a share per task)."""

    tasks: list[TaskSpec]
    shares: list[float] | None = None

    @property
    def is_mix(self) -> bool:
        return self.shares is not None


def training_units(spec: ExperimentSpec) -> list[TrainingUnit]:
    """Each task alone, or — with `mix:` — one unit per target share, the other tasks splitting the
    rest equally. The target task is put first, so a mix run is labelled by the task it is about."""
    if spec.mix is None:
        return [TrainingUnit([t]) for t in spec.tasks]
    labels = [t.display_label() for t in spec.tasks]
    target = labels.index(spec.mix.target) if spec.mix.target else 0
    tasks = [spec.tasks[target]] + [t for i, t in enumerate(spec.tasks) if i != target]
    rest = len(tasks) - 1
    return [TrainingUnit(tasks, [s] + [(1.0 - s) / rest] * rest) for s in spec.mix.shares]
