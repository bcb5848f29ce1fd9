"""Progress measures recorded at every checkpoint beside the test outputs (a registry).

A probe sees the ensemble model and the task's split and returns one number per member (an array
of shape (K,)) or a dict of such arrays. Values land in `checkpoints.extra` as JSON, so the report
and analyses can plot them against training step — e.g. weight norm or train accuracy, which move
*before* test accuracy jumps in grokking.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from emergelab.models import EnsembleGPT
from emergelab.registry import Registry
from emergelab.tasks import Split, Task

ProbeFn = Callable[[EnsembleGPT, Task, Split], "np.ndarray | dict[str, np.ndarray]"]
PROBES: Registry[ProbeFn] = Registry("probe")


def register_probe(name: str) -> Callable[[ProbeFn], ProbeFn]:
    def deco(fn: ProbeFn) -> ProbeFn:
        PROBES.add(name, fn)
        return fn

    return deco


def run_probes(names: list[str], model: EnsembleGPT, task: Task, split: Split) -> list[dict[str, float]]:
    """All requested probes, regrouped per member: [{name: value, ...} for each member]."""
    per_member: list[dict[str, float]] = [{} for _ in range(model.ensemble_size)]
    for name in names:
        value = PROBES[name](model, task, split)
        items = value.items() if isinstance(value, dict) else [(name, value)]
        for key, arr in items:
            for m, v in enumerate(np.asarray(arr, dtype=float)):
                per_member[m][key] = float(v)
    return per_member


@register_probe("weight_norm")
@torch.no_grad()
def weight_norm(model: EnsembleGPT, task: Task, split: Split) -> np.ndarray:
    """L2 norm of all weights of each member (weight decay shrinks it as a model generalises)."""
    sq = sum(p.detach().double().pow(2).flatten(1).sum(1) for p in model.parameters())
    return sq.sqrt().cpu().numpy()
from emergelab.evaluate import progress as _progress  # noqa: E402,F401  (registers the progress probes)
