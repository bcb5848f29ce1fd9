"""The result record of every scaling-law fit, and the registry that finds a law by name.

A law is one file and one decorator (`@register_law("name")`): the CLI, the report and the
forecasts look laws up in `LAWS` instead of branching on names, so adding a law never touches them.
Every fit returns the same `LawFit`, whatever the law, so downstream code reads `params`,
`intervals` and `gof` without knowing how the law was fitted.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from emergelab.registry import Registry

LEVEL = 0.95  # the level of `LawFit.intervals`


class Law(Protocol):
    """What a registered law provides. `fit` does the work; `fit_law` only times and dispatches.

    `inputs` names the law's x variables in order ("x"; "N", "D"; "L"): one name means a 1-D x,
    two mean a pair (N, D). `predict_inputs` is what `LawFit.predict` takes (isoflop fits on
    (N, D) but predicts N* from C). `formula` is printed with every fit.
    """

    name: str
    param_names: tuple[str, ...]
    inputs: tuple[str, ...]
    predict_inputs: tuple[str, ...]
    formula: str

    def fit(self, x: Any, y: np.ndarray, *, n_bootstrap: int, seed: int, **options: Any) -> LawFit: ...

    def spare_dof(self, x: Any, y: np.ndarray, **options: Any) -> int:
        """Observations minus free parameters; <= 0 means the fit can interpolate the data."""
        ...


LAWS: Registry[Law] = Registry("law")


def split_pair(x: Any, law: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) given as a pair of arrays or an (n, 2) array, both positive and of equal length."""
    if isinstance(x, tuple | list) and len(x) == 2:
        a, b = (np.asarray(v, dtype=float).ravel() for v in x)
    else:
        arr = np.asarray(x, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"{law} needs two inputs (N, D), e.g. --x params --x tokens")
        a, b = arr[:, 0], arr[:, 1]
    if a.shape != b.shape or np.any(~(a > 0)) or np.any(~(b > 0)):
        raise ValueError(f"{law} needs N and D of equal length, positive and finite")
    return a, b


class LawBase:
    """Defaults for a law fitted to one observation per point: 1-D x, predicts from what it fits."""

    name = ""
    param_names: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ("x",)
    formula = ""

    @property
    def predict_inputs(self) -> tuple[str, ...]:
        return self.inputs

    def spare_dof(self, x: Any, y: np.ndarray, **_: Any) -> int:
        return int(np.asarray(y).size) - len(self.param_names)


def register_law(name: str) -> Callable[[type], type]:
    """Class decorator: instantiate the law once and file it under `name` in `LAWS`."""

    def deco(cls: type) -> type:
        inst = cls()
        inst.name = name
        LAWS.add(name, inst)
        return cls

    return deco


@dataclass
class LawFit:
    """One fitted law: point estimates, bootstrap evidence and goodness of fit.

    `samples` keeps the bootstrap parameter draws (rows in `param_names` order) so that
    `predict_interval` can propagate the joint uncertainty of all parameters, which per-parameter
    intervals cannot (A and alpha are strongly correlated in power laws).
    """

    law: str
    params: dict[str, float]
    formula: str = ""
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    stderr: dict[str, float] = field(default_factory=dict)
    gof: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    n_bootstrap: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    samples: np.ndarray | None = None
    sample_names: tuple[str, ...] = ()  # columns of `samples`; default: the keys of `params`
    predictor: Callable[[dict[str, float], Any], np.ndarray] | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)  # what the user was warned about

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(self.params)

    def predict(self, x: Any) -> np.ndarray:
        """The law's prediction at x (same input convention as the fit: 1-D scale, or (N, D))."""
        if self.predictor is None:
            raise ValueError(f"law {self.law!r} has no predictor")
        return np.asarray(self.predictor(self.params, x), dtype=float)

    def predict_interval(self, x: Any, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise percentile band of the predictions of the bootstrap fits."""
        if self.samples is None or len(self.samples) == 0 or self.predictor is None:
            raise ValueError("predict_interval needs a fit with n_bootstrap > 0")
        names = self.sample_names or self.param_names
        preds = np.stack([
            np.asarray(self.predictor(dict(zip(names, row.tolist(), strict=True)), x), dtype=float)
            for row in self.samples
        ])
        q = (1.0 - level) / 2.0
        return np.nanquantile(preds, q, axis=0), np.nanquantile(preds, 1.0 - q, axis=0)

    def predict_with_interval(self, x: Any, level: float = LEVEL) -> LawPrediction:
        """Point prediction and, when the fit was bootstrapped, its percentile band."""
        pred = self.predict(x)
        if self.samples is None or len(self.samples) == 0:
            return LawPrediction(pred, None, None, level)
        lo, hi = self.predict_interval(x, level)
        return LawPrediction(pred, lo, hi, level)

    def add_bootstrap(self, names: tuple[str, ...], samples: np.ndarray, n_bootstrap: int) -> None:
        """Keep the bootstrap draws (rows in `names` order) and their intervals and standard errors."""
        self.samples, self.sample_names, self.n_bootstrap = samples, names, n_bootstrap
        self.intervals, self.stderr = summarize_bootstrap(names, samples)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (no arrays, no callables)."""
        return {
            "law": self.law,
            "formula": self.formula,
            "params": self.params,
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "interval_level": LEVEL,
            "gof": self.gof,
            "notes": self.notes,
            "seconds": self.seconds,
            "n_bootstrap": self.n_bootstrap,
            "options": {k: v for k, v in self.options.items() if isinstance(v, str | int | float | bool)},
        }


@dataclass
class LawPrediction:
    """A law evaluated at chosen inputs: the estimate and its percentile band (None without bootstrap)."""

    value: np.ndarray
    lo: np.ndarray | None
    hi: np.ndarray | None
    level: float


def summarize_bootstrap(
    names: tuple[str, ...], samples: np.ndarray, level: float = LEVEL
) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """Percentile intervals and standard deviations of bootstrap draws, dropping failed (NaN) rows."""
    finite = np.all(np.isfinite(samples), axis=1)
    ok = samples[finite]
    if not finite.all():
        warnings.warn(f"{int(np.sum(~finite))} of {len(samples)} bootstrap fits failed and are left out of the "
                      "intervals", RuntimeWarning, stacklevel=3)
    if len(ok) < 2:
        return {}, {}
    q = (1.0 - level) / 2.0
    lo, hi = np.quantile(ok, [q, 1.0 - q], axis=0)
    sd = ok.std(axis=0, ddof=1)
    intervals = {n: (float(a), float(b)) for n, a, b in zip(names, lo, hi, strict=True)}
    return intervals, {n: float(s) for n, s in zip(names, sd, strict=True)}


def fit_law(law: str, x: Any, y: Any, *, n_bootstrap: int = 0, seed: int = 0, **options: Any) -> LawFit:
    """Fit the registered law `law` to (x, y); `options` go to the law (e.g. `variant`, `delta`).

    Raises KeyError naming the known laws when `law` is unknown.
    """
    try:
        impl = LAWS[law]
    except KeyError:
        raise KeyError(f"unknown law {law!r}; known: {', '.join(sorted(LAWS))}") from None
    if n_bootstrap < 0:
        raise ValueError("n_bootstrap must be >= 0")
    y = np.asarray(y, dtype=float)
    t0 = time.perf_counter()
    notes = []
    spare = impl.spare_dof(x, y, **options)
    if spare <= 0:
        notes.append(f"{law} has no spare degrees of freedom on these data ({spare} left): it can pass through "
                     "every point, so its goodness of fit means nothing"
                     + ("; no interval is given" if n_bootstrap else ""))
        warnings.warn(notes[-1], UserWarning, stacklevel=2)
        n_bootstrap = 0
    fit = impl.fit(x, y, n_bootstrap=int(n_bootstrap), seed=int(seed), **options)
    fit.formula = impl.formula
    fit.notes = notes + fit.notes
    fit.seconds = time.perf_counter() - t0
    return fit

