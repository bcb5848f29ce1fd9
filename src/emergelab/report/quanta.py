"""Report section: monogenic vs polygenic (issue 14 §2; Michaud et al. 2023) — every subtask's accuracy
against N and against step (sharp, in order of frequency) beside the aggregate loss (a smooth power
law), with the fitted exponent next to the quantization model's (`analysis/quanta_curves.py`)."""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import sample_colorscale


def _html(fig: go.Figure) -> str:
    fig.update_layout(height=380, margin={"l": 60, "r": 20, "t": 50, "b": 50}, template="plotly_white")
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def _rank_colors(n: int) -> list[str]:
    """Subtask 0 (most frequent) dark, the rarest light."""
    return sample_colorscale("Viridis", [i / max(n - 1, 1) * 0.9 for i in range(n)])


def quanta_section_html(folder: Path) -> str:
    """"" when the folder has no multitask_sparse_parity runs."""
    from emergelab.analysis.quanta_curves import (
        LEARNED,
        fit_quanta_scaling,
        size_quanta,
        step_order_rho,
        trajectories,
    )

    rows = size_quanta(folder, n_boot=500)
    if not rows:
        return ""
    fits = {f.task: f for f in fit_quanta_scaling(rows, n_boot=500)}
    trajs = trajectories(folder)
    parts = ["<h2>Monogenic vs polygenic</h2><p class=\"note\">Multitask sparse parity: each subtask is the parity of "
             "its own few bits, seen in training with Zipf frequency (subtask 0 the most frequent) and tested on a "
             "balanced set. The quantization model (Michaud et al. 2023) predicts each subtask's accuracy jumps from "
             "chance (0.5) to 1, in order of frequency, while the aggregate loss (each subtask's test loss weighted by "
             "its training share) falls smoothly as a power law with the Zipf exponent α. Bands: 95 % bootstrap "
             "intervals over seeds and examples.</p>"]
    for task in sorted({r.task for r in rows}):
        pts = [r for r in rows if r.task == task]
        n = np.array([r.params for r in pts])
        acc = np.array([r.accuracy for r in pts])
        colors = _rank_colors(acc.shape[1])
        by_n = go.Figure()
        for t in range(acc.shape[1]):
            by_n.add_trace(go.Scatter(x=n, y=acc[:, t], mode="lines+markers", name=f"subtask {t}",
                                      line={"color": colors[t]}))
        by_n.add_hline(y=LEARNED, line_dash="dot", line_color="#888")
        by_n.update_layout(title=f"{task}: accuracy per subtask vs N", xaxis={"type": "log", "title": "N (non-embedding)"},
                           yaxis={"title": "accuracy", "range": [0.3, 1.02]})
        loss = go.Figure()
        y = np.array([r.aggregate_loss for r in pts])
        loss.add_trace(go.Scatter(x=n, y=y, mode="markers", name="aggregate loss",
                                  error_y={"type": "data", "symmetric": False,
                                           "array": [r.aggregate_hi - r.aggregate_loss for r in pts],
                                           "arrayminus": [r.aggregate_loss - r.aggregate_lo for r in pts]}))
        note = ""
        if (f := fits.get(task)) is not None:
            coef = np.polyfit(np.log10(n), np.log10(y), 1)
            loss.add_trace(go.Scatter(x=n, y=10 ** np.polyval(coef, np.log10(n)), mode="lines", line={"dash": "dash"},
                                      name=f"fit N^-{f.exponent_n:.2f}"))
            if math.isfinite(f.theory_learned):
                loss.add_trace(go.Scatter(x=n, y=y[0] * (n / n[0]) ** -f.alpha, mode="lines", line={"dash": "dot"},
                                          name=f"slope -α = -{f.alpha:.2f} (quanta model, n ∝ N)"))
            note = (f"<p>Aggregate loss ∝ N<sup>−{f.exponent_n:.3f}</sup> [{f.exponent_n_lo:.3f}, {f.exponent_n_hi:.3f}] "
                    f"(R² {f.r2_n:.3f}, {f.sizes} sizes); against the number of subtasks learned ∝ "
                    f"n<sup>−{f.exponent_learned:.3f}</sup>, where the quantization model gives {f.theory_learned:.3f} "
                    f"over the same n (α = {f.alpha:.3g}). Order in which subtasks reach accuracy {LEARNED:g} against "
                    f"their frequency rank: Spearman ρ(rank, onset N) = {f.order_rho:.2f} (1: the most frequent "
                    "always first; 0: unrelated).</p>")
        loss.update_layout(title=f"{task}: aggregate loss vs N", xaxis={"type": "log", "title": "N (non-embedding)"},
                           yaxis={"type": "log", "title": "loss (nats, weighted by training share)"})
        parts += [f"<h3>{html.escape(task)}</h3>", _html(by_n), _html(loss), note]
        mine = [t for t in trajs if t.task == task]
        if mine:
            big = mine[-1]
            steps = go.Figure()
            for t in range(big.accuracy.shape[1]):
                steps.add_trace(go.Scatter(x=big.steps, y=big.accuracy[:, t], mode="lines", name=f"subtask {t}",
                                           line={"color": colors[t]}))
            steps.add_trace(go.Scatter(x=big.steps, y=big.aggregate_loss, mode="lines", name="aggregate loss",
                                       yaxis="y2", line={"color": "black", "dash": "dash"}))
            steps.update_layout(title=f"{task}: over training at N = {big.params:.3g}",
                                xaxis={"type": "log", "title": "step"}, yaxis={"title": "accuracy", "range": [0.3, 1.02]},
                                yaxis2={"title": "aggregate loss", "overlaying": "y", "side": "right", "type": "log"})
            cells = "".join(
                f"<tr><td>{t.params:.3g}</td><td>{sum(np.isfinite(t.onset_step))}/{len(t.onset_step)}</td>"
                f"<td>{step_order_rho(t):.2f}</td>"
                f"<td>{np.nanmedian(t.subtask_width) if np.isfinite(t.subtask_width).any() else float('nan'):.2f}</td>"
                f"<td>{t.aggregate_width:.2f}</td></tr>" for t in mine)
            parts += [_html(steps),
                      "<table><thead><tr><th>N</th><th>subtasks learned over training</th><th>ρ(rank, onset step)</th>"
                      "<th>subtask rise 0.6→0.9 (median decades of steps)</th>"
                      "<th>aggregate loss 20→80 % of its fall (decades)</th></tr></thead>"
                      f"<tbody>{cells}</tbody></table>"]
    return "\n".join(parts)
