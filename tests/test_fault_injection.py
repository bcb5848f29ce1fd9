"""Fault injection: SIGKILL the driver of a small sweep at 20 random moments, resume each time.

The truth is an uninterrupted run of the same spec. After every kill no process of the sweep may
survive and the folder may hold only whole runs; at the end every table must equal the
uninterrupted run's exactly and no run may be stored twice.
"""

import subprocess
import time

import duckdb
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from conftest import tiny_spec_dict
from sweep_processes import session_processes, start_sweep, wait_for, write_spec

KILLS = 20


def _spec():
    spec = tiny_spec_dict(family={"widths": [8, 12, 16, 20], "depths": [1], "head_dim": 4},
                          executor={"workers": 2, "save_weights": True, "snapshot_every_steps": 20})
    spec["tasks"][0]["test_size"] = 100
    spec["training"].update(steps=400, checkpoints=[0, 100, 400])
    return spec


def _tables(folder):
    con = duckdb.connect(str(folder / "emergelab.duckdb"), read_only=True)
    out = {
        "outputs": con.execute("SELECT * FROM outputs ORDER BY ALL").fetchall(),
        "checkpoints": con.execute("SELECT * FROM checkpoints ORDER BY ALL").fetchall(),
        "runs": con.execute("SELECT run_id, params, seed, status FROM runs ORDER BY ALL").fetchall(),
    }
    con.close()
    return out


def _whole_runs_only(folder) -> int:
    """Every stored run has all its rows (3 checkpoints × 100 examples × 3 answer tokens) and no
    row is stored twice; returns the number of stored runs."""
    if not (folder / "emergelab.duckdb").exists():
        return 0
    con = duckdb.connect(str(folder / "emergelab.duckdb"), read_only=True)
    try:
        runs = con.execute("SELECT count(*) FROM runs WHERE status = 'done'").fetchone()[0]
        per_run = con.execute("SELECT run_id, count(*) FROM outputs GROUP BY run_id").fetchall()
        dup = con.execute("SELECT count(*) FROM (SELECT run_id, step, example_id, pos FROM outputs "
                          "GROUP BY ALL HAVING count(*) > 1)").fetchone()[0]
        orphans = con.execute("SELECT count(*) FROM outputs WHERE run_id NOT IN (SELECT run_id FROM runs)").fetchone()[0]
    finally:
        con.close()
    assert dup == 0 and orphans == 0
    assert len(per_run) == runs and all(n == 3 * 100 * 3 for _, n in per_run), per_run
    return runs


def _timed_run(spec_path, out) -> float:
    started = time.monotonic()
    proc = start_sweep(spec_path, out)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return time.monotonic() - started


@pytest.mark.slow
def test_sigkill_at_20_random_moments_resumes_to_the_uninterrupted_result(tmp_path):
    spec_path = write_spec(tmp_path / "spec.yaml", _spec())
    full = _timed_run(spec_path, tmp_path / "reference")       # start-up + training
    start_up = _timed_run(spec_path, tmp_path / "reference")   # nothing left to do: start-up alone
    # kill moments uniform over start-up, planning, training and storing; a kill after start-up
    # leaves up to a quarter of the training done, so the 20 kills fall all along the sweep
    horizon = start_up + max(full - start_up, 1.0) / 4
    rng = np.random.default_rng(20261201)
    folder = tmp_path / "killed"
    kills, attempts, stored_after_kill = 0, 0, []
    while kills < KILLS and attempts < 3 * KILLS:
        attempts += 1
        proc = start_sweep(spec_path, folder)
        try:
            proc.wait(timeout=float(rng.uniform(0.0, horizon)))
            assert proc.returncode == 0, proc.stderr.read()
            continue  # finished before the moment came: not a kill
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
            kills += 1
        assert wait_for(lambda p=proc: not session_processes(p.pid), timeout=120), "processes left behind"
        proc.stdout.close()
        proc.stderr.close()
        stored_after_kill.append(_whole_runs_only(folder))
    assert kills == KILLS
    assert stored_after_kill == sorted(stored_after_kill)  # a stored run is never lost
    assert stored_after_kill[-1] > 0  # kills came after runs were stored, not only during start-up
    _timed_run(spec_path, folder)  # resume to the end
    assert _whole_runs_only(folder) == 8
    assert _tables(folder) == _tables(tmp_path / "reference")
    reference = sorted((tmp_path / "reference" / "weights").rglob("*.safetensors"))
    assert len(reference) == 8
    for path in reference:
        killed = load_file(folder / path.relative_to(tmp_path / "reference"))
        assert all(torch.equal(t, killed[k]) for k, t in load_file(path).items())
    print(f"kills survived: {kills} (attempts {attempts}); runs stored after each kill: {stored_after_kill}")
