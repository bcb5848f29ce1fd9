"""Processes that clean up: no worker or resource tracker outlives a killed or stopped `emergelab run`."""

import os
import signal

import pytest

from conftest import tiny_spec_dict
from sweep_processes import session_processes, start_sweep, wait_for, write_spec


def _pool_spec():
    """Four groups on a pool of two workers, long enough to be caught mid-training."""
    spec = tiny_spec_dict(family={"widths": [8, 12, 16, 24], "depths": [1], "head_dim": 4},
                          executor={"workers": 2, "save_weights": False})
    spec["training"]["steps"] = 3000
    return spec


def _start_and_wait_for_workers(tmp_path):
    proc = start_sweep(write_spec(tmp_path / "spec.yaml", _pool_spec()), tmp_path / "out")
    # the driver, the fork server, two workers and the resource tracker
    assert wait_for(lambda: len(session_processes(proc.pid)) >= 5, timeout=90), session_processes(proc.pid)
    return proc


def _no_survivors(proc) -> None:
    assert wait_for(lambda: not session_processes(proc.pid), timeout=15), (
        f"left behind: {[open(f'/proc/{p}/cmdline').read().replace(chr(0), ' ')[:80] for p in session_processes(proc.pid)]}")


def test_sigkill_of_the_driver_leaves_no_process_behind(tmp_path):
    proc = _start_and_wait_for_workers(tmp_path)
    proc.kill()
    proc.wait(timeout=10)
    _no_survivors(proc)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_prints_progress_line_and_stops_the_pool(tmp_path, sig):
    proc = _start_and_wait_for_workers(tmp_path)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C: the terminal signals the whole process group
    else:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    last = err.strip().splitlines()[-1]
    assert last == "interrupted: 0 of 8 runs stored; rerun the same command to resume", err
    assert "Traceback" not in err
    _no_survivors(proc)
