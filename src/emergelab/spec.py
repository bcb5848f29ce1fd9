"""Experiment specs: one YAML file describes an experiment, validated on load (pydantic).

A bad spec raises SpecError with one line naming the field and the problem, e.g.
    spec error: training.steps: Input should be greater than 0
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import typing
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from emergelab.metrics import DEFAULT_METRICS, METRICS
from emergelab.metrics.sampling import parse_pass_at_k
from emergelab.registry import Registry
from emergelab.tasks import TASKS, make_task
from emergelab.train import TrainConfig, log_spaced_steps
from emergelab.train.memory import RunSize, gib, memory_limit_bytes, training_bytes

MAX_INDEX = 2**63 - 1  # input indices, seeds and token ids are 64-bit integers downstream
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # a folder name under runs/, nothing more


def _require_known(names: list[str], registry: Registry) -> None:
    """Refuse the first name that is not in a registry, with a "did you mean" and the known names."""
    for name in names:
        if name not in registry:
            raise ValueError(str(registry.unknown(name)))


class SpecError(ValueError):
    """A spec that cannot be used; the message is one line naming the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskSpec(BaseModel):
    """A task by registry name; any other key (digits, bits, p, format) goes to the task."""

    model_config = ConfigDict(extra="allow")
    name: str
    train_size: int = Field(20000, gt=0)
    test_size: int = Field(500, gt=0)
    label: str | None = None

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in TASKS:
            raise ValueError(str(TASKS.unknown(v)))
        return v

    def task_kwargs(self) -> dict:
        extra = dict(self.model_extra or {})
        if "format" in extra:
            extra["fmt"] = extra.pop("format")
        return extra

    @model_validator(mode="after")
    def _buildable(self) -> TaskSpec:
        hints = typing.get_type_hints(TASKS[self.name].__init__)
        for key, value in self.task_kwargs().items():
            shown = "format" if key == "fmt" else key
            if key not in hints or key == "return":
                known = ", ".join("format" if k == "fmt" else k for k in hints if k != "return")
                raise ValueError(f"{shown}: unknown parameter of task {self.name} (known: {known})")
            try:
                TypeAdapter(hints[key]).validate_python(value, strict=True)
            except ValidationError:
                raise ValueError(f"{shown}: expected {hints[key].__name__}, got {value!r}") from None
        try:
            task = make_task(self.name, **self.task_kwargs())
        except ValueError as e:
            raise ValueError(f"task {self.name}: {e}") from None
        _check_encodable(task, self.name)
        task.check_split(self.train_size, self.test_size)
        return self

    def build(self):
        return make_task(self.name, **self.task_kwargs())

    def display_label(self) -> str:
        if self.label:
            return self.label
        kwargs = self.task_kwargs()
        return self.name + ("" if not kwargs else "[" + ",".join(f"{k}={v}" for k, v in sorted(kwargs.items())) + "]")


def _check_encodable(task, name: str) -> None:
    """Refuse a task whose inputs do not fit 64-bit indices (e.g. 19-digit addition), found by
    encoding its first and last input now rather than by an OverflowError in training."""
    import numpy as np

    if task.space_size > MAX_INDEX:
        raise ValueError(f"task {name}: {task.space_size:.3g} distinct inputs exceed the 64-bit input "
                         f"indices (at most {MAX_INDEX:.3g}); choose fewer digits or bits")
    try:
        task.encode(np.array([0, task.space_size - 1], dtype=np.int64))
    except (OverflowError, ValueError) as e:
        raise ValueError(f"task {name}: its inputs cannot be encoded ({e})") from None


class ModelShape(_Strict):
    width: int = Field(gt=0)
    depth: int = Field(gt=0)
    heads: int = Field(1, gt=0)
    mlp_ratio: int = Field(4, gt=0)
    attn_only: bool = False

    @model_validator(mode="after")
    def _divisible(self) -> ModelShape:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        return self


class FamilySpec(_Strict):
    """The model family: an explicit list of shapes, a grid widths × depths (heads = width / head_dim),
    or budgets × depths: for each non-embedding parameter budget N and depth d the width (a multiple
    of head_dim) whose N is closest in log-scale, so depth·width² is ~constant across depths at one
    budget — the depth-versus-width knob at a fixed parameter count."""

    sizes: list[ModelShape] | None = None
    widths: list[PositiveInt] | None = None
    depths: list[PositiveInt] | None = None
    budgets: list[PositiveInt] | None = None  # non-embedding parameter targets (with depths)
    head_dim: int = Field(8, gt=0)
    attn_only: bool = False

    @model_validator(mode="after")
    def _one_form(self) -> FamilySpec:
        if not self.sizes and not ((self.widths or self.budgets) and self.depths):
            raise ValueError("give either sizes, or depths with widths or budgets")
        if self.widths and self.budgets:
            raise ValueError("give widths or budgets, not both")
        try:  # every shape of the grid must be buildable now, not when the sweep reaches it
            self.shapes()
        except ValidationError as e:
            raise ValueError(e.errors()[0]["msg"].removeprefix("Value error, ")) from None
        return self

    def _budget_width(self, budget: int, depth: int) -> int:
        from emergelab.models import ModelConfig

        def n_of(w: int) -> int:
            return ModelConfig(1, 1, w, depth, max(1, w // self.head_dim), attn_only=self.attn_only).param_counts()[1]

        widths = [self.head_dim * k for k in range(1, 4096)]
        return min(widths, key=lambda w: abs(math.log(n_of(w) / budget)))

    def shapes(self) -> list[ModelShape]:
        if self.sizes:
            return list(self.sizes)
        if self.budgets:
            shapes = []
            for d in self.depths or []:
                for b in self.budgets:
                    w = self._budget_width(b, d)
                    shapes.append(ModelShape(width=w, depth=d, heads=max(1, w // self.head_dim), attn_only=self.attn_only))
            return shapes
        return [
            ModelShape(width=w, depth=d, heads=max(1, w // self.head_dim), attn_only=self.attn_only)
            for d in self.depths or []
            for w in self.widths or []
        ]


class TrainingSpec(_Strict):
    steps: int = Field(2000, gt=0)
    batch_size: int = Field(128, gt=0)
    lr: float = Field(3e-3, gt=0)
    warmup_steps: int = Field(100, ge=0)
    min_lr_ratio: float = Field(0.1, ge=0, le=1)
    weight_decay: float = Field(0.1, ge=0)
    beta2: float = Field(0.98, gt=0, lt=1)
    grad_clip: float | None = Field(1.0, gt=0)
    full_batch: bool = False
    loss_dtype: Literal["float32", "float64"] = "float32"
    checkpoints: list[int] | str = "final"  # explicit steps, "final", or "log:N" (N log-spaced steps)
    # test examples scored at intermediate checkpoints (a fixed subset: the first N of the test
    # split); the final checkpoint always scores the whole test set (evaluate/subset.py)
    checkpoint_test_size: int | None = Field(None, gt=0)

    @field_validator("checkpoints")
    @classmethod
    def _checkpoints(cls, v: list[int] | str) -> list[int] | str:
        if isinstance(v, str) and not (v == "final" or (v.startswith("log:") and v[4:].isdigit())):
            raise ValueError("use a list of steps, 'final' or 'log:N'")
        if isinstance(v, list) and any(s < 0 for s in v):
            raise ValueError("checkpoint steps must be ≥ 0")
        return v

    def checkpoint_steps(self) -> list[int]:
        if self.checkpoints == "final":
            return [self.steps]
        if isinstance(self.checkpoints, str):
            return sorted(set(log_spaced_steps(self.steps, int(self.checkpoints[4:]))) | {self.steps})
        return sorted(set(s for s in self.checkpoints if s <= self.steps) | {self.steps})

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            steps=self.steps, batch_size=self.batch_size, lr=self.lr, warmup_steps=self.warmup_steps,
            min_lr_ratio=self.min_lr_ratio, weight_decay=self.weight_decay, beta2=self.beta2,
            grad_clip=self.grad_clip, full_batch=self.full_batch, loss_dtype=self.loss_dtype,
        )


RAY_CONNECT_TIMEOUT_S = 5.0  # how long a Ray address may take to accept a connection


class ExecutorSpec(_Strict):
    kind: str = "local"
    threads: int = Field(1, gt=0)  # torch threads per process (1 measured faster here; see README)
    workers: int = Field(1, gt=0)  # parallel processes for the local executor
    address: str | None = None     # Ray cluster address for kind: ray
    device: Literal["auto", "cpu", "cuda"] = "auto"
    save_weights: bool = True

    @field_validator("kind")
    @classmethod
    def _known_executor(cls, v: str) -> str:
        from emergelab.sweep.executors import EXECUTORS

        _require_known([v], EXECUTORS)
        if v == "ray":  # checked here, not in the executor: that runs after the folder is created
            import importlib.util

            if importlib.util.find_spec("ray") is None:
                raise ValueError("'ray' needs Ray installed: pip install 'emergelab[ray]'")
        return v

    @field_validator("address")
    @classmethod
    def _cluster_answers(cls, v: str | None) -> str | None:
        """A host:port (or ray://host:port) address must accept a connection within a few seconds:
        ray.init waits for a missing cluster for minutes, after the folder would have been created."""
        if v is None or v in ("auto", "local"):
            return v
        import socket
        from urllib.parse import urlsplit

        where = urlsplit(v if "://" in v else f"ray://{v}")
        try:
            host, port = where.hostname, where.port
        except ValueError:
            host = port = None
        if not host or port is None:
            raise ValueError(f"{v!r}: expected auto, HOST:PORT or ray://HOST:PORT")
        try:
            socket.create_connection((host, port), timeout=RAY_CONNECT_TIMEOUT_S).close()
        except OSError as e:
            raise ValueError(f"no Ray cluster answers at {v} ({e.strerror or e}); start one with "
                             "'ray start --head' or fix the address") from None
        return v

    @field_validator("device")
    @classmethod
    def _device_present(cls, v: str, info: ValidationInfo) -> str:
        """A local run on cuda needs a GPU here (a Ray cluster's workers may have one the driver lacks)."""
        import torch

        if v == "cuda" and info.data.get("kind", "local") == "local" and not torch.cuda.is_available():
            build = "a CPU-only build of torch" if torch.version.cuda is None else "no visible GPU"
            raise ValueError(f"cuda requested but this machine has {build}; use device: cpu or auto")
        return v
    # mid-run snapshots (weights, optimizer, RNGs) so a killed run resumes where it stopped:
    # every K steps and/or every M minutes (null: not by that clock); none at all if both are null
    snapshot_every_steps: int | None = Field(None, gt=0)
    snapshot_every_minutes: float | None = Field(5.0, gt=0)
    storage: str | None = None  # where workers keep snapshots: a path or fsspec URL every node reaches (default FOLDER/snapshots)

    @field_validator("storage")
    @classmethod
    def _storage_reachable(cls, v: str | None) -> str | None:
        """An fsspec URL whose protocol is unknown or whose package is missing (s3:// without s3fs)
        is refused here, not as an internal error later (only the class is looked up: no connection)."""
        if v is None:
            return v
        import fsspec

        for link in v.split("::"):
            protocol = fsspec.core.split_protocol(link)[0] or "file"
            try:
                fsspec.get_filesystem_class(protocol)
            except (ValueError, ImportError) as e:
                raise ValueError(f"{v!r}: {e}") from None
        return v


class MixSpec(_Strict):
    """One model trained on a mix of the spec's tasks (Cook's bit budget: abilities compete for the
    same parameters). For each value s in `shares` the `target` task (a label; default the first
    task) gets share s of the training examples and the other tasks split 1 − s equally. Each task
    is scored on its own test set; its runs carry the knob {"share": its own share}."""

    shares: list[float] = Field(min_length=1)
    target: str | None = None

    @field_validator("shares")
    @classmethod
    def _open_unit(cls, v: list[float]) -> list[float]:
        if any(not 0 < s < 1 for s in v):
            raise ValueError("shares must lie strictly between 0 and 1")
        if len(set(v)) != len(v):
            raise ValueError("shares must be distinct")
        return v


class SamplingSpec(_Strict):
    """Evaluation by sampling at the final checkpoint (evaluate/sampling.py): per test example
    either `samples` answers (pass@k for k <= samples) or draws until the first correct one, up to
    `budget` (tiny probabilities of small models); stored as sample counts (n, c)."""

    temperature: float = Field(1.0, gt=0)
    samples: int | None = Field(None, gt=0)
    budget: int | None = Field(None, gt=0)
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _one_scheme(self) -> SamplingSpec:
        if (self.samples is None) == (self.budget is None):
            raise ValueError("give either samples (n per example) or budget (sample until the first success)")
        return self


class ExperimentSpec(_Strict):
    name: str
    out: str | None = None
    description: str = ""
    tasks: list[TaskSpec] = Field(min_length=1)
    family: FamilySpec
    training: TrainingSpec = TrainingSpec()
    seeds: list[typing.Annotated[int, Field(ge=0, le=MAX_INDEX)]] = Field([0], min_length=1)
    data_seed: int = Field(0, ge=0, le=MAX_INDEX)
    metrics: list[str] = list(DEFAULT_METRICS)
    probes: list[str] = []  # progress measures recorded at each checkpoint (evaluate/probes.py)
    executor: ExecutorSpec = ExecutorSpec()
    mix: MixSpec | None = None  # train one model per share on a mix of the tasks (sweep/knobs.py)
    knobs: list[str] | None = None  # facilitation knobs recorded per run; None: those the spec turns
    sampling: SamplingSpec | None = None  # sample answers at the final checkpoint: pass@k, coverage

    @model_validator(mode="after")
    def _sampling(self) -> ExperimentSpec:
        counted = [m for m in self.metrics if m in METRICS and METRICS[m].reads == "counts"]
        if counted and self.sampling is None:
            raise ValueError(f"metrics: {', '.join(counted)} need sample counts; add a sampling: section")
        if self.sampling is not None and self.mix is not None:
            raise ValueError("sampling: not available for a mix (one model on several tasks) yet")
        drawn = None if self.sampling is None else (self.sampling.samples or self.sampling.budget)
        too_big = [m for m in counted if drawn is not None and (parse_pass_at_k(m) or 0) > drawn]
        if too_big:
            raise ValueError(f"metrics: {', '.join(too_big)} needs more than the {drawn} samples per problem drawn")
        return self

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        """The name becomes a folder under runs/, so `../../escape` or `/abs` must not pass."""
        if not SAFE_NAME.fullmatch(v):
            raise ValueError(f"{v!r} is not a plain folder name (letters, digits, '.', '_', '-'; "
                             "starting with a letter or digit; at most 100 characters)")
        return v

    @field_validator("knobs")
    @classmethod
    def _knobs(cls, v: list[str] | None) -> list[str] | None:
        from emergelab.sweep.knobs import KNOBS

        _require_known(v or [], KNOBS)
        return v

    @model_validator(mode="after")
    def _mix(self) -> ExperimentSpec:
        if self.mix is None:
            return self
        labels = [t.display_label() for t in self.tasks]
        if len(labels) < 2:
            raise ValueError("mix: needs at least two tasks")
        if self.mix.target is not None and self.mix.target not in labels:
            raise ValueError(f"mix.target: no task labelled {self.mix.target!r}; labels: {', '.join(labels)}")
        return self

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, v: list[str]) -> list[str]:
        _require_known(v, METRICS)
        return v

    @field_validator("probes")
    @classmethod
    def _probes(cls, v: list[str]) -> list[str]:
        from emergelab.evaluate.probes import PROBES

        _require_known(v, PROBES)
        return v

    @model_validator(mode="after")
    def _labels_unique(self) -> ExperimentSpec:
        labels = [t.display_label() for t in self.tasks]
        if len(set(labels)) != len(labels):
            raise ValueError("two tasks have the same label; give them distinct `label`s")
        return self

    @model_validator(mode="after")
    def _fits_in_memory(self) -> ExperimentSpec:
        """Refuse a grid whose training would not fit in memory here (see train/memory.py). The
        nodes of a Ray cluster at an address are not known here, so those sweeps are not checked."""
        if self.executor.kind != "local" and self.executor.address:
            return self
        need = sorted((training_bytes(size) for size in _run_sizes(self)), reverse=True)
        at_once = self.executor.workers if self.executor.kind == "local" else 1
        need = [sum(need[:at_once])]
        limit, where = _memory_available(self.executor)
        if need and need[0] > limit:
            raise ValueError(
                f"training.batch_size: training needs about {gib(need[0])} of memory but {where} has "
                f"{gib(limit)}; lower batch_size, the widths, the number of seeds or executor.workers"
            )
        return self

    def out_dir(self, override: str | Path | None = None) -> Path:
        return Path(override or self.out or Path("runs") / self.name)

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:12]


def _run_sizes(spec: ExperimentSpec) -> list[RunSize]:
    """The memory-relevant size of every group the planner will make (a mix trains all its tasks
    in one model over a union vocabulary; see sweep/mix.py)."""
    tasks = [t.build() for t in spec.tasks]
    train = [t.train_size for t in spec.tasks]
    if spec.mix is not None:
        vocab = sum(t.vocab_size for t in tasks) + len(tasks) + 1
        seq = max(t.prompt_len for t in tasks) + 1 + max(t.answer_len for t in tasks)
        units = [(vocab, seq, max(t.answer_len for t in tasks), sum(train),
                  sum(train) + sum(t.test_size for t in spec.tasks), max(t.space_size for t in tasks))]
    else:
        units = [(t.vocab_size, t.seq_len, t.answer_len, ts.train_size, ts.train_size + ts.test_size, t.space_size)
                 for t, ts in zip(tasks, spec.tasks, strict=True)]
    cfg = spec.training
    return [
        RunSize(vocab, seq - 1, answer, s.width, s.depth, s.heads, s.mlp_ratio, s.attn_only, len(spec.seeds),
                n_train if cfg.full_batch else cfg.batch_size, n_all, space)
        for vocab, seq, answer, n_train, n_all, space in units
        for s in spec.family.shapes()
    ]


def _memory_available(executor: ExecutorSpec) -> tuple[int, str]:
    """Memory one group may use and where: the GPU when a local run will use one, else this machine."""
    import torch

    if executor.device != "cpu" and torch.cuda.is_available():
        return torch.cuda.get_device_properties(0).total_memory, "the GPU"
    return memory_limit_bytes(), "this machine"


def _one_line(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"spec error: {loc + ': ' if loc else ''}{msg}{more}"


def parse_spec(data: object) -> ExperimentSpec:
    if not isinstance(data, dict):
        raise SpecError("spec error: the file must hold a YAML mapping (name:, tasks:, family:, ...)")
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as e:
        raise SpecError(_one_line(e)) from None


def load_spec(path: str | Path) -> ExperimentSpec:
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec error: no such file {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise SpecError(f"spec error: {path} is not UTF-8 text (byte {e.start}); is it a binary file?") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise SpecError(f"spec error: {path} is not valid YAML{where}") from None
    return parse_spec(data)
