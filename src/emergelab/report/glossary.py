"""The report's glossary: every term the summary, tables and captions use, defined as computed.

Each definition states what `analysis/` actually computes (not a textbook paraphrase), so a
reader can check a number by hand; `source` names the paper or module it comes from.
"""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    name: str
    definition: str
    source: str


GLOSSARY: tuple[Term, ...] = (
    Term("discrete / continuous metric",
         "Discrete metrics score an answer all-or-nothing (exact match, multiple-choice accuracy); continuous "
         "ones give partial credit per token or per probability (token accuracy, token edit distance, target "
         "log-probability, target probability, Brier score). All are recomputed from the same stored outputs.",
         "Schaeffer et al. 2023; metrics/"),
    Term("floor",
         "Where the metric starts: chance for a guessing model when it is known (for exact match, one over the "
         "vocabulary size to the power of the answer length), else the worst observed value.",
         "analysis/verdict.py"),
    Term("emergence score",
         "sign(argmax − argmin) · (max − min) / √median(Δy²) over the curve's points in scale order: the total "
         "change relative to a typical step. Large when one step carries the change; ∞ when most steps are flat. "
         "Metrics where lower is better are negated first.",
         "Schaeffer et al. 2023, Eq. 1"),
    Term("linearity",
         "BIG-bench's linearity: the same signed total change divided by the root-mean-square step between "
         "consecutive models, sign(argmax − argmin) · (max − min) / √mean(Δy²). Over n models, equal steps give "
         "n − 1 and a single jump among flat steps gives √(n − 1): lower means the change sits in fewer steps. "
         "Unlike the emergence score (a median), one big step cannot make it infinite; negative when the curve falls.",
         "Srivastava et al. 2022; analysis/linearity.py"),
    Term("verdict",
         "emergent — the smaller models sit at the floor, the largest is clearly above it, and no smooth trend "
         "through the smaller models reaches the larger ones (their excess over the closest one clearly above 0 and "
         "at least a tenth of the range); smooth — the "
         "metric leaves the floor but is predictable from the smaller models, or is already off the floor; "
         "flat — never clearly above the floor; inconclusive — too few sizes, mixed evidence, or a large rise the noise cannot confirm.",
         "Wei et al. 2022 §2; analysis/verdict.py"),
    Term("smooth trend family",
         "The trends the verdict allows before it calls a jump: straight lines in log-scale, growing and "
         "saturating power laws of scale and (for rates) logistic curves with a bounded slope, each fitted by "
         "weighted least squares to the models at the floor.",
         "analysis/verdict.py"),
    Term("joint test (joint LR p)",
         "A likelihood-ratio test of one smooth trend for all models against the trend of the smaller models "
         "alone: the increase in χ² when the larger models are added, referred to χ² (or F) with one degree of "
         "freedom per larger model. Small p: no single smooth trend fits both. Reported as evidence; the verdict "
         "rests on the excess (one-sided against the least favourable trend).",
         "analysis/verdict.py"),
    Term("excess",
         "How far the larger models lie above the closest smooth trend that still fits the smaller ones, in the "
         "metric's units and as a share of its range, with a 95 % interval; the verdict needs it to be clearly "
         "positive and at least a tenth of the range.",
         "analysis/verdict.py"),
    Term("point surprise",
         "Per larger model, the signed square root of the χ² increase when that one point is added to the "
         "smaller models' trend: how many standard deviations it sits above (+) or below (−) the prediction.",
         "analysis/verdict.py"),
    Term("threshold",
         "The scale where the metric first crosses halfway between its floor and its best value, interpolated in "
         "log-scale between the two bracketing models; the interval comes from the same crossing on bootstrap "
         "replicates.",
         "analysis/verdict.py"),
    Term("95 % interval (error bars)",
         "Percentile bootstrap over seeds, then over test examples within each seed; imported results without "
         "per-example scores use ±1.96 standard errors.",
         "analysis/curves.py"),
    Term("mirage test",
         "Is a jump in a discrete metric an artifact of scoring all-or-nothing? Each continuous metric is fitted on "
         "the smaller models, extrapolated with a 95 % band, mapped to the discrete metric through its link and "
         "compared with the larger models.",
         "Schaeffer et al. 2023; analysis/mirage/"),
    Term("mirage route and link",
         "A route is one continuous metric's prediction of the discrete metric. Its link maps the metric to a "
         "per-token or per-answer success probability p and back: p^L for per-token quantities over an answer "
         "of L tokens (token accuracy, 1 − d/L from edit distance d), exp(log-probability) for the whole answer, "
         "q from the Brier score; metrics without a formula get a fitted logistic link.",
         "analysis/mirage/links.py"),
    Term("mirage verdict",
         "Per route: metric_artifact when at least 75 % of the larger models lie inside its band (widened by "
         "their own noise); genuine when they lie mostly above it; undetermined when the band is uninformative "
         "(wider than half the range) or the link over-predicts. Overall: named links decide before fitted ones, "
         "and one route that predicts the jump makes it a metric_artifact.",
         "analysis/mirage/judge.py"),
    Term("transition step",
         "Over training time: the step where the headline metric first crosses halfway between its first and last "
         "checkpoint values, interpolated in log(step); none when it moves by less than 0.1.",
         "report/training.py"),
    Term("N, C, D",
         "N: non-embedding parameters (the scale of the size plots); C = 6·N·D: training compute; D: training "
         "tokens seen.",
         "Kaplan et al. 2020"),
)


def glossary_html(terms: tuple[Term, ...] = GLOSSARY) -> str:
    items = "".join(f"<dt>{html.escape(t.name)}</dt><dd>{html.escape(t.definition)} "
                    f'<span class="note">({html.escape(t.source)})</span></dd>' for t in terms)
    return f'<h2>Glossary</h2><dl class="glossary">{items}</dl>'
