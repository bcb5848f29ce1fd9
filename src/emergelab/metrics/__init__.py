"""Metrics: a registry of discrete and continuous scores computed from stored outputs, and one
record of facts per metric (native or imported)."""

from emergelab.metrics import imported as _imported  # noqa: F401  (files the imported records)
from emergelab.metrics import sampling as _sampling  # noqa: F401  (files pass@k and coverage)
from emergelab.metrics.registry import (
    ALIASES,
    DECLARED,
    DEFAULT_METRICS,
    METRICS,
    Metric,
    UnknownMetricWarning,
    base_name,
    declare_metric,
    get_metric,
    levenshtein_rows,
    metric_record,
    register_metric,
)

__all__ = ["ALIASES", "DECLARED", "DEFAULT_METRICS", "METRICS", "Metric", "UnknownMetricWarning", "base_name",
           "declare_metric", "get_metric", "levenshtein_rows", "metric_record", "register_metric"]
