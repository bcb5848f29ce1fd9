"""What every command shares: the consoles, the one-line failure, the experiment-folder check.

Every user-facing failure goes through `fail`: one line on stderr, exit code 2, so that errors
look the same whichever command raised them.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

console = Console(stderr=True)
out_console = Console(markup=False)  # command output is data: task labels hold [brackets], never markup


def fail(message: str) -> typer.Exit:
    """One line on stderr, exit code 2 (raise the returned exception)."""
    typer.echo(message if message.startswith(("error", "spec error")) else f"error: {message}", err=True)
    return typer.Exit(2)


def experiment_folder(folder: Path) -> Path:
    """`folder` if it holds an experiment store; otherwise a one-line exit 2."""
    from emergelab.store import DB_NAME

    if not (folder / DB_NAME).is_file():
        raise fail(f"error: {folder} is not an experiment folder (no {DB_NAME})")
    return folder


def fail_now(message: str) -> NoReturn:
    """`fail`, raised here (for helpers that return values on success)."""
    raise fail(message)


class Scale(StrEnum):
    non_embedding_params = "non_embedding_params"
    params = "params"
    flops = "flops"
    tokens = "tokens"
    step = "step"


def load_curves_or_fail(folder: Path, scale: str, selection=None):
    """The folder's curves at `scale` (restricted by a `Selection` from cli/options.py); a missing
    folder, a selector matching nothing, or no curves is a one-line exit 2."""
    from emergelab.analysis.curves import load_curves
    from emergelab.analysis.select import SelectionError

    if not folder.exists():
        fail_now(f"{folder} does not exist")
    try:
        curves = load_curves(folder, scale=scale, selection=selection)
    except SelectionError as exc:
        fail_now(str(exc))
    except ValueError as exc:  # malformed stored or imported values; OS and store errors go to cli/errors.py
        fail_now(f"cannot load curves from {folder}: {exc}")
    if not curves:
        fail_now(f"no curves in {folder}")
    return curves
