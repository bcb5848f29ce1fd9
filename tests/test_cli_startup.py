"""The `emergelab` script's start-up: a command line that trains builds the app from run.py's
commands only, so the sweep starts before the analysis code (SciPy, the laws, the report) is
imported; every other command line gets the full app, and the two answer a training command line
alike."""

import json
import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from emergelab.cli import app, build_app
from emergelab.forkserver import trains

runner = CliRunner()
LATER = ["emergelab.analysis", "scipy", "emergelab.report.html", "emergelab.cli.analyze", "emergelab.cli.theory"]


def _imported_when_the_sweep_starts(argv: list[str]) -> list[str]:
    """Run `emergelab ARGV` in a fresh process until run_experiment is called; which of LATER it imported."""
    code = textwrap.dedent(f"""
        import json, os, sys
        import emergelab.sweep

        def run_experiment(*args, **kwargs):
            print(json.dumps([m for m in {LATER!r} if m in sys.modules]), flush=True)
            os._exit(0)

        emergelab.sweep.run_experiment = run_experiment
        sys.argv = ["emergelab", *{argv!r}]
        from emergelab.cli import main
        main()
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("command", [["demo"], ["--debug", "run", "SPEC"]])
def test_training_commands_start_the_sweep_before_importing_the_analysis(tmp_path, command):
    from emergelab.cli.run import demo_spec_path

    argv = [str(demo_spec_path()) if a == "SPEC" else a for a in command] + ["--out", str(tmp_path / "out")]
    assert _imported_when_the_sweep_starts(argv) == []


@pytest.mark.parametrize("argv", [
    ["run"], ["run", "missing.yaml"], ["run", "a", "b"], ["run", "--bogus"], ["run", "--out"], ["--debug", "run"],
    ["demo", "extra"], ["demo", "--out"], ["--version", "demo"], ["--debg", "run"],
])
def test_the_light_app_answers_a_training_command_line_as_the_full_app(argv):
    assert trains(argv)
    full, light = runner.invoke(app, argv), runner.invoke(build_app(("run",), theory=False), argv)
    assert (light.exit_code, light.stdout, light.stderr) == (full.exit_code, full.stdout, full.stderr)


@pytest.mark.parametrize("argv, light", [
    (["demo"], True), (["--debug", "run", "x.yaml"], True),
    (["demo", "--help"], False), (["--help", "run"], False), (["analyze", "x"], False), ([], False),
])
def test_main_builds_the_light_app_only_for_training(monkeypatch, argv, light):
    import emergelab.cli as cli

    built = []
    monkeypatch.setattr(sys, "argv", ["emergelab", *argv])
    monkeypatch.setattr(cli, "build_app", lambda *a, **k: built.append(a) or (lambda: None))
    monkeypatch.setattr(cli, "app", lambda: None)
    cli.main()
    assert built == ([(("run",),)] if light else [])


def test_report_warm_up_imports_nothing_of_the_report_first():
    code = "import sys, emergelab.report.warm; print('emergelab.report.html' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    from emergelab.report import write_report
    from emergelab.report.html import write_report as from_html

    assert write_report is from_html


def test_mapping_an_error_does_not_import_the_analysis():
    """A failed `emergelab run` is answered without importing SciPy; a SelectionError still maps to exit 2."""
    code = textwrap.dedent("""
        import sys
        from emergelab.cli.errors import describe
        print(describe(PermissionError(13, "Permission denied", "out")), "emergelab.analysis" in sys.modules)
        from emergelab.analysis.select import SelectionError
        print(describe(SelectionError("no task matches 'x'")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["(2, 'error: out: permission denied') False",
                                       "(2, \"error: no task matches 'x'\")"]


def test_a_sweep_with_a_report_to_follow_returns_after_the_warm_up(monkeypatch, tmp_path):
    """The warm-up imports the report and the analysis code on a thread; the caller imports them
    next. Both at once can meet a partly initialised module (seen: ImportError for load_curves), so
    run_with_progress returns only once the warm-up is done."""
    import time
    from types import SimpleNamespace

    import emergelab.sweep
    from emergelab.cli.run import demo_spec_path, run_with_progress
    from emergelab.report import warm

    finished = []

    def slow_warm_up() -> None:
        time.sleep(0.5)
        finished.append(True)

    def fake_sweep(spec, out, force=False, on_start=None, on_step=None, on_group_done=None):
        on_start(3, 3)
        for _ in range(3):
            on_group_done(None)  # the last group leaves a worker idle: the warm-up starts
        return SimpleNamespace(trained=6, skipped=0, out=tmp_path)

    monkeypatch.setattr(warm, "_thread", None)
    monkeypatch.setattr(warm, "_draw_once", slow_warm_up)
    monkeypatch.setattr(emergelab.sweep, "run_experiment", fake_sweep)
    run_with_progress(demo_spec_path(), tmp_path, force=False, report_follows=True)
    assert finished == [True]
