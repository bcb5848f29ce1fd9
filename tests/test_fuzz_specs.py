"""Fuzzing `emergelab run` with generated specs (issue 12 §6): every one of at least 1,000 specs —
valid ones, ones with a bad value anywhere, junk YAML, truncated or binary files — ends in
success or in exit 2 with one line on stderr and no experiment folder; never a traceback.

Training is kept out (an executor that trains nothing), so what runs is everything a spec goes
through before the first step: YAML, validation, planning, opening the store, recording the spec.
Tasks and their parameters are read from the task registry, so a new task is fuzzed too.
The hypothesis profile is fixed (derandomized, no example database): every CI run sees the same specs.
"""

from __future__ import annotations

import tempfile
import typing
from collections import Counter
from pathlib import Path

import pytest
import typer.main
import typer.testing
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from emergelab.cli import app
from emergelab.evaluate.probes import PROBES
from emergelab.metrics import METRICS
from emergelab.store import DB_NAME
from emergelab.sweep import experiment
from emergelab.sweep.knobs import KNOBS
from emergelab.tasks import TASKS
from fuzz_mutations import damage_bytes, junk, mutate_tree, rarely

runner = CliRunner()

# ---------------------------------------------------------------------------------------------
# A spec is drawn in two steps: a plausible spec (small, mostly valid values from every part of the
# schema and every registry), then 0-3 mutations at random places (a bad value of any type, a key
# dropped or added, a value wrapped in a list) — what a typo, a bad tool or a bad merge writes.
PARAM_VALUES = {str: st.sampled_from(["plain", "reversed", "scratchpad"]), int: st.integers(1, 4),
                float: st.floats(0, 1), bool: st.booleans()}


def task_params(name: str) -> st.SearchStrategy[dict]:
    """A task's own parameters, from its constructor's type hints (so new tasks are covered)."""
    hints = {k: v for k, v in typing.get_type_hints(TASKS[name].__init__).items() if k != "return"}
    values = {("format" if k == "fmt" else k): PARAM_VALUES.get(hint, junk) for k, hint in hints.items()}
    return st.fixed_dictionaries({}, optional=values)


def task_spec(name: str) -> st.SearchStrategy[dict]:
    base = st.fixed_dictionaries({"name": st.just(name), "train_size": st.integers(1, 300),
                                  "test_size": st.integers(1, 60)}, optional={"label": st.text("abc", max_size=4)})
    return st.builds(lambda a, b: {**a, **b}, base, task_params(name))


def names_from(registry) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(list(registry)), max_size=2, unique=True)


family = st.one_of(
    st.fixed_dictionaries({"widths": st.lists(st.sampled_from([4, 8, 12, 16]), min_size=1, max_size=3),
                           "depths": st.lists(st.integers(1, 2), min_size=1, max_size=2)},
                          optional={"head_dim": st.sampled_from([2, 4, 8]), "attn_only": st.booleans()}),
    st.fixed_dictionaries({"budgets": st.lists(st.integers(100, 5000), min_size=1, max_size=2),
                           "depths": st.lists(st.integers(1, 2), min_size=1, max_size=2)},
                          optional={"head_dim": st.sampled_from([2, 4])}),
    st.fixed_dictionaries({"sizes": st.lists(st.fixed_dictionaries(
        {"width": st.sampled_from([4, 8, 12]), "depth": st.integers(1, 2)},
        optional={"heads": st.sampled_from([1, 2, 4]), "mlp_ratio": st.integers(1, 4), "attn_only": st.booleans()}),
        min_size=1, max_size=2)}),
)
training = st.fixed_dictionaries({}, optional={
    "steps": st.integers(1, 50), "batch_size": st.integers(1, 64), "lr": st.floats(1e-4, 1e-1),
    "warmup_steps": st.integers(0, 10), "min_lr_ratio": st.floats(0, 1), "beta2": st.floats(0.5, 0.999),
    "grad_clip": st.none() | st.floats(0.1, 5), "full_batch": st.booleans(),
    "loss_dtype": st.sampled_from(["float32", "float64"]),
    "checkpoints": st.sampled_from(["final", "log:1", "log:3"]) | st.lists(st.integers(0, 60), max_size=3),
})
executor = st.fixed_dictionaries({"save_weights": st.just(False)}, optional={
    "kind": st.sampled_from(["local", "ray"]), "workers": st.integers(1, 2), "threads": st.integers(1, 2),
    "device": st.sampled_from(["auto", "cpu"]),
})
def _tidy(spec: dict) -> dict:
    """Distinct labels, and a mix only with two tasks: otherwise most plausible specs were refused
    for these two reasons alone."""
    for i, task in enumerate(spec["tasks"]):
        task["label"] = f"{task.get('label', '')}{i}"
    if len(spec["tasks"]) < 2:
        spec.pop("mix", None)
    return spec


plausible_spec = st.fixed_dictionaries(
    {"name": st.sampled_from(["fuzz", "a.b-c_1", "Run2"]),
     "tasks": st.lists(st.sampled_from(sorted(TASKS)).flatmap(task_spec), min_size=1, max_size=2),
     "family": family},
    optional={"training": training, "seeds": st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True),
              "data_seed": st.integers(0, 5), "metrics": names_from(METRICS), "probes": names_from(PROBES),
              "knobs": names_from(KNOBS), "executor": executor, "description": st.text(max_size=10),
              "mix": st.fixed_dictionaries({"shares": st.lists(st.floats(0.05, 0.95), min_size=1, max_size=2,
                                                              unique=True)})},
).map(_tidy)
bad_names = st.sampled_from(["../../escape", "/abs", "", ".", "..", "x" * 120, "a/b", "~me", "-x"])


def spec_bytes(data: st.DataObject, spec: dict) -> bytes:
    """The spec damaged as a tree (sometimes with an unsafe name), written as YAML, and sometimes
    damaged as bytes or replaced by a YAML document of the wrong shape."""
    spec = mutate_tree(data, spec, untouched=4)
    if rarely(data, 10) and isinstance(spec, dict):
        spec["name"] = data.draw(bad_names)
    if rarely(data, 20):
        spec = data.draw(junk)
    return damage_bytes(data, yaml.safe_dump(spec, sort_keys=False, allow_unicode=True).encode(), rate=12)


def _train_nothing(groups, *args, **kwargs):
    """An executor that trains nothing: the fuzz is about everything before the first step."""
    yield from ()


def fuzz_settings(n: int) -> settings:
    return settings(max_examples=n, derandomize=True, database=None, deadline=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("n_specs", [pytest.param(1000, marks=pytest.mark.slow), 40])
def test_fuzzed_specs_end_in_success_or_one_line(monkeypatch, n_specs):
    monkeypatch.setattr(experiment, "EXECUTORS", {kind: _train_nothing for kind in ("local", "ray")})
    command = typer.main.get_command(app)  # built once: rebuilding it per call was half the time
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: command)
    outcomes: Counter[str] = Counter()

    @fuzz_settings(n_specs)
    @given(spec=plausible_spec, data=st.data())
    def check(spec: dict, data: st.DataObject) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path, out = Path(tmp) / "spec.yaml", Path(tmp) / "out"
            path.write_bytes(spec_bytes(data, spec))
            result = runner.invoke(app, ["run", str(path), "--out", str(out), "--no-report"])
            assert result.exit_code in (0, 2), (result.exit_code, result.output, result.exception)
            if result.exit_code == 2:
                lines = result.stderr.strip().splitlines()
                assert len(lines) == 1 and lines[0].startswith(("spec error:", "error:")), result.stderr
                assert not out.exists(), sorted(out.rglob("*"))
                outcomes["refused"] += 1
            else:
                assert (out / DB_NAME).is_file()
                outcomes["valid"] += 1

    check()
    total = sum(outcomes.values())
    assert total >= n_specs, outcomes
    # both outcomes must be common, or the generator tests only one side of validation
    assert min(outcomes.values()) >= 0.05 * total, outcomes
    print(f"fuzzed specs: {dict(outcomes)}")

