"""pass@k, coverage and the beta route of Schaeffer et al. 2025, checked against truth the code did not
produce: brute-force enumeration of k-subsets, simulations with known success probabilities, and
numerical integration of E[1 − (1 − p)^k] under a known beta."""

from fractions import Fraction
from itertools import combinations
from math import comb

import numpy as np
import pytest
from scipy import integrate, stats

from emergelab.analysis.sampling import fit_beta, forecast_pass_at_k, subsample_counts
from emergelab.metrics.sampling import (
    CountOutputs,
    default_ks,
    parse_pass_at_k,
    pass_at_k,
    pass_at_k_until_success,
    problem_pass_at_k,
)


def _brute_pass_at_k(n: int, c: int, k: int) -> float:
    """Share of the k-subsets of n samples (the first c correct) that hold a correct one."""
    subsets = list(combinations(range(n), k))
    return sum(any(i < c for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 5, 8, 10])
def test_pass_at_k_equals_enumeration_of_k_subsets(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(_brute_pass_at_k(n, c, k), abs=1e-12), (n, c, k)


def test_pass_at_k_vectorised_and_precise_for_tiny_values():
    n = np.array([10, 10, 200, 1_000_000, 1_000_000])
    c = np.array([1, 2, 7, 1, 3])
    exact = [float(1 - Fraction(comb(int(a) - int(b), 5), comb(int(a), 5))) for a, b in zip(n, c, strict=True)]
    assert pass_at_k(n, c, 5) == pytest.approx(exact, rel=1e-12)
    assert pass_at_k(1_000_000, 1, 1) == pytest.approx(1e-6, rel=1e-10)  # one success in a million
    big = pass_at_k(np.array([10**7]), np.array([3000]), 2000)  # a long product
    assert big == pytest.approx(float(1 - Fraction(comb(10**7 - 3000, 2000), comb(10**7, 2000))), rel=1e-9)
    with pytest.raises(ValueError, match="at least 10 samples"):
        pass_at_k(np.array([5, 20]), np.array([1, 1]), 10)


def test_fixed_counts_leave_out_problems_with_fewer_than_k_samples():
    counts = CountOutputs(np.arange(3), np.array([5, 20, 20]), np.array([1, 0, 20]))
    got = problem_pass_at_k(counts, 10)
    assert np.isnan(got[0]) and got[1] == 0.0 and got[2] == 1.0


def test_until_success_estimator_is_unbiased_for_pass_at_k():
    """Simulated geometric first-success indices with known p, censored at a budget."""
    rng = np.random.default_rng(1)
    p, budget = 0.02, 200
    first = rng.geometric(p, size=20000)
    n = np.minimum(first, budget)
    c = (first <= budget).astype(int)
    for k in (1, 10, 50, 200):
        est = pass_at_k_until_success(n, c, k)
        truth = 1 - (1 - p) ** k
        se = np.sqrt(truth * (1 - truth) / len(est))
        assert abs(est.mean() - truth) < 4 * se + 1e-12, k
    assert np.isnan(pass_at_k_until_success(np.array([200]), np.array([0]), 500)).all()


def test_metric_names_parse():
    assert parse_pass_at_k("pass@1") == 1 and parse_pass_at_k("pass@100") == 100
    assert parse_pass_at_k("pass@0") is None and parse_pass_at_k("pass@k") is None
    assert default_ks(1) == [1] and default_ks(100) == [1, 10, 100] and default_ks(99) == [1, 10]


def _simulate(alpha, beta, problems, n, seed):
    rng = np.random.default_rng(seed)
    p = rng.beta(alpha, beta, size=problems)
    return np.full(problems, n), rng.binomial(n, p)


def _exact_pass_at_k(alpha, beta, k):
    """E[1 − (1 − p)^k] under Beta(α, β), by numerical integration (not the code's closed form)."""
    dist = stats.beta(alpha, beta)
    value, _ = integrate.quad(lambda p: (1 - (1 - p) ** k) * dist.pdf(p), 0, 1, limit=400, points=[1e-6, 1e-3])
    return value


def test_beta_recovered_from_simulated_counts():
    n, c = _simulate(0.3, 3.0, problems=3000, n=50, seed=2)
    fit = fit_beta(n, c)
    assert fit.alpha == pytest.approx(0.3, rel=0.1)
    assert fit.beta == pytest.approx(3.0, rel=0.2)


@pytest.mark.parametrize("alpha,beta", [(0.3, 3.0), (0.8, 20.0)])
def test_forecast_at_large_k_matches_the_true_beta(alpha, beta):
    n, c = _simulate(alpha, beta, problems=2000, n=20, seed=3)
    f = forecast_pass_at_k(n, c, [100, 1000, 10000], n_boot=60)
    truth = np.array([_exact_pass_at_k(alpha, beta, k) for k in (100, 1000, 10000)])
    assert np.all(np.abs(f.pred - truth) < 0.03), (f.pred, truth)
    assert np.all((f.lo <= truth + 0.01) & (truth - 0.01 <= f.hi)), (f.lo, f.hi, truth)
    # the power law in k follows from the left tail: −log pass@k ≈ a·k^(−b) with b = α
    a, b = f.params["a"], f.params["b"]
    exact_tail = -np.log(_exact_pass_at_k(alpha, beta, 10000))
    assert a * 10000 ** (-b) == pytest.approx(exact_tail, rel=0.25)


def test_backtest_fit_on_few_samples_predicts_pass_at_k_of_all_samples():
    n, c = _simulate(0.4, 4.0, problems=1500, n=400, seed=4)
    f = forecast_pass_at_k(n, c, [1, 10, 100, 400], fit_samples=10, n_boot=50)
    have = np.isfinite(f.observed)
    assert have.all()
    assert np.max(np.abs(f.pred - f.observed)) < 0.03, (f.pred, f.observed)


def test_subsample_counts_is_hypergeometric():
    rng = np.random.default_rng(5)
    got = subsample_counts(np.full(40000, 20), np.full(40000, 6), 5, rng)
    assert got.mean() == pytest.approx(5 * 6 / 20, abs=0.02)
    assert got.max() <= 5


def test_unidentified_counts_refused():
    with pytest.raises(ValueError, match="no correct sample"):
        fit_beta(np.full(5, 10), np.zeros(5))


# ---------------------------------------------------------------- imported counts end to end


def _write_counts(path, seed=6):
    """Three models, 60 problems each, n = 30 samples, per-problem p from a beta that shifts with size."""
    rng = np.random.default_rng(seed)
    lines = ["model,task,problem_id,n,c,params"]
    truth = {}
    for model, params, a in (("m-small", 1e6, 0.2), ("m-mid", 1e7, 0.6), ("m-large", 1e8, 2.0)):
        p = rng.beta(a, 4.0, size=60)
        c = rng.binomial(30, p)
        truth[params] = c
        lines += [f"{model},code,HumanEval/{i},30,{int(ci)},{params:g}" for i, ci in enumerate(c)]
    path.write_text("\n".join(lines) + "\n")
    return truth


def test_pass_at_k_from_imported_counts_matches_the_unbiased_estimator(tmp_path):
    """Acceptance (issue 11 §3): pass@k curves of an imported folder equal the estimator computed
    here with exact integer binomials (Fractions), problem by problem."""
    from emergelab.analysis.curves import load_curves
    from emergelab.store.importers.api import import_files

    truth = _write_counts(tmp_path / "counts.csv")
    import_files([tmp_path / "counts.csv"], tmp_path / "exp")
    curves = {c.metric: c for c in load_curves(tmp_path / "exp", scale="params", n_boot=50)}
    assert {"pass@1", "pass@10", "coverage"} <= set(curves)
    for k in (1, 10):
        curve = curves[f"pass@{k}"]
        expected = [np.mean([float(1 - Fraction(comb(30 - int(ci), k), comb(30, k))) for ci in truth[x]])
                    for x in curve.x]
        assert curve.y == pytest.approx(expected, rel=1e-12)
        assert curve.discrete and curve.higher_is_better
    assert curves["coverage"].y == pytest.approx([np.mean(truth[x] > 0) for x in curves["coverage"].x])
    k5 = {c.metric: c for c in load_curves(tmp_path / "exp", scale="params", metrics=["pass@5"], n_boot=20)}
    assert set(k5) == {"pass@5"}


def test_forecast_cli_reads_imported_counts(tmp_path):
    """`forecast --method high_resolution` and `--method beta_binomial` run on an imported folder; the
    beta back-test's observed pass@k equals the exact-binomial estimator of the stored counts."""
    import json

    from typer.testing import CliRunner

    from emergelab.cli import app
    from emergelab.store.importers.api import import_files

    truth = _write_counts(tmp_path / "counts.csv")
    import_files([tmp_path / "counts.csv"], tmp_path / "exp")
    run = CliRunner().invoke(app, ["forecast", str(tmp_path / "exp"), "--metric", "pass@1", "--method",
                                   "high_resolution", "--scale", "params", "--fit-below", "1e7", "--format", "json"])
    assert run.exit_code == 0, run.output
    [hr] = json.loads(run.stdout)
    assert [p["run"] for p in hr["points"]] == ["m-large"]
    run = CliRunner().invoke(app, ["forecast", str(tmp_path / "exp"), "--metric", "pass@k", "--method",
                                   "beta_binomial", "--fit-below", "10", "--k", "5", "--k", "300", "--model", "m-mid",
                                   "--bootstrap", "20", "--format", "json"])
    assert run.exit_code == 0, run.output
    [beta] = json.loads(run.stdout)
    five, far = beta["points"]
    expected = np.mean([float(1 - Fraction(comb(30 - int(c), 5), comb(30, 5))) for c in truth[1e7]])
    assert five["observed"] == pytest.approx(expected, rel=1e-12)
    assert far["observed"] is None and 0 < far["pred"] <= 1
    bad = CliRunner().invoke(app, ["forecast", str(tmp_path / "exp"), "--metric", "pass@k", "--method",
                                   "beta_binomial", "--fit-below", "40"])
    assert bad.exit_code == 2 and "40 samples" in bad.output


def test_imported_until_success_counts(tmp_path):
    """PassUntil-style counts (first-success index, or the budget with c = 0) import with
    scheme=until_success; pass@k is then 1[first success <= k], near 1 − (1 − p)^k for the known p."""
    from emergelab.analysis.curves import load_curves
    from emergelab.store.importers.api import import_files
    from emergelab.store.importers.base import ImportFileError

    rng = np.random.default_rng(7)
    lines, firsts = ["model,task,problem_id,n,c,params,scheme"], {}
    for model, params, p in (("s", 1e6, 0.002), ("m", 1e7, 0.02)):
        first = rng.geometric(p, size=3000)
        firsts[params] = first
        lines += [f"{model},t,{i},{min(f, 1000)},{int(f <= 1000)},{params:g},until_success" for i, f in enumerate(first)]
    (tmp_path / "until.csv").write_text("\n".join(lines) + "\n")
    import_files([tmp_path / "until.csv"], tmp_path / "exp")
    curves = {c.metric: c for c in load_curves(tmp_path / "exp", scale="params", n_boot=20)}
    assert {"pass@1", "pass@10", "pass@100", "pass@1000"} <= set(curves)
    for k in (10, 100):
        y = curves[f"pass@{k}"].y
        assert y == pytest.approx([np.mean(firsts[x] <= k) for x in curves[f"pass@{k}"].x], rel=1e-12)
        for x, p, value in zip(curves[f"pass@{k}"].x, (0.002, 0.02), y, strict=True):
            truth = 1 - (1 - p) ** k
            assert abs(value - truth) < 4 * np.sqrt(truth * (1 - truth) / 3000), (x, k)
    (tmp_path / "bad.csv").write_text("model,task,problem_id,n,c,scheme\nx,t,1,10,2,until_success\n")
    with pytest.raises(ImportFileError, match="c is 0 or 1"):
        import_files([tmp_path / "bad.csv"], tmp_path / "exp2")
    assert not (tmp_path / "exp2").exists()


def test_pass_at_k_names_resolve_in_the_metric_registry():
    from emergelab.metrics import METRICS, get_metric

    assert "pass@10" in METRICS and "pass_at_10" in METRICS and "pass@10" not in list(METRICS)
    record = get_metric("pass@10")
    assert record.reads == "counts" and record.discrete and record.higher_is_better
    got = record(CountOutputs(np.arange(2), np.array([10, 12]), np.array([0, 3])))
    assert got == pytest.approx([0.0, _brute_pass_at_k(12, 3, 10)])
    with pytest.raises(KeyError, match=r"pass@<k>"):
        METRICS["pass@0"]
