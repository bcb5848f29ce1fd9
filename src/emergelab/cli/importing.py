"""`emergelab import`: external results (lm-eval, CSV/Parquet tables, sampling counts) -> experiment folder.

A thin shell over `emergelab.store.importers.import_files`: it turns errors into one line on
stderr with exit code 2 and prints what was imported, so a user sees at once whether the sizes
and tasks are the ones they meant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from emergelab.store.importers import REGISTRY, ImportFileError, ImportSummary, import_files

app = typer.Typer(add_completion=False, no_args_is_help=True)

_EPILOG = (
    "Examples:\n\n"
    "  emergelab import results/opt-*.json --out exp/opt\n\n"
    "  emergelab import my_results.csv --out exp/mine --params my-model=1.3e9\n\n"
    "  emergelab import lm_eval_out/EleutherAI__pythia-70m/* --out exp/pythia\n\n"
    "  emergelab import humaneval_counts.csv --out exp/code --format counts\n\n"
    "Sizes come from --params, a params column / file field, or the model name (opt-1.3b -> 1.3e9); "
    "a model of unknown size is an error. Nothing is written unless every file imports."
)


def _fmt_size(x: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if x >= scale:
            return f"{x / scale:.4g}{unit}"
    return f"{x:g}"


def print_summary(summary: ImportSummary, console: Console) -> None:
    """Per file: format, models, tasks, points, per-example rows; then the models and their sizes."""
    files = Table(title=f"Imported into {summary.out}", show_lines=False)
    for col in ("file", "format", "models", "tasks", "points", "per-example rows"):
        files.add_column(col, justify="right" if col in ("points", "per-example rows", "tasks") else "left")
    for f in summary.files:
        models = ", ".join(f.models) if len(f.models) <= 3 else f"{len(f.models)} models"
        files.add_row(f.path.name, f.format, models, str(len(f.tasks)), str(f.points), str(f.example_rows))
    console.print(files)
    sizes = ", ".join(f"{m} ({_fmt_size(summary.sizes[m])})" for m in summary.models)
    console.print(f"[bold]{len(summary.sizes)} models:[/bold] {sizes}")
    console.print(f"[bold]{len(summary.tasks)} tasks, metrics:[/bold] {', '.join(summary.metrics)}")
    console.print(f"[bold]{summary.points} points, {summary.runs} runs[/bold] "
                  f"({summary.example_scores} per-example scores, {summary.sample_counts} sampling counts)")
    for w in summary.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")


@app.command("import", epilog=_EPILOG)
def import_command(
    files: Annotated[list[Path], typer.Argument(help="Result files: lm-eval JSON / samples JSONL, CSV, Parquet.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Experiment folder (created if missing).")],
    params: Annotated[list[str], typer.Option(
        "--params", help="Model size, MODEL=SIZE (e.g. opt-1.3b=1.3e9 or 7b); repeat or comma-separate.")] = [],  # noqa: B006
    format: Annotated[str, typer.Option(
        "--format", help=f"Force one format for all files: auto, {', '.join(REGISTRY)}.")] = "auto",
) -> None:
    """Import results produced elsewhere into an experiment folder (DIR/emergelab.duckdb)."""
    try:
        summary = import_files(files, out, params=params, format=format)
    except ImportFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    print_summary(summary, Console())
