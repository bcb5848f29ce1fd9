import duckdb
import pytest

from conftest import tiny_spec_dict
from emergelab.spec import SpecError, parse_spec
from emergelab.store import Store
from emergelab.sweep import plan, run_experiment


def _counts(folder):
    con = duckdb.connect(str(folder / "emergelab.duckdb"), read_only=True)
    out = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("runs", "checkpoints", "outputs")}
    dup = con.execute("SELECT count(*) FROM (SELECT run_id, step, example_id, pos FROM outputs "
                      "GROUP BY ALL HAVING count(*) > 1)").fetchone()[0]
    con.close()
    return out, dup


def test_rerun_skips_finished_runs(tmp_path):
    spec = parse_spec(tiny_spec_dict())
    first = run_experiment(spec, tmp_path)
    assert first.trained == 4 and first.skipped == 0
    before, _ = _counts(tmp_path)
    second = run_experiment(spec, tmp_path)
    assert second.trained == 0 and second.skipped == 4
    assert _counts(tmp_path)[0] == before


def test_interrupted_sweep_resumes_without_duplicates(tmp_path):
    spec = parse_spec(tiny_spec_dict())

    def interrupt(_group):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiment(spec, tmp_path, on_group_done=interrupt)
    partial, _ = _counts(tmp_path)
    assert partial["runs"] == 2  # the first group (two seeds) finished and was stored
    # leftovers of a half-written run (rows without a 'done' mark) must be replaced, not duplicated
    group = plan(spec)[1]
    with Store(tmp_path) as store:
        store.con.execute("INSERT INTO outputs SELECT ?, step, example_id, pos, target, pred, logprob, sum_p2, tf_pred "
                          "FROM outputs LIMIT 10", [group.run_ids[0]])
    resumed = run_experiment(spec, tmp_path)
    assert resumed.trained == 2 and resumed.skipped == 2
    counts, dup = _counts(tmp_path)
    assert counts["runs"] == 4 and dup == 0
    assert counts["outputs"] == 4 * 2 * 150 * 3  # runs × checkpoints × test examples × answer tokens


def test_folder_of_another_spec_is_refused(tmp_path):
    run_experiment(parse_spec(tiny_spec_dict()), tmp_path)
    other = parse_spec(tiny_spec_dict(seeds=[7]))
    with pytest.raises(SpecError, match="different spec"):
        run_experiment(other, tmp_path)
    assert run_experiment(other, tmp_path, force=True).trained == 2


def test_parquet_export(tmp_path):
    run_experiment(parse_spec(tiny_spec_dict(seeds=[0])), tmp_path)
    with Store(tmp_path, read_only=True) as store:
        files = store.export_parquet(tmp_path / "pq")
    names = {f.name for f in files}
    assert {"runs.parquet", "outputs.parquet", "checkpoints.parquet"} <= names
    n = duckdb.connect().execute(f"SELECT count(*) FROM '{tmp_path / 'pq' / 'outputs.parquet'}'").fetchone()[0]
    assert n == 2 * 2 * 150 * 3


def test_a_run_is_stored_as_given_missing_and_nan_losses_included(tmp_path):
    """write_run sends each table in one INSERT; every row must come back as it went in: NULL for a
    loss not measured, NaN for a NaN loss, the progress measures, and the outputs of every step."""
    import math

    import numpy as np

    from emergelab.store.db import CheckpointRecord, RunRecord, RunResult, TokenOutputs

    rng = np.random.default_rng(0)

    def outputs(e=5, length=3):
        return TokenOutputs(rng.integers(0, 12, (e, length)), rng.integers(0, 12, (e, length)),
                            rng.normal(size=(e, length)), rng.random((e, length)),
                            rng.integers(0, 12, (e, length)), np.arange(e) * 2)

    cks = [CheckpointRecord(0, 0, None, 2.5, {}), CheckpointRecord(5, 640, float("nan"), None, {"a": 1.5}),
           CheckpointRecord(10, 1280, 0.25, 0.5, {"b": [1, 2]})]
    outs = {0: outputs(), 5: outputs(), 10: outputs()}
    with Store(tmp_path) as store:
        store.write_run(RunResult(RunRecord("r1", "m", "t", {}, 100, 80, seed=1), cks, outs))
    with Store(tmp_path, read_only=True) as store:
        rows = store.con.execute("SELECT step, tokens, train_loss, test_loss, extra FROM checkpoints "
                                 "WHERE run_id = 'r1' ORDER BY step").fetchall()
        got = store.con.execute("SELECT step, example_id, pos, target, pred, logprob, sum_p2, tf_pred FROM outputs "
                                "WHERE run_id = 'r1' ORDER BY step, example_id, pos").fetchall()
    assert [r[:2] for r in rows] == [(0, 0), (5, 640), (10, 1280)]
    assert rows[0][2] is None and math.isnan(rows[1][2]) and rows[2][2] == 0.25
    assert [r[3] for r in rows] == [2.5, None, 0.5]
    assert [r[4] for r in rows] == ['{}', '{"a": 1.5}', '{"b": [1, 2]}']
    want = [(step, int(out.example_id[i]), j, int(out.target[i, j]), int(out.pred[i, j]), float(out.logprob[i, j]),
             float(out.sum_p2[i, j]), int(out.tf_pred[i, j]))
            for step, out in outs.items() for i in range(out.n_examples) for j in range(out.target.shape[1])]
    assert got == want
