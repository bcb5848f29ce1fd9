"""Train and score one run group: a pure function from a plan to results (no database).

Keeping this free of I/O is what lets any executor — this process, a pool, a Ray cluster — run
it; the driver alone writes the store and the weight files, which come back with the results (so a
cluster needs no shared disk for them). The one file a worker writes is its group's mid-run
snapshot, on storage every node reaches (sweep/storage.py), so that a retried group resumes there.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save, save_file

from emergelab.evaluate import checkpoint_examples, score_native
from emergelab.evaluate.probes import run_probes
from emergelab.evaluate.sampling import SamplingPlan, sample_counts
from emergelab.models import EnsembleGPT, ModelConfig
from emergelab.models.hf_export import weights_dir_name
from emergelab.store import CheckpointRecord, RunRecord, RunResult, TokenOutputs
from emergelab.sweep.plan import RunGroup
from emergelab.sweep.storage import SharedStorage, snapshot_name
from emergelab.sweep.timing import PhaseTimes
from emergelab.train import SnapshotPolicy, TrainData, TrainState, load_snapshot, snapshot_bytes, train


@dataclass
class GroupOutput:
    """A finished group: its runs, and each member's final weights (safetensors bytes) keyed by
    their path under the experiment's weights/ folder."""

    results: list[RunResult]
    weights: dict[str, bytes] = field(default_factory=dict)
    times: PhaseTimes = field(default_factory=PhaseTimes)  # where the worker's time went


@dataclass
class Scored:
    """What a group's checkpoints have produced so far, per slot (a member, or member × task in a
    mix). It travels inside mid-run snapshots: outputs scored at step 500 cannot be recomputed
    after resuming from step 900."""

    checkpoints: dict[int, list[CheckpointRecord]] = field(default_factory=dict)
    outputs: dict[int, dict[int, TokenOutputs]] = field(default_factory=dict)

    def add(self, slot: int, record: CheckpointRecord, out: TokenOutputs) -> None:
        self.checkpoints.setdefault(slot, []).append(record)
        self.outputs.setdefault(slot, {})[record.step] = out

    def to_snapshot(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors = {f"{slot}.{step}.{f.name}": torch.from_numpy(np.array(getattr(out, f.name)))
                   for slot, by_step in self.outputs.items() for step, out in by_step.items()
                   for f in fields(TokenOutputs)}
        return tensors, {"checkpoints": {str(slot): [vars(c) for c in cks] for slot, cks in self.checkpoints.items()}}

    def restore(self, tensors: dict[str, torch.Tensor], meta: dict) -> None:
        self.checkpoints = {int(slot): [CheckpointRecord(**c) for c in cks] for slot, cks in meta["checkpoints"].items()}
        parts: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        for key, t in tensors.items():
            slot, step, name = key.split(".", 2)
            parts.setdefault((int(slot), int(step)), {})[name] = t.numpy()
        self.outputs = {}
        for (slot, step), arrays in sorted(parts.items()):
            self.outputs.setdefault(slot, {})[step] = TokenOutputs(**arrays)


def _read_snapshot(storage: SharedStorage, name: str, group: RunGroup, scored: Scored) -> TrainState | None:
    """The group's snapshot (filling `scored` with what it had scored), or None to start afresh."""
    blob = storage.read(name)
    if blob is None:
        return None
    try:
        state, tensors, meta = load_snapshot(blob)
        if meta.get("run_ids") != group.run_ids:
            raise ValueError("it belongs to other runs")
        scored.restore(tensors, meta)
        return state
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
        warnings.warn(f"snapshot {storage.root}/{name} is unusable ({e}); training {group.run_ids[0]} from step 0",
                      stacklevel=2)
        scored.checkpoints, scored.outputs = {}, {}
        return None


def train_resumable(group: RunGroup, model: EnsembleGPT, data: TrainData, scored: Scored,
                    on_checkpoint: Callable[[int, EnsembleGPT, np.ndarray], None],
                    on_step: Callable[[int], None] | None, times: PhaseTimes | None = None) -> None:
    """`train`, resuming from the group's snapshot when one exists and snapshotting as the spec
    asks; `on_checkpoint` must record into `scored`, which snapshots carry along. Snapshot writes
    are timed into `times`."""
    tcfg, steps = group.training.train_config(), group.training.checkpoint_steps()
    settings = group.snapshots
    if settings is None:
        train(model, data, tcfg, steps, on_checkpoint, on_step)
        return
    storage, name = SharedStorage(settings.storage), snapshot_name(group.run_ids)
    resume = _read_snapshot(storage, name, group, scored)

    def save_state(state: TrainState) -> None:
        tensors, meta = scored.to_snapshot()
        storage.write(name, snapshot_bytes(state, tensors, {**meta, "run_ids": group.run_ids}))

    policy = None
    if settings.every_steps or settings.every_seconds:
        save = save_state if times is None else times.wrap("snapshots", save_state)
        policy = SnapshotPolicy(save, settings.every_steps, settings.every_seconds)
    if resume is not None and on_step:
        for step in range(1, resume.step + 1):
            on_step(step)  # steps done before the interruption count as done in the progress display
    train(model, data, tcfg, steps, on_checkpoint, on_step, resume, policy)


def pick_device(wanted: str) -> torch.device:
    if wanted == "cuda" or (wanted == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def model_config(group: RunGroup, vocab_size: int, seq_len: int) -> ModelConfig:
    s = group.shape
    return ModelConfig(vocab_size=vocab_size, seq_len=seq_len, width=s.width, depth=s.depth, heads=s.heads,
                       mlp_ratio=s.mlp_ratio, attn_only=s.attn_only)


def _weights_meta(model: EnsembleGPT, member: int) -> dict[str, str]:
    return {"config": json.dumps(model.cfg.to_dict()), "seed": str(model.seeds[member])}


def save_member_weights(model: EnsembleGPT, member: int, path: Path) -> None:
    """safetensors, written to a temporary name and renamed, so a file on disk is always whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(model.member_state(member), str(tmp), metadata=_weights_meta(model, member))
    tmp.replace(path)


def member_weights(model: EnsembleGPT, member: int, run_id: str, step: int) -> tuple[str, bytes]:
    """(path under weights/, safetensors bytes) of one member: what the driver writes to disk."""
    data = save(model.member_state(member), metadata=_weights_meta(model, member))
    return f"{weights_dir_name(run_id)}/step_{step}.safetensors", data


def plan_of(group: RunGroup) -> SamplingPlan:
    s = group.sampling
    assert s is not None
    return SamplingPlan(s.temperature, s.samples, s.budget, s.seed)


def sampled_counts(group: RunGroup, model: EnsembleGPT, split) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per member, (n, c) per test example from sampling the final model, when the spec asks."""
    if group.sampling is None:
        return []
    return sample_counts(model, split.test_prompt, split.test_answer, plan_of(group))


def run_group(group: RunGroup, on_step: Callable[[int], None] | None = None) -> GroupOutput:
    if group.mix:  # one model on a mix of tasks, one run per task (sweep/mix.py)
        from emergelab.sweep.mix import run_mix_group

        return run_mix_group(group, on_step)
    torch.set_num_threads(group.threads)
    started = time.perf_counter()
    times = PhaseTimes(started_at=time.time())
    device = pick_device(group.device)
    task = group.task.build()
    split = task.make_split(group.task.train_size, group.task.test_size, group.data_seed)
    seqs = torch.as_tensor(np.concatenate([split.train_prompt, split.train_answer], axis=1))
    cfg = model_config(group, task.vocab_size, task.seq_len - 1)
    torch.manual_seed(group.seeds[0])
    model = EnsembleGPT(cfg, group.seeds).to(device)
    k = len(group.seeds)
    scored = Scored()
    tcfg = group.training.train_config()
    tokens_per_step = (len(seqs) if tcfg.full_batch else tcfg.batch_size) * task.seq_len
    times.add("set-up", time.perf_counter() - started)

    def on_checkpoint(step: int, m: EnsembleGPT, train_losses: np.ndarray) -> None:
        part = checkpoint_examples(len(split.test_index), group.training.checkpoint_test_size, step == tcfg.steps)
        outs = score_native(m, split.test_prompt[part], split.test_answer[part], split.test_index[part])
        extras = run_probes(group.probes, m, task, split)
        for member, out in enumerate(outs):
            scored.add(member, CheckpointRecord(
                step=step, tokens=step * tokens_per_step,
                train_loss=None if np.isnan(train_losses[member]) else float(train_losses[member]),
                test_loss=float(-out.logprob.mean()), extra=extras[member],
            ), out)

    loop_started = time.perf_counter()
    train_resumable(group, model, TrainData(seqs, task.answer_len), scored,
                    times.wrap("evaluation", on_checkpoint), on_step, times)
    times.add("training", time.perf_counter() - loop_started - times.seconds.get("evaluation", 0.0)
              - times.seconds.get("snapshots", 0.0))
    counts = times.wrap("sampling", sampled_counts)(group, model, split)
    total, non_emb = cfg.param_counts()
    seconds = time.perf_counter() - started
    output = GroupOutput([], times=times)
    for member, (seed, rid) in enumerate(zip(group.seeds, group.run_ids, strict=True)):
        if group.save_weights:
            path, data = times.wrap("weights", member_weights)(model, member, rid, tcfg.steps)
            output.weights[path] = data
        run = RunRecord(
            run_id=rid, model=cfg.name, task=group.task.display_label(),
            task_config={"name": group.task.name, **task.config(), "train_size": group.task.train_size,
                         "test_size": group.task.test_size, "data_seed": group.data_seed,
                         "chance_exact_match": task.chance_exact_match, "answer_len": task.answer_len,
                         **({"sampling": group.sampling.model_dump(mode="json") | {"scheme": plan_of(group).scheme}}
                            if group.sampling else {})},
            params=total, non_embedding_params=non_emb, seed=seed, width=cfg.width, depth=cfg.depth,
            heads=cfg.heads, steps=tcfg.steps, batch_size=tcfg.batch_size, tokens_per_step=tokens_per_step,
            knob=dict(group.knob), source="native", status="done", seconds=seconds / k,
        )
        output.results.append(RunResult(run, scored.checkpoints[member], scored.outputs[member],
                                        {tcfg.steps: (split.test_index, *counts[member])} if counts else {}))
    return output
