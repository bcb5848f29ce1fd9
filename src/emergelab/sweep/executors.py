"""Executors: where run groups are trained. A registry, looked up by the spec's `executor.kind`.

Each executor yields (group, results) as groups finish, in any order; the driver alone writes the
store. `local` runs in this process, or — with `workers: N` — in N processes of one torch thread
each, largest groups first so the pool stays busy (on a 2-core machine two 1-thread processes
beat one 2-thread process for these tiny models: benchmarks/threads.py). `ray` sends each group to
a Ray cluster (`executor: {kind: ray, address: ...}`).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from emergelab.registry import Registry
from emergelab.store import RunResult
from emergelab.sweep.plan import RunGroup
from emergelab.sweep.runner import run_group

StepFn = Callable[[int], None]
Executor = Callable[[list[RunGroup], int, StepFn | None, str | None], Iterator[tuple[RunGroup, list[RunResult]]]]
EXECUTORS: Registry[Executor] = Registry("executor")


def register_executor(name: str) -> Callable[[Executor], Executor]:
    def deco(fn: Executor) -> Executor:
        EXECUTORS.add(name, fn)
        return fn

    return deco


_counter = None  # per worker process: shared step counter for the driver's progress bar


def _init_worker(counter) -> None:
    global _counter
    _counter = counter


def _count_step(step: int) -> None:
    with _counter.get_lock():
        _counter.value += 1


def _run_in_worker(group: RunGroup) -> list[RunResult]:
    return run_group(group, _count_step)


def _cost(group: RunGroup) -> float:
    s = group.shape
    return group.training.steps * len(group.seeds) * s.depth * s.width**2


@register_executor("local")
def local(groups: list[RunGroup], workers: int = 1, on_step: StepFn | None = None,
          address: str | None = None) -> Iterator[tuple[RunGroup, list[RunResult]]]:
    if workers <= 1 or len(groups) <= 1:
        for group in groups:
            yield group, run_group(group, on_step)
        return
    ctx = mp.get_context("spawn")
    counter = ctx.Value("q", 0)
    seen = 0
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(counter,)) as pool:
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
            if not done:
                time.sleep(0.05)


@register_executor("ray")
def ray_executor(groups: list[RunGroup], workers: int = 1, on_step: StepFn | None = None,
                 address: str | None = None) -> Iterator[tuple[RunGroup, list[RunResult]]]:
    try:
        import ray
    except ImportError:
        raise RuntimeError("executor 'ray' needs Ray: pip install 'emergelab[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    remote = ray.remote(num_cpus=1)(run_group)
    pending = {remote.remote(g): g for g in sorted(groups, key=_cost, reverse=True)}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        group = pending.pop(done[0])
        if on_step:
            for _ in range(group.total_steps):
                on_step(0)
        yield group, ray.get(done[0])
