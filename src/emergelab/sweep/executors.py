"""Executors: where run groups are trained. A registry, looked up by the spec's `executor.kind`.

Each executor yields (group, output) as groups finish, in any order; the driver alone writes the
store and the weight files. `local` runs in this process, or — with `workers: N` — in N processes
of one torch thread each, largest groups first so the pool stays busy (on a 2-core machine two
1-thread processes beat one 2-thread process for these tiny models: benchmarks/threads.py). `ray`
sends each group to a Ray cluster (`executor: {kind: ray, address: ...}`).

Stopping: when the caller stops iterating (an exception, a signal turned into one, or `close()`),
an executor stops its workers before it returns — no pool process or Ray task outlives the sweep.
Workers of the local pool also die with the driver when it is killed outright (sweep/processes.py).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from emergelab import forkserver
from emergelab.registry import Registry
from emergelab.spec import SpecError
from emergelab.sweep.plan import RunGroup
from emergelab.sweep.processes import die_with_parent
from emergelab.sweep.runner import GroupOutput, run_group

StepFn = Callable[[int], None]
Executor = Callable[[list[RunGroup], int, StepFn | None, str | None], Iterator[tuple[RunGroup, GroupOutput]]]
EXECUTORS: Registry[Executor] = Registry("executor")
RAY_TASK_RETRIES = 3  # a group whose worker dies is run again (from its snapshot) up to this often


def register_executor(name: str) -> Callable[[Executor], Executor]:
    def deco(fn: Executor) -> Executor:
        EXECUTORS.add(name, fn)
        return fn

    return deco


_counter = None  # per worker process: shared step counter for the driver's progress bar


def _init_worker(counter, driver_pid: int) -> None:
    global _counter
    _counter = counter
    die_with_parent(driver_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the driver decides


def _count_step(step: int) -> None:
    with _counter.get_lock():
        _counter.value += 1


def _run_in_worker(group: RunGroup) -> GroupOutput:
    return run_group(group, _count_step)


def _cost(group: RunGroup) -> float:
    s = group.shape
    return group.training.steps * len(group.seeds) * s.depth * s.width**2


@register_executor("local")
def local(groups: list[RunGroup], workers: int = 1, on_step: StepFn | None = None,
          address: str | None = None) -> Iterator[tuple[RunGroup, GroupOutput]]:
    if workers <= 1 or len(groups) <= 1:
        for group in groups:
            yield group, run_group(group, on_step)
        return
    ctx = forkserver.context()  # workers forked from one server with torch imported (emergelab/forkserver.py)
    counter = ctx.Value("q", 0)
    before = set(mp.active_children())
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(counter, os.getpid()))
    seen, finished = 0, False
    try:
        pending: dict[Future, RunGroup] = {pool.submit(_run_in_worker, g): g for g in sorted(groups, key=_cost, reverse=True)}
        while pending:
            done, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            if on_step and counter.value > seen:
                now = counter.value
                for _ in range(now - seen):
                    on_step(0)
                seen = now
            for fut in done:
                yield pending.pop(fut), fut.result()
        finished = True
    finally:
        if not finished:  # stopped early: end the workers now instead of waiting for their groups
            for proc in set(mp.active_children()) - before:
                proc.kill()
        pool.shutdown(wait=True, cancel_futures=True)


@register_executor("ray")
def ray_executor(groups: list[RunGroup], workers: int = 1, on_step: StepFn | None = None,
                 address: str | None = None) -> Iterator[tuple[RunGroup, GroupOutput]]:
    """One Ray task per group, `threads` CPUs each and one GPU when the cluster has GPUs and the
    spec does not ask for the CPU. A task whose worker dies is retried by Ray and resumes from the
    group's snapshot; weights come back to the driver with the results."""
    try:
        import ray
    except ImportError:
        raise SpecError("spec error: executor.kind: 'ray' needs Ray installed: pip install 'emergelab[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, log_to_driver=False, include_dashboard=False)
    gpus = ray.cluster_resources().get("GPU", 0)
    remote = ray.remote(max_retries=RAY_TASK_RETRIES)(run_group)
    pending = {}
    for g in sorted(groups, key=_cost, reverse=True):
        resources = {"num_cpus": g.threads, "num_gpus": 1 if gpus and g.device != "cpu" else 0}
        pending[remote.options(**resources).remote(g)] = g
    finished = False
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            group = pending.pop(done[0])
            output = ray.get(done[0])
            if on_step:
                for _ in range(group.total_steps):
                    on_step(0)
            yield group, output
        finished = True
    finally:
        if not finished:
            for ref in pending:
                ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()
