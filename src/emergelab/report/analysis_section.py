"""The analysis part of the HTML report: verdict table, mirage figures, forecast back-tests.

Returns HTML *fragments*; figures are embedded with
`plotly.io.to_html(fig, full_html=False, include_plotlyjs=False)` because the page template
loads plotly.js once for the whole report.

The mirage figure shows the discrete metric as observed and, for every continuous route, what
that metric predicts for it — the smooth fit on the smaller models passed through its link
(e.g. token accuracy^L) with its 95 % band — so the reader sees the jump explained (the points
inside a band) or missed (above every band).
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from emergelab.analysis.curve import Curve
from emergelab.analysis.forecast import Forecast
from emergelab.analysis.mirage import MirageResult
from emergelab.analysis.summary import COLUMNS, AnalysisRow
from emergelab.report.evidence import TaskEvidence, gather
from emergelab.report.figures import SCALE_LABEL
from emergelab.report.style import category_colors
from emergelab.report.summary import anchor
from emergelab.report.text import fmt_scale, fmt_value

_BAND = "rgba(99, 110, 250, 0.18)"
TABLE_COLUMNS = ("task", "metric", "n_points", "emergence_score", "linearity", "verdict", "threshold", "mirage")


def _fig_html(fig: go.Figure, div_id: str | None = None) -> str:
    fig.update_layout(margin=dict(l=60, r=20, t=50, b=50), template="plotly_white")
    if fig.layout.height is None:
        fig.update_layout(height=380)
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False})


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _band(fig: go.Figure, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, name: str, color: str = _BAND,
          group: str | None = None, visible: bool | str = True) -> None:
    # mode="lines": plotly's default for few points adds markers, which would pass for data at the band's corners
    fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([hi, lo[::-1]]), fill="toself",
                             mode="lines", fillcolor=color, line=dict(width=0), name=name, hoverinfo="skip", legendgroup=group,
                             showlegend=group is None, visible=visible))


def _points(fig: go.Figure, c: Curve, name: str) -> None:
    err = None
    if np.isfinite(c.lo).all() and np.isfinite(c.hi).all():
        err = dict(type="data", symmetric=False, array=c.hi - c.y, arrayminus=c.y - c.lo)
    fig.add_trace(go.Scatter(x=c.x, y=c.y, mode="markers+lines", name=name, error_y=err,
                             line=dict(color="black"), marker=dict(size=8), text=c.labels or None))


def verdict_table_html(rows: list[AnalysisRow], series: list[str] | None = None) -> str:
    """One row per task × metric (× series: family, shots, knob, when given). The scores are the
    verdict's own (oriented so that higher is better), the same numbers the summary and
    `emergelab analyze` print."""
    with_series = series is not None and any(series)
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in TABLE_COLUMNS)
    if with_series:
        head = head.replace("<th>metric</th>", "<th>series</th><th>metric</th>", 1)
    body = []
    for i, r in enumerate(rows):
        cells = [f"<td>{html.escape(series[i])}</td>"] if with_series else []
        for c in TABLE_COLUMNS:
            v = getattr(r, c)
            if c == "threshold" and r.threshold is not None:
                text = fmt_scale(r.threshold)
                if r.threshold_lo is not None and r.threshold_hi is not None:
                    text += f" [{fmt_scale(r.threshold_lo)}, {fmt_scale(r.threshold_hi)}]"
            elif isinstance(v, float):
                text = fmt_value(v)
            else:
                text = "–" if v is None else str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
            if with_series and c == "task":
                cells.append(cells.pop(0))  # series after the task
        body.append(f'<tr class="verdict-{html.escape(r.verdict)}" data-task="{html.escape(r.task)}" '
                    f'title="{html.escape(r.reason)}">' + "".join(cells) + "</tr>")
    return (f'<table class="analysis-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            '<p class="note">Hover a row for the reason behind its verdict; `emergelab analyze` prints the same '
            "numbers. Columns: " + html.escape(", ".join(c for c in COLUMNS if c != "reason")) + ".</p>")


def mirage_figure(m: MirageResult) -> go.Figure:
    """The observed discrete metric and every route's prediction with its band (one colour each);
    dotted line: the largest model the routes were fitted on. When some route is informative, the
    undetermined ones start hidden (a click on the legend shows them): their bands cover most of the
    range and would bury the routes that decide."""
    fig = go.Figure()
    routes = [r for r in m.routes if np.isfinite(r.pred).any()]
    hide_undetermined = any(r.label != "undetermined" for r in routes)
    colors = category_colors(r.continuous_metric for r in routes)
    for r in routes:
        color = colors[r.continuous_metric]
        judged = int(np.sum(r.judged)) if len(r.judged) else 0
        inside = int(np.sum(r.covered)) if len(r.covered) else 0
        deciding = " — decided" if r.continuous_metric == m.deciding else ""
        name = f"{r.continuous_metric} via {r.link_label}: {r.label} ({inside}/{judged} inside){deciding}"
        ok = np.isfinite(r.lo) & np.isfinite(r.hi)
        visible = "legendonly" if hide_undetermined and r.label == "undetermined" else True
        _band(fig, r.x[ok], np.minimum(r.lo, r.hi)[ok], np.maximum(r.lo, r.hi)[ok], name, _rgba(color, 0.15),
              group=r.continuous_metric, visible=visible)
        fig.add_trace(go.Scatter(x=r.x, y=r.pred, mode="lines", name=name, legendgroup=r.continuous_metric,
                                 line=dict(color=color, dash="dash", width=3 if deciding else 2), visible=visible))
    fit_below = {r.fit_below for r in routes}
    for fb in sorted(fit_below):
        fig.add_vline(x=fb, line=dict(color="grey", dash="dot"))
    _points(fig, m.discrete, f"observed {m.discrete_metric}")
    fig.update_xaxes(type="log", title=SCALE_LABEL.get(m.discrete.scale, m.discrete.scale))
    fig.update_yaxes(title=m.discrete_metric)
    fig.update_layout(title=f"{m.task}: {m.discrete_metric} — mirage test: {m.label}",
                      legend=dict(orientation="h", yanchor="top", y=-0.2, font=dict(size=11)), height=480)
    return fig


def mirage_section_html(evidence: list[TaskEvidence]) -> str:
    """One mirage figure per emergent discrete metric, with its reasons; "" when there is none."""
    parts = []
    for ev in evidence:
        for metric, m in ev.mirages.items():
            if not any(np.isfinite(r.pred).any() for r in m.routes):
                continue
            parts.append(f'<div data-task="{html.escape(ev.title)}" id="{anchor("mirage", f"{ev.title} {metric}")}">')
            parts.append(_fig_html(mirage_figure(m)))
            others = [r.reason for r in m.routes if r.reason and r.continuous_metric != m.deciding]
            reasons = "; ".join([*m.reasons, *others])
            parts.append(f'<p class="note">{html.escape(reasons)}</p></div>')
    if not parts:
        return ""
    return "\n".join([
        "<h2>Metric artifact or genuine? (mirage test)</h2>",
        '<p class="note">Black: the discrete metric as observed (95 % intervals). Each dashed line is what one '
        "continuous metric predicts for it: fitted as a smooth power law on the models left of the dotted line, "
        "extrapolated, and passed through its link (p^L for per-token metrics over an answer of L tokens); "
        "shaded: its 95 % band. Points inside a band are explained by that smooth metric; points above every "
        "band are a genuine jump.</p>",
        *parts,
    ])


def forecast_figure(f: Forecast, curve: Curve | None = None) -> go.Figure:
    """Fitted points, forecast with interval, observed larger points; back-test region shaded."""
    fig = go.Figure()
    if len(f.x):
        fig.add_vrect(x0=f.fit_below, x1=float(np.max(f.x)), fillcolor="rgba(255, 161, 90, 0.12)",
                      line_width=0, annotation_text="back-test", annotation_position="top left")
    _band(fig, f.x, f.lo, f.hi, f"{int(f.level * 100)}% interval")
    fig.add_trace(go.Scatter(x=f.x, y=f.pred, mode="lines+markers", name=f"forecast ({f.method})", line=dict(dash="dash")))
    fig.add_trace(go.Scatter(x=f.x_fit, y=f.y_fit, mode="markers", name="fitted"))
    have = np.isfinite(f.observed)
    fig.add_trace(go.Scatter(x=f.x[have], y=f.observed[have], mode="markers", name="observed", marker=dict(symbol="x", size=10)))
    fig.update_xaxes(type="log", title=curve.scale if curve is not None else f.scale)
    fig.update_layout(title=f"{f.task}: {f.metric} — {f.method}")
    return fig


def analysis_section_html(
    curves: list[Curve], rows: list[AnalysisRow] | None = None, forecasts: list[Forecast] | None = None,
    evidence: list[TaskEvidence] | None = None,
) -> str:
    """HTML fragment: the verdict table, then (when given) forecast plots. `evidence` (from
    `report.evidence.gather`) is computed from `curves` when not given; `rows` default to its rows."""
    evidence = gather(curves) if evidence is None else evidence
    series = None
    if rows is None:
        rows = [r for ev in evidence for r in ev.rows]
        series = [ev.series for ev in evidence for _ in ev.rows]
    parts = ['<section class="analysis">', "<h2>Emergence scores and verdicts</h2>",
             verdict_table_html(rows, series)]
    if forecasts:
        parts.append("<h3>Forecasts from the smaller models</h3>")
        by_key = {(c.task, c.metric): c for c in curves}
        for f in forecasts:
            parts.append(_fig_html(forecast_figure(f, by_key.get((f.task, f.metric)))))
            s = f.summary()
            txt = ", ".join(f"{k} = {fmt_value(v) if isinstance(v, float) else v}" for k, v in s.items())
            parts.append(f"<p>{html.escape(txt)}{'; ' if f.notes else ''}{html.escape('; '.join(f.notes))}</p>")
    parts.append("</section>")
    return "\n".join(parts)
