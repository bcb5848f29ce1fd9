"""Sweep: plan a family grid into ensembles and execute it locally or on a Ray cluster."""

from emergelab.sweep.executors import EXECUTORS, register_executor
from emergelab.sweep.experiment import RunSummary, SweepInterrupted, run_experiment
from emergelab.sweep.plan import RunGroup, plan, run_id
from emergelab.sweep.runner import run_group

__all__ = ["EXECUTORS", "RunGroup", "RunSummary", "SweepInterrupted", "plan", "register_executor", "run_experiment", "run_group", "run_id"]
