"""`emergelab fit`: fit a registered scaling law to a table or to an experiment's runs, and predict.

Thin by design: reading columns and printing are here, fitting is `emergelab.analysis.laws`.
Bad input (missing file or column, unknown law, a law that rejects the data) is one line on
stderr and exit code 2.
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from emergelab.analysis.laws import LAWS, LawFit, fit_law
from emergelab.analysis.select import Selection
from emergelab.cli import options
from emergelab.metrics import metric_record

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


def _folder_inputs(folder: Path, law: str, x: list[str], scale: str | None, metric: str | None,
                   selection: Selection) -> tuple[object, np.ndarray, list[str]]:
    """Law input and y from an experiment folder, one point per run (never pooled across N or D).

    Each `--x` is a scale coordinate (params, non_embedding_params, tokens, flops; N, D, C) or
    another metric of the same runs (e.g. `--x loss` for error_link); a metric on a log scale by its
    record (perplexity) enters as its logarithm, a loss in nats."""
    from emergelab.analysis.laws.points import ALIASES, COLUMNS, load_run_points, select

    if metric is None:
        raise FitInputError("an experiment folder needs --metric (and --task when it has several)")
    try:
        runs = load_run_points(folder, selection=selection)
        target = select(runs, None, metric)
    except ValueError as exc:
        raise FitInputError(str(exc)) from None
    names = x or ([scale] if scale else _default_inputs(law, target))
    if len(names) != len(LAWS[law].inputs):
        want = ", ".join(LAWS[law].inputs)
        raise FitInputError(f"{law} takes {len(LAWS[law].inputs)} input(s) ({want}); got {len(names)}: "
                            + ("give --x params --x tokens" if len(LAWS[law].inputs) == 2 else "give one --x or --scale"))
    columns = []
    for name in names:
        if ALIASES.get(name, name) in COLUMNS:
            columns.append(target.column(name))
        else:  # another metric of the same runs, matched by run
            try:
                other = select(runs, target.task, name)
            except ValueError:
                raise FitInputError(f"--x {name}: neither a scale ({', '.join(COLUMNS)}) nor a metric of "
                                    f"{target.task}") from None
            values = np.log(other.y) if metric_record(other.metric, warn=False).log_scale else other.y
            by_label = dict(zip(other.labels, values.tolist(), strict=True))
            columns.append(np.array([by_label.get(lab, np.nan) for lab in target.labels]))
    keep = np.isfinite(target.y) & np.all([np.isfinite(c) for c in columns], axis=0)
    if not keep.all():
        dropped = [lab for lab, k in zip(target.labels, keep, strict=True) if not k]
        warnings.warn(f"{len(dropped)} run(s) lack {' or '.join(names)} and are left out: {', '.join(dropped)}",
                      UserWarning, stacklevel=2)
    xs = [c[keep] for c in columns]
    return (xs[0] if len(xs) == 1 else tuple(xs)), target.y[keep], names


def _default_inputs(law: str, target) -> list[str]:
    if len(LAWS[law].inputs) == 2:
        return ["params", "tokens"]
    if np.all(np.isfinite(target.non_embedding_params)):
        return ["non_embedding_params"]
    return ["params"]


def load_xy(source: Path, law: str, x: list[str], y: str | None, scale: str | None, metric: str | None,
            selection: Selection | None = None) -> tuple[object, np.ndarray, list[str]]:
    """The law's input, y and the names of its input columns, from a table or an experiment folder."""
    if not source.exists():
        raise FitInputError(f"no such file or folder: {source}")
    if source.is_dir():
        if not (source / "emergelab.duckdb").exists():
            raise FitInputError(f"{source} is a folder without emergelab.duckdb")
        return _folder_inputs(source, law, x, scale, metric, selection or Selection())
    cols = _read_columns(source)
    if not x or y is None:
        raise FitInputError("a table needs --x (one or more) and --y")
    missing = [c for c in [*x, y] if c not in cols]
    if missing:
        raise FitInputError(f"missing column(s) {', '.join(missing)}; have: {', '.join(cols)}")
    keep = np.all(np.isfinite(np.stack([cols[c] for c in [*x, y]])), axis=0)
    xs = [cols[c][keep] for c in x]
    return (xs[0] if len(xs) == 1 else tuple(xs)), cols[y][keep], list(x)


def parse_predict(texts: list[str], law: str, names: list[str]) -> list[dict[str, float]]:
    """`--predict N=1e9,D=2e10` (keys: the law's inputs or the --x names) or, for one input, `1e9`."""
    from emergelab.analysis.laws.points import ALIASES

    inputs = LAWS[law].predict_inputs
    accept = {canon: canon for canon in inputs}
    if len(names) == len(inputs):
        accept |= dict(zip(names, inputs, strict=True))
    for alias, column in ALIASES.items():  # N, D, C <-> params, tokens, flops
        if alias in accept:
            accept.setdefault(column, accept[alias])
        if column in accept:
            accept.setdefault(alias, accept[column])
    out = []
    for text in texts:
        point: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, value = part.split("=", 1) if "=" in part else (inputs[0] if len(inputs) == 1 else "", part)
            key = key.strip()
            if key not in accept:
                raise FitInputError(f"--predict {text}: unknown input {key or '(none)'!r}; {law} predicts from "
                                    f"{', '.join(inputs)}, e.g. --predict " + ",".join(f"{n}=1e9" for n in inputs))
            try:
                point[accept[key]] = float(value)
            except ValueError:
                raise FitInputError(f"--predict {text}: {value!r} is not a number") from None
        if set(point) != set(inputs):
            raise FitInputError(f"--predict {text}: {law} needs " + ", ".join(f"{n}=..." for n in inputs))
        out.append(point)
    return out


def predictions(fit: LawFit, points: list[dict[str, float]], inputs: tuple[str, ...]) -> list[dict]:
    """Each requested point with the law's value and percentile interval (None without bootstrap)."""
    rows = []
    for point in points:
        args = tuple(np.array([point[n]]) for n in inputs)
        p = fit.predict_with_interval(args[0] if len(args) == 1 else args)
        rows.append({"inputs": point, "value": float(p.value[0]),
                     "interval": None if p.lo is None else [float(p.lo[0]), float(p.hi[0])]})
    return rows


def render(fit: LawFit, fmt: OutputFormat, predicted: list[dict] | None = None) -> str | Table:
    predicted = predicted or []
    if fmt is OutputFormat.json:
        return json.dumps(fit.to_dict() | {"predictions": predicted}, indent=2)
    boot = f"{fit.n_bootstrap} bootstrap resamples" if fit.n_bootstrap else "no bootstrap"
    table = Table(title=f"{fit.law}: {fit.formula}\n({boot}, {fit.seconds:.2f} s)", title_justify="left")
    for col in ("parameter", "estimate", "95 % percentile interval"):
        table.add_column(col, justify="right" if col != "parameter" else "left")
    for name, value in fit.params.items():
        lo_hi = fit.intervals.get(name)
        table.add_row(name, f"{value:.6g}", f"[{lo_hi[0]:.4g}, {lo_hi[1]:.4g}]" if lo_hi else "-")
    for name, value in fit.gof.items():
        table.add_row(f"fit: {name}", f"{value:.6g}", "")
    for row in predicted:
        where = ", ".join(f"{k}={v:.4g}" for k, v in row["inputs"].items())
        band = row["interval"]
        table.add_row(f"predict {where}", f"{row['value']:.6g}", f"[{band[0]:.4g}, {band[1]:.4g}]" if band else "-")
    return table


@app.command("fit")
def fit_command(
    source: Annotated[Path, typer.Argument(help="CSV/Parquet table, or an experiment folder (emergelab.duckdb).")],
    law: Annotated[str, typer.Option(help="Law name: " + ", ".join(sorted(LAWS)) + ".")] = "power_law",
    x: Annotated[list[str] | None, typer.Option(
        "--x", help="Input column(s); repeat for (N, D). Folder: params, non_embedding_params, tokens, flops "
        "(or N, D, C), or another metric of the same runs (error_link: --x loss; perplexity enters as its log)."
    )] = None,
    y: Annotated[str | None, typer.Option("--y", help="Table: the metric column.")] = None,
    scale: Annotated[str | None, typer.Option(
        help="Folder: the one input of a one-variable law (default non_embedding_params, else params).")] = None,
    predict: Annotated[list[str] | None, typer.Option(
        "--predict", help="Evaluate the fitted law here, e.g. N=7e10,D=1.4e12 (repeatable).")] = None,
    bootstrap: Annotated[int | None, typer.Option(
        "--bootstrap", help="Bootstrap resamples for percentile intervals (default 0; 200 with --predict).")] = None,
    variant: Annotated[str, typer.Option(help="chinchilla objective: huber_sum | huber_likelihood.")] = "huber_sum",
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    metric: Annotated[str | None, typer.Option(help="Folder: the metric to fit (y).")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = OutputFormat.table,
    task: options.Tasks = None,
    family: options.Families = None,
    shots: options.Shots = None,
    model: options.Models = None,
    checkpoint: options.Checkpoint = None,
) -> None:
    """Fit a scaling law; print its formula, parameters with 95 % percentile-bootstrap intervals,
    goodness of fit and, with --predict, the law's value at chosen inputs with an interval.

    From a folder every run is one point (runs with equal N and different D stay apart); the
    final checkpoint of each run is used. A law with no spare degrees of freedom warns and gives
    no interval.

    Examples:

        emergelab fit runs/chinchilla --law chinchilla --metric loss --x params --x tokens --predict N=7e10,D=1.4e12

        emergelab fit chinchilla.csv --law chinchilla --x N --x D --y loss --bootstrap 4000

        emergelab fit runs/demo --law power_law --task addition --metric test_loss

        emergelab fit runs/opt --law power_law --task lambada_openai --metric ppl --scale params --predict 1.75e11

        emergelab fit runs/opt --law error_link --task lambada_openai --metric acc --x ppl --predict L=1.0
    """
    try:
        if law not in LAWS:
            raise FitInputError(str(LAWS.unknown(law)))
        chosen = options.selection(task, family, shots, model, checkpoint)
        xv, yv, names = load_xy(source, law, list(x or []), y, scale, metric, chosen)
        wanted = parse_predict(list(predict or []), law, names)
        n_boot = bootstrap if bootstrap is not None else (200 if wanted else 0)
        law_options = {"variant": variant} if law == "chinchilla" else {}
        fit = fit_law(law, xv, yv, n_bootstrap=n_boot, seed=seed, **law_options)
        predicted = predictions(fit, wanted, LAWS[law].predict_inputs)
    except (FitInputError, ValueError, KeyError) as exc:
        typer.echo(f"error: {str(exc).strip(chr(39))}", err=True)
        raise typer.Exit(code=2) from None
    if output is OutputFormat.json:
        typer.echo(render(fit, output, predicted))
        return
    console = Console(width=80)
    console.print(render(fit, output, predicted))  # fit.notes were shown as warnings already
    if wanted and not fit.n_bootstrap:
        console.print("note: no interval for the predictions (use --bootstrap N)")


def main() -> None:  # pragma: no cover - convenience entry point
    app()
