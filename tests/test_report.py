"""The report's parts against truths they did not compute: simulated curves with a known story,
arithmetic for the example answers, geometry for tick labels, plotly's data coordinates."""

import re
import warnings

import numpy as np
import plotly.graph_objects as go
import pytest
import yaml

from conftest import tiny_spec_dict
from emergelab.analysis.curve import Curve
from emergelab.analysis.mirage import compounding_toy
from emergelab.report.evidence import gather
from emergelab.report.figures import metric_png_figure
from emergelab.report.glossary import GLOSSARY
from emergelab.report.html import _spec_text
from emergelab.report.style import model_order, size_colors
from emergelab.report.summary import summary_html
from emergelab.report.text import fmt_scale
from emergelab.report.training import PANELS_PER_ROW, Series, training_figure

X = np.logspace(6, 11, 11)
L = 5
N = 500


def _nan():
    return np.full_like(X, np.nan)


def _exact_match(p, rng, task):
    y = rng.binomial(N, p) / N
    return Curve(task, "exact_match", "params", X, y, _nan(), _nan(), np.full_like(X, N), chance=0.0,
                 discrete=True, answer_len=L)


def _token_accuracy(p, rng, task):
    y = rng.binomial(N * L, p) / (N * L)
    se = np.sqrt(np.maximum(y * (1 - y), 1e-4) / (N * L))
    return Curve(task, "token_accuracy", "params", X, y, _nan(), _nan(), np.full_like(X, N), stderr=se,
                 answer_len=L)


def _target_logprob(lp, rng, task, noise=0.03):
    return Curve(task, "target_logprob", "params", X, lp * (1 + noise * rng.standard_normal(len(X))), _nan(), _nan(),
                 np.full_like(X, N), stderr=noise * np.abs(lp), answer_len=L)


def _story_curves():
    """Two tasks with known stories. 'artifact': Schaeffer et al.'s compounding toy with a steep
    per-token loss, CE = (N/1e9)^-2: exact match = exp(-L·CE) jumps within a decade while the
    answer's log-probability -L·CE is one smooth power law. 'genuine': exact match steps from the
    floor to 0.93 between two sizes while the per-token accuracy creeps up linearly in log N, far
    too slowly for p^L to follow."""
    rng = np.random.default_rng(0)
    toy = compounding_toy(X, c=1e9, alpha=-2.0, length=L)
    artifact = [_exact_match(toy["accuracy"], rng, "artifact"),
                _target_logprob(-L * toy["cross_entropy"], rng, "artifact")]
    step = np.where(np.log10(X) < 9.4, 0.001, 0.93)
    creep = 0.30 + 0.03 * (np.log10(X) - 6)
    genuine = [_exact_match(step, rng, "genuine"), _token_accuracy(creep, rng, "genuine")]
    return artifact + genuine


@pytest.fixture(scope="module")
def story():
    curves = _story_curves()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evidence = gather(curves, n_boot=100)
    return curves, {ev.task: ev for ev in evidence}, summary_html(evidence)


def _paragraph(page: str, task: str) -> str:
    return re.search(rf'<li data-task="{task}">(.*?)</li>', page, re.S).group(1)


def test_summary_tells_each_known_story(story):
    _curves, ev, page = story
    artifact, genuine = _paragraph(page, "artifact"), _paragraph(page, "genuine")
    assert "<b>emergent</b>" in artifact and "<b>emergent</b>" in genuine
    assert "a metric artifact" in artifact and ev["artifact"].mirages["exact_match"].label == "metric_artifact"
    assert "<b>genuine" in genuine and ev["genuine"].mirages["exact_match"].label == "genuine"
    for task, text in (("artifact", artifact), ("genuine", genuine)):  # the deciding route is named, then its reason
        deciding = ev[task].mirages["exact_match"].deciding
        assert f"Deciding evidence ({deciding} route): " in text and "Decided by" not in text


def test_summary_numbers_are_the_curves_numbers(story):
    curves, ev, page = story
    for c in (c for c in curves if c.discrete):
        text = _paragraph(page, c.task)
        i = int(np.argmax(np.diff(c.y)))  # the biggest step, found here by hand
        assert f"between N = {fmt_scale(X[i])} and N = {fmt_scale(X[i + 1])}" in text
        assert f"from {c.y[0]:.3g} at N = {fmt_scale(X[0])}" in text and f"to {c.y[-1]:.3g}" in text
        v = ev[c.task].verdicts["exact_match"]
        assert X[0] < v.threshold < X[-1] and f"≈ {fmt_scale(v.threshold)}" in text
        # the threshold is where the curve crosses half its range: between the bracketing sizes
        half = (c.y[0] + c.y.max()) / 2
        k = int(np.argmax(c.y >= half))
        assert X[k - 1] <= v.threshold <= X[k]


def test_models_ordered_by_size_not_text():
    sizes = {"w12": 3_500, "w48": 56_000, "w8": 1_700, "w16": 6_200, "w8-d4": 1_700}
    assert model_order(sizes) == ["w8", "w8-d4", "w12", "w16", "w48"]
    colors = size_colors(model_order(sizes))
    assert list(colors) == model_order(sizes) and len(set(colors.values())) == 5


def test_transition_lines_sit_at_their_step():
    """Plotly places shapes in data coordinates, also on a log axis: the line for a transition at
    step 705 must carry x = 705 (the old code passed log10(705) = 2.85, a line near step 3)."""
    steps = np.array([1, 10, 100, 300, 700, 1000, 1500])
    series = [Series("t", m, "exact_match", steps, np.linspace(0, 1, len(steps))) for m in ("w8", "w12")]
    fig = training_figure(series, "t", {"w8": 705.0, "w12": 300.0}, size_colors(["w8", "w12"]))
    xs = sorted(s.x0 for s in fig.layout.shapes)
    assert xs == [300.0, 705.0]
    assert [t.name for t in fig.data] == ["w8", "w12"]  # size order, not text order


def test_transition_lines_are_plotlys_vlines_in_every_panel():
    """The lines are added in one go for speed; they must be what plotly's own add_vline draws
    in each panel (axis references of a multi-row grid included)."""
    steps = np.array([1, 10, 100, 1000])
    models = ["w8", "w12", "w16"]
    quantities = ["a", "b", "c", "d", "e"]
    series = [Series("t", m, q, steps, np.linspace(0, 1, 4)) for m in models for q in quantities]
    transitions = {"w8": 705.0, "w12": 300.0, "w16": 80.0}
    fig = training_figure(series, "t", transitions, size_colors(models))
    reference = go.Figure(fig)
    reference.layout.shapes = ()
    for q_i in range(len(quantities)):
        row, col = q_i // PANELS_PER_ROW + 1, q_i % PANELS_PER_ROW + 1
        for m in models:
            reference.add_vline(x=transitions[m], line={"dash": "dash", "color": size_colors(models)[m], "width": 1},
                                row=row, col=col)
    assert fig.layout.shapes == reference.layout.shapes and len(fig.layout.shapes) == 15


@pytest.mark.parametrize("lo, hi", [(1.7e3, 5.6e4), (1e3, 2e5), (7e7, 7e10), (1e6, 1e11)])
def test_png_tick_labels_do_not_overlap(lo, hi):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    x = np.geomspace(lo, hi, 6)
    y = np.linspace(0, 1, 6)
    curves = [Curve("t", m, "non_embedding_params", x, y, y, y, np.full(6, 10.0)) for m in ("a", "b", "c")]
    fig = metric_png_figure(curves, "t")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels()
                 if t.get_visible() and t.get_text() and lo <= t.get_position()[0] <= hi]
        assert len(boxes) >= 2, [t.get_text() for t in ax.get_xticklabels()]
        boxes.sort(key=lambda b: b.x0)
        for a, b in zip(boxes, boxes[1:], strict=False):
            assert a.x1 < b.x0, "tick labels overlap"


def test_spec_shows_its_own_characters():
    stored = yaml.safe_dump({"description": "6 sizes × 2 seeds"})  # how the sweep stores it: "\xD7"
    assert "\\xD7" in stored
    assert "6 sizes × 2 seeds" in _spec_text(stored)


def test_glossary_defines_the_terms_the_report_uses(story):
    names = " ".join(t.name for t in GLOSSARY)
    for term in ("emergence score", "linearity", "joint", "point surprise", "mirage route", "excess", "threshold"):
        assert term in names


def test_glossary_linearity_matches_the_numbers_in_the_tables():
    """The glossary's landmarks for linearity are the values `linearity` gives (it once said 'near 1 for
    steady improvement, near 0 for a jump', while the tables showed 2-4)."""
    from emergelab.analysis.linearity import linearity

    text = next(t.definition for t in GLOSSARY if t.name == "linearity")
    assert "equal steps give n − 1" in text and "single jump among flat steps gives √(n − 1)" in text
    n = 5
    assert linearity(np.arange(n, dtype=float)) == pytest.approx(n - 1)
    assert linearity(np.array([0, 0, 0, 0, 1.0])) == pytest.approx(np.sqrt(n - 1))


def test_mirage_bands_draw_no_markers(story):
    """A band is an area: its corners must not show as points beside the observed ones."""
    from emergelab.report.analysis_section import mirage_figure

    _curves, ev, _page = story
    fig = mirage_figure(ev["artifact"].mirages["exact_match"])
    bands = [t for t in fig.data if t.fill == "toself"]
    assert bands and all(t.mode == "lines" for t in bands)


# ------------------------------------------------------------------ a real experiment


@pytest.fixture(scope="module")
def tiny_experiment(tmp_path_factory):
    from emergelab.spec import ExperimentSpec
    from emergelab.sweep import run_experiment

    raw = tiny_spec_dict(seeds=[0])
    raw["family"]["widths"] = [8, 16]
    raw["training"].update(steps=60, checkpoints="log:6", checkpoint_test_size=50)
    folder = tmp_path_factory.mktemp("report") / "exp"
    run_experiment(ExperimentSpec.model_validate(raw), folder)
    return folder


def test_failure_table_marks_answers_by_arithmetic(tiny_experiment):
    from emergelab.report.failures import failure_table
    from emergelab.store import Store

    with Store(tiny_experiment, read_only=True) as store:
        (task,) = {r.task for r in store.runs()}
        t = failure_table(store, task, k=8)
    assert len(t.models) == 2 and t.sizes[0] < t.sizes[1]  # by size
    assert len(t.problems) == 8
    for i, prob in enumerate(t.problems):
        a, b = (int(v) for v in re.fullmatch(r"(\d+)\+(\d+)=", prob).groups())
        expected = str(a + b).zfill(3)[::-1]  # 2-digit addition, 3-digit sum, reversed format
        assert "".join(t.targets[i]) == expected
        for j in range(len(t.models)):
            assert t.correct(i, j) == ("".join(t.answers[i][j]) == expected)
    solved = [sum(t.correct(i, j) for j in range(len(t.models))) for i in range(len(t.problems))]
    assert solved == sorted(solved, reverse=True)  # from solved by most models to solved by fewest


def test_report_opens_on_the_summary(tiny_experiment):
    from emergelab.report import write_report

    page = write_report(tiny_experiment).read_text()
    summary = page.index('<section id="summary">')
    assert summary < page.index('class="plotly-graph-div"') and summary < page.index('<section id="metrics">')
    assert '<section id="glossary">' in page and '<section id="failures">' in page


def test_png_figures_match_an_in_process_drawing_and_a_failed_one_leaves_no_page(tiny_experiment, tmp_path, capfd):
    """The PNGs drawn by the forked child are byte for byte what matplotlib draws here. When the
    child cannot write them, write_report raises the error drawing here would have raised (so the
    CLI still calls it the user's environment), prints nothing, and writes no page."""
    from emergelab.analysis.curves import load_curves
    from emergelab.report import write_report
    from emergelab.report.figures import save_metric_png

    write_report(tiny_experiment, out=tmp_path / "a" / "report.html")
    (png,) = (tmp_path / "a" / "figures").iterdir()
    curves = [c for c in load_curves(tiny_experiment, "non_embedding_params") if c.task == png.name.split("_metrics")[0]]
    assert save_metric_png(curves, curves[0].task, tmp_path / "here.png").read_bytes() == png.read_bytes()

    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "figures").write_text("a file where the figures folder should be")
    with pytest.raises(FileExistsError) as here:
        save_metric_png(curves, curves[0].task, tmp_path / "b" / "figures" / "x.png")
    capfd.readouterr()
    with pytest.raises(FileExistsError) as child:
        write_report(tiny_experiment, out=tmp_path / "b" / "report.html")
    assert str(child.value) == str(here.value)
    assert capfd.readouterr() == ("", "")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["figures"]


def test_a_png_child_that_dies_is_an_error_not_a_missing_figure(tiny_experiment, tmp_path, monkeypatch):
    import os

    import emergelab.report.figures as figures
    from emergelab.report import write_report

    monkeypatch.setattr(figures, "_save_all", lambda jobs: os._exit(3))  # killed mid-drawing, nothing sent
    with pytest.raises(RuntimeError, match=r"PNG figures died \(exit code 3\)"):
        write_report(tiny_experiment, out=tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()


def test_analyze_table_fits_80_columns():
    """Every metric name and label whole at 80 columns (target_logprob and target_prob were both
    cut to "targe…"), with the longest names the analysis can print."""
    from rich.console import Console

    from emergelab.analysis.summary import AnalysisRow, to_table

    metrics = ["target_logprob", "target_prob", "token_edit_distance", "exact_match"]
    from dataclasses import fields

    given = dict(task="addition-3d", scale="non_embedding_params", n_points=12, emergence_score=34.45,
                 linearity=-0.123, verdict="inconclusive", threshold=3.6e4, threshold_lo=3.55e4, threshold_hi=3.7e4,
                 mirage="metric_artifact", reason="why")
    filler = {"str": "", "float": -0.123, "int": 12}  # any other column the row grows: a wide value
    rows = [AnalysisRow(**{f.name: given.get(f.name, m if f.name == "metric" else filler.get(str(f.type).split(" ")[0]))
                           for f in fields(AnalysisRow)}) for m in metrics]
    console = Console(width=80, record=True, color_system=None)
    console.print(to_table(rows))
    text = console.export_text()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    for m in metrics:
        assert re.search(rf"\b{m}\b", text)
    assert "metric_artifact" in text and "inconclusive" in text and "36k [36k, 37k]" in text


def test_analyze_table_shows_series_labels_in_brackets():
    """Shots, families and models in brackets are text, not rich markup (they vanished: two
    "lambada_openai" headings for 0- and 5-shot), and a long heading folds instead of squeezing
    the numbers out of an 80-column table."""
    from dataclasses import fields

    from rich.console import Console

    from emergelab.analysis.summary import AnalysisRow, to_table

    heads = ["lambada_openai [pythia, 0-shot]", "lambada_openai [pythia, 5-shot, pythia-v1.1-1b-bf16]"]
    given = dict(scale="tokens", n_points=15, emergence_score=29.0, linearity=6.9, verdict="smooth",
                 threshold=2.7e10, threshold_lo=2.4e10, threshold_hi=3.1e10, mirage="-", reason="why")
    filler = {"str": "", "float": 0.5, "int": 3}
    rows = [AnalysisRow(**{f.name: {"task": task, "metric": "acc", "family": fam}.get(f.name, given.get(
        f.name, filler.get(str(f.type).split(" ")[0]))) for f in fields(AnalysisRow)})
            for task, fam in ((heads[0], ""), (heads[0], "pythia"), (heads[1], ""))]
    console = Console(width=80, record=True, color_system=None)
    console.print(to_table(rows))
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in text
    assert heads[0] in lines[2]  # the first heading on one line, whole
    assert "lambada_openai [pythia, 5-shot," in text and "pythia-v1.1-1b-bf16]" in text  # folded, not cut
    assert "acc [pythia]" in text and f"{heads[0]} / acc [pythia]: why" in text.replace("\n", " ")
    assert sum(1 for line in lines if line.startswith("acc ") and "27B [24B, 31B]" in line and " 15 " in line) == 3


# ------------------------------------------------------------------ an imported folder


def test_imported_folder_reads_well(tmp_path):
    """Two families × three sizes × three checkpoints on two tasks, imported from a long table:
    contents and a task filter, families as colours, chance lines, one training line per model."""
    from typer.testing import CliRunner

    from emergelab.cli import app
    from emergelab.report import write_report

    lines = ["model,family,params,task,metric,shots,step,value,chance"]
    for family, shift in (("alpha", 0.0), ("beta", 0.1)):
        for size in (1e8, 1e9, 1e10):
            for step in (1000, 10000, 100000):
                for task in ("piqa", "arc_easy"):
                    value = 0.25 + 0.05 * np.log10(size / 1e8) + shift + 0.02 * np.log10(step / 1000)
                    lines.append(f"{family}-{size:.0e},{family},{size:.0e},{task},acc,0,{step},{value:.3f},0.25")
    (tmp_path / "long.csv").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["import", str(tmp_path / "long.csv"), "--out", str(tmp_path / "imp")])
    assert result.exit_code == 0, result.output
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page = write_report(tmp_path / "imp").read_text()
    assert 'id="task-filter"' in page and '<option value="piqa">' in page and '<nav class="contents">' in page
    names = set(re.findall(r'"name":"([^"]+)"', page))
    assert {"alpha", "beta"} <= names  # families as colours in the size panels
    assert {"alpha-1e+08", "beta-1e+10"} <= names  # one training line per model
    assert '<section id="checkpoints">' in page
    assert page.count('"y0":0.25') >= 2  # chance lines, one per size panel


def test_report_takes_the_analysis_selectors(tmp_path):
    """`report --task/--family/--model ... --out`: the same selectors as analyze; the page holds the
    chosen series only, the full report is not replaced, and a selector that matches nothing is one
    line with exit 2 and no page."""
    from typer.testing import CliRunner

    from emergelab.cli import app

    lines = ["model,family,params,task,metric,shots,step,value,chance"]
    for family in ("alpha", "beta"):
        for size in (1e8, 1e9, 1e10):
            for task in ("piqa", "arc_easy"):
                lines.append(f"{family}-{size:.0e},{family},{size:.0e},{task},acc,0,1000,"
                             f"{0.3 + 0.05 * np.log10(size / 1e8):.3f},0.25")
    (tmp_path / "long.csv").write_text("\n".join(lines) + "\n")
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(tmp_path / "long.csv"), "--out", str(tmp_path / "imp")]).exit_code == 0
    out = tmp_path / "piqa_beta.html"
    result = runner.invoke(app, ["report", str(tmp_path / "imp"), "--task", "piqa", "--family", "beta", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    names = set(re.findall(r'"name":"([^"]+)"', page))
    assert "beta" in names and "alpha" not in names
    assert "piqa" in page and "arc_easy" not in page
    assert "Selected: task piqa; family beta" in page
    assert not (tmp_path / "imp" / "report.html").exists()  # the folder's own report is untouched
    bad = runner.invoke(app, ["report", str(tmp_path / "imp"), "--family", "gamma", "--out", str(tmp_path / "g.html")])
    assert bad.exit_code == 2 and "no family gamma" in bad.output
    assert not (tmp_path / "g.html").exists()


def test_command_output_prints_bracketed_labels_as_text(capsys):
    """Every command's output console takes labels as text: rich markup would drop
    `[digits=2]` from `multiplication[digits=2]` (tables of quanta, entropy, thresholds, ...)."""
    from rich.table import Table

    from emergelab.cli.common import out_console

    t = Table("task")
    t.add_row("multiplication[digits=2]")
    out_console.print(t)
    out_console.print("add2 [format=reversed,share=0.34]: KL")
    out = capsys.readouterr().out
    assert "multiplication[digits=2]" in out and "add2 [format=reversed,share=0.34]: KL" in out


def test_metrics_table_shows_labels_whole_at_80_columns():
    """`emergelab metrics`: a label with brackets is text (it showed `multiplication` for
    `multiplication[digits=2]`, the label CSV and `analyze` print) and no metric name is cut to
    `token_edit_dista…` at 80 columns, with the longest names the demo has."""
    from rich.console import Console

    from emergelab.cli.run import metrics_table

    metrics = ["token_edit_distance", "target_logprob", "target_prob", "exact_match"]
    final = {(task, m, n, model): [0.5, 0.25] for task in ("addition-3d", "multiplication[digits=2]")
             for m in metrics for n, model in ((1760, "w8-d2-h2"), (56640, "w48-d2-h12"))}
    console = Console(width=80, record=True, color_system=None)
    console.print(metrics_table(final, "metrics at the final checkpoint, mean over seeds — runs/[demo]"))
    text = console.export_text()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    assert "multiplication[digits=2]" in text and "addition-3d" in text and "runs/[demo]" in text
    for m in metrics:
        assert re.search(rf"\b{m}\b", text)
    assert text.index("w8-d2-h2") < text.index("w48-d2-h12")  # by size


def test_mirage_figure_hides_undetermined_routes_only_beside_an_informative_one(story):
    """Uninformative bands cover most of [0, 1]; beside a route that decides they start hidden (legend
    click shows them), but when no route decides they are all the figure has, so they stay shown."""
    from dataclasses import replace

    from emergelab.report.analysis_section import mirage_figure

    _curves, ev, _page = story
    m = ev["artifact"].mirages["exact_match"]
    informative = next(r for r in m.routes if r.label != "undetermined" and np.isfinite(r.pred).any())
    vague = replace(informative, continuous_metric="vague_metric", label="undetermined")
    fig = mirage_figure(replace(m, routes=[informative, vague]))
    shown = {t.legendgroup: t.visible for t in fig.data if t.legendgroup}
    assert shown[informative.continuous_metric] is True and shown["vague_metric"] == "legendonly"
    fig = mirage_figure(replace(m, routes=[replace(informative, label="undetermined"), vague]))
    assert all(t.visible is True for t in fig.data if t.legendgroup)


def test_summary_opens_with_an_overview_of_verdicts_when_there_are_several_tasks():
    from types import SimpleNamespace as NS

    from emergelab.report.evidence import TaskEvidence
    from emergelab.report.summary import overview_html

    def ev(task, **labels):
        return TaskEvidence(task, [], verdicts={m: NS(label=v) for m, v in labels.items()})

    tasks = [ev("arc", acc="smooth", acc_norm="smooth"), ev("mmlu", acc="flat"),
             ev("bbh", exact_match="emergent", brier="smooth")]
    line = overview_html(tasks)
    assert "3 tasks or series, 5 curves:" in line
    assert "1 emergent, 3 smooth, 1 flat." not in line  # the emergent one is named
    assert "1 emergent, 3 smooth, 1 flat; emergent: bbh / exact_match." in line
    assert overview_html(tasks[:1]) == ""  # one task: its paragraph says it all
