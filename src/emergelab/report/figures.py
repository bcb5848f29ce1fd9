"""Figures: interactive Plotly panels for the HTML page and matching static PNGs (Matplotlib)."""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from emergelab.analysis.curve import Curve

SCALE_LABEL = {
    "non_embedding_params": "non-embedding parameters N", "params": "parameters", "flops": "training compute C = 6ND",
    "tokens": "tokens seen", "step": "training step", "loss": "loss",
}
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"]


def metric_panels(curves: list[Curve], title: str, per_row: int = 3) -> go.Figure:
    """One task: every metric (and series: shots, knob) vs scale side by side (rows of three),
    log-x, 95 % intervals as error bars, chance dotted. Points of different model families
    (imported results) get one colour per family, named in the legend."""
    from emergelab.report.style import category_colors

    rows = -(-len(curves) // per_row)
    titles = [f"{c.metric} ({c.series})" if c.series else c.metric for c in curves]
    fig = make_subplots(rows=rows, cols=per_row, subplot_titles=titles,
                        horizontal_spacing=0.07, vertical_spacing=0.32 / rows)
    families = category_colors(f for c in curves for f in c.families if f)
    shown: set[str] = set()
    for i, c in enumerate(curves):
        row, col = i // per_row + 1, i % per_row + 1
        point_family = c.families if len(c.families) == len(c) else [""] * len(c)
        split = len(set(point_family)) > 1
        for family in dict.fromkeys(point_family):
            at = np.array([f == family for f in point_family])
            color = families.get(family, COLORS[0]) if split else COLORS[0]
            fig.add_trace(go.Scatter(
                x=c.x[at], y=c.y[at], mode="lines+markers", name=family or c.metric, legendgroup=family,
                showlegend=split and family not in shown, line={"color": color},
                error_y={"type": "data", "symmetric": False, "array": (c.hi - c.y)[at], "arrayminus": (c.y - c.lo)[at]},
                text=[c.labels[j] for j in np.flatnonzero(at)] if c.labels else None,
                hovertemplate="%{text}<br>x=%{x:.3g}<br>y=%{y:.4g}<extra></extra>",
            ), row=row, col=col)
            if split:
                shown.add(family)
        if c.chance is not None:
            fig.add_hline(y=c.chance, line={"dash": "dot", "color": "grey"}, row=row, col=col)
        fig.update_xaxes(type="log", title_text=SCALE_LABEL.get(c.scale, c.scale), title_font_size=11, row=row, col=col)
    fig.update_layout(title=title, height=300 * rows + 60, width=1150, margin={"t": 70, "b": 50, "l": 40, "r": 20})
    return fig


def curve_figure(xs: list[np.ndarray], ys: list[np.ndarray], labels: list[str], title: str, x_title: str,
                 y_title: str, log_x: bool = False, log_y: bool = False) -> go.Figure:
    fig = go.Figure()
    for i, (x, y, label) in enumerate(zip(xs, ys, labels, strict=True)):
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=label, line={"color": COLORS[i % len(COLORS)]}))
    fig.update_xaxes(type="log" if log_x else "linear", title_text=x_title)
    fig.update_yaxes(type="log" if log_y else "linear", title_text=y_title)
    fig.update_layout(title=title, height=360, width=640, margin={"t": 60})
    return fig


def _log_ticks(ax, lo: float, hi: float) -> None:
    """Readable labels on a log x-axis of any span: 1-2-5 per decade over a short range, 1-3 over
    a few decades, powers of ten beyond, written compactly ("2k", "50k", "1G"). matplotlib's
    default labels every minor tick of a short range and they run together ("2×10³4×10³6×10³10⁴")."""
    from matplotlib.ticker import EngFormatter, LogLocator, NullFormatter

    decades = np.log10(hi / lo) if lo > 0 and hi > lo else 1.0
    subs = (1.0, 2.0, 5.0) if decades <= 1.6 else (1.0, 3.0) if decades <= 3 else (1.0,)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs, numticks=7))
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.xaxis.set_minor_formatter(NullFormatter())


def metric_png_figure(curves: list[Curve], title: str):
    """The same panels as `metric_panels` as a matplotlib figure. A bare `Figure`, not pyplot:
    no GUI backend or global figure list to import and manage (pyplot's import alone took
    ~0.9 s of the demo's report), and nothing to close."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.2 * len(curves), 3.0))
    axes = fig.subplots(1, len(curves), squeeze=False)
    for ax, c in zip(axes[0], curves, strict=True):
        ax.errorbar(c.x, c.y, yerr=[c.y - c.lo, c.hi - c.y], marker="o", ms=4, capsize=2, color=COLORS[0])
        if c.chance is not None:
            ax.axhline(c.chance, ls=":", color="grey", lw=1)
        ax.set_xscale("log")
        _log_ticks(ax, float(np.min(c.x)), float(np.max(c.x)))
        ax.set_title(c.metric, fontsize=10)
        ax.set_xlabel(SCALE_LABEL.get(c.scale, c.scale), fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=11)
    # fixed margins in inches (tight_layout measured every label: 0.4 s of the demo's report): room
    # for the suptitle and panel title above, tick labels and the axis title below, and y tick
    # labels of up to ~6 characters at 7 pt to the left of each panel
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=0.5 / w, right=1 - 0.12 / w, bottom=0.5 / h, top=1 - 0.62 / h,
                        wspace=0.55 / (w / len(curves) - 0.55))
    return fig


def save_metric_png(curves: list[Curve], title: str, path: Path) -> Path:
    """The metric panels as a static PNG for papers and slides."""
    fig = metric_png_figure(curves, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


class PngsAside:
    """Draw the report's metric PNGs in a forked child while this process builds the page.

    Drawing them is pure Python and one of the report's largest parts (≈ 0.75 s of the demo's
    ≈ 2.5 s), and at report time the second core is idle; a fork inherits the curves and the
    warmed-up matplotlib (fonts), so nothing is imported again. Use as a context manager around
    the page's construction: leaving it waits for the child and raises the child's own exception
    (a PermissionError stays an environment error for the CLI), before the page is written. Where
    fork is unavailable the PNGs are drawn in-process (same files, only slower)."""

    def __init__(self) -> None:
        self._child: multiprocessing.process.BaseProcess | None = None
        self._outcome: Connection | None = None

    def start(self, jobs: list[tuple[list[Curve], str, Path]]) -> None:
        """Begin drawing `(curves, title, path)` jobs; one call per `with` block (a second child
        would go unwatched)."""
        if not jobs:
            return
        if "fork" not in multiprocessing.get_all_start_methods():
            _save_all(jobs)
            return
        ctx = multiprocessing.get_context("fork")
        self._outcome, sender = ctx.Pipe(duplex=False)
        self._child = ctx.Process(target=_save_all_and_tell, args=(jobs, sender), name="report-pngs", daemon=True)
        self._child.start()
        sender.close()  # the child holds the only writing end: its death reads as EOF here

    def __enter__(self) -> PngsAside:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        child, outcome, self._child, self._outcome = self._child, self._outcome, None, None
        if child is None or outcome is None:
            return
        if exc_type is not None:  # the page failed: the figures are not wanted
            child.terminate()
            child.join()
            outcome.close()
            return
        try:
            error = outcome.recv()
        except EOFError:
            error = None
        child.join()
        outcome.close()
        if error is None and child.exitcode != 0:
            error = RuntimeError(f"the process drawing the report's PNG figures died (exit code {child.exitcode})")
        if error is not None:
            raise error


def _save_all(jobs: list[tuple[list[Curve], str, Path]]) -> None:
    for curves, title, path in jobs:
        save_metric_png(curves, title, path)


def _save_all_and_tell(jobs: list[tuple[list[Curve], str, Path]], outcome: Connection) -> None:
    """In the child: draw, then send None, or the exception for the parent to raise as its own."""
    try:
        _save_all(jobs)
        outcome.send(None)
    except BaseException as e:  # noqa: BLE001  handed to the parent, which raises it
        try:
            outcome.send(e)
        except Exception:  # noqa: BLE001  an exception that cannot be pickled: its text
            outcome.send(RuntimeError(f"drawing the report's PNG figures failed: {type(e).__name__}: {e}"))
