"""A tiny spec through the whole pipeline: run → store → metrics → report, via the CLI."""

import csv
import io
import re

import pytest
import yaml
from typer.testing import CliRunner

from conftest import tiny_spec_dict
from emergelab.analysis.curves import load_curves
from emergelab.cli import app
from emergelab.cli.run import CSV_COLUMNS


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    spec = folder / "tiny.yaml"
    spec.write_text(yaml.safe_dump(tiny_spec_dict(probes=["weight_norm"])))
    result = CliRunner().invoke(app, ["run", str(spec), "--out", str(folder / "exp")])
    assert result.exit_code == 0, result.output
    return folder / "exp"


def test_run_writes_database_and_report(experiment):
    assert (experiment / "emergelab.duckdb").is_file()
    assert (experiment / "report.html").is_file()
    assert list((experiment / "figures").glob("*.png"))
    html = (experiment / "report.html").read_text()
    # self-contained: no external scripts or stylesheets (plotly.js is inlined)
    assert not re.search(r"<script[^>]*\ssrc=", html) and not re.search(r"<link[^>]*href=[\"']https?:", html)
    assert "Plotly.newPlot" in html
    assert "Emergence scores" in html and "Runs" in html and "Spec" in html


def test_metrics_csv_columns_and_values(experiment):
    result = CliRunner().invoke(app, ["metrics", str(experiment), "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == CSV_COLUMNS == ["task", "metric", "model", "params", "non_embedding_params", "tokens",
                                            "flops", "seed", "step", "value"]
    sizes = {r["model"]: r["non_embedding_params"] for r in rows}  # one model name per size, never blank
    assert len(sizes) == 2 and len(set(sizes.values())) == 2 and all(sizes)
    # 2 sizes × 2 seeds × 2 checkpoints × 6 metrics
    assert len(rows) == 2 * 2 * 2 * 6
    for r in rows:
        assert float(r["flops"]) == pytest.approx(6 * int(r["non_embedding_params"]) * int(r["tokens"]), rel=1e-5)
        if r["metric"] == "exact_match":
            assert 0.0 <= float(r["value"]) <= 1.0


def test_curves_read_back(experiment):
    curves = {c.metric: c for c in load_curves(experiment)}
    assert set(curves) >= {"exact_match", "token_accuracy", "target_logprob", "brier"}
    em = curves["exact_match"]
    assert len(em) == 2 and all(em.lo <= em.y + 1e-12) and all(em.y <= em.hi + 1e-12)
    assert em.samples[0].shape == (2, 150)  # seeds × test examples
    steps = load_curves(experiment, scale="step", metrics=["token_accuracy"])
    assert list(steps[0].x) == [20.0, 60.0]


def test_metrics_table_and_errors(experiment, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["metrics", str(experiment)]).exit_code == 0
    bad = runner.invoke(app, ["metrics", str(tmp_path)])
    assert bad.exit_code == 2 and "not an experiment folder" in bad.output
    assert runner.invoke(app, ["report", str(tmp_path / "nothing")]).exit_code == 2


# The headless-Chromium check of the report lives in tests/test_report_browser.py.
