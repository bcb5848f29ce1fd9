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

`app` is assembled on first use: building it imports every group, and with them the analysis code
(SciPy, the laws: seconds). A command line that trains (`emergelab demo`, `emergelab run SPEC`)
gets the same app with run.py's commands only (`main`), so the sweep starts without waiting for
code it does not run; the report's libraries are imported once a core is idle (report/warm.py).
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from emergelab.cli.errors import ErrorMappingGroup

# the command groups whose commands are mounted on the top-level app, in `emergelab --help`'s order
GROUPS = ("run", "analyze", "gain", "entropy", "skills", "seeds", "shared_circuits", "quanta", "forecast", "fit",
          "importing", "hf")
HELP = ("emergelab: produce, measure, explain and predict emergent abilities of language models.\n\n"
        "Example: `emergelab demo`, then `emergelab analyze runs/demo`. Exit codes: 0 done, "
        "2 bad input or environment (one line), 1 internal error (`--debug` shows the traceback).")


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"emergelab {version('emergelab')}")
        raise typer.Exit()


def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of any error.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Options for every command (the help text is the app's)."""


def build_app(groups: tuple[str, ...] = GROUPS, theory: bool = True) -> typer.Typer:
    """The top-level app with the commands of `groups` (module names under emergelab.cli) and,
    with `theory`, the `theory` sub-app."""
    app = typer.Typer(cls=ErrorMappingGroup, add_completion=False, no_args_is_help=True,
                      rich_markup_mode="markdown", help=HELP)
    app.callback()(_options)
    for name in groups:
        app.registered_commands.extend(importlib.import_module(f"emergelab.cli.{name}").app.registered_commands)
    if theory:
        from emergelab.cli import theory as theory_cli

        app.add_typer(theory_cli.app, name="theory", help="Exact toy systems where emergence can be computed.")
    return app


def _full_app() -> typer.Typer:
    """`app`, every command group's commands, built once."""
    if "app" not in globals():
        globals()["app"] = build_app()
    return globals()["app"]


def __getattr__(name: str):
    if name == "app":  # `from emergelab.cli import app`, `emergelab.cli.app`
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """A Python warning as one line on stderr, without the file, line number and source line that
    the default format shows (`--debug` keeps the default)."""
    import sys

    print(f"warning: {' '.join(str(message).split())}", file=file or sys.stderr)


def main() -> None:
    """The `emergelab` script (tests call `app` through CliRunner and keep pytest's own warnings)."""
    import sys
    import warnings

    from emergelab.forkserver import trains

    if "--debug" not in sys.argv[1:]:
        warnings.showwarning = _warning_line
    # `demo` and `run` are run.py's: the other groups (and the analysis code they import) wait
    app = build_app(("run",), theory=False) if trains(sys.argv[1:]) else _full_app()
    app()


if __name__ == "__main__":
    main()
