"""The experiment database: one DuckDB file per experiment folder.

Tables (one row per ...):
  experiment     key/value facts about the experiment (name, spec YAML)
  runs           trained or imported model × task × seed; `status='done'` only once complete
  checkpoints    run × training step (tokens seen, losses, progress measures as JSON)
  outputs        run × step × test example × answer-token position: the greedy token, the target,
                 teacher-forced log p(target), Σ_v p_v² and the teacher-forced argmax — every scalar a
                 metric needs, so metrics never need the model again
  example_scores run × step × example × metric: per-example scores imported from elsewhere
                 (e.g. lm-evaluation-harness --log_samples)
  sample_counts  run × step × example: n samples drawn, c correct (pass@k, tiny probabilities)
  points         aggregate results imported from elsewhere (value ± stderr over n examples)

A run is written in one transaction (rows first, then its 'done' mark), so an interrupted sweep
leaves either a finished run or nothing; unfinished leftovers are deleted before a run is redone.

Reading while a sweep runs: DuckDB allows one writing process or many reading ones, so a sweep
opens the file only for the moment it writes a finished group, and every `Store` retries for up to
`wait` seconds while another process holds it; `analyze`, `metrics`, `report` and `export` work on
a folder whose sweep is still running and see the runs finished so far. A second sweep on the
same folder is refused by a lock file held for the whole sweep (store/lock.py).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

DB_NAME = "emergelab.duckdb"

SCHEMA = """
CREATE TABLE IF NOT EXISTS experiment (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
  run_id VARCHAR PRIMARY KEY, model VARCHAR, task VARCHAR, task_config VARCHAR,
  width INTEGER, depth INTEGER, heads INTEGER, params BIGINT, non_embedding_params BIGINT,
  seed INTEGER, steps INTEGER, batch_size INTEGER, tokens_per_step BIGINT, knob VARCHAR,
  source VARCHAR, status VARCHAR, seconds DOUBLE, created_at TIMESTAMP DEFAULT current_timestamp,
  family VARCHAR, shots INTEGER);
CREATE TABLE IF NOT EXISTS checkpoints (
  run_id VARCHAR, step INTEGER, tokens BIGINT, train_loss DOUBLE, test_loss DOUBLE, extra VARCHAR);
CREATE TABLE IF NOT EXISTS outputs (
  run_id VARCHAR, step INTEGER, example_id INTEGER, pos SMALLINT, target SMALLINT, pred SMALLINT,
  logprob DOUBLE, sum_p2 DOUBLE, tf_pred SMALLINT);
CREATE TABLE IF NOT EXISTS example_scores (
  run_id VARCHAR, step INTEGER, example_id INTEGER, metric VARCHAR, value DOUBLE);
CREATE TABLE IF NOT EXISTS sample_counts (
  run_id VARCHAR, step INTEGER, example_id INTEGER, n INTEGER, c INTEGER);
CREATE TABLE IF NOT EXISTS points (
  model VARCHAR, task VARCHAR, metric VARCHAR, params DOUBLE, non_embedding_params DOUBLE,
  tokens DOUBLE, flops DOUBLE, step INTEGER, value DOUBLE, stderr DOUBLE, n_examples INTEGER,
  higher_is_better BOOLEAN, chance DOUBLE, source VARCHAR, family VARCHAR, shots INTEGER);
""" + "".join(  # folders written before family/shots were dimensions gain the columns (empty) on open
    f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind};\n"
    for table in ("runs", "points") for column, kind in (("family", "VARCHAR"), ("shots", "INTEGER"))
)

_POINT_TYPES = {
    "model": pa.string(), "task": pa.string(), "metric": pa.string(), "source": pa.string(),
    "step": pa.int32(), "n_examples": pa.int32(), "higher_is_better": pa.bool_(), "family": pa.string(),
    "shots": pa.int32(),
}

RUN_COLUMNS = (
    "run_id", "model", "task", "task_config", "width", "depth", "heads", "params",
    "non_embedding_params", "seed", "steps", "batch_size", "tokens_per_step", "knob", "source",
    "status", "seconds", "family", "shots",
)


@dataclass
class RunRecord:
    """One model × task × seed. `task_config` and `knob` are JSON-able dicts."""

    run_id: str
    model: str
    task: str
    task_config: dict
    params: int
    non_embedding_params: int
    seed: int | None = None
    width: int | None = None
    depth: int | None = None
    heads: int | None = None
    steps: int | None = None
    batch_size: int | None = None
    tokens_per_step: int | None = None
    knob: dict = field(default_factory=dict)
    source: str = "native"
    status: str = "done"
    seconds: float | None = None
    family: str | None = None  # model family (imports; None for our own runs)
    shots: int | None = None  # in-context examples of the evaluation (imports; None = not stated)

    def row(self) -> tuple:
        d = asdict(self)
        d["task_config"] = json.dumps(d["task_config"], sort_keys=True)
        d["knob"] = json.dumps(d["knob"], sort_keys=True)
        return tuple(d[c] for c in RUN_COLUMNS)


@dataclass
class CheckpointRecord:
    step: int
    tokens: int
    train_loss: float | None = None
    test_loss: float | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class TokenOutputs:
    """Per answer token of every test example at one checkpoint; arrays shaped (examples, L)."""

    target: np.ndarray      # int, the correct token
    pred: np.ndarray        # int, the free-running greedy token
    logprob: np.ndarray     # float, teacher-forced log p(target)
    sum_p2: np.ndarray      # float, teacher-forced Σ_v p_v²
    tf_pred: np.ndarray     # int, teacher-forced argmax
    example_id: np.ndarray  # int, (examples,)

    @property
    def n_examples(self) -> int:
        return int(self.target.shape[0])

    def to_arrow(self, run_id: str, step: int) -> pa.Table:
        e, length = self.target.shape
        return pa.table({
            "run_id": pa.array([run_id] * (e * length), pa.string()),
            "step": np.full(e * length, step, dtype=np.int32),
            "example_id": np.repeat(self.example_id.astype(np.int32), length),
            "pos": np.tile(np.arange(length, dtype=np.int16), e),
            "target": self.target.astype(np.int16).ravel(),
            "pred": self.pred.astype(np.int16).ravel(),
            "logprob": self.logprob.astype(np.float64).ravel(),
            "sum_p2": self.sum_p2.astype(np.float64).ravel(),
            "tf_pred": self.tf_pred.astype(np.int16).ravel(),
        })


@dataclass
class RunResult:
    """Everything a finished run hands to the store: written together or not at all."""

    run: RunRecord
    checkpoints: list[CheckpointRecord]
    outputs: dict[int, TokenOutputs]  # step -> outputs
    counts: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    # step -> (example_id, n, c): evaluation by sampling, stored like imported sample counts


@dataclass
class PointRecord:
    """An aggregate result from elsewhere: metric value ± stderr of a model on a task."""

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
    higher_is_better: bool = True
    chance: float | None = None
    source: str = "import"
    family: str | None = None
    shots: int | None = None  # in-context examples; None = not stated


def _checkpoints_arrow(run_id: str, checkpoints: list[CheckpointRecord]) -> pa.Table:
    """A run's checkpoint rows as one Arrow table in the `checkpoints` table's column order."""
    return pa.table({
        "run_id": pa.array([run_id] * len(checkpoints), pa.string()),
        "step": pa.array([ck.step for ck in checkpoints], pa.int32()),
        "tokens": pa.array([ck.tokens for ck in checkpoints], pa.int64()),
        "train_loss": pa.array([ck.train_loss for ck in checkpoints], pa.float64()),
        "test_loss": pa.array([ck.test_loss for ck in checkpoints], pa.float64()),
        "extra": pa.array([json.dumps(ck.extra) for ck in checkpoints], pa.string()),
    })


class StoreBusy(RuntimeError):
    """The database is locked by another process (DuckDB allows one writer process)."""


LOCK_WAIT_SECONDS = 60.0  # a sweep holds the file only while it writes one finished group


def _connect_when_free(path: Path, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    """Connect, retrying with growing pauses while another process holds a conflicting lock.

    A running sweep opens the file only to write a finished group (store/lock.py), and readers
    only to read; either side waits for the other's moment to pass instead of failing."""
    deadline = time.monotonic() + wait
    pause = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            if "lock" not in str(e).lower():
                raise
            if time.monotonic() + pause > deadline:
                raise StoreBusy(f"{path} stayed in use by another process for {wait:.0f} s; try again later") from None
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


class Store:
    """The DuckDB file of one experiment folder. Use as a context manager."""

    def __init__(self, folder: str | Path, read_only: bool = False, wait: float = LOCK_WAIT_SECONDS):
        """`wait`: how long to retry while another process holds the file (a sweep writing a
        finished group, a reader reading) before giving up with `StoreBusy`."""
        self.folder = Path(folder)
        self._depth = 0
        self.path = self.folder / DB_NAME
        if read_only and not self.path.exists():
            raise FileNotFoundError(f"no {DB_NAME} in {self.folder}")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.con = _connect_when_free(self.path, read_only, wait)
        if not read_only:
            self.con.execute(SCHEMA)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction; nested calls join the outer one (DuckDB cannot nest transactions), so
        several writes — e.g. a whole import — commit or roll back together."""
        if self._depth:
            yield self.con
            return
        self._depth += 1
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")
        finally:
            self._depth -= 1

    # --- experiment facts -------------------------------------------------------------------
    def set_fact(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO experiment VALUES (?, ?)", [key, value])

    def fact(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM experiment WHERE key = ?", [key]).fetchone()
        return None if row is None else row[0]

    # --- runs -------------------------------------------------------------------------------
    def done_run_ids(self) -> set[str]:
        return {r[0] for r in self.con.execute("SELECT run_id FROM runs WHERE status = 'done'").fetchall()}

    def _delete_run(self, con: duckdb.DuckDBPyConnection, run_id: str) -> None:
        for table in ("outputs", "checkpoints", "example_scores", "sample_counts", "runs"):
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])

    def write_run(self, result: RunResult) -> None:
        """Store a finished run atomically, replacing any unfinished leftovers of the same id."""
        run = result.run
        with self.transaction() as con:
            self._delete_run(con, run.run_id)
            # one INSERT per table, not one per checkpoint: a statement costs milliseconds, and a
            # sweep's driver writes each group while the workers train on the same cores
            if result.checkpoints:
                cks = _checkpoints_arrow(run.run_id, result.checkpoints)  # noqa: F841 (replacement scan)
                con.execute("INSERT INTO checkpoints SELECT * FROM cks")
            if result.outputs:
                batch = pa.concat_tables([out.to_arrow(run.run_id, step)  # noqa: F841 (replacement scan)
                                          for step, out in result.outputs.items()])
                con.execute("INSERT INTO outputs SELECT * FROM batch")
            for step, (ids, n, c) in result.counts.items():
                counts = pa.table({"example_id": np.asarray(ids, dtype=np.int32), "n": np.asarray(n, dtype=np.int32),  # noqa: F841
                                   "c": np.asarray(c, dtype=np.int32)})
                con.execute("INSERT INTO sample_counts SELECT ?, ?, example_id, n, c FROM counts", [run.run_id, step])
            placeholders = ", ".join("?" * len(RUN_COLUMNS))
            con.execute(f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({placeholders})", list(run.row()))

    def write_imported_run(
        self,
        run: RunRecord,
        example_scores: pa.Table | None = None,
        sample_counts: pa.Table | None = None,
    ) -> None:
        """Store an imported model's per-example scores (columns step, example_id, metric, value)
        and/or sampling counts (columns step, example_id, n, c), atomically."""
        with self.transaction() as con:
            self._delete_run(con, run.run_id)
            if example_scores is not None:
                es = example_scores  # noqa: F841
                con.execute(
                    "INSERT INTO example_scores SELECT ?, step, example_id, metric, value FROM es", [run.run_id]
                )
            if sample_counts is not None:
                sc = sample_counts  # noqa: F841
                con.execute("INSERT INTO sample_counts SELECT ?, step, example_id, n, c FROM sc", [run.run_id])
            placeholders = ", ".join("?" * len(RUN_COLUMNS))
            con.execute(f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({placeholders})", list(run.row()))

    def write_points(self, points: list[PointRecord]) -> None:
        """Store aggregate results set-at-a-time (one transaction); re-importing the same
        model/task/metric/step replaces it."""
        if not points:
            return
        names = [f.name for f in fields(PointRecord)]
        schema = pa.schema([(n, _POINT_TYPES.get(n, pa.float64())) for n in names])
        new = pa.Table.from_pylist([asdict(p) for p in points], schema=schema)  # noqa: F841 (DuckDB scan)
        with self.transaction() as con:
            con.execute(
                "DELETE FROM points USING new WHERE points.model = new.model AND points.task = new.task "
                "AND points.metric = new.metric AND points.step IS NOT DISTINCT FROM new.step "
                "AND points.shots IS NOT DISTINCT FROM new.shots"
            )
            con.execute("INSERT INTO points BY NAME SELECT * FROM new")

    # --- reading ----------------------------------------------------------------------------
    def _columns(self, table: str, names: tuple[str, ...] | list[str]) -> str:
        """A select list for `names`, with NULL for columns a folder from an older version lacks
        (a read-only open cannot add them), so old folders stay readable."""
        have = {r[0] for r in self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}
        return ", ".join(n if n in have else f"NULL AS {n}" for n in names)

    def runs(self) -> list[RunRecord]:
        rows = self.con.execute(
            f"SELECT {self._columns('runs', RUN_COLUMNS)} FROM runs WHERE status = 'done' "
            "ORDER BY non_embedding_params, model, seed"
        ).fetchall()
        out = []
        for row in rows:
            d = dict(zip(RUN_COLUMNS, row, strict=True))
            d["task_config"] = json.loads(d["task_config"] or "{}")
            d["knob"] = json.loads(d["knob"] or "{}")
            out.append(RunRecord(**d))
        return out

    def checkpoints(self, run_id: str) -> list[CheckpointRecord]:
        rows = self.con.execute(
            "SELECT step, tokens, train_loss, test_loss, extra FROM checkpoints WHERE run_id = ? ORDER BY step",
            [run_id],
        ).fetchall()
        return [CheckpointRecord(s, t, a, b, json.loads(e or "{}")) for s, t, a, b, e in rows]

    def token_outputs(self, run_id: str) -> dict[int, TokenOutputs]:
        """All stored outputs of a run, per step, as (examples, L) arrays."""
        tbl = self.con.execute(
            "SELECT step, example_id, pos, target, pred, logprob, sum_p2, tf_pred FROM outputs "
            "WHERE run_id = ? ORDER BY step, example_id, pos",
            [run_id],
        ).fetchnumpy()
        result: dict[int, TokenOutputs] = {}
        if len(tbl["step"]) == 0:
            return result
        length = int(tbl["pos"].max()) + 1
        for step in np.unique(tbl["step"]):
            m = tbl["step"] == step
            def grid(col: str, m: np.ndarray = m) -> np.ndarray:
                return np.asarray(tbl[col][m]).reshape(-1, length)
            result[int(step)] = TokenOutputs(
                target=grid("target"), pred=grid("pred"), logprob=grid("logprob"),
                sum_p2=grid("sum_p2"), tf_pred=grid("tf_pred"), example_id=grid("example_id")[:, 0],
            )
        return result

    def example_scores(self, run_id: str) -> dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]:
        """Imported per-example scores: (step, metric) -> (example_ids, values)."""
        tbl = self.con.execute(
            "SELECT coalesce(step, 0) AS step, metric, example_id, value FROM example_scores WHERE run_id = ? "
            "ORDER BY step, metric, example_id", [run_id],
        ).fetchnumpy()
        out: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}
        for step, metric in {(int(s), str(m)) for s, m in zip(tbl["step"], tbl["metric"], strict=True)}:
            m = (tbl["step"] == step) & (tbl["metric"] == metric)
            out[(step, metric)] = (np.asarray(tbl["example_id"][m]), np.asarray(tbl["value"][m], dtype=float))
        return out

    def sample_counts(self, run_id: str) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Sampling counts: step -> (example_ids, n, c)."""
        tbl = self.con.execute(
            "SELECT coalesce(step, 0) AS step, example_id, n, c FROM sample_counts WHERE run_id = ? ORDER BY step, example_id",
            [run_id],
        ).fetchnumpy()
        out = {}
        for step in np.unique(tbl["step"]) if len(tbl["step"]) else []:
            m = tbl["step"] == step
            out[int(step)] = (np.asarray(tbl["example_id"][m]), np.asarray(tbl["n"][m]), np.asarray(tbl["c"][m]))
        return out

    def points(self) -> list[PointRecord]:
        cols = [f.name for f in PointRecord.__dataclass_fields__.values()]
        rows = self.con.execute(f"SELECT {self._columns('points', cols)} FROM points ORDER BY task, metric, params").fetchall()
        return [PointRecord(**dict(zip(cols, r, strict=True))) for r in rows]

    def export_parquet(self, out_dir: str | Path) -> list[Path]:
        """Write every table as Parquet: all tables into a temporary folder first, then each moved
        in under a temporary name and renamed, so a failed export (a corrupt database, a full disk)
        leaves nothing behind and a file in `out_dir` is always whole."""
        out_dir = Path(out_dir)
        staging = Path(tempfile.mkdtemp(prefix="emergelab-export-"))
        try:
            tables = [t for (t,) in self.con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
            for table in tables:
                self.con.execute(f"COPY {table} TO '{staging / f'{table}.parquet'}' (FORMAT PARQUET)")
            out_dir.mkdir(parents=True, exist_ok=True)
            written = []
            for table in tables:
                target = out_dir / f"{table}.parquet"
                tmp = out_dir / f".{table}.parquet.tmp"
                shutil.move(staging / f"{table}.parquet", tmp)
                tmp.replace(target)
                written.append(target)
            return written
        finally:
            shutil.rmtree(staging, ignore_errors=True)
