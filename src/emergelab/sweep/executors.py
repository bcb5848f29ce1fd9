"""Executors: where run groups are trained. A registry, looked up by the spec's `executor.kind`.

Each executor yields (group, output) as groups finish, in any order; the driver alone writes the
store and the weight files. `local` runs in this process, or — with `workers: N` — in N processes
of one torch thread each (on a 2-core machine two 1-thread processes beat one 2-thread process for
these tiny models: benchmarks/threads.py), in the order that keeps the pool busy to the end
(`dispatch_order`). `ray`
sends each group to a Ray cluster (`executor: {kind: ray, address: ...}`).

Stopping: when the caller stops iterating (an exception, a signal turned into one, or `close()`),
an executor stops its workers before it returns — no pool process or Ray task outlives the sweep.
Workers of the local pool also die with the driver when it is killed outright (sweep/processes.py).
"""

from __future__ import annotations

import itertools
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


# A group's time ≈ steps · depth · (fixed cost per layer and step + members · batch · (w² + 80 w)):
# fitted to the demo's six groups timed alone (1 thread; width 8: 16.6 s … 48: 52.5 s, within 2 s).
# Only the ratios matter, to order the groups. At these widths the fixed part (kernel launches,
# Python) is most of the time, so w² alone made width 8 look 36× cheaper than width 48, not 3×.
_FIXED_PER_LAYER_STEP = 400_000.0


def _cost(group: RunGroup) -> float:
    s = group.shape
    per_member = group.training.batch_size * (s.width**2 + 80.0 * s.width)
    return group.training.steps * s.depth * (_FIXED_PER_LAYER_STEP + len(group.seeds) * per_member)


def makespan(costs: list[float], workers: int) -> float:
    """When the last of `costs` ends if each goes, in this order, to the first free worker: what a
    process pool does with tasks submitted in that order."""
    free = [0.0] * workers
    for c in costs:
        i = free.index(min(free))
        free[i] += c
    return max(free)


def dispatch_order(groups: list[RunGroup], workers: int, exhaustive_up_to: int = 7) -> list[RunGroup]:
    """The order to submit `groups` to a pool of `workers`: longest first, or — for a handful of
    groups, where longest-first can leave one worker idle for most of a group (the demo: 6 groups,
    2 workers) — the order whose estimated makespan is shortest, trying every order. Some order
    reaches the optimum of any assignment (list the optimal schedule's groups by start time)."""
    ordered = sorted(groups, key=_cost, reverse=True)
    if workers <= 1 or len(groups) > exhaustive_up_to:
        return ordered
    costs = [_cost(g) for g in ordered]
    best = min(itertools.permutations(range(len(ordered))),  # first minimum: the most longest-first-like
               key=lambda p: makespan([costs[i] for i in p], workers))
    return [ordered[i] for i in best]


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
        pending: dict[Future, RunGroup] = {pool.submit(_run_in_worker, g): g for g in dispatch_order(groups, workers)}
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
