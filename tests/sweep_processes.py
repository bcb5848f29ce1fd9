"""Helpers for tests that run `emergelab run` in a subprocess and watch its processes through /proc.

The driver is started in a new session, so the session id finds every process it started (pool
workers, the multiprocessing resource tracker) even after they have been re-parented to PID 1.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

EMERGELAB = str(Path(sys.executable).parent / "emergelab")


def _stat(pid: str) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # state, ppid, pgrp, session, ...


def session_processes(sid: int) -> list[int]:
    """Live processes (zombies hold no memory and are left out) of session `sid`."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(entry.name)
            if fields and fields[0] != "Z" and int(fields[3]) == sid:
                out.append(int(entry.name))
    return out


def wait_for(predicate: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def write_spec(path: Path, spec: dict) -> Path:
    path.write_text(yaml.safe_dump(spec))
    return path


def start_sweep(spec_path: Path, out: Path, *args: str) -> subprocess.Popen:
    """`emergelab run SPEC --out OUT --no-report ARGS` in a new session."""
    return subprocess.Popen([EMERGELAB, "run", str(spec_path), "--out", str(out), "--no-report", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def stored_tables(folder: Path) -> dict[str, list]:
    """Every stored output, checkpoint and run of a folder, sorted: two folders hold the same
    results exactly when these are equal."""
    import duckdb

    con = duckdb.connect(str(folder / "emergelab.duckdb"), read_only=True)
    try:
        return {
            "outputs": con.execute("SELECT * FROM outputs ORDER BY ALL").fetchall(),
            "checkpoints": con.execute("SELECT * FROM checkpoints ORDER BY ALL").fetchall(),
            "runs": con.execute("SELECT run_id, params, seed, status FROM runs ORDER BY ALL").fetchall(),
        }
    finally:
        con.close()
