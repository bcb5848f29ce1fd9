"""One row per task × metric: the numbers a reader of an emergence study asks for first.

Emergence score (Schaeffer et al. 2023, Eq. 1), BIG-bench linearity (Srivastava et al. 2022),
the Wei et al. 2022 verdict with its threshold scale and interval, and — for discrete metrics
that come out emergent — the metric-artifact verdict from the task's continuous metrics. With
`by_family`, a curve whose points come from several model families also gets one row per family
(the pooled row's noise model counts the scatter between families at one size as between-model
heterogeneity, `noise.py`, so it is not read as a jump).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from emergelab.analysis.curve import Curve
from emergelab.analysis.mirage import MirageResult, mirage_for_task
from emergelab.analysis.verdict import Verdict, verdict

COLUMNS = ("task", "metric", "family", "scale", "n_points", "emergence_score", "linearity", "verdict",
           "excess", "excess_lo", "excess_hi", "excess_frac", "joint_p", "threshold", "threshold_lo", "threshold_hi",
           "mirage", "reason")


@dataclass
class AnalysisRow:
    task: str
    metric: str
    family: str  # "" when the curve is not split by family; "pooled" for the pooled row of a split
    scale: str
    n_points: int
    emergence_score: float
    linearity: float
    verdict: str
    excess: float  # larger models above the closest smooth trend, metric units (verdict.py)
    excess_lo: float
    excess_hi: float
    excess_frac: float  # the excess as a fraction of the metric's range
    joint_p: float  # the joint likelihood-ratio test: reported, not a criterion (verdict.py)
    threshold: float | None
    threshold_lo: float | None
    threshold_hi: float | None
    mirage: str | None  # metric_artifact / genuine / undetermined; None for continuous metrics
    reason: str


def analyze(
    curves: list[Curve], *, n_boot: int = 400, seed: int = 0, answer_length: float | None = None,
    details: dict | None = None, min_excess: float = 0.1, by_family: bool = False,
) -> list[AnalysisRow]:
    """Rows per curve, ordered by task then metric. Pass a dict as `details` to receive the
    Verdict and MirageResult objects keyed by (task, metric, scale), for plots. `min_excess` is
    the verdict's effect-size bar; `by_family` adds a row per model family (module doc; the
    mirage test runs on the pooled curve only)."""
    rows: list[AnalysisRow] = []
    for c in sorted(curves, key=lambda k: (k.task, k.metric, k.scale)):
        fams = sorted(set(c.families)) if by_family and c.families else []
        split = len(fams) > 1
        v: Verdict = verdict(c, n_boot=n_boot, seed=seed, min_excess=min_excess)
        m: MirageResult | None = None
        if c.discrete:
            m = mirage_for_task(curves, c, answer_length=answer_length, discrete_verdict=v)
        if details is not None:
            details[(c.task, c.metric, c.scale)] = (v, m)
        rows.append(_row(c, v, m, "pooled" if split else ""))
        for fam in fams if split else []:
            sub = c.subset(np.array([f == fam for f in c.families]))
            rows.append(_row(sub, verdict(sub, n_boot=n_boot, seed=seed, min_excess=min_excess), None, fam or "-"))
    return rows


def _row(c: Curve, v: Verdict, m: MirageResult | None, family: str) -> AnalysisRow:
    reason = v.reasons[-1] if v.reasons else ""
    if m is not None and m.routes and m.reasons:
        reason += f"; mirage: {m.reasons[-1]}"
    return AnalysisRow(
        task=c.task, metric=c.metric, family=family, scale=c.scale, n_points=len(c),
        emergence_score=v.emergence_score, linearity=v.linearity, verdict=v.label,
        excess=v.excess, excess_lo=v.excess_lo, excess_hi=v.excess_hi, excess_frac=v.excess_frac,
        joint_p=v.joint_p, threshold=v.threshold, threshold_lo=v.threshold_lo, threshold_hi=v.threshold_hi,
        mirage=(m.label if m is not None and m.routes else None), reason=reason,
    )


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
    numbers do), scales are short ("36k [35k, 37k]"); the reasons follow in the caption. A heading
    longer than the room the other columns leave in 80 ("lambada_openai [pythia, 5-shot,
    pythia-v1.1-1b-bf16]") folds instead of squeezing them; brackets are text, not rich markup."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    scale = rows[0].scale if rows else ""
    t = Table(title=f"{title} (scale: {scale})", caption_justify="left", box=None, pad_edge=False,
              padding=(0, 1, 0, 0), header_style="bold underline")
    heads = ("metric", "n", "score", "lin.", "verdict", "threshold [95%]", "mirage")
    cells = []
    for r in rows:
        thr = fmt_scale(r.threshold)
        if r.threshold is not None and r.threshold_lo is not None:
            thr += f" [{fmt_scale(r.threshold_lo)}, {fmt_scale(r.threshold_hi)}]"
        cells.append((f"{r.metric} [{r.family}]" if r.family else r.metric, str(r.n_points),
                       _fmt(r.emergence_score, 2), _fmt(r.linearity, 2), r.verdict, thr, r.mirage or "-"))
    widths = [max([len(h), *(len(c[j]) for c in cells)]) for j, h in enumerate(heads)]
    t.add_column("metric", no_wrap=True, max_width=max(widths[0], 79 - sum(w + 1 for w in widths[1:])))
    for head in ("n", "score", "lin."):
        t.add_column(head, justify="right")
    t.add_column("verdict", no_wrap=True)
    t.add_column("threshold [95%]", justify="right", no_wrap=True)
    t.add_column("mirage", no_wrap=True)
    notes = []
    for i, (r, c) in enumerate(zip(rows, cells, strict=True)):
        if i == 0 or rows[i - 1].task != r.task:
            t.add_row(Text(r.task, style="bold", no_wrap=False, overflow="fold"), end_section=False)
        t.add_row(Text(c[0]), *c[1:])
        notes.append(f"{r.task} / {c[0]}: {r.reason}")
    t.caption = escape("\n".join(notes))
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
