"""Peer baselines: emergelab's stacked ensemble against what a researcher would run instead.

Four ways to train the same K models (K = 16 seeds per shape, the demo's task and widths: 3-digit
reversed addition, depth 2, head_dim 4, batch 128, emergelab's recipe), per width, in one process:

  ensemble     emergelab, the K models as one stacked EnsembleGPT (what the sweep runs)
  plain loop   a nanoGPT-style model in standard PyTorch modules (benchmarks/reference_gpt.py:
               nn.Linear, nn.LayerNorm, scaled_dot_product_attention, torch.optim.AdamW), trained
               one by one — the user's alternative
  vmap         the same reference model stacked with torch.func (stack_module_state + vmap over
               functional_call; PyTorch's model-ensembling recipe), one AdamW over the stack
  K=1 loop     emergelab's own single-model path, one model after the other

`tests/test_reference_gpt.py` checks that the four do the same work: same logits and gradients
(float64), same training trajectory, vmap members equal to lone models.

Every side is timed once per round, in a rotating order, `--rounds` rounds, after a warm-up; the
best round of each side is kept and the spread of each ratio over the rounds is printed (this
machine is shared: absolute times move with the neighbours, ratios taken minutes apart less so).
Both wall and process CPU seconds are measured; at one thread (the default, as the sweep runs)
CPU time is the less noisy one.

Achieved FLOP/s counts the work the model needs per training sequence (2 flops a multiply-add,
backward = 2 × forward, so 6 × the forward multiply-adds), with T input positions, L answer
positions, width d, MLP width f, depth D, vocabulary V:
    (D − 1) · T · (4d² + 2df)      every block but the last, at every position
  + 3d² · T + (d² + 2df) · L       the last block: q, k, v everywhere, the rest only where the loss is
  + 2d · ((D − 1) · T² + L · T)    attention scores and weighted values, full square
  + d · V · L                      the tied output head on the answer positions
The same count is used for every side (a side that computes more, e.g. the last block at every
position, gets no credit for it), printed as a fraction of this machine's fp32 matmul peak
measured in the same run (torch.matmul of two 1024 × 1024 matrices, best of 5, every round).
Beside it, the share of peak the model's block matmuls reach alone as K-batched bmm at the training
shapes (`block_matmul_share`): a ceiling for the step's share, since the rest is smaller or
memory-bound.

    .venv/bin/python benchmarks/ensemble_vs_sequential.py [--steps 100] [--k 16] [--rounds 2]
        [--widths 8,12,16,24,32,48] [--threads 1] [--sides ensemble,plain,vmap,k1]

What bounds the ratio against a loop: a step costs about o + K·w, a fixed per-op cost o (Python,
dispatch, optimizer bookkeeping) plus w of real work per member, so the ratio is K(o + w) / (o + K·w):
large while o dominates (small widths), tending to w_loop / w_ensemble as the width grows — there
only cheaper per-member work (fewer passes over the activations, better matmul shapes) helps.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_gpt import Recipe, ReferenceGPT, train_reference, train_vmap_ensemble  # noqa: E402

from emergelab.cli.run import demo_spec_path  # noqa: E402
from emergelab.models import EnsembleGPT, ModelConfig  # noqa: E402
from emergelab.spec import load_spec  # noqa: E402
from emergelab.tasks import make_task  # noqa: E402
from emergelab.train import TrainConfig, TrainData, train  # noqa: E402

BATCH = 128


def matmul_peak_gflops(n: int = 1024, repeats: int = 5) -> float:
    """Best-of-`repeats` fp32 GFLOP/s of an n × n matmul (the ceiling the tiny models are far from)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def flops_per_sequence(cfg: ModelConfig, answer_len: int) -> float:
    """Training flops for one sequence (formula in the module docstring)."""
    t, n, d, depth = cfg.seq_len, answer_len, cfg.width, cfg.depth
    f = 0 if cfg.attn_only else cfg.mlp_ratio * d
    macs = (depth - 1) * t * (4 * d * d + 2 * d * f) + 3 * d * d * t + (d * d + 2 * d * f) * n
    macs += 2 * d * ((depth - 1) * t * t + n * t) + d * cfg.vocab_size * n
    return 6 * macs


def block_matmul_share(cfg: ModelConfig, k: int, peak: float, repeats: int = 5) -> float:
    """% of `peak` that the model's block matmuls reach on their own, as K-batched bmm at the
    training shapes (q/k/v, output projection, MLP up and down; forward, grad-input, grad-weight).

    Why: these are the largest matmuls of a step, so their share of peak is a ceiling for the whole
    step's — everything else (attention on T ≤ 12 positions, layer norms, GELU, AdamW) is smaller
    or memory-bound. If it is under 50 %, no implementation of these shapes reaches the target."""
    rows = BATCH * cfg.seq_len
    d = cfg.width
    f = 0 if cfg.attn_only else cfg.mlp_ratio * d
    shapes = [(d, 3 * d), (d, d)] + ([(d, f), (f, d)] if f else [])
    mats = [(torch.randn(k, rows, i), torch.randn(k, i, o), torch.randn(k, rows, o)) for i, o in shapes]

    def one_pass() -> None:
        for x, w, g in mats:
            torch.bmm(x, w)
            torch.bmm(g, w.transpose(1, 2))
            torch.bmm(x.transpose(1, 2), g)

    one_pass()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        one_pass()
        best = min(best, time.perf_counter() - t0)
    flops = sum(6 * k * rows * i * o for i, o in shapes)
    return 100 * flops / best / 1e9 / peak


@dataclass(frozen=True)
class Workload:
    """What every side trains: the data, the recipe and the seeds of one width."""

    cfg: ModelConfig
    data: TrainData
    seeds: list[int]
    steps: int

    @property
    def recipe(self) -> Recipe:
        return Recipe(steps=self.steps, batch_size=BATCH, warmup_steps=10)

    @property
    def tcfg(self) -> TrainConfig:
        r = self.recipe
        return TrainConfig(steps=r.steps, batch_size=r.batch_size, lr=r.lr, warmup_steps=r.warmup_steps,
                           min_lr_ratio=r.min_lr_ratio, weight_decay=r.weight_decay, beta2=r.beta2,
                           grad_clip=r.grad_clip)


def _ensemble(w: Workload) -> None:
    train(EnsembleGPT(w.cfg, w.seeds), w.data, w.tcfg, [])


def _k1_loop(w: Workload) -> None:
    for seed in w.seeds:
        train(EnsembleGPT(w.cfg, [seed]), w.data, w.tcfg, [])


def _plain_loop(w: Workload) -> None:
    for seed in w.seeds:
        train_reference(ReferenceGPT(w.cfg, seed), w.data.sequences, w.data.answer_len, seed, w.recipe)


def _vmap(w: Workload) -> None:
    train_vmap_ensemble(w.cfg, w.seeds, w.data.sequences, w.data.answer_len, w.recipe)


SIDES: dict[str, tuple[str, Callable[[Workload], None]]] = {
    "ensemble": ("emergelab ensemble", _ensemble),
    "plain": ("plain loop", _plain_loop),
    "vmap": ("vmap ensemble", _vmap),
    "k1": ("emergelab K=1 loop", _k1_loop),
}
RATIOS = [("plain", "ensemble"), ("vmap", "ensemble"), ("k1", "ensemble"), ("plain", "k1")]
TARGETS = {("plain", "ensemble"): 5.0, ("vmap", "ensemble"): 2.0}


@dataclass
class WidthResult:
    width: int
    params: int
    flops: float  # per side: K models × steps × batch
    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)


def _timed(fn: Callable[[Workload], None], w: Workload) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn(w)
    return time.perf_counter() - w0, time.process_time() - c0


def measure_width(width: int, base: ModelConfig, data: TrainData, args: argparse.Namespace,
                  sides: list[str], peaks: list[float]) -> WidthResult:
    cfg = ModelConfig(base.vocab_size, base.seq_len, width, base.depth, width // args.head_dim)
    work = Workload(cfg, data, list(range(args.k)), args.steps)
    flops = flops_per_sequence(cfg, data.answer_len) * BATCH * args.steps * args.k
    result = WidthResult(width, cfg.param_counts()[1], flops, {s: [] for s in sides}, {s: [] for s in sides})
    warm = Workload(cfg, data, [0, 1], 3)
    for s in sides:
        SIDES[s][1](warm)
    for r in range(args.rounds):
        peaks.append(matmul_peak_gflops())
        for s in sides[r % len(sides):] + sides[: r % len(sides)]:
            wall, cpu = _timed(SIDES[s][1], work)
            result.wall[s].append(wall)
            result.cpu[s].append(cpu)
    return result


def report(res: WidthResult, peak: float, clock: str) -> None:
    times = res.cpu if clock == "cpu" else res.wall
    print(f"\nwidth {res.width} (N = {res.params:,} non-embedding)  [{clock} seconds, best of {len(next(iter(times.values())))}]")
    for s, ts in times.items():
        best = min(ts)
        gflops = res.flops / best / 1e9
        print(f"  {SIDES[s][0]:20s} {best:7.2f} s  {gflops:6.2f} GFLOP/s  {100 * gflops / peak:5.1f} % of peak")
    for num, den in RATIOS:
        if num in times and den in times:
            per_round = [a / b for a, b in zip(times[num], times[den], strict=True)]
            target = f"  (target >= {TARGETS[(num, den)]:g}x)" if (num, den) in TARGETS else ""
            print(f"  {SIDES[num][0]} / {SIDES[den][0]}: {min(times[num]) / min(times[den]):5.2f}x "
                  f"(rounds {min(per_round):.2f}–{max(per_round):.2f}){target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--widths", default=None, help="comma-separated widths (default: the demo's)")
    parser.add_argument("--sides", default=",".join(SIDES), help=f"which of {', '.join(SIDES)}")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    spec = load_spec(demo_spec_path())
    task_spec = spec.tasks[0]
    task = make_task(task_spec.name, digits=task_spec.digits, fmt=task_spec.format)
    split = task.make_split(task_spec.train_size, task_spec.test_size, seed=0)
    data = TrainData(torch.as_tensor(np.concatenate([split.train_prompt, split.train_answer], axis=1)), task.answer_len)
    widths = [int(w) for w in args.widths.split(",")] if args.widths else list(spec.family.widths)
    args.head_dim = spec.family.head_dim
    base = ModelConfig(task.vocab_size, task.seq_len - 1, widths[0], spec.family.depths[0], 1)
    sides = [s for s in args.sides.split(",") if s]

    print(f"K = {args.k} models per width, {args.steps} steps, batch {BATCH}, {args.threads} thread(s), "
          f"{args.rounds} rounds; load average {os.getloadavg()[0]:.1f} at start")
    peaks: list[float] = []
    results = [measure_width(w, base, data, args, sides, peaks) for w in widths]
    peak = max(peaks)
    print(f"\nfp32 matmul peak (1024², {args.threads} thread(s)), measured every round: {peak:.1f} GFLOP/s "
          f"(lowest {min(peaks):.1f}); load average {os.getloadavg()[0]:.1f} at the end")
    for res in results:
        report(res, peak, "cpu" if args.threads == 1 else "wall")
    print("\nsummary (best round each side, "
          f"{'CPU' if args.threads == 1 else 'wall'} time): width: " + ", ".join(f"{a}/{b}" for a, b in RATIOS))
    for res in results:
        times = res.cpu if args.threads == 1 else res.wall
        ratios = [f"{min(times[a]) / min(times[b]):5.2f}x" if a in times and b in times else "   – "
                  for a, b in RATIOS]
        share = f"{100 * res.flops / min(times['ensemble']) / 1e9 / peak:5.1f} % peak" if "ensemble" in times else ""
        cfg = ModelConfig(base.vocab_size, base.seq_len, res.width, base.depth, res.width // args.head_dim)
        ceiling = block_matmul_share(cfg, args.k, peak)
        print(f"  {res.width:3d}: " + "  ".join(ratios) + f"   ensemble {share}; "
              f"its block matmuls alone {ceiling:5.1f} % peak")


if __name__ == "__main__":
    main()
