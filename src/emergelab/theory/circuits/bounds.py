"""Lower bounds by restriction (gate elimination, checked by SAT one level down).

Fix input x_j to a constant c in a circuit with literal outputs and negations free (convention a).
Every gate reading x_j becomes a constant or a possibly negated copy of its other operand, so it can
be deleted (its readers take the operand instead, absorbing the negation: all bases here are closed
under negating a gate input, and outputs negate for free). What is left computes f restricted to
x_j = c with at most k - fanout(x_j) gates, hence

    fanout(x_j) <= k - C(f | x_j = c),

where C is the exact minimum size of the restricted function (found by `min_size`, proved in turn).
If some gate-computed output depends on x_j, fanout(x_j) >= 1, so C(f | x_j = c) + 1 is a proved lower
bound on C(f). The restricted function ignores x_j; dropping ignored inputs does not change its
minimum size (setting an ignored input to 0 eliminates the gates reading it, as above).

Not used under convention (b): there a gate feeding an output cannot be deleted for free.
"""

from __future__ import annotations

from dataclasses import dataclass

from emergelab.theory.circuits.circuit import Gate
from emergelab.theory.circuits.encoding import _joint_support, _support
from emergelab.theory.circuits.functions import BoolFunction

RESTRICT_FROM = 5  # use restriction bounds for functions of at least this many inputs


@dataclass(frozen=True)
class Projection:
    """A function on a subset of inputs: `inputs[m]` is the original index of its input m."""

    fn: BoolFunction
    inputs: tuple[int, ...]


def _pick(tt: int, n: int, keep: list[int]) -> int:
    """Truth table over the inputs `keep` of a table over n inputs that ignores all others."""
    out = 0
    for r in range(1 << len(keep)):
        full = sum(((r >> m) & 1) << j for m, j in enumerate(keep))
        out |= ((tt >> full) & 1) << r
    return out


def restrict(fn: BoolFunction, j: int, c: int) -> Projection:
    """f with x_j = c, on the inputs its outputs still depend on (outputs that became constants or
    literals are kept: they cost nothing and keep the key canonical per function)."""
    n = fn.n_inputs
    tables = []
    for tt in fn.outputs:
        cof = 0
        for r in range(1 << n):
            src = (r & ~(1 << j)) | (c << j)
            cof |= ((tt >> src) & 1) << r
        tables.append(cof)
    support = _joint_support(tables, n)
    keep = [i for i in range(n) if (support >> i) & 1]
    outs = tuple(_pick(tt, n, keep) for tt in tables)
    return Projection(BoolFunction(f"{fn.name}|x{j}={c}", len(keep), outs), tuple(keep))


def candidate_inputs(fn: BoolFunction, specs: list[int]) -> list[int]:
    """Inputs to restrict: those the fewest gate-computed outputs depend on (the x_{n-1} of an
    incrementer feeds only its top output, so fixing it leaves the most of the function intact)."""
    n = fn.n_inputs
    supports = [_support(tt, n) for tt in specs]
    count = {j: sum((s >> j) & 1 for s in supports) for j in range(n)}
    used = [j for j in range(n) if count[j]]
    if not used:
        return []
    least = min(count[j] for j in used)
    return [j for j in used if count[j] == least]


def lift(gates: list[Gate], proj: Projection, n: int) -> list[Gate]:
    """Gates of a circuit for the projected function, renumbered into the original n-input space
    (the map keeps input order, so each operand pair stays ascending)."""
    k_sub = len(proj.inputs)

    def node(x: int) -> int:
        return proj.inputs[x] if x < k_sub else n + (x - k_sub)

    return [Gate(g.op, node(g.a), node(g.b)) for g in gates]
