"""Analysis: curves with intervals, emergence verdicts, the mirage test, scaling laws, forecasts.

The Python API mirrors the CLI:

    from emergelab import analysis
    curves = analysis.load_curves("runs/demo")
    v = analysis.verdict(curves[0])                   # emergent / smooth / flat / inconclusive
    fit = analysis.fit_law("power_law", x, y)         # or "chinchilla", "isoflop", "broken_power_law"
    f = analysis.forecast(curves, "sigmoid", fit_below=2e4, task="addition-3d", metric="exact_match")

Note: after this import, `emergelab.analysis.verdict` and `emergelab.analysis.forecast` name the
functions; import their modules' other names with `from emergelab.analysis.verdict import ...`.
"""

from emergelab.analysis.bootstrap import point_stderr, with_intervals
from emergelab.analysis.curve import Curve
from emergelab.analysis.curves import load_curves
from emergelab.analysis.emergence import emergence_score
from emergelab.analysis.forecast import Forecast, SampleCounts, forecast, pass_at_k
from emergelab.analysis.laws import LAWS, LawFit, fit_law
from emergelab.analysis.linearity import breakthroughness, linearity
from emergelab.analysis.mirage import MirageResult, mirage, mirage_for_task
from emergelab.analysis.summary import AnalysisRow, analyze
from emergelab.analysis.threshold import knob_thresholds, threshold
from emergelab.analysis.verdict import Verdict, verdict

__all__ = [
    "LAWS", "AnalysisRow", "Curve", "Forecast", "LawFit", "MirageResult", "SampleCounts", "Verdict",
    "analyze", "breakthroughness", "emergence_score", "fit_law",
    "forecast", "knob_thresholds", "linearity", "load_curves", "mirage", "mirage_for_task", "pass_at_k",
    "point_stderr", "threshold",
    "verdict", "with_intervals",
]
