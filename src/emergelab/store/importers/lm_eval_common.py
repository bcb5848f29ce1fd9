"""Pieces shared by the lm-evaluation-harness importers: who the model was, and numbers in results."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emergelab.store.importers.base import ImportFileError

_STEP = re.compile(r"(?:global_)?step[_-]?(\d+)", re.IGNORECASE)


@dataclass
class ModelInfo:
    """The model an lm-eval run evaluated: short name (tables), full id, size, training step."""

    name: str
    full_name: str
    params: float | None = None
    step: int | None = None


def parse_model_args(args: str | dict | None) -> dict[str, str]:
    """`pretrained=facebook/opt-1.3b,use_accelerate=True` -> {"pretrained": ..., ...}."""
    if isinstance(args, dict):
        return {str(k): str(v) for k, v in args.items()}
    out: dict[str, str] = {}
    for part in (args or "").split(","):
        key, sep, value = part.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def model_info(path: Path, config: dict, model_name: str | None = None,
               num_parameters: Any = None) -> ModelInfo:
    """Identify the model from `model_name` (v0.4) or `config.model_args` (`pretrained=...`).

    The short name is the last path component (`facebook/opt-1.3b` -> `opt-1.3b`); a Pythia-style
    `revision=step143000` becomes the training step, so checkpoints of one model form a curve.
    """
    args = parse_model_args(config.get("model_args"))
    full = model_name or args.get("pretrained") or args.get("model") or args.get("path")
    if not full:
        raise ImportFileError(path, "cannot tell the model: no model_name and no pretrained= in config.model_args")
    full = str(full).rstrip("/")
    step = None
    revision = args.get("revision") or config.get("model_revision")
    if revision:
        m = _STEP.fullmatch(str(revision))
        step = int(m.group(1)) if m else None
    params = None
    if isinstance(num_parameters, int | float) and not isinstance(num_parameters, bool) and num_parameters > 0:
        params = float(num_parameters)
    return ModelInfo(name=full.rsplit("/", 1)[-1], full_name=full, params=params, step=step)


def number(value: Any) -> float | None:
    """A finite float, or None for lm-eval's placeholders ("N/A", null, strings, lists)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def score(path: Path, task: str, metric: str, raw: Any) -> float:
    """A metric's value, or a one-line error naming file, task and metric: a score that is not a
    finite number is a broken file, not something to skip."""
    value = number(raw)
    if value is None:
        raise ImportFileError(path, f"task {task}: metric {metric}: score {raw!r} is not a finite number")
    return value


def stderr_of(path: Path, task: str, metric: str, raw: Any, warnings: list[str]) -> float | None:
    """A standard error; lm-eval writes "N/A" when it has none (kept as unknown). NaN or a negative
    value is dropped with a warning."""
    if raw is None or isinstance(raw, str):
        return None
    value = number(raw)
    if value is None or value < 0:
        warnings.append(f"{path.name}: {task} / {metric}: stderr {raw!r} dropped (not a finite, non-negative number)")
        return None
    return value


def is_stderr_key(key: str) -> bool:
    """`acc_stderr` (v0.3) and `acc_stderr,none` (v0.4) are errors of a metric, not metrics."""
    return key.partition(",")[0].endswith("_stderr")


NOT_METRICS = frozenset({"alias", "name", "sample_len", "samples"})


def shots_of(value: Any) -> int | None:
    """lm-eval's `num_fewshot` / `n-shot` entry as a count, None when absent or not a count."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value != int(value):
        return None
    return int(value)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_results(path: Path) -> dict:
    """An lm-eval results JSON, or a one-line error when the file is something else (e.g. a list)."""
    data = read_json(path)
    if not looks_like_results(data):
        raise ImportFileError(path, 'not an lm-evaluation-harness results file (expected a JSON object whose '
                                    '"results" maps each task to its metrics)')
    if not data["results"]:
        raise ImportFileError(path, '"results" is empty: no task to import')
    return data


def looks_like_results(data: Any) -> bool:
    """Both harness versions write {"results": {task: {metric: value}}, ...}."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("results"), dict)
        and all(isinstance(v, dict) for v in data["results"].values())
    )


def is_v04(data: dict) -> bool:
    """v0.4 marks itself with `,filter` metric keys and/or its extra top-level sections."""
    if any(k in data for k in ("configs", "n-samples", "model_name", "n-shot", "group_subtasks")):
        return True
    return any("," in k for r in data["results"].values() for k in r)
