"""The Ray executor against a local Ray cluster: the same numbers as the local executor, and a
worker killed mid-group is retried (resuming from its snapshot) with every run stored once.

Ray is an optional extra for users; `make test` installs it, so in CI a missing Ray is a failure,
not a skip."""

import os
import signal
import threading
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import tiny_spec_dict
from emergelab.spec import parse_spec
from emergelab.sweep import run_experiment
from sweep_processes import stored_tables

if os.environ.get("CI") == "true":
    import ray
else:
    ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _spec(kind: str, **executor):
    spec = tiny_spec_dict(executor={"kind": kind, "save_weights": True, **executor})
    spec["training"].update(steps=300, checkpoints=[0, 100, 300])
    return parse_spec(spec)


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("local")
    run_experiment(_spec("local"), folder)
    return stored_tables(folder), folder


def _same_weights(folder: Path, reference: Path) -> None:
    """Weights come back from the Ray workers to the driver's folder, tensor for tensor as local."""
    files = sorted((reference / "weights").rglob("*.safetensors"))
    assert len(files) == 4
    for path in files:
        mine = load_file(folder / path.relative_to(reference))
        assert all(torch.equal(t, mine[k]) for k, t in load_file(path).items())


def test_ray_executor_stores_the_same_numbers_as_the_local_one(cluster, local_reference, tmp_path):
    tables, reference = local_reference
    summary = run_experiment(_spec("ray"), tmp_path)
    assert summary.trained == 4
    assert stored_tables(tmp_path) == tables
    _same_weights(tmp_path, reference)


def _ray_task_pids(name: str) -> list[int]:
    """Ray workers executing `name` (Ray sets their process title to `ray::name`)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmd.startswith(f"ray::{name}".encode()):
                pids.append(int(entry.name))
    return pids


def test_killed_worker_is_retried_from_its_snapshot_and_each_run_stored_once(cluster, local_reference, tmp_path):
    storage = tmp_path / "shared"  # given as an fsspec URL, as a multi-node cluster would need
    spec = _spec("ray", snapshot_every_steps=10, storage=f"file://{storage}")
    killed: list[int] = []

    def kill_a_worker_after_its_first_snapshot() -> None:
        for _ in range(3000):
            if storage.exists() and any(storage.glob("*.safetensors")) and (pids := _ray_task_pids("run_group")):
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
                return
            threading.Event().wait(0.05)

    killer = threading.Thread(target=kill_a_worker_after_its_first_snapshot)
    killer.start()
    summary = run_experiment(spec, tmp_path / "exp")
    killer.join()
    assert killed, "no Ray worker was caught mid-group"
    assert summary.trained == 4
    tables = stored_tables(tmp_path / "exp")
    assert len(tables["runs"]) == 4 and len({r[0] for r in tables["runs"]}) == 4
    assert tables == local_reference[0]
    _same_weights(tmp_path / "exp", local_reference[1])
    assert not list(storage.glob("*.safetensors"))  # snapshots dropped once their groups were stored
