"""Report: a self-contained HTML report with interactive plots, PNG figures and tables.

`write_report` is imported on first use, so that `emergelab.report.warm` can be imported (to warm
these libraries on an idle core at the end of a sweep) without importing them first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emergelab.report.html import write_report

__all__ = ["write_report"]


def __getattr__(name: str):
    if name == "write_report":
        from emergelab.report.html import write_report

        return write_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
