from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import tiny_spec_dict
from emergelab.cli import app
from emergelab.spec import SpecError, load_spec, parse_spec


def test_demo_spec_is_valid():
    spec = load_spec(Path(__file__).parents[1] / "examples" / "demo.yaml")
    shapes = spec.family.shapes()
    assert len(shapes) >= 6 and len(spec.seeds) >= 2


@pytest.mark.parametrize("change,field", [
    ({"training": {"steps": 0}}, "training.steps"),
    ({"tasks": [{"name": "addtion"}]}, "tasks.0.name"),
    ({"tasks": [{"name": "addition", "digits": "three"}]}, "digits"),
    ({"tasks": [{"name": "addition", "format": "backwards"}]}, "format"),
    ({"tasks": [{"name": "increment", "bits": 4, "train_size": 10, "test_size": 10}]}, "exceeds"),
    # 2^10 inputs per subtask; the most frequent of 4 subtasks (Zipf 0.4) takes ~53 % of 2,000
    ({"tasks": [{"name": "multitask_sparse_parity", "subtasks": 4, "bits": 10, "train_size": 2000,
                 "test_size": 40}]}, "subtask 0 needs"),
    # 240 inputs in all, but only 16 with k = 4 skills (one 4-tuple × 2^4 inputs): 200 test
    # examples spread over k = 1…4 ask 50 of them
    ({"tasks": [{"name": "skill_mix", "skills": 4, "symbols": 2, "k_train": 2, "train_size": 20,
                 "test_size": 200}]}, "distinct examples"),
    ({"family": {"sizes": [{"width": 10, "depth": 1, "heads": 3}]}}, "divisible"),
    ({"metrics": ["exact_match", "accuracy_at_7"]}, "metrics"),
    ({"seeds": []}, "seeds"),
    ({"training": {"checkpoints": "sometimes"}}, "training.checkpoints"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_spec_names_the_field(change, field):
    with pytest.raises(SpecError) as err:
        parse_spec(tiny_spec_dict(**change))
    msg = str(err.value)
    assert msg.startswith("spec error:") and field in msg and "\n" not in msg


@pytest.mark.parametrize("text", ["name: [unclosed", "- just\n- a list\n"])
def test_bad_yaml_is_one_line(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SpecError):
        load_spec(path)


def test_cli_bad_spec_exits_2_and_writes_nothing(tmp_path):
    spec = tiny_spec_dict(training={"steps": -5})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "training.steps" in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("change,field", [
    ({"family": {"widths": [0, 12], "depths": [1]}}, "family.widths.0"),
    ({"family": {"budgets": [-5], "depths": [1]}}, "family.budgets.0"),
    ({"family": {"widths": [8], "depths": [0]}}, "family.depths.0"),
    ({"tasks": [{"name": "addition", "digits": 19}]}, "64-bit"),
    ({"tasks": [{"name": "multiplication", "digits": 12}]}, "64-bit"),
    ({"seeds": [0, 2**64]}, "seeds.1"),
    ({"data_seed": -3}, "data_seed"),
    ({"name": "../../escape"}, "name"),
    ({"name": "a/b"}, "name"),
    ({"name": ".hidden"}, "name"),
    ({"executor": {"kind": "slurm"}}, "executor.kind"),
    ({"training": {"batch_size": 10**9}}, "training.batch_size"),
])
def test_checks_made_before_training(change, field):
    """What used to fail only once training started (or wrote outside runs/) is refused at load."""
    with pytest.raises(SpecError) as err:
        parse_spec(tiny_spec_dict(**change))
    assert field in str(err.value) and "\n" not in str(err.value)


def test_largest_safe_task_still_loads():
    """The 64-bit bound is not stricter than it must be: 9-digit addition (10^18 inputs) loads."""
    spec = parse_spec(tiny_spec_dict(tasks=[{"name": "addition", "digits": 9, "train_size": 100, "test_size": 10}]))
    assert spec.tasks[0].build().space_size == 10**18


def test_workers_multiply_the_memory_needed(monkeypatch):
    """Workers train groups at once, so a grid that fits one at a time can be refused with two."""
    import emergelab.spec as spec_module
    from emergelab.train.memory import training_bytes

    one = max(training_bytes(s) for s in spec_module._run_sizes(parse_spec(tiny_spec_dict())))
    monkeypatch.setattr(spec_module, "memory_limit_bytes", lambda: int(1.5 * one))
    parse_spec(tiny_spec_dict(executor={"workers": 1, "save_weights": False}))
    with pytest.raises(SpecError, match="executor.workers"):
        parse_spec(tiny_spec_dict(executor={"workers": 2, "save_weights": False}))


MEASURE_PEAK = r'''
import json, sys, threading, time
import torch
torch.set_num_threads(1)
from emergelab.spec import ModelShape, TaskSpec, TrainingSpec
from emergelab.sweep.plan import RunGroup
from emergelab.sweep.runner import run_group
from emergelab.train.memory import RunSize, training_bytes
width, depth, batch, members, n_train = json.loads(sys.argv[1])


def status_kb(field):
    # VmHWM/VmRSS describe this process's own address space. ru_maxrss read 0 growth on the
    # CI machine (Linux keeps the larger of the pre-exec peak there), so it is not used.
    with open("/proc/self/status") as f:
        return next((int(line.split()[1]) for line in f if line.startswith(field + ":")), 0) * 1024


before = status_kb("VmRSS")
polled, done = [before], threading.Event()


def poll():  # a second witness where the kernel keeps no high-water mark
    while not done.is_set():
        polled.append(status_kb("VmRSS"))
        time.sleep(0.002)


watcher = threading.Thread(target=poll, daemon=True)
watcher.start()
task_spec = TaskSpec(name="addition", digits=3, train_size=n_train, test_size=200)
task, shape = task_spec.build(), ModelShape(width=width, depth=depth, heads=width // 8)
run_group(RunGroup(task_spec, shape, TrainingSpec(steps=2, batch_size=batch, warmup_steps=0),
                   list(range(members)), [f"r{i}" for i in range(members)], 0))
done.set()
watcher.join()
peak = max(status_kb("VmHWM"), max(polled)) - before
size = RunSize(task.vocab_size, task.seq_len - 1, task.answer_len, width, depth, shape.heads, 4, False, members,
               batch, n_train + 200, task.space_size)
print(json.dumps([peak, training_bytes(size)]))
'''


@pytest.mark.slow
@pytest.mark.parametrize("width,depth,batch,members,n_train", [(32, 2, 4096, 2, 20000), (128, 1, 2048, 1, 20000)])
def test_memory_estimate_is_the_order_of_the_measured_peak(width, depth, batch, members, n_train):
    """The refusal threshold is only as good as the estimate: compare it with the peak resident
    memory of a real training step (a fresh process, so the peak is this run's)."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", MEASURE_PEAK, json.dumps([width, depth, batch, members, n_train])],
                         capture_output=True, text=True, check=True, timeout=300)
    peak, estimate = json.loads(out.stdout.strip().splitlines()[-1])
    if peak == 0:
        pytest.skip("this kernel reports no resident memory in /proc/self/status")
    assert peak > 100 * 2**20  # the step really allocated something measurable
    assert 0.6 < estimate / peak < 2.0, (peak / 2**20, estimate / 2**20)
