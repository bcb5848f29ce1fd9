"""Mid-run resume: a run stopped at step k and resumed from its last snapshot ends bit for bit where
the uninterrupted run ends — weights, optimizer, and every stored output (on CPU)."""

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import emergelab.sweep.runner as runner
from conftest import tiny_spec_dict
from emergelab.models import EnsembleGPT, ModelConfig
from emergelab.spec import parse_spec
from emergelab.sweep import plan, run_experiment
from emergelab.sweep.storage import SharedStorage, snapshot_name
from emergelab.tasks import TASKS
from emergelab.train import SnapshotPolicy, TrainConfig, TrainData, load_snapshot, snapshot_bytes, train
from sweep_processes import stored_tables


class Stop(Exception):
    pass


def _setup():
    task = TASKS["addition"](digits=2, fmt="reversed")
    split = task.make_split(600, 50, 0)
    seqs = torch.as_tensor(np.concatenate([split.train_prompt, split.train_answer], axis=1))
    cfg = ModelConfig(vocab_size=task.vocab_size, seq_len=task.seq_len - 1, width=8, depth=1, heads=2)
    torch.manual_seed(0)
    return EnsembleGPT(cfg, [0, 1]), TrainData(seqs, task.answer_len)


TCFG = TrainConfig(steps=40, batch_size=16, lr=3e-3, warmup_steps=5)


def test_trainer_resumed_from_snapshot_equals_uninterrupted():
    model, data = _setup()
    losses_plain = {}
    train(model, data, TCFG, [10, 40], lambda s, m, losses: losses_plain.setdefault(s, losses.copy()))
    reference = {k: v.clone() for k, v in model.state_dict().items()}

    # interrupted at step 23; snapshots every 7 steps, so the last one is after step 21
    model, data = _setup()
    blobs = []

    def stop_at_23(step):
        if step == 23:
            raise Stop

    with pytest.raises(Stop):
        train(model, data, TCFG, [10, 40], None, stop_at_23, snapshots=SnapshotPolicy(
            lambda state: blobs.append(snapshot_bytes(state)), every_steps=7))
    state, _, _ = load_snapshot(blobs[-1])
    assert [load_snapshot(b)[0].step for b in blobs] == [7, 14, 21]

    fresh, data = _setup()  # a new process would build the model from scratch, then load the snapshot
    losses_resumed = {}
    train(fresh, data, TCFG, [10, 40], lambda s, m, losses: losses_resumed.setdefault(s, losses.copy()), resume=state)
    for name, tensor in fresh.state_dict().items():
        assert torch.equal(tensor, reference[name]), name
    assert set(losses_resumed) == {40}  # step 10 was before the snapshot: not recomputed
    np.testing.assert_array_equal(losses_resumed[40], losses_plain[40])


def test_snapshot_without_resume_changes_nothing():
    """Taking snapshots must not perturb training (no RNG draws, no extra state)."""
    model, data = _setup()
    train(model, data, TCFG, [40])
    plain = {k: v.clone() for k, v in model.state_dict().items()}
    model, data = _setup()
    train(model, data, TCFG, [40], snapshots=SnapshotPolicy(lambda state: snapshot_bytes(state), every_steps=3))
    assert all(torch.equal(v, plain[k]) for k, v in model.state_dict().items())


def test_sweep_killed_mid_run_resumes_from_snapshot_bit_for_bit(tmp_path, monkeypatch):
    spec_dict = tiny_spec_dict(family={"widths": [8], "depths": [1], "head_dim": 4},
                               executor={"save_weights": True, "snapshot_every_steps": 10})
    spec_dict["training"]["checkpoints"] = [0, 20, 60]
    spec = parse_spec(spec_dict)
    run_experiment(spec, tmp_path / "plain")

    def stop_at_37(step):
        if step == 37:
            raise Stop

    with pytest.raises(Stop):
        run_experiment(spec, tmp_path / "cut", on_step=stop_at_37)
    group = plan(spec)[0]
    storage = SharedStorage(str(tmp_path / "cut" / "snapshots"))
    state, _, meta = load_snapshot(storage.read(snapshot_name(group.run_ids)))
    assert state.step == 30 and meta["run_ids"] == group.run_ids

    resumed_from = []
    real_train = runner.train

    def spy(*args, **kwargs):
        resume = args[6] if len(args) > 6 else kwargs.get("resume")
        resumed_from.append(None if resume is None else resume.step)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(runner, "train", spy)
    summary = run_experiment(spec, tmp_path / "cut")
    assert summary.trained == 2 and resumed_from == [30]
    assert stored_tables(tmp_path / "cut") == stored_tables(tmp_path / "plain")
    assert not (tmp_path / "cut" / "snapshots").exists()  # dropped once the group was stored
    files = sorted((tmp_path / "plain" / "weights").rglob("*.safetensors"))
    assert len(files) == 2
    for plain in files:
        cut = load_file(tmp_path / "cut" / plain.relative_to(tmp_path / "plain"))
        assert all(torch.equal(t, cut[k]) for k, t in load_file(plain).items())


def test_unusable_snapshot_warns_and_trains_from_scratch(tmp_path):
    spec_dict = tiny_spec_dict(family={"widths": [8], "depths": [1], "head_dim": 4}, seeds=[0],
                               executor={"save_weights": False, "snapshot_every_steps": 10})
    spec = parse_spec(spec_dict)
    group = plan(spec)[0]
    SharedStorage(str(tmp_path / "snapshots")).write(snapshot_name(group.run_ids), b"\x08" + b"\x00" * 7 + b"not json")
    with pytest.warns(UserWarning, match="unusable"):
        assert run_experiment(spec, tmp_path).trained == 1
