"""Theory: exact toy systems in which emergence can be computed, not only observed.

Importing this package registers every system (each module registers itself on import); the
circuits system lives in its own subpackage and registers when it is installed.
"""

import contextlib

from emergelab.theory import (  # noqa: E402, F401  (imported for their registrations)
    bit_budget,
    composition,
    kmeans,
    per_token,
    polyfit,
    quanta,
    skill_graph,
    superposition,
)
from emergelab.theory.registry import (
    SYSTEMS,
    TheoryCurve,
    TheoryResult,
    load_results,
    register_system,
    save_results,
)

with contextlib.suppress(ImportError):
    from emergelab.theory import circuits  # noqa: F401

__all__ = ["SYSTEMS", "TheoryCurve", "TheoryResult", "load_results", "register_system", "save_results"]
