"""The experiment commands: `run`, `demo`, `report`, `metrics`, `export`, `tasks`.

    emergelab demo                       # train the demo family, score it, write the report
    emergelab run examples/demo.yaml     # any spec
    emergelab report runs/demo           # HTML report + PNG figures
    emergelab metrics runs/demo --format csv
"""

from __future__ import annotations

import csv
import signal
import sys
import time
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from emergelab.cli import options
from emergelab.cli.common import console, experiment_folder, fail, out_console
from emergelab.report import warm  # light: threading only (report/__init__ imports lazily)
from emergelab.spec import SpecError, load_spec

app = typer.Typer(add_completion=False)

CSV_COLUMNS = ["task", "metric", "model", "params", "non_embedding_params", "tokens", "flops", "seed", "step", "value"]


def _rewrite_report(folder: Path) -> None:
    """--live-report: the report of the groups stored so far (a browser tab shows progress)."""
    from emergelab.report import write_report

    try:
        write_report(folder)
    except Exception as e:  # noqa: BLE001 — a partial report must not stop the sweep; say why it is stale
        console.print(f"[yellow]warning: report not rewritten after this group: {e}[/]")


def run_with_progress(spec_path: Path, out: Path | None, force: bool, live_report: bool = False,
                      report_follows: bool = False) -> Path:
    """Run a spec with progress bars. SIGINT/SIGTERM end it with one line, exit 128 + signal.
    With `report_follows`, the report's libraries are warmed once a worker has no group left
    (`report/warm.py`): that core would otherwise sit idle."""
    from emergelab.sweep import SweepInterrupted, run_experiment

    spec = load_spec(spec_path)
    # started only once the sweep is planned: a display stopped before any bar printed a blank line
    # ahead of the one-line error of a refused folder
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TimeRemainingColumn(), console=console, transient=False)
    bars: dict[str, int] = {}
    left = {"groups": 0}

    def on_start(total_steps: int, n_groups: int) -> None:
        left["groups"] = n_groups
        progress.start()
        bars["train"] = progress.add_task("training steps (all members at once)", total=max(total_steps, 1))
        bars["runs"] = progress.add_task("groups trained, scored and stored", total=max(n_groups, 1))
        if n_groups == 0:
            progress.update(bars["train"], completed=1)
            progress.update(bars["runs"], completed=1)

    def stop_display() -> None:  # stopping a display never started prints a blank line
        if progress.live.is_started:
            progress.stop()

    def on_group_done(_group) -> None:
        progress.advance(bars["runs"])
        left["groups"] -= 1
        if report_follows and left["groups"] < spec.executor.workers:
            warm.start()
        if live_report:
            warm.wait()  # before this thread imports the report (see below)
            _rewrite_report(spec.out_dir(out))

    try:
        summary = run_experiment(
            spec, out, force=force, on_start=on_start,
            on_step=lambda _s: progress.advance(bars["train"]), on_group_done=on_group_done,
        )
    except SweepInterrupted as e:
        stop_display()
        typer.echo(str(e), err=True)
        raise typer.Exit(128 + (e.signum or signal.SIGINT)) from None
    finally:
        stop_display()
    # the caller imports the report and the analysis code next, which the warm-up thread imports
    # too: two threads importing the same modules at once can meet a partly initialised one
    warm.wait()
    console.print(f"{summary.trained} run(s) trained, {summary.skipped} already finished → {summary.out}")
    return summary.out


@app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="Experiment spec (YAML).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Experiment folder (default: the spec's `out`).")] = None,
    force: Annotated[bool, typer.Option(help="Remove finished runs of a different spec from the folder.")] = False,
    report: Annotated[bool, typer.Option(help="Write the HTML report when done.")] = True,
    live_report: Annotated[bool, typer.Option(help="Rewrite the HTML report after each finished group, to watch a long sweep.")] = False,
) -> None:
    """Train, score and store every run of a spec; finished runs are skipped, interrupted ones resume
    from their last snapshot. Other commands can read the folder while it runs.

    Example: `emergelab run examples/demo.yaml --out runs/demo --live-report`
    """
    try:
        folder = run_with_progress(spec, out, force, live_report, report_follows=report)
    except SpecError as e:
        raise fail(str(e)) from None
    if report:
        from emergelab.report import write_report

        console.print(f"report: {write_report(folder)}")


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="Experiment or theory folder.")],
    task: options.Tasks = None,
    family: options.Families = None,
    shots: options.Shots = None,
    model: options.Models = None,
    checkpoint: options.Checkpoint = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the page here (figures/ beside it); default FOLDER/report.html.")] = None,
) -> None:
    """Write FOLDER/report.html (self-contained) and PNG figures in FOLDER/figures/.

    The selectors keep some tasks, families, shot counts, models or checkpoints, as in `analyze`;
    give --out with them so the full report is not replaced.

    Examples:

    emergelab report runs/demo

    emergelab report runs/demo --task addition --out runs/demo/addition.html
    """
    from emergelab.report import write_report

    chosen = options.selection(task, family, shots, model, checkpoint)
    if out is not None and (out.is_dir() or out.suffix.lower() not in (".html", ".htm")):
        raise fail(f"--out {out}: give a file name ending in .html")
    if out is not None and not out.parent.is_dir():
        raise fail(f"--out {out}: folder {out.parent} does not exist")
    try:
        path = write_report(folder, chosen, out)
    except FileNotFoundError as e:
        raise fail(str(e)) from None
    out_console.print(f"report: {path}")


class MetricsFormat(StrEnum):
    csv = "csv"
    table = "table"


@app.command()
def metrics(
    folder: Annotated[Path, typer.Argument(help="Experiment folder.")],
    format: Annotated[MetricsFormat, typer.Option("--format", "-f", help="csv: one row per run × checkpoint × metric; table: a summary.")] = MetricsFormat.table,
    metric: Annotated[list[str], typer.Option("--metric", "-m", help="Only these metrics (repeatable).")] = [],  # noqa: B006
    task: options.Tasks = None,
    family: options.Families = None,
    shots: options.Shots = None,
    model: options.Models = None,
    checkpoint: options.Checkpoint = None,
) -> None:
    """Metrics recomputed from stored outputs (never by re-running a model); every checkpoint
    unless --checkpoint says otherwise.

    Example: `emergelab metrics runs/demo --format csv > metrics.csv`
    """
    from emergelab.analysis.curves import load_rows
    from emergelab.analysis.select import SelectionError
    from emergelab.metrics import METRICS

    unknown = [m for m in metric if m not in METRICS]
    if unknown:
        raise fail(f"error: {METRICS.unknown(unknown[0])}")
    try:
        rows = load_rows(experiment_folder(folder), metric or None,
                         options.selection(task, family, shots, model, checkpoint), scale="step")
    except SelectionError as e:
        raise fail(str(e)) from None
    if not rows:
        raise fail(f"error: {folder} holds no per-example outputs to recompute metrics from{_why_no_rows(folder)}")
    if format is MetricsFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            writer.writerow([r.task, r.metric, r.model, r.params, r.non_embedding_params, r.tokens, f"{r.flops:.6g}",
                             "" if r.seed is None else r.seed, r.step, f"{r.value:.6g}"])
        return
    final: dict[tuple, list] = {}
    last = {}
    for r in rows:
        last[(r.task, r.model, r.seed)] = max(last.get((r.task, r.model, r.seed), -1), r.step)
    for r in rows:
        if r.step == last[(r.task, r.model, r.seed)]:
            final.setdefault((r.task, r.metric, r.non_embedding_params, r.model), []).append(r.value)
    out_console.print(metrics_table(final, f"metrics at the final checkpoint, mean over seeds — {folder}"))


def metrics_table(final: dict[tuple[str, str, int, str], list[float]], title: str) -> Table:
    """(task, metric, N, model) -> values as a table: each task label as a heading row, then its
    metric x model rows. Labels are text, not rich markup (`multiplication[digits=2]` showed as
    `multiplication`), and at 80 columns no metric name is cut."""
    from rich.text import Text

    table = Table(title=Text(title))
    for col in ("metric", "model", "N (non-emb.)", "seeds", "value"):
        table.add_column(col, justify="left" if col in ("metric", "model") else "right")
    heading = None
    for (task, m, n, model), vals in sorted(final.items()):
        if task != heading:
            heading = task
            table.add_row(Text(task, style="bold", overflow="fold"), "", "", "", "")
        table.add_row(Text(m), Text(model), f"{n:,}", str(len(vals)), f"{sum(vals) / len(vals):.4f}")
    return table


def _why_no_rows(folder: Path) -> str:
    """What the folder holds instead (imported aggregate results, or nothing finished yet)."""
    from emergelab.store import Store

    with Store(folder, read_only=True) as store:
        n_points = len(store.points())
    if n_points:
        return f" (only {n_points} imported aggregate results; `emergelab analyze` and `report` use those)"
    return " (no finished run matches)"


@app.command()
def tasks() -> None:
    """List the registered tasks with an example of each.

    Example: `emergelab tasks`
    """
    import numpy as np

    from emergelab.tasks import TASKS

    table = Table(title="tasks")
    for col in ("name", "what", "example (default parameters)", "vocab"):
        table.add_column(col)
    for name, cls in sorted(TASKS.items()):
        task = cls()
        p, a = task.encode(np.array([min(123456, task.space_size - 1)]))
        table.add_row(name, (cls.__doc__ or "").strip().split("\n")[0], f"{task.render(p[0])} → {task.render(a[0])}",
                      str(task.vocab_size))
    out_console.print(table)


def demo_spec_path() -> Path:
    return Path(str(files("emergelab") / "specs" / "demo.yaml"))


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the demo experiment.")] = Path("runs/demo"),
) -> None:
    """Train a scaling family on 3-digit addition, score it and write the report (≈ 3 min on 2 cores).

    Example: `emergelab demo --out runs/demo`
    """
    started = time.perf_counter()
    try:
        folder = run_with_progress(demo_spec_path(), out, force=False, report_follows=True)
    except SpecError as e:
        raise fail(str(e)) from None
    # imported after the sweep, not before it: the end of the sweep imports them on an idle core
    from emergelab.analysis.curves import load_curves
    from emergelab.analysis.emergence import emergence_score
    from emergelab.report import write_report

    path = write_report(folder)
    table = Table(title="demo: smallest vs largest model (mean over seeds)")
    for col in ("metric", "smallest", "largest", "emergence score"):
        table.add_column(col, justify="right")
    for c in load_curves(folder, metrics=["exact_match", "token_accuracy", "target_logprob"], n_boot=0):  # means only
        table.add_row(c.metric, f"{c.y[0]:.3f}", f"{c.y[-1]:.3f}", f"{emergence_score(c.y):.2f}")
    out_console.print(table)
    out_console.print(f"report: {path}  ({time.perf_counter() - started:.0f} s)")


@app.command()
def export(
    folder: Annotated[Path, typer.Argument(help="Experiment folder.")],
    parquet: Annotated[bool, typer.Option("--parquet", help="Write every table as Parquet (the default when --hf is not given).")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="With --parquet: the folder for the Parquet files (default FOLDER/parquet).", show_default=False)] = None,
    hf: Annotated[Path | None, typer.Option("--hf", help="Write a trained model as a Hugging Face (GPT-2) directory here.", show_default=False)] = None,
    run: Annotated[str | None, typer.Option("--run", help="With --hf: run id (default: largest model, first seed).")] = None,
    step: Annotated[int | None, typer.Option("--step", help="With --hf: training step (default: last saved).")] = None,
) -> None:
    """Export the experiment's tables as Parquet, or a trained model for `transformers`.

    Examples: `emergelab export runs/demo --parquet` (into runs/demo/parquet); `emergelab export runs/demo --parquet --out tables`;
    `emergelab export runs/demo --hf hf/addition-w48` (then `AutoModelForCausalLM.from_pretrained("hf/addition-w48")`)
    """
    from emergelab.store import Store

    if parquet and hf is not None:
        raise fail("error: --parquet and --hf are two exports; run them one at a time")
    if hf is not None:
        from emergelab.cli.hf import export_hf_cli

        export_hf_cli(experiment_folder(folder), hf, run, step)
        return
    target = out or (folder / "parquet")
    with Store(experiment_folder(folder), read_only=True) as store:
        written = store.export_parquet(target)
    for p in written:
        out_console.print(str(p))
