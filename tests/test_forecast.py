"""Forecast methods, back-tests, pass@k and tiny-probability estimators, checked against the
truth of simulations with known parameters."""

import json
from math import comb
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from emergelab.analysis.curve import Curve
from emergelab.analysis.forecast import (
    FORECASTERS,
    SampleCounts,
    estimate_pass_rate,
    forecast,
    forecast_runs,
    pass_at_k,
)
from emergelab.analysis.laws.points import RunPoints
from emergelab.analysis.mirage import compounding_toy
from emergelab.cli import app

X = np.logspace(6, 11, 11)


def _curves(seed=0, n=1000):
    rng = np.random.default_rng(seed)
    toy = compounding_toy(X)
    nan = np.full_like(X, np.nan)
    em = Curve("add", "exact_match", "params", X, rng.binomial(n, toy["accuracy"]) / n, nan, nan,
               np.full_like(X, n), chance=0.0, discrete=True)
    lp = -5 * toy["cross_entropy"]
    c = Curve("add", "target_logprob", "params", X, lp, nan, nan, np.full_like(X, n), stderr=0.02 * np.abs(lp))
    return em, c


def test_pass_at_k_matches_combinatorics():
    for n, c, k in [(10, 3, 2), (20, 0, 5), (200, 7, 50), (5, 5, 1)]:
        exact = 1 - comb(n - c, k) / comb(n, k) if n - c >= k else 1.0
        assert pass_at_k(n, c, k) == pytest.approx(exact)
    assert pass_at_k(np.array([10, 10]), np.array([1, 2]), 1) == pytest.approx([0.1, 0.2])
    assert 0 < pass_at_k(100000, 1, 1) < 1  # no overflow


def test_tiny_probability_estimators():
    rng = np.random.default_rng(0)
    p = 1e-3
    k = rng.geometric(p, size=400)
    est, se = estimate_pass_rate(k, np.ones_like(k), "until_success")
    assert est == pytest.approx(p, rel=0.15) and se > 0
    naive = np.mean(1.0 / k)  # the biased per-example 1/K the module avoids
    assert naive > 3 * p
    # r = 3 successes per example: Haldane's unbiased (r-1)/(K-1)
    k3 = rng.negative_binomial(3, p, size=400) + 3
    est3, _ = estimate_pass_rate(k3, np.full(400, 3.0), "until_success")
    assert est3 == pytest.approx(p, rel=0.15)
    assert estimate_pass_rate(np.full(4, 10), np.array([1, 2, 0, 1]), "fixed")[0] == pytest.approx(0.1)


def test_registry_and_backtest_via_continuous():
    assert {"sigmoid", "via_continuous", "via_loss", "high_resolution"} <= set(FORECASTERS)
    em, c = _curves()
    f = forecast([em, c], "via_continuous", fit_below=1e9, task="add", metric="exact_match")
    assert np.all(f.x > 1e9) and len(f.x) == 4
    s = f.summary()
    assert s["mean_rel_error"] < 0.1 and s["coverage"] >= 0.75


# An over-training grid (Gadre et al. 2024): 5 sizes x 3 tokens-per-parameter ratios, with the
# shared-exponent loss law and the error link as the truth, binomial errors on 2000 examples.
LOSS_TRUTH = {"a": 60.0, "b": 300.0, "eta": -0.25, "E": 1.9}
LINK_TRUTH = {"eps": 0.95, "k": 3.0, "gamma": 0.45}
N_EX = 2000


def true_loss(n, d):
    t = LOSS_TRUTH
    return t["E"] + t["a"] * n ** t["eta"] + t["b"] * d ** t["eta"]


def true_error(n, d):
    return LINK_TRUTH["eps"] - LINK_TRUTH["k"] * np.exp(-LINK_TRUTH["gamma"] * true_loss(n, d))


def overtraining_grid(seed=0):
    rng = np.random.default_rng(seed)
    n = np.repeat(np.logspace(6, 8, 5), 3)
    d = n * np.tile([10.0, 40.0, 320.0], 5)
    loss = true_loss(n, d) * np.exp(rng.normal(0, 0.002, n.size))
    err = rng.binomial(N_EX, true_error(n, d)) / N_EX
    return n, d, loss, err


def grid_runs(seed=0):
    n, d, loss, err = overtraining_grid(seed)
    labels = [f"m{i}" for i in range(n.size)]

    def series(metric, y, se):
        return RunPoints("lm", metric, labels, n, n, d, 6 * n * d, y, se, np.full(n.size, N_EX),
                         higher_is_better=False)

    return [series("loss", loss, np.full(n.size, 0.002)), series("error", err, np.sqrt(err * (1 - err) / N_EX))], n, d


def test_via_loss_two_variable_law_matches_truth_per_run():
    """Loss law on (N, D), error link on observed losses: every held-out run — including three
    at the same N with 10x, 40x and 320x tokens per parameter — within 0.025 of the true error."""
    runs, n, d = grid_runs()
    f = forecast_runs(runs, "via_loss", 1.01e7, task=None, metric="error", scale="params",
                      loss_law="shared_exponent", n_boot=0)
    held = n > 1.01e7
    assert len(f.x) == held.sum() == 6  # one row per run: equal N never merged
    truth = {f"m{i}": true_error(n[i], d[i]) for i in np.flatnonzero(held)}
    for label, pred in zip(f.labels, f.pred, strict=True):
        assert pred == pytest.approx(truth[label], abs=0.025), label
    assert np.all(np.isnan(f.lo)) and np.all(np.isnan(f.hi))  # intervals off
    assert f.params["loss.eta"] == pytest.approx(-0.25, abs=0.02)


def test_via_loss_link_on_its_own_point_set():
    """The link may see runs the loss law does not (Gadre et al. fit it on a wider set): with
    the link on runs up to 3.2e7 the 1e8 runs are forecast closer to the truth."""
    runs, n, d = grid_runs(1)
    f = forecast_runs(runs, "via_loss", 3.2e7, task=None, metric="error", scale="params",
                      loss_law="shared_exponent", loss_below=1.01e7, n_boot=0)
    assert "on 9 runs" in f.notes[0] and "on 12 runs" in f.notes[0]
    for label, x, pred in zip(f.labels, f.x, f.pred, strict=True):
        i = int(label[1:])
        assert x == n[i] == 1e8 and pred == pytest.approx(true_error(n[i], d[i]), abs=0.02), label


def test_via_loss_reads_perplexity_as_log_loss():
    """A perplexity series (its record: log scale) enters as log perplexity, i.e. the loss itself:
    the forecast from exp(loss) named `perplexity` equals the forecast from the loss."""
    runs, n, d = grid_runs(3)
    loss = runs[0]
    ppl = RunPoints("lm", "perplexity", loss.labels, n, n, d, 6 * n * d, np.exp(loss.y), loss.stderr * np.exp(loss.y),
                    loss.n, higher_is_better=False)
    common = dict(task=None, metric="error", scale="params", loss_law="shared_exponent", n_boot=0)
    via_loss = forecast_runs(runs, "via_loss", 1.01e7, **common)
    via_ppl = forecast_runs([ppl, runs[1]], "via_loss", 1.01e7, loss_metric="perplexity", **common)
    assert via_ppl.pred == pytest.approx(via_loss.pred, abs=1e-6)
    assert "log perplexity" in via_ppl.notes[0]


def test_via_loss_two_variable_law_refuses_curves_without_runs():
    """No silent switch to a one-variable fit: a two-variable law without per-run (N, D) is an error."""
    em, c = _curves()
    with pytest.raises(ValueError, match="per-run"):
        forecast([em, c], "via_loss", 1e9, task="add", metric="exact_match", loss_law="chinchilla", n_boot=0)
    with pytest.raises(ValueError, match="unknown loss law"):
        forecast([em, c], "via_loss", 1e9, task="add", metric="exact_match", loss_law="nope", n_boot=0)


def test_sigmoid_backtest_against_truth():
    """A logistic-in-log-N error rate (binomial noise): the larger models forecast from the smaller."""
    x = np.logspace(6, 10, 9)
    truth = 0.9 - 0.8 / (1 + np.exp(-1.5 * (np.log(x) - np.log(1e8))))
    y = np.random.default_rng(4).binomial(N_EX, truth) / N_EX
    se = np.sqrt(y * (1 - y) / N_EX)
    err = Curve("t", "error", "params", x, y, y - 2 * se, y + 2 * se, np.full(9, N_EX), higher_is_better=False,
                stderr=se)
    f = forecast(err, "sigmoid", 3e8, ceiling=0.1, floor=0.9, n_boot=0)
    assert f.pred == pytest.approx(truth[x > 3e8], abs=0.05)


def test_cli_forecast_error_from_imported_folder(tmp_path: Path):
    """`import` a long table with loss and error of the grid, `forecast --method via_loss` with a
    two-variable law: one back-test row per held-out run, predictions near the truth, the metric
    `error` read as lower-is-better from its registry record."""
    n, d, loss, err = overtraining_grid(2)
    rows = "".join(f"m{i},lm,{metric},{float(v)!r},{float(n[i])!r},{float(d[i])!r},{N_EX}\n"
                   for i in range(n.size) for metric, v in (("loss", loss[i]), ("error", err[i])))
    (tmp_path / "grid.csv").write_text("model,task,metric,value,params,tokens,n_examples\n" + rows)
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(tmp_path / "grid.csv"), "--out", str(tmp_path / "exp")]).exit_code == 0
    res = runner.invoke(app, ["forecast", str(tmp_path / "exp"), "--metric", "error", "--method", "via_loss",
                              "--loss-law", "shared_exponent", "--scale", "params", "--fit-below", "1.01e7",
                              "--no-intervals", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["points"]) == 6 and len({p["run"] for p in out["points"]}) == 6
    for p in out["points"]:
        i = int(p["run"][1:])
        assert p["pred"] == pytest.approx(true_error(n[i], d[i]), abs=0.03), p
        assert p["rel_error"] == pytest.approx(abs(p["pred"] - p["observed"]) / p["observed"])
    table = runner.invoke(app, ["forecast", str(tmp_path / "exp"), "--metric", "error", "--method", "via_loss",
                                "--loss-law", "shared_exponent", "--scale", "params", "--fit-below", "1.01e7",
                                "--bootstrap", "20"])
    assert table.exit_code == 0, table.output
    assert "held-out runs: mean relative error" in table.output


def test_high_resolution_extrapolates_tiny_rates():
    rng = np.random.default_rng(0)
    xs = np.logspace(6, 10, 5)
    P = np.exp(-12 * (xs / 1e6) ** -0.4)
    draws, succ = [], []
    for p in P:
        k = rng.geometric(p, size=300)
        draws.append(np.minimum(k, 10**7))
        succ.append((k <= 10**7).astype(float))
    f = forecast(None, "high_resolution", fit_below=1e8, counts=SampleCounts(xs, draws, succ, "until_success"))
    assert f.pred == pytest.approx(P[3:], rel=0.35)
    assert f.summary()["coverage"] == 1.0


def test_errors_are_value_errors():
    em, c = _curves()
    with pytest.raises(ValueError):
        forecast([em, c], "nope", fit_below=1e9, task="add", metric="exact_match")
    with pytest.raises(ValueError):
        forecast([em, c], "sigmoid", fit_below=1e9)  # ambiguous target
    with pytest.raises(ValueError):
        forecast([em], "via_continuous", fit_below=1e9)


@pytest.mark.parametrize("name", ["error", "score"])
def test_cli_sigmoid_orientation_from_metric_record(tmp_path: Path, name: str):
    """A falling error rate forecast with the sigmoid: `error` is lower-is-better by its registry
    record (no higher_is_better column), so the forecast follows the fall. The same numbers under
    a name with no record and no stated orientation are read as higher-is-better, and the fall
    cannot be followed — the contrast shows the record is what decides."""
    x = np.logspace(6, 10, 9)
    truth = 0.9 / (1 + np.exp(1.5 * (np.log(x) - np.log(1e8))))
    y = np.random.default_rng(5).binomial(N_EX, truth) / N_EX
    (tmp_path / "t.csv").write_text("model,task,metric,value,params,n_examples\n" + "".join(
        f"m{i},qa,{name},{float(v)!r},{float(p)!r},{N_EX}\n" for i, (p, v) in enumerate(zip(x, y, strict=True))))
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(tmp_path / "t.csv"), "--out", str(tmp_path / "exp")]).exit_code == 0
    res = runner.invoke(app, ["forecast", str(tmp_path / "exp"), "--metric", name, "--scale", "params",
                              "--fit-below", "3e8", "--no-intervals", "--format", "json"])
    assert res.exit_code == 0, res.output
    pred = np.array([p["pred"] for p in json.loads(res.stdout)["points"]])
    close = np.allclose(pred, truth[x > 3e8], atol=0.03)
    assert close == (name == "error"), (pred, truth[x > 3e8])


def test_cli_forecast_checkpoints_as_runs(tmp_path: Path):
    """The over-training grid stored as checkpoints: one model per N, its D as training steps
    (plus an untrained step 0 with no token count). With --checkpoint all every (model, step) is its own run with a
    unique label; the two-variable loss law forecasts each trained held-out checkpoint near the
    truth, and step 0 (no D) gets no forecast and a warning instead of breaking the fit."""
    n, d, loss, err = overtraining_grid(4)
    rows = [f"n{i // 3},lm,{metric},{float(v)!r},{float(n[i])!r},{float(d[i])!r},{1 + i % 3},{N_EX}\n"
            for i in range(n.size) for metric, v in (("loss", loss[i]), ("error", err[i]))]
    rows += [f"n{j},lm,{metric},{v},{float(n[3 * j])!r},,0,{N_EX}\n" for j in range(5)
             for metric, v in (("loss", 10.0), ("error", 0.95))]
    (tmp_path / "ck.csv").write_text("model,task,metric,value,params,tokens,step,n_examples\n" + "".join(rows))
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(tmp_path / "ck.csv"), "--out", str(tmp_path / "exp")]).exit_code == 0
    with pytest.warns(UserWarning, match="no forecast for 2 run"):
        res = runner.invoke(app, ["forecast", str(tmp_path / "exp"), "--metric", "error", "--method", "via_loss",
                                  "--loss-law", "shared_exponent", "--scale", "params", "--fit-below", "1.01e7",
                                  "--checkpoint", "all", "--no-intervals", "--format", "json"])
    assert res.exit_code == 0, res.output
    points = json.loads(res.stdout)["points"]
    assert len({p["run"] for p in points}) == len(points) == 8
    for p in points:
        model, step = p["run"].split()[0], int(p["run"].split()[-1])
        if step == 0:
            assert p["pred"] is None
            continue
        i = 3 * int(model[1:]) + step - 1
        assert p["pred"] == pytest.approx(true_error(n[i], d[i]), abs=0.03), p


def test_backtest_caption_says_how_many_rows_have_a_relative_error():
    """A held-out checkpoint observed at 0 (Pythia's early steps on LAMBADA) has no relative error:
    the caption's mean is over the others and says so (it read '104 held-out runs: mean relative
    error 33 %' for a mean over 64)."""
    from rich.console import Console

    from emergelab.analysis.forecast import Forecast
    from emergelab.cli.forecast import backtest_table

    nan = np.full(4, np.nan)
    f = Forecast("via_loss", "t", "acc", "params", 1e9, np.ones(2), np.ones(2), np.array([2e9, 3e9, 4e9, 5e9]),
                 pred=np.array([0.1, 0.2, 0.45, 0.6]), lo=nan, hi=nan, observed=np.array([0.0, 0.0, 0.5, 0.5]), labels=list("abcd"))
    s = f.summary()
    assert s["n_backtest"] == 4 and s["n_rel_error"] == 2
    assert s["mean_rel_error"] == pytest.approx((0.05 / 0.5 + 0.1 / 0.5) / 2)
    console = Console(width=100, record=True, color_system=None)
    console.print(backtest_table(f))
    text = " ".join(console.export_text().split())  # the caption wraps at the table's width
    assert "4 held-out runs: mean relative error 15.0% (over the 2 observed ≠ 0)" in text
