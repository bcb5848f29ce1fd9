"""`emergelab import`: external results (lm-eval, CSV/Parquet tables, sampling counts) -> experiment folder.

A thin shell over `emergelab.store.importers.import_files`: it turns errors into one line on
stderr with exit code 2 and prints what was imported, so a user sees at once whether the sizes,
checkpoints and shots are the ones they meant. The formats' columns in `--help` come from the
importer registry, so the help cannot drift from what the importers read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from emergelab.cli.common import fail
from emergelab.store.importers import REGISTRY, ImportFileError, ImportSummary, import_files
from emergelab.store.importers.docs import format_reference

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="markdown")

_EPILOG = (
    "**Examples**\n\n"
    "    emergelab import examples/data/long_table.csv --out runs/opt\n"
    "    emergelab import examples/data --out runs/examples\n"
    "    emergelab import examples/data/lm_eval_v03.json --out runs/pythia --family pythia --tokens-per-step 2097152\n"
    "    emergelab import examples/data/sample_counts.csv --out runs/code --input-format counts --params coder-small=350m\n\n"
    "Sizes come from --params, a params column / file field, or the model name (opt-1.3b -> 1.3e9); "
    "a model of unknown size is an error. Each model × task × metric is kept per checkpoint (step) and "
    "per shots, so zero- and five-shot files of one checkpoint live side by side. Unknown columns are "
    "named in a warning. Nothing is written unless every file imports.\n\n"
    "**Formats** (detected per file; force one with --input-format)\n\n" + format_reference()
)


def _fmt_size(x: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if x >= scale:
            return f"{x / scale:.4g}{unit}"
    return f"{x:g}"


def _fmt_list(values: list, most: int = 6) -> str:
    shown = [str(v) for v in values[:most]]
    return ", ".join(shown) + (f", ... ({len(values)} in all)" if len(values) > most else "")


def print_summary(summary: ImportSummary, console: Console) -> None:
    """Per file: format, models, tasks, points, per-example rows; then models, checkpoints, shots."""
    files = Table(title=f"Imported into {summary.out}", show_lines=False)
    for col in ("file", "format", "models", "tasks", "points", "per-example rows"):
        files.add_column(col, justify="right" if col in ("points", "per-example rows", "tasks") else "left")
    shown = summary.files if len(summary.files) <= 20 else summary.files[:10]
    for f in shown:
        models = ", ".join(f.models) if len(f.models) <= 3 else f"{len(f.models)} models"
        files.add_row(f.path.name, f.format, models, str(len(f.tasks)), str(f.points), str(f.example_rows))
    if len(shown) < len(summary.files):
        files.add_row(f"... {len(summary.files) - len(shown)} more files", "", "", "", "", "")
    console.print(files)
    sizes = ", ".join(f"{m} ({_fmt_size(summary.sizes[m])})" for m in summary.models)
    console.print(f"[bold]{len(summary.sizes)} models:[/bold] {sizes}")
    if summary.families:
        console.print(f"[bold]families:[/bold] {', '.join(summary.families)}")
    if summary.steps:
        console.print(f"[bold]{len(summary.steps)} checkpoints (steps):[/bold] {_fmt_list(summary.steps)}")
    if summary.shots:
        console.print(f"[bold]shots:[/bold] {', '.join(map(str, summary.shots))}")
    console.print(f"[bold]{len(summary.tasks)} tasks, metrics:[/bold] {', '.join(summary.metrics)}")
    console.print(f"[bold]{summary.points} points, {summary.runs} runs[/bold] "
                  f"({summary.example_scores} per-example scores, {summary.sample_counts} sampling counts)")
    for w in summary.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")


@app.command("import", epilog=_EPILOG)
def import_command(
    files: Annotated[list[Path], typer.Argument(
        help="Result files or folders of them: lm-eval JSON / samples JSONL, CSV, TSV, Parquet.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Experiment folder (created if missing).")],
    params: Annotated[list[str], typer.Option(
        "--params", help="Model size, MODEL=SIZE (e.g. opt-1.3b=1.3e9 or 7b); repeat or comma-separate.")] = [],  # noqa: B006
    input_format: Annotated[str, typer.Option(
        "--input-format", help=f"Read every file as this format: auto, {', '.join(REGISTRY)}.")] = "auto",
    family: Annotated[str | None, typer.Option(
        "--family", help="Model family of models whose files name none (e.g. pythia).")] = None,
    tokens_per_step: Annotated[float | None, typer.Option(
        "--tokens-per-step", help="Training tokens per step: a checkpoint's tokens D = step × this "
        "(and compute 6·N·D) where a file gives no tokens. Pythia: 2097152.")] = None,
) -> None:
    """Import results produced elsewhere into an experiment folder (DIR/emergelab.duckdb)."""
    try:
        summary = import_files(files, out, params=params, input_format=input_format, family=family,
                               tokens_per_step=tokens_per_step)
    except ImportFileError as exc:
        raise fail(f"error: {exc}") from None
    print_summary(summary, Console())
