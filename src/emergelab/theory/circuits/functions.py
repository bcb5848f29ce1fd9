"""Multi-output Boolean functions as truth tables, looked up by name or given as hex.

Convention (used everywhere in this package): row `r` of a truth table is the input assignment with
input `j` equal to bit `j` of `r`; an output's truth table is an int whose bit `r` is its value on row `r`.
Hex strings are written most significant row first, so `e8` is majority of 3 inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from emergelab.registry import Registry


class FunctionSpecError(ValueError):
    """A function name or truth table that cannot be parsed (the CLI turns it into exit code 2)."""


@dataclass(frozen=True)
class BoolFunction:
    """`n_inputs` inputs, one truth table per output, and a name for display."""

    name: str
    n_inputs: int
    outputs: tuple[int, ...]

    @property
    def n_rows(self) -> int:
        return 1 << self.n_inputs

    @property
    def mask(self) -> int:
        return (1 << self.n_rows) - 1

    def value(self, output: int, row: int) -> int:
        return (self.outputs[output] >> row) & 1

    def hex_outputs(self) -> list[str]:
        width = max(1, self.n_rows // 4)
        return [format(tt, f"0{width}x") for tt in self.outputs]


def input_table(j: int, n: int) -> int:
    """Truth table of input variable `j` among `n` inputs."""
    return sum(1 << r for r in range(1 << n) if (r >> j) & 1)


def from_rows(name: str, n_inputs: int, n_outputs: int, fn: Callable[[int], int]) -> BoolFunction:
    """Build a function from `fn(row) -> int` whose bit `h` is output `h` on that row."""
    tts = [0] * n_outputs
    for r in range(1 << n_inputs):
        y = fn(r)
        for h in range(n_outputs):
            if (y >> h) & 1:
                tts[h] |= 1 << r
    return BoolFunction(name, n_inputs, tuple(tts))


def _need(n: int | None, name: str, lo: int = 1, hi: int = 16) -> int:
    if n is None:
        raise FunctionSpecError(f"function {name!r} needs a size, e.g. {name}:4")
    if not lo <= n <= hi:
        raise FunctionSpecError(f"function {name!r}: size {n} out of range {lo}..{hi}")
    return n


def _increment(n: int | None) -> BoolFunction:
    n = _need(n, "increment")
    return from_rows(f"increment:{n}", n, n, lambda r: (r + 1) % (1 << n))


def _add(n: int | None) -> BoolFunction:
    n = _need(n, "add", hi=8)
    lo = (1 << n) - 1
    return from_rows(f"add:{n}", 2 * n, n + 1, lambda r: (r & lo) + (r >> n))


def _mult(n: int | None) -> BoolFunction:
    n = _need(n, "mult", hi=8)
    lo = (1 << n) - 1
    return from_rows(f"mult:{n}", 2 * n, 2 * n, lambda r: (r & lo) * (r >> n))


def _majority(n: int | None) -> BoolFunction:
    n = _need(n, "majority")
    return from_rows(f"majority:{n}", n, 1, lambda r: int(2 * r.bit_count() > n))


def _parity(n: int | None) -> BoolFunction:
    n = _need(n, "parity")
    return from_rows(f"parity:{n}", n, 1, lambda r: r.bit_count() & 1)


def _and(n: int | None) -> BoolFunction:
    n = _need(n, "and")
    return from_rows(f"and:{n}", n, 1, lambda r: int(r == (1 << n) - 1))


def _full_adder(n: int | None) -> BoolFunction:
    if n is not None:
        raise FunctionSpecError("full_adder takes no size")
    return from_rows("full_adder", 3, 2, lambda r: r.bit_count())


NAMED: Registry[Callable[[int | None], BoolFunction]] = Registry("function")
for _name, _make in (("increment", _increment), ("add", _add), ("mult", _mult), ("majority", _majority),
                     ("parity", _parity), ("and", _and), ("full_adder", _full_adder)):
    NAMED.add(_name, _make)


def _from_hex(spec: str) -> BoolFunction:
    """`tt:HEX[,HEX...]` or `tt:N:HEX[,...]` (N inputs), or bare `0xHEX[,0xHEX]`."""
    body = spec.split(":", 1)[1] if spec.startswith("tt:") else spec
    n: int | None = None
    if ":" in body:
        n_txt, body = body.split(":", 1)
        if not n_txt.isdigit():
            raise FunctionSpecError(f"bad input count {n_txt!r} in {spec!r}")
        n = int(n_txt)
    parts = [p.strip().removeprefix("0x").removeprefix("0X") for p in body.split(",")]
    if not parts or any(not p for p in parts):
        raise FunctionSpecError(f"empty truth table in {spec!r}")
    try:
        tts = [int(p, 16) for p in parts]
    except ValueError as exc:
        raise FunctionSpecError(f"not a hex truth table: {spec!r}") from exc
    if n is None:
        digits = len(parts[0])
        if any(len(p) != digits for p in parts) or digits & (digits - 1):
            raise FunctionSpecError(f"truth tables in {spec!r} need a power-of-two number of hex digits")
        n = (4 * digits).bit_length() - 1
    if not 1 <= n <= 16:
        raise FunctionSpecError(f"input count {n} out of range 1..16 in {spec!r}")
    mask = (1 << (1 << n)) - 1
    if any(tt > mask for tt in tts):
        raise FunctionSpecError(f"truth table longer than 2^{n} rows in {spec!r}")
    return BoolFunction(spec, n, tuple(tts))


def parse_function(spec: str | BoolFunction) -> BoolFunction:
    """Look up `name[:n]` (e.g. `increment:4`, `full_adder`) or parse hex truth tables."""
    if isinstance(spec, BoolFunction):
        return spec
    spec = spec.strip()
    name, _, arg = spec.partition(":")
    if name in NAMED:
        if arg and not arg.isdigit():
            raise FunctionSpecError(f"bad size {arg!r} in {spec!r}; expected e.g. {name}:4")
        return NAMED[name](int(arg) if arg else None)
    if name == "tt" or name.lower().startswith("0x") or all(c in "0123456789abcdefABCDEF," for c in spec):
        return _from_hex(spec)
    raise FunctionSpecError(f"{NAMED.unknown(name)}; or a hex truth table like tt:e8")
