"""`emergelab gain`: does a technique (answer format, data share, depth) help only at scale?

The gain of each knob value over a baseline, as its own curve against scale, with a label and the
scale where it turns positive (`analysis/gain.py`).
"""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emergelab.cli.common import Scale, fail, load_curves_or_fail, out_console
from emergelab.cli.options import Families, Models, Shots, Tasks, selection

app = typer.Typer(add_completion=False, no_args_is_help=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"


def _num(v: float) -> object:
    return None if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf else v)


def _end(v: float, x) -> str:
    """An interval end; ±inf means "outside the measured sizes"."""
    if v == -math.inf:
        return f"<{x[0]:.3g}"
    if v == math.inf:
        return f">{x[-1]:.3g}"
    return "nan" if math.isnan(v) else f"{v:.3g}"


@app.command("gain")
def gain_command(
    folder: Annotated[Path, typer.Argument(help="Experiment folder whose spec turns a knob (e.g. format).")],
    knob: Annotated[str, typer.Option("--knob", help="The knob whose values are compared (format, share, depth, ...).")],
    baseline: Annotated[str | None, typer.Option("--baseline", help="Knob value to compare against (default: the first in sorted order).")] = None,
    metric: Annotated[str, typer.Option("--metric", "-m", help="Metric whose gain is measured.")] = "exact_match",
    scale: Annotated[Scale, typer.Option("--scale", help="x axis.")] = Scale.non_embedding_params,
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")] = Fmt.table,
    task: Tasks = None, family: Families = None, shots: Shots = None, model: Models = None,
) -> None:
    """Gain of each knob value over a baseline against scale: helps from the start, only at scale, not at all, or hurts.

    Example: `emergelab gain runs/facilitation_format --knob format --baseline plain`
    """
    from emergelab.analysis.gain import technique_gains

    curves = load_curves_or_fail(folder, scale.value, selection(task, family, shots, model, None))
    try:
        gains = technique_gains(curves, knob=knob, baseline=baseline, metric=metric)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if fmt is Fmt.json:
        rows = [{"knob": g.knob, "value": g.value, "baseline": g.baseline, "metric": g.metric, "scale": g.scale,
                 "label": g.label, "reason": g.reason, "turns_positive": _num(g.turns_positive),
                 "turns_positive_interval": [_num(g.turns_positive_lo), _num(g.turns_positive_hi)],
                 "points": [{"x": float(x), "gain": float(y), "lo": float(lo), "hi": float(hi)}
                            for x, y, lo, hi in zip(g.x, g.gain, g.lo, g.hi, strict=True)]} for g in gains]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(title=f"{metric} gain over {knob}={gains[0].baseline if gains else baseline}")
    for col in ("value", "gain, smallest", "gain, largest", "turns positive at", "label"):
        table.add_column(col, justify="left" if col in ("value", "label") else "right",
                         no_wrap=col in ("value", "label"))
    for g in gains:
        at = "-" if math.isnan(g.turns_positive) else f"{g.turns_positive:.3g}"
        if math.isfinite(g.turns_positive_lo) or math.isfinite(g.turns_positive_hi):
            at += f" [{_end(g.turns_positive_lo, g.x)}, {_end(g.turns_positive_hi, g.x)}]"
        table.add_row(g.value, f"{g.gain[0]:+.3f} [{g.lo[0]:+.2f}, {g.hi[0]:+.2f}]",
                      f"{g.gain[-1]:+.3f} [{g.lo[-1]:+.2f}, {g.hi[-1]:+.2f}]", at, g.label)
    out_console.print(table)
