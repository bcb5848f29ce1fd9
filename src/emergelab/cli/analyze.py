"""`emergelab analyze`: emergence verdicts and the metric-artifact test from the command line.

It reads curves with `emergelab.analysis.curves.load_curves(DIR, scale=...)`. Errors print one
line on stderr and exit with status 2; nothing prints a traceback for a user mistake.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer

from emergelab.cli import options
from emergelab.cli.common import Scale, fail_now, load_curves_or_fail

app = typer.Typer(
    help="Emergence verdicts and metric-artifact tests from a finished experiment.",
    no_args_is_help=True,
    add_completion=False,
)


class Fmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command("analyze")
def analyze_cmd(
    folder: Path = typer.Argument(..., help="experiment folder (with its store)"),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f", help="table | json | csv"),
    scale: Scale = typer.Option(Scale.non_embedding_params, "--scale", help="x axis of the curves"),
    answer_length: float = typer.Option(0.0, "--answer-length", help="answer tokens L for per-token links (0: unknown)"),
    thresholds: bool = typer.Option(False, "--thresholds", help="only the threshold-per-knob table (any --format)"),
    level: float = typer.Option(0.5, "--level", help="level of the discrete metric that defines the threshold"),
    threshold_metric: str = typer.Option("exact_match", "--threshold-metric", help="metric whose crossing is the threshold"),
    task: options.Tasks = None,
    family: options.Families = None,
    shots: options.Shots = None,
    model: options.Models = None,
    checkpoint: options.Checkpoint = None,
) -> None:
    """Emergence score, linearity, verdict, threshold and mirage verdict per task × metric; when the
    experiment turns facilitation knobs (share, format, depth, ...), also the scale where the
    discrete metric crosses --level for each knob value, with a bootstrap interval.

    Examples:

      emergelab analyze runs/demo

      emergelab analyze runs/demo --format json --scale flops > analysis.json

      emergelab analyze runs/facilitation_mix --thresholds --level 0.5 --format csv

      emergelab analyze runs/pythia --task lambada_openai --shots 0 --checkpoint 143000
    """
    from emergelab.analysis.summary import analyze, to_csv, to_json, to_table
    from emergelab.analysis.threshold import knob_thresholds, with_group_labels

    chosen = options.selection(task, family, shots, model, checkpoint)
    curves = load_curves_or_fail(folder, scale.value, chosen)
    knob_rows = knob_thresholds(curves, threshold_metric, level)
    if thresholds:
        _print_thresholds(knob_rows, fmt)
        return
    details: dict = {}
    try:
        rows = analyze(with_group_labels(curves), answer_length=answer_length or None, details=details)
    except Exception as exc:  # noqa: BLE001
        fail_now(f"analysis failed: {exc}")
    if fmt is Fmt.json:
        sys.stdout.write(to_json(rows) + "\n")
    elif fmt is Fmt.csv:
        sys.stdout.write(to_csv(rows))
    else:
        from rich.console import Console

        from emergelab.analysis.mirage.table import mirage_tables

        Console().print(to_table(rows))
        for t in mirage_tables([m for (_v, m) in details.values() if m is not None]):
            Console().print(t)
        if knob_rows:
            _print_thresholds(knob_rows, fmt)


def _print_thresholds(rows, fmt: Fmt) -> None:
    """The threshold-per-knob table (analysis/threshold.py) as a rich table, JSON or CSV."""
    import csv
    import json

    from emergelab.analysis.threshold import describe, to_records

    if fmt is Fmt.json:
        sys.stdout.write(json.dumps(to_records(rows), indent=2) + "\n")
        return
    if fmt is Fmt.csv:
        records = to_records(rows)
        if records:
            w = csv.DictWriter(sys.stdout, fieldnames=list(records[0]))
            w.writeheader()
            w.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
        return
    from rich.console import Console
    from rich.table import Table

    con = Console()
    if not rows:
        con.print("no facilitation knobs in this experiment (no curve carries a knob setting)")
        return
    t = Table(title=f"Emergence threshold per knob: {rows[0].metric} ≥ {rows[0].level:g} (95% bootstrap CI)")
    for col in ("knob", "value", "task", "threshold", "reached"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r.knob, r.knob_value, r.task, describe(r), "-" if r.reached != r.reached else f"{r.reached:.0%}")
    con.print(t)
