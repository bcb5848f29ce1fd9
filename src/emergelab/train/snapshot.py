"""Mid-run snapshots: everything needed to continue a training run exactly where it stopped.

A run killed at step 14,000 of 15,000 should not start again from step 0. A snapshot holds the
weights, the optimizer's moments and step counters, every member's data-order generator, torch's
RNG and the last losses, so training on from it gives the same weights, bit for bit, as never
stopping (on CPU; tests/test_resume.py checks it). It is written as one safetensors file: tensors
as tensors, everything else as JSON in the file's metadata — nothing is pickled, so loading a
snapshot cannot run code.

The caller may put its own tensors and JSON beside the trainer's (the runner keeps the test
outputs already scored at earlier checkpoints there), under the `extra` names.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from emergelab.train.adamw import FusedAdamW

_MODEL, _OPT, _EXTRA = "model.", "opt.", "extra."


@dataclass
class TrainState:
    """The trainer's state after `step` optimizer steps."""

    step: int
    model: dict[str, torch.Tensor]
    optimizer: dict[int, dict[str, torch.Tensor]]  # parameter index -> AdamW state (step, moments)
    data_rngs: list[dict]                          # numpy bit-generator state of each member's data order
    torch_rng: torch.Tensor
    recent_losses: list[float]

    @classmethod
    def capture(cls, step: int, model: torch.nn.Module, opt: FusedAdamW | torch.optim.Optimizer,
                rngs: list[np.random.Generator], recent: np.ndarray) -> TrainState:
        return cls(
            step=step,
            model={k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
            optimizer={i: {k: v.detach().cpu().clone() for k, v in s.items()}
                       for i, s in opt.state_dict()["state"].items()},
            data_rngs=[r.bit_generator.state for r in rngs],
            torch_rng=torch.get_rng_state(),
            recent_losses=[float(x) for x in recent],
        )

    def restore(self, model: torch.nn.Module, opt: FusedAdamW | torch.optim.Optimizer, rngs: list[np.random.Generator]) -> np.ndarray:
        """Put this state into a freshly built model, optimizer and generators; returns the recent losses."""
        if len(rngs) != len(self.data_rngs):
            raise ValueError(f"snapshot has {len(self.data_rngs)} members, the model {len(rngs)}")
        model.load_state_dict(self.model)
        sd = opt.state_dict()
        sd["state"] = {i: dict(s) for i, s in self.optimizer.items()}
        opt.load_state_dict(sd)
        for r, state in zip(rngs, self.data_rngs, strict=True):
            r.bit_generator.state = state
        torch.set_rng_state(self.torch_rng)
        return np.array(self.recent_losses, dtype=float)


@dataclass
class SnapshotPolicy:
    """When to hand the trainer's state to `save`: every `every_steps` steps and/or every
    `every_seconds` of wall time, whichever comes first. Checking costs one comparison a step."""

    save: Callable[[TrainState], None]
    every_steps: int | None = None
    every_seconds: float | None = None
    _next_time: float = field(default=float("inf"), init=False)

    def start(self) -> None:
        if self.every_seconds:
            self._next_time = time.monotonic() + self.every_seconds

    def due(self, step: int) -> bool:
        if self.every_steps and step % self.every_steps == 0:
            return True
        return time.monotonic() >= self._next_time if self.every_seconds else False

    def saved(self) -> None:
        self.start()


def snapshot_bytes(state: TrainState, extra_tensors: dict[str, torch.Tensor] | None = None,
                   extra_meta: dict | None = None) -> bytes:
    """One safetensors file: the state's tensors (plus the caller's) and JSON metadata."""
    tensors = {_MODEL + k: v.contiguous() for k, v in state.model.items()}
    for i, s in state.optimizer.items():
        tensors.update({f"{_OPT}{i}.{k}": v.contiguous() for k, v in s.items()})
    tensors["torch_rng"] = state.torch_rng
    tensors.update({_EXTRA + k: v.contiguous() for k, v in (extra_tensors or {}).items()})
    meta = {"step": state.step, "data_rngs": state.data_rngs, "recent_losses": state.recent_losses,
            "extra": extra_meta or {}}
    return save_tensors(tensors, metadata={"snapshot": json.dumps(meta)})


def _metadata(data: bytes) -> dict:
    """The JSON metadata of a safetensors byte string (its header: 8-byte length, then JSON)."""
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    return json.loads(header["__metadata__"]["snapshot"])


def load_snapshot(data: bytes) -> tuple[TrainState, dict[str, torch.Tensor], dict]:
    """(state, the caller's extra tensors, the caller's extra JSON) from `snapshot_bytes` output."""
    meta = _metadata(data)
    tensors = load_tensors(data)
    model = {k[len(_MODEL):]: v for k, v in tensors.items() if k.startswith(_MODEL)}
    optimizer: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in tensors.items():
        if k.startswith(_OPT):
            index, name = k[len(_OPT):].split(".", 1)
            optimizer.setdefault(int(index), {})[name] = v
    extra = {k[len(_EXTRA):]: v for k, v in tensors.items() if k.startswith(_EXTRA)}
    state = TrainState(meta["step"], model, optimizer, meta["data_rngs"], tensors["torch_rng"], meta["recent_losses"])
    return state, extra, meta["extra"]
