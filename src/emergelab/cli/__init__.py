"""The `emergelab` command: one Typer app assembled from one module per command group.

    run.py        run, demo, report, metrics, export, tasks
    analyze.py    analyze            gain.py       gain              forecast.py   forecast
    entropy.py    entropy            fit.py        fit               skills.py     skills
    seeds.py      seeds
    importing.py  import             hf.py         score-hf          theory.py, circuits.py  theory ...

Each module keeps its own small Typer app (so it can be tested alone); here their commands are
mounted on the top-level app, whose command class (cli/errors.py) maps failures to exit codes:
2 for the user's input or environment (one line), 1 for an internal error; `--debug` shows the
traceback instead.
"""

from __future__ import annotations

from typing import Annotated

import typer

from emergelab.cli import (
    analyze,
    entropy,
    fit,
    forecast,
    gain,
    hf,
    importing,
    quanta,
    run,
    seeds,
    shared_circuits,
    skills,
    theory,
)
from emergelab.cli.errors import ErrorMappingGroup

app = typer.Typer(
    cls=ErrorMappingGroup, add_completion=False, no_args_is_help=True, rich_markup_mode="markdown",
    help="emergelab: produce, measure, explain and predict emergent abilities of language models.\n\n"
         "Example: `emergelab demo`, then `emergelab analyze runs/demo`. Exit codes: 0 done, "
         "2 bad input or environment (one line), 1 internal error (`--debug` shows the traceback).",
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"emergelab {version('emergelab')}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of any error.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Options for every command (the help text is the app's)."""

for _group in (run, analyze, gain, entropy, skills, seeds, shared_circuits, quanta, forecast, fit, importing, hf):
    app.registered_commands.extend(_group.app.registered_commands)
app.add_typer(theory.app, name="theory", help="Exact toy systems where emergence can be computed.")


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """A Python warning as one line on stderr, without the file, line number and source line that
    the default format shows (`--debug` keeps the default)."""
    import sys

    print(f"warning: {' '.join(str(message).split())}", file=file or sys.stderr)


def main() -> None:
    """The `emergelab` script (tests call `app` through CliRunner and keep pytest's own warnings)."""
    import sys
    import warnings

    if "--debug" not in sys.argv[1:]:
        warnings.showwarning = _warning_line
    app()


if __name__ == "__main__":
    main()
