"""transformers backend: an exported model scores exactly like the native scorer, and `score-hf`
stores runs whose metrics match the native runs'."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")

from typer.testing import CliRunner  # noqa: E402

from emergelab.cli.hf import app  # noqa: E402
from emergelab.evaluate import score_native  # noqa: E402
from emergelab.evaluate.transformers_backend import (  # noqa: E402
    HFModel,
    choose_tokenization,
    count_params,
    load_hf,
    score_hf,
)
from emergelab.metrics import METRICS  # noqa: E402
from emergelab.models import EnsembleGPT  # noqa: E402
from emergelab.models.hf_export import export_hf, find_weights, read_weights, task_from_config  # noqa: E402
from emergelab.spec import ExperimentSpec  # noqa: E402
from emergelab.store import Store  # noqa: E402
from emergelab.sweep import run_experiment  # noqa: E402


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny trained family (one MLP model, one attention-only) and the largest one exported."""
    folder = tmp_path_factory.mktemp("exp")
    spec = ExperimentSpec(
        name="hf-backend", tasks=[{"name": "addition", "digits": 2, "format": "reversed", "label": "add2",
                                   "train_size": 400, "test_size": 60}],
        family={"sizes": [{"width": 8, "depth": 1, "heads": 2}, {"width": 16, "depth": 2, "heads": 4}]},
        training={"steps": 20, "batch_size": 64, "warmup_steps": 2, "lr": 0.01}, seeds=[0], executor={"device": "cpu"},
    )
    run_experiment(spec, folder)
    out = export_hf(folder, folder / "hf" / "w16")
    weights, task_config, _ = find_weights(folder)
    state, cfg, seed = read_weights(weights.path)
    native = EnsembleGPT(cfg, [seed])
    native.load_member_state(0, state)
    return folder, out, native, task_from_config(task_config), task_config, weights.run_id


def _split(task, tc):
    return task.make_split(tc["train_size"], tc["test_size"], tc["data_seed"])


@pytest.mark.parametrize("tokenization", ["auto", "symbol", "text"])
def test_scores_equal_native(exported, tokenization):
    _, out, native, task, tc, _ = exported
    split = _split(task, tc)
    want = score_native(native, split.test_prompt, split.test_answer, split.test_index)[0]
    got, mode = score_hf(load_hf(out), task, split.test_prompt, split.test_answer, split.test_index,
                         batch_size=17, tokenization=tokenization)
    assert mode == ("symbol" if tokenization == "auto" else tokenization)
    np.testing.assert_allclose(got.logprob, want.logprob, atol=1e-5, rtol=0)
    np.testing.assert_allclose(got.sum_p2, want.sum_p2, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(got.pred, want.pred)
    np.testing.assert_array_equal(got.target, want.target)
    np.testing.assert_array_equal(got.tf_pred, want.tf_pred)
    np.testing.assert_array_equal(got.example_id, want.example_id)


def test_param_counts_match_native(exported):
    _, out, native, *_ = exported
    assert count_params(load_hf(out).model) == native.cfg.param_counts()


def test_score_hf_command_stores_matching_metrics(exported):
    folder, out, _, _, _, native_run = exported
    result = CliRunner().invoke(app, [str(out), "--task", "addition", "--digits", "2", "--answer-format", "reversed",
                                      "--out", str(folder)])
    assert result.exit_code == 0, result.output
    with Store(folder, read_only=True) as store:
        runs = {r.run_id: r for r in store.runs()}
        hf_run = next(r for r in runs.values() if r.source == "hf")
        assert hf_run.task == "add2" and hf_run.run_id.startswith("import:hf/")  # same curve, same examples
        assert (hf_run.params, hf_run.non_embedding_params) == (runs[native_run].params, runs[native_run].non_embedding_params)
        assert hf_run.steps == 20 and store.checkpoints(hf_run.run_id)[0].tokens > 0
        ours, theirs = store.token_outputs(hf_run.run_id), store.token_outputs(native_run)
    assert list(ours) == list(theirs) == [20]
    for name, metric in METRICS.items():
        if metric.native and metric.reads == "tokens":  # sampling metrics read counts, not token outputs
            np.testing.assert_allclose(metric(ours[20]), metric(theirs[20]), atol=1e-5, rtol=0, err_msg=name)


def test_score_hf_command_errors(exported, tmp_path):
    _, out, *_ = exported
    bad = CliRunner().invoke(app, [str(out), "--task", "nope", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "unknown task" in bad.output
    missing = CliRunner().invoke(app, [str(tmp_path / "none"), "--task", "addition", "--out", str(tmp_path)])
    assert missing.exit_code == 2 and "config.json" in missing.output


def test_text_mode_with_merged_tokens(exported):
    """A tokenizer that merges "1"+"2" into one token: sums stay exact, boundaries are documented."""
    from tokenizers import Tokenizer, decoders, models
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    *_, task, tc, _ = exported
    vocab = {s: i for i, s in enumerate(task.vocab)} | {"12": len(task.vocab)}
    bpe = Tokenizer(models.BPE(vocab=vocab, merges=[("1", "2")]))
    bpe.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(vocab), n_positions=16, n_embd=16, n_layer=1, n_head=2,
                                       bos_token_id=None, eos_token_id=None)).eval()
    hf = HFModel(model, tok, exported[1])
    split = _split(task, tc)
    assert choose_tokenization(tok, task, split.test_prompt, split.test_answer) == "text"
    got, mode = score_hf(hf, task, split.test_prompt, split.test_answer, tokenization="auto")
    assert mode == "text"
    for i in range(len(split.test_answer)):  # total log-likelihood equals a direct computation
        ctx = tok(task.render(split.test_prompt[i]), add_special_tokens=False)["input_ids"]
        whole = tok(task.render(np.concatenate([split.test_prompt[i], split.test_answer[i]])),
                    add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logp = model(torch.tensor([whole])).logits[0].double().log_softmax(-1)
        direct = sum(float(logp[t - 1, whole[t]]) for t in range(len(ctx), len(whole)))
        assert got.logprob[i].sum() == pytest.approx(direct, abs=1e-6)
        text = task.render(split.test_answer[i])
        if "12" in text:  # the position of "1" inside the merged token gets log p = 0, Σp² = 1
            j = text.index("12")
            assert got.logprob[i, j] == 0 and got.sum_p2[i, j] == 1
    assert got.pred.shape == split.test_answer.shape and got.pred.min() >= -1
