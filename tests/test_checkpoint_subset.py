"""Intermediate checkpoints score a fixed subset of the test set; the final one scores all of it."""

import numpy as np

from conftest import tiny_spec_dict
from emergelab.evaluate import checkpoint_examples
from emergelab.spec import ExperimentSpec
from emergelab.store import Store
from emergelab.sweep import run_experiment
from emergelab.tasks import make_task


def test_checkpoint_examples_slices():
    assert checkpoint_examples(500, 100, final=False) == slice(0, 100)
    assert checkpoint_examples(500, 100, final=True) == slice(0, 500)
    assert checkpoint_examples(500, None, final=False) == slice(0, 500)
    assert checkpoint_examples(50, 100, final=False) == slice(0, 50)


def test_intermediate_checkpoints_use_the_head_of_the_test_split(tmp_path):
    raw = tiny_spec_dict(seeds=[0])
    raw["family"]["widths"] = [8]
    raw["training"].update(steps=30, checkpoints=[5, 15, 30], checkpoint_test_size=40)
    spec = ExperimentSpec.model_validate(raw)
    run_experiment(spec, tmp_path / "exp")
    # the truth: the task's own seeded split, drawn independently of the sweep
    t = raw["tasks"][0]
    split = make_task("addition", digits=t["digits"], fmt=t["format"]).make_split(
        t["train_size"], t["test_size"], spec.data_seed)
    with Store(tmp_path / "exp", read_only=True) as store:
        (run,) = store.runs()
        outputs = store.token_outputs(run.run_id)
    assert sorted(outputs) == [5, 15, 30]
    for step in (5, 15):
        assert sorted(outputs[step].example_id) == sorted(split.test_index[:40])
    assert sorted(outputs[30].example_id) == sorted(split.test_index)
    # the stored targets are the task's answers for those inputs (nothing shifted by the slice)
    by_id = dict(zip(split.test_index, split.test_answer, strict=True))
    for step, out in outputs.items():
        expected = np.stack([by_id[i] for i in out.example_id])
        assert np.array_equal(out.target, expected), step
