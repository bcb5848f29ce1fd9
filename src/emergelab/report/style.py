"""One order and one colour per model, shared by every figure and table of a report.

Models are ordered by size (non-embedding parameters), never as text: "w8" sorts before "w12".
Colours come from a sequential scale sampled by that order, so the same model has the same colour
in every figure and darker always means smaller — a reader can follow one model from panel to
panel and read size off the colour.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from plotly.colors import sample_colorscale

SIZE_SCALE = "Viridis"  # dark (small) → yellow (large); the top end is cut, too pale on white
SIZE_SCALE_TOP = 0.88
CATEGORY_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"]


def natural_key(text: str) -> tuple:
    """Digits compare as numbers: "w8" < "w12" < "w8-d2" (ties between equal sizes)."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def model_order(sizes: Mapping[str, float | int | None]) -> list[str]:
    """Models by size, then by name read naturally; models of unknown size go last."""
    return sorted(sizes, key=lambda m: (sizes[m] is None, sizes[m] or 0, natural_key(m)))


def size_colors(models: list[str]) -> dict[str, str]:
    """A colour per model in the given (size) order, sampled evenly from the sequential scale."""
    if len(models) == 1:
        return {models[0]: sample_colorscale(SIZE_SCALE, [0.0])[0]}
    points = [SIZE_SCALE_TOP * i / (len(models) - 1) for i in range(len(models))]
    return dict(zip(models, sample_colorscale(SIZE_SCALE, points), strict=True))


def category_colors(names: Iterable[str]) -> dict[str, str]:
    """Distinct colours for unordered groups (model families, tasks), in first-seen order."""
    unique = list(dict.fromkeys(names))
    return {n: CATEGORY_COLORS[i % len(CATEGORY_COLORS)] for i, n in enumerate(unique)}
