"""Is an emergent jump an artifact of the metric? (Schaeffer, Miranda & Koyejo 2023)

Schaeffer et al. argue that a per-token quantity improving smoothly with scale looks like a
sudden ability once scored by an all-or-nothing metric: with per-token probability p, exact match
over L tokens ≈ p^L sits near 0 and then shoots up, while token edit distance ≈ L·(1 − p) falls
smoothly. The test turns that argument into a prediction, once per continuous metric (a *route*):
fit the continuous metric on the smaller models, extrapolate it with a band, map it through its
link to the discrete metric, and compare with the larger models.

- `links.py`  — named links: p^L from per-token probability or target log-prob, token
  accuracy^L, 1 − d/L for token edit distance, Brier; which one a metric uses is a fact on its
  record in `emergelab.metrics`; metrics without a formula get a fitted (generic) link.
- `route.py`  — one route: `MirageRoute`, the record the report draws (x, observed, pred, lo, hi,
  fit_below) and the analyze table prints.
- `judge.py`  — each route's label and the one overall rule (`mirage`, `mirage_for_task`).
- `calibration.py` — label rates on simulated designs with known truth (`mirage_calibration`).
- `toy.py`    — Schaeffer et al.'s compounding toy.
"""

from emergelab.analysis.mirage.calibration import (
    SCENARIOS,
    MirageCalibrationRow,
    MirageDesign,
    MirageScenario,
    mirage_calibration,
)
from emergelab.analysis.mirage.judge import (
    MIRAGE_LABELS,
    MirageResult,
    has_link,
    judge_route,
    mirage,
    mirage_for_task,
)
from emergelab.analysis.mirage.links import GENERIC, LINKS, Link
from emergelab.analysis.mirage.route import MirageRoute, build_route, predict_via_continuous
from emergelab.analysis.mirage.toy import compounding_toy

__all__ = [
    "GENERIC", "LINKS", "MIRAGE_LABELS", "SCENARIOS", "Link", "MirageCalibrationRow", "MirageDesign", "MirageResult",
    "MirageRoute", "MirageScenario", "build_route", "compounding_toy", "has_link", "judge_route", "mirage",
    "mirage_calibration", "mirage_for_task", "predict_via_continuous",
]

