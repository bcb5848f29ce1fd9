"""Exact minimum circuits: literature sizes, verification, capability curves, census, CLI.

Known minimum sizes over B2 (literal and negated outputs free unless noted):
- n-bit increment: 2n - 3 gates, 2n - 2 when every output must be a gate (x0 -> not x0 costs a gate);
- full adder: 5; 2-bit adder (4 inputs, 3 outputs): 7; 2x2-bit multiplier: 7
  (Knuth, TAOCP vol. 4A, 7.1.2; Kulikov et al., SAT-based circuit synthesis).
"""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from emergelab.cli.circuits import app
from emergelab.theory.circuits import (
    Circuit,
    FunctionSpecError,
    capability_curve,
    min_size,
    npn_classes,
    parse_function,
)
from emergelab.theory.circuits.basis import apply_op
from emergelab.theory.circuits.encoding import EncodingOptions
from emergelab.theory.circuits.functions import BoolFunction, input_table
from emergelab.theory.circuits.synth import solve_size


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_increment_needs_2n_minus_3(n: int) -> None:
    res = min_size(f"increment:{n}")
    assert res.min_size == 2 * n - 3
    assert res.proved_lower_bound
    assert res.circuit.computes(parse_function(f"increment:{n}"))


@pytest.mark.parametrize("n", [2, 3, 4])
def test_increment_outputs_must_be_gates_needs_2n_minus_2(n: int) -> None:
    res = min_size(f"increment:{n}", outputs_must_be_gates=True)
    assert res.min_size == 2 * n - 2
    assert all(o.node >= n for o in res.circuit.outputs) and not any(o.negated for o in res.circuit.outputs)


@pytest.mark.parametrize(
    ("name", "size"),
    [("full_adder", 5), ("add:2", 7), ("mult:2", 7), ("majority:3", 4), ("parity:4", 3), ("and:4", 3)],
)
def test_known_sizes(name: str, size: int) -> None:
    res = min_size(name)
    assert res.min_size == size and res.proved_lower_bound
    assert res.circuit.computes(parse_function(name))


def test_bases_agree_where_they_must() -> None:
    # XAG with complemented edges allows the same non-degenerate gates as B2; AIG pays for XOR.
    assert min_size("full_adder", basis="XAG").min_size == 5
    assert min_size("parity:3", basis="AIG").min_size == 6  # XOR = 3 AND gates, twice
    assert min_size("majority:3", basis="AIG").min_size == 4


def test_random_functions_verified_and_sat_side_agrees() -> None:
    rng = random.Random(1)
    for _ in range(6):
        fn = BoolFunction("rand", 3, (rng.getrandbits(8), rng.getrandbits(8)))
        res = min_size(fn)
        assert res.circuit.computes(fn)
        # without symmetry breaks the minimum is the same (breaks only remove equivalent circuits)
        plain = EncodingOptions(colex=False, no_duplicates=False, no_reapply=False, all_used=False)
        assert solve_size(fn, res.min_size, options=plain, portfolio=False)[0] is not None
        if res.min_size:
            below = solve_size(fn, res.min_size - 1, options=plain, portfolio=False)[0]
            assert below is None


def _brute_force_costs(n: int, max_gates: int) -> dict[int, int]:
    """Independent check: cost of every n-input function by breadth-first enumeration of normal chains."""
    mask = (1 << (1 << n)) - 1
    base = [input_table(j, n) for j in range(n)]
    ops = [0b1000, 0b0100, 0b0010, 0b0110, 0b1110]
    cost = {}
    for t in [0, *base]:
        cost.setdefault(t, 0)
        cost.setdefault(~t & mask, 0)
    frontier = {tuple()}
    for g in range(1, max_gates + 1):
        nxt = set()
        for chain in frontier:
            nodes = base + list(chain)
            for b in range(len(nodes)):
                for a in range(b):
                    for op in ops:
                        t = apply_op(op, nodes[a], nodes[b], mask)
                        if t in nodes or t == 0:
                            continue
                        cost.setdefault(t, g)
                        cost.setdefault(~t & mask, g)
                        if g < max_gates:
                            nxt.add(tuple(sorted((*chain, t))))
        frontier = nxt
    return cost


def test_three_input_census_matches_brute_force() -> None:
    brute = _brute_force_costs(3, 4)
    assert len(brute) == 256  # every 3-input function costs at most 4
    for rep, _size in npn_classes(3):
        assert min_size(BoolFunction("f", 3, (rep,))).min_size == brute[rep]


def test_npn_class_counts() -> None:
    assert len(npn_classes(3)) == 14
    assert sum(s for _, s in npn_classes(3)) == 256


@pytest.mark.slow
def test_four_input_census_knuth() -> None:
    from emergelab.theory.circuits import census

    classes = npn_classes(4)
    assert len(classes) == 222
    # TAOCP 4A, 7.1.2: number of 4-input functions of cost 0..7
    assert census(4) == {0: 10, 1: 60, 2: 456, 3: 2474, 4: 10624, 5: 24184, 6: 25008, 7: 2720}


def test_capability_curve_monotone_and_ends_at_min_size() -> None:
    points = capability_curve("increment:4")
    fractions = [p.fraction for p in points]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0 and fractions[-2] < 1.0
    assert points[-1].budget == 5
    for p in points:
        fn = parse_function("increment:4")
        assert p.circuit.correct_rows(fn).bit_count() == p.correct_rows
        assert p.circuit.size <= p.budget
    assert points[0].correct_rows == 8  # y0 = ~x0 free, others = literals: right when x0 = 0


def test_function_parsing() -> None:
    assert parse_function("tt:e8").outputs == parse_function("majority:3").outputs
    assert parse_function("0x96").outputs == parse_function("parity:3").outputs
    assert parse_function("add:1").outputs == parse_function("tt:6,8").outputs
    for bad in ["frobnicate:3", "increment", "increment:x", "tt:xyz", "tt:e8,1"]:
        with pytest.raises(FunctionSpecError):
            parse_function(bad)


def test_circuit_text_and_png(tmp_path) -> None:
    from emergelab.theory.circuits.draw import draw_circuit

    res = min_size("full_adder")
    text = res.circuit.to_text()
    assert text.count("\n") == 5 + 2 - 1 and "y1 =" in text
    png = draw_circuit(res.circuit, tmp_path / "fa.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert isinstance(res.circuit, Circuit)


runner = CliRunner()


def test_cli_min_size_json(tmp_path) -> None:
    out = runner.invoke(
        app, ["min-size", "increment:4", "--format", "json", "--png", str(tmp_path / "c.png")]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) == {"function", "basis", "min_size", "proved_lower_bound", "seconds", "gates", "outputs"}
    assert data["min_size"] == 5 and data["proved_lower_bound"] is True and len(data["gates"]) == 5
    assert set(data["gates"][0]) >= {"id", "op", "inputs"}
    assert (tmp_path / "c.png").exists()


def test_cli_text_gates_convention() -> None:
    out = runner.invoke(app, ["min-size", "increment:3", "--outputs-must-be-gates"])
    assert out.exit_code == 0 and "4 gates" in out.stdout


def test_cli_capability_json() -> None:
    out = runner.invoke(app, ["capability-curve", "increment:3", "--format", "json"])
    assert out.exit_code == 0, out.output
    pts = json.loads(out.stdout)
    assert [p["budget"] for p in pts] == [0, 1, 2, 3] and pts[-1]["value"] == 1.0


@pytest.mark.parametrize(
    "args",
    [
        ["min-size", "nosuch:3"],
        ["capability-curve", "increment:x"],
        ["min-size", "increment:3", "--basis", "NAND"],
    ],
)
def test_cli_bad_input_exit_2(args: list[str]) -> None:
    out = runner.invoke(app, args)
    assert out.exit_code == 2
    assert out.stderr.strip().count("\n") == 0 and "error" in out.stderr


def test_cli_help_has_example() -> None:
    for cmd in ["min-size", "capability-curve"]:
        out = runner.invoke(app, [cmd, "--help"])
        assert out.exit_code == 0 and "Example" in out.stdout


def test_registered_system() -> None:
    from emergelab.theory.registry import SYSTEMS

    res = SYSTEMS["circuits"](function="increment:3", max_k=4)
    assert res.curves[0].value[-1] == 1.0
    assert res.curves[1].value == [0.0, 1.0, 3.0, 5.0]
    assert res.table_rows


# -- restriction bounds (bounds.py): fixing an input deletes its readers --------------------------


def test_restrict_and_lift() -> None:
    from emergelab.theory.circuits.bounds import lift, restrict
    from emergelab.theory.circuits.circuit import Gate

    fn = parse_function("increment:3")
    proj = restrict(fn, 2, 0)  # top bit 0: low outputs unchanged, y2 = x0 & x1
    assert proj.inputs == (0, 1) and proj.fn.n_inputs == 2
    assert proj.fn.outputs == (0b0101, 0b0110, 0b1000)
    assert lift([Gate(8, 0, 1), Gate(6, 1, 2)], restrict(fn, 0, 1), 3) == [Gate(8, 1, 2), Gate(6, 2, 3)]


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("increment:4", 5),
        ("increment:5", 7),
        ("full_adder", 5),
        ("add:2", 7),
        ("mult:2", 7),
    ],
)
def test_restriction_bounds_keep_literature_sizes(name: str, size: int) -> None:
    res = min_size(name, restrictions=True)
    assert res.min_size == size and res.proved_lower_bound
    assert res.circuit.computes(parse_function(name))


def test_restriction_bounds_agree_on_random_functions() -> None:
    rng = random.Random(7)
    cases = [BoolFunction("rand", 3, (rng.getrandbits(8), rng.getrandbits(8))) for _ in range(8)]
    for fn in cases + [BoolFunction("rand", 4, (rng.getrandbits(16),))]:
        with_bounds = min_size(fn, restrictions=True)
        assert with_bounds.circuit.computes(fn) and with_bounds.proved_lower_bound
        assert with_bounds.min_size == min_size(fn, restrictions=False).min_size


def test_increment_6_and_7_proved_with_restrictions() -> None:
    for n in (6, 7):
        res = min_size(f"increment:{n}")
        assert res.min_size == 2 * n - 3 and res.proved_lower_bound
        assert res.circuit.computes(parse_function(f"increment:{n}"))


def test_capability_row_bounds_do_not_change_the_curve() -> None:
    fn = parse_function("increment:5")
    fast = capability_curve(fn, restrictions=True)
    plain = capability_curve(fn, restrictions=False)
    assert [p.correct_rows for p in fast] == [p.correct_rows for p in plain]
    assert [p.correct_rows for p in fast] == [16, 24, 24, 28, 28, 30, 30, 32]
    for p in fast:
        assert p.circuit.correct_rows(fn).bit_count() == p.correct_rows and p.circuit.size <= p.budget


def test_capability_on_random_functions_matches_brute_force_budget_one() -> None:
    # budget 1: try every single gate and every output choice by hand
    rng = random.Random(3)
    fn = BoolFunction("rand", 3, (rng.getrandbits(8),))
    mask = fn.mask
    lits = [0, mask] + [t for j in range(3) for t in (input_table(j, 3), ~input_table(j, 3) & mask)]
    best0 = max((~(t ^ fn.outputs[0]) & mask).bit_count() for t in lits)
    best1 = best0
    for a in range(3):
        for b in range(a + 1, 3):
            for op in range(16):
                t = apply_op(op, input_table(a, 3), input_table(b, 3), mask)
                best1 = max(best1, (~(t ^ fn.outputs[0]) & mask).bit_count())
    pts = capability_curve(fn, max_budget=1)
    assert [p.correct_rows for p in pts][:2] == [best0, best1][: len(pts)]
