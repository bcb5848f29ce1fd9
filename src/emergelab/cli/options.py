"""The selector options every analysis command shares: --task, --family, --shots, --model, --checkpoint.

Defined once so `analyze`, `forecast`, `fit`, `report` and `metrics` select in the same words, and
turned into one `Selection` (analysis/select.py) by `selection()`; a selector that matches nothing
or is ambiguous is a one-line exit 2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from emergelab.cli.common import fail

if TYPE_CHECKING:
    from emergelab.analysis.select import Selection

TASK_HELP = "Task name (addition) or stored label (addition-3d); repeat for several."

Tasks = Annotated[list[str] | None, typer.Option("--task", help=TASK_HELP)]
Families = Annotated[list[str] | None, typer.Option("--family", help="Model family (imported data); repeat for several.")]
Shots = Annotated[list[int] | None, typer.Option("--shots", help="In-context examples (0 = zero-shot); repeat for several.")]
Models = Annotated[list[str] | None, typer.Option("--model", help="Model name; repeat for several.")]
Checkpoint = Annotated[str | None, typer.Option(
    "--checkpoint", help="final | all | STEP. Default: each model's final checkpoint for --scale params / "
                         "non_embedding_params / flops; every checkpoint (one training curve per model) for "
                         "--scale step / tokens. STEP compares all models at that training step.")]


def selection(task: list[str] | str | None = None, family: list[str] | None = None, shots: list[int] | None = None,
              model: list[str] | None = None, checkpoint: str | None = None) -> Selection:
    """The command line's selectors as one Selection (exit 2 on a malformed value)."""
    from emergelab.analysis.select import Selection, SelectionError

    try:
        return Selection.parse(task, family, shots, model, checkpoint)
    except SelectionError as exc:
        raise fail(str(exc)) from None
