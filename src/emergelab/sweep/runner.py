"""Train and score one run group: a pure function from a plan to results (no database).

Keeping this free of I/O other than weight files is what lets any executor — this process, a
pool, a Ray cluster — run it; the driver alone writes to the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from emergelab.evaluate import checkpoint_examples, score_native
from emergelab.evaluate.probes import run_probes
from emergelab.models import EnsembleGPT, ModelConfig
from emergelab.store import CheckpointRecord, RunRecord, RunResult, TokenOutputs
from emergelab.sweep.plan import RunGroup
from emergelab.train import TrainData, train


def pick_device(wanted: str) -> torch.device:
    if wanted == "cuda" or (wanted == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def model_config(group: RunGroup, vocab_size: int, seq_len: int) -> ModelConfig:
    s = group.shape
    return ModelConfig(vocab_size=vocab_size, seq_len=seq_len, width=s.width, depth=s.depth, heads=s.heads,
                       mlp_ratio=s.mlp_ratio, attn_only=s.attn_only)


def save_member_weights(model: EnsembleGPT, member: int, path: Path) -> None:
    """safetensors, written to a temporary name and renamed, so a file on disk is always whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    meta = {"config": __import__("json").dumps(model.cfg.to_dict()), "seed": str(model.seeds[member])}
    save_file(model.member_state(member), str(tmp), metadata=meta)
    tmp.replace(path)


def run_group(group: RunGroup, on_step: Callable[[int], None] | None = None) -> list[RunResult]:
    if group.mix:  # one model on a mix of tasks, one run per task (sweep/mix.py)
        from emergelab.sweep.mix import run_mix_group

        return run_mix_group(group, on_step)
    torch.set_num_threads(group.threads)
    started = time.perf_counter()
    device = pick_device(group.device)
    task = group.task.build()
    split = task.make_split(group.task.train_size, group.task.test_size, group.data_seed)
    seqs = torch.as_tensor(np.concatenate([split.train_prompt, split.train_answer], axis=1))
    cfg = model_config(group, task.vocab_size, task.seq_len - 1)
    torch.manual_seed(group.seeds[0])
    model = EnsembleGPT(cfg, group.seeds).to(device)
    k = len(group.seeds)
    checkpoints: list[list[CheckpointRecord]] = [[] for _ in range(k)]
    outputs: list[dict[int, TokenOutputs]] = [{} for _ in range(k)]
    tcfg = group.training.train_config()
    tokens_per_step = (len(seqs) if tcfg.full_batch else tcfg.batch_size) * task.seq_len

    def on_checkpoint(step: int, m: EnsembleGPT, train_losses: np.ndarray) -> None:
        part = checkpoint_examples(len(split.test_index), group.training.checkpoint_test_size, step == tcfg.steps)
        scored = score_native(m, split.test_prompt[part], split.test_answer[part], split.test_index[part])
        extras = run_probes(group.probes, m, task, split)
        for member, out in enumerate(scored):
            outputs[member][step] = out
            checkpoints[member].append(CheckpointRecord(
                step=step, tokens=step * tokens_per_step,
                train_loss=None if np.isnan(train_losses[member]) else float(train_losses[member]),
                test_loss=float(-out.logprob.mean()), extra=extras[member],
            ))

    train(model, TrainData(seqs, task.answer_len), tcfg, group.training.checkpoint_steps(), on_checkpoint, on_step)
    total, non_emb = cfg.param_counts()
    seconds = time.perf_counter() - started
    results = []
    for member, (seed, rid) in enumerate(zip(group.seeds, group.run_ids, strict=True)):
        if group.weights_dir:
            save_member_weights(model, member, Path(group.weights_dir) / rid.replace("/", "_") / f"step_{tcfg.steps}.safetensors")
        run = RunRecord(
            run_id=rid, model=cfg.name, task=group.task.display_label(),
            task_config={"name": group.task.name, **task.config(), "train_size": group.task.train_size,
                         "test_size": group.task.test_size, "data_seed": group.data_seed,
                         "chance_exact_match": task.chance_exact_match, "answer_len": task.answer_len},
            params=total, non_embedding_params=non_emb, seed=seed, width=cfg.width, depth=cfg.depth,
            heads=cfg.heads, steps=tcfg.steps, batch_size=tcfg.batch_size, tokens_per_step=tokens_per_step,
            knob=dict(group.knob), source="native", status="done", seconds=seconds / k,
        )
        results.append(RunResult(run, checkpoints[member], outputs[member]))
    return results
