"""Metric-artifact (mirage) test against truth it did not produce: Schaeffer et al.'s compounding toy
(`theory.per_token`, the paper's Fig. 2 model), simulations whose label is known by construction,
and a band that rests on one degree of freedom."""

import numpy as np
import pytest

from emergelab.analysis.curve import Curve
from emergelab.analysis.mirage import (
    SCENARIOS,
    MirageDesign,
    MirageScenario,
    compounding_toy,
    mirage,
    mirage_calibration,
    mirage_for_task,
)
from emergelab.analysis.mirage.calibration import simulate_curves, wilson
from emergelab.theory.per_token import exact_match, token_probability

X = np.logspace(6, 11, 11)
TOY = MirageScenario("toy", "metric_artifact", lambda x, L, rng: token_probability(x, c=1e8, alpha=-0.5))


def test_schaeffer_toy_numbers():
    t = compounding_toy(np.array([1e8, 1e9, 1e10, 1e11]), c=1e8, alpha=-0.5, length=5)
    assert t["accuracy"] == pytest.approx([0.0067, 0.206, 0.607, 0.854], abs=6e-4)
    assert t["edit_distance"] == pytest.approx([3.16, 1.36, 0.48, 0.16], abs=6e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_schaeffer_toy_is_a_metric_artifact_through_every_route(seed):
    # the paper's model: per-token p = exp(-(N/1e8)^-0.5), L = 5 tokens each right with probability p,
    # 500 examples x 2 seeds per size; exact match = p^L jumps, the per-token metrics are smooth
    design = MirageDesign(sizes=tuple(X), seeds=2, n_examples=500, answer_length=5, seed_logit_sd=0.0)
    curves = simulate_curves(TOY, design, np.random.default_rng(seed))
    r = mirage_for_task(curves, curves[0], answer_length=5)
    by = {route.continuous_metric: route for route in r.routes}
    assert set(by) == {"token_accuracy", "target_logprob", "token_edit_distance"}
    for name, route in by.items():
        assert route.label == "metric_artifact", (name, route.reason)
        truth = exact_match(token_probability(X, 1e8, -0.5), 5)  # the paper's p^L, not our fit
        assert route.pred[-1] == pytest.approx(truth[-1], abs=0.06), name
        assert route.band_width <= 0.5
    assert r.label == "metric_artifact" and r.deciding in by


def test_genuine_jumps_are_genuine_in_at_least_90_percent_of_seeds():
    # the per-token probability itself jumps (so token accuracy and log-prob jump too); seeds scatter
    design = MirageDesign(sizes=tuple(X), seeds=2, n_examples=300, answer_length=5, seed_logit_sd=0.3)
    rng = np.random.default_rng(7)
    labels = []
    for _ in range(30):
        curves = simulate_curves(SCENARIOS["genuine"], design, rng)
        labels.append(mirage_for_task(curves, curves[0], answer_length=5).label)
    assert labels.count("genuine") >= 27, labels
    assert labels.count("metric_artifact") <= 1


def _toy_pair(x, c, noise, seed=0):
    toy = compounding_toy(x, c=c, alpha=-0.5, length=5)
    nan = np.full_like(x, np.nan)
    d = Curve("t", "exact_match", "params", x, toy["accuracy"], nan, nan, np.full_like(x, 400.0),
              chance=0.0, discrete=True, stderr=np.full_like(x, 0.02))
    lp = -5 * toy["cross_entropy"]
    wiggle = 1 + noise * np.random.default_rng(seed).standard_normal(len(x))
    c_lp = Curve("t", "target_logprob", "params", x, lp * wiggle, nan, nan, np.full_like(x, 400.0),
                 stderr=noise * np.abs(lp))
    return d, c_lp


def test_band_from_one_degree_of_freedom_is_undetermined():
    # three smaller models before the rise: the power law has 1 residual dof (t = 12.7); the route
    # may neither explain nor refute the jump, even where its 3 points happen to line up
    x = np.logspace(7, 10, 7)
    d, lp = _toy_pair(x, 1e7, 0.02)
    r = mirage(d, [lp], fit_below=float(x[2]))
    assert r.label == "undetermined" and "degree(s) of freedom" in r.routes[0].reason


def test_band_wider_than_half_the_range_is_undetermined():
    # enough smaller models, but the continuous metric is so noisy (30 %) that the extrapolated band
    # covers most of [0, 1]: uninformative, whatever the observed points do
    d, lp = _toy_pair(X, 1e8, 0.3, seed=1)
    r = mirage(d, [lp], fit_below=float(X[5]))
    assert r.label == "undetermined"
    assert "uninformative" in r.routes[0].reason and r.routes[0].band_width > 0.5


def test_fitted_link_for_a_metric_without_formula():
    # chrF-like scores (100 * (tokens right / L)^0.7): no formula to exact match, the route fits one
    design = MirageDesign(sizes=tuple(X), seeds=2, n_examples=500, answer_length=5)
    rng = np.random.default_rng(3)
    art = [mirage_for_task(c, c[0]) for c in (simulate_curves(SCENARIOS["artifact_generic"], design, rng) for _ in range(8))]
    gen = [mirage_for_task(c, c[0]) for c in (simulate_curves(SCENARIOS["genuine_generic"], design, rng) for _ in range(8))]
    assert all(r.routes[0].link == "generic" for r in art + gen)
    assert sum(r.label == "metric_artifact" for r in art) >= 6
    assert sum(r.label == "genuine" for r in gen) >= 7 and not any(r.label == "metric_artifact" for r in gen)


def _imported(metric, y, se, task="lambada_openai", chance=None, hib=True):
    nan = np.full_like(X, np.nan)
    return Curve(task, metric, "params", X, y, nan, nan, np.full_like(X, 5000.0), higher_is_better=hib,
                 chance=chance, discrete=metric.startswith("acc"), stderr=np.full_like(X, se))


def test_imported_acc_and_perplexity_get_a_mirage_test():
    # lm-eval names as imported: `acc,none` (discrete) and `ppl` (perplexity of the answer). When the
    # answer's NLL u falls as a power law, acc = exp(-u) and ppl = exp(u): the jump is an artifact
    rng = np.random.default_rng(5)
    u = 4.0 * (X / 1e8) ** -0.45
    acc = _imported("acc,none", np.exp(-u) + 0.007 * rng.standard_normal(len(X)), 0.007)
    ppl = _imported("ppl", np.exp(u) * (1 + 0.01 * rng.standard_normal(len(X))), 0.0, hib=False)
    ppl.stderr = 0.01 * ppl.y
    r = mirage(acc, [ppl], fit_below=3e8)
    assert r.routes[0].link == "generic"
    assert r.label == "metric_artifact", r.routes[0].reason


def test_per_token_route_without_answer_length_says_so():
    curves = simulate_curves(TOY, MirageDesign(sizes=tuple(X), answer_length=5), np.random.default_rng(0))
    for c in curves:
        c.answer_len = None
    r = mirage_for_task(curves, curves[0])
    reasons = {route.continuous_metric: route.reason for route in r.routes}
    assert "answer length" in reasons["token_accuracy"] and "answer length" in reasons["token_edit_distance"]
    assert r.label == "metric_artifact" and r.deciding == "target_logprob"  # needs no L


def test_no_jump_nothing_to_explain():
    rng = np.random.default_rng(3)
    y = rng.binomial(500, np.linspace(0.3, 0.9, len(X))) / 500
    nan = np.full_like(X, np.nan)
    d = Curve("add", "exact_match", "params", X, y, nan, nan, np.full_like(X, 500.0), chance=0.0, discrete=True)
    r = mirage(d, [])
    assert r.label == "undetermined" and "no jump" in r.reasons[0]


def test_wilson_interval_matches_textbook():
    # Brown, Cai & DasGupta (2001): 95 % Wilson interval for 0/10 is [0, 0.2775], for 5/10 [0.2366, 0.7634]
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)


@pytest.mark.slow
def test_calibration_rates_per_scenario():
    rows = mirage_calibration(MirageDesign(), reps=100, rng=np.random.default_rng(11))
    rate = {(r.scenario, r.label): r.rate for r in rows}
    assert rate[("artifact", "metric_artifact")] >= 0.85 and rate[("artifact", "genuine")] <= 0.02
    assert rate[("genuine", "genuine")] >= 0.9 and rate[("genuine", "metric_artifact")] <= 0.02
    assert rate[("artifact_generic", "genuine")] <= 0.05
    assert rate[("genuine_generic", "metric_artifact")] <= 0.02
    assert rate[("uninformative", "undetermined")] >= 0.95


def test_analyze_table_has_one_row_per_route_within_80_columns():
    from rich.console import Console

    from emergelab.analysis.mirage.table import mirage_table

    design = MirageDesign(sizes=tuple(X), seeds=2, n_examples=300, answer_length=5, seed_logit_sd=0.0)
    curves = simulate_curves(TOY, design, np.random.default_rng(0))
    r = mirage_for_task(curves, curves[0], answer_length=5)
    con = Console(width=80, record=True, color_system=None)
    con.print(mirage_table(r))
    text = con.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    rows = [line for line in text.splitlines() if line.strip()[:2] in ("1 ", "2 ", "3 ")]
    assert [line.split()[1] for line in rows] == [route.continuous_metric for route in r.routes]
    assert f"-> metric_artifact, decided by {r.deciding}" in text


def test_lower_is_better_discrete_metric_is_judged_like_its_mirror():
    # an imported `error` (1 − exact match) is lower-is-better by its record; same truth as exact match
    design = MirageDesign(sizes=tuple(X), seeds=2, n_examples=500, answer_length=5, seed_logit_sd=0.0)
    curves = simulate_curves(TOY, design, np.random.default_rng(4))
    em = curves[0]
    err = Curve("sim", "error", "params", em.x, 1.0 - em.y, 1.0 - em.hi, 1.0 - em.lo, em.n,
                higher_is_better=False, discrete=True, samples=[1.0 - s for s in em.samples], answer_len=5)
    r_em = mirage_for_task(curves, em, answer_length=5)
    r_err = mirage_for_task(curves + [err], err, answer_length=5)
    assert r_err.label == r_em.label == "metric_artifact"
    for a, b in zip(r_em.routes, r_err.routes, strict=True):
        np.testing.assert_allclose(b.pred, 1.0 - a.pred, atol=1e-9)
