"""The `emergelab` script starts the workers' fork server first only for commands that train."""

import subprocess
import sys

import pytest

from emergelab import forkserver


@pytest.mark.parametrize("argv, starts", [
    (["demo"], True),
    (["run", "spec.yaml", "--out", "x"], True),
    (["--debug", "run", "spec.yaml"], True),
    (["run", "--help"], False),
    (["analyze", "runs/demo"], False),
    (["report", "run"], False),  # "run" as an argument, not the command
    ([], False),
])
def test_prestart_only_for_training_commands(monkeypatch, argv, starts):
    calls = []
    monkeypatch.setattr(forkserver, "prestart", lambda: calls.append(1))
    forkserver.prestart_for(argv)
    assert bool(calls) == starts


def test_module_entry_point_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "emergelab", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("emergelab ")



def test_a_server_that_cannot_start_early_is_left_to_the_pool(monkeypatch):
    """prestart runs before the CLI's error mapping: an environment error there must not become a
    traceback; the pool retries, and the CLI reports it in one line."""
    def broken():
        raise OSError("no room for the server's socket")

    monkeypatch.setattr(forkserver, "prestart", broken)
    forkserver.prestart_for(["run", "spec.yaml"])  # no exception
