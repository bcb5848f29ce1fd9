"""`emergelab fit`: fit a registered scaling law to a table or to an experiment's curves.

Thin by design: reading columns and printing are here, fitting is `emergelab.analysis.laws`.
Bad input (missing file or column, unknown law, a law that rejects the data) is one line on
stderr and exit code 2.
"""

from __future__ import annotations

import csv
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from emergelab.analysis.laws import LAWS, LawFit, fit_law

app = typer.Typer(add_completion=False, rich_markup_mode="markdown")


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class FitInputError(ValueError):
    """The user's input cannot be fitted; the message is the one line the CLI prints."""


def _read_columns(path: Path) -> dict[str, np.ndarray]:
    """Numeric columns of a CSV or Parquet file by name (non-numeric cells become NaN)."""
    if path.suffix.lower() in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return {n: np.asarray(table.column(n).to_numpy(zero_copy_only=False), dtype=float)
                for n in table.column_names if _numeric_ok(table.column(n).to_pylist())}
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise FitInputError(f"{path} has no rows")
    cols: dict[str, np.ndarray] = {}
    for name in rows[0]:
        vals = [_to_float(r[name]) for r in rows]
        if not all(math.isnan(v) for v in vals):
            cols[name] = np.array(vals)
    return cols


def _numeric_ok(values: list) -> bool:
    return any(isinstance(v, int | float) for v in values)


def _to_float(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


def _from_experiment(folder: Path, task: str | None, metric: str | None, scale: str) -> tuple[np.ndarray, np.ndarray]:
    """x, y of the one curve of `folder` selected by task and metric."""
    try:
        from emergelab.analysis.curves import load_curves
    except ImportError as exc:  # the curves room may not exist in an older checkout
        raise FitInputError(f"cannot read experiment folders here ({exc})") from None
    curves = [c for c in load_curves(folder, scale=scale)
              if (task is None or c.task == task) and (metric is None or c.metric == metric)]
    if len(curves) != 1:
        found = sorted({f"{c.task}/{c.metric}" for c in load_curves(folder, scale=scale)})
        raise FitInputError(f"--task/--metric select {len(curves)} curves; choose one of: {', '.join(found) or 'none'}")
    return curves[0].x, curves[0].y


def load_xy(source: Path, x: list[str], y: str | None, task: str | None, metric: str | None,
            scale: str) -> tuple[object, np.ndarray]:
    """The law's input from a table (named columns) or an experiment folder (one curve)."""
    if not source.exists():
        raise FitInputError(f"no such file or folder: {source}")
    if source.is_dir():
        if not (source / "emergelab.duckdb").exists():
            raise FitInputError(f"{source} is a folder without emergelab.duckdb")
        return _from_experiment(source, task, metric, scale)
    cols = _read_columns(source)
    if not x or y is None:
        raise FitInputError("a table needs --x (one or more) and --y")
    missing = [c for c in [*x, y] if c not in cols]
    if missing:
        raise FitInputError(f"missing column(s) {', '.join(missing)}; have: {', '.join(cols)}")
    keep = np.all(np.isfinite(np.stack([cols[c] for c in [*x, y]])), axis=0)
    xs = [cols[c][keep] for c in x]
    return (xs[0] if len(xs) == 1 else tuple(xs)), cols[y][keep]


def render(fit: LawFit, fmt: OutputFormat) -> str | Table:
    if fmt is OutputFormat.json:
        return json.dumps(fit.to_dict(), indent=2)
    table = Table(title=f"{fit.law} ({fit.n_bootstrap} bootstrap resamples, {fit.seconds:.2f} s)")
    for col in ("parameter", "estimate", "95 % interval", "std. error"):
        table.add_column(col, justify="right" if col != "parameter" else "left")
    for name, value in fit.params.items():
        lo_hi = fit.intervals.get(name)
        table.add_row(name, f"{value:.6g}", f"[{lo_hi[0]:.4g}, {lo_hi[1]:.4g}]" if lo_hi else "",
                      f"{fit.stderr[name]:.3g}" if name in fit.stderr else "")
    for name, value in fit.gof.items():
        table.add_row(f"gof: {name}", f"{value:.6g}", "", "")
    return table


@app.command("fit")
def fit_command(
    source: Annotated[Path, typer.Argument(help="CSV/Parquet table, or an experiment folder (emergelab.duckdb).")],
    law: Annotated[str, typer.Option(help="Law name: " + ", ".join(sorted(LAWS)) + ".")] = "power_law",
    x: Annotated[list[str] | None, typer.Option("--x", help="Scale column(s); repeat for (N, D).")] = None,
    y: Annotated[str | None, typer.Option("--y", help="Metric column.")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples for intervals (0: none).")] = 0,
    variant: Annotated[str, typer.Option(help="chinchilla objective: huber_sum | huber_likelihood.")] = "huber_sum",
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    task: Annotated[str | None, typer.Option(help="Experiment folder: the task to fit.")] = None,
    metric: Annotated[str | None, typer.Option(help="Experiment folder: the metric to fit.")] = None,
    scale: Annotated[str, typer.Option(help="Experiment folder: the x scale.")] = "non_embedding_params",
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = OutputFormat.table,
) -> None:
    """Fit a scaling law and print its parameters, 95 % bootstrap intervals and goodness of fit.

    Example:

        emergelab fit chinchilla.csv --law chinchilla --x N --x D --y loss --bootstrap 4000

        emergelab fit runs/demo --law power_law --task addition --metric token_edit_distance
    """
    try:
        if law not in LAWS:
            raise FitInputError(f"unknown law {law!r}; known: {', '.join(sorted(LAWS))}")
        xv, yv = load_xy(source, list(x or []), y, task, metric, scale)
        options = {"variant": variant} if law == "chinchilla" else {}
        fit = fit_law(law, xv, yv, n_bootstrap=bootstrap, seed=seed, **options)
    except (FitInputError, ValueError, KeyError) as exc:
        typer.echo(f"error: {str(exc).strip(chr(39))}", err=True)
        raise typer.Exit(code=2) from None
    Console(width=120).print(render(fit, output)) if output is OutputFormat.table else typer.echo(render(fit, output))


def main() -> None:  # pragma: no cover - convenience entry point
    app()
