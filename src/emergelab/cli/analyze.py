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
from emergelab.cli.common import Scale, console, fail_now, load_curves_or_fail, out_console

app = typer.Typer(
    help="Emergence verdicts and metric-artifact tests from a finished experiment.",
    no_args_is_help=True,
    add_completion=False,
)


class Fmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class By(StrEnum):
    family = "family"


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
    min_excess: float = typer.Option(0.1, "--min-excess", min=0.0, max=1.0,
                                     help="effect-size bar: excess over the smooth trend, fraction of the range"),
    by: By = typer.Option(None, "--by", help="'family': a verdict per model family beside the pooled one"),
) -> None:
    """Emergence score, linearity, verdict, threshold and mirage verdict per task × metric; when the
    experiment turns facilitation knobs (share, format, depth, ...), also the scale where the
    discrete metric crosses --level for each knob value, with a bootstrap interval.

    The rule: a curve is `emergent` when (1) at least 2 of its smallest sizes sit at the floor
    (chance, or the smallest model) — within noise of it or within 10 % of the curve's rise;
    (2) the largest size is clearly above the floor (z > 3); (3) the next larger sizes (within 1
    decade of the last floor size, at least two) exceed every smooth trend through the small ones:
    their excess over the closest smooth trend that still fits the small models has a 95 %
    interval above 0; and (4) the excess is large: at least --min-excess (0.1) of the metric's
    range. Smooth trends: lines and power
    laws (exponent −1…1) in the scale, and logistics in log-scale up to 2.5 logits per decade. Noise per point is example sampling plus the
    scatter between seeds and between models at one size, estimated from the data. Otherwise
    `smooth`, `flat` (nothing clearly above the floor) or `inconclusive` (< 4 sizes, unknowable
    noise, a rise of half the range that the noise cannot confirm, or a rise that falls back). Error rates for your design: `emergelab calibrate`.

    Examples:

      emergelab analyze runs/demo

      emergelab analyze runs/demo --format json --scale flops > analysis.json

      emergelab analyze runs/facilitation_mix --thresholds --level 0.5 --format csv

      emergelab analyze runs/pythia --task lambada_openai --shots 0 --checkpoint 143000

      emergelab analyze runs/demo --by family --min-excess 0.2
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
        rows = analyze(with_group_labels(curves), answer_length=answer_length or None, details=details,
                       min_excess=min_excess, by_family=by is By.family)
    except ValueError as exc:  # data the analysis cannot use; anything else is a bug (exit 1, cli/errors.py)
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
    from rich.table import Table

    if not rows:
        out_console.print("no facilitation knobs in this experiment (no curve carries a knob setting)")
        return
    t = Table(title=f"Emergence threshold per knob: {rows[0].metric} ≥ {rows[0].level:g} (95% bootstrap CI)")
    for col in ("knob", "value", "task", "threshold", "reached"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r.knob, r.knob_value, r.task, describe(r), "-" if r.reached != r.reached else f"{r.reached:.0%}")
    out_console.print(t)


@app.command("calibrate")
def calibrate_cmd(
    folder: Path = typer.Argument(None, help="experiment folder to take the design from (optional)"),
    sizes: int = typer.Option(8, "--sizes", min=4, help="number of model sizes"),
    decades: float = typer.Option(3.0, "--decades", min=0.5, help="span of the sizes in decades"),
    seeds: int = typer.Option(2, "--seeds", min=1, help="training seeds per model"),
    examples: int = typer.Option(500, "--examples", min=10, help="test examples per point"),
    models_per_size: int = typer.Option(1, "--models-per-size", min=1, help="models at each size"),
    families: int = typer.Option(1, "--families", min=1, help="model families among them"),
    chance: float = typer.Option(0.0, "--chance", min=0.0, max=0.99, help="chance level of the metric"),
    seeds_as_models: bool = typer.Option(False, "--seeds-as-models", help="each seed its own point (imported tables)"),
    answer_length: int = typer.Option(5, "--answer-length", min=1, help="answer tokens L for the mirage scenarios"),
    reps: int = typer.Option(200, "--reps", min=10, help="simulated curves per scenario"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    min_excess: float = typer.Option(0.1, "--min-excess", min=0.0, max=1.0, help="the verdict's effect-size bar"),
    mirage: bool = typer.Option(True, "--mirage/--no-mirage", help="also the mirage labels' rates"),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f", help="table | json | csv"),
) -> None:
    """False-positive rate and power of `emergent` (and of each mirage label) for a design, by
    simulation with known labels: smooth null curves (log-linear, power laws, saturating, gentle
    logistic, and forms outside the verdict's trend family) with seed and between-model noise,
    and jumps of 0.2-0.8 of the range. Rates come with Wilson 95 % Monte-Carlo intervals.

    Examples:

      emergelab calibrate --sizes 8 --seeds 2 --examples 500 --reps 20

      emergelab calibrate --sizes 8 --seeds 1 --models-per-size 4 --families 2 --reps 20 --format csv

      emergelab calibrate runs/demo --reps 20 --no-mirage
    """
    import json
    from dataclasses import replace

    from rich.progress import Progress

    from emergelab.analysis.calibrate import Design, calibrate, default_scenarios, design_from_curves
    from emergelab.analysis.verdict import VerdictConfig

    design = Design(sizes, decades, seeds, examples, models_per_size, families, chance, seeds_as_models)
    if folder is not None:
        design = design_from_curves(load_curves_or_fail(folder, Scale.non_embedding_params.value, None))
        design = replace(design, n_sizes=max(design.n_sizes, 4))
    scenarios = default_scenarios(design)
    records: list[dict] = []
    with Progress(transient=True, console=console) as bar:  # on stderr: stdout is the data
        job = bar.add_task("emergent", total=len(scenarios))
        results = calibrate(design, reps=reps, seed=seed, config=VerdictConfig(min_excess=min_excess),
                            scenarios=scenarios, progress=lambda _name: bar.advance(job))
    for r in results:
        rate, lo, hi = r.rate(r.emergent)
        records.append({"test": "emergent", "scenario": r.scenario, "truth": "smooth" if r.null else "emergent",
                        "label": "emergent", "rate": rate, "lo": lo, "hi": hi,
                        "inconclusive": r.inconclusive_rate, "reps": r.n})
    if mirage:
        records += _mirage_records(design, answer_length, reps, seed)
    if fmt is Fmt.json:
        sys.stdout.write(json.dumps({"design": design.describe(), "rows": records}, indent=2) + "\n")
        return
    if fmt is Fmt.csv:
        import csv

        w = csv.DictWriter(sys.stdout, fieldnames=list(records[0]))
        w.writeheader()
        w.writerows(records)
        return
    from rich.console import Console
    from rich.table import Table

    con = Console()
    con.print(f"[bold]Calibration[/bold]: {design.describe()}; {reps} curves per scenario")
    t = Table(title="how often the verdict says emergent", box=None, header_style="bold underline")
    for col in ("scenario", "truth", "emergent [95% MC]", "inc."):
        t.add_column(col, justify="left" if col in ("scenario", "truth") else "right")
    for r in records:
        if r["test"] == "emergent":
            t.add_row(r["scenario"], r["truth"], _pct(r), f"{r['inconclusive']:.0%}")
    con.print(t)
    mir = [r for r in records if r["test"] == "mirage"]
    if mir:
        m = Table(title="how often the mirage test gives each label", box=None, header_style="bold underline")
        for col in ("scenario", "truth", "label", "rate [95% MC]"):
            m.add_column(col, justify="right" if col.startswith("rate") else "left")
        for r in mir:
            m.add_row(r["scenario"], r["truth"], r["label"], _pct(r))
        con.print(m)


def _pct(r: dict) -> str:
    return f"{r['rate']:.1%} [{r['lo']:.0%}, {r['hi']:.0%}]"


def _mirage_records(design, answer_length: int, reps: int, seed: int) -> list[dict]:
    """The mirage test's label rates on the same sizes, seeds and examples (analysis/mirage)."""
    import numpy as np

    from emergelab.analysis.mirage import MirageDesign, mirage_calibration

    md = MirageDesign(sizes=tuple(float(v) for v in design.sizes()), seeds=design.seeds,
                      n_examples=design.n_examples, answer_length=answer_length)
    rows = mirage_calibration(md, reps=reps, rng=np.random.default_rng(seed))
    return [{"test": "mirage", "scenario": r.scenario, "truth": r.truth, "label": r.label, "rate": r.rate,
             "lo": r.lo, "hi": r.hi, "inconclusive": None, "reps": r.reps} for r in rows]
