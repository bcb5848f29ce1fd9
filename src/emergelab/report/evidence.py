"""The analysis behind a report, computed once and shared by the summary, the figures and tables.

Running `analysis.summary.analyze` once per report (not once per section) is what keeps the
summary paragraph, the mirage figure and the verdict table telling the same story.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emergelab.analysis.curve import Curve
from emergelab.analysis.mirage import MirageResult
from emergelab.analysis.summary import AnalysisRow, analyze
from emergelab.analysis.verdict import Verdict


@dataclass
class TaskEvidence:
    """One task: its curves (one scale), the analysis rows, each metric's verdict and — for the
    discrete metrics that came out emergent — the mirage test."""

    task: str
    curves: list[Curve]
    rows: list[AnalysisRow] = field(default_factory=list)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    mirages: dict[str, MirageResult] = field(default_factory=dict)

    @property
    def discrete(self) -> list[Curve]:
        return [c for c in self.curves if c.discrete]

    @property
    def continuous(self) -> list[Curve]:
        return [c for c in self.curves if not c.discrete]


def gather(curves: list[Curve], n_boot: int = 400) -> list[TaskEvidence]:
    """Analyse every curve once; one record per task in first-seen order."""
    details: dict = {}
    rows = analyze(curves, n_boot=n_boot, details=details)
    tasks: dict[str, TaskEvidence] = {}
    for c in curves:
        tasks.setdefault(c.task, TaskEvidence(c.task, [])).curves.append(c)
    for r in rows:
        tasks[r.task].rows.append(r)
    for (task, metric, _scale), (v, m) in details.items():
        tasks[task].verdicts[metric] = v
        if m is not None and v.emergent:
            tasks[task].mirages[metric] = m
    return list(tasks.values())
