"""`emergelab theory`: list, run and collect the exact toy systems.

The commands are thin: systems live in `emergelab.theory`, parameters are parsed from each system's
own signature (`emergelab.theory.params`), and output goes through `save_results` + PNG figures, so
the report room reads the same `theory.json` whatever produced it.
"""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from emergelab.cli.circuits import app as circuits_app
from emergelab.cli.common import fail
from emergelab.theory import SYSTEMS, TheoryResult, save_results
from emergelab.theory.params import ParamError, parse_params, system_params
from emergelab.theory.registry import get_system, run_system, write_figures

app = typer.Typer(
    help="Exact toy systems where emergence can be computed: list them, run one, or build a gallery.",
    no_args_is_help=True,
)

app.add_typer(circuits_app, name="circuits")


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _claim(name: str) -> str:
    """The first line of the system module's docstring: its claim, without running it."""
    import sys

    fn = SYSTEMS[name]
    module = sys.modules.get(fn.__module__)
    return _first_line(module.__doc__ if module else None) or _first_line(fn.__doc__)


def _jsonable(value: Any) -> Any:
    """Strict JSON: non-finite floats become null, tuples become lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return _jsonable(value.item())
    return value


def result_json(result: TheoryResult) -> dict[str, Any]:
    """The `--format json` payload: curves as lists of {budget, value} points."""
    return _jsonable({
        "name": result.name,
        "claim": result.claim,
        "source": result.source,
        "params": result.params,
        "curves": [{"label": c.label, "budget_name": c.budget_name, "value_name": c.value_name,
                    "log_x": c.log_x, "log_y": c.log_y, "higher_is_better": c.higher_is_better,
                    "points": c.points()} for c in result.curves],
        "table": {"columns": result.table_columns, "rows": result.table_rows},
        "notes": result.notes,
        "seconds": result.seconds,
    })


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_result(result: TheoryResult, console: Console, max_rows: int = 40) -> None:
    console.print(f"[bold]{result.name}[/bold] — {result.claim}")
    console.print(f"[dim]source: {result.source}[/dim]")
    if result.table_columns:
        table = Table(*result.table_columns)
        rows = result.table_rows
        for row in rows[:max_rows]:
            table.add_row(*(_fmt(v) for v in row))
        console.print(table)
        if len(rows) > max_rows:
            console.print(f"[dim]... {len(rows) - max_rows} more rows (use --format json or --out)[/dim]")
    if result.notes:
        console.print(result.notes)
    console.print(f"[dim]{len(result.curves)} curves, {result.seconds:.2f} s[/dim]")


def save_with_figures(results: list[TheoryResult], out: Path) -> list[Path]:
    """theory.json plus one PNG per system under out/figures."""
    save_results(results, out)
    return [p for r in results for p in write_figures(r, out)]


@app.command("list")
def list_systems() -> None:
    """List the registered systems and the claim each demonstrates.

    Example: emergelab theory list
    """
    table = Table("name", "claim", "parameters")
    for name in sorted(SYSTEMS):
        table.add_row(name, _claim(name), ", ".join(system_params(SYSTEMS[name])))
    Console().print(table)


@app.command("run")
def run(
    name: str = typer.Argument(..., help="System name (see `emergelab theory list`)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Folder for theory.json and figures/."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Terminal output."),
    param: list[str] = typer.Option([], "--param", "-p", help="Override a parameter: key=value (repeatable)."),
) -> None:
    """Run one system and print (or save) its curves and table.

    Example: emergelab theory run polyfit --param n_points=15 --param noise=0.05 --out results/theory
    """
    try:
        fn = get_system(name)
        params = parse_params(fn, param)
    except KeyError as exc:
        raise fail(str(exc.args[0])) from None
    except ParamError as exc:
        raise fail(f"{name}: {exc}") from None
    try:
        result = run_system(name, **params)
    except (ValueError, TypeError) as exc:
        raise fail(f"{name}: {exc}") from None
    if out is not None:
        save_with_figures([result], out)
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(result_json(result)))
    else:
        print_result(result, Console())
        if out is not None:
            Console().print(f"saved to {out}")


@app.command("gallery")
def gallery(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for theory.json, figures/ and the report."),
) -> None:
    """Run every registered system with its defaults, save them together and write the report.

    Example: emergelab theory gallery --out results/gallery
    """
    from rich.progress import Progress

    console = Console(stderr=True)
    results = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("theory gallery", total=len(SYSTEMS))
        for name in sorted(SYSTEMS):
            progress.update(task, description=f"running {name}")
            results.append(run_system(name))
            progress.advance(task)
    save_with_figures(results, out)
    summary = Table("system", "seconds", "curves")
    for r in results:
        summary.add_row(r.name, f"{r.seconds:.2f}", str(len(r.curves)))
    Console().print(summary)
    try:
        from emergelab.report import write_report
    except ImportError:
        console.print("note: emergelab.report.write_report is not available; wrote theory.json and figures only")
        return
    report = write_report(out)
    Console().print(f"report: {report}")
