"""Facts of metrics that only arrive in imported results (lm-evaluation-harness, BIG-bench, tables).

They have no scorer here, but the analyses need the same facts as for native metrics: which way is
better, discrete or continuous, range, chance, and the link to exact match that lets the mirage
test pair them (a named link where the relation is known, "generic" — a monotone link fitted on the
data — for BLEU, chrF, perplexity and the like). Names follow lm-eval's metric keys; other
spellings are aliases. One `declare_metric` call per metric; adding one is one call.
"""

from __future__ import annotations

from emergelab.metrics.registry import INF, declare_metric

# ---- discrete: all-or-nothing per example
declare_metric("acc", "multiple-choice or task accuracy", discrete=True, chance_from_choices=True,
               aliases=("accuracy", "multiple_choice_grade", "mc1", "acc_mutual_info"))
declare_metric("acc_norm", "length-normalised multiple-choice accuracy", discrete=True, chance_from_choices=True)
declare_metric("error", "error rate, 1 − accuracy", higher_is_better=False, discrete=True,
               aliases=("error_rate", "err"))
declare_metric("mcc", "Matthews correlation of the predicted labels", discrete=True, range=(-1.0, 1.0), chance=0.0)

# ---- continuous with a known link to exact match
declare_metric("loss", "mean per-token cross-entropy of the target (nats)", higher_is_better=False,
               range=(0.0, INF), link="nll", per_token=True, aliases=("cross_entropy", "token_nll"))
declare_metric("brier_score", "Brier score over the answer choices", higher_is_better=False,
               range=(0.0, 2.0), link="brier")
declare_metric("edit_distance", "token edit distance of the answer", higher_is_better=False,
               range=(0.0, INF), link="edit_distance", per_token=True)

# ---- continuous without a known link: the mirage test fits a monotone link (`generic`)
declare_metric("f1", "token-overlap F1 of the answer", link="generic")
declare_metric("mc2", "normalised probability mass on the true answers (TruthfulQA)", link="generic")
declare_metric("bleu", "BLEU (0–100)", range=(0.0, 100.0), link="generic")
declare_metric("chrf", "chrF (0–100)", range=(0.0, 100.0), link="generic")
declare_metric("ter", "translation edit rate", higher_is_better=False, range=(0.0, INF), link="generic")
for _rouge in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
    declare_metric(_rouge, f"{_rouge} overlap", link="generic")
declare_metric("char_edit_distance", "character edit distance of the answer", higher_is_better=False,
               range=(0.0, INF), link="generic", aliases=("character_edit_distance",))
declare_metric("perplexity", "perplexity of the target", higher_is_better=False, range=(1.0, INF),
               link="generic", log_scale=True, aliases=("ppl", "token_perplexity"))
declare_metric("word_perplexity", "perplexity per word", higher_is_better=False, range=(1.0, INF),
               link="generic", log_scale=True)
declare_metric("byte_perplexity", "perplexity per byte", higher_is_better=False, range=(1.0, INF),
               link="generic", log_scale=True)
declare_metric("bits_per_byte", "bits per byte of the target", higher_is_better=False, range=(0.0, INF),
               link="generic", log_scale=True)
declare_metric("likelihood_difference", "mean |log-likelihood difference| of paired sentences (CrowS-Pairs)",
               higher_is_better=False, range=(0.0, INF), link="generic")
