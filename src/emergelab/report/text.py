"""Numbers as a reader wants them in prose and tables: few digits, SI prefixes for scales
(`fmt_scale`, shared with the analyze table)."""

from __future__ import annotations

import math

from emergelab.analysis.summary import fmt_scale  # the same short scales as `emergelab analyze`

__all__ = ["SCALE_SYMBOL", "fmt_scale", "fmt_value"]

SCALE_SYMBOL = {"non_embedding_params": "N", "params": "N", "flops": "C", "tokens": "D", "step": "step",
                "loss": "loss"}


def fmt_value(v: float | None, digits: int = 3) -> str:
    """A metric value with `digits` significant digits; "–" for missing, "inf" spelled out."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}g}"

