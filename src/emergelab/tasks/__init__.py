"""Tasks: a registry of seeded generators with exact answers and their own tiny vocabularies."""

from emergelab.tasks import arithmetic as _arithmetic  # noqa: F401  (registers the tasks)
from emergelab.tasks import induction as _induction  # noqa: F401  (registers the tasks)
from emergelab.tasks import parity as _parity  # noqa: F401  (registers the tasks)
from emergelab.tasks import skills as _skills  # noqa: F401  (registers the tasks)
from emergelab.tasks import stochastic as _stochastic  # noqa: F401  (registers the tasks)
from emergelab.tasks.base import TASKS, Split, Task, make_task, register_task

__all__ = ["TASKS", "Split", "Task", "make_task", "register_task"]
