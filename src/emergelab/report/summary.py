"""The report's opening: per task, a short paragraph in plain words, generated from the analysis.

It says where each discrete metric jumps (between which sizes, from what to what, where it crosses
half its range and how sure that is), what the continuous metrics do over the same sizes, the
emergence verdict and the mirage verdict, and which evidence decided each — every number is one a
reader can find again in the figures and tables below (links point to them).
"""

from __future__ import annotations

import html
from collections import Counter

import numpy as np

from emergelab.analysis.curve import Curve
from emergelab.analysis.mirage import MirageResult
from emergelab.analysis.verdict import Verdict
from emergelab.report.evidence import TaskEvidence
from emergelab.report.text import SCALE_SYMBOL, fmt_scale, fmt_value

VERDICT_WORDS = {
    "emergent": "emergent",
    "smooth": "smooth (predictable from the smaller models)",
    "flat": "flat (never clearly above the floor)",
    "inconclusive": "inconclusive",
}
MIRAGE_WORDS = {
    "metric_artifact": "a metric artifact: a smooth continuous metric, extrapolated from the smaller models, "
                       "predicts the jump",
    "genuine": "genuine: the continuous metrics do not predict the jump from the smaller models",
    "undetermined": "undetermined: no continuous metric gives an informative prediction",
}


def anchor(kind: str, task: str) -> str:
    """The id of a task's figure of one kind ("metrics", "mirage", "failures", ...)."""
    return f"{kind}-" + "".join(ch if ch.isalnum() else "-" for ch in task)


def _at(c: Curve, i: int) -> str:
    sym = SCALE_SYMBOL.get(c.scale, c.scale)
    name = f" ({c.labels[i]})" if c.labels and i < len(c.labels) else ""
    return html.escape(f"{sym} = {fmt_scale(float(c.x[i]))}{name}")


def _biggest_step(c: Curve) -> int | None:
    """Index i of the largest improvement between neighbours i and i + 1 (None: fewer than 2)."""
    if len(c) < 2:
        return None
    d = np.diff(c.y) * (1 if c.higher_is_better else -1)
    d = np.where(np.isfinite(d), d, -np.inf)
    return int(np.argmax(d))


def jump_sentence(c: Curve, v: Verdict | None) -> str:
    """Where a discrete metric moves: ends, the biggest step, the half-range crossing."""
    parts = [f"<b>{html.escape(c.metric)}</b> goes from {fmt_value(c.y[0])} at {_at(c, 0)} "
             f"to {fmt_value(c.y[-1])} at {_at(c, len(c) - 1)}"]
    i = _biggest_step(c)
    if i is not None and len(c) > 2:
        parts.append(f"; its biggest step is between {_at(c, i)} and {_at(c, i + 1)} "
                     f"({fmt_value(c.y[i])} → {fmt_value(c.y[i + 1])})")
    if v is not None and v.threshold is not None and np.isfinite(v.threshold):
        sym = SCALE_SYMBOL.get(c.scale, c.scale)
        ci = ""
        if v.threshold_lo is not None and v.threshold_hi is not None:
            ci = f" [{fmt_scale(v.threshold_lo)}, {fmt_scale(v.threshold_hi)}] (95 % interval)"
        parts.append(f". It crosses halfway between floor and best at {sym} ≈ {fmt_scale(v.threshold)}{ci}")
    return "".join(parts) + "."


def verdict_sentence(c: Curve, v: Verdict) -> str:
    """The emergence verdict and the evidence that decided it."""
    text = f"Verdict: <b>{html.escape(VERDICT_WORDS.get(v.label, v.label))}</b>"
    if v.split_index is not None:
        floor_models = v.split_index + 1
        evidence = (f"the {floor_models} smallest sizes sit at the floor ({fmt_value(v.floor)}) and "
                    f"the best smooth trend through them ")
        interval = f"95 % interval {fmt_value(v.excess_lo)} to {fmt_value(v.excess_hi)}"
        if v.label == "emergent":
            evidence += (f"cannot reach the larger ones: they exceed the closest such trend by "
                         f"{fmt_value(v.excess)} ({v.excess_frac:.0%} of the metric's range; {interval}) "
                         f"at {SCALE_SYMBOL.get(c.scale, c.scale)} = {fmt_scale(v.excess_x)}")
        elif v.label == "smooth" and np.isfinite(v.excess) and v.excess_lo > 0:
            evidence += (f"falls short of the larger ones, but the closest smooth trend that still fits the "
                         f"smallest comes within {fmt_value(v.excess)} ({v.excess_frac:.0%} of the metric's range) "
                         "of them: too little to call a jump")
        elif v.label == "smooth" and np.isfinite(v.excess):
            evidence += f"reaches the larger ones (excess {fmt_value(v.excess)}, {interval}, includes 0)"
        else:
            evidence = html.escape(v.reasons[-1]) if v.reasons else ""
        text += f" — {evidence}" if evidence else ""
    elif v.reasons:
        text += f" — {html.escape(v.reasons[-1])}"
    return text + "."


def continuous_sentence(curves: list[Curve], verdicts: dict[str, Verdict]) -> str:
    """What each continuous metric does over the same sizes, with its own verdict."""
    if not curves:
        return ""
    bits = []
    for c in curves:
        rising = c.y[-1] > c.y[0]
        better = rising == c.higher_is_better
        move = ("rises" if rising else "falls") + ("" if better else " (worse)")
        v = verdicts.get(c.metric)
        label = f", {v.label}" if v is not None else ""
        bits.append(f"{html.escape(c.metric)} {move} from {fmt_value(c.y[0])} to {fmt_value(c.y[-1])}{label}")
    return "Over the same sizes the continuous metrics: " + "; ".join(bits) + "."


def mirage_sentence(m: MirageResult, task: str) -> str:
    """The mirage verdict, the route that decided it, and how every route fared."""
    text = (f'<a href="#{anchor("mirage", f"{task} {m.discrete_metric}")}">Mirage test</a> on {html.escape(m.discrete_metric)}: '
            f"<b>{html.escape(MIRAGE_WORDS.get(m.label, m.label))}</b>.")
    deciding = next((r for r in m.routes if r.continuous_metric == m.deciding), None)
    if deciding is not None:
        # the reason is a sentence about the discrete metric, so it is introduced, not appended to "by"
        text += f" Deciding evidence ({html.escape(deciding.continuous_metric)} route): {html.escape(deciding.reason)}."
    others = []
    for r in m.routes:
        if r is deciding:
            continue
        judged = int(np.sum(r.judged)) if len(r.judged) else 0
        inside = int(np.sum(r.covered)) if len(r.covered) else 0
        route = f"{r.continuous_metric} via {r.link_label}"
        others.append(f"{route}: {r.label}" + (f" ({inside}/{judged} inside)" if judged and r.label != "undetermined"
                                               else ""))
    if others:
        text += " Other routes — " + html.escape("; ".join(others)) + "."
    return text


def task_summary_html(ev: TaskEvidence) -> str:
    """One paragraph per task (a list item), every number traceable to a figure below."""
    sentences = []
    for c in ev.discrete:
        v = ev.verdicts.get(c.metric)
        sentences.append(jump_sentence(c, v))
        if v is not None:
            sentences.append(verdict_sentence(c, v))
        if c.metric in ev.mirages:
            sentences.append(mirage_sentence(ev.mirages[c.metric], ev.title))
    sentences.append(continuous_sentence(ev.continuous, ev.verdicts))
    links = f' <a href="#{anchor("metrics", ev.task)}">figures</a>'
    return (f'<li data-task="{html.escape(ev.title)}"><b>{html.escape(ev.title)}</b>. '
            + " ".join(s for s in sentences if s) + links + "</li>")


def summary_html(evidence: list[TaskEvidence]) -> str:
    """The "Summary" section: one paragraph per task, before any figure."""
    if not evidence:
        return ""
    items = "\n".join(task_summary_html(ev) for ev in evidence)
    return ('<h2>Summary</h2>'
            '<p class="note">Generated from the analysis below; the terms are defined in the '
            '<a href="#glossary">glossary</a>.</p>'
            f'{overview_html(evidence)}<ul class="summary">{items}</ul>')


def overview_html(evidence: list[TaskEvidence]) -> str:
    """With several tasks, one line first: how many curves got each verdict, and which are emergent,
    so a reader of a 65-task import need not read 65 paragraphs to learn there is no jump."""
    if len(evidence) < 2:
        return ""
    labels = [(ev.title, metric, v.label) for ev in evidence for metric, v in ev.verdicts.items()]
    counts = Counter(label for _, _, label in labels)
    order = ("emergent", "smooth", "flat", "inconclusive")
    parts = [f"{counts[k]} {k}" for k in (*order, *sorted(set(counts) - set(order))) if counts[k]]
    emergent = [f"{title} / {metric}" for title, metric, label in labels if label == "emergent"]
    named = ""
    if emergent:
        shown = ", ".join(html.escape(e) for e in emergent[:8])
        named = f"; emergent: {shown}" + (f" and {len(emergent) - 8} more" if len(emergent) > 8 else "")
    return (f'<p class="overview"><b>{len(evidence)} tasks or series, {len(labels)} curves:</b> '
            f'{", ".join(parts)}{named}.</p>')
