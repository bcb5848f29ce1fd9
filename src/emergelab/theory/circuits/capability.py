"""Capability vs gate budget: for each budget g, the most truth-table rows (inputs) on which some
g-gate circuit gets every output bit right. Exact: incremental SAT with a totalizer ("at least m rows
right"), raising m past each circuit found until UNSAT proves the optimum.

Speed-ups, all sound: the minimum size K comes from `min_size` (so g >= K gives every row and g < K
at most all but one); and, for functions of at least RESTRICT_FROM inputs with free literals, the
restriction bound of `bounds.py` carried over to rows: fixing x_j = c deletes the fan-out of x_j, and
what is left is a (g - fanout)-gate circuit right on the same rows with x_j = c, so

    rows right with x_j = c  <=  rows_{f | x_j = c}(g - fanout(x_j)),

a counting argument CDCL cannot find by itself, taken from the (recursively computed, exact) curve of
the restricted function.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from pysat.card import ITotalizer

from emergelab.theory.circuits.basis import check_basis
from emergelab.theory.circuits.bounds import RESTRICT_FROM, candidate_inputs
from emergelab.theory.circuits.circuit import Circuit
from emergelab.theory.circuits.encoding import CircuitEncoding, EncodingOptions, OutputSpec
from emergelab.theory.circuits.functions import BoolFunction, input_table, parse_function
from emergelab.theory.circuits.solver import DEFAULT_SOLVER, SatSolver
from emergelab.theory.circuits.synth import _min_size, _plan, restricted_core

PARTIAL_OPTIONS = EncodingOptions(all_used=False)  # fewer than g useful gates must stay possible
_CURVE_MEMO: dict[tuple, list[int]] = {}  # (basis, n, gate-output tables) -> rows right per budget


@dataclass
class CapabilityPoint:
    budget: int
    correct_rows: int
    total_rows: int
    circuit: Circuit
    seconds: float

    @property
    def fraction(self) -> float:
        return self.correct_rows / self.total_rows


@dataclass(frozen=True)
class RowBound:
    """Rows with x_input = const that any circuit gets right, by gates left after deleting the
    fan-out of x_input: `rows[b]` for b gates (the last entry holds for all larger b)."""

    input: int
    const: int
    rows: tuple[int, ...]

    def cap(self, gates: int) -> int:
        return self.rows[min(max(gates, 0), len(self.rows) - 1)]


def row_bounds(
    fn: BoolFunction, basis: str, solver: str = DEFAULT_SOLVER, deadline: float | None = None
) -> list[RowBound]:
    """Restriction bounds for `fn` (convention a): exact curves of f | x_j = c, scaled to f's rows."""
    specs = [sp.table for sp in _plan(fn, False).specs]
    out = []
    for j in candidate_inputs(fn, specs):
        for c in (0, 1):
            proj, core = restricted_core(fn, j, c)  # free outputs never cost a row: gate outputs only
            key = (basis, core.n_inputs, core.outputs)
            if key not in _CURVE_MEMO:
                points = _curve(core, basis, False, None, deadline, solver)
                _CURVE_MEMO[key] = [p.correct_rows for p in points]
            # the restricted function ignores n - 1 - m of f's other inputs: each row counts that often
            scale = 1 << (fn.n_inputs - 1 - proj.fn.n_inputs)
            out.append(RowBound(j, c, tuple(scale * r for r in _CURVE_MEMO[key])))
    return out


def best_rows(
    fn: BoolFunction,
    budget: int,
    basis: str = "B2",
    outputs_must_be_gates: bool = False,
    at_least: int = 0,
    solver: str = DEFAULT_SOLVER,
    deadline: float | None = None,
    at_most: int | None = None,
    bounds: Sequence[RowBound] = (),
) -> tuple[int, Circuit | None]:
    """Max rows right with `budget` gates, and a circuit achieving it (None if none beats `at_least`).

    `at_most`: a proved upper bound (search stops there); `bounds`: restriction bounds (`row_bounds`).
    """
    basis = check_basis(basis)
    total = fn.n_rows
    upper = total if at_most is None else at_most
    if budget == 0 and outputs_must_be_gates:
        return (total, Circuit(fn.n_inputs)) if not fn.outputs else (0, None)
    if at_least >= upper:
        return at_least, None
    specs = [
        OutputSpec(tt, may_be_literal=not outputs_must_be_gates, negation_free=not outputs_must_be_gates)
        for tt in fn.outputs
    ]
    enc = CircuitEncoding(
        fn.n_inputs, budget, specs, basis, outputs_must_be_gates, PARTIAL_OPTIONS, partial=True
    )
    for t in range(total):
        enc.add_row(t)
    sels = [enc.row_sel[t] for t in range(total)]
    extra = _bound_clauses(enc, fn, budget, bounds)
    tot = ITotalizer(lits=[-s for s in sels], ubound=total, top_id=enc.top)
    best, best_circ = at_least, None
    with SatSolver(solver) as sat:
        sat.add(enc.take_clauses())
        sat.add(extra)
        sat.add(tot.cnf.clauses)
        while best < upper:
            m = best + 1  # ask for at least m rows right = at most total - m rows wrong
            if not sat.solve([-tot.rhs[total - m]], deadline=deadline):
                break
            gates, outs = enc.decode(sat.model())
            circ = Circuit(fn.n_inputs, gates, outs)
            got = circ.correct_rows(fn).bit_count()
            assert got >= m, "circuit simulates worse than the SAT model claims"
            best, best_circ = got, circ
    tot.delete()
    return best, best_circ


def _bound_clauses(enc: CircuitEncoding, fn: BoolFunction, budget: int, bounds) -> list[list[int]]:
    """Clauses "fanout(x_j) >= t implies at most bound.cap(budget - t) right rows with x_j = c"."""
    clauses: list[list[int]] = []
    readers: dict[int, ITotalizer] = {}
    for b in bounds:
        rows = [t for t in range(fn.n_rows) if bool(input_table(b.input, fn.n_inputs) >> t & 1) == b.const]
        if all(b.cap(budget - t) >= len(rows) for t in range(budget + 1)):
            continue
        if b.input not in readers:
            reads = enc.input_readers(b.input)
            clauses += enc.take_clauses()
            readers[b.input] = ITotalizer(lits=reads, ubound=budget, top_id=enc.top)
            enc.top = readers[b.input].top_id
            clauses += readers[b.input].cnf.clauses
        fan = readers[b.input]
        right = ITotalizer(lits=[enc.row_sel[t] for t in rows], ubound=len(rows), top_id=enc.top)
        enc.top = right.top_id
        clauses += right.cnf.clauses
        for t in range(budget + 1):
            cap = b.cap(budget - t)
            if cap < len(rows):  # fanout >= t (rhs[t - 1]) forbids more than cap right rows (rhs[cap])
                clauses.append(([-fan.rhs[t - 1]] if t else []) + [-right.rhs[cap]])
        right.delete()
    for tot in readers.values():
        tot.delete()
    return clauses


def capability_curve(
    function: str | BoolFunction,
    basis: str = "B2",
    outputs_must_be_gates: bool = False,
    max_budget: int | None = None,
    timeout: float | None = None,
    solver: str = DEFAULT_SOLVER,
    restrictions: bool | None = None,
) -> list[CapabilityPoint]:
    """Points for g = 0, 1, ... until every row is right (that g is the minimum size) or `max_budget`.

    `restrictions` (default: on from RESTRICT_FROM inputs, free literals only): use `row_bounds`.
    """
    fn = parse_function(function)
    deadline = None if timeout is None else time.monotonic() + timeout
    return _curve(fn, check_basis(basis), outputs_must_be_gates, max_budget, deadline, solver, restrictions)


def _curve(
    fn: BoolFunction,
    basis: str,
    outputs_must_be_gates: bool,
    max_budget: int | None,
    deadline: float | None,
    solver: str,
    restrictions: bool | None = None,
) -> list[CapabilityPoint]:
    t0 = time.perf_counter()
    exact = _min_size(fn, basis, outputs_must_be_gates, deadline, EncodingOptions(), None, solver)
    assert exact.proved_lower_bound
    if restrictions is None:
        restrictions = fn.n_inputs >= RESTRICT_FROM
    bounds = row_bounds(fn, basis, solver, deadline) if restrictions and not outputs_must_be_gates else []
    head = time.perf_counter() - t0
    points: list[CapabilityPoint] = []
    prev, prev_circ = 0, None
    g = 0
    while max_budget is None or g <= max_budget:
        t0 = time.perf_counter()
        if g >= exact.min_size:
            points.append(CapabilityPoint(g, fn.n_rows, fn.n_rows, exact.circuit, head))
            break
        upper = fn.n_rows - 1  # below the proved minimum size no circuit is right everywhere
        for b in bounds:  # fanout 0 at best: rows with x_j = c and with x_j = 1 - c bounded apart
            twin = next((o for o in bounds if o.input == b.input and o.const != b.const), None)
            if twin is not None:
                upper = min(upper, b.cap(g) + twin.cap(g))
        got, circ = best_rows(
            fn,
            g,
            basis,
            outputs_must_be_gates,
            at_least=prev,
            solver=solver,
            deadline=deadline,
            at_most=upper,
            bounds=bounds,
        )
        if circ is None:  # nothing better than the smaller budget: reuse its circuit (pad-free)
            got, circ = prev, prev_circ
        assert circ is not None
        points.append(CapabilityPoint(g, got, fn.n_rows, circ, time.perf_counter() - t0))
        prev, prev_circ = got, circ
        g += 1
    return points
