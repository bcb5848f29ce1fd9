"""`emergelab forecast`: fit on the smaller models, forecast the larger ones, back-test.

It reads one point per run (`emergelab.analysis.laws.points.load_run_points`), so runs at equal
N with different D stay apart; errors print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from emergelab.analysis.forecast import FORECASTERS
from emergelab.analysis.laws import LAWS
from emergelab.cli import options
from emergelab.cli.common import Scale, experiment_folder, fail_now, out_console
from emergelab.registry import UnknownNameError

app = typer.Typer(add_completion=False, no_args_is_help=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"


@app.command("forecast")
def forecast_cmd(
    folder: Path = typer.Argument(..., help="experiment folder (with its store)"),
    metric: str = typer.Option(..., "--metric", help="metric to forecast, e.g. exact_match"),
    fit_below: float = typer.Option(..., "--fit-below", help="fit on runs with scale <= this, back-test the rest"),
    method: str = typer.Option("sigmoid", "--method", help="forecast method: " + ", ".join(FORECASTERS)
                               + ", beta_binomial (pass@k over k from sample counts; --fit-below = samples per problem)"),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f", help="table | json"),
    scale: Scale = typer.Option(Scale.non_embedding_params, "--scale", help="x axis: which runs are 'small'"),
    answer_length: float = typer.Option(0.0, "--answer-length", help="answer tokens L (via_continuous)"),
    loss_law: str = typer.Option("power_law", "--loss-law",
                                 help="via_loss: law for loss (one-variable on --scale, or two-variable on (N, D): "
                                 + ", ".join(n for n in LAWS if n != "error_link") + ")"),
    loss_metric: str = typer.Option(None, "--loss-metric", help="via_loss: the loss series (default: loss, test_loss, ...)"),
    loss_below: float = typer.Option(None, "--loss-below", help="via_loss: fit the loss law on runs <= this (default --fit-below)"),
    link_below: float = typer.Option(None, "--link-below", help="via_loss: fit the error link on runs <= this (default --fit-below)"),
    bootstrap: int = typer.Option(200, "--bootstrap", help="resamples for the intervals"),
    no_intervals: bool = typer.Option(False, "--no-intervals", help="point forecasts only (fastest)"),
    seed: int = typer.Option(0, "--seed", help="bootstrap seed"),
    k: list[int] = typer.Option(None, "--k", help="beta_binomial: k to forecast pass@k at (repeat; default 1, 10, ... 100·n)"),
    task: options.Tasks = None,
    family: options.Families = None,
    shots: options.Shots = None,
    model: options.Models = None,
    checkpoint: options.Checkpoint = None,
) -> None:
    """Fit on the smaller runs, forecast the larger ones, and back-test: one row per held-out run
    (forecast, interval, observed, relative error). Every run is its own point: runs with equal N
    and different D are never merged.

    Examples:

      emergelab forecast runs/demo --task addition --metric exact_match --fit-below 2e4

      emergelab forecast runs/demo --task addition --metric exact_match --fit-below 2e4 --method via_continuous --format json

      emergelab forecast runs/opt --task lambada_openai --metric acc --method via_loss --loss-metric ppl --scale params --fit-below 3e9

      emergelab forecast runs/code --metric pass@1 --method high_resolution --scale params --fit-below 3e7

      emergelab forecast runs/code --metric pass@k --method beta_binomial --fit-below 10 --k 100 --k 1000
    """
    import json

    from emergelab.analysis.forecast import forecast_runs
    from emergelab.analysis.laws.points import load_run_points

    if method not in FORECASTERS and method != "beta_binomial":
        fail_now(str(UnknownNameError("forecast method", method, [*FORECASTERS, "beta_binomial"])))
    if scale is Scale.step:
        fail_now("--scale step is a training-time axis; forecasts across runs take params, non_embedding_params, "
                 "tokens or flops")
    experiment_folder(folder)
    chosen = options.selection(task, family, shots, model, checkpoint)
    if method in ("high_resolution", "beta_binomial"):  # read stored sample counts (analysis/sampling.py)
        from emergelab.analysis import sampling

        try:
            rows = sampling.load_counts(folder, chosen, scale.value)
            found = ([sampling.high_resolution_forecast(rows, fit_below, scale.value, seed=seed)]
                     if method == "high_resolution" else
                     sampling.beta_forecasts(rows, k, int(fit_below), n_boot=0 if no_intervals else bootstrap, seed=seed))
        except ValueError as exc:
            fail_now(str(exc))
        if fmt is Fmt.json:  # one object per forecast (beta_binomial: one per model)
            sys.stdout.write(json.dumps([to_json(f) for f in found], indent=2) + "\n")
            return
        for f in found:
            out_console.print(backtest_table(f))
            for n in f.notes:
                out_console.print(f"note: {n}")
        return
    opts = {k: v for k, v in (("answer_length", answer_length or None), ("loss_metric", loss_metric),
                              ("loss_below", loss_below), ("link_below", link_below)) if v is not None}
    if method == "via_loss":
        opts["loss_law"] = loss_law
    try:
        f = forecast_runs(load_run_points(folder, selection=chosen), method, fit_below, task=None, metric=metric,
                          scale=scale.value,
                          n_boot=0 if no_intervals else bootstrap, seed=seed, **opts)
    except ValueError as exc:
        fail_now(str(exc))
    if fmt is Fmt.json:
        sys.stdout.write(json.dumps(to_json(f), indent=2) + "\n")
        return
    out_console.print(backtest_table(f))
    for n in f.notes:
        out_console.print(f"note: {n}")


def _num(v: float) -> float | None:
    return None if not np.isfinite(v) else float(v)


def to_json(f) -> dict:
    rows = [dict(run=lab, x=float(x), pred=_num(p), lo=_num(lo), hi=_num(hi), observed=_num(o), rel_error=_num(r))
            for lab, x, p, lo, hi, o, r in zip(f.labels, f.x, f.pred, f.lo, f.hi, f.observed, f.rel_error, strict=True)]
    return {"task": f.task, "metric": f.metric, "method": f.method, "scale": f.scale, "fit_below": f.fit_below,
            "params": f.params, "backtest": {k: _num(v) for k, v in f.summary().items()}, "points": rows,
            "notes": f.notes}


def backtest_table(f) -> Table:
    """One row per held-out run: forecast, interval, observed, relative error; then the summary."""
    t = Table(title=escape(f"{f.task} / {f.metric}: {f.method}, fit on {f.scale} <= {f.fit_below:g}"))
    for col in ("run", f.scale, "forecast", f"{int(f.level * 100)}% interval", "observed", "rel. error"):
        t.add_column(col, overflow="fold")
    for lab, x, p, lo, hi, o, r in zip(f.labels, f.x, f.pred, f.lo, f.hi, f.observed, f.rel_error, strict=True):
        band = "-" if np.isnan(lo) else f"[{lo:.4g}, {hi:.4g}]"
        t.add_row(escape(lab or "(new)"), f"{x:.3g}", "-" if np.isnan(p) else f"{p:.4g}", band, "-" if np.isnan(o) else f"{o:.4g}",
                  "-" if np.isnan(r) else f"{r:.1%}")
    s = f.summary()
    if s.get("n_backtest"):
        part = "" if s["n_rel_error"] == s["n_backtest"] else f" (over the {int(s['n_rel_error'])} observed ≠ 0)"
        t.caption = (f"{int(s['n_backtest'])} held-out runs: mean relative error {s['mean_rel_error']:.1%}{part}"
                     + (f", interval coverage {s['coverage']:.0%}" if np.isfinite(s["coverage"]) else ""))
    return t
