"""`import_files`: external results -> an experiment folder every other command accepts.

Three phases, in this order, so a bad file never leaves half an import behind: parse every file,
resolve sizes / orientation / duplicates across all of them, then write in one transaction.
A folder among the inputs stands for every result file under it (e.g. lm-eval's output tree).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emergelab.store.importers.base import ImportFileError, Parsed, load_file
from emergelab.store.importers.resolve import resolve
from emergelab.store.importers.sizes import parse_params_flags
from emergelab.store.importers.writer import write_import


@dataclass
class FileSummary:
    path: Path
    format: str
    models: list[str]
    tasks: list[str]
    points: int
    example_rows: int


@dataclass
class ImportSummary:
    """What an import wrote: the numbers the CLI prints, and the sizes it settled on."""

    out: Path
    files: list[FileSummary]
    sizes: dict[str, float]          # model -> params used
    tasks: list[str]
    metrics: list[str]
    points: int
    runs: int
    example_scores: int
    sample_counts: int
    warnings: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)  # checkpoints seen (empty: final models only)
    shots: list[int] = field(default_factory=list)
    families: list[str] = field(default_factory=list)

    @property
    def models(self) -> list[str]:
        return sorted(self.sizes, key=lambda m: (self.sizes[m], m))


def _file_summary(path: Path, fmt: str, p: Parsed) -> FileSummary:
    drafts = [*p.points, *p.examples]
    rows = sum(len(v) for d in p.examples for v in d.scores.values()) + sum(len(d.counts) for d in p.examples)
    return FileSummary(
        path=path, format=fmt, models=sorted({d.model for d in drafts}), tasks=sorted({d.task for d in drafts}),
        points=len(p.points), example_rows=rows,
    )


RESULT_SUFFIXES = (".json", ".jsonl", ".csv", ".tsv", ".parquet", ".pq")


def expand_inputs(files: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """Files as given, and folders replaced by the result files under them (sorted); a warning
    names what a folder held that is not a result file (README, SOURCE.md, ...)."""
    paths: list[Path] = []
    warnings: list[str] = []
    for f in map(Path, files):
        if not f.is_dir():
            paths.append(f)
            continue
        found = sorted(p for p in f.rglob("*") if p.is_file() and not p.name.startswith("."))
        chosen = [p for p in found if p.suffix.lower() in RESULT_SUFFIXES]
        if not chosen:
            raise ImportFileError(f, f"no result files ({', '.join(RESULT_SUFFIXES)}) in this folder")
        skipped = [p.name for p in found if p not in chosen]
        if skipped:
            warnings.append(f"{f}: skipped {len(skipped)} file(s) that are not results: {', '.join(skipped[:5])}"
                            + (" ..." if len(skipped) > 5 else ""))
        paths += chosen
    return paths, warnings


def import_files(
    files: Sequence[str | Path],
    out: str | Path,
    params: list[str] | dict[str, float] | None = None,
    input_format: str = "auto",
    family: str | None = None,
    tokens_per_step: float | None = None,
) -> ImportSummary:
    """Import result files (or folders of them) into `out`/emergelab.duckdb, all or nothing.

    `params` overrides or supplies model sizes: `["opt-1.3b=1.3e9"]` or `{"opt-1.3b": 1.3e9}`.
    `input_format` forces one importer for every file (default: detect each file). `family` is the
    model family of models whose files do not name one; `tokens_per_step` turns a checkpoint's
    step into training tokens D (and compute 6·N·D) where the file gives no tokens. Raises
    `ImportFileError` (one-line message naming the file) on any problem; nothing is written then.

    >>> import_files(["pythia_evals/"], "exp/", family="pythia", tokens_per_step=2_097_152)  # doctest: +SKIP
    """
    flags = parse_params_flags(params)
    if tokens_per_step is not None and not tokens_per_step > 0:
        raise ImportFileError("--tokens-per-step", f"must be positive, got {tokens_per_step:g}")
    paths, folder_warnings = expand_inputs(files)
    loaded = [(path, *load_file(path, input_format)) for path in paths]
    parsed = [(path, p) for path, _, p in loaded]
    res = resolve(parsed, flags, family=family, tokens_per_step=tokens_per_step)
    res.warnings[:0] = folder_warnings
    out = Path(out)
    write_import(out, res.points, res.runs, res.notes, paths)
    return ImportSummary(
        out=out,
        files=[_file_summary(path, fmt, p) for path, fmt, p in loaded],
        sizes=res.sizes,
        tasks=sorted({p.task for p in res.points} | {r.record.task for r in res.runs}),
        metrics=sorted({p.metric for p in res.points}
                       | {m for r in res.runs if r.example_scores is not None
                          for m in r.example_scores["metric"].unique().to_pylist()}
                       | ({"pass@k", "coverage"} if any(r.sample_counts is not None for r in res.runs) else set())),
        points=len(res.points),
        runs=len(res.runs),
        example_scores=sum(r.example_scores.num_rows for r in res.runs if r.example_scores is not None),
        sample_counts=sum(r.sample_counts.num_rows for r in res.runs if r.sample_counts is not None),
        warnings=res.warnings,
        steps=sorted({p.step for p in res.points if p.step is not None}
                     | {s for r in res.runs for t in (r.example_scores, r.sample_counts) if t is not None
                        for s in t["step"].to_pylist() if s is not None}),
        shots=sorted({p.shots for p in res.points if p.shots is not None}
                     | {r.record.shots for r in res.runs if r.record.shots is not None}),
        families=sorted({p.family for p in res.points if p.family} | {r.record.family for r in res.runs if r.record.family}),
    )
