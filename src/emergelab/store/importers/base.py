"""What every importer hands back, the error it raises, and the registry that finds it.

Importers only *parse*: they return drafts whose parameter count may still be unknown. Sizes,
orientation and the database are handled once, centrally, after every file has parsed — that is
what lets an import fail as a whole (nothing written) when any one file is bad.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from emergelab.registry import Registry, UnknownNameError


class ImportFileError(Exception):
    """A file (or the command line) cannot be imported; the message is one line for the user."""

    def __init__(self, source: str | Path, problem: str):
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class UnknownSizeError(ImportFileError):
    """A model's parameter count cannot be determined: refusing beats a silent guess."""


@dataclass
class PointDraft:
    """An aggregate result before sizes are resolved (`params` may be None)."""

    model: str
    task: str
    metric: str
    value: float
    params: float | None = None
    non_embedding_params: float | None = None
    tokens: float | None = None
    flops: float | None = None
    step: int | None = None
    stderr: float | None = None
    n_examples: int | None = None
    higher_is_better: bool | None = None  # None: look it up in the metric table
    chance: float | None = None
    chance_known: bool = False  # True when the file itself stated `chance` (table lookup skipped)
    family: str | None = None
    shots: int | None = None  # in-context examples (lm-eval num_fewshot); None = not stated


@dataclass
class ExampleDraft:
    """Per-example data of one model × task (× step) from one file.

    Exactly one of `scores` (metric -> {example_id: value}) or `counts`
    ({example_id: (n, c)}) is filled. `id_names` maps integer ids back to the file's own
    problem ids when those were not integers (kept as an experiment fact).
    """

    model: str
    task: str
    params: float | None = None
    step: int | None = None
    scores: dict[str, dict[int, float]] = field(default_factory=dict)
    counts: dict[int, tuple[int, int]] = field(default_factory=dict)
    id_names: dict[int, str] = field(default_factory=dict)
    full_name: str | None = None  # e.g. the Hugging Face id, kept in the run's task_config
    scheme: str = "fixed"  # counts: "fixed" (n drawn) or "until_success" (stopped at the first success)
    family: str | None = None
    shots: int | None = None


@dataclass
class Parsed:
    """Everything one file contributed."""

    points: list[PointDraft] = field(default_factory=list)
    examples: list[ExampleDraft] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # experiment facts worth recording


@dataclass(frozen=True)
class Column:
    """One documented column (or JSON field) of an import format: the single source for
    `import --help`, the README table and the unknown-column check."""

    name: str
    meaning: str
    required: bool = False
    unit: str = ""
    aliases: tuple[str, ...] = ()


class Importer(Protocol):
    """One file format: `sniff` must be cheap and specific, `load` strict."""

    name: str
    description: str

    def sniff(self, path: Path) -> bool: ...

    def load(self, path: Path) -> Parsed: ...


@dataclass(frozen=True)
class _Registered:
    name: str
    description: str
    sniff: Callable[[Path], bool]
    load: Callable[[Path], Parsed]
    columns: tuple[Column, ...] = ()
    example: str = ""  # file under examples/data/


REGISTRY: Registry[_Registered] = Registry("import format")


def register(name: str, description: str, columns: tuple[Column, ...] = (),
             example: str = "") -> Callable[[type], type]:
    """Class decorator: make a format available by `name` (and to auto-detection)."""

    def wrap(cls: type) -> type:
        obj = cls()
        REGISTRY.add(name, _Registered(name, description, obj.sniff, obj.load, tuple(columns), example))
        return cls

    return wrap


def detect_format(path: Path) -> str:
    """The one registered format that recognises `path`; ambiguity is an error, not a coin toss."""
    hits = []
    for reg in REGISTRY.values():
        try:
            if reg.sniff(path):
                hits.append(reg.name)
        except (OSError, UnicodeDecodeError, ValueError):
            continue
    if not hits:
        raise ImportFileError(path, f"unrecognised format (known: {', '.join(REGISTRY)}); pass --input-format")
    if len(hits) > 1:
        raise ImportFileError(path, f"ambiguous format ({' or '.join(hits)}); pass --input-format")
    return hits[0]


def load_file(path: Path, fmt: str = "auto") -> tuple[str, Parsed]:
    """Parse one file with the named (or detected) importer."""
    if not path.is_file():
        raise ImportFileError(path, "no such file")
    if fmt == "auto":
        fmt = detect_format(path)
    elif fmt not in REGISTRY:
        raise ImportFileError(path, str(UnknownNameError(REGISTRY.kind, fmt, ["auto", *REGISTRY])))
    try:
        return fmt, REGISTRY[fmt].load(path)
    except ImportFileError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ImportFileError(path, f"cannot read as {fmt}: {exc}") from exc
