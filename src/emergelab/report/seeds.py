"""Report section: do different seeds converge to the same thing? (issue 14 §3) — only for folders
with at least `MIN_SEEDS` seeds per size, since the comparison loads every model's weights."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from emergelab.report.figures import COLORS
from emergelab.store import Store

MIN_SEEDS = 5


def _html(fig: go.Figure) -> str:
    fig.update_layout(height=380, margin={"l": 60, "r": 20, "t": 50, "b": 50}, template="plotly_white")
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def _enough_seeds(folder: Path) -> bool:
    with Store(folder, read_only=True) as store:
        seeds: dict[tuple[str, str], set[int]] = {}
        for r in store.runs():
            if r.source == "native" and r.seed is not None:
                seeds.setdefault((r.task, r.model), set()).add(r.seed)
    return bool(seeds) and max(len(s) for s in seeds.values()) >= MIN_SEEDS


def seeds_section_html(folder: Path) -> str:
    """"" unless some size has ≥ MIN_SEEDS seeds."""
    from emergelab.analysis.seeds import seed_study, summarize

    if not _enough_seeds(folder):
        return ""
    study = seed_study(folder)
    rows = summarize(study)
    if not rows:
        return ""
    parts = ["<h2>Do seeds converge to the same thing?</h2><p class=\"note\">Per size, pairs of seeds compared on "
             "the final test answers (share of identical answers), on the final residual stream at the last prompt "
             "position (linear CKA: 1 = the same features up to rotation and scale) and in weight space (loss "
             "barrier on the straight line between the two weights, nats per answer token above the chord). "
             "Filled markers: pairs where both seeds solve the task (exact match ≥ 0.5).</p>"]
    fig = go.Figure()
    for i, (field, name) in enumerate((("identical", "same answer"), ("cka", "CKA"))):
        for solved in (True, False):
            ps = [p for p in study.pairs if p.both_solve == solved]
            fig.add_trace(go.Scatter(x=[p.params for p in ps], y=[getattr(p, field) for p in ps], mode="markers",
                                     name=f"{name}{'' if solved else ' (not both solve)'}",
                                     marker={"color": COLORS[i], "symbol": "circle" if solved else "circle-open"}))
    fig.update_layout(title="agreement between seeds vs N", xaxis={"type": "log", "title": "N (non-embedding)"},
                      yaxis={"title": "share / CKA", "range": [0, 1.05]})
    barrier = go.Figure()
    barrier.add_trace(go.Scatter(x=[p.params for p in study.pairs], y=[p.barrier for p in study.pairs],
                                 mode="markers", name="loss barrier", marker={"color": COLORS[2]}))
    barrier.add_trace(go.Scatter(x=[p.params for p in study.pairs], y=[p.end_loss for p in study.pairs],
                                 mode="markers", name="loss at the end points", marker={"color": COLORS[3]}))
    barrier.update_layout(title="linear mode connectivity", xaxis={"type": "log", "title": "N (non-embedding)"},
                          yaxis={"title": "nats per answer token"})
    steps = go.Figure()
    finite = [r for r in study.runs if np.isfinite(r.emergence_step)]
    steps.add_trace(go.Scatter(x=[r.params for r in finite], y=[r.emergence_step for r in finite], mode="markers",
                               text=[f"seed {r.seed}" for r in finite], name="emergence step"))
    steps.update_layout(title="each seed's emergence step", xaxis={"type": "log", "title": "N (non-embedding)"},
                        yaxis={"type": "log", "title": "step where exact match reaches 0.5"})
    table = ["<table><tr><th>N</th><th>solved</th><th>emergence steps</th><th>same answer</th><th>same error</th>"
             "<th>CKA</th><th>barrier</th></tr>"]
    for r in rows:
        table.append(f"<tr><td>{r.params:.3g}</td><td>{r.solved}/{r.seeds}</td><td>{r.step_lo:.0f}–{r.step_hi:.0f}</td>"
                     f"<td>{r.identical_solved:.3f}</td><td>{r.same_errors_solved:.2f}</td><td>{r.cka_solved:.2f}</td>"
                     f"<td>{r.barrier_solved:.2f}</td></tr>")
    table.append("</table><p class=\"note\">Means over pairs where both seeds solve the task.</p>")
    thresholds = ", ".join(f"seed {t.seed}: {t.threshold_params:.3g}" for t in study.thresholds)
    parts += [_html(fig), _html(barrier), _html(steps), "".join(table),
              f"<p>Threshold N (final exact match reaches 0.5) per seed — {html.escape(thresholds)}.</p>"]
    return "\n".join(parts)
