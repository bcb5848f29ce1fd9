"""Long tables (CSV, TSV, Parquet) of aggregate results: one row per model × task × metric (× step).

Required columns: `model, task, metric, value`. Optional: `params, non_embedding_params, tokens,
flops, step, stderr, n_examples, higher_is_better, chance`. This is the lingua franca for results
copied out of papers and spreadsheets; missing `flops` and `params` are derived centrally
(6·params·tokens; the size in the model name).
"""

from __future__ import annotations

from pathlib import Path

from emergelab.store.importers.base import ImportFileError, Parsed, PointDraft, register
from emergelab.store.importers.tabular import TABLE_SUFFIXES, Cells, check_columns, columns, rows

REQUIRED = ("model", "task", "metric", "value")
OPTIONAL = (
    "params", "non_embedding_params", "tokens", "flops", "step", "stderr", "n_examples",
    "higher_is_better", "chance",
)


@register("table", "long CSV/TSV/Parquet: model, task, metric, value (+ params, tokens, flops, stderr, ...)")
class LongTable:
    def sniff(self, path: Path) -> bool:
        return path.suffix.lower() in TABLE_SUFFIXES and set(REQUIRED) <= columns(path)

    def load(self, path: Path) -> Parsed:
        parsed = Parsed(warnings=check_columns(path, REQUIRED, OPTIONAL))
        for line, row in rows(path):
            c = Cells(path, line, row)
            point = PointDraft(
                model=c.text("model", required=True) or "",
                task=c.text("task", required=True) or "",
                metric=c.text("metric", required=True) or "",
                value=c.number("value", required=True) or 0.0,
                params=c.number("params", positive=True),
                non_embedding_params=c.number("non_embedding_params", positive=True),
                tokens=c.number("tokens", positive=True),
                flops=c.number("flops", positive=True),
                step=c.integer("step", minimum=0),
                stderr=c.number("stderr"),
                n_examples=c.integer("n_examples", minimum=1),
                higher_is_better=c.boolean("higher_is_better"),
                chance=c.number("chance"),
                chance_known=c.number("chance") is not None,
            )
            if point.stderr is not None and point.stderr < 0:
                raise c.fail("stderr", "must not be negative")
            parsed.points.append(point)
        if not parsed.points:
            raise ImportFileError(path, "no rows")
        return parsed
