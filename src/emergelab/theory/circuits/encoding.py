"""SAT encoding of "some K-gate circuit computes these outputs on these rows".

Variables (in the spirit of Knuth's TAOCP 7.1.2 and Haaswijk et al.'s single-selection encoding):
`s[i,p]` gate i reads node pair p = (j, k), j < k; `f[i,q]` bit q = (a<<1)|b of gate i's op; `x[i,t]` the
value of gate i on truth-table row t. Inputs are folded in as constants per row, so only gates get
simulation variables. Rows are added one at a time (`add_row`) so a solver can start on a few rows and
grow the instance incrementally when a candidate circuit fails on some other row (CEGAR).

Symmetry breaks, each valid because any circuit can be rewritten into one that obeys it without
growing: independent neighbouring gates appear in colexicographic order of their operand pairs (and of
their ops if the pairs are equal); no two gates compute the same op on the same pair; no gate re-applies
an operand of one of its own operands (g(f(j,k), j) is a single gate on (j,k)); and, when looking for a
minimum circuit, every gate is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from pysat.card import CardEnc, EncType

from emergelab.theory.circuits.basis import allowed_ops
from emergelab.theory.circuits.circuit import CONST, Gate, Output
from emergelab.theory.circuits.functions import input_table

Term = int | bool  # a literal, or a constant truth value folded in while building clauses


def _neg(t: Term) -> Term:
    return (not t) if isinstance(t, bool) else -t


@dataclass(frozen=True)
class EncodingOptions:
    """Which symmetry breaks to add (turn off to measure what they buy)."""

    colex: bool = True
    no_duplicates: bool = True
    no_reapply: bool = True
    all_used: bool = True
    cone_bounds: bool = True


@dataclass(frozen=True)
class OutputSpec:
    """An output to be realised by the circuit: its truth table and the nodes it may point to."""

    table: int
    may_be_literal: bool  # convention (a): constant / input candidates with free negation
    negation_free: bool


def _support(tt: int, n: int) -> int:
    """Bitmask of the inputs the truth table `tt` depends on."""
    mask = 0
    for j in range(n):
        low = ~input_table(j, n) & ((1 << (1 << n)) - 1)
        if (tt & low) != ((tt >> (1 << j)) & low):
            mask |= 1 << j
    return mask


def _joint_support(tables, n: int) -> int:
    """Bitmask of the inputs any of the truth tables depends on."""
    mask = 0
    for tt in tables:
        mask |= _support(tt, n)
    return mask


def _essential(tt: int, n: int) -> int:
    """Number of inputs the truth table `tt` depends on."""
    return _support(tt, n).bit_count()


class CircuitEncoding:
    """CNF for a `k`-gate circuit with `n` inputs realising `outputs` on the rows added so far.

    `partial=True` adds a selector `r[t]` per row, true only if every output is right on row t, for
    MaxSAT-style counting (the capability curve); otherwise all added rows must be right.
    """

    def __init__(
        self,
        n: int,
        k: int,
        outputs: list[OutputSpec],
        basis: str,
        gates_convention: bool,
        options: EncodingOptions = EncodingOptions(),
        partial: bool = False,
        fanout_caps: dict[int, tuple[int, int]] | None = None,
    ) -> None:
        self.n, self.k, self.outputs, self.partial = n, k, outputs, partial
        self.gates_convention = gates_convention
        self.options = options
        self.top = 0
        self.clauses: list[list[int]] = []
        self.rows: list[int] = []
        self.row_sel: dict[int, int] = {}
        self.x: dict[tuple[int, int], Term] = {}
        nodes = n + k
        # pairs[i]: node pairs gate i may read, in colex order (by k, then j)
        self.pairs = [[(j, kk) for kk in range(n + i) for j in range(kk)] for i in range(k)]
        self.s = [{p: self._new() for p in self.pairs[i]} for i in range(k)]
        q_bits = range(4) if gates_convention else range(1, 4)
        self.f: list[dict[int, Term]] = []
        for _ in range(k):
            bits: dict[int, Term] = {q: self._new() for q in q_bits}
            bits.setdefault(0, False)
            self.f.append(bits)
        # output pointers: candidates are (node, var); CONST and inputs only where literals are free
        self.o: list[list[tuple[int, int]]] = []
        self.pol: list[Term] = []
        for spec in outputs:
            cands = [CONST, *range(n)] if spec.may_be_literal else []
            cands += range(n, nodes)
            self.o.append([(c, self._new()) for c in cands])
            self.pol.append(self._new() if spec.negation_free else False)
        self._is_output = [self._new() for _ in range(k)]
        self._structure(basis)
        if fanout_caps:
            self._fanout_caps(fanout_caps)

    # -- plumbing -------------------------------------------------------------------------------
    def _new(self) -> int:
        self.top += 1
        return self.top

    def _add(self, terms: list[Term]) -> None:
        if any(t is True for t in terms):
            return
        self.clauses.append([t for t in terms if t is not False])  # type: ignore[misc]

    def take_clauses(self) -> list[list[int]]:
        out, self.clauses = self.clauses, []
        return out

    def _op_is(self, i: int, v: int) -> list[Term]:
        """Terms of a clause that is satisfied unless gate i's op equals `v`."""
        return [_neg(self.f[i][q]) if (v >> q) & 1 else self.f[i][q] for q in range(4)]

    def _value(self, node: int, row: int) -> Term:
        if node == CONST:
            return False
        if node < self.n:
            return bool((row >> node) & 1)
        return self.x[(node - self.n, row)]

    # -- structure (row independent) -------------------------------------------------------------
    def _structure(self, basis: str) -> None:
        n, k = self.n, self.k
        for i in range(k):
            self._add(list(self.s[i].values()))
            # is_output[i] -> some output points at gate i
            self._add(
                [-self._is_output[i]] + [v for h in range(len(self.o)) for c, v in self.o[h] if c == n + i]
            )
            for h in range(len(self.o)):
                for c, v in self.o[h]:
                    if c == n + i:
                        self._add([-v, self._is_output[i]])
        for h in range(len(self.o)):
            self._add([v for _, v in self.o[h]])
        # allowed ops: internal gates normal and non-degenerate; output gates as the convention allows
        internal = allowed_ops(basis, normal=True)
        at_output = allowed_ops(basis, normal=not self.gates_convention, degenerate=self.gates_convention)
        for i in range(k):
            for v in range(16):
                if v & 1 and not self.gates_convention:
                    continue
                if v not in at_output:
                    self._add(self._op_is(i, v))
                elif v not in internal:
                    self._add(self._op_is(i, v) + [self._is_output[i]])
        if self.options.all_used:
            for i in range(k):
                users = [self.s[i2][p] for i2 in range(i + 1, k) for p in self.pairs[i2] if n + i in p]
                self._add(users + [self._is_output[i]])
        if self.options.cone_bounds:
            self._cone_bounds()
        if self.options.colex:
            self._colex()
        if self.options.no_duplicates or self.options.colex:
            self._no_duplicates()
        if self.options.no_reapply:
            for i in range(k):
                for (j, kk), sv in self.s[i].items():
                    for i2 in range(i + 1, k):
                        for other in (j, kk):
                            self._add([-sv, -self.s[i2][(other, n + i)]])

    def _cone_bounds(self) -> None:
        """An output depending on e inputs needs e - 1 gates, so gate i < e - 2 cannot compute it; an
        input that a gate-computed output depends on must be read by some gate. Only for exact outputs:
        an output that may be wrong on some rows can come from any gate."""
        if self.partial:
            return
        support = _joint_support((spec.table for spec in self.outputs if not spec.may_be_literal), self.n)
        for j in range(self.n):  # an input some gate output depends on is read by some gate
            if (support >> j) & 1:
                self._add([v for i in range(self.k) for p, v in self.s[i].items() if j in p])
        for h, spec in enumerate(self.outputs):
            need = _essential(spec.table, self.n) - 1
            for c, v in self.o[h]:
                if c >= self.n and c - self.n + 1 < need:
                    self._add([-v])

    def input_readers(self, j: int) -> list[int]:
        """One variable per gate, forced true when that gate reads input j (for counting fan-out)."""
        reads = []
        for i in range(self.k):
            r = self._new()
            for p, v in self.s[i].items():
                if j in p:
                    self._add([-v, r])
            reads.append(r)
        return reads

    def _fanout_caps(self, caps: dict[int, tuple[int, int]]) -> None:
        """`caps[j][c]`: setting x_j = c may delete at most that many gates (`bounds.py`).

        Each gate reading x_j is deleted, so fanout(x_j) <= min(caps[j]). Where a cap is 1, also no
        reader of x_j may become constant under x_j = c while some later gate reads it: that reader
        would be deleted along with the reader's reader (now fed a constant), two gates.
        """
        n = self.n
        for j, by_const in caps.items():
            reads = self.input_readers(j)
            cap = min(by_const)
            if cap <= 0:
                for r in reads:
                    self._add([-r])
            elif cap < len(reads):
                card = CardEnc.atmost(reads, bound=cap, top_id=self.top, encoding=EncType.seqcounter)
                self.top = max(self.top, card.nv)
                for cl in card.clauses:
                    self._add(list(cl))
            for c, cap_c in enumerate(by_const):
                if cap_c != 1:
                    continue
                for i in range(self.k):
                    fed = [self.s[i2][p] for i2 in range(i + 1, self.k) for p in self.pairs[i2] if n + i in p]
                    if not fed:
                        continue
                    has_reader = self._new()
                    for v in fed:
                        self._add([-v, has_reader])
                    for (a, b), sv in self.s[i].items():
                        if j not in (a, b):
                            continue
                        # bits of the op with x_j = c: x_j is operand a (bit 1) or operand b (bit 0)
                        q0, q1 = ((c << 1), (c << 1) | 1) if a == j else (c, 2 | c)
                        f0, f1 = self.f[i][q0], self.f[i][q1]
                        self._add([-sv, -has_reader, f0, f1])
                        self._add([-sv, -has_reader, _neg(f0), _neg(f1)])

    def fix_gates(self, gates: list[Gate]) -> None:
        """Pin the first gates to given (pair, op) choices: a warm start for extending a sub-circuit."""
        for i, g in enumerate(gates):
            self._add([self.s[i][(g.a, g.b)]])
            for q in range(4):
                self._add([self.f[i][q] if (g.op >> q) & 1 else _neg(self.f[i][q])])

    def _colex(self) -> None:
        """Gate i+1 not reading gate i must read a colex-larger-or-equal pair than gate i."""
        n = self.n
        for i in range(self.k - 1):
            pairs = self.pairs[i]
            ge = [self._new() for _ in pairs]  # ge[m]: gate i's pair has colex rank >= m
            for m, p in enumerate(pairs):
                self._add([-self.s[i][p], ge[m]])
                if m:
                    self._add([-ge[m], ge[m - 1]])
            for p2, sv2 in self.s[i + 1].items():
                if n + i in p2:
                    continue
                rank = pairs.index(p2)
                if rank + 1 < len(pairs):
                    self._add([-sv2, -ge[rank + 1]])

    def _no_duplicates(self) -> None:
        """No two gates share pair and op; neighbours on the same pair come in increasing op order."""
        ops = range(16) if self.gates_convention else range(0, 16, 2)
        for i in range(self.k):
            for i2 in range(i + 1, self.k):
                consecutive = i2 == i + 1 and self.options.colex
                if not (consecutive or self.options.no_duplicates):
                    continue
                same = self._new()
                for p in self.pairs[i]:
                    self._add([-self.s[i][p], -self.s[i2][p], same])
                for v in ops:
                    for w in ops:
                        if v == w or (consecutive and v > w):
                            self._add([-same] + self._op_is(i, v) + self._op_is(i2, w))

    # -- rows -----------------------------------------------------------------------------------
    def add_row(self, t: int) -> None:
        """Constrain every gate's simulation value on row t, and the outputs on it."""
        if t in self.row_sel or (not self.partial and t in self.rows):
            return
        self.rows.append(t)
        for i in range(self.k):
            zero_row = t == 0 and not self.gates_convention
            self.x[(i, t)] = False if zero_row else self._new()
        for i in range(self.k):
            xi = self.x[(i, t)]
            for (j, kk), sv in self.s[i].items():
                vj, vk = self._value(j, t), self._value(kk, t)
                for a in (0, 1):
                    if isinstance(vj, bool) and vj != a:
                        continue
                    ej = _neg(vj if a else _neg(vj))
                    for b in (0, 1):
                        if isinstance(vk, bool) and vk != b:
                            continue
                        ek = _neg(vk if b else _neg(vk))
                        fq = self.f[i][(a << 1) | b]
                        self._add([-sv, ej, ek, _neg(xi), fq])
                        self._add([-sv, ej, ek, xi, _neg(fq)])
        sel: Term = True
        if self.partial:
            sel = self._new()
            self.row_sel[t] = sel
        for h, spec in enumerate(self.outputs):
            want = bool((spec.table >> t) & 1)
            for c, ov in self.o[h]:
                val = self._value(c, t)
                # sel & o -> val xor pol == want
                pre = [_neg(sel), -ov]
                pol = self.pol[h]
                if want:
                    self._add(pre + [val, pol])
                    self._add(pre + [_neg(val), _neg(pol)])
                else:
                    self._add(pre + [_neg(val), pol])
                    self._add(pre + [val, _neg(pol)])

    # -- decoding -------------------------------------------------------------------------------
    def decode(self, model: list[int]) -> tuple[list[Gate], list[Output]]:
        truth = set(lit for lit in model if lit > 0)

        def val(t: Term) -> bool:
            return t if isinstance(t, bool) else t in truth

        gates = []
        for i in range(self.k):
            pair = next(p for p, v in self.s[i].items() if v in truth)
            op = sum(1 << q for q in range(4) if val(self.f[i][q]))
            gates.append(Gate(op, *pair))
        outs = []
        for h in range(len(self.outputs)):
            node = next(c for c, v in self.o[h] if v in truth)
            outs.append(Output(node, val(self.pol[h])))
        return gates, outs
