"""Exact minimum circuit size: search K upward from a simple lower bound, one SAT call per K, each
grown row by row from the rows on which the last candidate circuit failed (CEGAR)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from emergelab.theory.circuits.basis import check_basis
from emergelab.theory.circuits.bounds import RESTRICT_FROM, Projection, candidate_inputs, lift, restrict
from emergelab.theory.circuits.circuit import CONST, Circuit, Gate, Output
from emergelab.theory.circuits.encoding import (
    CircuitEncoding,
    EncodingOptions,
    OutputSpec,
    _essential,
    _joint_support,
)
from emergelab.theory.circuits.functions import BoolFunction, input_table, parse_function
from emergelab.theory.circuits.solver import DEFAULT_SOLVER, SatSolver, SolveTimeout

ALL_ROWS_UP_TO = 5  # functions of at most this many inputs are encoded on all rows at once


@dataclass
class Attempt:
    """One SAT call at a fixed size: satisfiable or not, how long, on how many rows."""

    size: int
    satisfiable: bool
    seconds: float
    rows: int
    iterations: int


@dataclass
class MinSizeResult:
    function: BoolFunction
    basis: str
    outputs_must_be_gates: bool
    min_size: int
    circuit: Circuit
    proved_lower_bound: bool  # every size below min_size was refuted (by SAT or by the trivial bound)
    seconds: float
    attempts: list[Attempt] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "function": self.function.name,
            "basis": self.basis,
            "min_size": self.min_size,
            "proved_lower_bound": self.proved_lower_bound,
            "seconds": round(self.seconds, 4),
            "gates": self.circuit.gates_json(),
            "outputs": self.circuit.outputs_json(),
        }


@dataclass
class _Plan:
    """Outputs that need gates (de-duplicated), and how each original output maps onto them."""

    specs: list[OutputSpec]
    fixed: list[Output | None]  # free outputs (literal or constant), else None
    spec_of: list[tuple[int, bool]]  # (spec index, negate) for outputs that need a gate


def _plan(fn: BoolFunction, gates_convention: bool) -> _Plan:
    mask, n = fn.mask, fn.n_inputs
    literals: dict[int, Output] = {0: Output(CONST), mask: Output(CONST, True)}
    for j in range(n):
        t = input_table(j, n)
        literals.setdefault(t, Output(j))
        literals.setdefault(~t & mask, Output(j, True))
    specs: list[OutputSpec] = []
    index: dict[int, int] = {}
    fixed: list[Output | None] = []
    spec_of: list[tuple[int, bool]] = []
    for tt in fn.outputs:
        if not gates_convention and tt in literals:
            fixed.append(literals[tt])
            spec_of.append((-1, False))
            continue
        negate = bool(tt & 1) and not gates_convention  # normal gates are 0 on row 0
        key = (~tt & mask) if negate else tt
        if key not in index:
            index[key] = len(specs)
            specs.append(OutputSpec(key, may_be_literal=False, negation_free=False))
        fixed.append(None)
        spec_of.append((index[key], negate))
    return _Plan(specs, fixed, spec_of)


def trivial_lower_bound(fn: BoolFunction, gates_convention: bool) -> int:
    """Distinct gate outputs each need their own gate; an output on e inputs needs e - 1 gates."""
    specs = _plan(fn, gates_convention).specs
    bound = len(specs)
    for s in specs:
        bound = max(bound, _essential(s.table, fn.n_inputs) - 1)
    return bound


SAT_FRIENDLY = EncodingOptions(colex=False, no_duplicates=False, no_reapply=False, all_used=True)


class _CegarRun:
    """One encoding of "a k-gate circuit exists", grown by failing rows; advanced in slices."""

    def __init__(
        self,
        fn: BoolFunction,
        k: int,
        basis: str,
        gates_convention: bool,
        options: EncodingOptions,
        seed: int,
        solver: str,
        batch: int,
        start_rows: str,
        fanout_caps: dict[int, tuple[int, int]] | None = None,
        fixed: list[Gate] | None = None,
    ) -> None:
        self.fn, self.k, self.batch = fn, k, batch
        self.plan = _plan(fn, gates_convention)
        self.rng = random.Random(seed)
        self.enc = CircuitEncoding(
            fn.n_inputs, k, self.plan.specs, basis, gates_convention, options, fanout_caps=fanout_caps
        )
        if fixed:
            self.enc.fix_gates(fixed)
        for t in self._start_rows(start_rows):
            self.enc.add_row(t)
        self.sat = SatSolver(solver)
        self.sat.add(self.enc.take_clauses())
        self.iterations = 0

    def _start_rows(self, how: str) -> list[int]:
        n, rows = self.fn.n_inputs, self.fn.n_rows
        if n <= ALL_ROWS_UP_TO or how == "all":
            return list(range(rows))
        full = rows - 1
        if how == "units":
            return sorted({0, full, *(1 << j for j in range(n))})
        start = sorted({0, full, *(1 << j for j in range(n)), *(full ^ (1 << j) for j in range(n))})
        return start + self.rng.sample([r for r in range(rows) if r not in start], n)

    def build(self, gates: list, outs: list[Output]) -> Circuit:
        final = []
        for h, fixed in enumerate(self.plan.fixed):
            if fixed is not None:
                final.append(fixed)
            else:
                idx, neg = self.plan.spec_of[h]
                final.append(Output(outs[idx].node, outs[idx].negated ^ neg))
        return Circuit(self.fn.n_inputs, list(gates), final)

    def step(self, conflicts: int) -> Circuit | bool | None:
        """Advance: a verified circuit, False (no k-gate circuit), or None (undecided yet)."""
        res = self.sat.solve_slice(conflicts)
        if res is None:
            return None
        self.iterations += 1
        if not res:
            return False
        circ = self.build(*self.enc.decode(self.sat.model()))
        wrong = ~circ.correct_rows(self.fn) & self.fn.mask
        if not wrong:
            assert circ.computes(self.fn) and circ.size == self.k, "synthesised circuit failed verification"
            return circ
        failing = [r for r in range(self.fn.n_rows) if (wrong >> r) & 1]
        for t in self.rng.sample(failing, min(self.batch, len(failing))):
            self.enc.add_row(t)
        self.sat.add(self.enc.take_clauses())
        return None

    def close(self) -> None:
        self.sat.close()


def solve_size(
    fn: BoolFunction,
    k: int,
    basis: str = "B2",
    outputs_must_be_gates: bool = False,
    options: EncodingOptions = EncodingOptions(),
    deadline: float | None = None,
    seed: int = 0,
    solver: str = DEFAULT_SOLVER,
    batch: int = 2,
    start_rows: str = "wide",
    portfolio: bool = True,
    fanout_caps: dict[int, tuple[int, int]] | None = None,
) -> tuple[Circuit | None, Attempt]:
    """Is there a `k`-gate circuit for `fn`? Returns it (verified on all rows) or None.

    With `portfolio`, a second encoding with only the all-gates-used break runs interleaved on the
    same core: symmetry breaks speed up refutations (UNSAT) but can slow down finding a circuit, and
    either run's answer is valid (its constraints are a subset of the full encoding's).
    `fanout_caps[j][c]`: fixing x_j = c deletes at most that many gates (proved, see `bounds.py`).
    """
    basis = check_basis(basis)
    t0 = time.perf_counter()
    if not _plan(fn, outputs_must_be_gates).specs:
        run0 = _CegarRun(fn, 0, basis, outputs_must_be_gates, options, seed, solver, batch, start_rows)
        ok = k == 0
        circ0 = run0.build([], []) if ok else None
        run0.close()
        return circ0, Attempt(k, ok, time.perf_counter() - t0, 0, 0)
    configs = [options]
    if portfolio and options != SAT_FRIENDLY:
        configs.append(SAT_FRIENDLY)
    runs = [
        _CegarRun(fn, k, basis, outputs_must_be_gates, o, seed, solver, batch, start_rows, fanout_caps)
        for o in configs
    ]
    slice_ = 2000
    try:
        while True:
            for run in runs:
                if deadline is not None and time.monotonic() >= deadline:
                    raise SolveTimeout(f"time limit reached while trying {k} gates")
                res = run.step(slice_)
                if res is None:
                    continue
                att = Attempt(
                    k, res is not False, time.perf_counter() - t0, len(run.enc.rows), run.iterations
                )
                return (None if res is False else res), att  # type: ignore[return-value]
            slice_ = min(int(slice_ * 1.5), 100_000)
    finally:
        for run in runs:
            run.close()


EXTEND_GATES = 3  # warm start: try extending a restriction's circuit by at most this many gates
EXTEND_CONFLICTS = 200_000
NO_BREAKS = EncodingOptions(colex=False, no_duplicates=False, no_reapply=False, all_used=False)
_SUB_MEMO: dict[tuple, tuple[int, list[Gate]]] = {}  # exact sizes of restricted functions


@dataclass
class _Restriction:
    """C(f | x_input = const), proved, with a circuit for it in f's input numbering."""

    input: int
    const: int
    size: int
    gates: list[Gate]


def restricted_core(fn: BoolFunction, j: int, c: int) -> tuple[Projection, BoolFunction]:
    """f with x_j = c, and the function of its gate-computed outputs only, sorted: literal and
    negated outputs are free and equal outputs share a gate (convention a), so the core has the
    same minimum size and capability curve, and one memo entry serves every f that leads to it."""
    proj = restrict(fn, j, c)
    tables = tuple(sorted({sp.table for sp in _plan(proj.fn, False).specs}))
    return proj, BoolFunction(proj.fn.name, proj.fn.n_inputs, tables)


def _restrictions(
    fn: BoolFunction, basis: str, options: EncodingOptions, solver: str, deadline: float | None
) -> list[_Restriction]:
    """Exact sizes of f with one input fixed, for the inputs `candidate_inputs` picks (see bounds.py)."""
    specs = [sp.table for sp in _plan(fn, False).specs]
    out = []
    chosen = candidate_inputs(fn, specs)
    needed = _joint_support(specs, fn.n_inputs)  # inputs some gate output depends on: fan-out >= 1
    others = [j for j in range(fn.n_inputs) if j not in chosen and (needed >> j) & 1]
    for j, c in [(j, c) for j in chosen + others for c in (0, 1)]:
        proj, core = restricted_core(fn, j, c)
        key = (basis, core.n_inputs, core.outputs)
        if j in others and key not in _SUB_MEMO:
            continue  # other inputs only where the bound is known already (free to use)
        if key not in _SUB_MEMO:
            sub = _min_size(core, basis, False, deadline, options, None, solver)
            assert sub.proved_lower_bound
            _SUB_MEMO[key] = (sub.min_size, sub.circuit.gates)
        size, gates = _SUB_MEMO[key]
        out.append(_Restriction(j, c, size, lift(gates, proj, fn.n_inputs)))
    return out


def _extend(
    fn: BoolFunction,
    k: int,
    basis: str,
    prefix: list[Gate],
    caps: dict[int, int],
    solver: str,
    deadline: float | None,
) -> Circuit | None:
    """Look for a k-gate circuit whose first gates are `prefix` (no symmetry breaks: they could
    clash with the pinned gates). Only ever a witness: a failure here proves nothing."""
    run = _CegarRun(fn, k, basis, False, NO_BREAKS, 0, solver, 2, "wide", caps, prefix)
    spent = 0
    try:
        while spent < EXTEND_CONFLICTS:
            if deadline is not None and time.monotonic() >= deadline:
                raise SolveTimeout(f"time limit reached while trying {k} gates")
            res = run.step(5000)
            spent += 5000
            if res is False:
                return None
            if isinstance(res, Circuit):
                return res
        return None
    finally:
        run.close()


def min_size(
    function: str | BoolFunction,
    basis: str = "B2",
    outputs_must_be_gates: bool = False,
    timeout: float | None = None,
    options: EncodingOptions = EncodingOptions(),
    start: int | None = None,
    solver: str = DEFAULT_SOLVER,
    restrictions: bool | None = None,
) -> MinSizeResult:
    """Minimum number of gates for `function` over `basis`, with a circuit verified on all inputs.

    Sizes are tried upward from `start` (default: the best proved lower bound, so the bound is
    proved); raises SolveTimeout after `timeout` seconds. `restrictions` (default: on for functions
    of at least RESTRICT_FROM inputs, convention a only) adds the bounds of `bounds.py`: a proved
    lower bound, input fan-out caps in every encoding, and warm starts from the restricted circuits.
    """
    fn = parse_function(function)
    deadline = None if timeout is None else time.monotonic() + timeout
    return _min_size(
        fn, check_basis(basis), outputs_must_be_gates, deadline, options, start, solver, restrictions
    )


def _min_size(
    fn: BoolFunction,
    basis: str,
    outputs_must_be_gates: bool,
    deadline: float | None,
    options: EncodingOptions,
    start: int | None,
    solver: str,
    restrictions: bool | None = None,
) -> MinSizeResult:
    t0 = time.perf_counter()
    if restrictions is None:
        restrictions = fn.n_inputs >= RESTRICT_FROM
    lower = trivial_lower_bound(fn, outputs_must_be_gates)
    subs: list[_Restriction] = []
    if restrictions and not outputs_must_be_gates:
        subs = _restrictions(fn, basis, options, solver, deadline)
    floor: dict[int, list[int]] = {}
    for r in subs:  # fanout(x_j) >= 1 for an input a gate output needs, so C(f) >= C(f | x_j = c) + 1
        floor.setdefault(r.input, [0, 0])[r.const] = r.size
        lower = max(lower, r.size + 1)
    k = lower if start is None else start
    attempts: list[Attempt] = []
    while True:
        caps = {j: (k - c0, k - c1) for j, (c0, c1) in floor.items()}
        circ = None
        tried: set[tuple[Gate, ...]] = set()
        for r in subs:
            if 0 < k - r.size <= EXTEND_GATES and tuple(r.gates) not in tried:
                tried.add(tuple(r.gates))
                w = time.perf_counter()
                circ = _extend(fn, k, basis, r.gates, caps, solver, deadline)
                if circ is not None:
                    attempts.append(Attempt(k, True, time.perf_counter() - w, 0, 0))
                    break
        if circ is None:
            circ, att = solve_size(
                fn, k, basis, outputs_must_be_gates, options, deadline, solver=solver, fanout_caps=caps
            )
            attempts.append(att)
        if circ is not None:
            proved = k <= lower or (
                all(not a.satisfiable for a in attempts[:-1]) and attempts[0].size <= lower
            )
            return MinSizeResult(
                fn, basis, outputs_must_be_gates, k, circ, proved, time.perf_counter() - t0, attempts
            )
        k += 1
