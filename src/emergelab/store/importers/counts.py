"""Sampling counts (CSV, TSV, Parquet or JSONL): per problem, n samples drawn and c of them correct.

Counts rather than a pass@k number are what make pass@k honest at every k (the unbiased estimator
1 − C(n−c, k)/C(n, k) needs n and c per problem) and let tiny success probabilities be seen at all.
Columns: `COLUMNS` below (also printed by `import --help`). Problem ids that are not
integers (`HumanEval/12`) get a stable 31-bit hash of the id as their integer example id — the same in
every file and for every model, so models stay paired by problem — and the mapping is kept as an
experiment fact.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from emergelab.store.importers.base import Column, ExampleDraft, ImportFileError, Parsed, register
from emergelab.store.importers.tabular import TABLE_SUFFIXES, Cells, check_columns, columns, rows

COLUMNS = (
    Column("model", "model name; a size token in it gives params", required=True),
    Column("task", "task name", required=True),
    Column("problem_id", "problem id (integer, or any string such as HumanEval/12)", required=True,
           aliases=("example_id",)),
    Column("n", "samples drawn for this problem", required=True, unit="samples", aliases=("num_samples",)),
    Column("c", "samples that were correct (c <= n)", required=True, unit="samples",
           aliases=("correct", "num_correct")),
    Column("params", "total parameters N", aliases=("parameters", "n_params")),
    Column("step", "training step of the checkpoint (empty = final model)", unit="steps", aliases=("checkpoint",)),
    Column("shots", "in-context examples in the prompt", unit="examples", aliases=("num_fewshot", "n_shot")),
    Column("family", "model family", aliases=("model_family",)),
    Column("scheme", "fixed (default: n samples drawn) or until_success (stopped at the first correct "
           "sample, c = 1, or at the budget n, c = 0)", aliases=("sampling",)),
)
SCHEMES = ("fixed", "until_success")


def example_id(problem: str) -> int:
    """Problem id -> integer example id: the id itself when it is an integer, else a stable hash."""
    try:
        value = int(problem)
        if str(value) == problem and 0 <= value < 2**31:
            return value
    except ValueError:
        pass
    return int.from_bytes(hashlib.blake2b(problem.encode(), digest_size=4).digest(), "big") & 0x7FFFFFFF


@register("counts", "sampling counts CSV/JSONL/Parquet: per problem, n samples drawn and c correct (pass@k)",
          columns=COLUMNS, example="sample_counts.csv")
class SampleCounts:
    def sniff(self, path: Path) -> bool:
        if path.suffix.lower() not in (*TABLE_SUFFIXES, ".jsonl"):
            return False
        found = columns(path)
        return all(any(n in found for n in (c.name, *c.aliases)) for c in COLUMNS if c.required)

    def load(self, path: Path) -> Parsed:
        rename, warnings = check_columns(path, COLUMNS)
        parsed = Parsed(warnings=warnings)
        groups: dict[tuple[str, str, int | None, int | None], dict[str, tuple[int, int, int]]] = {}
        schemes: dict[tuple[str, str, int | None, int | None], str] = {}
        sizes: dict[str, tuple[float, int]] = {}
        families: dict[str, str | None] = {}
        for line, row in rows(path, rename):
            c = Cells(path, line, row)
            model = c.text("model", required=True) or ""
            family = c.text("family")
            if families.setdefault(model, family) != family:
                raise c.fail("family", f"{model} is in family {families[model]!r} on an earlier line")
            key = (model, c.text("task", required=True) or "", c.integer("step", minimum=0),
                   c.integer("shots", minimum=0))
            problem = c.text("problem_id", required=True) or ""
            n = c.integer("n", required=True, minimum=1) or 0
            k = c.integer("c", required=True, minimum=0) or 0
            if k > n:
                raise c.fail("c", f"{k} correct out of n={n} samples")
            scheme = c.text("scheme") or "fixed"
            if scheme not in SCHEMES:
                raise c.fail("scheme", f"{scheme!r} is not one of {', '.join(SCHEMES)}")
            if scheme == "until_success" and k > 1:
                raise c.fail("c", f"{k} correct under until_success (sampling stops at the first, so c is 0 or 1)")
            if schemes.setdefault(key, scheme) != scheme:
                raise c.fail("scheme", f"{model}/{key[1]} mixes {schemes[key]} and {scheme} counts")
            params = c.number("params", positive=True)
            if params is not None:
                if model in sizes and sizes[model][0] != params:
                    raise c.fail("params", f"{model} has {sizes[model][0]:g} on line {sizes[model][1]}")
                sizes[model] = (params, line)
            per_problem = groups.setdefault(key, {})
            if problem in per_problem:
                raise c.fail("problem_id", f"{problem!r} repeated (first on line {per_problem[problem][2]})")
            per_problem[problem] = (n, k, line)
        if not groups:
            raise ImportFileError(path, "no rows")
        for (model, task, step, shots), per_problem in groups.items():
            ids = {p: example_id(p) for p in per_problem}
            if len(set(ids.values())) < len(ids):
                raise ImportFileError(path, f"problem ids of {model}/{task} collide as integers; use integer ids")
            parsed.examples.append(ExampleDraft(
                model=model, task=task, step=step, shots=shots, family=families[model],
                params=sizes[model][0] if model in sizes else None,
                counts={ids[p]: (n, k) for p, (n, k, _) in per_problem.items()},
                id_names={} if all(str(i) == p for p, i in ids.items()) else {i: p for p, i in ids.items()},
                scheme=schemes[(model, task, step, shots)],
            ))
        return parsed
