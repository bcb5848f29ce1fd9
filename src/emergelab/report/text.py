"""Numbers as a reader wants them in prose and tables: few digits, SI prefixes for scales."""

from __future__ import annotations

import math

SCALE_SYMBOL = {"non_embedding_params": "N", "params": "N", "flops": "C", "tokens": "D", "step": "step",
                "loss": "loss"}
_PREFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def fmt_scale(x: float | None) -> str:
    """1712 → "1.7k", 5.6e4 → "56k", 3e9 → "3B" (two significant digits; what a plot axis shows)."""
    if x is None or not math.isfinite(x):
        return "–" if x is None or math.isnan(x) else "∞"
    for factor, prefix in _PREFIXES:
        if abs(x) >= factor:
            return f"{x / factor:.2g}{prefix}" if x / factor < 100 else f"{x / factor:.0f}{prefix}"
    return f"{x:.3g}"


def fmt_value(v: float | None, digits: int = 3) -> str:
    """A metric value with `digits` significant digits; "–" for missing, "inf" spelled out."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}g}"


def fmt_p(p: float) -> str:
    """A p-value: "p < 1e-10" below that, else two significant digits."""
    if not math.isfinite(p):
        return "p = –"
    return "p < 1e-10" if p < 1e-10 else f"p = {p:.2g}"
