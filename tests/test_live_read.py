"""Reading while training: the folder of a running sweep can be read (analyze, metrics, report,
export) and shows the runs finished so far; a second sweep on the same folder is refused."""

import csv
import io
import signal
import subprocess

import pytest

from conftest import tiny_spec_dict
from emergelab.analysis.curves import load_curves
from emergelab.report import write_report
from emergelab.spec import parse_spec
from emergelab.store import Store
from emergelab.store.lock import FolderBusy, SweepLock
from emergelab.sweep import run_experiment
from sweep_processes import EMERGELAB, start_sweep, wait_for, write_spec


def test_the_driver_lets_go_of_the_database_between_groups(tmp_path):
    """In one process DuckDB refuses a read-only connection beside an open read-write one, so
    these reads fail unless the sweep really closed the file after writing each group."""
    seen = []

    def read_now(_group):
        with Store(tmp_path, read_only=True, wait=0) as store:
            seen.append(len(store.done_run_ids()))
            store.export_parquet(tmp_path / f"parquet{len(seen)}")
        assert {c.metric for c in load_curves(tmp_path, n_boot=10)} >= {"exact_match"}
        assert write_report(tmp_path).exists()

    run_experiment(parse_spec(tiny_spec_dict()), tmp_path, on_group_done=read_now)
    assert seen == [2, 4]


def test_a_second_sweep_on_a_busy_folder_is_refused(tmp_path):
    with SweepLock(tmp_path), pytest.raises(FolderBusy, match="running sweep"):
        run_experiment(parse_spec(tiny_spec_dict()), tmp_path)
    assert run_experiment(parse_spec(tiny_spec_dict(seeds=[0])), tmp_path).trained == 2  # the lock was released


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EMERGELAB, *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_commands_read_a_folder_while_its_sweep_runs(tmp_path):
    spec = tiny_spec_dict(family={"widths": [8, 12, 16, 24, 32, 48], "depths": [1], "head_dim": 4}, seeds=[0])
    spec["training"].update(steps=1500, checkpoints=[300, 1500])
    out = tmp_path / "out"
    # one worker, smallest model first: the reads happen while the five larger ones train. The
    # SIGTERM below ends the sweep, so the larger sizes cost nothing unless the reads are slow;
    # with four sizes a fast machine finished the sweep during the reads (the signal then met
    # the report being written after the sweep, with the default handler back: exit -15)
    proc = start_sweep(write_spec(tmp_path / "spec.yaml", spec), out, "--live-report")
    try:
        assert wait_for(lambda: (out / "report.html").exists(), timeout=300), proc.stderr
        metrics = _cli("metrics", str(out), "--format", "csv")
        analyze = _cli("analyze", str(out))
        report = _cli("report", str(out))
        export = _cli("export", str(out), "--parquet", "--out", str(tmp_path / "pq"))
        running = proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    assert running, "the sweep ended before the reads; make it longer"
    for done in (metrics, report, export):
        assert done.returncode == 0, done.stderr
    assert analyze.returncode in (0, 2) and "Traceback" not in analyze.stderr, analyze.stderr
    rows = list(csv.DictReader(io.StringIO(metrics.stdout)))
    assert rows and {r["task"] for r in rows} == {"add2"}
    assert (tmp_path / "pq" / "runs.parquet").exists()
    assert proc.returncode == 128 + signal.SIGTERM and "rerun the same command to resume" in err
