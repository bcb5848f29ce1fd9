"""Report sections for two of the field's open questions, drawn from analyses computed elsewhere:

* techniques that help only at scale — each knob value's gain over a baseline against scale
  (`analysis/gain.py`), with the zero line and the scale where the gain turns positive;
* loss = entropy + KL — each size's test loss split into the entropy floor and KL from the true
  answer distribution, with KL against N on log axes and its power-law exponent
  (`analysis/entropy_kl.py`).

Each returns an HTML fragment, or "" when the experiment holds nothing to show.
"""

from __future__ import annotations

import html
import math
import warnings
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from emergelab.analysis.curve import Curve
from emergelab.analysis.threshold import parse_group
from emergelab.report.figures import COLORS, SCALE_LABEL


def _html(fig: go.Figure) -> str:
    fig.update_layout(height=380, margin={"l": 60, "r": 20, "t": 50, "b": 50}, template="plotly_white")
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def _end(v: float) -> str:
    return "below the range" if v == -math.inf else "beyond the range" if v == math.inf else f"{v:.3g}"


def gain_section_html(curves: list[Curve], metric: str = "exact_match", n_boot: int = 1000) -> str:
    """Gain over the first knob value (sorted) for every knob the experiment turns."""
    from emergelab.analysis.gain import technique_gains

    knobs = sorted({k for c in curves if c.metric == metric for k in parse_group(c.group)})
    parts = []
    for knob in knobs:
        try:
            gains = technique_gains(curves, knob=knob, metric=metric, n_boot=n_boot)
        except ValueError as exc:
            warnings.warn(f"gain section, knob {knob}: {exc}", stacklevel=2)
            continue
        if not gains:
            continue
        fig = go.Figure()
        for i, g in enumerate(gains):
            color = COLORS[i % len(COLORS)]
            fig.add_trace(go.Scatter(x=g.x, y=g.gain, mode="lines+markers", name=f"{g.value} − {g.baseline}",
                                     line={"color": color},
                                     error_y={"type": "data", "symmetric": False, "array": g.hi - g.gain,
                                              "arrayminus": g.gain - g.lo}))
            if math.isfinite(g.turns_positive):
                fig.add_vline(x=g.turns_positive, line={"dash": "dash", "color": color})
        fig.add_hline(y=0, line={"color": "grey"})
        fig.update_layout(title=f"{metric} gain over {knob}={gains[0].baseline} vs scale",
                          xaxis={"type": "log", "title": SCALE_LABEL.get(gains[0].scale, gains[0].scale)},
                          yaxis={"title": f"gain in {metric}"})
        rows = "".join(
            f"<tr><td>{html.escape(g.value)}</td><td>{g.gain[0]:+.3f} [{g.lo[0]:+.2f}, {g.hi[0]:+.2f}]</td>"
            f"<td>{g.gain[-1]:+.3f} [{g.lo[-1]:+.2f}, {g.hi[-1]:+.2f}]</td>"
            f"<td>{'–' if math.isnan(g.turns_positive) else f'{g.turns_positive:.3g}'}"
            f" [{_end(g.turns_positive_lo)}, {_end(g.turns_positive_hi)}]</td>"
            f"<td>{html.escape(g.label)}</td><td>{html.escape(g.reason)}</td></tr>" for g in gains)
        parts += [f"<h3>{html.escape(knob)}</h3>", _html(fig),
                  "<table><thead><tr><th>value</th><th>gain at the smallest model</th><th>at the largest</th>"
                  "<th>turns positive at [95 %]</th><th>label</th><th>why</th></tr></thead>"
                  f"<tbody>{rows}</tbody></table>"]
    if not parts:
        return ""
    return ("<h2>Techniques that help only at scale</h2><p class=\"note\">Gain = the metric with a knob value "
            "minus the metric with the baseline, at each size both were trained at; bars are 95 % bootstrap "
            "intervals; the dashed line marks where the gain turns positive (Wei et al. 2022 list prompting "
            "and fine-tuning methods that help only beyond some scale).</p>" + "\n".join(parts))


def entropy_section_html(folder: Path) -> str:
    """The loss split for tasks with a known, non-zero answer entropy."""
    from emergelab.analysis.entropy_kl import fit_kl_scaling, loss_splits

    rows = [r for r in loss_splits(folder, n_boot=500) if r.entropy > 0]
    if not rows:
        return ""
    fits = {f.task: f for f in fit_kl_scaling(rows, n_boot=500)}
    parts = ["<h2>Loss = entropy + KL</h2><p class=\"note\">The task's answers are random with a known "
             "distribution p, so each model's test cross-entropy splits exactly into the entropy H(p), which no "
             "model can beat, and KL(p‖model), the part scale removes. Bars: 95 % bootstrap intervals over "
             "examples and seeds. \"10× scale halves the KL\" would be a slope of −0.30 on the right.</p>"]
    for task in sorted({r.task for r in rows}):
        pts = [r for r in rows if r.task == task]
        n = np.array([r.params for r in pts])
        fig = go.Figure()
        fig.add_trace(go.Bar(x=[f"{x:.3g}" for x in n], y=[r.entropy for r in pts], name="entropy H(p)",
                             marker_color="#9e9e9e"))
        fig.add_trace(go.Bar(x=[f"{x:.3g}" for x in n], y=[r.kl for r in pts], name="KL(p‖model)",
                             marker_color=COLORS[1]))
        fig.update_layout(barmode="stack", title=f"{task}: test loss split", xaxis={"title": "N (non-embedding)"},
                          yaxis={"title": "nats per answer"})
        kl = go.Figure()
        kl.add_trace(go.Scatter(x=n, y=[r.kl for r in pts], mode="markers", name="KL", marker={"color": COLORS[1]},
                                error_y={"type": "data", "symmetric": False,
                                         "array": [r.kl_hi - r.kl for r in pts],
                                         "arrayminus": [r.kl - r.kl_lo for r in pts]}))
        note = ""
        if (f := fits.get(task)) is not None:
            ok = np.array([r.kl > 0 for r in pts])
            coef = np.polyfit(np.log10(n[ok]), np.log10([r.kl for r in pts if r.kl > 0]), 1)
            kl.add_trace(go.Scatter(x=n, y=10 ** np.polyval(coef, np.log10(n)), mode="lines",
                                    name=f"KL ∝ N^-{f.alpha:.2f}", line={"dash": "dash", "color": COLORS[0]}))
            note = (f"<p>KL ∝ N<sup>−{f.alpha:.3f}</sup> [{f.alpha_lo:.3f}, {f.alpha_hi:.3f}] over {f.sizes} sizes: "
                    f"10× N divides the KL by {f.factor_per_decade:.2f} [{f.factor_lo:.2f}, {f.factor_hi:.2f}].</p>")
        kl.update_layout(title=f"{task}: KL vs N", xaxis={"type": "log", "title": "N (non-embedding)"},
                         yaxis={"type": "log", "title": "KL (nats)"})
        parts += [f"<h3>{html.escape(task)}</h3>", _html(fig), _html(kl), note]
    return "\n".join(parts)
