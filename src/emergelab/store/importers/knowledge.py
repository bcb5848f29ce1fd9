"""What the importers know about metrics and lm-evaluation-harness tasks.

Emergence verdicts need two facts per curve that result files rarely state: which way is better,
and where a guessing model sits (the floor a "jump" has to clear). Both live here as small tables.
Chance is only given where it is exact (1 / number of choices, the same for every question);
tasks with a varying number of choices (truthfulqa_mc1, headqa) and open-ended tasks
(lambada, gsm8k, triviaqa) have no chance level (None).
"""

from __future__ import annotations

import re

HIGHER_IS_BETTER: dict[str, bool] = {
    "acc": True, "acc_norm": True, "acc_mutual_info": True, "accuracy": True, "exact_match": True,
    "em": True, "f1": True, "mcc": True, "mc1": True, "mc2": True, "bleu": True, "chrf": True,
    "rouge1": True, "rouge2": True, "rougeL": True, "rougeLsum": True, "loglikelihood": True,
    "target_loglikelihood": True, "per_token_accuracy": True, "token_accuracy": True,
    "token_edit_distance": False, "edit_distance": False,
    "perplexity": False, "ppl": False, "word_perplexity": False, "byte_perplexity": False,
    "token_perplexity": False, "bits_per_byte": False, "brier": False, "brier_score": False,
    "ter": False, "loss": False, "likelihood_difference": False,
}
_PASS_AT_K = re.compile(r"pass(@|_at_)\d+")

# Metrics whose chance level is 1 / number of choices (multiple-choice accuracy).
CHANCE_METRICS = frozenset({"acc", "acc_norm", "acc_mutual_info"})

# (task-name pattern, chance of multiple-choice accuracy); first full match wins. None = no chance
# level (open-ended answer or a varying number of choices). ARC is nominally 4-way (a handful of
# questions have 3 or 5 options).
_TASK_CHANCE: list[tuple[str, float | None]] = [
    (r"lambada(_.*)?", None),
    (r"(gsm8k|triviaqa|nq_open|webqs|squad\w*|drop|coqa|wikitext|pile_.*)(_.*)?", None),
    (r"(truthfulqa_mc1|truthfulqa_mc2|headqa\w*)", None),
    (r"(hendrycksTest-.*|mmlu(_.*)?)", 0.25),
    (r"(arc_easy|arc_challenge|hellaswag|openbookqa|sciq|logiqa2?|race|swag|prost)", 0.25),
    (r"(piqa|winogrande|boolq|copa|wsc|wsc273|rte|wic|qnli|sst2?|mrpc|qqp|multirc)", 0.5),
    (r"(storycloze\w*|story_cloze\w*|xstorycloze_\w+|xcopa_\w+|xwinograd_\w+|blimp_\w+)", 0.5),
    (r"(cb|mnli|mnli_mismatch|anli_r[123]|social_iqa|siqa|pubmedqa)", 1 / 3),
    (r"(mathqa|commonsense_qa)", 0.2),
]
_TASK_CHANCE_RE = [(re.compile(p), c) for p, c in _TASK_CHANCE]


def base_metric(metric: str) -> str:
    """`acc,none` -> `acc`; `exact_match,strict-match` -> `exact_match` (lm-eval v0.4 filters)."""
    return metric.split(",", 1)[0].strip()


def higher_is_better(metric: str) -> bool | None:
    """Orientation of a metric by name, or None when unknown: this table, then the metric registry
    (`error`, `char_edit_distance`, aliases such as `err`), the record the analyses read."""
    base = base_metric(metric)
    if _PASS_AT_K.fullmatch(base):
        return True
    if base in HIGHER_IS_BETTER:
        return HIGHER_IS_BETTER[base]
    from emergelab.metrics import metric_record

    record = metric_record(base, warn=False)
    return record.higher_is_better if record.known else None


def task_chance(task: str, metric: str) -> float | None:
    """Chance level of `metric` on `task` when exactly known, else None."""
    if base_metric(metric) not in CHANCE_METRICS:
        return None
    for pattern, chance in _TASK_CHANCE_RE:
        if pattern.fullmatch(task):
            return chance
    return None
