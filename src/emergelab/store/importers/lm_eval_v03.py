"""lm-evaluation-harness v0.3 result JSON: `{"results": {task: {acc, acc_stderr, ...}}, "config": {...}}`.

v0.3 does not record how many examples a task had. For accuracy metrics it can be recovered
exactly: v0.3 reports `acc_stderr` as the sample standard deviation over the n per-example 0/1
scores divided by √n, i.e. stderr² = p(1−p)/(n−1), so n = p(1−p)/stderr² + 1. The importer uses
this only when the result is an integer to within 0.02, p·n is a whole number of correct answers,
and acc / acc_norm agree; otherwise `n_examples` stays None. The n found applies to every metric of
the task (ppl is over the same examples). (Checked on the OPT files: lambada_openai
gives 5153, piqa 1838, arc_easy 2376 — the real test-set sizes.)
"""

from __future__ import annotations

from pathlib import Path

from emergelab.store.importers.base import Column, ImportFileError, Parsed, PointDraft, register
from emergelab.store.importers.lm_eval_common import (
    NOT_METRICS,
    is_stderr_key,
    is_v04,
    looks_like_results,
    model_info,
    number,
    read_json,
    read_results,
    score,
    shots_of,
    stderr_of,
)

FIELDS = (
    Column("results.<task>.<metric>", "a metric's value (acc, acc_norm, ppl, ...)", required=True),
    Column("results.<task>.<metric>_stderr", "its standard error; n_examples is recovered from it for acc"),
    Column("config.model_args", "`pretrained=ORG/MODEL` names the model (size from the name or --params); "
           "`revision=stepS` gives the training step", required=True),
    Column("config.num_fewshot", "shots (in-context examples)", unit="examples"),
)

_BINARY = ("acc", "acc_norm")
N_EXAMPLES_NOTE = (
    "lm-eval v0.3 files do not record example counts; n_examples was recovered from acc/acc_norm as p(1-p)/stderr^2 + 1 (exact for v0.3's mean stderr) and applied to every "
    "metric of that task; left empty where inexact"
)


def examples_from_stderr(p: float | None, stderr: float | None) -> int | None:
    """n from a 0/1 metric's mean and its v0.3 standard error, or None when not exact."""
    if p is None or stderr is None or not (0 < p < 1) or stderr <= 0:
        return None
    estimate = p * (1 - p) / stderr**2 + 1
    n = round(estimate)
    if n < 2 or abs(estimate - n) > 0.02 or abs(p * n - round(p * n)) > 1e-6 * n:
        return None
    return n


def task_examples(result: dict) -> int | None:
    """One n for the task, from whichever binary metrics allow it (they must agree)."""
    ns = {examples_from_stderr(number(result.get(m)), number(result.get(f"{m}_stderr"))) for m in _BINARY}
    ns.discard(None)
    return ns.pop() if len(ns) == 1 else None


@register("lm-eval-v0.3", "lm-evaluation-harness v0.3 results JSON (results + config.model_args)",
          columns=FIELDS, example="lm_eval_v03.json")
class LmEvalV03:
    def sniff(self, path: Path) -> bool:
        if path.suffix.lower() != ".json":
            return False
        data = read_json(path)
        return (
            looks_like_results(data)
            and isinstance(data.get("config"), dict)
            and "model_args" in data["config"]
            and not is_v04(data)
        )

    def load(self, path: Path) -> Parsed:
        data = read_results(path)
        config = data.get("config") if isinstance(data.get("config"), dict) else {}
        info = model_info(path, config)
        shots = shots_of(config.get("num_fewshot"))
        parsed = Parsed()
        derived = False
        for task, result in data["results"].items():
            n = task_examples(result)
            for metric, raw in result.items():
                if is_stderr_key(metric) or metric in NOT_METRICS:
                    continue
                derived |= n is not None
                parsed.points.append(PointDraft(
                    model=info.name, task=task, metric=metric, value=score(path, task, metric, raw),
                    params=info.params, step=info.step, n_examples=n, shots=shots,
                    stderr=stderr_of(path, task, metric, result.get(f"{metric}_stderr"), parsed.warnings),
                ))
        if not parsed.points:
            raise ImportFileError(path, "no metric values in results (only standard errors or labels)")
        if derived:
            parsed.notes["import.n_examples.lm-eval-v0.3"] = N_EXAMPLES_NOTE
        return parsed
