"""The `emergelab` command: one Typer app assembled from one module per command group.

    run.py        run, demo, report, metrics, export, tasks
    analyze.py    analyze            forecast.py   forecast          fit.py   fit
    importing.py  import             hf.py         score-hf          theory.py, circuits.py  theory ...

Each module keeps its own small Typer app (so it can be tested alone); here their commands are
mounted on the top-level app. `main` maps failures to exit codes: 2 for the user's input or
environment (one line), 1 for an internal error.
"""

from __future__ import annotations

import typer

from emergelab.cli import analyze, fit, forecast, hf, importing, run, theory

app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode="markdown",
    help="emergelab: produce, measure, explain and predict emergent abilities of language models.",
)

for _group in (run, analyze, forecast, fit, importing, hf):
    app.registered_commands.extend(_group.app.registered_commands)
app.add_typer(theory.app, name="theory", help="Exact toy systems where emergence can be computed.")


def main() -> None:
    from emergelab.store import StoreBusy

    try:
        app()
    except StoreBusy as e:
        typer.echo(f"error: {e}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
