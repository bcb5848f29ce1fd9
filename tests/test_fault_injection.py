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
from sweep_processes import session_processes, start_sweep, stored_tables, wait_for, write_spec

KILLS = 20


def _spec():
    spec = tiny_spec_dict(family={"widths": [8, 12, 16, 20], "depths": [1], "head_dim": 4},
                          executor={"workers": 2, "save_weights": True, "snapshot_every_steps": 20})
    spec["tasks"][0]["test_size"] = 100
    spec["training"].update(steps=1600, checkpoints=[0, 400, 1600])  # long enough that kills land mid-sweep
    return spec


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


def _training_seen(proc, folder, since: float) -> bool:
    """This attempt has trained: a snapshot or weights file was written after `since` (or it ended)."""
    if proc.poll() is not None:
        return True
    files = [p for d in ("snapshots", "weights") if (folder / d).exists() for p in (folder / d).rglob("*")]
    return any(p.stat().st_mtime > since for p in files if p.exists())


def _reference_run(spec_path, out) -> tuple[float, float]:
    """(seconds until training shows on disk, seconds of the whole uninterrupted run)."""
    started, wall = time.monotonic(), time.time()
    proc = start_sweep(spec_path, out)
    assert wait_for(lambda: _training_seen(proc, out, wall), timeout=600, step=0.05)
    up = time.monotonic() - started
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return up, time.monotonic() - started


def _kill_at_a_random_moment(proc, folder, since: float, rng, start_up: float, training: float) -> bool:
    """A quarter of the moments (all of them once every run is stored) fall in start-up: imports,
    planning, the fork server; the rest up to a 24th of the training after this attempt's first
    write (training, scoring, storing), so most kills fall while runs are still being trained (with a
    twelfth, every run was stored by the 10th kill and the rest hit a finished sweep). Returns whether the driver was still running then and was
    killed."""
    if rng.random() < 0.25 or _whole_runs_only(folder) == 8:
        delay = rng.uniform(0.0, start_up)
    else:
        wait_for(lambda: _training_seen(proc, folder, since), timeout=600, step=0.05)
        delay = rng.uniform(0.0, training / 24)
    try:
        proc.wait(timeout=float(delay))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
        return True
    assert proc.returncode == 0, proc.stderr.read()
    return False


@pytest.mark.slow
def test_sigkill_at_20_random_moments_resumes_to_the_uninterrupted_result(tmp_path):
    spec_path = write_spec(tmp_path / "spec.yaml", _spec())
    first_write, full = _reference_run(spec_path, tmp_path / "reference")
    training = max(full - first_write, 1.0)
    started = time.monotonic()
    _, err = start_sweep(spec_path, tmp_path / "reference").communicate(timeout=600)  # nothing left to do
    start_up = time.monotonic() - started
    rng = np.random.default_rng(20261201)
    folder = tmp_path / "killed"
    kills, attempts, stored_after_kill = 0, 0, []
    while kills < KILLS and attempts < 3 * KILLS:
        attempts += 1
        since = time.time()
        proc = start_sweep(spec_path, folder)
        killed = _kill_at_a_random_moment(proc, folder, since, rng, start_up, training)
        proc.stdout.close()
        proc.stderr.close()
        if not killed:
            continue  # finished before the moment came
        kills += 1
        assert wait_for(lambda p=proc: not session_processes(p.pid), timeout=120), "processes left behind"
        stored_after_kill.append(_whole_runs_only(folder))
    assert kills == KILLS
    assert stored_after_kill == sorted(stored_after_kill)  # a stored run is never lost
    _, err = start_sweep(spec_path, folder).communicate(timeout=600)  # resume to the end
    assert _whole_runs_only(folder) == 8, err
    assert stored_tables(folder) == stored_tables(tmp_path / "reference")
    reference = sorted((tmp_path / "reference" / "weights").rglob("*.safetensors"))
    assert len(reference) == 8
    for path in reference:
        killed = load_file(folder / path.relative_to(tmp_path / "reference"))
        assert all(torch.equal(t, killed[k]) for k, t in load_file(path).items())
    print(f"kills survived: {kills} (attempts {attempts}); runs stored after each kill: {stored_after_kill}; "
          f"start-up {start_up:.0f} s, training {training:.0f} s")
