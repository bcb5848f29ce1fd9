"""`emergelab seeds`: do different seeds converge to the same function and representation?

Needs a family with several seeds per size (saved weights for CKA and the loss barrier); see
`analysis/seeds.py`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from emergelab.cli.common import experiment_folder, fail, out_console

app = typer.Typer(add_completion=False, no_args_is_help=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"


def _f(v: float, digits: int = 2) -> str:
    return "–" if v != v else f"{v:.{digits}f}"


@app.command("seeds")
def seeds_command(
    folder: Annotated[Path, typer.Argument(help="Experiment folder with several seeds per size.")],
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")] = Fmt.table,
    examples: Annotated[int, typer.Option(help="Test examples used for CKA and the loss barrier.", min=10)] = 1000,
) -> None:
    """Per size: how many seeds solve the task, the spread of their emergence steps, answer
    agreement between seeds, linear CKA of the final residual stream, and the loss barrier on
    the straight line between two seeds' weights (solved pairs; all pairs in JSON).

    Example: `emergelab seeds runs/seeds`
    """
    from emergelab.analysis.seeds import seed_study, summarize

    study = seed_study(experiment_folder(folder), max_examples=examples)
    if not study.pairs:
        raise fail(f"{folder} has no size with two or more seeds and stored outputs")
    rows = summarize(study)
    if fmt is Fmt.json:
        doc = {"sizes": [asdict(r) for r in rows], "runs": [asdict(r) for r in study.runs],
               "pairs": [asdict(p) for p in study.pairs], "thresholds": [asdict(t) for t in study.thresholds]}
        sys.stdout.write(json.dumps(doc, indent=2, default=float) + "\n")
        return
    table = Table(title="seeds per size (pairs where both seeds solve; all pairs in brackets)", box=box.SIMPLE,
                  pad_edge=False)
    for col in ("N", "solved", "emerge step", "same answer", "same error", "CKA", "barrier"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(f"{r.params:.3g}", f"{r.solved}/{r.seeds}", f"{_f(r.step_lo, 0)}–{_f(r.step_hi, 0)}",
                      f"{_f(r.identical_solved)} [{_f(r.identical_all)}]", _f(r.same_errors_solved),
                      f"{_f(r.cka_solved)} [{_f(r.cka_all)}]", f"{_f(r.barrier_solved, 3)} [{_f(r.barrier_all, 3)}]")
    out_console.print(table)
    for t in study.thresholds:
        out_console.print(f"{t.task} seed {t.seed}: exact match reaches 0.5 at N = {t.threshold_params:.3g}")
