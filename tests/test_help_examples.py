"""Every command's `--help` shows an example, and every example runs — so none can rot.

The examples are read from the commands themselves (help text and epilog) and run with the CLI
in a sandbox folder that holds what they name: `runs/demo` (a small run of the demo spec, same
task label), `examples/` (the repository's examples, with `demo.yaml` shrunk to that small spec)
and `examples/data/`. `emergelab demo` runs the same small spec.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from emergelab.cli import app

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = re.compile(r"`(emergelab [^`]+)`|^[ \t]*(?:Examples?:[ \t]*)?(emergelab [^\n`]+)$", re.M)


def _commands() -> dict[str, object]:
    """Leaf commands by their full name ("theory circuits min-size")."""
    out: dict[str, object] = {}

    def walk(cmd, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
        else:
            out[" ".join(path)] = cmd

    walk(typer.main.get_command(app), [])
    return out


def examples_of(cmd) -> list[str]:
    text = "\n".join(filter(None, [cmd.help, cmd.epilog]))
    found = [a or b for a, b in EXAMPLE.findall(text)]
    return list(dict.fromkeys(e.strip().rstrip(";.") for e in found))


COMMANDS = _commands()
PRODUCERS = ("run", "demo", "import", "export")  # examples that make folders other examples read
EXAMPLES = sorted(dict.fromkeys((name, ex) for name, cmd in COMMANDS.items() for ex in examples_of(cmd)),
                  key=lambda e: e[0] not in PRODUCERS)
# Examples on an experiment of their own (examples/NAME.yaml): the sandbox trains a shrunk copy
# first, which takes tens of seconds each, so they run with the slow tests.
SPEC_FOLDER = re.compile(r"\bruns/(facilitation_\w+|entropy_kl|skill_mix|seeds|shared_circuits|quanta)\b")
KEEP_SEEDS = {"seeds": 2}  # examples that compare seeds need more than one
KEEP_WEIGHTS = {"shared_circuits"}  # examples that re-run the saved models
SLOW = ("theory gallery",)  # every toy system: ~50 s
# Examples that name data no fixture provides yet; strict, so each turns into a failure the day it runs.
NO_FIXTURE = {
    "runs/overtrain": "an over-training sweep (laws)",
    "runs/chinchilla": "the Chinchilla points imported as a folder (laws)",
    "chinchilla.csv": "the Chinchilla table as a CSV (laws)",
    "runs/mine": "a folder with an error metric and a loss (laws)",
    "runs/code --metric pass@": "sample counts with correct samples at the small sizes (laws, imports)",
}


def _marks(name: str, example: str) -> list:
    marks = []
    if SPEC_FOLDER.search(example) or any(s in f"{name} {example}" for s in SLOW):
        marks.append(pytest.mark.slow)
    for needle, what in NO_FIXTURE.items():
        if needle in example:
            marks.append(pytest.mark.xfail(strict=True, reason=f"no fixture for {what}"))
    return marks


def test_every_command_has_an_example():
    missing = [name for name, cmd in COMMANDS.items() if not examples_of(cmd)]
    assert not missing, f"commands without a --help example: {missing}"


def small_demo_spec() -> dict:
    """The demo spec (same task and label) shrunk to train in seconds."""
    spec = yaml.safe_load((REPO / "src/emergelab/specs/demo.yaml").read_text())
    spec["tasks"][0].update(train_size=2000, test_size=100)
    spec["family"]["widths"] = [8, 12, 16, 24, 32]
    spec["training"].update(steps=30, warmup_steps=5, checkpoints="log:3", checkpoint_test_size=50)
    spec["seeds"] = [0]
    spec["executor"] = {"kind": "local", "workers": 1, "threads": 1}
    spec.pop("out", None)
    return spec


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("help_examples")
    shutil.copytree(REPO / "examples", root / "examples", symlinks=False)
    (root / "examples/demo.yaml").write_text(yaml.safe_dump(small_demo_spec(), sort_keys=False))
    result = CliRunner().invoke(app, ["run", str(root / "examples/demo.yaml"), "--out", str(root / "runs/demo"), "--no-report"])
    assert result.exit_code == 0, result.output
    return root


def _args(example: str) -> list[str]:
    words = shlex.split(example.split(" > ")[0])
    assert words[0] == "emergelab"
    return words[1:]


def shrunk(spec_path: Path) -> dict:
    """An example spec cut to seconds: its first three sizes, 20 steps, small splits, one seed."""
    spec = yaml.safe_load(spec_path.read_text())
    for key in ("widths", "budgets"):
        if spec["family"].get(key):
            spec["family"][key] = spec["family"][key][:3]
    for task in spec["tasks"]:
        task["train_size"], task["test_size"] = min(task.get("train_size", 2000), 2000), min(task.get("test_size", 100), 100)
    spec["training"].update(steps=20, warmup_steps=2, checkpoints="final")
    spec["seeds"] = spec["seeds"][:KEEP_SEEDS.get(spec_path.stem, 1)]
    spec["executor"] = {"kind": "local", "workers": 1, "threads": 1, "save_weights": spec_path.stem in KEEP_WEIGHTS}
    spec.pop("out", None)
    return spec


def _experiment_for(sandbox: Path, example: str) -> None:
    """Train the shrunk example spec behind `runs/NAME` once, if the example names one."""
    m = SPEC_FOLDER.search(example)
    if m is None or (sandbox / "runs" / m.group(1)).exists():
        return
    spec = sandbox / f"{m.group(1)}.small.yaml"
    spec.write_text(yaml.safe_dump(shrunk(sandbox / "examples" / f"{m.group(1)}.yaml"), sort_keys=False))
    result = CliRunner().invoke(app, ["run", str(spec), "--out", str(sandbox / "runs" / m.group(1)), "--no-report"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name, example", [pytest.param(n, e, marks=_marks(n, e), id=e) for n, e in EXAMPLES])
def test_help_example_runs(sandbox, monkeypatch, name, example):
    args = _args(example)
    if name in ("score-hf",) or "--hf" in args:
        pytest.importorskip("transformers")
    _experiment_for(sandbox, example)
    monkeypatch.chdir(sandbox)
    monkeypatch.setattr("emergelab.cli.run.demo_spec_path", lambda: sandbox / "examples/demo.yaml")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, f"{example}\n{result.output}"


def test_export_parquet_needs_no_value(sandbox):
    result = CliRunner().invoke(app, ["export", str(sandbox / "runs/demo"), "--parquet"])
    assert result.exit_code == 0, result.output
    assert (sandbox / "runs/demo/parquet/runs.parquet").is_file()
    both = CliRunner().invoke(app, ["export", str(sandbox / "runs/demo"), "--parquet", "--hf", "x"])
    assert both.exit_code == 2 and not (sandbox / "x").exists()


def test_metrics_on_a_folder_without_outputs_says_why(tmp_path):
    folder = tmp_path / "opt"
    assert CliRunner().invoke(app, ["import", str(REPO / "examples/data/long_table.csv"), "--out", str(folder)]).exit_code == 0
    result = CliRunner().invoke(app, ["metrics", str(folder)])
    assert result.exit_code == 2
    assert "no per-example outputs" in result.output and "imported aggregate results" in result.output
