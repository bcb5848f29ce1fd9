"""Technique gain curves against simulations with known truth (Wei et al. 2022's 'helps only at scale')."""

import math

import numpy as np
import pytest

from emergelab.analysis.curve import Curve
from emergelab.analysis.gain import technique_gains

X = np.geomspace(1e3, 1e5, 7)


def _sim(p: np.ndarray, value: str, rng, n: int = 1500, seeds: int = 2) -> Curve:
    samples = [(rng.random((seeds, n)) < pi).astype(float) for pi in p]
    y = np.array([s.mean() for s in samples])
    return Curve(task=f"add-{value}", metric="exact_match", scale="non_embedding_params", x=X, y=y, lo=y, hi=y,
                 n=np.full(len(X), n), discrete=True, chance=0.0, samples=samples, group=f"format={value}")


def _logistic(x, x0, k=3.0):
    return 1 / (1 + np.exp(-k * (np.log10(x) - np.log10(x0))))


def test_helps_only_at_scale_and_where_it_turns_positive():
    rng = np.random.default_rng(0)
    base = 0.05 + 0.5 * _logistic(X, 1e4)
    # the technique costs 0.1 for small models and is worth up to +0.35 for large ones;
    # it equals the baseline where 0.85·L(x, 8e3) - 0.1 = 0.5·L(x, 1e4)
    tech = np.clip(-0.05 + 0.85 * _logistic(X, 8e3), 0, 1)
    gains = technique_gains([_sim(base, "plain", rng), _sim(tech, "scratchpad", rng)], knob="format", n_boot=400)
    (g,) = gains
    assert (g.value, g.baseline, g.label) == ("scratchpad", "plain", "helps_only_at_scale")
    grid = np.geomspace(1e3, 1e5, 20001)
    diff = (-0.05 + 0.85 * _logistic(grid, 8e3)) - (0.05 + 0.5 * _logistic(grid, 1e4))
    true_cross = grid[np.argmax(diff > 0)]
    assert g.turns_positive_lo <= true_cross <= g.turns_positive_hi
    assert g.turns_positive == pytest.approx(true_cross, rel=0.35)  # linear interpolation between 7 sizes


def test_helps_from_start_and_hurts():
    rng = np.random.default_rng(1)
    base = 0.1 + 0.5 * _logistic(X, 1e4)
    curves = [_sim(base, "a_plain", rng), _sim(base + 0.2, "b_reversed", rng), _sim(base * 0.5, "c_bad", rng)]
    labels = {g.value: g.label for g in technique_gains(curves, knob="format", n_boot=300)}
    assert labels == {"b_reversed": "helps_from_start", "c_bad": "hurts"}


def test_equal_curves_show_no_gain_in_most_simulations():
    base = 0.1 + 0.5 * _logistic(X, 1e4)
    labels = []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        (g,) = technique_gains([_sim(base, "plain", rng), _sim(base, "other", rng)], knob="format", n_boot=200)
        labels.append(g.label)
        assert math.isnan(g.turns_positive) or X[0] <= g.turns_positive <= X[-1]
    assert labels.count("no_gain") >= 17, labels


def test_bad_knob_and_baseline_are_errors_and_mismatched_scales_warn():
    rng = np.random.default_rng(2)
    base = np.full(len(X), 0.3)
    a, b = _sim(base, "plain", rng), _sim(base, "other", rng)
    with pytest.raises(ValueError, match="knob 'share'"):
        technique_gains([a, b], knob="share")
    with pytest.raises(ValueError, match="baseline format='nope'"):
        technique_gains([a, b], knob="format", baseline="nope")
    b_short = b.subset(np.arange(len(X)) < 5)
    with pytest.warns(UserWarning, match="2 point"):
        (g,) = technique_gains([a, b_short], knob="format", n_boot=50)
    assert len(g.x) == 5


def _store_with_formats(out, right_by_format: dict[str, list[int]], examples: int = 400):
    """A hand-written store: per format and width, `right` of `examples` answers exactly right."""
    from emergelab.store import CheckpointRecord, RunRecord, RunResult, Store, TokenOutputs

    with Store(out) as store:
        for fmt, rights in right_by_format.items():
            for width, right in zip((8, 16, 32, 64), rights, strict=True):
                target = np.ones((examples, 2), dtype=int)
                pred = target.copy()
                pred[right:, -1] = 0
                zeros = np.zeros((examples, 2))
                outputs = TokenOutputs(target=target, pred=pred, logprob=zeros, sum_p2=zeros + 1, tf_pred=pred,
                                       example_id=np.arange(examples))
                run = RunRecord(run_id=f"{fmt}-w{width}", model=f"w{width}", task=f"add-{fmt}",
                                task_config={"name": "addition", "format": fmt}, params=width**2 * 30,
                                non_embedding_params=width**2 * 24, seed=0, width=width, knob={"format": fmt})
                store.write_run(RunResult(run, [CheckpointRecord(100, 100)], {100: outputs}))


def test_cli_gain_on_a_stored_experiment(tmp_path):
    import json

    from typer.testing import CliRunner

    from emergelab.cli import app

    _store_with_formats(tmp_path, {"plain": [40, 80, 120, 160], "scratchpad": [8, 60, 240, 380]})
    res = CliRunner().invoke(app, ["gain", str(tmp_path), "--knob", "format", "--baseline", "plain", "-f", "json"])
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.stdout)
    assert (row["value"], row["label"]) == ("scratchpad", "helps_only_at_scale")
    gains = [p["gain"] for p in row["points"]]
    assert gains == pytest.approx([(8 - 40) / 400, (60 - 80) / 400, (240 - 120) / 400, (380 - 160) / 400])
    # the zero crossing lies between the second and third widths (where the sign of the gain flips)
    assert 16**2 * 24 < row["turns_positive"] < 32**2 * 24
    bad = CliRunner().invoke(app, ["gain", str(tmp_path), "--knob", "share"])
    assert bad.exit_code == 2 and "knob 'share'" in bad.output
