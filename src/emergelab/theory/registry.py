"""Registry of exact toy systems and the record they return.

A system is a function `run(**params) -> TheoryResult`, registered by name with `@register_system`.
Its result is plain data (curves of capability vs budget and a table) that `save_result` writes as
`theory.json` + PNG figures into a folder which `emergelab report DIR` renders beside experiments.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from emergelab.registry import Registry


@dataclass
class TheoryCurve:
    """Capability (`value`) against a budget, e.g. held-out error vs polynomial degree."""

    label: str
    budget_name: str
    value_name: str
    budget: list[float]
    value: list[float]
    log_x: bool = False
    log_y: bool = False
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        self.budget = [float(b) for b in np.asarray(self.budget, dtype=float)]
        self.value = [float(v) for v in np.asarray(self.value, dtype=float)]

    def points(self) -> list[dict[str, float]]:
        return [{"budget": b, "value": v} for b, v in zip(self.budget, self.value, strict=True)]


@dataclass
class TheoryResult:
    """What a system computed: the claim, its source, parameters, curves and a table."""

    name: str
    claim: str
    source: str
    params: dict
    curves: list[TheoryCurve]
    table_columns: list[str] = field(default_factory=list)
    table_rows: list[list] = field(default_factory=list)
    notes: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TheoryResult:
        d = dict(d)
        d["curves"] = [TheoryCurve(**c) for c in d["curves"]]
        return cls(**d)


SystemFn = Callable[..., TheoryResult]
SYSTEMS: Registry[SystemFn] = Registry("theory system")


def register_system(name: str) -> Callable[[SystemFn], SystemFn]:
    """Decorator: make a system available as `emergelab theory run NAME`."""

    def deco(fn: SystemFn) -> SystemFn:
        SYSTEMS.add(name, fn)
        return fn

    return deco


def get_system(name: str) -> SystemFn:
    """Look a system up by name; the error lists the known names so a typo is easy to fix."""
    return SYSTEMS[name]  # UnknownNameError (a KeyError): "did you mean" and the known names


def run_system(name: str, **params) -> TheoryResult:
    """Run a registered system with keyword overrides and record how long it took."""
    fn = get_system(name)
    start = time.perf_counter()
    result = fn(**params)
    result.seconds = time.perf_counter() - start
    return result


def write_figures(result: TheoryResult, out_dir: str | Path) -> list[Path]:
    """PNG figures for one result into `out_dir/figures`; matplotlib is imported only when asked."""
    from emergelab.theory.figures import write_result_figures

    return write_result_figures(result, out_dir)


THEORY_FILE = "theory.json"


def save_results(results: list[TheoryResult], out_dir: str | Path) -> Path:
    """Write (or extend) `out_dir/theory.json`; figures are written by the caller into out_dir/figures."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / THEORY_FILE
    existing = load_results(out_dir) if path.exists() else []
    names = {r.name for r in results}
    merged = [r for r in existing if r.name not in names] + list(results)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"kind": "theory", "systems": [r.to_dict() for r in merged]}, indent=1))
    tmp.replace(path)
    return path


def load_results(folder: str | Path) -> list[TheoryResult]:
    path = Path(folder) / THEORY_FILE
    if not path.exists():
        return []
    return [TheoryResult.from_dict(s) for s in json.loads(path.read_text())["systems"]]
