"""The analysis behind a report, computed once and shared by the summary, the figures and tables.

Running `analysis.summary.analyze` once per report (not once per section) is what keeps the
summary paragraph, the mirage figure and the verdict table telling the same story.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emergelab.analysis.curve import Curve
from emergelab.analysis.mirage import MirageResult
from emergelab.analysis.summary import AnalysisRow, analyze
from emergelab.analysis.verdict import Verdict


@dataclass
class TaskEvidence:
    """One task — or one series of it (a family, a shot count, a knob setting: `Curve.series`) —
    with its curves (one scale), the analysis rows, each metric's verdict and, for the discrete
    metrics with at least one usable continuous route, the mirage test."""

    task: str
    curves: list[Curve]
    series: str = ""
    rows: list[AnalysisRow] = field(default_factory=list)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    mirages: dict[str, MirageResult] = field(default_factory=dict)

    @property
    def title(self) -> str:
        # a knob setting may already be part of the label (with_group_labels: "add2 [share=0.34]")
        return f"{self.task} ({self.series})" if self.series and self.series not in self.task else self.task

    @property
    def discrete(self) -> list[Curve]:
        return [c for c in self.curves if c.discrete]

    @property
    def continuous(self) -> list[Curve]:
        return [c for c in self.curves if not c.discrete]


def gather(curves: list[Curve], n_boot: int = 400) -> list[TaskEvidence]:
    """Analyse every curve once, one series of one task at a time (so a zero-shot and a five-shot
    curve of the same metric never share a verdict); records in first-seen order."""
    groups: dict[tuple[str, str], TaskEvidence] = {}
    for c in curves:
        groups.setdefault((c.task, c.series), TaskEvidence(c.task, [], c.series)).curves.append(c)
    for ev in groups.values():
        details: dict = {}
        ev.rows = analyze(ev.curves, n_boot=n_boot, details=details)
        for (_task, metric, _scale), (v, m) in details.items():
            ev.verdicts[metric] = v
            if m is not None and any(np.isfinite(r.pred).any() for r in m.routes):
                ev.mirages[metric] = m  # drawn whenever a route predicts something, emergent or not
    return list(groups.values())
