"""summary.analyze, the HTML analysis section, and the analyze/forecast CLI."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from emergelab.analysis.curve import Curve
from emergelab.analysis.forecast import forecast
from emergelab.analysis.mirage import compounding_toy
from emergelab.analysis.summary import analyze, to_csv, to_json, to_table
from emergelab.report.analysis_section import analysis_section_html

X = np.logspace(6, 11, 11)


def _curves():
    rng = np.random.default_rng(0)
    toy = compounding_toy(X)
    nan = np.full_like(X, np.nan)
    n = 500
    em = Curve("add", "exact_match", "params", X, rng.binomial(n, toy["accuracy"]) / n, nan, nan,
               np.full_like(X, n), chance=0.0, discrete=True)
    lp = -5 * toy["cross_entropy"]
    lpc = Curve("add", "target_logprob", "params", X, lp, nan, nan, np.full_like(X, n), stderr=0.02 * np.abs(lp))
    flat = Curve("copy", "exact_match", "params", X, rng.binomial(n, 0.001, len(X)) / n, nan, nan,
                 np.full_like(X, n), chance=0.0, discrete=True)
    step = np.where(X > 10**8.7, 0.9, 0.0)  # a step between two sizes: a jump by construction
    jump = Curve("parity", "exact_match", "params", X, rng.binomial(n, step) / n, nan, nan,
                 np.full_like(X, n), chance=0.0, discrete=True)
    return [em, lpc, flat, jump]


def test_analyze_rows_and_exports():
    rows = analyze(_curves(), n_boot=50)
    by = {(r.task, r.metric): r for r in rows}
    em = by[("add", "exact_match")]
    # the toy's exact match exp(-5·(N/1e8)^-0.5) is a Gompertz curve in log N with slope
    # 0.5·ln 10 = 1.15 per decade: gentler than the verdict's 3 logits/decade, so `smooth` — but
    # it rises from a floor, and the mirage test explains that rise by the continuous metric
    assert em.verdict == "smooth" and em.mirage == "metric_artifact"
    assert by[("parity", "exact_match")].verdict == "emergent"
    assert em.threshold_lo <= em.threshold <= em.threshold_hi
    assert by[("copy", "exact_match")].verdict == "flat" and by[("copy", "exact_match")].mirage is None
    assert by[("add", "target_logprob")].mirage is None
    data = json.loads(to_json(rows))
    assert len(data) == 4 and {"verdict", "mirage", "linearity"} <= set(data[0])
    assert to_csv(rows).splitlines()[0].startswith("task,metric,family,scale")
    assert to_table(rows).row_count == 4 + 3  # one row per curve, one heading row per task


def test_analysis_section_html():
    curves = _curves()
    f = forecast(curves, "via_continuous", fit_below=1e9, task="add", metric="exact_match")
    frag = analysis_section_html(curves, forecasts=[f])
    assert frag.startswith('<section class="analysis">') and "<table" in frag
    assert "metric_artifact" in frag and "back-test" in frag
    assert "<html" not in frag.lower() and "cdn.plot.ly" not in frag  # fragment, no plotly.js


@pytest.fixture
def cli(monkeypatch):
    import emergelab.analysis.curves as curves_mod
    from emergelab.cli import app

    monkeypatch.setattr(curves_mod, "load_curves", lambda folder, scale="non_embedding_params", **_: _curves())
    return app


def test_cli_analyze(cli, tmp_path):
    # (the forecast command now reads runs from the store itself; its CLI tests are the laws' own)
    r = CliRunner().invoke(cli, ["analyze", str(tmp_path), "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = {row["task"]: row for row in json.loads(r.stdout)}
    assert rows["parity"]["verdict"] == "emergent" and rows["copy"]["verdict"] == "flat"


def test_cli_errors_exit_2(cli, tmp_path):
    r = CliRunner().invoke(cli, ["analyze", str(tmp_path / "missing")])
    assert r.exit_code == 2
    r = CliRunner().invoke(cli, ["forecast", str(tmp_path), "--task", "nope", "--metric", "exact_match",
                                 "--fit-below", "1e9"])
    assert r.exit_code == 2 and "error:" in r.output
    assert CliRunner().invoke(cli, ["forecast", "--help"]).exit_code == 0


def test_by_family_gives_a_row_per_family_and_the_pooled_one():
    # two families at every size: one jumps (a step), the other stays at the floor
    rng = np.random.default_rng(1)
    x = np.repeat(X[:8], 2)
    fam = ["jumpers", "floor"] * 8
    truth = np.where((x > 10**8.7) & (np.array(fam) == "jumpers"), 0.9, 0.0)
    nan = np.full_like(x, np.nan)
    c = Curve("t", "exact_match", "params", x, rng.binomial(500, truth) / 500, nan, nan, np.full_like(x, 500),
              chance=0.0, discrete=True, families=fam)
    rows = {r.family: r for r in analyze([c], n_boot=0, by_family=True)}
    assert set(rows) == {"pooled", "jumpers", "floor"}
    assert rows["jumpers"].verdict == "emergent" and rows["floor"].verdict == "flat"


def test_cli_calibrate_small(tmp_path):
    from emergelab.cli import app

    r = CliRunner().invoke(app, ["calibrate", "--sizes", "6", "--reps", "10", "--no-mirage", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["rows"]
    jumps = [row for row in rows if row["truth"] == "emergent"]
    assert len(jumps) == 4 and jumps[-1]["rate"] >= 0.7  # a 0.8 jump is found
    assert all(row["lo"] <= row["rate"] <= row["hi"] for row in rows)


def test_cli_calibrate_csv_is_clean_data():
    """The progress bar goes to stderr: stdout is the CSV from its first line (a blank line before
    the header broke csv.DictReader)."""
    from emergelab.cli import app

    r = CliRunner().invoke(app, ["calibrate", "--sizes", "5", "--reps", "10", "--no-mirage", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].startswith("test,scenario,truth")
