"""`emergelab report DIR`: one self-contained HTML page (plotly.js inlined, no CDN) plus PNGs.

The page collects, for whatever the folder holds: experiment curves (every metric vs N per task,
with 95 % intervals), the emergence-score table, training dynamics, the analysis section
(verdicts, mirage evidence), theory systems, the spec and the run table. A tiny script records
JavaScript errors into the page (`data-js-errors` on <body>) so a headless browser can check that
the page renders cleanly.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import plotly.io as pio
import yaml
from plotly.offline import get_plotlyjs

from emergelab.analysis.curve import Curve
from emergelab.analysis.curves import MetricRow, curves_from_rows, load_curves, metric_rows, task_catalog
from emergelab.analysis.emergence import emergence_score
from emergelab.analysis.select import Selection
from emergelab.analysis.threshold import with_group_labels
from emergelab.report import warm
from emergelab.report.analysis_section import analysis_section_html, mirage_section_html
from emergelab.report.composition import composition_section_html
from emergelab.report.evidence import gather
from emergelab.report.failures import FailureTable, failure_table, failure_table_html
from emergelab.report.figures import PngsAside, curve_figure, metric_panels
from emergelab.report.glossary import glossary_html
from emergelab.report.quanta import quanta_section_html
from emergelab.report.questions import entropy_section_html, gain_section_html
from emergelab.report.seeds import seeds_section_html
from emergelab.report.shared_circuits import shared_circuits_section_html
from emergelab.report.style import model_order, size_colors
from emergelab.report.summary import anchor, summary_html
from emergelab.report.training import checkpoint_curves_html, training_section_html
from emergelab.store import DB_NAME, PointRecord, RunRecord, Store
from emergelab.theory import TheoryResult, load_results

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1400px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem} h2{border-bottom:1px solid #ddd;padding-bottom:.3rem;margin-top:2.2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0} th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th{background:#f4f4f4} td:first-child,th:first-child{text-align:left}
pre{background:#f7f7f7;padding .8rem;overflow:auto;font-size:.8rem} .note{color:#555;font-size:.9rem}
.verdict-emergent td{background:#fff3e0}
.bad{color:#c62828;font-weight:600} .ok{color:#2e7d32} table.failures code{font-size:.95rem}
ul.summary li{margin:.5rem 0;line-height:1.45} nav.contents{columns:3;font-size:.9rem;margin:.4rem 0 1rem}
nav.contents a{display:block} dl.glossary dt{font-weight:600;margin-top:.5rem} dl.glossary dd{margin-left:1.2rem}
#task-filter{font-size:1rem;padding:.2rem .4rem;width:22rem}
"""

MAX_TABLE_ROWS = 25  # longer theory tables are summarised; theory.json keeps every row

ERROR_PROBE = """<script>window.__emergelabErrors=[];window.addEventListener('error',function(e){
window.__emergelabErrors.push(String(e.message||e));});</script>"""
ERROR_REPORT = """<script>window.addEventListener('load',function(){setTimeout(function(){
document.body.setAttribute('data-js-errors',JSON.stringify(window.__emergelabErrors));
document.body.setAttribute('data-plots',String(document.querySelectorAll('.js-plotly-plot').length));
},300);});</script>"""


def _fig(fig) -> str:
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def _fmt(v: object) -> str:
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if math.isnan(v):
            return "–"
        return f"{v:.4g}"
    return "–" if v is None else str(v)


def _table(columns: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _by_task(curves: list[Curve]) -> dict[str, list[Curve]]:
    out: dict[str, list[Curve]] = {}
    for c in curves:
        out.setdefault(c.task, []).append(c)
    return out


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)


@dataclass
class Section:
    """One part of the page: its anchor and title (for the contents) and its HTML (heading
    included); the page wraps it in <section id=...>."""

    id: str
    title: str
    body: str


def _spec_text(spec_yaml: str) -> str:
    """The stored spec re-dumped with its own characters (older folders stored "×" as "\\xD7")."""
    try:
        return yaml.safe_dump(yaml.safe_load(spec_yaml), sort_keys=False, allow_unicode=True)
    except yaml.YAMLError:
        return spec_yaml


def metric_png_jobs(curves: list[Curve], figures: Path) -> list[tuple[list[Curve], str, Path]]:
    """One static PNG per task, beside the page (drawn by `PngsAside`)."""
    return [(task_curves, task, figures / f"{_safe_name(task)}_metrics_vs_scale.png")
            for task, task_curves in _by_task(curves).items()]


def metrics_section(curves: list[Curve]) -> str:
    parts = ["<h2>Metrics vs scale</h2>", '<p class="note">Each point pools all seeds; bars are 95 % bootstrap intervals over seeds and '
             "examples (imported results: ±1.96 standard errors); dotted grey lines: chance. Discrete metrics "
             "(exact match) can jump where continuous ones (per-token accuracy, log-probability, Brier) rise "
             "smoothly.</p>"]
    for task, task_curves in _by_task(curves).items():
        parts.append(f'<div id="{anchor("metrics", task)}" data-task="{html.escape(task)}">'
                     f"{_fig(metric_panels(task_curves, task))}</div>")
    return "\n".join(parts)


def failures_section(tables: list[FailureTable]) -> str:
    return "<h2>Example answers</h2>" + "\n".join(f'<div data-task="{html.escape(t.task)}">{failure_table_html(t, anchor("failures", t.task))}</div>'
                     for t in tables)


def runs_table(runs: list[RunRecord]) -> str:
    """Every run, by task, then model size, then seed."""
    order = {m: i for i, m in enumerate(model_order({r.model: r.non_embedding_params for r in runs}))}
    runs = sorted(runs, key=lambda r: (r.task, order[r.model], r.seed is None, r.seed))
    run_rows = [[r.task, r.model, r.params, r.non_embedding_params, r.seed, r.steps,
                 None if r.seconds is None else round(r.seconds, 1), r.source] for r in runs]
    columns = ["task", "model", "params", "non-embedding N", "seed", "steps", "seconds", "source"]
    if any(r.knob for r in runs):  # facilitation knobs (sweep/knobs.py)
        columns.append("knob")
        for row, r in zip(run_rows, runs, strict=True):
            row.append(",".join(f"{k}={v}" for k, v in sorted(r.knob.items())))
    return "<h2>Runs</h2>" + _table(columns, run_rows)


def experiment_sections(folder: Path, figures: Path, pngs: PngsAside, selection: Selection | None = None
                        ) -> tuple[list[Section], str, list[str]]:
    """The page's sections for a folder with a database, in reading order: the summary first,
    then the figures it refers to, the tables, the glossary; returns (sections, title, tasks).
    The metric PNGs are handed to `pngs` as soon as the curves are known.

    A `selection` (the CLI's --task/--family/--shots/--model/--checkpoint) keeps only its curves,
    runs and example answers; the open-question sections read the whole folder, so a selected
    report leaves them out and says so."""
    with Store(folder, read_only=True) as store:
        rows = metric_rows(store)
        runs = store.runs()
        chance = {r.task: float(r.task_config.get("chance_exact_match", 0.0)) for r in runs}
        points = store.points()
        spec_yaml = store.fact("spec_yaml")
        title = store.fact("name") or folder.name
        if selection is not None:  # every checkpoint of the chosen models stays, for the training-time views
            everything = replace(selection, checkpoint=selection.checkpoint or "all")
            chosen = everything.apply([*rows, *points], task_catalog(store), "non_embedding_params")
            rows = [r for r in chosen if isinstance(r, MetricRow)]
            points = [p for p in chosen if isinstance(p, PointRecord)]
            kept = {(r.task, r.model) for r in rows}
            runs = [r for r in runs if (r.task, r.model) in kept]
        tables = [t for task in dict.fromkeys(r.task for r in rows) if (t := failure_table(store, task)) is not None]
    curves = curves_from_rows(rows, "non_embedding_params", chance=chance)
    facilitation = facilitation_html(curves)
    gain = gain_section_html(curves)  # open questions (report/questions.py): gain of a knob value over a baseline
    questions = []
    if selection is None:
        questions = [
            ("entropy", "Loss = entropy + KL", entropy_section_html(folder)),  # tasks with random answers
            ("composition", "Skill composition", composition_section_html(folder)),  # report/composition.py
            ("seeds", "Seeds", seeds_section_html(folder)),  # seeds converging, ≥ 5 seeds per size only
            ("shared-circuits", "Shared circuits", shared_circuits_section_html(folder)),  # mix models
            ("quanta", "Monogenic vs polygenic", quanta_section_html(folder)),  # multitask sparse parity
        ]
    curves = with_group_labels(curves)  # curves of different knob values stay apart in panels and tables
    imported_training = ""
    if points:  # imported aggregate results: final checkpoint vs size, every checkpoint vs step
        native = {r.task for r in rows}
        curves += [c for c in load_curves(folder, "params", selection=selection) if c.task not in native]
        sizes = {p.model: p.params for p in points if p.params is not None}
        imported_training = checkpoint_curves_html(
            [c for c in load_curves(folder, "step", selection=selection) if c.task not in native and c.model],
            sizes, _fig)
    colors = size_colors(model_order({r.model: r.non_embedding_params for r in rows}))
    sections: list[Section] = []
    if curves:
        pngs.start(metric_png_jobs(curves, figures))
        evidence = gather(curves)
        sections.append(Section("summary", "Summary", summary_html(evidence)))
        sections.append(Section("metrics", "Metrics vs scale", metrics_section(curves)))
        if mirage := mirage_section_html(evidence):
            sections.append(Section("mirage", "Mirage test", mirage))
        if tables:
            sections.append(Section("failures", "Example answers", failures_section(tables)))
        if dynamics := training_section_html(folder, rows, _fig, colors):
            sections.append(Section("training", "Training dynamics", dynamics))
        if imported_training:
            sections.append(Section("checkpoints", "Over training (imported)", imported_training))
        sections.append(Section("analysis", "Emergence scores and verdicts", analysis_section_html(curves, evidence=evidence)))
        if facilitation:
            sections.append(Section("facilitation", "Facilitation", facilitation))
        if gain:
            sections.append(Section("gain", "Techniques that help only at scale", gain))
        sections += [Section(key, name, body) for key, name, body in questions if body]
        sections.append(Section("glossary", "Glossary", glossary_html()))
    if spec_yaml:
        sections.append(Section("spec", "Spec", f"<h2>Spec</h2><pre>{html.escape(_spec_text(spec_yaml))}</pre>"))
    if runs:
        sections.append(Section("runs", "Runs", runs_table(runs)))
    return sections, title, list(_by_task(curves))


def facilitation_html(curves: list[Curve]) -> str:
    """Threshold vs facilitation knob (report/facilitation.py); "" when the experiment turns none."""
    from emergelab.report.facilitation import facilitation_section_html

    return facilitation_section_html(curves)


def theory_section(result: TheoryResult) -> str:
    parts = [f"<h2>Theory: {html.escape(result.name)}</h2>",
             f"<p>{html.escape(result.claim)}</p>", f'<p class="note">Source: {html.escape(result.source)}</p>']
    panels: dict[tuple[str, str], list] = {}
    for c in result.curves:
        panels.setdefault((c.budget_name, c.value_name), []).append(c)
    score_rows = []
    for (budget, value), cs in panels.items():
        fig = curve_figure([np.array(c.budget) for c in cs], [np.array(c.value) for c in cs], [c.label for c in cs],
                           f"{value} vs {budget}", budget, value, cs[0].log_x, cs[0].log_y)
        parts.append(_fig(fig))
        for c in cs:
            y = np.array(c.value)
            finite = np.isfinite(y)
            score_rows.append([c.label, value, emergence_score(y[finite]) if finite.sum() > 1 else float("nan")])
    parts.append(_table(["curve", "value", "emergence score"], score_rows))
    if result.table_columns:
        shown = result.table_rows[:MAX_TABLE_ROWS]
        parts.append(_table(result.table_columns, shown))
        if len(result.table_rows) > len(shown):
            parts.append(f'<p class="note">First {len(shown)} of {len(result.table_rows)} rows; '
                         "all are in theory.json.</p>")
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    parts.append(f'<p class="note">Parameters: {html.escape(params)}; computed in {result.seconds:.2f} s.</p>')
    if result.notes:
        parts.append(f'<p class="note">{html.escape(result.notes)}</p>')
    return "\n".join(parts)


TASK_FILTER = """<script>(function(){var box=document.getElementById('task-filter');if(!box)return;
box.addEventListener('input',function(){var q=box.value.trim().toLowerCase();
document.querySelectorAll('[data-task]').forEach(function(el){
var show=!q||el.getAttribute('data-task').toLowerCase().indexOf(q)>=0;el.style.display=show?'':'none';
if(show)el.querySelectorAll('.js-plotly-plot').forEach(function(p){Plotly.Plots.resize(p);});});});})();</script>"""


def contents_html(sections: list[Section], tasks: list[str]) -> str:
    """Links to every section; with more than one task, a filter box that hides the others."""
    links = "".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in sections)
    out = f'<nav class="contents">{links}</nav>'
    if len(tasks) > 1:
        options = "".join(f'<option value="{html.escape(t)}">' for t in tasks)
        out += ('<p><label>Show tasks containing: <input id="task-filter" list="task-names" '
                f'placeholder="{html.escape(tasks[0])}"></label><datalist id="task-names">{options}</datalist> '
                f'<span class="note">({len(tasks)} tasks)</span></p>')
    return out


def page_html(title: str, subtitle: str, sections: list[Section], tasks: list[str]) -> str:
    """The whole self-contained page: plotly.js inlined, contents, sections, the task filter and
    the error probe that a headless browser reads back (`data-js-errors`, `data-plots`)."""
    return "\n".join([
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>emergelab — {html.escape(title)}</title><style>{CSS}</style>", ERROR_PROBE,
        f"<script>{get_plotlyjs()}</script></head><body>",
        f"<h1>emergelab report: {html.escape(title)}</h1>",
        f'<p class="note">{html.escape(subtitle)}</p>',
        contents_html(sections, tasks),
        *(f'<section id="{s.id}">{s.body}</section>' for s in sections),
        TASK_FILTER, ERROR_REPORT, "</body></html>",
    ])


def write_report(folder: str | Path, selection: Selection | None = None, out: str | Path | None = None) -> Path:
    """Write `out` (default `folder/report.html`, atomically) and PNG figures in a `figures/` folder
    beside it; `selection` restricts the report to some tasks, families, shots, models or checkpoints."""
    warm.wait()  # a warm-up started at the end of the sweep draws with the same libraries
    folder = Path(folder)
    has_db, theory = (folder / DB_NAME).exists(), load_results(folder)
    if not has_db and not theory:
        raise FileNotFoundError(f"{folder} holds neither an experiment ({DB_NAME}) nor theory results (theory.json)")
    out = Path(out) if out is not None else folder / "report.html"
    selection = None if selection == Selection() else selection  # selecting nothing = the whole folder
    figures = out.parent / "figures"
    with PngsAside() as pngs:  # the PNGs are on disk (or an error raised) before the page is written
        sections, title, tasks = experiment_sections(folder, figures, pngs, selection) if has_db else ([], folder.name, [])
        sections += [Section(f"theory-{_safe_name(r.name)}", f"Theory: {r.name}", theory_section(r)) for r in theory]
        subtitle = f"Folder {folder}. Self-contained: opens offline."
        if selection is not None:
            subtitle += (f" Selected: {_selection_text(selection)}; the open-question sections (entropy, skills, seeds, "
                         "shared circuits, quanta) read the whole folder and are left out.")
        page = page_html(title, subtitle, sections, tasks)
    tmp = out.parent / f".{out.name}.tmp"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out


def _selection_text(sel: Selection) -> str:
    parts = [f"{name} {', '.join(map(str, values))}" for name, values in
             (("task", sel.tasks), ("family", sel.families), ("shots", sel.shots), ("model", sel.models)) if values]
    if sel.checkpoint is not None:
        parts.append(f"checkpoint {sel.checkpoint}")
    return "; ".join(parts)
