import numpy as np
import pytest

from emergelab.analysis.emergence import emergence_score
from emergelab.metrics import METRICS, levenshtein_rows
from emergelab.store import TokenOutputs


def outputs():
    # two examples, three answer tokens, vocabulary of 4
    target = np.array([[1, 2, 3], [1, 2, 3]])
    pred = np.array([[1, 2, 3], [1, 3, 0]])
    p_target = np.array([[0.5, 0.8, 0.9], [0.25, 0.5, 0.1]])
    # distributions: target gets p, the rest is spread evenly over 3 other tokens
    sum_p2 = p_target**2 + 3 * ((1 - p_target) / 3) ** 2
    return TokenOutputs(target=target, pred=pred, logprob=np.log(p_target), sum_p2=sum_p2,
                        tf_pred=target.copy(), example_id=np.array([0, 1])), p_target, sum_p2


def test_metrics_by_hand():
    o, p, s2 = outputs()
    np.testing.assert_allclose(METRICS["exact_match"](o), [1, 0])
    np.testing.assert_allclose(METRICS["token_accuracy"](o), [1, 1 / 3])
    np.testing.assert_allclose(METRICS["token_edit_distance"](o), [0, 2])
    np.testing.assert_allclose(METRICS["target_logprob"](o), np.log(p).sum(1))
    np.testing.assert_allclose(METRICS["target_prob"](o), [0.5 * 0.8 * 0.9, 0.25 * 0.5 * 0.1])
    # Brier of the first token of example 0: (1-.5)^2 + 3*(.5/3)^2
    b00 = 0.25 + 3 * (0.5 / 3) ** 2
    assert METRICS["brier"](o)[0] == pytest.approx(np.mean([b00, 0.04 + 3 * (0.2 / 3) ** 2, 0.01 + 3 * (0.1 / 3) ** 2]))
    np.testing.assert_allclose(METRICS["brier"](o), (1 - 2 * p + s2).mean(1))


@pytest.mark.parametrize("a,b,d", [
    ("kitten", "sitting", 3), ("flaw", "lawn", 2), ("abc", "abc", 0), ("abc", "cab", 2), ("1234", "2345", 2),
])
def test_levenshtein(a, b, d):
    assert levenshtein_rows(np.array([[ord(c) for c in a]]), np.array([[ord(c) for c in b]]))[0] == d


def test_emergence_score_reference_values():
    assert emergence_score([0, 1, 2, 3, 4, 5]) == pytest.approx(5.0)
    assert emergence_score([0, 0.01, 0.02, 0.03, 2, 5]) == pytest.approx(500.0, rel=1e-6)
    assert emergence_score([5, 4, 3, 2, 1, 0]) == pytest.approx(-5.0)
    assert emergence_score([0, 0, 0, 0, 1]) == float("inf")  # flat steps: documented +inf
    assert emergence_score([2, 2, 2]) == 0.0


# ---------------------------------------------------------------- one record of facts per metric

import warnings  # noqa: E402

from emergelab.analysis.curves import curves_from_points  # noqa: E402
from emergelab.metrics import DECLARED, UnknownMetricWarning, metric_record  # noqa: E402
from emergelab.store import PointRecord  # noqa: E402
from emergelab.store.importers.knowledge import HIGHER_IS_BETTER  # noqa: E402


@pytest.mark.parametrize("name,canonical,higher,discrete,link", [
    # lm-eval / BIG-bench names as they appear in result files (lm-eval v0.4 adds ",<filter>")
    ("acc,none", "acc", True, True, None),
    ("acc_norm", "acc_norm", True, True, None),
    ("multiple_choice_grade", "acc", True, True, None),
    ("em", "exact_match", True, True, None),
    ("exact_match,strict-match", "exact_match", True, True, None),
    ("mc1", "acc", True, True, None),
    ("error", "error", False, True, None),
    ("f1", "f1", True, False, "generic"),
    ("bleu", "bleu", True, False, "generic"),
    ("chrf", "chrf", True, False, "generic"),
    ("ter", "ter", False, False, "generic"),
    ("ppl", "perplexity", False, False, "generic"),
    ("word_perplexity", "word_perplexity", False, False, "generic"),
    ("byte_perplexity", "byte_perplexity", False, False, "generic"),
    ("bits_per_byte", "bits_per_byte", False, False, "generic"),
    ("brier_score", "brier_score", False, False, "brier"),
    ("mc2", "mc2", True, False, "generic"),
    ("pass@10", "pass@10", True, True, None),
    ("token_edit_distance", "token_edit_distance", False, False, "edit_distance"),
    ("loglikelihood", "target_logprob", True, False, "logprob"),
])
def test_imported_names_find_their_record(name, canonical, higher, discrete, link):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a known name must not warn
        rec = metric_record(name)
    assert (rec.name, rec.higher_is_better, rec.discrete, rec.link) == (canonical, higher, discrete, link)


def test_per_token_links_need_the_answer_length():
    # exact match ≈ p^L needs L for per-token metrics; whole-answer ones do not
    assert metric_record("token_accuracy").per_token and metric_record("brier").per_token
    assert not metric_record("target_logprob").per_token and not metric_record("brier_score").per_token


def test_unknown_metric_warns_and_says_its_default():
    with pytest.warns(UnknownMetricWarning, match="lower is better"):
        rec = metric_record("my_error_rate_v2")
    assert not rec.higher_is_better and not rec.known
    with pytest.warns(UnknownMetricWarning, match="higher is better"):
        assert metric_record("helpfulness").higher_is_better


def test_importer_orientation_table_agrees_with_the_records():
    # the importer (store room) cannot import the metrics room; its name table must say the same
    for name, higher in HIGHER_IS_BETTER.items():
        assert metric_record(name, warn=False).known, name
        assert metric_record(name).higher_is_better is higher, name


def test_every_declared_metric_is_import_only():
    assert all(not r.native for r in DECLARED.values())
    assert metric_record("exact_match").native


def test_curves_from_imported_points_use_the_record():
    pts = [PointRecord(model=f"m{i}", task="t", metric=metric, value=v, params=p, higher_is_better=stated)
           for metric, stated in (("error", True), ("acc,none", True))
           for i, (p, v) in enumerate([(1e6, 0.5), (1e7, 0.4)])]
    by = {c.metric: c for c in curves_from_points(pts, "params")}
    assert by["error"].higher_is_better is False and by["error"].discrete  # the record beats a default
    assert by["acc,none"].discrete and by["acc,none"].higher_is_better


@pytest.mark.parametrize("name, higher", [
    ("pct_stereotype", True),   # holds "ter" inside a word
    ("answer_f1", True),        # holds "wer" inside a word
    ("interval_coverage", True),
    ("word_error_rate", False),
    ("my_bits_per_token", False),
    ("val_loss", False),
    ("wer", False),
    ("num_errors", False),
])
def test_unknown_metric_orientation_reads_whole_words(name, higher):
    with pytest.warns(UnknownMetricWarning):
        assert metric_record(name).higher_is_better is higher
