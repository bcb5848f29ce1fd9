"""Exit codes that mean something (issue 12 §1): every case a new user hit as a traceback or a
half-written folder now ends in one line on stderr and exit 2, with nothing written; a bug is
exit 1 with one line; --debug shows the traceback; --version answers."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from conftest import tiny_spec_dict
from emergelab.cli import app
from emergelab.store import DB_NAME
from emergelab.store.lock import LOCK_NAME

runner = CliRunner()


def _files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def assert_refused(result, *words: str) -> str:
    """Exit 2, exactly one line on stderr naming the problem (no blank line around it), nothing on stdout."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output and result.stdout == ""
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _spec_file(folder: Path, **change) -> Path:
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(tiny_spec_dict(**change)))
    return path


@pytest.mark.parametrize("change,words", [
    ({"family": {"widths": [0, 12], "depths": [1], "head_dim": 4}}, ["family.widths.0", "greater than 0"]),
    ({"family": {"widths": [-8, 12], "depths": [1], "head_dim": 4}}, ["family.widths.0", "greater than 0"]),
    ({"family": {"widths": [8], "depths": [0], "head_dim": 4}}, ["family.depths.0", "greater than 0"]),
    ({"family": {"widths": [9], "depths": [1], "head_dim": 4}}, ["family", "not divisible by heads"]),
    ({"tasks": [{"name": "addition", "digits": 19}]}, ["tasks.0", "64-bit"]),
    ({"tasks": [{"name": "multiplication", "digits": 40}]}, ["tasks.0", "64-bit"]),
    ({"seeds": [-1]}, ["seeds.0"]),
    ({"training": {"steps": 5, "batch_size": 1_000_000_000}}, ["training.batch_size", "GiB of memory"]),
    ({"executor": {"kind": "slurm"}}, ["executor.kind", "slurm"]),
    ({"name": "../../escape"}, ["name", "../../escape"]),
    ({"name": "/abs"}, ["name", "/abs"]),
    ({"executor": {"storage": "nosuchproto://bucket/x"}}, ["executor.storage", "nosuchproto"]),  # was exit 1
])
def test_refused_spec_writes_nothing(tmp_path, monkeypatch, change, words):
    spec = _spec_file(tmp_path, **change)
    monkeypatch.chdir(tmp_path)  # without --out the folder would be runs/<name> (or outside, for ../..)
    before = _files_under(tmp_path.parent)
    assert_refused(runner.invoke(app, ["run", str(spec)]), "spec error:", *words)
    assert _files_under(tmp_path.parent) == before


def test_huge_batch_is_refused_before_any_allocation(tmp_path):
    """The estimate refuses it at load: nothing near 10^9 sequences is ever allocated (the old failure
    was a MemoryError after 28 s); the message gives the estimate and the machine's memory."""
    spec = _spec_file(tmp_path, training={"steps": 5, "batch_size": 1_000_000_000})
    line = assert_refused(runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")]))
    assert "lower batch_size" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_on_a_cpu_machine(tmp_path):
    spec = _spec_file(tmp_path, executor={"device": "cuda", "save_weights": False})
    assert_refused(runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")]), "executor.device", "cuda")
    assert not (tmp_path / "out").exists()


def test_ray_executor_without_ray_writes_nothing(tmp_path, monkeypatch):
    """Once refused by the executor, after the folder's lock and database were created."""
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the [ray] extra were not installed
    spec = _spec_file(tmp_path, executor={"kind": "ray", "save_weights": False})
    out = tmp_path / "out"
    assert_refused(runner.invoke(app, ["run", str(spec), "--out", str(out)]), "executor.kind", "pip install")
    assert not out.exists()


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address, words", [
    (None, ["no Ray cluster answers", "ray start --head"]),  # was a silent hang of minutes
    ("not an address", ["expected auto, HOST:PORT"]),
])
def test_ray_address_without_a_cluster_is_refused_at_once(tmp_path, address, words):
    pytest.importorskip("ray")
    address = address or f"127.0.0.1:{_closed_port()}"
    spec = _spec_file(tmp_path, executor={"kind": "ray", "address": address, "save_weights": False})
    out = tmp_path / "out"
    assert_refused(runner.invoke(app, ["run", str(spec), "--out", str(out)]), "executor.address", *words)
    assert not out.exists()


def test_binary_spec_file(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(bytes(range(256)) * 4)
    assert_refused(runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")]), "not UTF-8", "spec.yaml")
    assert not (tmp_path / "out").exists()


def test_out_naming_an_existing_file(tmp_path):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    assert_refused(runner.invoke(app, ["run", str(_spec_file(tmp_path)), "--out", str(target)]), str(target))
    assert target.read_text() == "not a folder" and sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml", "taken"]


SMALL = tiny_spec_dict(family={"widths": [8], "depths": [1], "head_dim": 4}, seeds=[0],
                       training={"steps": 10, "batch_size": 16, "warmup_steps": 2, "checkpoints": "final"})


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    """A real, finished (tiny) experiment folder."""
    root = tmp_path_factory.mktemp("experiment")
    (root / "spec.yaml").write_text(yaml.safe_dump(SMALL))
    result = runner.invoke(app, ["run", str(root / "spec.yaml"), "--out", str(root / "exp"), "--no-report"])
    assert result.exit_code == 0, result.output
    return root / "exp"


def _corrupt_copies(experiment: Path, folder: Path) -> list[Path]:
    """A database of random bytes, and a real one cut in half (a disk filled mid-write)."""
    junk = folder / "junk"
    junk.mkdir()
    (junk / DB_NAME).write_bytes(os.urandom(50_000))
    half = folder / "half"
    half.mkdir()
    data = (experiment / DB_NAME).read_bytes()
    (half / DB_NAME).write_bytes(data[: len(data) // 2])
    return [junk, half]


@pytest.mark.parametrize("command", [["report"], ["metrics"], ["analyze"], ["export", "--parquet"]])
def test_corrupt_database(experiment, tmp_path, command):
    for folder in _corrupt_copies(experiment, tmp_path):
        before = _files_under(folder)
        args = [command[0], str(folder), *command[1:]]
        if command[0] == "export":
            args += ["--out", str(folder / "parquet")]
        assert_refused(runner.invoke(app, args), DB_NAME)
        assert _files_under(folder) == before


def test_corrupt_database_under_run(experiment, tmp_path):
    """Only the sweep's lock file may appear (an empty flock file, left on purpose: store/lock.py)."""
    spec = _spec_file(tmp_path)
    for folder in _corrupt_copies(experiment, tmp_path):
        before = _files_under(folder)
        assert_refused(runner.invoke(app, ["run", str(spec), "--out", str(folder), "--no-report"]), DB_NAME)
        assert _files_under(folder) - {folder / LOCK_NAME} == before


def _invoke_as_unprivileged(args: list[str]) -> tuple[int, str, str]:
    """Run the CLI where permissions apply: in this process, or, under root (which ignores file
    modes), in a forked child that gives up root first (it may then be unable to import what the
    parent has not imported yet: the interpreter can live in root's home)."""
    if os.geteuid() != 0:
        result = runner.invoke(app, args)
        return result.exit_code, result.stdout, result.stderr
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: become nobody, run, report through the pipe, never return into pytest
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            result = runner.invoke(app, args)
            os.write(write, json.dumps([result.exit_code, result.stdout, result.stderr]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    return tuple(json.loads(payload))


def _copy_experiment(experiment: Path, root: Path) -> None:
    """ROOT/spec.yaml (the experiment's own spec) and ROOT/exp (its files)."""
    (root / "exp").mkdir()
    for path in experiment.iterdir():
        if path.is_file():
            (root / "exp" / path.name).write_bytes(path.read_bytes())
    (root / "spec.yaml").write_text(yaml.safe_dump(SMALL))


@pytest.fixture
def copies(experiment, tmp_path):
    """A writable copy of the experiment, and one in a world-readable, read-only folder."""
    _copy_experiment(experiment, tmp_path)
    root = Path(tempfile.mkdtemp(prefix="emergelab-ro-"))
    _copy_experiment(experiment, root)
    for path in [*root.rglob("*"), root]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    yield tmp_path, root
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755)
    shutil.rmtree(root)


@pytest.mark.parametrize("args", [
    ["run", "{root}/spec.yaml", "--out", "{root}/exp"],        # the store cannot be written
    ["run", "{root}/spec.yaml", "--out", "{root}/new"],        # the folder cannot be created
    ["report", "{root}/exp"],
    ["export", "{root}/exp", "--parquet", "--out", "{root}/exp/parquet"],
])
def test_read_only_folder(copies, args):
    writable, read_only = copies
    works = runner.invoke(app, [a.format(root=writable) for a in args])  # the same command, writable
    assert works.exit_code == 0, works.output
    before = _files_under(read_only)
    code, stdout, stderr = _invoke_as_unprivileged([a.format(root=read_only) for a in args])
    lines = stderr.strip().splitlines()
    assert code == 2, (code, stdout, stderr)
    assert len(lines) == 1 and lines[0].startswith("error:") and "ermission denied" in lines[0], stderr
    assert _files_under(read_only) == before


def test_internal_error_is_exit_1_with_a_hint(monkeypatch):
    """A bug (here: the table printer blowing up) is not the user's fault: exit 1, one line."""
    from emergelab.cli import run as run_cli

    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(run_cli.out_console, "print", broken)
    result = runner.invoke(app, ["tasks"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines == ["internal error: ZeroDivisionError: a bug; rerun with --debug for the traceback"]

    debug = runner.invoke(app, ["--debug", "tasks"])
    assert isinstance(debug.exception, ZeroDivisionError)  # the traceback goes through


def test_debug_shows_the_traceback_of_a_user_error(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"not a database")
    result = runner.invoke(app, ["--debug", "metrics", str(tmp_path)])
    assert result.exit_code == 1 and type(result.exception).__name__ == "IOException"


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"emergelab {version('emergelab')}"


SAMPLES = Path(__file__).parent / "data" / "import" / "EleutherAI__pythia-160m"


@pytest.mark.parametrize("fmt", ["lm-eval-v0.4", "lm-eval-v0.3", "lm-eval-samples", "counts", "table"])
def test_import_a_json_list_under_any_format(tmp_path, fmt):
    """Once an AttributeError traceback for lm-eval-v0.4."""
    path = tmp_path / "list.json"
    path.write_text('[{"a": 1}, 2]')
    out = tmp_path / "out"
    assert_refused(runner.invoke(app, ["import", str(path), "--out", str(out), "--input-format", fmt]), "list.json")
    assert not out.exists()


def test_import_an_id_beyond_the_store_integers(tmp_path):
    """Found by the fuzzer: a doc_id of 2**31 was an ArrowInvalid traceback (ids are 32-bit in the store)."""
    name = next(SAMPLES.glob("samples_arc_easy_*.jsonl")).name
    lines = (SAMPLES / name).read_text().splitlines()
    record = json.loads(lines[0])
    record["doc_id"] = 2**31
    folder = tmp_path / SAMPLES.name
    folder.mkdir()
    (folder / name).write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    out = tmp_path / "out"
    assert_refused(runner.invoke(app, ["import", str(folder / name), "--out", str(out)]), "2147483648", "32-bit")
    assert not out.exists()


@pytest.mark.parametrize("argv, one_line", [(["analyze", "x"], True), (["--debug", "analyze", "x"], False)])
def test_script_prints_a_warning_as_one_line(monkeypatch, capsys, argv, one_line):
    """The `emergelab` script shows a Python warning as `warning: ...` (the default format adds the
    file, line number and source line: 230 columns for a noise notice); --debug keeps the default."""
    import warnings

    import emergelab.cli as cli

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # restored after the test
    monkeypatch.setattr(sys, "argv", ["emergelab", *argv])

    def app():
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("arc_challenge/acc: between-model scatter\n  not estimable", UserWarning, stacklevel=1)

    monkeypatch.setattr(cli, "app", app)
    cli.main()
    err = capsys.readouterr().err
    if one_line:
        assert err == "warning: arc_challenge/acc: between-model scatter not estimable\n"
    else:
        assert warnings.showwarning is not cli._warning_line and "warning: " not in err
