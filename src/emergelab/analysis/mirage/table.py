"""The mirage test as terminal tables: one table per discrete curve, one row per route.

Readable at 80 columns: the discrete metric, the overall label and the deciding route go in the
title; each row is one continuous metric with its link, the prediction and the observation at the
largest model, the widest band over the larger models, and the route's label; the reasons follow
in the caption, numbered like the rows.
"""

from __future__ import annotations

import math

from emergelab.analysis.mirage.judge import MirageResult
from emergelab.analysis.mirage.route import MirageRoute

COLUMNS = ("#", "continuous", "link", "pred", "obs", "band", "label")


def _num(v: float) -> str:
    return "-" if not math.isfinite(v) else f"{v:.2f}"


def route_cells(i: int, r: MirageRoute) -> list[str]:
    """The printed cells of one route (see COLUMNS); pred/obs at the largest model."""
    pred, obs = r.largest
    return [str(i), r.continuous_metric, r.link_label, _num(pred), _num(obs), _num(r.band_width), r.label]


def mirage_table(result: MirageResult):
    """A rich Table for one discrete curve's routes (print with rich.console.Console().print)."""
    from rich import box
    from rich.table import Table

    deciding = f", decided by {result.deciding}" if result.deciding else ""
    t = Table(title=f"Mirage test: {result.task} / {result.discrete_metric} -> {result.label}{deciding}",
              caption_justify="left", box=box.SIMPLE_HEAD)
    for col in COLUMNS:
        t.add_column(col, justify="right" if col in ("#", "pred", "obs", "band") else "left",
                     overflow="fold", no_wrap=col == "continuous")
    notes = [f"overall: {result.reasons[-1]}" if result.reasons else "overall: -",
             "pred/obs: at the largest model; band: widest prediction band over the larger models "
             "(informative when <= half the range)"]
    for i, r in enumerate(result.routes, start=1):
        t.add_row(*route_cells(i, r))
        notes.append(f"{i}. {r.reason}")
    t.caption = "\n".join(notes)
    return t


def mirage_tables(results: list[MirageResult]) -> list:
    """One table per result that has routes (a discrete curve rising from a floor)."""
    return [mirage_table(m) for m in results if m.routes]
