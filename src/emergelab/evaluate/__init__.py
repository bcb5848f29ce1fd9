"""Evaluate: scoring backends that turn a model and a test set into stored per-token outputs."""

from emergelab.evaluate.native import score_native
from emergelab.evaluate.subset import checkpoint_examples

__all__ = ["checkpoint_examples", "score_native"]
