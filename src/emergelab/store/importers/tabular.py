"""Reading rows from CSV / TSV / Parquet / JSONL, and strict cell parsing with line numbers.

Hand-made tables are where typos live, so every bad cell is reported as `line N: column: problem`
and unknown columns are flagged instead of silently ignored.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from emergelab.store.importers.base import ImportFileError

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


def check_columns(path: Path, required: tuple[str, ...], optional: tuple[str, ...]) -> list[str]:
    """Refuse a file missing a required column; return a warning naming any column the format ignores."""
    cols = columns(path)
    missing = [c for c in required if c not in cols]
    if missing:
        raise ImportFileError(path, f"missing column(s) {', '.join(missing)}")
    unknown = sorted(cols - set(required) - set(optional))
    return [f"{path.name}: ignored column(s) {', '.join(unknown)}"] if unknown else []


def rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs; empty lines of text formats are skipped."""
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

    def number(self, column: str, required: bool = False, positive: bool = False) -> float | None:
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
