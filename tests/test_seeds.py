"""Seed comparisons: linear CKA against the textbook HSIC form and its invariances, agreement on
hand-written answers, the loss path against the scorer, and emergence steps on a hand-written store."""

import numpy as np
import pytest

from emergelab.analysis.seeds import agreement, crossing_log, linear_cka, seed_study, summarize


def _hsic_cka(x, y):
    """CKA through centred Gram matrices: HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)), K = XXᵀ, L = YYᵀ."""
    n = len(x)
    h = np.eye(n) - np.ones((n, n)) / n
    k, l_ = h @ (x @ x.T) @ h, h @ (y @ y.T) @ h
    return np.sum(k * l_) / np.sqrt(np.sum(k * k) * np.sum(l_ * l_))


def test_cka_matches_the_gram_matrix_form_and_its_invariances():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 6)), rng.normal(size=(50, 4))
    assert linear_cka(x, y) == pytest.approx(_hsic_cka(x, y), rel=1e-10)
    assert linear_cka(x, x) == pytest.approx(1.0)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    assert linear_cka(x, 3.7 * x @ q) == pytest.approx(1.0)  # rotation and isotropic scaling
    assert linear_cka(x, x + 5.0) == pytest.approx(1.0)  # a shift is centred away
    # not invariant to an anisotropic rescaling of features (Kornblith et al. 2019, §3)
    assert linear_cka(x, x * np.array([1, 1, 1, 1, 1, 30.0])) < 0.9


def test_cka_hand_case():
    # x = (−1, 0, 1) centred; y = (1, 0, 1) centres to (1/3, −2/3, 1/3): orthogonal to x
    x = np.array([[-1.0], [0.0], [1.0]])
    assert linear_cka(x, np.array([[1.0], [0.0], [1.0]])) == pytest.approx(0.0, abs=1e-12)
    # two features, y keeps the first: ‖YᵀX‖² = 2², ‖XᵀX‖ = sqrt(2² + 2²), ‖YᵀY‖ = 2 → 4 / (2·2√2) = 1/√2
    x2 = np.array([[-1.0, 1.0], [0.0, -2.0], [1.0, 1.0]])
    assert linear_cka(x2, x2[:, :1]) == pytest.approx((2**2) / (np.hypot(2, 6) * 2))


def test_agreement_on_hand_answers():
    target = np.array([[1, 2], [3, 4], [5, 6], [7, 8]])
    a = np.array([[1, 2], [3, 0], [0, 6], [7, 8]])  # wrong on rows 1, 2
    b = np.array([[1, 2], [3, 0], [5, 0], [0, 8]])  # wrong on rows 1, 2, 3
    agr = agreement(a, b, target)
    assert agr.identical == pytest.approx(2 / 4)  # rows 0 and 1
    assert agr.same_errors == pytest.approx(1 / 2)  # both wrong on rows 1, 2; same answer on row 1
    assert agr.error_jaccard == pytest.approx(2 / 3)
    assert np.isnan(agreement(target, target, target).same_errors)


def test_crossing_interpolates_in_log_x():
    assert crossing_log(np.array([10, 100, 1000]), np.array([0.0, 0.25, 0.75])) == pytest.approx(10**2.5)
    assert np.isnan(crossing_log(np.array([1, 2]), np.array([0.1, 0.2])))


def _model(seed: int):
    from emergelab.models import EnsembleGPT, ModelConfig

    cfg = ModelConfig(vocab_size=13, seq_len=9, width=16, depth=1, heads=2)
    m = EnsembleGPT(cfg, [seed])
    return m, m.member_state(0)


def test_loss_path_end_points_match_the_scorer_and_a_model_has_no_barrier_with_itself():
    from emergelab.evaluate import score_native
    from emergelab.evaluate.seeds import interpolation_losses, loss_barrier
    from emergelab.tasks import make_task

    task = make_task("addition", digits=2, fmt="reversed")
    prompts, answers = task.encode(np.arange(0, 10_000, 97))
    (ma, sa), (mb, sb) = _model(0), _model(1)
    alphas = np.linspace(0, 1, 5)
    losses = interpolation_losses(sa, sb, ma.cfg, prompts, answers, alphas)
    for m, end in ((ma, losses[0]), (mb, losses[-1])):
        (out,) = score_native(m, prompts, answers)
        assert end == pytest.approx(-out.logprob.mean(), rel=1e-6)
    same = interpolation_losses(sa, sa, ma.cfg, prompts, answers, alphas)
    assert loss_barrier(same, alphas) == pytest.approx(0.0, abs=1e-9)
    assert loss_barrier(np.array([1.0, 2.0, 1.0]), np.array([0.0, 0.5, 1.0])) == pytest.approx(1.0)


def _store_with_seeds(folder, curves: dict[tuple[int, int], list[float]], steps=(10, 100, 1000)):
    """Runs whose exact match at each step is set by hand (the first k examples right)."""
    from emergelab.store import CheckpointRecord, RunRecord, RunResult, Store, TokenOutputs
    from emergelab.tasks import make_task

    task = make_task("addition", digits=2, fmt="reversed")
    ids = np.arange(200)
    _, answers = task.encode(ids)
    with Store(folder) as store:
        for (n, seed), ems in curves.items():
            outs = {}
            for step, em in zip(steps, ems, strict=True):
                pred = answers.copy()
                wrong = np.arange(200) >= int(round(em * 200))
                pred[wrong, 0] = (pred[wrong, 0] + 1 + seed) % 10
                outs[step] = TokenOutputs(answers, pred, np.zeros(pred.shape), np.ones(pred.shape), pred, ids)
            run = RunRecord(run_id=f"n{n}s{seed}", model=f"n{n}", task="add", params=n, non_embedding_params=n,
                            task_config={"name": "addition", "digits": 2, "fmt": "reversed"}, seed=seed)
            store.write_run(RunResult(run, [CheckpointRecord(s, s) for s in steps], outs))


def test_seed_study_on_a_hand_written_store(tmp_path):
    curves = {(1000, 0): [0.0, 0.1, 0.3], (1000, 1): [0.0, 0.2, 0.4],
              (10000, 0): [0.0, 0.25, 0.75], (10000, 1): [0.0, 0.5, 1.0]}
    _store_with_seeds(tmp_path, curves)
    with pytest.warns(UserWarning, match="no saved weights"):
        study = seed_study(tmp_path)
    steps = {(r.params, r.seed): r.emergence_step for r in study.runs}
    assert np.isnan(steps[(1000, 0)]) and steps[(10000, 0)] == pytest.approx(10**2.5)
    assert steps[(10000, 1)] == pytest.approx(100)
    (big,) = [p for p in study.pairs if p.params == 10000]
    # seed 0 right on the first 150, seed 1 on all 200: identical on 150; no shared error
    assert big.identical == pytest.approx(0.75) and big.error_jaccard == 0.0 and big.both_solve
    # thresholds in N per seed: seed 0 crosses between 0.3 and 0.75, seed 1 between 0.4 and 1.0
    th = {t.seed: t.threshold_params for t in study.thresholds}
    assert th[0] == pytest.approx(10 ** (3 + 0.2 / 0.45)) and th[1] == pytest.approx(10 ** (3 + 0.1 / 0.6))
    rows = summarize(study)
    assert [r.solved for r in rows] == [0, 2]


def test_cli_seeds_on_a_hand_written_store(tmp_path):
    import json

    from typer.testing import CliRunner

    from emergelab.cli import app

    _store_with_seeds(tmp_path, {(1000, 0): [0.0, 0.6, 0.9], (1000, 1): [0.0, 0.2, 0.8]})
    res = CliRunner().invoke(app, ["seeds", str(tmp_path), "-f", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    (pair,) = out["pairs"]
    assert pair["identical"] == 0.8 and pair["both_solve"]  # seed 0 right on 180, seed 1 on 160
    assert CliRunner().invoke(app, ["seeds", str(tmp_path)]).exit_code == 0
    assert CliRunner().invoke(app, ["seeds", str(tmp_path / "nope")]).exit_code == 2
