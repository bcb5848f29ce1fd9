"""Long CSV/Parquet results, sampling counts, and the all-or-nothing rule."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emergelab.store import DB_NAME, Store
from emergelab.store.importers import ImportFileError, UnknownSizeError, import_files, load_file
from emergelab.store.importers.counts import example_id

DATA = Path(__file__).parent / "data"
IMPORT = DATA / "import"


def test_long_csv_derives_params_and_flops(tmp_path):
    summary = import_files([IMPORT / "long.csv"], tmp_path)
    assert summary.sizes == {"toy-70m": 7e7, "toy-410m": 4.1e8, "toy-1.4b": 1.4e9}
    with Store(tmp_path, read_only=True) as store:
        by = {(p.model, p.metric): p for p in store.points()}
    small = by[("toy-70m", "exact_match")]
    assert small.params == 7e7 and small.tokens == 3e11
    assert small.flops == pytest.approx(6 * 7e7 * 3e11)
    assert small.stderr == 0.003 and small.n_examples == 1000 and small.higher_is_better
    assert by[("toy-1.4b", "exact_match")].flops == 2.5e21  # given flops are kept
    assert by[("toy-70m", "token_edit_distance")].higher_is_better is False
    bpb = by[("toy-410m", "bits_per_byte")]
    assert bpb.higher_is_better is False and bpb.stderr is None and bpb.n_examples is None


def test_parquet_and_explicit_columns(tmp_path):
    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({
        "model": ["m-1", "m-2"], "params": [1e6, 2e6], "task": ["t", "t"], "metric": ["score", "score"],
        "value": [0.1, 0.9], "higher_is_better": [False, False], "chance": [0.5, 0.5], "step": [10, 10],
    }), path)
    summary = import_files([path], tmp_path / "exp")
    assert summary.warnings == []
    with Store(tmp_path / "exp", read_only=True) as store:
        points = store.points()
    assert [(p.params, p.higher_is_better, p.chance, p.step) for p in points] == [(1e6, False, 0.5, 10), (2e6, False, 0.5, 10)]


def test_unknown_metric_is_a_warning(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("model,task,metric,value\nopt-125m,t,weird,0.3\n")
    summary = import_files([path], tmp_path / "exp")
    assert any("weird" in w for w in summary.warnings)


def test_orientation_from_the_metric_registry(tmp_path):
    """An error rate falls as models improve: `error` (and its alias `err`, and `char_edit_distance`)
    are stored lower-is-better without the 'assumed higher is better' warning the importer gave
    (the analyses read the registry, so the store and the warning disagreed with them)."""
    path = tmp_path / "r.csv"
    path.write_text("model,task,metric,value\n" + "".join(
        f"m-{n}m,t,{metric},0.3\n" for n in (1, 2) for metric in ("error", "err", "char_edit_distance", "weird")))
    summary = import_files([path], tmp_path / "exp")
    with Store(tmp_path / "exp", read_only=True) as store:
        hib = {p.metric: p.higher_is_better for p in store.points()}
    assert hib == {"error": False, "err": False, "char_edit_distance": False, "weird": True}
    [warning] = [w for w in summary.warnings if "assumed higher is better" in w]
    assert "weird" in warning and "error" not in warning and "err," not in warning


def test_zero_tokens_at_step_zero_round_trips(tmp_path):
    """Step 0 has seen D = 0 tokens (and C = 0): an lm-eval import with --tokens-per-step stores
    that, so a table exported from it (tokens 0) imports again; negative tokens are refused."""
    path = tmp_path / "r.csv"
    path.write_text("model,task,metric,step,tokens,value\nm-1m,t,acc,0,0,0.0\nm-1m,t,acc,10,2e7,0.4\n")
    import_files([path], tmp_path / "exp")
    with Store(tmp_path / "exp", read_only=True) as store:
        got = sorted((p.step, p.tokens, p.flops) for p in store.points())
    assert got == [(0, 0.0, 0.0), (10, 2e7, pytest.approx(6 * 1e6 * 2e7))]
    path.write_text("model,task,metric,tokens,value\nm-1m,t,acc,-5,0.4\n")
    with pytest.raises(ImportFileError, match="tokens: '-5' must not be negative"):
        import_files([path], tmp_path / "exp2")
    assert not (tmp_path / "exp2" / DB_NAME).exists()


def test_counts_csv_and_jsonl(tmp_path):
    summary = import_files([IMPORT / "counts.csv", IMPORT / "counts.jsonl"], tmp_path)
    assert summary.sizes == {"coder-350m": 3.5e8, "coder-2b": 2e9, "toy-1m": 1e6}
    assert summary.sample_counts == 10 and summary.points == 0
    with Store(tmp_path, read_only=True) as store:
        runs = {r.run_id: r for r in store.runs()}
        assert runs["import:coder-2b:humaneval"].params == 2_000_000_000
        ids, n, c = store.sample_counts("import:coder-2b:humaneval")[0]
        order = [list(ids).index(example_id(f"HumanEval/{i}")) for i in range(3)]
        assert [int(c[i]) for i in order] == [57, 2, 96] and set(n) == {100}
        names = store.fact("import.example_ids:import:coder-2b:humaneval")
        assert "HumanEval/2" in names
        steps = store.sample_counts("import:toy-1m:8digit_mul")
        assert sorted(steps) == [5000, 10000]
        assert list(steps[10000][2]) == [12, 30]


def test_reimport_keeps_other_steps(tmp_path):
    first = tmp_path / "a.jsonl"
    first.write_text('{"model": "toy-1m", "task": "t", "problem_id": 0, "n": 10, "c": 1, "step": 1}\n')
    second = tmp_path / "b.jsonl"
    second.write_text('{"model": "toy-1m", "task": "t", "problem_id": 0, "n": 10, "c": 9, "step": 2}\n')
    import_files([first], tmp_path / "exp")
    import_files([second], tmp_path / "exp")
    import_files([second], tmp_path / "exp")  # same data again replaces, never duplicates
    with Store(tmp_path / "exp", read_only=True) as store:
        counts = store.sample_counts("import:toy-1m:t")
    assert {s: int(v[2][0]) for s, v in counts.items()} == {1: 1, 2: 9}


@pytest.mark.parametrize("text, problem", [
    ("model,task,problem_id,n,c\nm-1b,t,0,5,6\n", "line 2: c: 6 correct out of n=5"),
    ("model,task,problem_id,n,c\nm-1b,t,0,5,1\nm-1b,t,0,5,2\n", "line 3: problem_id"),
    ("model,task,problem_id,n,c\nm-1b,t,0,x,1\n", "line 2: n: 'x' is not a number"),
])
def test_counts_errors(tmp_path, text, problem):
    path = tmp_path / "c.csv"
    path.write_text(text)
    with pytest.raises(ImportFileError, match=problem):
        load_file(path)


def test_unknown_size_writes_nothing(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("model,task,metric,value\nopt-125m,t,acc,0.3\nmystery-model,t,acc,0.5\n")
    out = tmp_path / "new" / "exp"
    with pytest.raises(UnknownSizeError, match="mystery-model") as err:
        import_files([IMPORT / "long.csv", path], out)
    assert str(path) in str(err.value)
    assert not (tmp_path / "new").exists()
    # with the size given it imports
    assert import_files([path], out, params=["mystery-model=3e9"]).sizes["mystery-model"] == 3e9


def test_failure_leaves_existing_experiment_untouched(tmp_path):
    out = tmp_path / "exp"
    import_files([IMPORT / "long.csv"], out)
    before = (out / DB_NAME).stat().st_size
    bad = tmp_path / "bad.csv"
    bad.write_text("model,task,metric,value\ntoy-70m,3digit_add,exact_match,oops\n")
    with pytest.raises(ImportFileError, match="line 2: value"):
        import_files([IMPORT / "counts.csv", bad], out)
    with Store(out, read_only=True) as store:
        assert len(store.points()) == 5 and store.runs() == []
    assert (out / DB_NAME).stat().st_size == before


def test_cross_file_conflicts(tmp_path):
    dup = tmp_path / "dup.csv"
    dup.write_text("model,task,metric,value\ntoy-70m,3digit_add,exact_match,0.5\n")
    with pytest.raises(ImportFileError, match="given twice"):
        import_files([IMPORT / "long.csv", dup], tmp_path / "a")
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("model,params,task,metric,value\ntoy-410m,5e8,other,acc,0.5\n")
    with pytest.raises(ImportFileError, match="toy-410m"):
        import_files([IMPORT / "long.csv", sizes], tmp_path / "b")
    with pytest.raises(ImportFileError, match="not in the imported files"):
        import_files([IMPORT / "long.csv"], tmp_path / "c", params=["toy-9b=9e9"])
    assert not any((tmp_path / d).exists() for d in "abc")


def test_unrecognised_file(tmp_path):
    with pytest.raises(ImportFileError, match="unrecognised format"):
        import_files([DATA / "opt_lm_eval" / "SOURCE.md"], tmp_path / "x")
    with pytest.raises(ImportFileError, match="no such file"):
        import_files([tmp_path / "nope.csv"], tmp_path / "x")
    assert not (tmp_path / "x").exists()
