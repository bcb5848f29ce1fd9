"""Reading rows from CSV / TSV / Parquet / JSONL, and strict cell parsing with line numbers.

Hand-made tables are where typos live, so every bad cell is reported as `line N: column: problem`
and unknown columns are flagged instead of silently ignored.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from emergelab.store.importers.base import Column, ImportFileError

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def _delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def columns(path: Path) -> set[str]:
    """Column names without reading the data (cheap enough for sniffing)."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return set(pq.read_schema(path).names)
    if suffix in (".csv", ".tsv"):
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f, delimiter=_delimiter(path)), [])
        return {h.strip() for h in header}
    if suffix == ".jsonl":
        with open(path, encoding="utf-8") as f:
            first = json.loads(f.readline())
        return set(first) if isinstance(first, dict) else set()
    return set()


def check_columns(path: Path, spec: Sequence[Column]) -> tuple[dict[str, str], list[str]]:
    """The file's column -> its documented name (aliases like `n` -> `n_examples` resolved), and a
    warning naming any column the format does not know. A missing required column, or a column
    given under two names, is refused."""
    cols = columns(path)
    rename: dict[str, str] = {}
    for col in spec:
        given = [c for c in (col.name, *col.aliases) if c in cols]
        if len(given) > 1:
            raise ImportFileError(path, f"columns {' and '.join(given)} both mean {col.name}; keep one")
        if given:
            rename[given[0]] = col.name
        elif col.required:
            aka = f" (or {', '.join(col.aliases)})" if col.aliases else ""
            raise ImportFileError(path, f"missing column {col.name}{aka}")
    unknown = sorted(cols - set(rename))
    known = ", ".join(c.name for c in spec)
    warnings = [f"{path.name}: ignored unknown column(s) {', '.join(unknown)} (known: {known})"] if unknown else []
    return rename, warnings


def rows(path: Path, rename: dict[str, str] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs with columns under their documented names; empty lines skipped."""
    for line, row in _raw_rows(path):
        yield line, row if rename is None else {rename.get(k, k): v for k, v in row.items()}


def _raw_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        for i, row in enumerate(pq.read_table(path).to_pylist()):
            yield i + 1, row
    elif suffix in (".csv", ".tsv"):
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f, delimiter=_delimiter(path))
            reader.fieldnames = [h.strip() for h in reader.fieldnames or []]
            for row in reader:
                if any((v or "").strip() for v in row.values() if isinstance(v, str)):
                    yield reader.line_num, row
    elif suffix == ".jsonl":
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if line.strip():
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise ImportFileError(path, f"line {i}: not JSON ({exc.msg})") from None
                    if not isinstance(row, dict):
                        raise ImportFileError(path, f"line {i}: expected a JSON object")
                    yield i, row
    else:
        raise ImportFileError(path, f"unsupported table type {suffix!r}")


class Cells:
    """Typed access to one row's cells; errors name the file, line and column."""

    def __init__(self, path: Path, line: int, row: dict[str, Any]):
        self.path, self.line, self.row = path, line, row

    def fail(self, column: str, problem: str) -> ImportFileError:
        return ImportFileError(self.path, f"line {self.line}: {column}: {problem}")

    def _raw(self, column: str) -> Any:
        value = self.row.get(column)
        if isinstance(value, str):
            value = value.strip()
            if value == "" or value.lower() in ("na", "nan", "none", "null"):
                return None
        if isinstance(value, float) and math.isnan(value):
            return None
        return value

    def text(self, column: str, required: bool = False) -> str | None:
        value = self._raw(column)
        if value is None:
            if required:
                raise self.fail(column, "missing")
            return None
        return str(value)

    def number(self, column: str, required: bool = False, positive: bool = False,
               nonnegative: bool = False) -> float | None:
        raw = self._raw(column)
        if raw is None:
            if required:
                raise self.fail(column, "missing")
            return None
        try:
            if isinstance(raw, bool):
                raise ValueError
            value = float(raw)
        except (TypeError, ValueError):
            raise self.fail(column, f"{raw!r} is not a number") from None
        if not math.isfinite(value):
            raise self.fail(column, f"{raw!r} is not finite")
        if positive and value <= 0:
            raise self.fail(column, f"{raw!r} must be positive")
        if nonnegative and value < 0:
            raise self.fail(column, f"{raw!r} must not be negative")
        return value

    def integer(self, column: str, required: bool = False, minimum: int | None = None) -> int | None:
        value = self.number(column, required)
        if value is None:
            return None
        if value != int(value):
            raise self.fail(column, f"{value!r} is not a whole number")
        if minimum is not None and value < minimum:
            raise self.fail(column, f"{int(value)} is below {minimum}")
        return int(value)

    def boolean(self, column: str) -> bool | None:
        raw = self._raw(column)
        if raw is None or isinstance(raw, bool):
            return raw
        text = str(raw).lower()
        if text in ("true", "1", "yes", "t", "1.0"):
            return True
        if text in ("false", "0", "no", "f", "0.0"):
            return False
        raise self.fail(column, f"{raw!r} is not true/false")
