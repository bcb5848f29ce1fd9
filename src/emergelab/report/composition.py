"""Report section: skill composition (issue 14 §1) — success on held-out k-sets of skills by size,
k* against N with its power law, next to "10× doubles k" and the skill_graph theory's slope."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from emergelab.report.figures import COLORS


def _html(fig: go.Figure) -> str:
    fig.update_layout(height=380, margin={"l": 60, "r": 20, "t": 50, "b": 50}, template="plotly_white")
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def composition_section_html(folder: Path, theory: bool = True) -> str:
    """"" when the folder has no skill_mix runs."""
    from emergelab.analysis.composition import (
        DOUBLING_GAMMA,
        LEVEL,
        fit_k_star_scaling,
        skill_curves,
        skill_graph_prediction,
    )

    curves = skill_curves(folder, n_boot=500)
    if not curves:
        return ""
    fits = {f.task: f for f in fit_k_star_scaling(curves)}
    cross_fits = {f.task: f for f in fit_k_star_scaling(curves, "k_cross")}
    predicted = skill_graph_prediction() if theory else None
    parts = ["<h2>Skill composition</h2><p class=\"note\">Every test example names a set of k skills never seen "
             "together in training (k above the dashed line: larger than any training set). Bands: 95 % bootstrap "
             f"intervals over seeds and examples. k* is the largest k with exact match ≥ {LEVEL:g}; "
             "\"10× scale doubles k\" (Arora &amp; Goyal 2023) is k* ∝ N<sup>0.30</sup>.</p>"]
    for task in sorted({c.task for c in curves}):
        rows = [c for c in curves if c.task == task]
        by_k = go.Figure()
        for i, c in enumerate(rows):
            color = COLORS[i % len(COLORS)]
            by_k.add_trace(go.Scatter(x=c.k, y=c.success, mode="lines+markers", name=f"N={c.params:.3g}",
                                      line={"color": color},
                                      error_y={"type": "data", "symmetric": False, "array": c.hi - c.success,
                                               "arrayminus": c.success - c.lo}))
        by_k.add_hline(y=LEVEL, line_dash="dot", line_color="#888")
        by_k.add_vline(x=rows[0].k_train + 0.5, line_dash="dash", line_color="#888")
        by_k.update_layout(title=f"{task}: success on held-out k-sets", xaxis={"title": "k (skills combined)", "dtick": 1},
                           yaxis={"title": "exact match", "range": [-0.02, 1.02]})
        n = np.array([c.params for c in rows])
        ks = np.array([c.k_star for c in rows], dtype=float)
        star = go.Figure()
        star.add_trace(go.Scatter(x=n, y=ks, mode="markers", name="k* measured", marker={"color": COLORS[0], "size": 9},
                                  error_y={"type": "data", "symmetric": False,
                                           "array": [c.k_star_hi - c.k_star for c in rows],
                                           "arrayminus": [c.k_star - c.k_star_lo for c in rows]}))
        note = ""
        if (f := fits.get(task)) is not None:
            grid = np.logspace(np.log10(n.min()), np.log10(n.max()), 20)
            star.add_trace(go.Scatter(x=grid, y=f.prefactor * grid**f.gamma, mode="lines", name=f"fit N^{f.gamma:.2f}",
                                      line={"color": COLORS[0], "dash": "dash"}))
            anchor = np.exp(np.mean(np.log(grid)))
            k_anchor = f.prefactor * anchor**f.gamma
            slopes = [("10× doubles k: N^0.30", DOUBLING_GAMMA, "#888")]
            if predicted:
                slopes.append((f"skill_graph theory: N^{predicted.gamma:.2f}", predicted.gamma, COLORS[2]))
            for name, g, color in slopes:
                star.add_trace(go.Scatter(x=grid, y=k_anchor * (grid / anchor) ** g, mode="lines", name=name,
                                          line={"color": color, "dash": "dot"}))
            note = (f"<p>k* ∝ N<sup>{f.gamma:.3f}</sup> [{f.gamma_lo:.3f}, {f.gamma_hi:.3f}] over {f.sizes} sizes "
                    f"(N {f.n_min:.3g}–{f.n_max:.3g}, {f.n_max / f.n_min:.0f}×): 10× N multiplies k* by "
                    f"{10 ** f.gamma:.2f}.")
            if (g := cross_fits.get(task)) is not None:
                note += (f" On the continuous k_cross (where success falls through {LEVEL:g}, interpolated between "
                         f"k): N<sup>{g.gamma:.3f}</sup> [{g.gamma_lo:.3f}, {g.gamma_hi:.3f}].")
            if predicted:
                note += (f" The skill_graph theory (error rate halving per 10×) predicts γ = {predicted.gamma:.3f} "
                         f"(crossing ratio {predicted.crossing_ratio:.2f}).")
            note += "</p>"
        if (ks == 0).any():
            note += "<p>Sizes with k* = 0 (not even single skills) lie off the log axis and out of the fit.</p>"
        if any(c.censored for c in rows):
            note += "<p>Some sizes solve every tested k: their k* is a lower bound.</p>"
        star.update_layout(title=f"{task}: k* against N", xaxis={"type": "log", "title": "N (non-embedding)"},
                           yaxis={"type": "log", "title": "k* (largest k with success ≥ 0.5)"})
        parts += [f"<h3>{html.escape(task)}</h3>", _html(by_k), _html(star), note]
    return "\n".join(parts)
