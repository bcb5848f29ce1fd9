"""Scaling-law fits: a registry of laws, each fitted robustly with bootstrap intervals.

    from emergelab.analysis.laws import LAWS, fit_law, LawFit
    fit = fit_law("chinchilla", (N, D), loss, variant="huber_likelihood", n_bootstrap=4000)
    fit.params["alpha"], fit.intervals["alpha"], fit.gof["r2"], fit.predict((N, D))

Importing this package registers every law module below (one file, one `@register_law` each).
"""

from emergelab.analysis.laws import (  # noqa: F401  (registers)
    broken_power_law,
    chinchilla,
    error_link,
    isoflop,
    power_law,
    shared_exponent,
)
from emergelab.analysis.laws.base import LAWS, LawFit, LawPrediction, fit_law, register_law

__all__ = ["LAWS", "LawFit", "LawPrediction", "fit_law", "register_law"]
