"""Facilitation knobs: thresholds per knob, mixed-task data, and a tiny end-to-end knob run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from emergelab.analysis.curve import Curve
from emergelab.analysis.threshold import crossing, describe, knob_thresholds, parse_group, threshold
from emergelab.spec import SpecError, parse_spec
from emergelab.sweep import plan
from emergelab.sweep.knobs import KNOBS, active_knobs
from emergelab.sweep.mix import build_mix, union_vocab
from emergelab.tasks import make_task


def _curve(x, y, group="share=0.5", samples=None, task="t") -> Curve:
    y = np.asarray(y, float)
    return Curve(task=task, metric="exact_match", scale="non_embedding_params", x=np.asarray(x, float), y=y,
                 lo=y, hi=y, n=np.full(len(y), 100), discrete=True, samples=samples, group=group)


# ---------------------------------------------------------------------------------- thresholds
def test_crossing_interpolates_in_log_scale():
    value, status = crossing([1e3, 1e4, 1e5], [0.1, 0.3, 0.7], 0.5)
    assert status == "crossed"
    assert value == pytest.approx(10**4.5)  # half-way between 0.3 and 0.7 → half-way in log10 x
    value, _ = crossing([1e3, 1e4, 1e5], [0.1, 0.5, 0.9], 0.5)  # exactly at a point
    assert value == pytest.approx(1e4)


def test_crossing_not_reached_below_range_and_nan():
    assert crossing([1, 10, 100], [0.0, 0.1, 0.4], 0.5)[1] == "not_reached"
    assert crossing([1, 10, 100], [0.6, 0.8, 0.9], 0.5)[1] == "below_range"
    assert crossing([], [], 0.5)[1] == "no_data"
    # NaN points are skipped, not treated as zero
    value, status = crossing([1, 10, 100, 1000], [0.0, np.nan, 1.0, 1.0], 0.5)
    assert status == "crossed" and value == pytest.approx(10.0)
    # the *first* upward crossing counts (a later dip does not move it)
    assert crossing([1, 10, 100, 1000], [0.0, 1.0, 0.2, 1.0], 0.5)[0] == pytest.approx(10**0.5)


def test_threshold_bootstrap_interval_brackets_the_estimate():
    rng = np.random.default_rng(0)
    x = [1e3, 3e3, 1e4, 3e4, 1e5]
    p = [0.0, 0.05, 0.4, 0.9, 1.0]
    samples = [(rng.random((3, 200)) < q).astype(float) for q in p]
    y = [s.mean() for s in samples]
    t = threshold(_curve(x, y, samples=samples), level=0.5, n_boot=400)
    assert t.status == "crossed"
    assert 1e4 < t.value < 3e4
    assert t.lo <= t.value <= t.hi
    assert 3e3 < t.lo and t.hi < 1e5
    assert t.reached == 1.0
    assert t.knobs == {"share": "0.5"}


def test_threshold_interval_is_open_ended_when_replicates_miss():
    rng = np.random.default_rng(1)
    p = [0.0, 0.1, 0.48]  # the last point hovers at the level: some replicates never cross
    samples = [(rng.random((2, 100)) < q).astype(float) for q in p]
    t = threshold(_curve([1, 10, 100], [s.mean() for s in samples], samples=samples), n_boot=300)
    assert t.hi == math.inf
    assert 0 < t.reached < 1
    assert ">" in describe(t)


def test_not_reached_curve_reports_no_value():
    t = threshold(_curve([1, 10, 100], [0.0, 0.0, 0.1]), n_boot=50)
    assert t.status == "not_reached" and math.isnan(t.value)
    assert describe(t).startswith("not reached")


def test_knob_thresholds_only_for_knob_curves_and_sorted_numerically():
    curves = [_curve([1, 10, 100], [0, 0.2, 0.9], group=f"share={s}") for s in ("0.8", "0.05", "0.2")]
    curves.append(_curve([1, 10, 100], [0, 0.2, 0.9], group=""))  # no knob: left out
    rows = knob_thresholds(curves, n_boot=20)
    assert [r.knob_value for r in rows] == ["0.05", "0.2", "0.8"]
    assert parse_group("depth=2,format=plain") == {"depth": "2", "format": "plain"}


# ---------------------------------------------------------------------------------- mix data
def test_union_vocab_keeps_ids_consistent_across_tasks():
    add, mul = make_task("addition", digits=2, fmt="reversed"), make_task("multiplication", digits=2, fmt="reversed")
    assert add.vocab.index("+") == mul.vocab.index("*")  # the collision a naive mix would suffer
    splits = [t.make_split(300, 50, 0) for t in (add, mul)]
    data = build_mix([add, mul], splits, [0.7, 0.3])
    vocab = data.vocab
    assert vocab == union_vocab([add, mul]) and len(set(vocab)) == len(vocab)
    assert vocab.index("+") != vocab.index("*")
    assert data.prompt_len == 1 + 6 and data.answer_len == 4  # tag + "ab+cd=", longest answer (product)
    pad = vocab.index(".")
    for i, (task, split) in enumerate(zip([add, mul], splits, strict=True)):
        test = data.tests[i]
        assert test.answer.shape == split.test_answer.shape
        for row in range(5):  # decoding the union ids gives back each task's own text
            text = "".join(vocab[j] for j in test.prompt[row] if j != pad)
            assert text == f"<{i}>" + task.render(split.test_prompt[row])
            assert "".join(vocab[j] for j in test.answer[row]) == task.render(split.test_answer[row])
    # addition's 3-digit answers are followed by one PAD in training sequences
    add_rows = data.sequences[data.task_of == 0]
    assert np.all(add_rows[:, -1] == pad) and not np.any(data.sequences[data.task_of == 1][:, -1] == pad)


def test_mix_sampling_respects_shares_whatever_the_set_sizes():
    add, mul = make_task("addition", digits=2, fmt="reversed"), make_task("multiplication", digits=2, fmt="reversed")
    splits = [add.make_split(2000, 50, 0), mul.make_split(200, 50, 0)]  # 10× more addition examples
    data = build_mix([add, mul], splits, [0.1, 0.9])
    assert data.weights.sum() == pytest.approx(1.0)
    draws = np.random.default_rng(0).choice(len(data.sequences), size=40000, p=data.weights)
    share = np.mean(data.task_of[draws] == 0)
    assert share == pytest.approx(0.1, abs=0.01)


# ---------------------------------------------------------------------------------- spec and plan
BASE = {"family": {"widths": [8], "depths": [1], "head_dim": 4}, "training": {"steps": 5, "batch_size": 8}}


def _task(**kw):
    return {"name": "addition", "digits": 2, "train_size": 200, "test_size": 40, **kw}


def test_knobs_are_turned_by_the_spec():
    fmt = parse_spec({"name": "f", "tasks": [_task(format="plain", label="p"), _task(format="reversed", label="r")], **BASE})
    assert active_knobs(fmt) == ["format"]
    assert sorted(g.knob["format"] for g in plan(fmt)) == ["plain", "reversed"]
    one = parse_spec({"name": "o", "tasks": [_task()], **BASE})
    assert active_knobs(one) == [] and plan(one)[0].knob == {}
    named = parse_spec({"name": "n", "tasks": [_task()], **BASE, "knobs": ["width", "aspect"]})
    assert plan(named)[0].knob == {"width": 8, "aspect": 8.0}
    assert set(KNOBS) >= {"share", "format", "depth", "width", "aspect"}
    with pytest.raises(SpecError, match="knobs"):
        parse_spec({"name": "b", "tasks": [_task()], **BASE, "knobs": ["colour"]})


def test_budget_family_keeps_depth_times_width_squared_about_constant():
    spec = parse_spec({"name": "d", "tasks": [_task()], "family": {"budgets": [3000, 12000], "depths": [1, 4], "head_dim": 4}})
    groups = plan(spec)
    assert {g.knob["depth"] for g in groups} == {1, 4}
    for budget in (3000, 12000):
        dw2 = [g.shape.depth * g.shape.width**2 for g in groups if abs(12 * g.shape.depth * g.shape.width**2 / budget - 1) < 0.5]
        assert len(dw2) == 2 and max(dw2) / min(dw2) < 1.5


def test_mix_spec_validation():
    tasks = [_task(label="a"), {"name": "multiplication", "digits": 2, "train_size": 200, "test_size": 40, "label": "m"}]
    with pytest.raises(SpecError, match="mix.shares"):
        parse_spec({"name": "m", "tasks": tasks, **BASE, "mix": {"shares": [1.0]}})
    with pytest.raises(SpecError, match="mix"):
        parse_spec({"name": "m", "tasks": tasks[:1], **BASE, "mix": {"shares": [0.5]}})
    with pytest.raises(SpecError, match="target"):
        parse_spec({"name": "m", "tasks": tasks, **BASE, "mix": {"shares": [0.5], "target": "zz"}})
    spec = parse_spec({"name": "m", "tasks": tasks, **BASE, "mix": {"shares": [0.25], "target": "m"}, "seeds": [0, 1]})
    (g,) = plan(spec)
    assert [t.display_label() for t in g.mix] == ["m", "a"] and g.shares == [0.25, 0.75]
    assert [k["share"] for k in g.mix_knobs] == [0.25, 0.75]
    assert len(g.run_ids) == 4 and len(set(g.run_ids)) == 4  # seed-major over the mix's tasks
    assert g.subset({g.run_ids[3]}).seeds == [1]


# ---------------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def mix_run(tmp_path_factory):
    from emergelab.sweep import run_experiment

    spec = parse_spec({
        "name": "tiny_mix", "seeds": [0, 1],
        "tasks": [_task(label="add", format="reversed"),
                  {"name": "multiplication", "digits": 1, "train_size": 60, "test_size": 30, "label": "mul"}],
        "mix": {"shares": [0.7, 0.3]},
        "family": {"widths": [4, 8], "depths": [1], "head_dim": 4},
        "training": {"steps": 8, "batch_size": 16, "warmup_steps": 2},
        "metrics": ["exact_match", "token_accuracy"],
        "executor": {"save_weights": False},
    })
    out = tmp_path_factory.mktemp("mix")
    summary = run_experiment(spec, out)
    return spec, out, summary


def test_tiny_mix_run_carries_knobs_and_gives_one_curve_per_value(mix_run):
    from emergelab.analysis.curves import load_curves
    from emergelab.store import Store
    from emergelab.sweep import run_experiment

    spec, out, summary = mix_run
    assert summary.planned == summary.trained == 2 * 2 * 2 * 2  # shares × widths × seeds × tasks
    with Store(out, read_only=True) as store:
        runs = store.runs()
    knobs = {(r.task, r.knob["share"]) for r in runs}
    assert knobs == {("add", 0.7), ("add", 0.3), ("mul", 0.3), ("mul", 0.7)}
    assert all(r.task_config["answer_len"] == (3 if r.task == "add" else 2) for r in runs)
    curves = [c for c in load_curves(out, metrics=["exact_match"], n_boot=20)]
    assert sorted((c.task, c.group) for c in curves) == [
        ("add", "share=0.3"), ("add", "share=0.7"), ("mul", "share=0.3"), ("mul", "share=0.7")]
    assert all(len(c) == 2 and c.samples[0].shape == (2, 40 if c.task == "add" else 30) for c in curves)
    again = run_experiment(spec, out)  # resume: everything is already there
    assert again.trained == 0 and again.skipped == again.planned


def test_analyze_prints_thresholds_per_knob(mix_run):
    from emergelab.cli import app

    _, out, _ = mix_run
    res = CliRunner().invoke(app, ["analyze", str(out), "--thresholds", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert {(r["task"], r["knob"], r["value"]) for r in rows} == {
        ("add", "share", "0.3"), ("add", "share", "0.7"), ("mul", "share", "0.3"), ("mul", "share", "0.7")}
    assert all(r["status"] in ("crossed", "not_reached", "below_range") for r in rows)
    table = CliRunner().invoke(app, ["analyze", str(out)])
    assert table.exit_code == 0 and "threshold per knob" in table.output


@pytest.mark.slow  # the whole report (PNG figures, verdicts) takes tens of seconds on a busy machine
def test_report_has_a_facilitation_section(mix_run):
    from emergelab.report.html import write_report

    _, out, _ = mix_run
    page = write_report(out).read_text()
    assert "Facilitation: what moves the point of emergence" in page
    assert "threshold (exact_match" in page
