"""Importers: results produced elsewhere (lm-evaluation-harness, papers, sampling runs) -> the store.

Each file format is one module registering a `sniff(path) -> bool` / `load(path) -> Parsed` pair
with `@register(name, description)`; adding a format is adding a module and importing it below.
`import_files` parses everything, resolves model sizes once, and writes atomically.
"""

from emergelab.store.importers import (  # noqa: F401, I001  (importing registers the formats, in this order)
    table,
    counts,
    lm_eval_v03,
    lm_eval_v04,
    lm_eval_samples,
)
from emergelab.store.importers.api import FileSummary, ImportSummary, import_files
from emergelab.store.importers.base import (
    REGISTRY,
    ImportFileError,
    UnknownSizeError,
    detect_format,
    load_file,
    register,
)
from emergelab.store.importers.sizes import params_from_name, parse_size

__all__ = [
    "REGISTRY", "FileSummary", "ImportFileError", "ImportSummary", "UnknownSizeError", "detect_format",
    "import_files", "load_file", "params_from_name", "parse_size", "register",
]
