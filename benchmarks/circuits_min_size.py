"""How far exact circuit synthesis reaches: increment:n over B2 (literal outputs free).

Per n, all CPU seconds (time.process_time; the honest figure on a shared machine), each in a fresh
state (the restriction memo is cleared):
  * min_size: the whole proof as `min_size` runs it, restricted sub-functions included;
  * SAT@K: the satisfiable attempt inside min_size (K = 2n - 3; a warm start from a restricted
    function's circuit; wall seconds, from the attempt record); with --cold-sat also a cold
    `solve_size` at K (no warm start, with the restriction bounds), CPU;
  * UNSAT@K-1: refuting K - 1 gates by `solve_size` with the same bounds (immediate once the fan-out
    cap of the top input is 0: the proof's weight is in the sub-function, which min_size times);
  * with --compare, UNSAT@K-1 of the plain encoding (no restriction bounds), as before this change.
Then the full capability curve of increment:`--curve-n` (and `--extra-curves`).

    python benchmarks/circuits_min_size.py --max-n 8 --curve-n 6
"""

from __future__ import annotations

import argparse
import time

from emergelab.theory.circuits import capability, synth
from emergelab.theory.circuits.capability import capability_curve
from emergelab.theory.circuits.functions import parse_function
from emergelab.theory.circuits.solver import SolveTimeout
from emergelab.theory.circuits.synth import _restrictions, min_size, solve_size


def fresh() -> None:
    synth._SUB_MEMO.clear()
    capability._CURVE_MEMO.clear()


def cpu(call, *args, **kwargs):
    c = time.process_time()
    try:
        out = call(*args, **kwargs)
    except SolveTimeout:
        out = None
    return out, time.process_time() - c


def caps_for(fn, k: int) -> dict[int, tuple[int, int]]:
    floor: dict[int, list[int]] = {}
    for r in _restrictions(fn, "B2", synth.EncodingOptions(), synth.DEFAULT_SOLVER, None):
        floor.setdefault(r.input, [0, 0])[r.const] = r.size
    return {j: (k - c0, k - c1) for j, (c0, c1) in floor.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--min-n", type=int, default=3)
    ap.add_argument("--max-n", type=int, default=7)
    ap.add_argument("--curve-n", type=int, default=6, help="capability curve of increment:N (0 to skip)")
    ap.add_argument("--extra-curves", type=int, nargs="*", default=[], help="more curves, e.g. 5 7")
    ap.add_argument("--cold-sat", action="store_true", help="also find K gates without a warm start")
    ap.add_argument("--compare", action="store_true", help="also refute K-1 with the plain encoding")
    ap.add_argument("--timeout", type=float, default=600.0, help="per solve, seconds")
    args = ap.parse_args()

    print("increment:n over B2, literal outputs free; CPU seconds")
    head = f"{'n':>2} {'K':>3} {'proved':>6} {'min_size':>9} {'SAT@K wall':>11} {'UNSAT@K-1':>10}"
    head += "  cold SAT@K" if args.cold_sat else ""
    print(head + ("  plain UNSAT@K-1" if args.compare else ""), flush=True)
    for n in range(args.min_n, args.max_n + 1):
        fn = parse_function(f"increment:{n}")
        fresh()
        res, t_min = cpu(min_size, fn, timeout=args.timeout)
        k = 2 * n - 3
        assert res is None or (res.min_size == k and res.circuit.computes(fn)), "contradicts 2n - 3"
        deadline = time.monotonic() + args.timeout
        t_sat = res.attempts[-1].seconds if res else float("nan")
        caps = caps_for(fn, k - 1)  # restriction memo warm from min_size: near free
        uns, t_uns = cpu(solve_size, fn, k - 1, portfolio=False, deadline=deadline, fanout_caps=caps)
        assert uns is None or uns[0] is None, "K - 1 gates satisfiable"
        line = (
            f"{n:>2} {k:>3} {'yes' if res and res.proved_lower_bound else 'NO':>6} "
            f"{t_min if res else float('nan'):>9.2f} {t_sat:>11.2f} {t_uns:>10.2f}"
        )
        if args.cold_sat:
            caps = caps_for(fn, k)
            sat, t_cold = cpu(solve_size, fn, k, deadline=time.monotonic() + args.timeout, fanout_caps=caps)
            assert sat is None or sat[0] is not None, "no K-gate circuit found"
            line += f"  {t_cold:>11.2f}" + ("" if sat else " (timeout)")
        if args.compare:
            d2 = time.monotonic() + args.timeout
            plain, t_plain = cpu(solve_size, fn, k - 1, portfolio=False, deadline=d2)
            line += f"  {t_plain:>16.2f}" + ("" if plain else " (timeout)")
        print(line, flush=True)
    for cn in [args.curve_n, *args.extra_curves]:
        if not cn:
            continue
        fresh()
        points, t = cpu(capability_curve, f"increment:{cn}", timeout=args.timeout)
        if points is None:
            print(f"capability curve increment:{cn}: timeout after {t:.2f} s cpu")
            continue
        curve = ", ".join(f"{p.budget}:{p.correct_rows}" for p in points)
        print(f"capability curve increment:{cn} (gates:inputs right of {points[0].total_rows}): {curve}")
        print(f"capability curve increment:{cn} time: cpu {t:.2f} s", flush=True)


if __name__ == "__main__":
    main()
