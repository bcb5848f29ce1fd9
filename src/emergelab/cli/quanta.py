"""`emergelab quanta`: monogenic vs polygenic on multitask sparse parity (Michaud et al. 2023).

Per size, every subtask's accuracy and the frequency-weighted aggregate loss; per size over training,
when each subtask switches on and how sharply; across sizes, the aggregate loss exponent next to the
quantization model's. See `analysis/quanta_curves.py`.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from emergelab.cli.common import experiment_folder, fail, out_console

app = typer.Typer(add_completion=False, no_args_is_help=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"


def _jsonable(record) -> dict:
    def plain(v):
        if isinstance(v, np.ndarray):
            return [plain(x) for x in v.tolist()]
        if isinstance(v, float) and not math.isfinite(v):
            return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return v

    return {k: plain(v) for k, v in asdict(record).items()}


@app.command("quanta")
def quanta_command(
    folder: Annotated[Path, typer.Argument(help="Experiment folder with multitask_sparse_parity runs.")],
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")] = Fmt.table,
) -> None:
    """Per-subtask accuracy (sharp, in order of frequency) and the aggregate loss (a power law) per model size.

    Example: `emergelab quanta runs/quanta`
    """
    from emergelab.analysis.quanta_curves import (
        LEARNED,
        fit_quanta_scaling,
        size_quanta,
        step_order_rho,
        trajectories,
    )

    folder = experiment_folder(folder)
    rows = size_quanta(folder)
    if not rows:
        raise fail(f"{folder} has no multitask_sparse_parity runs with stored outputs")
    trajs = trajectories(folder)
    fits = fit_quanta_scaling(rows)
    if fmt is Fmt.json:
        sys.stdout.write(json.dumps({"sizes": [_jsonable(r) for r in rows], "trajectories": [_jsonable(t) for t in trajs],
                                     "scaling": [_jsonable(f) for f in fits]}, indent=2) + "\n")
        return
    table = Table(title=f"subtask accuracy at the final checkpoint (subtask 0 = most frequent; learned: ≥ {LEARNED:g})")
    for col in ("task", "N", "seeds", "learned", "aggregate loss [95 %]", "accuracy by subtask"):
        table.add_column(col, justify="left" if col in ("task", "accuracy by subtask") else "right")
    for r in rows:
        table.add_row(r.task, f"{r.params:.3g}", str(r.seeds), f"{r.learned}/{len(r.accuracy)}",
                      f"{r.aggregate_loss:.4f} [{r.aggregate_lo:.4f}, {r.aggregate_hi:.4f}]",
                      " ".join(f"{a:.2f}" for a in r.accuracy))
    out_console.print(table)
    over = Table(title="over training: onset step (accuracy ≥ "
                       f"{LEARNED:g}) and transition widths in decades of steps")
    for col in ("task", "N", "onset step by subtask", "ρ(rank, onset)", "subtask width (median)", "aggregate loss width"):
        over.add_column(col, justify="left" if col in ("task", "onset step by subtask") else "right")
    for t in trajs:
        widths = t.subtask_width[np.isfinite(t.subtask_width)]
        over.add_row(t.task, f"{t.params:.3g}", " ".join("–" if not math.isfinite(s) else f"{s:.0f}" for s in t.onset_step),
                     f"{step_order_rho(t):.2f}", f"{np.median(widths):.2f}" if len(widths) else "–",
                     f"{t.aggregate_width:.2f}")
    out_console.print(over)
    for f in fits:
        out_console.print(
            f"{f.task}: aggregate loss ∝ N^-{f.exponent_n:.3f} [{f.exponent_n_lo:.3f}, {f.exponent_n_hi:.3f}] "
            f"(R² {f.r2_n:.3f}, {f.sizes} sizes); against subtasks learned ∝ n^-{f.exponent_learned:.3f}, "
            f"quantization model over the same n: {f.theory_learned:.3f} (Zipf alpha = {f.alpha:.3g}); "
            f"onset order ρ(rank, N) = {f.order_rho:.2f}")
