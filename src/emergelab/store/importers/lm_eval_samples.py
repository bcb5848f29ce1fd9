"""lm-evaluation-harness v0.4 `--log_samples` files: one JSON object per line, one line per example.

Per-example scores are what lets the analysis bootstrap over examples instead of trusting one
stderr, so this importer keeps every scalar metric of every `doc_id`. The sample file itself does
not name the model or the task; lm-eval writes it as `<output>/<org>__<model>/samples_<task>_<ts>.jsonl`
beside `results_<ts>.json`, so the task comes from the file name and the model from that results
file (same timestamp first), falling back to the `<org>__<model>` folder name. Anything else is an
error rather than a guess.

One rename: a scalar per-sample `perplexity` (lambada-style tasks) is not a perplexity but the
example's log-likelihood, which lm-eval turns into perplexity only when aggregating; it is stored as
`loglikelihood`. Tuple-valued per-sample fields (`word_perplexity` = [loglikelihood, words]) are
partial sums, not scores, and are skipped with a warning.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from emergelab.store.importers.base import Column, ExampleDraft, ImportFileError, Parsed, register
from emergelab.store.importers.lm_eval_common import (
    ModelInfo,
    is_v04,
    looks_like_results,
    model_info,
    read_json,
)
from emergelab.store.importers.lm_eval_v04 import metric_name, task_shots

_NAME = re.compile(r"samples_(?P<task>.+?)_(?P<ts>\d{4}-\d{2}-\d{2}T[0-9.:\-]+)\.jsonl?")
_NOT_METRICS = frozenset({
    "doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics",
    "doc_hash", "prompt_hash", "target_hash", "task_name",
})
_RENAME = {"perplexity": "loglikelihood"}


def read_records(path: Path) -> list[dict]:
    """JSON lines (v0.4.2+) or one JSON array (v0.4.0 wrote those under a .jsonl name)."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        records = json.loads(text)
    else:
        records = []
        for i, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ImportFileError(path, f"line {i}: not JSON ({exc.msg})") from None
    if not records or not all(isinstance(r, dict) for r in records):
        raise ImportFileError(path, "expected one JSON object per line")
    return records


def _first_record(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        head = f.read(1)
        if head == "[":
            return None  # arrays are only read in full by load
        line = head + f.readline()
    return json.loads(line)


def task_and_stamp(path: Path) -> tuple[str, str]:
    m = _NAME.fullmatch(path.name)
    if not m:
        raise ImportFileError(path, "cannot tell the task: expected a name like samples_<task>_<timestamp>.jsonl")
    return m.group("task"), m.group("ts")


def find_model(path: Path, task: str, stamp: str) -> tuple[ModelInfo, int | None]:
    """The model of a samples file and the task's shots, from the results JSON lm-eval wrote beside it
    (shots unknown when only the folder name tells the model)."""
    candidates = [path.parent / f"results_{stamp}.json"]
    candidates += sorted(path.parent.glob("results_*.json"), reverse=True)
    for results in candidates:
        if not results.is_file():
            continue
        try:
            data = read_json(results)
        except (OSError, ValueError):
            continue
        if looks_like_results(data) and is_v04(data) and (results.name.endswith(f"{stamp}.json") or task in data["results"]):
            config = data.get("config") or {}
            info = model_info(results, config, data.get("model_name"), config.get("model_num_parameters"))
            return info, task_shots(data, task)
    folder = path.parent.name
    if "__" in folder:
        full = folder.replace("__", "/")
        return ModelInfo(name=full.rsplit("/", 1)[-1], full_name=full), None
    raise ImportFileError(path, "cannot tell the model: no results_*.json beside it and the folder is not <org>__<model>")


FIELDS = (
    Column("doc_id", "the example's integer id", required=True),
    Column("<metric>", "each scalar per-example metric (acc, exact_match, perplexity -> loglikelihood, ...)",
           required=True),
    Column("filter", "lm-eval filter name; other than `none` it becomes part of the metric name"),
    Column("file name", "`samples_TASK_TIMESTAMP.jsonl` gives the task; `results_TIMESTAMP.json` beside it "
           "(or the `ORG__MODEL` folder) gives the model, step and shots", required=True),
)


@register("lm-eval-samples", "lm-evaluation-harness v0.4 --log_samples JSONL (doc_id + per-example metrics)",
          columns=FIELDS, example="lm_eval_v04/samples_lambada_openai_2024-06-12T10-15-30.123456.jsonl")
class LmEvalSamples:
    def sniff(self, path: Path) -> bool:
        if path.suffix.lower() not in (".jsonl", ".json"):
            return False
        if path.suffix.lower() == ".json" and not path.name.startswith("samples_"):
            return False
        first = _first_record(path)
        if first is None:
            return _NAME.fullmatch(path.name) is not None
        return isinstance(first, dict) and "doc_id" in first and "problem_id" not in first

    def load(self, path: Path) -> Parsed:
        task, stamp = task_and_stamp(path)
        records = read_records(path)
        info, shots = find_model(path, task, stamp)
        parsed = Parsed()
        scores: dict[str, dict[int, float]] = {}
        skipped: set[str] = set()
        for i, rec in enumerate(records, 1):
            doc_id = rec.get("doc_id")
            if isinstance(doc_id, bool) or not isinstance(doc_id, int):
                raise ImportFileError(path, f"record {i}: doc_id must be an integer, got {doc_id!r}")
            filt = str(rec.get("filter") or "none")
            names = rec["metrics"] if isinstance(rec.get("metrics"), list) else [k for k in rec if k not in _NOT_METRICS]
            for name in names:
                raw = rec.get(name)
                if isinstance(raw, bool):
                    raw = float(raw)
                if not isinstance(raw, int | float):
                    skipped.add(name)
                    continue
                if not math.isfinite(raw):
                    raise ImportFileError(path, f"task {task}: metric {name}: record {i} (doc_id {doc_id}) is {raw}")
                metric = metric_name(_RENAME.get(name, name), filt)
                per_example = scores.setdefault(metric, {})
                if doc_id in per_example:
                    raise ImportFileError(path, f"record {i}: doc_id {doc_id} appears twice for {metric}")
                per_example[doc_id] = float(raw)
        if not scores:
            raise ImportFileError(path, "no numeric per-example metrics found")
        if skipped:
            parsed.warnings.append(f"{path.name}: skipped non-scalar per-example fields {sorted(skipped)}")
        parsed.examples.append(ExampleDraft(
            model=info.name, task=task, params=info.params, step=info.step, scores=scores,
            full_name=info.full_name, shots=shots,
        ))
        return parsed
