"""One row per task × metric: the numbers a reader of an emergence study asks for first.

Emergence score (Schaeffer et al. 2023, Eq. 1), BIG-bench linearity (Srivastava et al. 2022),
the Wei et al. 2022 verdict with its threshold scale and interval, and — for discrete metrics
that come out emergent — the metric-artifact verdict from the task's continuous metrics.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass

from emergelab.analysis.curve import Curve
from emergelab.analysis.mirage import MirageResult, mirage_for_task
from emergelab.analysis.verdict import Verdict, verdict

COLUMNS = ("task", "metric", "scale", "n_points", "emergence_score", "linearity", "verdict",
           "threshold", "threshold_lo", "threshold_hi", "mirage", "reason")


@dataclass
class AnalysisRow:
    task: str
    metric: str
    scale: str
    n_points: int
    emergence_score: float
    linearity: float
    verdict: str
    threshold: float | None
    threshold_lo: float | None
    threshold_hi: float | None
    mirage: str | None  # metric_artifact / genuine / undetermined; None for continuous metrics
    reason: str


def analyze(
    curves: list[Curve], *, n_boot: int = 400, seed: int = 0, answer_length: float | None = None,
    details: dict | None = None,
) -> list[AnalysisRow]:
    """Rows per curve, ordered by task then metric. Pass a dict as `details` to receive the
    Verdict and MirageResult objects keyed by (task, metric, scale), for plots."""
    rows: list[AnalysisRow] = []
    for c in sorted(curves, key=lambda k: (k.task, k.metric, k.scale)):
        v: Verdict = verdict(c, n_boot=n_boot, seed=seed)
        m: MirageResult | None = None
        if c.discrete:
            m = mirage_for_task(curves, c, answer_length=answer_length, discrete_verdict=v)
        if details is not None:
            details[(c.task, c.metric, c.scale)] = (v, m)
        reason = v.reasons[-1] if v.reasons else ""
        if m is not None and m.routes and m.reasons:
            reason += f"; mirage: {m.reasons[-1]}"
        rows.append(AnalysisRow(
            task=c.task, metric=c.metric, scale=c.scale, n_points=len(c),
            emergence_score=v.emergence_score, linearity=v.linearity, verdict=v.label,
            threshold=v.threshold, threshold_lo=v.threshold_lo, threshold_hi=v.threshold_hi,
            mirage=(m.label if m is not None and m.routes else None), reason=reason,
        ))
    return rows


def _fmt(v: object, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.{digits}g}"
    return str(v)


_PREFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def fmt_scale(x: float | None) -> str:
    """A scale in two significant digits with an SI prefix: 1712 → "1.7k", 5.6e4 → "56k", 3e9 → "3B"."""
    if x is None or not math.isfinite(x):
        return "-" if x is None or math.isnan(x) else ("inf" if x > 0 else "-inf")
    for factor, prefix in _PREFIXES:
        if abs(x) >= factor:
            return f"{x / factor:.2g}{prefix}" if abs(x) / factor < 100 else f"{x / factor:.0f}{prefix}"
    return f"{x:.3g}"


def to_table(rows: list[AnalysisRow], title: str = "Emergence analysis"):
    """A rich Table (print it with rich.console.Console().print) that fits 80 columns: the task
    heads each group of rows instead of filling a column, names are never cut (they wrap before
    numbers do), scales are short ("36k [35k, 37k]"); the reasons follow in the caption."""
    from rich.table import Table

    scale = rows[0].scale if rows else ""
    t = Table(title=f"{title} (scale: {scale})", caption_justify="left", box=None, pad_edge=False,
              padding=(0, 1, 0, 0), header_style="bold underline")
    t.add_column("metric", no_wrap=True)
    for head in ("n", "score", "lin."):
        t.add_column(head, justify="right")
    t.add_column("verdict", no_wrap=True)
    t.add_column("threshold [95%]", justify="right", no_wrap=True)
    t.add_column("mirage", no_wrap=True)
    notes = []
    for i, r in enumerate(rows):
        if i == 0 or rows[i - 1].task != r.task:
            t.add_row(f"[bold]{r.task}[/bold]", end_section=False)
        thr = fmt_scale(r.threshold)
        if r.threshold is not None and r.threshold_lo is not None:
            thr += f" [{fmt_scale(r.threshold_lo)}, {fmt_scale(r.threshold_hi)}]"
        t.add_row(r.metric, str(r.n_points), _fmt(r.emergence_score, 2), _fmt(r.linearity, 2), r.verdict, thr,
                  r.mirage or "-")
        notes.append(f"{r.task} / {r.metric}: {r.reason}")
    t.caption = "\n".join(notes)
    return t


def _jsonable(v: object) -> object:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def to_json(rows: list[AnalysisRow]) -> str:
    """JSON list of row objects (NaN → null, ±inf → "inf"/"-inf": strict JSON)."""
    return json.dumps([{k: _jsonable(v) for k, v in asdict(r).items()} for r in rows], indent=2)


def to_csv(rows: list[AnalysisRow]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS))
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in asdict(r).items()})
    return buf.getvalue()
