"""Training-time phase changes: metrics and progress probes vs step per model, with the transition.

Grokking and induction heads are emergence over *training time* at a fixed size, so this section
groups by (task, model) and plots, against the step, the mean over seeds of: the test metrics, the
train/test losses and every probe stored in `checkpoints.extra` (evaluate/progress.py). A dashed
vertical line marks each model's transition step on every panel, so one can see which probes move
before the test metric does.

Transition rule (simple and documented, so it can be checked by hand): the step at which the
metric first crosses halfway between its value at the first and at the last checkpoint,
interpolated linearly in log(step) between the two checkpoints that bracket the crossing (steps
are log-spaced). No transition is reported when the metric changes by less than `min_change`
(as a share of its scale) — a flat curve has no phase change.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from emergelab.analysis.curve import Curve
from emergelab.analysis.curves import MetricRow
from emergelab.report.style import model_order, size_colors
from emergelab.store import Store

HEADLINE = ("exact_match", "token_accuracy")  # the metric whose transition is marked, first found wins
PANELS_PER_ROW = 4


def transition_step(steps: np.ndarray, values: np.ndarray, min_change: float = 0.1) -> float | None:
    """Half-range crossing of a metric over training (see the module docstring); None if flat.

    `min_change` is relative to max(|first|, |last|, 1), so for accuracies it is an absolute 0.1."""
    order = np.argsort(steps)
    x, y = np.asarray(steps, float)[order], np.asarray(values, float)[order]
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(y) < 2:
        return None
    first, last = y[0], y[-1]
    if abs(last - first) < min_change * max(abs(first), abs(last), 1.0):
        return None
    half = (first + last) / 2
    above = (y - half) * np.sign(last - first) >= 0
    i = int(np.argmax(above))  # first checkpoint on the far side of the midpoint
    if i == 0:
        return float(x[0])
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    frac = 0.0 if y1 == y0 else (half - y0) / (y1 - y0)
    if x0 > 0:
        return float(math.exp(math.log(x0) + frac * (math.log(x1) - math.log(x0))))
    return float(x0 + frac * (x1 - x0))


@dataclass
class Series:
    """One quantity of one model over training: steps and the mean over seeds."""

    task: str
    model: str
    quantity: str
    steps: np.ndarray
    values: np.ndarray


def _mean_series(points: dict[tuple[str, str, str], dict[int, list[float]]]) -> list[Series]:
    out = []
    for (task, model, quantity), by_step in sorted(points.items()):
        steps = np.array(sorted(by_step))
        values = np.array([np.nanmean(by_step[s]) if np.isfinite(by_step[s]).any() else np.nan for s in steps])
        out.append(Series(task, model, quantity, steps, values))
    return out


def collect_series(store: Store, rows: list[MetricRow]) -> list[Series]:
    """Metric rows plus stored checkpoint losses and probes, averaged over seeds per (task, model)."""
    points: dict[tuple[str, str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        points[(r.task, r.model, r.metric)][r.step].append(r.value)
    for run in store.runs():
        if run.source != "native":
            continue
        for ck in store.checkpoints(run.run_id):
            values = {"test_loss": ck.test_loss, "train_loss": ck.train_loss, **ck.extra}
            for name, v in values.items():
                if v is not None:  # the train loss of step 0 (before any batch) is stored as None
                    points[(run.task, run.model, name)][ck.step].append(float(v))
    return _mean_series(points)


def _headline(series: list[Series]) -> str | None:
    names = {s.quantity for s in series}
    return next((m for m in HEADLINE if m in names), "test_loss" if "test_loss" in names else None)


def training_figure(series: list[Series], title: str, transitions: dict[str, float | None],
                    colors: dict[str, str] | None = None) -> go.Figure:
    """One panel per quantity, a line per model (in the order and colours of `colors`, by size),
    its transition step as a dashed vertical line at that step (shapes take data values, also on
    a log axis)."""
    quantities = list(dict.fromkeys(s.quantity for s in series))
    present = {s.model for s in series}
    colors = colors or size_colors(sorted(present))
    models = [m for m in colors if m in present] + sorted(present - set(colors))
    cols = min(PANELS_PER_ROW, len(quantities))
    nrows = math.ceil(len(quantities) / cols)
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=quantities, vertical_spacing=0.5 / max(nrows, 1) / 1.5)
    lines = []  # the transition lines, added in one go: add_vline validates the whole figure per call
    for q_i, quantity in enumerate(quantities):
        row, col = q_i // cols + 1, q_i % cols + 1
        axes = fig.get_subplot(row, col)
        xref, yref = axes.xaxis.plotly_name.replace("axis", ""), axes.yaxis.plotly_name.replace("axis", "")
        for model in models:
            color = colors.get(model, "#7f7f7f")
            for s in series:
                if s.quantity == quantity and s.model == model:
                    pos = s.steps > 0  # log-x axis
                    fig.add_trace(go.Scatter(x=s.steps[pos], y=s.values[pos], mode="lines+markers", name=model,
                                             legendgroup=model, showlegend=q_i == 0, line={"color": color}),
                                  row=row, col=col)
            step = transitions.get(model)
            if step:
                lines.append({"type": "line", "x0": step, "x1": step, "xref": xref, "y0": 0, "y1": 1,
                              "yref": f"{yref} domain", "line": {"dash": "dash", "color": color, "width": 1}})
        fig.update_xaxes(type="log", title_text="training step" if row == nrows else None, row=row, col=col)
    fig.update_layout(shapes=lines, title=title, height=300 * nrows + 60, width=max(650, 320 * cols), margin={"t": 70, "b": 50})
    return fig


def training_section_html(folder: str | Path, rows: list[MetricRow], fig_html,
                          colors: dict[str, str] | None = None) -> str:
    """The "Training dynamics" section, or "" when no run has enough checkpoints to show dynamics.

    `fig_html` turns a plotly figure into an HTML fragment (the page's own `_fig`); `colors` maps
    models, in size order, to the report's colours (default: from the rows' sizes)."""
    with Store(folder, read_only=True) as store:
        series = collect_series(store, rows)
    if colors is None:
        colors = size_colors(model_order({r.model: r.non_embedding_params for r in rows}))
    parts: list[str] = []
    table: list[tuple[str, str, str, str]] = []
    for task in dict.fromkeys(s.task for s in series):
        task_series = [s for s in series if s.task == task and len(s.steps) >= 4]
        headline = _headline(task_series)
        if headline is None:
            continue
        found = {s.model: transition_step(s.steps, s.values) for s in task_series if s.quantity == headline}
        transitions = {m: found[m] for m in [m for m in colors if m in found] + sorted(set(found) - set(colors))}
        for model, step in transitions.items():
            table.append((task, model, headline, "none" if step is None else f"{step:,.0f}"))
        parts.append(fig_html(training_figure(task_series, f"{task}: training dynamics", transitions, colors)))
    if not parts:
        return ""
    rows_html = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in table)
    return "\n".join([
        "<h2>Training dynamics</h2>",
        '<p class="note">Mean over seeds per model. Dashed lines: the transition step of the headline metric — '
        "where it first crosses halfway between its first and last checkpoint values (log-interpolated "
        "between checkpoints); none when it moves by less than 0.1. Probes (train accuracy, weight norm, "
        "Fourier power, prefix matching, …) that move before that line are precursors of the phase change.</p>",
        "<table><thead><tr><th>task</th><th>model</th><th>metric</th><th>transition step</th></tr></thead>"
        f"<tbody>{rows_html}</tbody></table>",
        *parts,
    ])


def checkpoint_curves_figure(curves: list[Curve], title: str, colors: dict[str, str]) -> go.Figure:
    """Imported results with checkpoints: each metric vs training step, a line per model (by size).
    Step 0 cannot sit on a log axis and is left out (the caption says so)."""
    metrics = list(dict.fromkeys((c.metric, c.shots) for c in curves))
    cols = min(PANELS_PER_ROW, len(metrics))
    nrows = math.ceil(len(metrics) / cols)
    names = [m if s is None else f"{m} ({s}-shot)" for m, s in metrics]
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=names, vertical_spacing=0.5 / max(nrows, 1) / 1.5)
    shown: set[str] = set()
    for i, key in enumerate(metrics):
        row, col = i // cols + 1, i % cols + 1
        for model in colors:
            for c in curves:
                if (c.metric, c.shots) == key and c.model == model:
                    pos = c.x > 0
                    fig.add_trace(go.Scatter(x=c.x[pos], y=c.y[pos], mode="lines+markers", name=model,
                                             legendgroup=model, showlegend=model not in shown,
                                             line={"color": colors[model]}), row=row, col=col)
                    shown.add(model)
        fig.update_xaxes(type="log", title_text="training step" if row == nrows else None, row=row, col=col)
    fig.update_layout(title=title, height=300 * nrows + 60, width=max(650, 320 * cols), margin={"t": 70, "b": 50})
    return fig


def checkpoint_curves_html(curves: list[Curve], sizes: dict[str, float], fig_html) -> str:
    """"Over training" for imported checkpoints (e.g. Pythia's): one figure per task with a line
    per model, or "" when no model has two checkpoints after step 0."""
    if not any(np.sum(c.x > 0) >= 2 for c in curves):
        return ""
    colors = size_colors(model_order({m: sizes.get(m) for m in {c.model for c in curves}}))
    parts = ["<h2>Over training (imported checkpoints)</h2>",
             '<p class="note">Each imported model\'s metrics at its stored checkpoints, darker = smaller; '
             "step 0 (before training) is left off the log axis.</p>"]
    for task in dict.fromkeys(c.task for c in curves):
        task_curves = [c for c in curves if c.task == task]
        parts.append(f'<div data-task="{html.escape(task)}">'
                     f"{fig_html(checkpoint_curves_figure(task_curves, f'{task}: over training', colors))}</div>")
    return "\n".join(parts)
