"""Sampling counts (CSV, TSV, Parquet or JSONL): per problem, n samples drawn and c of them correct.

Counts rather than a pass@k number are what make pass@k honest at every k (the unbiased estimator
1 − C(n−c, k)/C(n, k) needs n and c per problem) and let tiny success probabilities be seen at all.
Columns: `model, task, problem_id, n, c` (+ optional `params`, `step`). Problem ids that are not
integers (`HumanEval/12`) get a stable 31-bit hash of the id as their integer example id — the same in
every file and for every model, so models stay paired by problem — and the mapping is kept as an
experiment fact.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from emergelab.store.importers.base import ExampleDraft, ImportFileError, Parsed, register
from emergelab.store.importers.tabular import TABLE_SUFFIXES, Cells, check_columns, columns, rows

REQUIRED = ("model", "task", "problem_id", "n", "c")
OPTIONAL = ("params", "step")


def example_id(problem: str) -> int:
    """Problem id -> integer example id: the id itself when it is an integer, else a stable hash."""
    try:
        value = int(problem)
        if str(value) == problem and 0 <= value < 2**31:
            return value
    except ValueError:
        pass
    return int.from_bytes(hashlib.blake2b(problem.encode(), digest_size=4).digest(), "big") & 0x7FFFFFFF


@register("counts", "sampling counts CSV/JSONL/Parquet: model, task, problem_id, n, c (pass@k)")
class SampleCounts:
    def sniff(self, path: Path) -> bool:
        return path.suffix.lower() in (*TABLE_SUFFIXES, ".jsonl") and set(REQUIRED) <= columns(path)

    def load(self, path: Path) -> Parsed:
        parsed = Parsed(warnings=check_columns(path, REQUIRED, OPTIONAL))
        groups: dict[tuple[str, str, int | None], dict[str, tuple[int, int, int]]] = {}
        sizes: dict[str, tuple[float, int]] = {}
        for line, row in rows(path):
            c = Cells(path, line, row)
            model = c.text("model", required=True) or ""
            key = (model, c.text("task", required=True) or "", c.integer("step", minimum=0))
            problem = c.text("problem_id", required=True) or ""
            n = c.integer("n", required=True, minimum=1) or 0
            k = c.integer("c", required=True, minimum=0) or 0
            if k > n:
                raise c.fail("c", f"{k} correct out of n={n} samples")
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
        for (model, task, step), per_problem in groups.items():
            ids = {p: example_id(p) for p in per_problem}
            if len(set(ids.values())) < len(ids):
                raise ImportFileError(path, f"problem ids of {model}/{task} collide as integers; use integer ids")
            parsed.examples.append(ExampleDraft(
                model=model, task=task, step=step,
                params=sizes[model][0] if model in sizes else None,
                counts={ids[p]: (n, k) for p, (n, k, _) in per_problem.items()},
                id_names={} if all(str(i) == p for p, i in ids.items()) else {i: p for p, i in ids.items()},
            ))
        return parsed
