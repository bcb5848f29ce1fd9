"""Shared circuits across tasks: unit-paired CKA against the textbook HSIC form and a hand case,
the top-unit overlap and its chance level against enumeration, the traced forward and the
ablations against the model's own forward with edited weights, planted shared / separate units,
and a tiny trained mix whose exact match and loss must equal the scorer's stored ones."""

import itertools

import numpy as np
import pytest
import torch

from emergelab.analysis.shared_circuits import (
    MEASURES,
    TaskActivations,
    compare_tasks,
    shared_circuit_study,
    top_overlap,
    unit_cka,
)
from emergelab.evaluate.activations import answer_nll, neuron_ablation_nll, trace
from emergelab.models import EnsembleGPT, ModelConfig


def _hsic_cka_units(a, b):
    """Textbook CKA (Kornblith et al. 2019) with the u units as observations: K = XXᵀ for X the
    (u, n_a) activations with each unit's task mean removed, HSIC(K, L) = tr(KHLH)."""
    xa, xb = (a - a.mean(0)).T, (b - b.mean(0)).T
    u = len(xa)
    h = np.eye(u) - np.ones((u, u)) / u
    k, l_ = xa @ xa.T, xb @ xb.T

    def hsic(p, q):
        return np.trace(p @ h @ q @ h)

    return hsic(k, l_) / np.sqrt(hsic(k, k) * hsic(l_, l_))


def test_unit_cka_matches_the_hsic_form_and_ignores_task_mean_and_scale():
    rng = np.random.default_rng(0)
    for n_a, n_b, u in [(40, 70, 6), (5, 9, 12)]:  # more and fewer examples than units
        a, b = rng.normal(size=(n_a, u)) @ rng.normal(size=(u, u)), rng.normal(size=(n_b, u))
        assert unit_cka(a, b) == pytest.approx(_hsic_cka_units(a, b), rel=1e-9)
    a = rng.normal(size=(30, 5))
    assert unit_cka(a, a) == pytest.approx(1.0)
    assert unit_cka(a, 4.2 * a[::-1] + 7.0) == pytest.approx(1.0)  # isotropic scale, shift, order
    perm = rng.permutation(5)
    b = rng.normal(size=(20, 5))
    assert unit_cka(a[:, perm], b[:, perm]) == pytest.approx(unit_cka(a, b))  # relabelling units


def test_unit_cka_hand_case_of_disjoint_units():
    # task a varies units 0, 1 and task b units 2, 3: G_a = 2·diag(1, 1, 0, 0), G_b = 2·diag(0, 0, 1, 1).
    # With H = I − J/4: tr(G_a H G_b H) ∝ (1/16)·2·2 = 1/4 and tr(G_a H G_a H) ∝ 2 − 1 + 4/16 = 5/4,
    # so CKA = (1/4) / (5/4) = 0.2 — not 0, because CKA also centres across units.
    a = np.array([[1, 0, 0, 0], [-1, 0, 0, 0], [0, 1, 0, 0], [0, -1, 0, 0]], dtype=float)
    b = a[:, [2, 3, 0, 1]]
    assert unit_cka(a, b) == pytest.approx(0.2)


def test_top_overlap_and_its_chance_level_against_enumeration():
    effects_a = np.array([[5.0, 4, 0, 0, 0, 0, 0, 0, 0, 0]])  # top 2 of 10: {0, 1}
    effects_b = np.array([[0.0, 4, 0, 0, 0, 6, 0, 0, 0, 0]])  # top 2: {5, 1}
    assert top_overlap(effects_a, effects_b, 0.2) == pytest.approx(0.5)
    # chance: mean |A ∩ B| / k over every pair of 3-subsets of 7 units
    u, k = 7, 3
    subsets = list(itertools.combinations(range(u), k))
    brute = np.mean([len(set(s) & set(t)) / k for s in subsets for t in subsets])
    null = MEASURES["top_neurons"].null(np.zeros((1, u)), np.zeros((1, u)), k / u, np.random.default_rng(0))
    assert null == pytest.approx(brute)


# ------------------------------------------------------------------------------ traced forward
def _model(depth=2):
    cfg = ModelConfig(vocab_size=11, seq_len=9, width=8, depth=depth, heads=2)
    return EnsembleGPT(cfg, [3]).eval()


def test_trace_reproduces_the_models_forward():
    model = _model()
    seq = np.random.default_rng(1).integers(0, 11, (6, 9))
    tr = trace(model, seq)
    with torch.no_grad():
        ref = model(torch.as_tensor(seq).unsqueeze(0))[0]
        ref_features = model.features(torch.as_tensor(seq).unsqueeze(0))[0].permute(2, 1, 0)
    assert torch.allclose(tr.logits, ref, atol=1e-5)
    assert torch.allclose(tr.residual[-1], ref_features, atol=1e-5)
    assert [h.shape for h in tr.hidden] == [(6, 9, 32)] * 2


@pytest.mark.parametrize("layer", [0, 1])
def test_ablation_equals_editing_the_neurons_output_weights(layer):
    """Mean-ablating unit j = removing row j of proj_w and adding mean_j · that row to proj_b:
    the model's own forward on the edited weights is the reference."""
    model = _model()
    rng = np.random.default_rng(2)
    seq, answers = rng.integers(0, 11, (5, 9)), rng.integers(0, 11, (5, 3))
    means = torch.as_tensor(rng.normal(size=32), dtype=torch.float32)
    got = neuron_ablation_nll(model, seq, answers, layer, means, chunk=5)
    assert got.shape == (32, 5)
    state = model.member_state(0)
    for j in (0, 7, 31):
        edited = {k: v.clone() for k, v in state.items()}
        row = edited[f"blocks.{layer}.proj_w"][j].clone()
        edited[f"blocks.{layer}.proj_w"][j] = 0
        edited[f"blocks.{layer}.proj_b"] += means[j] * row
        ref_model = EnsembleGPT(model.cfg, [0])
        ref_model.load_member_state(0, edited)
        with torch.no_grad():
            ref = answer_nll(ref_model.eval()(torch.as_tensor(seq).unsqueeze(0))[0], answers)
        np.testing.assert_allclose(got[j], ref, rtol=1e-5)


# ------------------------------------------------------------------- planted shared / separate units
def _planted(shared: bool, rng, n=120, u=16, length=2):
    """Two tasks driving u units from 3 latent factors each: through the same unit pattern
    (shared) or through disjoint halves of the units (separate)."""
    w = rng.normal(size=(3, u))
    w_a, w_b = w.copy(), w.copy() if shared else rng.normal(size=(3, u))
    if not shared:
        w_a[:, u // 2:] = 0
        w_b[:, : u // 2] = 0
    top_a, top_b = np.arange(3), np.arange(3) if shared else np.arange(8, 11)

    def task(name, w_t, top):
        acts = rng.normal(size=(n, length, 3)) @ w_t + 0.05 * rng.normal(size=(n, length, u))
        effects = 0.01 * rng.random(size=(n, u))
        effects[:, top] += 1.0
        return TaskActivations(name, [acts], [acts], [effects], 1.0, 0.0)

    return [task("a", w_a, top_a), task("b", w_b, top_b)]


@pytest.mark.parametrize("measure", ["cka_residual", "cka_mlp", "top_neurons"])
def test_planted_sharing_is_recovered(measure):
    rng = np.random.default_rng(3)
    for shared in (True, False):
        ((_, _, value, reps, null, ceiling),) = compare_tasks(_planted(shared, rng), MEASURES[measure], 0,
                                                              3 / 16, 40, rng)
        normalised = (value - null) / (ceiling - null)
        assert (normalised > 0.8) if shared else (normalised < 0.3), (shared, value, null, ceiling)
        assert reps.shape == (40,)


# --------------------------------------------------------------------------- a tiny trained mix
@pytest.fixture(scope="module")
def mix_folder(tmp_path_factory):
    from emergelab.spec import parse_spec
    from emergelab.sweep import run_experiment

    spec = parse_spec({
        "name": "tiny_shared", "seeds": [0, 1],
        "tasks": [{"name": "addition", "digits": 2, "format": "reversed", "train_size": 400, "test_size": 40,
                   "label": "add"},
                  {"name": "increment", "bits": 6, "train_size": 30, "test_size": 30, "label": "inc"}],
        "mix": {"shares": [0.5]},
        "family": {"widths": [8], "depths": [2], "head_dim": 4},
        "training": {"steps": 40, "batch_size": 16, "warmup_steps": 2},
        "metrics": ["exact_match", "token_accuracy"],
        "executor": {"save_weights": True},
    })
    out = tmp_path_factory.mktemp("shared")
    run_experiment(spec, out)
    return out


def test_study_on_a_trained_mix_agrees_with_the_stored_scores(mix_folder):
    from emergelab.store import Store

    study = shared_circuit_study(mix_folder, max_examples=25, n_boot=10)
    assert {(s.task, s.seed) for s in study.scores} == {("add", 0), ("add", 1), ("inc", 0), ("inc", 1)}
    with Store(mix_folder, read_only=True) as store:
        stored = {(r.task, r.seed): store.token_outputs(r.run_id) for r in store.runs()}
    for s in study.scores:
        out = stored[(s.task, s.seed)]
        final = out[max(out)]
        first = np.argsort(final.example_id)[:25]
        assert s.exact_match == pytest.approx((final.pred[first] == final.target[first]).all(axis=1).mean())
        assert s.loss == pytest.approx(-final.logprob[first].mean(), rel=1e-4)
    # 2 blocks × 3 measures × 1 pair per seed; sizes average the 2 seeds
    assert len(study.pairs) == 2 * 2 * 3 and len(study.sizes) == 2 * 3
    assert all(s.seeds == 2 and s.lo <= s.hi for s in study.sizes)


def test_folder_without_saved_weights_warns_and_yields_nothing(mix_folder, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(mix_folder, copy, ignore=shutil.ignore_patterns("weights"))
    with pytest.warns(UserWarning, match="no saved weights"):
        study = shared_circuit_study(copy, max_examples=10, n_boot=5)
    assert study.pairs == []


def test_example_answers_of_a_mix_run_are_decoded_in_the_union_vocabulary(mix_folder):
    """Increment's answers are bits; in the add/inc union vocabulary their ids are not 0 and 1."""
    from emergelab.report.failures import failure_table
    from emergelab.store import Store

    with Store(mix_folder, read_only=True) as store:
        table = failure_table(store, "inc")
    assert {t for target in table.targets for t in target} <= {"0", "1"}


def test_cli_table_json_and_refusal(mix_folder, tmp_path):
    import json

    from typer.testing import CliRunner

    from emergelab.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["shared-circuits", str(mix_folder), "--examples", "20", "--bootstrap", "10"])
    assert res.exit_code == 0, res.output
    assert "add–inc" in res.output and "top_neurons" in res.output
    res = runner.invoke(app, ["shared-circuits", str(mix_folder), "--examples", "20", "--bootstrap", "10",
                              "--format", "json"])
    doc = json.loads(res.stdout)
    assert {s["measure"] for s in doc["sizes"]} == {"cka_residual", "cka_mlp", "top_neurons"}
    res = runner.invoke(app, ["shared-circuits", str(tmp_path)])
    assert res.exit_code == 2 and "not an experiment folder" in res.output


def test_report_has_a_shared_circuits_section(mix_folder):
    from emergelab.report.shared_circuits import shared_circuits_section_html

    page = shared_circuits_section_html(mix_folder)
    assert "Shared circuits across tasks" in page and "add–inc" in page
    assert page.count("plotly-graph-div") == 2  # shared vs N per measure, exact match per task
