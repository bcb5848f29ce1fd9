"""Selection: tasks by name or label, models, checkpoints, and per-model training curves.

The store is written by hand with outputs whose exact-match rate is set by construction (k of 10
examples answered right), so every expected value below is counted, not computed by the code.
"""

import numpy as np
import pytest
from typer.testing import CliRunner

from emergelab.analysis.curves import load_curves, load_rows
from emergelab.analysis.select import Selection, SelectionError
from emergelab.store import CheckpointRecord, PointRecord, RunRecord, RunResult, Store, TokenOutputs

E, L = 10, 3  # examples, answer tokens
TOKENS_PER_STEP = 100
# (label, task name, width, seed) -> {step: examples answered right}
RIGHT = {
    ("add2", "addition", 8, 0): {10: 1, 20: 4},
    ("add2", "addition", 8, 1): {10: 3, 20: 6},
    ("add2", "addition", 16, 0): {10: 5, 20: 9},
    ("add2", "addition", 16, 1): {10: 7, 20: 10},
    ("add3", "addition", 16, 0): {10: 0, 20: 2},
    ("inc4", "increment", 16, 0): {10: 2, 20: 8},
}
PARAMS = {8: 1000, 16: 4000}


def _outputs(right: int) -> TokenOutputs:
    target = np.ones((E, L), dtype=int)
    pred = target.copy()
    pred[right:, -1] = 0  # examples from `right` on miss their last token
    zeros = np.zeros((E, L))
    return TokenOutputs(target=target, pred=pred, logprob=zeros, sum_p2=zeros + 1, tf_pred=pred,
                        example_id=np.arange(E))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("select")
    with Store(out) as store:
        for (label, name, width, seed), by_step in RIGHT.items():
            run = RunRecord(run_id=f"{label}-w{width}-s{seed}", model=f"w{width}", task=label,
                            task_config={"name": name}, params=PARAMS[width], non_embedding_params=PARAMS[width],
                            seed=seed, width=width, tokens_per_step=TOKENS_PER_STEP)
            store.write_run(RunResult(run, [CheckpointRecord(s, s * TOKENS_PER_STEP) for s in by_step],
                                      {s: _outputs(k) for s, k in by_step.items()}))
    return out


def _mean_right(label, width, step):
    vals = [k[step] / E for (lab, _, w, _), k in RIGHT.items() if lab == label and w == width]
    return sum(vals) / len(vals)


def test_size_curves_use_each_models_final_checkpoint(folder):
    (curve,) = load_curves(folder, metrics=["exact_match"], n_boot=50, selection=Selection.parse(tasks="add2"))
    assert list(curve.x) == [1000, 4000] and curve.model == ""
    assert list(curve.y) == pytest.approx([_mean_right("add2", 8, 20), _mean_right("add2", 16, 20)])


def test_training_curves_one_per_model_with_seeds_pooled(folder):
    curves = load_curves(folder, scale="tokens", metrics=["exact_match"], n_boot=50,
                         selection=Selection.parse(tasks="add2"))
    by_model = {c.model: c for c in curves}
    assert set(by_model) == {"w8", "w16"}
    for width in (8, 16):
        c = by_model[f"w{width}"]
        assert list(c.x) == [10 * TOKENS_PER_STEP, 20 * TOKENS_PER_STEP]
        assert list(c.y) == pytest.approx([_mean_right("add2", width, 10), _mean_right("add2", width, 20)])
    (only,) = load_curves(folder, scale="step", metrics=["exact_match"], n_boot=50,
                          selection=Selection.parse(tasks="add2", models="w8"))
    assert only.model == "w8" and list(only.x) == [10, 20]


def test_checkpoint_step_compares_sizes_at_that_step(folder):
    (curve,) = load_curves(folder, metrics=["exact_match"], n_boot=50,
                           selection=Selection.parse(tasks="add2", checkpoint="10"))
    assert list(curve.y) == pytest.approx([_mean_right("add2", 8, 10), _mean_right("add2", 16, 10)])
    with pytest.raises(SelectionError, match="no checkpoint at step 15; steps: 10, 20"):
        load_curves(folder, metrics=["exact_match"], selection=Selection.parse(checkpoint=15))
    with pytest.raises(SelectionError, match="cannot make non_embedding_params curves"):
        load_curves(folder, metrics=["exact_match"], selection=Selection.parse(checkpoint="all"))


def test_task_by_name_or_label(folder):
    rows = load_rows(folder, ["exact_match"], Selection.parse(tasks="increment"), scale="step")
    assert {r.task for r in rows} == {"inc4"} and len(rows) == 2
    assert {r.task for r in load_rows(folder, ["exact_match"], Selection.parse(tasks="add3"))} == {"add3"}
    with pytest.raises(SelectionError, match="task 'addition' is ambiguous: it could be add2, add3"):
        load_rows(folder, ["exact_match"], Selection.parse(tasks="addition"))
    with pytest.raises(SelectionError, match="no task 'multiplication'.*tasks: add2, add3, inc4"):
        load_rows(folder, ["exact_match"], Selection.parse(tasks="multiplication"))


def test_unknown_selectors_are_one_line_errors(folder):
    with pytest.raises(SelectionError, match="no model w99.*model: w16, w8"):
        load_rows(folder, ["exact_match"], Selection.parse(models="w99"))
    with pytest.raises(SelectionError, match="final, all or a step"):
        Selection.parse(checkpoint="last")


def test_missing_step_drops_models_with_a_warning():
    points = [PointRecord(model=m, task="t", metric="acc", value=v, params=p, step=s)
              for m, p, s, v in [("a", 1e6, 100, 0.1), ("a", 1e6, 200, 0.2), ("b", 1e7, 200, 0.5)]]
    sel = Selection.parse(checkpoint=100)
    with pytest.warns(UserWarning, match="left out 1 model.*: b"):
        kept = sel.apply(points, {"t": "t"}, "params")
    assert [(p.model, p.step) for p in kept] == [("a", 100)]
    final = Selection().apply(points, {"t": "t"}, "params")
    assert [(p.model, p.step) for p in final] == [("a", 200), ("b", 200)]


def test_cli_metrics_and_analyze_take_the_selectors(folder):
    from emergelab.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["metrics", str(folder), "--format", "csv", "--metric", "exact_match",
                                 "--task", "increment"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("inc4,exact_match") for line in lines[1:])
    result = runner.invoke(app, ["analyze", str(folder), "--task", "addition"])
    assert result.exit_code == 2 and "ambiguous" in result.output and "add2, add3" in result.output
