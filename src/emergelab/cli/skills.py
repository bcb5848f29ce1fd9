"""`emergelab skills`: how many skills a model combines (k*) per size, and k* ∝ N^gamma.

Needs runs of the `skill_mix` task; see `analysis/composition.py`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich import box
from rich.table import Table

from emergelab.cli.common import experiment_folder, fail, out_console

app = typer.Typer(add_completion=False, no_args_is_help=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"


def _jsonable(obj: object) -> object:
    return obj.tolist() if isinstance(obj, np.ndarray) else obj


@app.command("skills")
def skills_command(
    folder: Annotated[Path, typer.Argument(help="Experiment folder with skill_mix runs.")],
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")] = Fmt.table,
    theory: Annotated[bool, typer.Option(help="Also run the skill_graph theory system for its predicted gamma "
                                              "(about half a minute).")] = True,
) -> None:
    """Success on held-out k-sets of skills per model size, k* (largest k with success ≥ 0.5) and
    k* ∝ N^gamma across sizes; "10× scale doubles k" is gamma = 0.30.

    Example: `emergelab skills runs/skill_mix`
    """
    from emergelab.analysis.composition import fit_k_star_scaling, skill_curves, skill_graph_prediction

    curves = skill_curves(experiment_folder(folder))
    if not curves:
        raise fail(f"{folder} has no skill_mix runs with stored outputs")
    fits = fit_k_star_scaling(curves) + fit_k_star_scaling(curves, "k_cross")
    predicted = skill_graph_prediction() if theory else None
    if fmt is Fmt.json:
        doc = {"sizes": [{k: _jsonable(v) for k, v in asdict(c).items() if not k.endswith("_replicates")}
                         for c in curves],
               "scaling": [asdict(f) for f in fits], "skill_graph": asdict(predicted) if predicted else None}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    for task in dict.fromkeys(c.task for c in curves):
        rows = [c for c in curves if c.task == task]
        k_max = max(int(c.k[-1]) for c in rows)
        table = Table(title=f"{task}: exact match on held-out k-sets (k* and k_cross with 95 % intervals)",
                      box=box.SIMPLE, pad_edge=False)
        for col in ("N", *[f"k={k}" for k in range(1, k_max + 1)], "k*", "k_cross"):
            table.add_column(col, justify="right")
        for c in rows:
            cells = [f"{s:.2f}" for s in c.success] + [""] * (k_max - len(c.success))
            star = f"{c.k_star}{'+' if c.censored else ''} [{c.k_star_lo},{c.k_star_hi}]"
            cross = f"{c.k_cross:.2f} [{c.k_cross_lo:.2f},{c.k_cross_hi:.2f}]"
            table.add_row(f"{c.params:.3g}", *cells, star, cross)
        out_console.print(table)
    for f in fits:
        name = "k*" if f.measure == "k_star" else "k_cross"
        out_console.print(f"{f.task}: {name} ∝ N^{f.gamma:.3f} [{f.gamma_lo:.3f}, {f.gamma_hi:.3f}] over {f.sizes} sizes, "
                          f"N {f.n_min:.3g}–{f.n_max:.3g} ({f.n_max / f.n_min:.0f}×); 10× N multiplies it by "
                          f"{10 ** f.gamma:.2f}")
    if predicted:
        out_console.print(f"skill_graph theory (error rate halves per 10× N): k* grows {predicted.crossing_ratio:.2f}× "
                          f"per decade, gamma = {predicted.gamma:.3f}")
