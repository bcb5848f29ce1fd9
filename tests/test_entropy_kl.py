"""Loss = entropy + KL on a task with a known answer distribution, against textbook formulas."""

import numpy as np
import pytest

from emergelab.analysis.entropy_kl import LossSplit, fit_kl_scaling, loss_splits, per_example_kl
from emergelab.tasks import make_task


def _textbook_entropy(p: int, eps: float) -> float:
    hit = 1 - eps + eps / p
    miss = eps / p
    return -(hit * np.log(hit) + (p - 1) * miss * np.log(miss))


def test_answers_follow_the_stated_distribution():
    task = make_task("noisy_modular", p=5, noise=0.4, repeats=20000)
    ctx = 7  # a = 1, b = 2 → correct answer 3
    index = np.arange(ctx * task.repeats, (ctx + 1) * task.repeats)
    prompt, answer = task.encode(index)
    assert (prompt[:, 0] == 1).all() and (prompt[:, 2] == 2).all()
    freq = np.bincount(answer[:, 0], minlength=5) / len(index)
    expected = np.full(5, 0.4 / 5)
    expected[3] += 0.6
    assert freq == pytest.approx(expected, abs=0.012)  # 4 binomial sd at n = 20000
    assert task.answer_entropy(index[:3]) == pytest.approx([_textbook_entropy(5, 0.4)] * 3)


def test_deterministic_tasks_have_zero_entropy_and_noise_zero_is_deterministic():
    assert make_task("addition", digits=2).answer_entropy(np.arange(4)).tolist() == [0, 0, 0, 0]
    task = make_task("noisy_modular", p=7, noise=0.0, repeats=3)
    prompt, answer = task.encode(np.arange(task.space_size))
    assert (answer[:, 0] == (prompt[:, 0] + prompt[:, 2]) % 7).all()
    assert task.answer_entropy(np.arange(5)) == pytest.approx(np.zeros(5), abs=1e-12)


def test_per_example_kl_is_unbiased_for_the_textbook_kl():
    rng = np.random.default_rng(0)
    p = np.array([0.7, 0.2, 0.1])
    q = np.array([0.5, 0.3, 0.2])
    y = rng.choice(3, size=200_000, p=p)
    h = -(p * np.log(p)).sum()
    est = per_example_kl(np.log(q[y]), np.full(len(y), h)).mean()
    assert est == pytest.approx((p * np.log(p / q)).sum(), abs=0.005)


def _store(out, models: dict[str, tuple[int, float]], task_kwargs: dict, n_test: int = 4000):
    """Runs whose 'model' predicts q = (1 − δ)·p_true + δ·uniform, written by hand."""
    from emergelab.store import CheckpointRecord, RunRecord, RunResult, Store, TokenOutputs

    task = make_task("noisy_modular", **task_kwargs)
    index = np.random.default_rng(1).choice(task.space_size, n_test, replace=False)
    _, answer = task.encode(index)
    p_true = task.answer_distribution(index)
    truth = {}
    with Store(out) as store:
        for name, (n_params, delta) in models.items():
            q = (1 - delta) * p_true + delta / task.p
            logprob = np.log(q[np.arange(n_test), answer[:, 0]])[:, None]
            truth[name] = float((p_true * np.log(p_true / q)).sum(axis=1).mean())
            outputs = TokenOutputs(target=answer, pred=answer, logprob=logprob, sum_p2=np.ones_like(logprob),
                                   tf_pred=answer, example_id=index)
            run = RunRecord(run_id=name, model=name, task="noisy", task_config={"name": "noisy_modular", **task_kwargs,
                                                                                 "train_size": 1, "test_size": n_test},
                            params=n_params, non_embedding_params=n_params, seed=0)
            store.write_run(RunResult(run, [CheckpointRecord(10, 10)], {10: outputs}))
    return truth


def test_loss_split_from_a_store_recovers_the_true_kl(tmp_path):
    kwargs = {"p": 11, "noise": 0.3, "repeats": 64}
    truth = _store(tmp_path, {"small": (1000, 0.6), "mid": (10000, 0.3), "large": (100000, 0.1)}, kwargs)
    rows = loss_splits(tmp_path, n_boot=300)
    assert [r.model for r in rows] == ["small", "mid", "large"]
    for r in rows:
        assert r.entropy == pytest.approx(_textbook_entropy(11, 0.3))
        assert r.cross_entropy == pytest.approx(r.entropy + r.kl)
        assert r.kl_lo <= truth[r.model] <= r.kl_hi, (r, truth[r.model])


def test_kl_power_law_exponent_is_recovered():
    n = np.array([1e3, 3e3, 1e4, 3e4, 1e5])
    kl = 2.0 * n ** -0.301  # "10x scale halves the KL"
    rows = [LossSplit("t", f"m{i}", x, 2, 1000, k + 1.0, 1.0, k, k * 0.97, k * 1.03) for i, (x, k) in enumerate(zip(n, kl, strict=True))]
    (fit,) = fit_kl_scaling(rows, n_boot=300)
    assert fit.alpha == pytest.approx(0.301, abs=1e-6)
    assert fit.factor_per_decade == pytest.approx(2.0, rel=1e-4)
    assert fit.alpha_lo < 0.301 < fit.alpha_hi


def test_spec_accepts_the_task():
    from emergelab.spec import TaskSpec

    spec = TaskSpec(name="noisy_modular", p=11, noise=0.3, repeats=64, train_size=5000, test_size=1000)
    assert spec.build().config() == {"p": 11, "noise": 0.3, "repeats": 64, "salt": 0}


def test_cli_entropy_on_a_store(tmp_path):
    import json

    from typer.testing import CliRunner

    from emergelab.cli import app

    truth = _store(tmp_path, {"a": (1000, 0.7), "b": (4000, 0.4), "c": (16000, 0.2)}, {"p": 7, "noise": 0.2, "repeats": 500})
    res = CliRunner().invoke(app, ["entropy", str(tmp_path), "-f", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [r["model"] for r in out["sizes"]] == ["a", "b", "c"]
    assert all(r["kl_lo"] <= truth[r["model"]] <= r["kl_hi"] for r in out["sizes"])
    assert out["scaling"][0]["alpha"] > 0
    empty = CliRunner().invoke(app, ["entropy", str(tmp_path / "nope")])
    assert empty.exit_code == 2
