"""From parsed drafts to store records: sizes, compute, orientation, chance, duplicates.

Done once over *all* files so that a model's size is the same everywhere, a result given twice is
caught, and any problem stops the import before a single row is written.

Imported models have no known embedding size, so `non_embedding_params` is the total parameter
count unless a table gives it (recorded as the experiment fact `import.non_embedding_params`).
Compute is C = 6·N·D with N the total parameter count and D the training tokens, when both are known;
D of a checkpoint is its step × `tokens_per_step` when the file gives a step but no tokens.
Model, family, step and shots are dimensions: the same model × task × metric may come once per
step and once per shots (zero- and five-shot files of one checkpoint live side by side).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from emergelab.store.db import PointRecord, RunRecord
from emergelab.store.importers.base import ExampleDraft, ImportFileError, Parsed, UnknownSizeError
from emergelab.store.importers.knowledge import higher_is_better, task_chance
from emergelab.store.importers.sizes import params_from_name

SCORES_SCHEMA = pa.schema([("step", pa.int32()), ("example_id", pa.int32()), ("metric", pa.string()),
                           ("value", pa.float64())])
COUNTS_SCHEMA = pa.schema([("step", pa.int32()), ("example_id", pa.int32()), ("n", pa.int32()), ("c", pa.int32())])
NON_EMBEDDING_NOTE = (
    "imported models: non_embedding_params = total params (embedding size unknown) unless the "
    "imported table gave non_embedding_params"
)


@dataclass
class ImportedRun:
    """One imported model × task with its per-example tables (either may be None)."""

    record: RunRecord
    example_scores: pa.Table | None
    sample_counts: pa.Table | None
    id_names: dict[int, str] = field(default_factory=dict)


@dataclass
class Resolved:
    points: list[PointRecord]
    runs: list[ImportedRun]
    sizes: dict[str, float]
    warnings: list[str]
    notes: dict[str, str]


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def resolve_sizes(parsed: list[tuple[Path, Parsed]], flags: dict[str, float]) -> dict[str, float]:
    """model -> params: `--params` first, then sizes stated in files (must agree), then the name."""
    stated: dict[str, tuple[float, Path]] = {}
    first_file: dict[str, Path] = {}
    for path, p in parsed:
        for d in [*p.points, *p.examples]:
            first_file.setdefault(d.model, path)
            if d.params is None:
                continue
            if d.model in stated and not _same(stated[d.model][0], d.params):
                other, where = stated[d.model]
                raise ImportFileError(path, f"model {d.model!r} has params {d.params:g} here but {other:g} in {where}")
            stated.setdefault(d.model, (d.params, path))
    by_lower = {m.lower(): m for m in first_file}
    flag_sizes: dict[str, float] = {}
    for name, size in flags.items():
        model = by_lower.get(name.lower()) or by_lower.get(name.rsplit("/", 1)[-1].lower())
        if model is None:
            raise ImportFileError("--params", f"model {name!r} is not in the imported files")
        flag_sizes[model] = size
    sizes: dict[str, float] = {}
    for model, path in first_file.items():
        size = flag_sizes.get(model) or (stated[model][0] if model in stated else params_from_name(model))
        if size is None:
            raise UnknownSizeError(path, f"cannot determine the size of model {model!r}; "
                                         f"pass --params {model}=SIZE or add a params column")
        sizes[model] = size
    return sizes


def resolve_families(parsed: list[tuple[Path, Parsed]], default: str | None) -> dict[str, str | None]:
    """model -> family: as the files state it (one family per model), else `default` (`--family`)."""
    stated: dict[str, tuple[str, Path]] = {}
    models: set[str] = set()
    for path, p in parsed:
        for d in [*p.points, *p.examples]:
            models.add(d.model)
            if d.family is None:
                continue
            if d.model in stated and stated[d.model][0] != d.family:
                raise ImportFileError(path, f"model {d.model!r} is in family {d.family!r} here but "
                                            f"{stated[d.model][0]!r} in {stated[d.model][1]}")
            stated.setdefault(d.model, (d.family, path))
    return {m: stated[m][0] if m in stated else default for m in models}


def _describe(model: str, task: str, what: str, step: int | None, shots: int | None) -> str:
    where = "".join([f" step {step}" if step is not None else "", f" {shots}-shot" if shots is not None else ""])
    return f"{model} / {task} / {what}{where}"


def _points(parsed: list[tuple[Path, Parsed]], sizes: dict[str, float], families: dict[str, str | None],
            tokens_per_step: float | None, warnings: list[str]) -> list[PointRecord]:
    seen: dict[tuple, Path] = {}
    unknown_orientation: set[str] = set()
    out = []
    for path, p in parsed:
        for d in p.points:
            key = (d.model, d.task, d.metric, d.step, d.shots)
            if key in seen:
                raise ImportFileError(path, f"{_describe(d.model, d.task, d.metric, d.step, d.shots)} "
                                            f"given twice (also in {seen[key]})")
            seen[key] = path
            params = sizes[d.model]
            hib = d.higher_is_better if d.higher_is_better is not None else higher_is_better(d.metric)
            if hib is None:
                unknown_orientation.add(d.metric)
                hib = True
            tokens = d.tokens
            if tokens is None and tokens_per_step is not None and d.step is not None:
                tokens = d.step * tokens_per_step
            flops = d.flops
            if flops is None and tokens is not None:
                flops = 6.0 * params * tokens
            out.append(PointRecord(
                model=d.model, task=d.task, metric=d.metric, value=d.value, params=params,
                non_embedding_params=d.non_embedding_params or params, tokens=tokens, flops=flops,
                step=d.step, stderr=d.stderr, n_examples=d.n_examples, higher_is_better=hib,
                chance=d.chance if d.chance_known else task_chance(d.task, d.metric), source="import",
                family=families[d.model], shots=d.shots,
            ))
    if unknown_orientation:
        warnings.append(f"assumed higher is better for unknown metric(s) {', '.join(sorted(unknown_orientation))} "
                        "(add a higher_is_better column to say otherwise)")
    return out


def run_id(model: str, task: str, shots: int | None = None) -> str:
    """Deterministic, so re-importing a model × task (× shots) replaces it instead of adding a copy."""
    return f"import:{model}:{task}" + ("" if shots is None else f":{shots}-shot")


def _arrow_table(columns: dict[str, list], schema: pa.Schema, source: str) -> pa.Table:
    """The store keeps ids, steps and counts as 32-bit integers: a value beyond them (a doc_id of
    2**31) is the file's problem, said as one line, not an ArrowInvalid."""
    for column in schema:
        if pa.types.is_int32(column.type):
            bad = next((v for v in columns[column.name] if v is not None and not -(2**31) <= v < 2**31), None)
            if bad is not None:
                raise ImportFileError(source, f"{column.name} {bad} is outside the 32-bit range the store keeps")
    return pa.Table.from_pydict(columns, schema=schema)


def _runs(parsed: list[tuple[Path, Parsed]], sizes: dict[str, float], families: dict[str, str | None],
          tokens_per_step: float | None) -> list[ImportedRun]:
    groups: dict[tuple[str, str, int | None], list[tuple[Path, ExampleDraft]]] = defaultdict(list)
    for path, p in parsed:
        for d in p.examples:
            groups[(d.model, d.task, d.shots)].append((path, d))
    runs = []
    for (model, task, shots), drafts in groups.items():
        scores: dict[str, list] = defaultdict(list)
        counts: dict[str, list] = defaultdict(list)
        seen_scores: dict[tuple, Path] = {}
        seen_counts: dict[int | None, Path] = {}
        id_names: dict[int, str] = {}
        for path, d in drafts:
            for metric, values in d.scores.items():
                if (d.step, metric) in seen_scores:
                    raise ImportFileError(path, f"{_describe(model, task, metric, d.step, shots)} per-example "
                                                f"scores given twice (also in {seen_scores[(d.step, metric)]})")
                seen_scores[(d.step, metric)] = path
                for ex, value in values.items():
                    scores["step"].append(d.step)
                    scores["example_id"].append(ex)
                    scores["metric"].append(metric)
                    scores["value"].append(value)
            if d.counts:
                if d.step in seen_counts:
                    raise ImportFileError(path, f"{_describe(model, task, 'sampling counts', d.step, shots)} "
                                                f"given twice (also in {seen_counts[d.step]})")
                seen_counts[d.step] = path
                for ex, (n, c) in d.counts.items():
                    counts["step"].append(d.step)
                    counts["example_id"].append(ex)
                    counts["n"].append(n)
                    counts["c"].append(c)
            id_names.update(d.id_names)
        params = round(sizes[model])
        full_names = sorted({d.full_name for _, d in drafts if d.full_name})
        schemes = {d.scheme for _, d in drafts if d.counts}
        if len(schemes) > 1:
            raise ImportFileError(drafts[0][0], f"{model}/{task}: fixed and until_success counts in one run")
        sampling = {"sampling": {"scheme": schemes.pop()}} if schemes else {}
        record = RunRecord(
            run_id=run_id(model, task, shots), model=model, task=task,
            task_config={"imported_from": sorted({p.name for p, _ in drafts}), "model_id": full_names, **sampling},
            params=params, non_embedding_params=params, source="import", status="done",
            family=families[model], shots=shots,
            tokens_per_step=None if tokens_per_step is None else round(tokens_per_step),
        )
        source = ", ".join(sorted({str(p) for p, _ in drafts}))
        runs.append(ImportedRun(
            record=record,
            example_scores=_arrow_table(scores, SCORES_SCHEMA, source) if scores else None,
            sample_counts=_arrow_table(counts, COUNTS_SCHEMA, source) if counts else None,
            id_names=id_names,
        ))
    return runs


def resolve(parsed: list[tuple[Path, Parsed]], flags: dict[str, float], family: str | None = None,
            tokens_per_step: float | None = None) -> Resolved:
    """Sizes, families and compute settled across all files; `family` and `tokens_per_step` are the
    command line's defaults for files that do not state them."""
    sizes = resolve_sizes(parsed, flags)
    families = resolve_families(parsed, family)
    warnings = [w for _, p in parsed for w in p.warnings]
    notes = {k: v for _, p in parsed for k, v in p.notes.items()}
    points = _points(parsed, sizes, families, tokens_per_step, warnings)
    runs = _runs(parsed, sizes, families, tokens_per_step)
    if not points and not runs:
        raise ImportFileError(", ".join(str(f) for f, _ in parsed) or "import", "no results to import")
    if tokens_per_step is not None:
        notes["import.tokens_per_step"] = f"{tokens_per_step:g} (tokens of a checkpoint = step × this, unless given)"
    notes["import.non_embedding_params"] = NON_EMBEDDING_NOTE
    return Resolved(points=points, runs=runs, sizes=sizes, warnings=warnings, notes=notes)
