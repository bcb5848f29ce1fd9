"""Report section: shared circuits across tasks (issue 14 §4) — only for folders with models trained
on a task mix whose weights were saved, since it re-runs every such model on each task."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from emergelab.report.figures import COLORS


def _html(fig: go.Figure, height: int = 400) -> str:
    fig.update_layout(height=height, margin={"l": 60, "r": 20, "t": 60, "b": 50}, template="plotly_white")
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def _answer(sizes, measure: str) -> str:
    """One sentence per measure: mean `shared` over pairs in the last block, smallest vs largest size."""
    rows = [s for s in sizes if s.measure == measure]
    if not rows:
        return ""
    last = max(s.layer for s in rows)
    by_n = {n: [s.shared for s in rows if s.params == n and s.layer == last] for n in sorted({s.params for s in rows})}
    (n0, v0), (n1, v1) = next(iter(by_n.items())), list(by_n.items())[-1]
    return (f"<li><b>{html.escape(measure)}</b>, block {last + 1}: shared {np.nanmean(v0):.2f} at N = {n0:.3g} → "
            f"{np.nanmean(v1):.2f} at N = {n1:.3g} (mean over task pairs and seeds)</li>")


def shared_circuits_section_html(folder: Path) -> str:
    """"" unless the folder holds mix models with saved weights."""
    import warnings

    from emergelab.analysis.shared_circuits import MEASURES, mix_models, shared_circuit_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the study below warns about models without weights
        if not mix_models(folder):
            return ""
    study = shared_circuit_study(folder)
    parts = ["<h2>Shared circuits across tasks</h2><p class=\"note\">Each model learned several tasks at once. Per "
             "block and pair of tasks: linear CKA between the tasks' activations at the answer positions (units as "
             "the paired observations: 1 = both tasks vary the same units in the same pattern) of the residual "
             "stream and of the MLP units, and the share of the 10 % most important MLP units (by mean-ablation) "
             "the tasks have in common. <i>shared</i> = (value − null) / (ceiling − null): 0 = no more than "
             "chance (units' correspondence broken), 1 = as much as two halves of one task's examples. Bars: 95 % "
             "bootstrap intervals over test examples; means over seeds. Read them where both tasks are solved "
             "(exact match in the last figure).</p>"]
    for mix in dict.fromkeys(s.mix for s in study.scores):
        sizes = [s for s in study.sizes if s.mix == mix]
        scores = [s for s in study.scores if s.mix == mix]
        names = list(MEASURES)
        fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, shared_yaxes=True)
        series = sorted({(s.pair, s.layer) for s in sizes})
        for col, name in enumerate(names, start=1):
            for i, (pair, layer) in enumerate(series):
                pts = sorted((s for s in sizes if s.measure == name and s.pair == pair and s.layer == layer),
                             key=lambda s: s.params)
                fig.add_trace(go.Scatter(
                    x=[s.params for s in pts], y=[s.shared for s in pts], mode="lines+markers",
                    name=f"{pair}, block {layer + 1}", legendgroup=f"{pair}{layer}", showlegend=col == 1,
                    line={"color": COLORS[i % len(COLORS)], "dash": "solid" if layer == series[-1][1] else "dot"},
                    error_y={"type": "data", "symmetric": False,
                             "array": [max(s.shared_hi - s.shared, 0) for s in pts],
                             "arrayminus": [max(s.shared - s.shared_lo, 0) for s in pts]}), row=1, col=col)
            fig.update_xaxes(type="log", title="N (non-embedding)", row=1, col=col)
        fig.update_yaxes(title="shared (0 = chance, 1 = same task)", row=1, col=1)
        fig.update_layout(title=f"{mix}: how much the tasks share, vs size")
        solved = go.Figure()
        for i, task in enumerate(dict.fromkeys(s.task for s in scores)):
            ns = sorted({s.params for s in scores if s.task == task})
            solved.add_trace(go.Scatter(x=ns, y=[np.mean([s.exact_match for s in scores if s.task == task and s.params == n])
                                                 for n in ns], mode="lines+markers", name=task,
                                        line={"color": COLORS[i % len(COLORS)]}))
        solved.update_layout(title=f"{mix}: exact match per task on the examples analysed",
                             xaxis={"type": "log", "title": "N (non-embedding)"}, yaxis={"range": [0, 1.05]})
        table = ["<table><tr><th>measure</th><th>N</th><th>block</th><th>tasks</th><th>value [95 %]</th><th>null</th>"
                 "<th>ceiling</th><th>shared</th></tr>"]
        for s in sorted(sizes, key=lambda s: (names.index(s.measure), s.params, s.layer, s.pair)):
            table.append(f"<tr><td>{s.measure}</td><td>{s.params:.3g}</td><td>{s.layer + 1}</td>"
                         f"<td>{html.escape(s.pair)}</td><td>{s.value:.2f} [{s.lo:.2f}, {s.hi:.2f}]</td>"
                         f"<td>{s.null:.2f}</td><td>{s.ceiling:.2f}</td><td>{s.shared:.2f}</td></tr>")
        table.append("</table>")
        answers = "".join(_answer(sizes, m) for m in names)
        parts += [f"<h3>{html.escape(mix)}</h3><ul>{answers}</ul>", _html(fig, 430), _html(solved, 360),
                  "".join(table)]
    return "\n".join(parts)
