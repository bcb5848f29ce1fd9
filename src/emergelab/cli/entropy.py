"""`emergelab entropy`: split each model's test loss into the entropy floor and KL from the truth.

Needs a task with a known answer distribution (e.g. `noisy_modular`); see `analysis/entropy_kl.py`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emergelab.cli.common import experiment_folder, fail, out_console

app = typer.Typer(add_completion=False, no_args_is_help=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"


@app.command("entropy")
def entropy_command(
    folder: Annotated[Path, typer.Argument(help="Experiment folder.")],
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")] = Fmt.table,
) -> None:
    """Cross-entropy = entropy H(p) + KL(p‖model) per model size, and KL ∝ N^-alpha across sizes.

    Example: `emergelab entropy runs/entropy_kl`
    """
    from emergelab.analysis.entropy_kl import fit_kl_scaling, loss_splits

    rows = loss_splits(experiment_folder(folder))
    if not rows:
        raise fail(f"{folder} has no native runs with stored outputs")
    fits = fit_kl_scaling(rows)
    if fmt is Fmt.json:
        sys.stdout.write(json.dumps({"sizes": [asdict(r) for r in rows], "scaling": [asdict(f) for f in fits]},
                                    indent=2) + "\n")
        return
    table = Table(title="test loss = entropy + KL (nats per answer)")
    for col in ("task", "N", "seeds", "cross-entropy", "entropy H", "KL [95 %]"):
        table.add_column(col, justify="left" if col == "task" else "right")
    for r in rows:
        table.add_row(r.task, f"{r.params:.3g}", str(r.seeds), f"{r.cross_entropy:.4f}", f"{r.entropy:.4f}",
                      f"{r.kl:.4f} [{r.kl_lo:.4f}, {r.kl_hi:.4f}]")
    out_console.print(table)
    for f in fits:
        out_console.print(f"{f.task}: KL ∝ N^-{f.alpha:.3f} [{f.alpha_lo:.3f}, {f.alpha_hi:.3f}] over {f.sizes} sizes — "
                          f"10× N divides the KL by {f.factor_per_decade:.2f} [{f.factor_lo:.2f}, {f.factor_hi:.2f}]")
