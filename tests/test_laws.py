"""Scaling-law fits: the Chinchilla replication targets, synthetic recovery for each law, the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from emergelab.analysis.laws import LAWS, LawFit, fit_law
from emergelab.analysis.laws.broken_power_law import predict as bpl_predict
from emergelab.cli.fit import app

DATA = Path(__file__).parent / "data" / "chinchilla_epoch"
SUM_TARGET = {"A": 477.8, "B": 2143.9, "E": 1.8172, "alpha": 0.3473, "beta": 0.3672}
LIK_TARGET = {"A": 482.01, "B": 2085.43, "E": 1.817, "alpha": 0.3478, "beta": 0.3658}
LIK_SE = {"A": 124.5, "B": 1293.0, "E": 0.026, "alpha": 0.015, "beta": 0.021}  # SOURCE.md, 4000 resamples


def chinchilla_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The replication protocol of SOURCE.md: D = C / 6N, drop the 5 highest losses (240 rows)."""
    with (DATA / "svg_extracted_data.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    n = np.array([float(r["Model Size"]) for r in rows])
    c = np.array([float(r["Training FLOP"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    keep = loss < np.sort(loss)[-5]
    return n[keep], (c / (6 * n))[keep], loss[keep]


@pytest.fixture(scope="module")
def points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, d, loss = chinchilla_points()
    assert len(loss) == 240
    return n, d, loss


def test_registry_has_the_laws() -> None:
    assert {"power_law", "chinchilla", "isoflop", "broken_power_law"} <= set(LAWS)
    with pytest.raises(KeyError, match="unknown law"):
        fit_law("nope", [1, 2], [1, 2])


def test_chinchilla_huber_sum_matches_replication(points) -> None:
    n, d, loss = points
    fit = fit_law("chinchilla", (n, d), loss, variant="huber_sum")
    assert isinstance(fit, LawFit) and fit.intervals == {}
    for k, v in SUM_TARGET.items():
        assert fit.params[k] == pytest.approx(v, rel=0.01), k
    assert fit.gof["r2"] > 0.99
    assert np.allclose(fit.predict((n, d)), loss, rtol=0.1)


def test_chinchilla_huber_likelihood_within_one_se(points) -> None:
    n, d, loss = points
    fit = fit_law("chinchilla", (n, d), loss, variant="huber_likelihood", n_bootstrap=200, seed=1)
    for k, v in LIK_TARGET.items():
        assert abs(fit.params[k] - v) < LIK_SE[k], k
        lo, hi = fit.intervals[k]
        assert lo < fit.params[k] < hi
    assert fit.params["sigma"] > 0
    # 200 resamples: standard errors within a factor of two of the paper's 4000-resample ones.
    for k, se in LIK_SE.items():
        assert se / 2 < fit.stderr[k] < se * 2, k
    lo, hi = fit.predict_interval((n[:3], d[:3]))
    assert np.all(lo <= hi)


@pytest.mark.slow
def test_chinchilla_bootstrap_4000_matches_paper(points) -> None:
    n, d, loss = points
    fit = fit_law("chinchilla", (n, d), loss, variant="huber_likelihood", n_bootstrap=4000, seed=0)
    for k, se in LIK_SE.items():
        assert fit.stderr[k] == pytest.approx(se, rel=0.35), k
    assert fit.gof["bootstrap_failed"] == 0


def test_power_law_recovers_parameters() -> None:
    rng = np.random.default_rng(0)
    x = np.logspace(5, 10, 20)
    y = (0.5 + 300 * x**-0.4) * np.exp(rng.normal(0, 0.003, x.size))
    fit = fit_law("power_law", x, y, n_bootstrap=50, seed=0)
    assert fit.params["E"] == pytest.approx(0.5, rel=0.02)
    assert fit.params["A"] == pytest.approx(300, rel=0.1)
    assert fit.params["alpha"] == pytest.approx(0.4, abs=0.01)
    lo, hi = fit.intervals["alpha"]
    assert lo < 0.4 < hi or abs(fit.params["alpha"] - 0.4) < 0.005


def test_isoflop_recovers_optimum_exponent() -> None:
    e, a, b, alpha, beta = 1.7, 400.0, 410.0, 0.34, 0.28
    ns, ds = [], []
    for c in np.logspace(18, 22, 6):
        g = ((alpha * a) / (beta * b)) ** (1 / (alpha + beta))
        n_opt = g * (c / 6) ** (beta / (alpha + beta))
        for n in n_opt * np.logspace(-0.8, 0.8, 9):
            ns.append(n)
            ds.append(c / (6 * n))
    ns_, ds_ = np.array(ns), np.array(ds)
    loss = e + a / ns_**alpha + b / ds_**beta
    fit = fit_law("isoflop", (ns_, ds_), loss, n_bootstrap=50)
    assert fit.params["a"] == pytest.approx(beta / (alpha + beta), abs=0.01)
    assert fit.params["a"] + fit.params["b"] == pytest.approx(1.0, abs=1e-9)


def test_broken_power_law_recovers_break() -> None:
    rng = np.random.default_rng(1)
    x = np.logspace(5, 10, 30)
    truth = {"a": 0.05, "b": 1.0, "c0": 0.0, "c1": 2.0, "d1": 1e8, "f1": 0.1}
    y = bpl_predict(truth, x) + rng.normal(0, 0.005, x.size)
    fit = fit_law("broken_power_law", x, y)
    assert fit.params["d1"] == pytest.approx(1e8, rel=0.3)
    assert fit.params["c1"] == pytest.approx(2.0, rel=0.2)
    assert fit.gof["r2"] > 0.99


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "pl.csv"
    x = np.logspace(5, 9, 8)
    y = 1.5 + 20 * x**-0.25
    path.write_text("params,value\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y, strict=True)))
    return path


def test_cli_fit_json(table: Path) -> None:
    res = CliRunner().invoke(app, [str(table), "--x", "params", "--y", "value", "--format", "json",
                                   "--bootstrap", "20"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["law"] == "power_law" and out["params"]["alpha"] == pytest.approx(0.25, abs=0.01)
    assert set(out["intervals"]) == {"E", "A", "alpha"}


def test_cli_fit_table_and_errors(table: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, [str(table), "--x", "params", "--y", "value"])
    assert ok.exit_code == 0 and "alpha" in ok.output
    missing = runner.invoke(app, [str(table), "--x", "nope", "--y", "value"])
    assert missing.exit_code == 2 and "nope" in missing.output
    unknown = runner.invoke(app, [str(table), "--law", "zzz", "--x", "params", "--y", "value"])
    assert unknown.exit_code == 2 and "unknown law" in unknown.output
    assert runner.invoke(app, ["--help"]).exit_code == 0
