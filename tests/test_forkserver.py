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

