"""lm-evaluation-harness imports: real v0.3 OPT files, hand-written v0.4 results and --log_samples."""

from pathlib import Path

import pytest

from emergelab.store import Store
from emergelab.store.importers import detect_format, import_files, load_file

DATA = Path(__file__).parent / "data"
OPT = sorted((DATA / "opt_lm_eval").glob("opt-*.json"))
PYTHIA = DATA / "import" / "EleutherAI__pythia-160m"
STAMP = "2024-06-12T10-15-30.123456"


@pytest.fixture(scope="module")
def opt_store(tmp_path_factory):
    out = tmp_path_factory.mktemp("opt") / "exp"
    summary = import_files(OPT, out)
    with Store(out, read_only=True) as store:
        yield summary, store.points(), store


def test_opt_files_are_v03():
    assert len(OPT) == 8
    assert {detect_format(p) for p in OPT} == {"lm-eval-v0.3"}


def test_opt_sizes_and_counts(opt_store):
    summary, points, _ = opt_store
    assert summary.models == ["opt-125m", "opt-350m", "opt-1.3b", "opt-2.7b", "opt-6.7b", "opt-13b", "opt-30b", "opt-66b"]
    assert sorted(summary.sizes.values()) == [1.25e8, 3.5e8, 1.3e9, 2.7e9, 6.7e9, 1.3e10, 3e10, 6.6e10]
    assert len(summary.tasks) == 65 and summary.metrics == ["acc", "acc_norm", "ppl"]
    assert summary.points == len(points) == 8 * 128
    assert all(p.source == "import" and p.non_embedding_params == p.params for p in points)


def test_opt_known_values(opt_store):
    _, points, store = opt_store
    by = {(p.model, p.task, p.metric): p for p in points}
    acc = by[("opt-1.3b", "lambada_openai", "acc")]
    assert acc.value == pytest.approx(0.5792742091985251)
    assert acc.stderr == pytest.approx(0.00687786642328006)
    assert acc.params == 1.3e9 and acc.higher_is_better and acc.chance is None
    ppl = by[("opt-1.3b", "lambada_openai", "ppl")]
    assert ppl.value == pytest.approx(6.644056379058006) and ppl.higher_is_better is False
    # n recovered from v0.3 stderrs equals the real test-set sizes
    sizes = {"lambada_openai": 5153, "piqa": 1838, "arc_easy": 2376, "arc_challenge": 1172,
             "winogrande": 1267, "sciq": 1000, "wsc": 104, "logiqa": 651}
    for task, n in sizes.items():
        assert {p.n_examples for p in points if p.task == task} == {n}, task
    assert by[("opt-66b", "piqa", "acc")].chance == 0.5
    assert by[("opt-125m", "hendrycksTest-anatomy", "acc")].chance == 0.25
    assert by[("opt-125m", "hendrycksTest-anatomy", "acc")].n_examples == 135
    assert "stderr" in store.fact("import.n_examples.lm-eval-v0.3")
    assert "total params" in store.fact("import.non_embedding_params")


def test_v04_results():
    fmt, parsed = load_file(PYTHIA / f"results_{STAMP}.json")
    assert fmt == "lm-eval-v0.4"
    by = {(p.task, p.metric): p for p in parsed.points}
    assert set(by) == {("arc_easy", "acc"), ("arc_easy", "acc_norm"), ("boolq", "acc"),
                       ("gsm8k", "exact_match,strict-match"), ("gsm8k", "exact_match,flexible-extract"),
                       ("lambada_openai", "perplexity"), ("lambada_openai", "acc")}
    ppl = by[("lambada_openai", "perplexity")]
    assert ppl.model == "pythia-160m" and ppl.params == 162322944 and ppl.step == 143000
    assert ppl.higher_is_better is False and ppl.n_examples == 5153
    assert ppl.stderr == pytest.approx(1.4301423785398347)
    assert by[("boolq", "acc")].chance == 0.5  # from doc_to_choice ["no", "yes"]


def test_v04_with_samples(tmp_path):
    files = sorted(PYTHIA.iterdir())
    assert [detect_format(f) for f in files] == ["lm-eval-v0.4"] + ["lm-eval-samples"] * 3
    summary = import_files(files, tmp_path / "exp")
    assert summary.sizes == {"pythia-160m": 162322944}
    assert summary.runs == 3 and summary.points == 7
    with Store(tmp_path / "exp", read_only=True) as store:
        runs = {r.run_id: r for r in store.runs()}
        # shots from the results file's n-shot (gsm8k was run 5-shot) are part of the run
        assert set(runs) == {"import:pythia-160m:lambada_openai:0-shot", "import:pythia-160m:arc_easy:0-shot",
                             "import:pythia-160m:gsm8k:5-shot"}
        assert {r.task: r.shots for r in runs.values()} == {"lambada_openai": 0, "arc_easy": 0, "gsm8k": 5}
        assert all(r.source == "import" and r.params == 162322944 for r in runs.values())
        lam = store.example_scores("import:pythia-160m:lambada_openai:0-shot")
        ids, acc = lam[(143000, "acc")]
        assert list(ids) == [0, 1, 2, 3] and list(acc) == [1, 1, 0, 0]
        assert lam[(143000, "loglikelihood")][1][0] == pytest.approx(-1.6523)
        gsm = store.example_scores("import:pythia-160m:gsm8k:5-shot")
        assert list(gsm[(143000, "exact_match,flexible-extract")][1]) == [1.0, 0.0]
        assert list(gsm[(143000, "exact_match,strict-match")][1]) == [0.0, 0.0]
        arc = store.example_scores("import:pythia-160m:arc_easy:0-shot")
        assert list(arc[(143000, "acc_norm")][1]) == [1.0, 1.0, 0.0]


def test_samples_model_from_folder_name(tmp_path):
    folder = tmp_path / "EleutherAI__pythia-70m"
    folder.mkdir()
    sample = folder / f"samples_lambada_openai_{STAMP}.jsonl"
    sample.write_text((PYTHIA / f"samples_lambada_openai_{STAMP}.jsonl").read_text())
    _, parsed = load_file(sample)
    assert parsed.examples[0].model == "pythia-70m" and parsed.examples[0].params is None
    summary = import_files([sample], tmp_path / "exp")
    assert summary.sizes == {"pythia-70m": 7e7}
