"""`emergelab forecast`: fit on the smaller models, forecast the larger ones, back-test.

It reads curves with `emergelab.analysis.curves.load_curves(DIR, scale=...)`; errors print one
line on stderr and exit with status 2.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import numpy as np
import typer

from emergelab.cli import options
from emergelab.cli.common import Scale, fail_now, load_curves_or_fail

app = typer.Typer(add_completion=False, no_args_is_help=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"


class Method(StrEnum):
    sigmoid = "sigmoid"
    via_continuous = "via_continuous"
    via_loss = "via_loss"
    high_resolution = "high_resolution"



@app.command("forecast")
def forecast_cmd(
    folder: Path = typer.Argument(..., help="experiment folder (with its store)"),
    task: str = typer.Option(..., "--task", help=options.TASK_HELP.split(";")[0]),
    metric: str = typer.Option(..., "--metric", help="metric to forecast, e.g. exact_match"),
    fit_below: float = typer.Option(..., "--fit-below", help="fit on scales <= this, back-test above"),
    method: Method = typer.Option(Method.sigmoid, "--method", help="forecast method"),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f", help="table | json"),
    scale: Scale = typer.Option(Scale.non_embedding_params, "--scale", help="x axis of the curves"),
    answer_length: float = typer.Option(0.0, "--answer-length", help="answer tokens L (via_continuous)"),
    family: options.Families = None,
    shots: options.Shots = None,
    model: options.Models = None,
    checkpoint: options.Checkpoint = None,
) -> None:
    """Fit on the smaller models, forecast the larger ones, and back-test.

    Examples:

      emergelab forecast runs/addition --task add_3digit --metric exact_match --fit-below 1e7

      emergelab forecast runs/addition --task add_3digit --metric exact_match --fit-below 1e7 --method via_continuous --format json
    """
    import json

    from emergelab.analysis.forecast import forecast

    if method is Method.high_resolution:
        fail_now("high_resolution needs per-example sample counts; use emergelab.analysis.forecast(..., counts=) from Python")
    curves = load_curves_or_fail(folder, scale.value, options.selection(task, family, shots, model, checkpoint))
    task = curves[0].task  # the stored label a task name resolved to
    opts = {"answer_length": answer_length} if answer_length else {}
    try:
        f = forecast(curves, method.value, fit_below, task=task, metric=metric, **opts)
    except Exception as exc:  # noqa: BLE001
        fail_now(str(exc))
    if fmt is Fmt.json:
        rows = [dict(x=float(x), pred=float(p), lo=float(lo), hi=float(hi),
                     observed=None if np.isnan(o) else float(o))
                for x, p, lo, hi, o in zip(f.x, f.pred, f.lo, f.hi, f.observed, strict=True)]
        out = {"task": f.task, "metric": f.metric, "method": f.method, "fit_below": f.fit_below,
               "params": f.params, "backtest": {k: (None if v != v else v) for k, v in f.summary().items()},
               "points": rows, "notes": f.notes}
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{f.task} / {f.metric}: {f.method}, fit on scale <= {f.fit_below:g}")
    for col in ("scale", "forecast", f"{int(f.level * 100)}% interval", "observed", "rel. error"):
        t.add_column(col)
    for x, p, lo, hi, o, r in zip(f.x, f.pred, f.lo, f.hi, f.observed, f.rel_error, strict=True):
        t.add_row(f"{x:.3g}", f"{p:.4g}", f"[{lo:.4g}, {hi:.4g}]", "-" if np.isnan(o) else f"{o:.4g}",
                  "-" if np.isnan(r) else f"{r:.1%}")
    con = Console()
    con.print(t)
    for n in f.notes:
        con.print(f"note: {n}")
