"""Planning a family grid: tasks × shapes × seeds → runs, grouped into ensembles.

Runs that share a task, a shape and a training recipe differ only in seed, so they are trained
together as one ensemble (one batched pass). A run's id is a hash of everything that determines
its numbers, so re-running a spec finds finished runs and skips them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace

from emergelab.spec import ExperimentSpec, ModelShape, SamplingSpec, TaskSpec, TrainingSpec
from emergelab.sweep.knobs import KnobContext, knob_values, training_units


@dataclass(frozen=True)
class SnapshotSettings:
    """Where and how often a worker snapshots a group mid-run (spec: executor.snapshot_every_*)."""

    storage: str                       # path or fsspec URL the retrying worker can read
    every_steps: int | None = None
    every_seconds: float | None = None


@dataclass
class RunGroup:
    """Runs trained together: same task, shape and recipe; one member per seed."""

    task: TaskSpec
    shape: ModelShape
    training: TrainingSpec
    seeds: list[int]
    run_ids: list[str]
    data_seed: int
    threads: int = 1
    device: str = "auto"
    save_weights: bool = False  # return each member's final weights to the driver (safetensors bytes)
    probes: list[str] = field(default_factory=list)
    knob: dict = field(default_factory=dict)  # facilitation knob values shared by the group's runs
    # a mix (sweep/knobs.py): one model per seed trained on all these tasks, one run per task; then
    # run_ids are seed-major over the tasks (seed 0: task 0, task 1, ...) and knob is per task
    mix: list[TaskSpec] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)
    mix_knobs: list[dict] = field(default_factory=list)
    snapshots: SnapshotSettings | None = None
    sampling: SamplingSpec | None = None  # evaluation by sampling at the final checkpoint

    @property
    def total_steps(self) -> int:
        return self.training.steps

    def ids_per_seed(self) -> list[list[str]]:
        """Run ids of each seed's model: one, or one per task of a mix."""
        per = max(1, len(self.mix))
        return [self.run_ids[i * per:(i + 1) * per] for i in range(len(self.seeds))]

    def subset(self, keep: set[str]) -> RunGroup | None:
        """The seeds with a run still to do (a mix model is retrained whole if any task is missing)."""
        pairs = [(s, ids) for s, ids in zip(self.seeds, self.ids_per_seed(), strict=True) if set(ids) & keep]
        if not pairs:
            return None
        return replace(self, seeds=[s for s, _ in pairs], run_ids=[r for _, ids in pairs for r in ids])


def run_id(task: TaskSpec, shape: ModelShape, training: TrainingSpec, seed: int, data_seed: int,
           mix: dict | None = None, sampling: SamplingSpec | None = None) -> str:
    """`mix` (the mix's tasks and shares) and `sampling` enter the hash only when given, so ids of
    other runs do not change (and adding sampling to a spec redoes its runs, with counts)."""
    fields = {"task": task.model_dump(mode="json"), "shape": shape.model_dump(mode="json"),
              "training": training.model_dump(mode="json"), "seed": seed, "data_seed": data_seed}
    if mix:
        fields["mix"] = mix
    if sampling is not None:
        fields["sampling"] = sampling.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:10]
    return f"{task.display_label()}/{shape.width}x{shape.depth}/s{seed}/{digest}"


def plan(spec: ExperimentSpec, snapshots: SnapshotSettings | None = None) -> list[RunGroup]:
    """All run groups of a spec, smallest models first (so early results arrive early)."""
    groups = []
    for unit in training_units(spec):
        task = unit.tasks[0]
        for shape in spec.family.shapes():
            if not unit.is_mix:
                ids = [run_id(task, shape, spec.training, s, spec.data_seed, sampling=spec.sampling) for s in spec.seeds]
                knob, mix, shares, mix_knobs = knob_values(spec, KnobContext(task, shape)), [], [], []
            else:
                key = {"tasks": [t.model_dump(mode="json") for t in unit.tasks], "shares": unit.shares}
                ids = [run_id(t, shape, spec.training, s, spec.data_seed, key) for s in spec.seeds for t in unit.tasks]
                mix, shares = list(unit.tasks), list(unit.shares)
                mix_knobs = [knob_values(spec, KnobContext(t, shape, sh)) for t, sh in zip(mix, shares, strict=True)]
                knob = mix_knobs[0]
            groups.append(RunGroup(task, shape, spec.training, list(spec.seeds), ids, spec.data_seed,
                                   spec.executor.threads, spec.executor.device, spec.executor.save_weights,
                                   list(spec.probes), knob, mix, shares, mix_knobs, snapshots, spec.sampling))
    return sorted(groups, key=lambda g: (g.shape.depth * g.shape.width**2, g.task.display_label()))
