"""`emergelab theory circuits ...`: exact minimum circuits and capability curves from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from emergelab.cli.common import fail_now
from emergelab.theory.circuits.basis import check_basis
from emergelab.theory.circuits.capability import capability_curve
from emergelab.theory.circuits.functions import FunctionSpecError, parse_function
from emergelab.theory.circuits.solver import SolveTimeout
from emergelab.theory.circuits.synth import min_size

app = typer.Typer(help="Exact minimum Boolean circuits by SAT.", no_args_is_help=True)

FUNCTION_HELP = "increment:N, add:N, mult:N, majority:N, parity:N, and:N, full_adder, or hex tt:e8[,96]"


def _check(function: str, basis: str, fmt: str):
    try:
        fn = parse_function(function)
        b = check_basis(basis)
    except (FunctionSpecError, ValueError) as exc:
        fail_now(str(exc))
    if fmt not in ("text", "json"):
        fail_now(f"unknown format {fmt!r}; choose text or json")
    return fn, b


@app.command("min-size")
def min_size_cmd(
    function: str = typer.Argument(..., help=FUNCTION_HELP),
    basis: str = typer.Option("B2", "--basis", help="B2, AIG or XAG"),
    outputs_must_be_gates: bool = typer.Option(
        False, "--outputs-must-be-gates", help="every output must be a gate (no free literals/negation)"
    ),
    fmt: str = typer.Option("text", "--format", help="text or json"),
    png: Path | None = typer.Option(None, "--png", help="draw the circuit to this PNG"),
    timeout: float | None = typer.Option(None, "--timeout", help="give up after this many seconds"),
) -> None:
    """Minimum number of gates, with a verified circuit and the proved lower bound.

    Example: emergelab theory circuits min-size increment:5 --basis B2 --format json
    """
    fn, b = _check(function, basis, fmt)
    try:
        res = min_size(fn, basis=b, outputs_must_be_gates=outputs_must_be_gates, timeout=timeout)
    except SolveTimeout as exc:
        typer.echo(f"error: {exc} ({timeout} s) for {fn.name}", err=True)
        raise typer.Exit(code=1) from exc
    if png is not None:
        from emergelab.theory.circuits.draw import draw_circuit

        draw_circuit(res.circuit, png, title=f"{fn.name}: {res.min_size} gates ({b})")
    if fmt == "json":
        typer.echo(json.dumps(res.to_json(), indent=1))
        return
    bound = "proved minimal" if res.proved_lower_bound else "lower bound not proved"
    typer.echo(f"{fn.name} over {b}: {res.min_size} gates ({bound}, {res.seconds:.2f} s)")
    typer.echo(res.circuit.to_text())


@app.command("capability-curve")
def capability_cmd(
    function: str = typer.Argument(..., help=FUNCTION_HELP),
    basis: str = typer.Option("B2", "--basis", help="B2, AIG or XAG"),
    outputs_must_be_gates: bool = typer.Option(False, "--outputs-must-be-gates"),
    fmt: str = typer.Option("text", "--format", help="text or json"),
    timeout: float | None = typer.Option(None, "--timeout", help="give up after this many seconds"),
) -> None:
    """Fraction of inputs on which the best g-gate circuit is fully right, for g = 0 .. min size.

    Example: emergelab theory circuits capability-curve increment:4 --format json
    """
    fn, b = _check(function, basis, fmt)
    try:
        points = capability_curve(fn, basis=b, outputs_must_be_gates=outputs_must_be_gates, timeout=timeout)
    except SolveTimeout as exc:
        typer.echo(f"error: {exc} ({timeout} s) for {fn.name}", err=True)
        raise typer.Exit(code=1) from exc
    if fmt == "json":
        typer.echo(json.dumps([{"budget": p.budget, "value": p.fraction} for p in points]))
        return
    typer.echo(f"{fn.name} over {b}: gates -> inputs right")
    for p in points:
        typer.echo(f"{p.budget:3d}  {p.correct_rows:6d}/{p.total_rows:<6d} {p.fraction:.4f}")
