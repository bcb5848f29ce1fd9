"""Long tables (CSV, TSV, Parquet) of aggregate results: one row per model × task × metric (× step × shots).

This is the lingua franca for results copied out of papers and spreadsheets. The columns below are
the whole format (they are also what `import --help` and the README print); missing `flops` and
`params` are derived centrally (6·params·tokens; the size in the model name).
"""

from __future__ import annotations

from pathlib import Path

from emergelab.store.importers.base import Column, ImportFileError, Parsed, PointDraft, register
from emergelab.store.importers.tabular import TABLE_SUFFIXES, Cells, check_columns, columns, rows

COLUMNS = (
    Column("model", "model name; a size token in it (opt-1.3b) gives params", required=True),
    Column("task", "task or benchmark name", required=True),
    Column("metric", "metric name (acc, exact_match, ppl, loss, ...)", required=True),
    Column("value", "the metric's value", required=True, aliases=("score",)),
    Column("params", "total parameters N", aliases=("parameters", "n_params")),
    Column("non_embedding_params", "parameters without embeddings"),
    Column("tokens", "training tokens seen at this checkpoint, D", unit="tokens", aliases=("training_tokens", "D")),
    Column("flops", "training compute C (default 6·N·D)", unit="FLOP", aliases=("compute", "C")),
    Column("step", "training step of the checkpoint (empty = final model)", unit="steps",
           aliases=("checkpoint", "training_step")),
    Column("shots", "in-context examples in the prompt", unit="examples", aliases=("num_fewshot", "n_shot")),
    Column("family", "model family (pythia, opt, ...): curves and verdicts per family", aliases=("model_family",)),
    Column("stderr", "standard error of value", unit="metric units", aliases=("std_err", "se")),
    Column("n_examples", "examples the value averages over", unit="examples", aliases=("n", "num_examples")),
    Column("higher_is_better", "true/false; default from the metric's name"),
    Column("chance", "the metric's value for a guessing model", unit="metric units"),
)


@register("table", "long CSV/TSV/Parquet: one row per model × task × metric (× step × shots)",
          columns=COLUMNS, example="long_table.csv")
class LongTable:
    def sniff(self, path: Path) -> bool:
        if path.suffix.lower() not in TABLE_SUFFIXES:
            return False
        found = columns(path)
        return all(any(n in found for n in (c.name, *c.aliases)) for c in COLUMNS if c.required)

    def load(self, path: Path) -> Parsed:
        rename, warnings = check_columns(path, COLUMNS)
        parsed = Parsed(warnings=warnings)
        for line, row in rows(path, rename):
            c = Cells(path, line, row)
            model, task = c.text("model", required=True) or "", c.text("task", required=True) or ""
            metric = c.text("metric", required=True) or ""
            if c.number("value") is None:  # NaN, NA or empty: a result that is not there
                raise c.fail("value", f"missing or NaN for {model} / {task} / {metric}")
            point = PointDraft(
                model=model, task=task, metric=metric, value=c.number("value", required=True) or 0.0,
                params=c.number("params", positive=True),
                non_embedding_params=c.number("non_embedding_params", positive=True),
                tokens=c.number("tokens", nonnegative=True),  # 0 at step 0, as lm-eval imports store it
                flops=c.number("flops", nonnegative=True),
                step=c.integer("step", minimum=0),
                stderr=c.number("stderr"),
                n_examples=c.integer("n_examples", minimum=1),
                higher_is_better=c.boolean("higher_is_better"),
                chance=c.number("chance"),
                chance_known=c.number("chance") is not None,
                family=c.text("family"),
                shots=c.integer("shots", minimum=0),
            )
            if point.stderr is not None and point.stderr < 0:
                raise c.fail("stderr", "must not be negative")
            parsed.points.append(point)
        if not parsed.points:
            raise ImportFileError(path, "no rows")
        return parsed
