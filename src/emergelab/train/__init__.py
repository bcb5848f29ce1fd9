"""Train: one trainer for single models and ensembles, schedules and checkpoints."""

from emergelab.train.schedule import log_spaced_steps, warmup_cosine
from emergelab.train.snapshot import SnapshotPolicy, TrainState, load_snapshot, snapshot_bytes
from emergelab.train.trainer import TrainConfig, TrainData, answer_loss, train

__all__ = ["SnapshotPolicy", "TrainConfig", "TrainData", "TrainState", "answer_loss", "load_snapshot",
           "log_spaced_steps", "snapshot_bytes", "train", "warmup_cosine"]
