"""Ensemble vs sequential: K same-shape tiny models trained as one stacked ensemble vs one by one.

Tiny models are overhead-bound (Python, op dispatch, optimizer bookkeeping), so stacking K of
them along a leading axis should cost little more than one. This trains the same K = 16 models
(the demo's two smallest shapes: 3-digit reversed addition, depth 2, head_dim 4, widths 8 and
12, batch 128) both ways in one process, back to back, and prints the throughput ratio.

Achieved FLOP/s counts the work the model does per training sequence (2 flops a multiply-add,
backward = 2 × forward, so 6 × the forward multiply-adds), with T input positions, L answer
positions, width d, MLP width f, depth D, vocabulary V:
    (D − 1) · T · (4d² + 2df)      every block but the last, at every position
  + 3d² · T + (d² + 2df) · L       the last block: q, k, v everywhere, the rest only where the loss is
  + 2d · ((D − 1) · T² + L · T)    attention scores and weighted values, full square, as computed
  + d · V · L                      the tied output head on the answer positions
and is printed next to this machine's fp32 matmul peak, measured in the same run
(torch.matmul of two n × n matrices, 2·n³ flops).

Timing: this machine is shared (2 cores, often many runnable processes), so besides wall time the
benchmark reports process CPU time (time.process_time, one thread), which is far less sensitive
to other processes; both sides run back to back, interleaved over `--rounds`, best round kept.

    .venv/bin/python benchmarks/ensemble_vs_sequential.py [--steps 100] [--k 16] [--threads 1,2]

Both sides use the same thread count. Wall time is the throughput that matters with several
threads (CPU time adds the threads up); with one thread the two agree on a quiet machine. With
more than one setting measured, the last line sets each side at its own best thread count (the
sequential loop of tiny models gains nothing from a second thread; the ensemble does).

What bounds the ratio: a step costs about o + K·w, a fixed per-op cost o (Python, dispatch,
some 300 small ops) plus w of real work per member, so the ratio is K(o + w) / (o + K·w). Making
the shared code leaner lowers o for both sides and *lowers* the ratio; only cheaper per-member
work at large K (fewer passes over the activations, better matmul shapes) raises it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from emergelab.models import EnsembleGPT, ModelConfig
from emergelab.tasks import make_task
from emergelab.train import TrainConfig, TrainData, train

WIDTHS = (8, 12)
DEPTH, HEAD_DIM, BATCH = 2, 4, 128


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


def _time_training(cfg: ModelConfig, seed_groups: list[list[int]], data: TrainData, tcfg: TrainConfig) -> tuple[float, float]:
    """(wall, CPU) seconds to train every group of seeds one after the other."""
    w0, c0 = time.perf_counter(), time.process_time()
    for seeds in seed_groups:
        train(EnsembleGPT(cfg, seeds), data, tcfg, [])
    return time.perf_counter() - w0, time.process_time() - c0


def _best(rounds: list[tuple[float, float]]) -> tuple[float, float]:
    return min(r[0] for r in rounds), min(r[1] for r in rounds)


def measure(threads: int, args: argparse.Namespace, task, data: TrainData) -> tuple[float, float]:
    """Print one thread setting's figures; return the (ensemble, sequential) wall seconds, both shapes."""
    torch.set_num_threads(threads)
    tcfg = TrainConfig(steps=args.steps, batch_size=BATCH, warmup_steps=10)
    seeds = list(range(args.k))
    peak = matmul_peak_gflops()
    print(f"\n== {threads} thread(s): fp32 matmul peak (1024²) {peak:.1f} GFLOP/s; K={args.k} models per shape, "
          f"{args.steps} steps, batch {BATCH}")
    totals = {"ensemble": [0.0, 0.0], "sequential": [0.0, 0.0]}
    for width in WIDTHS:
        cfg = ModelConfig(task.vocab_size, task.seq_len - 1, width, DEPTH, width // HEAD_DIM)
        _time_training(cfg, [[0]], data, TrainConfig(steps=5, batch_size=BATCH))  # warm-up
        runs: dict[str, list[tuple[float, float]]] = {"ensemble": [], "sequential": []}
        for _ in range(args.rounds):
            runs["ensemble"].append(_time_training(cfg, [seeds], data, tcfg))
            runs["sequential"].append(_time_training(cfg, [[s] for s in seeds], data, tcfg))
        flops = flops_per_sequence(cfg, task.answer_len) * BATCH * args.steps * args.k
        (ew, ec), (sw, sc) = _best(runs["ensemble"]), _best(runs["sequential"])
        for name, (w, c) in (("ensemble", (ew, ec)), ("sequential", (sw, sc))):
            totals[name][0] += w
            totals[name][1] += c
            print(f"width {width:2d} (N={cfg.param_counts()[1]:,}) {name:10s}: wall {w:6.2f} s, CPU {c:6.2f} s, "
                  f"{flops / w / 1e9:5.2f} GFLOP/s ({100 * flops / w / 1e9 / peak:.1f} % of peak)")
        print(f"width {width:2d}: ratio sequential / ensemble: wall {sw / ew:.2f}x, CPU {sc / ec:.2f}x")
    (ew, ec), (sw, sc) = totals["ensemble"], totals["sequential"]
    print(f"{threads} thread(s): overall throughput ratio ensemble / sequential: wall {sw / ew:.2f}x, "
          f"CPU {sc / ec:.2f}x (target >= 6x)")
    return ew, sw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--threads", default=f"1,{torch.get_num_threads()}",
                        help="comma-separated thread counts to measure (default: one, and all of this machine's)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    task = make_task("addition", digits=3, fmt="reversed")
    split = task.make_split(50000, 500, seed=0)
    data = TrainData(torch.as_tensor(np.concatenate([split.train_prompt, split.train_answer], axis=1)), task.answer_len)
    walls = {n: measure(n, args, task, data) for n in sorted({int(x) for x in args.threads.split(",")})}
    print("\nsummary (wall-clock ratio, target >= 6x): " + ", ".join(f"{n} thread(s) {s / e:.2f}x" for n, (e, s) in walls.items()))
    if len(walls) > 1:  # each side at the thread count that suits it best
        (en, (ew, _)), (sn, (_, sw)) = (min(walls.items(), key=lambda kv: kv[1][i]) for i in (0, 1))
        print(f"best against best: ensemble on {en} thread(s) {ew:.2f} s, sequential on {sn} thread(s) {sw:.2f} s: {sw / ew:.2f}x")


if __name__ == "__main__":
    main()
