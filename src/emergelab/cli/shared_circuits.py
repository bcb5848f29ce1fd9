"""`emergelab shared-circuits`: do tasks learned by one model share its representation and neurons?

Needs models trained on a task mix (`mix:` in the spec) with saved weights; see
`analysis/shared_circuits.py`.
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
from rich.progress import Progress
from rich.table import Table

from emergelab.cli.common import console, experiment_folder, fail, out_console

app = typer.Typer(add_completion=False, no_args_is_help=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"


@app.command("shared-circuits")
def shared_circuits_command(
    folder: Annotated[Path, typer.Argument(help="Experiment folder with models trained on a task mix.")],
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")] = Fmt.table,
    examples: Annotated[int, typer.Option(help="Test examples per task (activations and ablations).", min=10)] = 100,
    top_share: Annotated[float, typer.Option(help="Share of each layer's MLP units counted as a task's top units.",
                                             min=0.01, max=1.0)] = 0.1,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples of the test examples.", min=10)] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap, the nulls and the split halves.")] = 0,
) -> None:
    """Per size and block: how much each pair of tasks shares the model — linear CKA of the residual
    stream and of the MLP units (units as the paired observations), and the overlap of the MLP
    units whose mean-ablation hurts each task most. Each cell: the value, its 95 % bootstrap
    interval over test examples, its null and ceiling, and `shared` = (value − null) / (ceiling −
    null): 0 = chance, 1 = as much as a task shares with itself. Means over seeds.

    Example: `emergelab shared-circuits runs/shared_circuits`
    """
    from emergelab.analysis.shared_circuits import MEASURES, mix_models, shared_circuit_study

    experiment_folder(folder)
    n_models = len(mix_models(folder))
    if not n_models:
        raise fail(f"{folder} has no model trained on a mix of two or more tasks with saved weights")
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("re-running models on each task", total=n_models)
        study = shared_circuit_study(folder, max_examples=examples, top_share=top_share, n_boot=bootstrap,
                                     seed=seed, on_model=lambda: progress.advance(bar))
    if fmt is Fmt.json:
        doc = {"sizes": [asdict(s) for s in study.sizes], "pairs": [asdict(p) for p in study.pairs],
               "scores": [asdict(s) for s in study.scores]}
        sys.stdout.write(json.dumps(doc, indent=2, default=float) + "\n")
        return
    for mix in dict.fromkeys(s.mix for s in study.scores):
        scores = [s for s in study.scores if s.mix == mix]
        tasks = list(dict.fromkeys(s.task for s in scores))
        table = Table(title=f"{mix}: exact match per task (mean over seeds)", box=box.SIMPLE, pad_edge=False)
        for col in ("N", *tasks):
            table.add_column(col, justify="right")
        for n in sorted({s.params for s in scores}):
            table.add_row(f"{n:.3g}", *(f"{_mean([s.exact_match for s in scores if s.params == n and s.task == t]):.2f}"
                                        for t in tasks))
        out_console.print(table)
        sizes = [s for s in study.sizes if s.mix == mix]
        for name, measure in MEASURES.items():
            rows = [s for s in sizes if s.measure == name]
            if not rows:
                continue
            table = Table(title=f"{name}: {measure.what}", box=box.SIMPLE, pad_edge=False)
            for col in ("N", "block", "tasks", "value", "95 % interval", "null", "ceiling", "shared"):
                table.add_column(col, justify="right")
            for s in sorted(rows, key=lambda s: (s.params, s.layer, s.pair)):
                table.add_row(f"{s.params:.3g}", str(s.layer + 1), s.pair, f"{s.value:.2f}",
                              f"{s.lo:.2f}–{s.hi:.2f}", f"{s.null:.2f}", f"{s.ceiling:.2f}", f"{s.shared:.2f}")
            out_console.print(table)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")
