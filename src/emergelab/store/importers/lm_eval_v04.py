"""lm-evaluation-harness v0.4 result JSON (`results_<timestamp>.json`).

v0.4 keys metrics by filter (`acc,none`, `exact_match,strict-match`) and records far more than
v0.3: example counts (`n-samples`), each metric's orientation (`higher_is_better`), the task
configs (so a fixed list of answer choices gives an exact chance level), and — in recent
versions — the measured parameter count (`config.model_num_parameters`), which beats a nominal
size read from the name. Metrics under the default filter keep their plain name (`acc`); others
keep lm-eval's `metric,filter` spelling so both filters of e.g. gsm8k stay apart.
"""

from __future__ import annotations

from pathlib import Path

from emergelab.store.importers.base import Column, ImportFileError, Parsed, PointDraft, register
from emergelab.store.importers.knowledge import CHANCE_METRICS
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
    Column("results.<task>.<metric>,<filter>", "a metric's value; the default filter `none` is dropped "
           "from the name (acc,none -> acc)", required=True),
    Column("results.<task>.<metric>_stderr,<filter>", "its standard error (\"N/A\" = unknown)"),
    Column("model_name / config.model_args", "the model (`pretrained=...`); `revision=stepS` or "
           "config.model_revision gives the training step", required=True),
    Column("config.model_num_parameters", "measured parameter count (beats the size in the name)"),
    Column("n-shot.<task>", "shots (in-context examples); else config.num_fewshot", unit="examples"),
    Column("n-samples.<task>", "examples evaluated (effective)", unit="examples"),
    Column("higher_is_better.<task>.<metric>", "orientation"),
    Column("configs.<task>.doc_to_choice", "a literal choice list gives the exact chance level"),
)


def metric_name(name: str, filt: str) -> str:
    return name if filt == "none" else f"{name},{filt}"


def _examples(data: dict, task: str) -> int | None:
    entry = (data.get("n-samples") or {}).get(task)
    if not isinstance(entry, dict):
        return None
    n = number(entry.get("effective", entry.get("original")))
    return int(n) if n is not None and n > 0 else None


def task_shots(data: dict, task: str) -> int | None:
    """Shots of one task: v0.4's per-task `n-shot`, else the run's `config.num_fewshot`."""
    per_task = data.get("n-shot")
    if isinstance(per_task, dict) and task in per_task:
        return shots_of(per_task[task])
    config = data.get("config")
    return shots_of(config.get("num_fewshot")) if isinstance(config, dict) else None


def _config_chance(data: dict, task: str) -> float | None:
    """1 / len(doc_to_choice) when the task config lists its choices literally."""
    cfg = (data.get("configs") or {}).get(task)
    if not isinstance(cfg, dict) or cfg.get("output_type") != "multiple_choice":
        return None
    choices = cfg.get("doc_to_choice")
    return 1 / len(choices) if isinstance(choices, list) and len(choices) >= 2 else None


@register("lm-eval-v0.4", "lm-evaluation-harness v0.4 results JSON (`acc,none` keys, n-samples, configs)",
          columns=FIELDS, example="lm_eval_v04/results_2024-06-12T10-15-30.123456.json")
class LmEvalV04:
    def sniff(self, path: Path) -> bool:
        if path.suffix.lower() != ".json":
            return False
        data = read_json(path)
        return looks_like_results(data) and is_v04(data)

    def load(self, path: Path) -> Parsed:
        data = read_results(path)
        config = data.get("config") if isinstance(data.get("config"), dict) else {}
        info = model_info(path, config, data.get("model_name"), config.get("model_num_parameters"))
        orientation = data.get("higher_is_better") or {}
        parsed = Parsed()
        for task, result in data["results"].items():
            n = _examples(data, task)
            chance = _config_chance(data, task)
            shots = task_shots(data, task)
            for key, raw in result.items():
                name, _, filt = key.partition(",")
                if is_stderr_key(key) or name in NOT_METRICS:
                    continue
                metric = metric_name(name, filt or "none")
                hib = (orientation.get(task) or {}).get(name)
                stderr_key = f"{name}_stderr,{filt}" if filt else f"{name}_stderr"
                point = PointDraft(
                    model=info.name, task=task, metric=metric, value=score(path, task, metric, raw),
                    params=info.params, step=info.step, n_examples=n, shots=shots,
                    stderr=stderr_of(path, task, metric, result.get(stderr_key), parsed.warnings),
                    higher_is_better=hib if isinstance(hib, bool) else None,
                )
                if chance is not None and name in CHANCE_METRICS:
                    point.chance, point.chance_known = chance, True
                parsed.points.append(point)
        if not parsed.points:
            raise ImportFileError(path, "no metric values in results (only standard errors or labels)")
        return parsed
