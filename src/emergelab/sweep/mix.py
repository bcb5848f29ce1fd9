"""Training data for one model on a mix of tasks: one vocabulary, one sequence length, shares.

Tasks bring their own tiny vocabularies, and ids collide across them ('+' of addition and '*' of
multiplication are both id 10). A mix therefore re-encodes every task into a *union* vocabulary:

    [PAD, <tag of task 0>, <tag of task 1>, ..., tokens of task 0, new tokens of task 1, ...]

Tokens are matched by their text, so digits keep one id across tasks (a digit learned in one task
is the same embedding in another: the tasks really share parameters). Each prompt starts with its
task's tag token, so two tasks whose prompts look alike (addition in two formats) stay
distinguishable. Prompts are left-padded with PAD to the longest prompt and answers right-padded
with PAD to the longest answer; the trainer scores every answer position, so a short answer is
followed by PADs the model must also emit — a constant continuation that costs it next to nothing.

Sampling respects shares exactly in expectation: the weight of a training sequence of task i is
share_i / n_i, so a batch draws task i with probability share_i whatever the set sizes. Each task
keeps its own test set, encoded the same way, scored on its own answer length only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from emergelab.evaluate import checkpoint_examples, score_native
from emergelab.evaluate.probes import run_probes
from emergelab.models import EnsembleGPT
from emergelab.store import CheckpointRecord, RunRecord, RunResult
from emergelab.sweep.plan import RunGroup
from emergelab.tasks import Split, Task
from emergelab.tasks.mix import MixEncoding, union_vocab  # noqa: F401  (union_vocab re-exported)
from emergelab.train import TrainData

if TYPE_CHECKING:
    from emergelab.sweep.runner import GroupOutput


@dataclass
class MixedTest:
    """One task's test set in union ids: prompts (n, P) with the common prompt length, answers (n, L_i)."""

    prompt: np.ndarray
    answer: np.ndarray
    index: np.ndarray
    train_prompt: np.ndarray
    train_answer: np.ndarray

    def split(self) -> Split:
        """As a Split (union ids), for probes."""
        return Split(self.train_prompt, self.train_answer, self.prompt, self.answer, np.arange(len(self.train_prompt)), self.index)


@dataclass
class MixedData:
    vocab: list[str]
    prompt_len: int
    answer_len: int
    sequences: np.ndarray  # (n, prompt_len + answer_len) training sequences of all tasks
    weights: np.ndarray    # (n,) sampling weight per sequence; sums to 1
    task_of: np.ndarray    # (n,) index of the task each training sequence belongs to
    tests: list[MixedTest]

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def seq_len(self) -> int:
        return self.prompt_len + self.answer_len


def build_mix(tasks: list[Task], splits: list[Split], shares: list[float]) -> MixedData:
    """Re-encode each task's split into the union vocabulary (tasks/mix.py) and weight its
    sequences by its share."""
    if not (len(tasks) == len(splits) == len(shares)) or len(tasks) < 1:
        raise ValueError("a mix needs one split and one share per task")
    if any(s <= 0 for s in shares):
        raise ValueError("mix shares must be positive")
    enc = MixEncoding.of(tasks)
    vocab, prompt_len, answer_len, prompts, answers = list(enc.vocab), enc.prompt_len, enc.answer_len, enc.prompts, enc.answers
    total = float(sum(shares))

    seqs, weights, task_of, tests = [], [], [], []
    for i, (task, split) in enumerate(zip(tasks, splits, strict=True)):
        tp, ta = prompts(i, split.train_prompt), answers(i, split.train_answer, answer_len)
        seqs.append(np.concatenate([tp, ta], axis=1))
        n = len(tp)
        weights.append(np.full(n, shares[i] / total / n))
        task_of.append(np.full(n, i))
        tests.append(MixedTest(prompts(i, split.test_prompt), answers(i, split.test_answer, task.answer_len),
                               split.test_index, tp, answers(i, split.train_answer, task.answer_len)))
    return MixedData(vocab, prompt_len, answer_len, np.concatenate(seqs), np.concatenate(weights),
                     np.concatenate(task_of), tests)



def run_mix_group(group: RunGroup, on_step: Callable[[int], None] | None = None) -> GroupOutput:
    """Train each seed's model once on the mix, then score every task on its own test set: one
    RunResult per seed × task, in the seed-major order of `group.run_ids`."""
    from emergelab.sweep.runner import (
        GroupOutput,
        Scored,
        member_weights,
        model_config,
        pick_device,
        train_resumable,
    )

    torch.set_num_threads(group.threads)
    started = time.perf_counter()
    device = pick_device(group.device)
    tasks = [t.build() for t in group.mix]
    splits = [t.make_split(spec.train_size, spec.test_size, group.data_seed) for t, spec in zip(tasks, group.mix, strict=True)]
    data = build_mix(tasks, splits, group.shares)
    cfg = model_config(group, data.vocab_size, data.seq_len - 1)
    torch.manual_seed(group.seeds[0])
    model = EnsembleGPT(cfg, group.seeds).to(device)
    k, n_tasks = len(group.seeds), len(tasks)
    scored = Scored()  # slot member * n_tasks + task
    tcfg = group.training.train_config()
    n_train = len(data.sequences)
    tokens_per_step = (n_train if tcfg.full_batch else tcfg.batch_size) * data.seq_len

    def on_checkpoint(step: int, m: EnsembleGPT, train_losses: np.ndarray) -> None:
        for i, (task, test) in enumerate(zip(tasks, data.tests, strict=True)):
            part = checkpoint_examples(len(test.index), group.training.checkpoint_test_size, step == tcfg.steps)
            outs = score_native(m, test.prompt[part], test.answer[part], test.index[part])
            extras = run_probes(group.probes, m, task, test.split())
            for member, out in enumerate(outs):
                loss = train_losses[member]
                scored.add(member * n_tasks + i, CheckpointRecord(
                    step=step, tokens=step * tokens_per_step, train_loss=None if np.isnan(loss) else float(loss),
                    test_loss=float(-out.logprob.mean()), extra=extras[member],
                ), out)

    seqs = torch.as_tensor(data.sequences)
    train_resumable(group, model, TrainData(seqs, data.answer_len, torch.as_tensor(data.weights)), scored,
                    on_checkpoint, on_step)
    total, non_emb = cfg.param_counts()
    seconds = time.perf_counter() - started
    output = GroupOutput([])
    for member, (seed, ids) in enumerate(zip(group.seeds, group.ids_per_seed(), strict=True)):
        if group.save_weights:
            path, blob = member_weights(model, member, ids[0], tcfg.steps)
            output.weights[path] = blob
        for i, (task, spec, rid) in enumerate(zip(tasks, group.mix, ids, strict=True)):
            run = RunRecord(
                run_id=rid, model=cfg.name, task=spec.display_label(),
                task_config={"name": spec.name, **task.config(), "train_size": spec.train_size,
                             "test_size": spec.test_size, "data_seed": group.data_seed,
                             "chance_exact_match": float(data.vocab_size) ** (-task.answer_len),
                             "answer_len": task.answer_len, "mix_shares": list(group.shares),
                             "mix_tasks": [t.display_label() for t in group.mix], "mix_vocab": data.vocab},
                params=total, non_embedding_params=non_emb, seed=seed, width=cfg.width, depth=cfg.depth,
                heads=cfg.heads, steps=tcfg.steps, batch_size=tcfg.batch_size, tokens_per_step=tokens_per_step,
                knob=dict(group.mix_knobs[i]), source="native", status="done", seconds=seconds / (k * n_tasks),
            )
            slot = member * n_tasks + i
            output.results.append(RunResult(run, scored.checkpoints[slot], scored.outputs[slot]))
    return output
