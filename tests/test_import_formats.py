"""Documented formats, aliases, family/shots columns, bad input, and folders from before family/shots."""

import json
import math
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from emergelab.cli.importing import app
from emergelab.store import DB_NAME, Store
from emergelab.store.importers import REGISTRY, ImportFileError, import_files
from emergelab.store.importers.docs import format_reference

ROOT = Path(__file__).parent.parent
OPT_125M = Path(__file__).parent / "data" / "opt_lm_eval" / "opt-125m.json"
runner = CliRunner()


def _v03(tmp_path, value, name="bad.json"):
    data = json.loads(OPT_125M.read_text())
    data["results"]["piqa"]["acc"] = value
    path = tmp_path / name
    path.write_text(json.dumps(data))  # json writes float("nan") as NaN, as Python-made files do
    return path


@pytest.mark.parametrize("value", ["0.61 (see notes)", math.nan, None, [0.6]])
def test_bad_score_exit_2_names_file_task_metric_and_writes_nothing(tmp_path, value):
    path = _v03(tmp_path, value)
    out = tmp_path / "exp"
    result = runner.invoke(app, [str(path), "--out", str(out)])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(path) in line and "task piqa" in line and "metric acc" in line
    assert not out.exists()


def test_file_without_points_or_not_results_exit_2(tmp_path):
    only_errors = tmp_path / "stderr_only.json"
    only_errors.write_text(json.dumps({"results": {"piqa": {"acc_stderr": 0.01}},
                                       "config": {"model_args": "pretrained=org/m-1b"}}))
    a_list = tmp_path / "list.json"
    a_list.write_text(json.dumps([{"results": {}}]))
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"results": {}, "config": {"model_args": "pretrained=org/m-1b"}}))
    for path, fmt, words in [(only_errors, "auto", "no metric values"), (a_list, "lm-eval-v0.4", "not an lm-evaluation"),
                             (a_list, "lm-eval-v0.3", "not an lm-evaluation"), (empty, "lm-eval-v0.3", "is empty")]:
        out = tmp_path / "exp"
        result = runner.invoke(app, [str(path), "--out", str(out), "--input-format", fmt])
        assert result.exit_code == 2, (path, result.output)
        (line,) = result.stderr.strip().splitlines()
        assert str(path) in line and words in line
        assert not out.exists()


def test_nan_stderr_is_dropped_with_a_warning(tmp_path):
    data = json.loads(OPT_125M.read_text())
    data["results"]["piqa"]["acc_stderr"] = math.nan
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    summary = import_files([path], tmp_path / "exp")
    assert any("piqa / acc: stderr nan dropped" in w for w in summary.warnings)


def test_aliases_family_shots_and_unknown_columns(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("model,model_family,task,metric,score,n,num_fewshot,step,colour\n"
                    "m-1b,fam,t,acc,0.4,200,0,,red\n"
                    "m-1b,fam,t,acc,0.5,200,5,,red\n"
                    "m-1b,fam,t,acc,0.3,200,0,1000,red\n")
    summary = import_files([path], tmp_path / "exp", tokens_per_step=4)
    assert any("ignored unknown column(s) colour" in w for w in summary.warnings)
    with Store(tmp_path / "exp", read_only=True) as store:
        got = {(p.shots, p.step, p.value, p.n_examples, p.family, p.tokens) for p in store.points()}
    assert got == {(0, None, 0.4, 200, "fam", None), (0, 1000, 0.3, 200, "fam", 4000.0), (5, None, 0.5, 200, "fam", None)}


def test_column_conflicts(tmp_path):
    both = tmp_path / "both.csv"
    both.write_text("model,task,metric,value,n,n_examples\nm-1b,t,acc,0.4,10,10\n")
    with pytest.raises(ImportFileError, match="columns n_examples and n both mean n_examples"):
        import_files([both], tmp_path / "a")
    fam = tmp_path / "fam.csv"
    fam.write_text("model,task,metric,value,family\nm-1b,t,acc,0.4,x\nm-1b,u,acc,0.4,y\n")
    with pytest.raises(ImportFileError, match="model 'm-1b' is in family 'y' here but 'x'"):
        import_files([fam], tmp_path / "b")
    same = tmp_path / "same.csv"
    same.write_text("model,task,metric,value,shots\nm-1b,t,acc,0.4,5\nm-1b,t,acc,0.5,5\n")
    with pytest.raises(ImportFileError, match="m-1b / t / acc 5-shot given twice"):
        import_files([same], tmp_path / "c")
    assert not any((tmp_path / d).exists() for d in "abc")


def test_every_example_file_imports_and_every_format_is_documented(tmp_path):
    examples = ROOT / "examples" / "data"
    for reg in REGISTRY.values():
        assert reg.example and reg.columns, reg.name
        assert (examples / reg.example).is_file(), reg.example
    summary = import_files([examples], tmp_path / "exp")
    assert summary.points > 0 and summary.sample_counts > 0 and summary.example_scores > 0
    assert summary.warnings == [f"{examples}: skipped 1 file(s) that are not results: README.md"]
    readme = (ROOT / "README.md").read_text()
    reference = format_reference()
    for reg in REGISTRY.values():
        for col in reg.columns:
            assert f"`{col.name}`" in reference
            assert f"`{col.name}`" in readme, f"README lacks {reg.name} column {col.name}"


def test_old_folder_without_family_and_shots_stays_readable(tmp_path):
    """A folder written before family/shots were columns: read-only opens see None, a write adds them."""
    old = tmp_path / "old"
    old.mkdir()
    con = duckdb.connect(str(old / DB_NAME))
    con.execute("CREATE TABLE points (model VARCHAR, task VARCHAR, metric VARCHAR, params DOUBLE, "
                "non_embedding_params DOUBLE, tokens DOUBLE, flops DOUBLE, step INTEGER, value DOUBLE, "
                "stderr DOUBLE, n_examples INTEGER, higher_is_better BOOLEAN, chance DOUBLE, source VARCHAR)")
    con.execute("INSERT INTO points VALUES ('m-1b', 't', 'acc', 1e9, 1e9, NULL, NULL, NULL, 0.4, NULL, 100, "
                "true, NULL, 'import')")
    con.execute("CREATE TABLE runs (run_id VARCHAR, model VARCHAR, task VARCHAR, task_config VARCHAR, "
                "width INTEGER, depth INTEGER, heads INTEGER, params BIGINT, non_embedding_params BIGINT, "
                "seed INTEGER, steps INTEGER, batch_size INTEGER, tokens_per_step BIGINT, knob VARCHAR, "
                "source VARCHAR, status VARCHAR, seconds DOUBLE, created_at TIMESTAMP)")
    con.close()
    copy = tmp_path / "copy"
    shutil.copytree(old, copy)
    with Store(old, read_only=True) as store:
        (p,) = store.points()
        assert (p.value, p.family, p.shots) == (0.4, None, None) and store.runs() == []
    csv = tmp_path / "more.csv"
    csv.write_text("model,task,metric,value,shots\nm-1b,t,acc,0.6,5\n")
    import_files([csv], copy)
    with Store(copy, read_only=True) as store:
        assert {(p.shots, p.value) for p in store.points()} == {(None, 0.4), (5, 0.6)}


def test_nan_in_a_table_names_line_model_task_and_metric(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("model,task,metric,value\nm-1b,t,acc,0.4\nm-1b,u,em,NaN\n")
    with pytest.raises(ImportFileError, match=r"r.csv: line 3: value: missing or NaN for m-1b / u / em"):
        import_files([path], tmp_path / "exp")
    assert not (tmp_path / "exp").exists()
