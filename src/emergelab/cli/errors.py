"""Exit codes that mean something: which failures are the user's and how each is said in one line.

    0  done
    1  an internal error (a bug here): "internal error: ...; rerun with --debug for the traceback"
    2  bad input or environment: one line naming the problem (a refused spec, a corrupt or busy
       database, a read-only folder, a file that is not text, not enough memory)

Commands raise ordinary exceptions; `ErrorMappingGroup` (the top-level command's class) turns them
into one line and an exit code, so `CliRunner` sees exactly what a shell does. `--debug` lets the
traceback through instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import typer
from typer.core import TyperGroup

from emergelab.spec import SpecError

INTERNAL_HINT = "rerun with --debug for the traceback"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _os_error(e: OSError) -> str:
    """`[Errno 13] Permission denied: 'x'` → `x: permission denied` (the path first, as shells say it)."""
    reason = (e.strerror or _one_line(str(e)) or type(e).__name__).lower()
    where = e.filename if e.filename is not None else ""
    if e.filename2 is not None:
        where = f"{where} → {e.filename2}"
    return f"error: {os.fsdecode(where)}: {reason}" if where != "" else f"error: {reason}"


def _decode_error(e: UnicodeDecodeError) -> str:
    return f"error: a file is not {e.encoding.upper()} text (byte {e.start}: {e.reason}); is it a binary file?"


def _memory_error(e: MemoryError) -> str:
    return "error: out of memory; lower batch_size, the widths, the seeds or executor.workers"


def _message(e: BaseException) -> str:
    text = _one_line(str(e))
    return text if text.startswith(("error", "spec error")) else f"error: {text}"


@dataclass(frozen=True)
class UserFailure:
    """An exception family that means bad input or environment, and how to say it."""

    types: tuple[type[BaseException], ...]
    say: Callable


def _user_failures() -> list[UserFailure]:
    """Checked in order; the first match wins (subclasses before their bases)."""
    from emergelab.models.hf_export import ExportError
    from emergelab.registry import UnknownNameError
    from emergelab.store import StoreBusy
    from emergelab.store.importers.base import ImportFileError

    # a SelectionError can only have been raised if its module was imported; importing it here
    # would import all of emergelab.analysis (SciPy: seconds) to answer a failed `emergelab run`
    select = sys.modules.get("emergelab.analysis.select")
    selection_error = (select.SelectionError,) if select is not None else ()
    return [
        UserFailure((SpecError, *selection_error, ImportFileError, ExportError, StoreBusy, UnknownNameError), _message),
        # the database file is not a DuckDB database, is truncated, or cannot be read/written
        UserFailure((duckdb.IOException, duckdb.SerializationException), _message),
        UserFailure((UnicodeDecodeError,), _decode_error),
        UserFailure((OSError,), _os_error),
        UserFailure((MemoryError,), _memory_error),
    ]


def describe(e: BaseException) -> tuple[int, str]:
    """Exit code and the one line to print for an exception a command let through."""
    for failure in _user_failures():
        if isinstance(e, failure.types):
            return 2, _one_line(failure.say(e))
    return 1, f"internal error: {type(e).__name__}: {_one_line(str(e))}; {INTERNAL_HINT}"


class ErrorMappingGroup(TyperGroup):
    """The top-level command: a failure inside any sub-command becomes one line and an exit code."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # usage errors and exits: Typer's own
            raise
        except Exception as e:
            if ctx.params.get("debug"):
                raise
            code, line = describe(e)
            typer.echo(line, err=True)
            raise typer.Exit(code) from None
