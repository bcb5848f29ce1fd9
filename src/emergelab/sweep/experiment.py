"""Run an experiment spec into its folder, resuming where a previous attempt stopped.

The driver holds the folder's sweep lock for the whole sweep (a second sweep is refused) but opens
the database only to plan and to write each finished group, so other processes can read the
folder meanwhile (store/lock.py). Each group's runs are written in one transaction, after its
weight files; then its mid-run snapshot is dropped. Killed at any moment, the folder holds whole
runs only, and rerunning the same command trains what is missing — from its last snapshot.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import yaml

from emergelab.spec import ExperimentSpec, SpecError
from emergelab.store import DB_NAME, Store
from emergelab.store.lock import SweepLock
from emergelab.sweep.executors import EXECUTORS
from emergelab.sweep.plan import RunGroup, SnapshotSettings, plan
from emergelab.sweep.processes import Interrupted, stop_on_signals
from emergelab.sweep.runner import GroupOutput
from emergelab.sweep.storage import SharedStorage, snapshot_name
from emergelab.sweep.timing import SWEEP_TIMES

WRITE_WAIT_SECONDS = 600.0  # how long a finished group waits for readers to let go of the database
SNAPSHOT_DIR = "snapshots"


@dataclass
class RunSummary:
    out: Path
    planned: int
    skipped: int
    trained: int


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by a signal (or Ctrl-C); everything stored so far is kept."""

    def __init__(self, stored: int, planned: int, signum: int | None):
        self.stored, self.planned, self.signum = stored, planned, signum
        super().__init__(f"interrupted: {stored} of {planned} runs stored; rerun the same command to resume")


def snapshot_settings(spec: ExperimentSpec, folder: Path) -> SnapshotSettings:
    ex = spec.executor
    storage = ex.storage or str((folder / SNAPSHOT_DIR).resolve())
    minutes = ex.snapshot_every_minutes
    return SnapshotSettings(storage, ex.snapshot_every_steps, None if minutes is None else 60.0 * minutes)


def pending_groups(groups: list[RunGroup], store: Store, force: bool) -> tuple[list[RunGroup], set[str], int]:
    """The groups still to train, every planned run id, and how many of them are already done."""
    planned = {rid for g in groups for rid in g.run_ids}
    done = store.done_run_ids()
    foreign = {r for r in done if not r.startswith("import:")} - planned
    if foreign and not force:
        raise SpecError(
            f"spec error: {store.folder} holds {len(foreign)} finished run(s) of a different spec; "
            "choose another --out or pass --force to remove them"
        )
    for rid in foreign:
        with store.transaction() as con:
            store._delete_run(con, rid)
    todo = [g2 for g in groups if (g2 := g.subset(planned - done))]
    return todo, planned, len(planned & done)


def _write_weights(folder: Path, weights: dict[str, bytes]) -> None:
    """Each file to a temporary name, then renamed: a weights file on disk is always whole."""
    for rel, data in weights.items():
        path = folder / "weights" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)


def _store_group(folder: Path, output: GroupOutput) -> None:
    """A finished group's weight files, then its runs in one transaction."""
    _write_weights(folder, output.weights)
    with Store(folder, wait=WRITE_WAIT_SECONDS) as store, store.transaction():
        for result in output.results:
            store.write_run(result)


def _stored(folder: Path, planned: set[str]) -> int:
    if not (folder / DB_NAME).exists():
        return 0
    with Store(folder, read_only=True) as store:
        return len(store.done_run_ids() & planned)


def run_experiment(
    spec: ExperimentSpec,
    out: str | Path | None = None,
    force: bool = False,
    on_start: Callable[[int, int], None] | None = None,
    on_step: Callable[[int], None] | None = None,
    on_group_done: Callable[[RunGroup], None] | None = None,
) -> RunSummary:
    """Train every planned run not yet finished; each finished group is stored atomically.

    `on_start(total_steps, n_groups)` and `on_step(step)` feed a progress display;
    `on_group_done(group)` runs after a group is stored, with the database closed (so it may read
    the folder, e.g. to rewrite the report). SIGINT/SIGTERM end the sweep with `SweepInterrupted`.
    """
    if spec.executor.kind not in EXECUTORS:
        raise SpecError(f"spec error: executor.kind: unknown executor {spec.executor.kind!r}; known: {', '.join(EXECUTORS)}")
    folder = spec.out_dir(out)
    settings = snapshot_settings(spec, folder)
    groups = SWEEP_TIMES.wrap("planning", plan)(spec, settings)  # before the folder exists: a spec that cannot be planned leaves nothing
    snapshots = SharedStorage(settings.storage)
    planned = {rid for g in groups for rid in g.run_ids}
    with SweepLock(folder):
        try:
            with stop_on_signals():
                with Store(folder) as store:
                    todo, planned, skipped = pending_groups(groups, store, force)
                    store.set_fact("name", spec.name)
                    store.set_fact("spec_yaml", yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False))
                    store.set_fact("spec_digest", spec.digest())
                if on_start:
                    on_start(sum(g.total_steps for g in todo), len(todo))
                trained = 0
                execute = EXECUTORS[spec.executor.kind]
                submitted, starts = time.time(), []  # when the executor was asked; when groups began
                with closing(execute(todo, spec.executor.workers, on_step, spec.executor.address)) as finished:
                    for group, output in finished:
                        SWEEP_TIMES.merge(output.times)
                        starts += [output.times.started_at] if output.times.started_at else []
                        SWEEP_TIMES.wrap("store writes", _store_group)(folder, output)
                        trained += len(output.results)
                        snapshots.remove(snapshot_name(group.run_ids))
                        if on_group_done:
                            on_group_done(group)
                if starts:
                    SWEEP_TIMES.add("worker start-up", max(0.0, min(starts) - submitted))
        except KeyboardInterrupt as e:
            signum = e.signum if isinstance(e, Interrupted) else None
            raise SweepInterrupted(_stored(folder, planned), len(planned), signum) from None
        if not spec.executor.storage:  # leftovers of kills between a group's commit and its snapshot's removal
            shutil.rmtree(folder / SNAPSHOT_DIR, ignore_errors=True)
    return RunSummary(folder, len(planned), skipped, trained)
