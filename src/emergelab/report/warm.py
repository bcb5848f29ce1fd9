"""Warm the report's libraries while a core sits idle at the end of a sweep.

The first figure a process draws pays for imports, font loading and plotly's lazily built
validators (≈ 1.4 s of the demo's 3.9 s report). When the sweep's last groups leave a worker idle,
`start` draws one throwaway figure with each library on a thread, so the report that follows
finds them ready; `write_report` waits for that thread before it draws (`wait`), so no two figures
are drawn at once. A training command imports the analysis code only after its sweep (cli/__init__),
so the thread imports that too (via report.html, ≈ 1 s more); `run_with_progress` waits for it before
it returns, because two threads importing the same modules at once can meet a partly initialised one.
"""

from __future__ import annotations

import threading

_thread: threading.Thread | None = None


def _draw_once() -> None:
    from io import BytesIO

    import plotly.io as pio
    from matplotlib.figure import Figure
    from plotly import graph_objects as go
    from plotly.subplots import make_subplots

    import emergelab.report.html  # noqa: F401  (the report's own modules)

    fig = Figure(figsize=(2.0, 1.5))
    ax = fig.subplots()
    ax.errorbar([1e3, 1e4], [0.1, 0.9], yerr=[[0.05, 0.05], [0.05, 0.05]], marker="o")
    ax.set_xscale("log")
    ax.set_title("warm-up")
    fig.tight_layout()
    fig.savefig(BytesIO(), format="png", dpi=50)
    pfig = make_subplots(rows=1, cols=2, subplot_titles=["a", "b"])
    pfig.add_trace(go.Scatter(x=[1, 10], y=[0, 1], mode="lines+markers", line={"color": "#1f77b4"}), row=1, col=1)
    pfig.update_xaxes(type="log", row=1, col=1)
    pfig.update_layout(shapes=[{"type": "line", "x0": 5, "x1": 5, "xref": "x", "y0": 0, "y1": 1,
                                "yref": "y domain", "line": {"dash": "dash"}}], title="warm-up")
    pio.to_html(pfig, full_html=False, include_plotlyjs=False)


def _run() -> None:
    try:
        _draw_once()
    except Exception:  # noqa: BLE001  only a head start: the report itself raises any real problem
        pass


def start() -> None:
    """Begin warming on a daemon thread (once per process)."""
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=_run, daemon=True, name="report-warm-up")
        _thread.start()


def wait() -> None:
    """Block until a started warm-up has finished (no-op otherwise)."""
    if _thread is not None:
        _thread.join()
