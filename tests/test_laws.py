"""Scaling-law fits against truth: Epoch's Chinchilla replication numbers (also through an imported
folder and the CLI), parameters recovered from data simulated with known values, and counting."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from emergelab.analysis.laws import LAWS, fit_law
from emergelab.analysis.laws.broken_power_law import predict as bpl_predict
from emergelab.cli import app as main_app
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
    assert {"power_law", "chinchilla", "isoflop", "broken_power_law", "shared_exponent", "error_link"} <= set(LAWS)
    with pytest.raises(KeyError, match="unknown law"):
        fit_law("nope", [1, 2], [1, 2])


def epoch_loss(n: float, d: float) -> float:
    """Epoch's summed-Huber fit evaluated by hand: the truth for `--predict`."""
    t = SUM_TARGET
    return t["E"] + t["A"] / n ** t["alpha"] + t["B"] / d ** t["beta"]


def test_chinchilla_from_imported_folder_matches_epoch(points, tmp_path: Path) -> None:
    """Import the points as a long table (`emergelab import`), fit from the folder with
    `--x params --x tokens`, and predict: Epoch's numbers within 1 %. Every point has its own
    model, and many share N with different D, so nothing may be pooled by N."""
    n, d, loss = points
    table = tmp_path / "chinchilla.csv"
    table.write_text("model,task,metric,value,params,tokens\n" + "".join(
        f"chinchilla-{i},pretraining,loss,{float(c)!r},{float(a)!r},{float(b)!r}\n"
        for i, (a, b, c) in enumerate(zip(n, d, loss, strict=True))))
    runner = CliRunner()
    imported = runner.invoke(main_app, ["import", str(table), "--out", str(tmp_path / "exp")])
    assert imported.exit_code == 0, imported.output
    res = runner.invoke(main_app, ["fit", str(tmp_path / "exp"), "--law", "chinchilla", "--metric", "loss",
                                   "--x", "params", "--x", "tokens", "--predict", "N=7e10,D=1.4e12",
                                   "--predict", "params=1e9,tokens=2e10", "--bootstrap", "8", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["gof"]["n"] == 240
    assert out["formula"] == "L = E + A/N^alpha + B/D^beta"
    for k, v in SUM_TARGET.items():
        assert out["params"][k] == pytest.approx(v, rel=0.01), k
    (big, small) = out["predictions"]
    assert big["value"] == pytest.approx(epoch_loss(7e10, 1.4e12), rel=0.01)
    assert small["inputs"] == {"N": 1e9, "D": 2e10}
    assert small["value"] == pytest.approx(epoch_loss(1e9, 2e10), rel=0.01)
    lo, hi = big["interval"]
    assert lo < big["value"] < hi


def test_chinchilla_huber_likelihood_within_one_se(points) -> None:
    n, d, loss = points
    fit = fit_law("chinchilla", (n, d), loss, variant="huber_likelihood")
    for k, v in LIK_TARGET.items():
        assert abs(fit.params[k] - v) < LIK_SE[k], k
    assert fit.params["sigma"] > 0


@pytest.mark.slow
def test_chinchilla_likelihood_200_resamples(points) -> None:
    n, d, loss = points
    fit = fit_law("chinchilla", (n, d), loss, variant="huber_likelihood", n_bootstrap=200, seed=1)
    # 200 resamples: standard errors within a factor of two of the paper's 4000-resample ones.
    for k, se in LIK_SE.items():
        assert se / 2 < fit.stderr[k] < se * 2, k


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
    # Hoffmann et al. eq. 4: N_opt(C) = G (C/6)^(beta/(alpha+beta)), G = (alpha A / beta B)^(1/(alpha+beta))
    a_true = beta / (alpha + beta)
    g = ((alpha * a) / (beta * b)) ** (1 / (alpha + beta))
    assert fit.params["a"] == pytest.approx(a_true, abs=0.01)
    budgets = np.array([1e19, 1e21, 1e23])  # inside and beyond the fitted budgets
    assert fit.predict(budgets) == pytest.approx(g * (budgets / 6) ** a_true, rel=0.1)
    # D* = C / 6N*, so D0 and b follow from the same truth
    assert fit.params["D0"] * 1e21 ** fit.params["b"] == pytest.approx(1e21 / (6 * g * (1e21 / 6) ** a_true), rel=0.1)


def test_broken_power_law_recovers_break() -> None:
    rng = np.random.default_rng(1)
    x = np.logspace(5, 10, 30)
    truth = {"a": 0.05, "b": 1.0, "c0": 0.0, "c1": 2.0, "d1": 1e8, "f1": 0.1}
    y = bpl_predict(truth, x) + rng.normal(0, 0.005, x.size)
    fit = fit_law("broken_power_law", x, y)
    assert fit.params["d1"] == pytest.approx(1e8, rel=0.3)
    assert fit.params["c1"] == pytest.approx(2.0, rel=0.2)
    assert fit.gof["r2"] > 0.99


def test_shared_exponent_recovers_gadre_parameters() -> None:
    """Gadre et al.'s L(N, M) = E + a N^eta + b (M N)^eta on an over-training grid (N x M)."""
    rng = np.random.default_rng(0)
    truth = {"a": 300.0, "b": 900.0, "eta": -0.3, "E": 1.8}
    n = np.repeat(np.logspace(7, 9, 5), 4)
    d = n * np.tile([5.0, 20.0, 80.0, 320.0], 5)
    loss = (truth["E"] + truth["a"] * n ** truth["eta"] + truth["b"] * d ** truth["eta"]) * np.exp(
        rng.normal(0, 0.002, n.size))
    fit = fit_law("shared_exponent", (n, d), loss, n_bootstrap=30)
    assert fit.params["eta"] == pytest.approx(-0.3, abs=0.01)
    assert fit.params["E"] == pytest.approx(1.8, rel=0.03)
    assert fit.params["a"] == pytest.approx(300, rel=0.15)
    assert fit.params["b"] == pytest.approx(900, rel=0.15)
    # a 10x larger, 10x over-trained model: the law's forecast against the true loss
    true_big = truth["E"] + truth["a"] * 1e10 ** -0.3 + truth["b"] * (3.2e12) ** -0.3
    assert fit.predict((np.array([1e10]), np.array([3.2e12])))[0] == pytest.approx(true_big, rel=0.01)


def test_error_link_recovers_parameters() -> None:
    """Err(L) = eps - k exp(-gamma L) with binomial noise (n = 2000 per point)."""
    rng = np.random.default_rng(2)
    loss = np.linspace(3.2, 5.2, 10)
    err = 0.8 - 30 * np.exp(-1.2 * loss)
    y = rng.binomial(2000, err) / 2000
    fit = fit_law("error_link", loss, y, n_bootstrap=400, seed=1)
    assert fit.params["gamma"] == pytest.approx(1.2, rel=0.15)
    assert fit.params["eps"] == pytest.approx(0.8, abs=0.03)
    for name, true in (("eps", 0.8), ("gamma", 1.2)):
        lo, hi = fit.intervals[name]
        assert lo < true < hi, name
    assert fit.predict(np.array([3.0]))[0] == pytest.approx(0.8 - 30 * np.exp(-1.2 * 3.0), abs=0.03)


def test_error_link_least_squares_matches_brute_force() -> None:
    """Variable projection must find the least-squares optimum a dense brute-force search finds."""
    rng = np.random.default_rng(3)
    loss = np.sort(rng.uniform(2.0, 5.0, 12))
    y = 0.9 - 5.0 * np.exp(-0.7 * loss) + rng.normal(0, 0.01, loss.size)
    fit = fit_law("error_link", loss, y)
    best = np.inf
    for gamma in np.linspace(0.05, 3.0, 3000):
        u = np.exp(-gamma * loss)
        coef, *_ = np.linalg.lstsq(np.stack([np.ones_like(u), -u], 1), y, rcond=None)
        best = min(best, float(np.sum((coef[0] - coef[1] * u - y) ** 2)))
    ours = float(np.sum((fit.predict(loss) - y) ** 2))
    assert ours <= best * (1 + 1e-6)


def test_no_spare_degrees_of_freedom_warns_and_gives_no_interval() -> None:
    """6 parameters on 6 points: the issue's r2 = 1 with zero-width intervals, now a warning."""
    x = np.logspace(5, 10, 6)
    y = 0.1 + 3 * x**-0.3
    with pytest.warns(UserWarning, match="no spare degrees of freedom"):
        fit = fit_law("error_link", x[:3], y[:3], n_bootstrap=50)  # 3 parameters, 3 points
    assert fit.intervals == {} and fit.samples is None and fit.notes
    assert LAWS["broken_power_law"].spare_dof(x, y) == 0  # the 6 points
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 4 points: one spare, no warning
        fit = fit_law("error_link", x[:4], y[:4], n_bootstrap=50)
    assert set(fit.intervals) == {"eps", "k", "gamma"}


def test_prediction_interval_covers_truth_in_simulation() -> None:
    """The percentile band at a new input covers the true value in most of 40 simulated data
    sets (a coverage check against the simulation's truth, not against the band itself)."""
    loss = np.linspace(3.2, 5.2, 12)
    truth = 0.8 - 30 * np.exp(-1.2 * 3.1)
    hits = 0
    for seed in range(40):
        y = np.random.default_rng(seed).binomial(1000, 0.8 - 30 * np.exp(-1.2 * loss)) / 1000
        p = fit_law("error_link", loss, y, n_bootstrap=300, seed=seed).predict_with_interval(np.array([3.1]))
        hits += bool(p.lo[0] <= truth <= p.hi[0])
    assert hits >= 30  # nominal 95 %; the pairs bootstrap on 12 points runs somewhat narrow


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
    bad = runner.invoke(app, [str(table), "--x", "params", "--y", "value", "--predict", "D=3"])
    assert bad.exit_code == 2 and "unknown input 'D'" in bad.output
    pred = runner.invoke(app, [str(table), "--x", "params", "--y", "value", "--predict", "1e10", "--format", "json",
                               "--bootstrap", "0"])
    assert pred.exit_code == 0, pred.output
    row = json.loads(pred.stdout)["predictions"][0]
    assert row["value"] == pytest.approx(1.5 + 20 * 1e10**-0.25, rel=1e-3) and row["interval"] is None


def test_cli_folder_two_variable_law_needs_two_inputs(tmp_path: Path) -> None:
    """From a folder, chinchilla with one input is a one-line exit 2 that says what to give."""
    table = tmp_path / "t.csv"
    table.write_text("model,task,metric,value,params,tokens\n" + "".join(
        f"m{i},lm,loss,{2 + i / 10},{1e8 * (i + 1)},{2e9 * (i + 1)}\n" for i in range(8)))
    runner = CliRunner()
    assert runner.invoke(main_app, ["import", str(table), "--out", str(tmp_path / "exp")]).exit_code == 0
    res = runner.invoke(main_app, ["fit", str(tmp_path / "exp"), "--law", "chinchilla", "--metric", "loss",
                                   "--scale", "params"])
    assert res.exit_code == 2 and "give --x params --x tokens" in res.output


def test_huber_kernel_matches_the_textbook_formula_to_the_bit() -> None:
    """robust.huber uses PyTorch's fused huber_loss; it must equal ½r² / δ(|r| − ½δ) exactly,
    including at |r| = δ, so fits do not move by a rounding step."""
    import torch

    from emergelab.analysis.laws.robust import huber, huber_np

    rng = np.random.default_rng(3)
    for scale in (1e-5, 1e-3, 1.0, 1e3):
        r = rng.normal(0.0, scale, (64, 50))
        r[0, :3] = (1e-3, -1e-3, 0.0)
        assert np.array_equal(huber(torch.as_tensor(r), 1e-3).numpy(), huber_np(r, 1e-3))


def test_profiled_scale_maximises_the_huber_likelihood() -> None:
    """The sigma of `profile_scale` against a bounded scalar search of the same likelihood,
    per row: -Σw log density(r/σ)/σ = Σw H(r/σ) + Σw log σ (the normaliser does not move σ)."""
    import torch
    from scipy.optimize import minimize_scalar

    from emergelab.analysis.laws.robust import RobustProblem, huber_np

    rng = np.random.default_rng(4)
    for delta in (1e-3, 0.1, 0.5, 1.5, 3.0):
        prob = RobustProblem(lambda th: th, torch.zeros(40, dtype=torch.float64), delta, "huber_likelihood")
        r = rng.standard_t(3, (6, 40)) * rng.uniform(0.1, 10.0, (6, 1))
        w = rng.multinomial(40, np.full(40, 1 / 40), 6).astype(float)
        s = prob.profile_scale(torch.as_tensor(r), torch.as_tensor(w)).numpy()[:, 0]
        for i in range(6):
            def nll(log_s, ri=r[i], wi=w[i], d=delta):
                return float(np.sum(wi * huber_np(ri / np.exp(log_s), d)) + np.sum(wi) * log_s)
            best = minimize_scalar(nll, bounds=(-20, 10), method="bounded", options={"xatol": 1e-10})
            assert nll(np.log(s[i])) <= best.fun + 1e-7 * abs(best.fun), (delta, i, s[i], np.exp(best.x))
