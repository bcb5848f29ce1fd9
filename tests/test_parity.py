"""Multitask sparse parity and the monogenic/polygenic analysis, against brute force and against
outputs simulated from the quantization model with known learned subtasks."""

import math

import numpy as np
import pytest

from emergelab.analysis.quanta_curves import (
    LEARNED,
    crossing_width,
    first_crossing,
    fit_quanta_scaling,
    size_quanta,
    step_order_rho,
    theory_exponent,
    trajectories,
)
from emergelab.tasks import make_task
from emergelab.tasks.parity import zipf_shares


def _parity_from_text(task, prompt_row: np.ndarray) -> tuple[int, int]:
    """(subtask, parity) read back from the rendered prompt: 'T3 0:1 1:0 ... =' ."""
    words = task.render(prompt_row).split()
    t = int(words[0][1:])
    bits = {int(w.split(":")[0]): int(w.split(":")[1]) for w in words[1:-1]}
    assert words[-1] == "=" and sorted(bits) == list(range(task.bits))
    return t, sum(bits[i] for i in task.subsets[t]) % 2


def test_answers_are_the_parity_of_each_subtasks_own_bits():
    task = make_task("multitask_sparse_parity", subtasks=5, bits=6, k=3, alpha=0.5, salt=3)
    index = np.arange(task.space_size)
    prompt, answer = task.encode(index)
    for row in range(0, task.space_size, 7):
        t, parity = _parity_from_text(task, prompt[row])
        assert t == task.subtask_of(index[row:row + 1])[0] == row // 64
        assert answer[row, 0] == parity  # answer token "0" has id 0, "1" id 1
    assert all(len(set(s)) == 3 for s in task.subsets.tolist())
    assert len({tuple(s) for s in task.subsets.tolist()}) > 1  # subtasks read different bits
    # every subtask is a fair coin over its inputs: chance accuracy 0.5
    for t in range(task.subtasks):
        assert answer[index // 64 == t, 0].mean() == 0.5


def test_split_is_disjoint_zipf_in_training_and_balanced_in_test():
    task = make_task("multitask_sparse_parity", subtasks=6, bits=12, k=3, alpha=0.4)
    split = task.make_split(6000, 600, seed=1)
    assert not set(split.train_index) & set(split.test_index)
    assert len(set(split.train_index)) == 6000
    ranks = np.arange(1, 7, dtype=float)
    textbook = ranks ** -1.4 / (ranks ** -1.4).sum()
    counts = np.bincount(task.subtask_of(split.train_index), minlength=6)
    assert np.abs(counts - 6000 * textbook).max() <= 1
    assert np.bincount(task.subtask_of(split.test_index)).tolist() == [100] * 6
    # checkpoints score the first examples of the test set: its first 60 must span the subtasks
    assert len(set(task.subtask_of(split.test_index[:60]).tolist())) >= 5
    assert task.make_split(6000, 600, seed=1).train_index.tolist() == split.train_index.tolist()
    with pytest.raises(ValueError, match="raise bits"):
        task.make_split(20000, 600, seed=1)  # subtask 0 would need more than 2^12 inputs


def test_theory_exponent_approaches_alpha_for_many_quanta():
    # Σ_{t>n} t^-(α+1) ≈ n^-α / α for 1 ≪ n ≪ K: the log–log slope is α (a finite K bends it down)
    for alpha in (0.5, 1.0):
        assert theory_exponent(zipf_shares(200_000, alpha), 30, 1000) == pytest.approx(alpha, rel=0.05)


def test_crossings_by_hand():
    x = np.array([10.0, 100.0, 1000.0])
    assert first_crossing(x, np.array([0.5, 0.7, 1.0]), 0.85) == pytest.approx(10**2.5)
    assert first_crossing(x, np.array([0.5, 0.5, 0.5]), 0.9) == math.inf
    assert first_crossing(x, np.array([0.95, 1.0, 1.0]), 0.9) == 10.0
    assert crossing_width(x, np.array([0.5, 0.7, 1.0]), 0.6, 0.9) == pytest.approx((2 + 2 / 3) - 1.5)  # 0.6 halfway in the 1st decade, 0.9 at 2/3 of the 2nd
    assert math.isnan(crossing_width(x, np.array([0.7, 0.8, 1.0]), 0.6, 0.9))  # rise began before x[0]


def _write_store(folder, task, learned_at: dict[str, tuple[float, dict[int, int]]], n_test=800, eps=0.01):
    """Runs whose outputs follow the quantization model: at each step a model knows the `n` most
    frequent subtasks (answers right with p = 1 − eps) and guesses the rest (p = 1/2, right half
    the time). learned_at: model → (N, {step: n})."""
    from emergelab.store import CheckpointRecord, RunRecord, RunResult, Store, TokenOutputs

    split = task.make_split(2000, n_test, seed=0)
    sub = task.subtask_of(split.test_index)
    target = split.test_answer
    coin = np.random.default_rng(5).random(n_test) < 0.5  # which guesses happen to be right
    with Store(folder) as store:
        for model, (n_params, schedule) in learned_at.items():
            outputs = {}
            for step, n in schedule.items():
                known = sub < n
                right = known | coin
                pred = np.where(right[:, None], target, 1 - target)
                logprob = np.where(known, math.log(1 - eps), math.log(0.5))[:, None]
                outputs[step] = TokenOutputs(target=target, pred=pred, logprob=logprob, sum_p2=np.ones_like(logprob),
                                             tf_pred=pred, example_id=split.test_index)
            run = RunRecord(run_id=model, model=model, task="msp",
                            task_config={"name": task.name, **task.config(), "train_size": 2000, "test_size": n_test},
                            params=n_params, non_embedding_params=n_params, seed=0)
            store.write_run(RunResult(run, [CheckpointRecord(s, s) for s in schedule], outputs))
    return sub, coin


def test_simulated_quanta_model_gives_learned_counts_loss_and_frequency_order(tmp_path):
    task = make_task("multitask_sparse_parity", subtasks=8, bits=12, k=3, alpha=0.5)
    sizes = {f"m{n}": (1e3 * 2.0**n, n) for n in range(1, 9)}  # size m<n> knows the n most frequent
    _write_store(tmp_path, task, {m: (n_params, {1000: n}) for m, (n_params, n) in sizes.items()})
    rows = size_quanta(tmp_path, n_boot=200)
    assert [r.learned for r in rows] == list(range(1, 9))
    shares = zipf_shares(8, 0.5)
    for r, (_, n) in zip(rows, sizes.values(), strict=True):
        known = np.arange(8) < n
        assert (r.accuracy[known] == 1).all()
        # textbook loss of the quantization model: −log(1−ε) on known subtasks, log 2 on the rest
        expected = shares[known].sum() * -math.log(0.99) + shares[~known].sum() * math.log(2)
        assert r.aggregate_loss == pytest.approx(expected, rel=1e-9)
        assert r.aggregate_lo - 1e-12 <= expected <= r.aggregate_hi + 1e-12  # per-subtask losses are constant here
    (fit,) = fit_quanta_scaling(rows, n_boot=200)
    assert fit.alpha == pytest.approx(0.5)
    assert fit.order_rho == pytest.approx(1.0)  # the most frequent subtask is learned at the smallest N
    assert np.all(np.diff(fit.onset_n) >= 0)
    assert fit.exponent_n > 0 and fit.exponent_n_lo <= fit.exponent_n <= fit.exponent_n_hi


def test_trajectories_find_each_subtasks_onset_step(tmp_path):
    task = make_task("multitask_sparse_parity", subtasks=6, bits=12, k=3, alpha=0.5)
    steps = [int(s) for s in np.unique(np.geomspace(10, 10_000, 31).round())]
    onset = {t: 40 * 2.5**t for t in range(6)}  # subtask t switches on at this step
    schedule = {s: sum(s >= onset[t] for t in range(6)) for s in steps}
    _write_store(tmp_path, task, {"m": (1e4, schedule)})
    (traj,) = trajectories(tmp_path)
    assert traj.steps.tolist() == steps
    for t in range(6):
        first_on = min(s for s in steps if s >= onset[t])
        prev = max(s for s in steps if s < onset[t])
        assert prev < traj.onset_step[t] <= first_on
        assert traj.accuracy[steps.index(first_on), t] == 1.0 >= LEARNED
    assert step_order_rho(traj) == pytest.approx(1.0)
    # one checkpoint interval per subtask (0.1 decades) against the aggregate loss's spread-out fall
    assert np.nanmax(traj.subtask_width) <= 0.11
    assert traj.aggregate_width > 3 * np.nanmax(traj.subtask_width)


def test_cli_and_report_section_on_simulated_models(tmp_path):
    import json

    from typer.testing import CliRunner

    from emergelab.cli import app
    from emergelab.report.quanta import quanta_section_html

    task = make_task("multitask_sparse_parity", subtasks=6, bits=12, k=3, alpha=0.5)
    _write_store(tmp_path, task, {f"m{n}": (1e3 * 3.0**n, {100: 0, 1000: n}) for n in (1, 2, 4, 6)})
    res = CliRunner().invoke(app, ["quanta", str(tmp_path), "-f", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [s["learned"] for s in data["sizes"]] == [1, 2, 4, 6]
    # subtask t switches on between the last size that lacks it and the first that has it
    first_size = [3e3, 9e3, 8.1e4, 8.1e4, 7.29e5, 7.29e5]
    last_without = [0, 3e3, 9e3, 9e3, 8.1e4, 8.1e4]
    for t, n_on in enumerate(data["scaling"][0]["onset_n"]):
        assert last_without[t] < n_on <= first_size[t]
    assert data["scaling"][0]["order_rho"] > 0.8  # ties (2 and 3, 4 and 5) keep it below 1
    table = CliRunner().invoke(app, ["quanta", str(tmp_path)])
    assert table.exit_code == 0 and "aggregate loss ∝ N^-" in table.output
    assert CliRunner().invoke(app, ["quanta", str(tmp_path / "nope")]).exit_code == 2
    page = quanta_section_html(tmp_path)
    assert "accuracy per subtask vs N" in page and "aggregate loss vs N" in page and "over training at N" in page
