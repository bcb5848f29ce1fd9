"""How often does the mirage test give each label when the truth is known? Simulation per design.

Each scenario simulates one task on a design (sizes, seeds, examples per point, answer length L):
per model, a per-token success probability p (seed-to-seed logit noise on top), every example's
L tokens right independently with probability p — so exact match, token accuracy, token edit
distance (L − tokens right) and target log-prob (L·log p) all come from the same draws, as in
Schaeffer et al.'s model — and the test runs on the resulting curves exactly as on stored runs.

Scenarios (registry `SCENARIOS`, truth in brackets):

- `artifact` [metric_artifact]: per-token cross-entropy falls as a power law (N/c)^α, α ∈ [−0.7, −0.3];
  exact match = p^L rises late in the design. Schaeffer et al.'s toy with binomial noise.
- `genuine` [genuine]: the per-token probability itself jumps (logistic in log N, 6–12 logits per
  decade) from 0.2–0.5 to 0.9–0.99 late in the design: the continuous metrics jump too.
- `uninformative` [undetermined]: the artifact model, but exact match reaches ½ at the fourth
  size, so at most 3 smaller models sit at the floor: every band rests on 3 points (1 degree of
  freedom, t = 12.7) and must not count.
- `artifact_generic` [metric_artifact]: the artifact model seen only through a metric without a
  formula (chrF-like, 100·(tokens right / L)^0.7 per example): the route must fit its link.
- `genuine_generic` [genuine]: the genuine model seen only through that chrF-like metric.

Call:

    from emergelab.analysis.mirage import MirageDesign, mirage_calibration
    rows = mirage_calibration(MirageDesign(sizes=tuple(np.geomspace(1e6, 1e11, 11)), seeds=2,
                              n_examples=500, answer_length=5), reps=200, rng=np.random.default_rng(0))
    for r in rows: print(r.scenario, r.truth, r.label, f"{r.rate:.1%} [{r.lo:.1%}, {r.hi:.1%}]")

One row per scenario × label, with a Wilson 95 % Monte-Carlo interval on the rate. `design` may be
any object with `sizes` (or `x`), `seeds`, `n_examples` and `answer_length` attributes; missing
ones take `MirageDesign`'s defaults (seeds may be a count or a list of seeds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from emergelab.analysis.curve import Curve
from emergelab.analysis.mirage.judge import MIRAGE_LABELS, mirage_for_task
from emergelab.registry import Registry


@dataclass(frozen=True)
class MirageDesign:
    """Scales (x), training seeds per scale, test examples per point, answer tokens L."""

    sizes: tuple[float, ...] = tuple(float(v) for v in np.geomspace(1e6, 1e11, 11))
    seeds: int = 2
    n_examples: int = 500
    answer_length: int = 5
    seed_logit_sd: float = 0.1


def as_design(design: object | None) -> MirageDesign:
    """A `MirageDesign` from any object with the same attribute names (`x` for sizes)."""
    if design is None or isinstance(design, MirageDesign):
        return design or MirageDesign()
    base = MirageDesign()
    sizes = getattr(design, "sizes", None) or getattr(design, "x", None) or base.sizes
    seeds = getattr(design, "seeds", base.seeds)
    return MirageDesign(
        sizes=tuple(float(v) for v in sizes),
        seeds=len(seeds) if isinstance(seeds, Sequence) else int(seeds),
        n_examples=int(getattr(design, "n_examples", base.n_examples)),
        answer_length=int(getattr(design, "answer_length", base.answer_length)),
        seed_logit_sd=float(getattr(design, "seed_logit_sd", base.seed_logit_sd)),
    )


TokenProbFn = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]  # (x, L, rng) -> p per token


@dataclass(frozen=True)
class MirageScenario:
    name: str
    truth: str
    token_prob: TokenProbFn
    continuous: tuple[str, ...] = ("token_accuracy", "target_logprob", "token_edit_distance")


SCENARIOS: Registry[MirageScenario] = Registry("mirage scenario")


def _rise_at(x: np.ndarray, lo: float, hi: float, rng: np.random.Generator) -> float:
    """A scale at relative position lo..hi of the design's log range."""
    lx = np.log10(x)
    return float(10 ** (lx[0] + rng.uniform(lo, hi) * (lx[-1] - lx[0])))


def _power_law_p(x: np.ndarray, L: int, x_half: float, rng: np.random.Generator) -> np.ndarray:
    """p = exp(−(N/c)^α) with c chosen so that exact match p^L = ½ at x_half."""
    alpha = rng.uniform(-0.7, -0.3)
    ce_half = -np.log(0.5) / L
    c = x_half / ce_half ** (1.0 / alpha)
    return np.exp(-((x / c) ** alpha))


def _artifact(x, L, rng):
    return _power_law_p(x, L, _rise_at(x, 0.6, 0.8, rng), rng)


def _uninformative(x, L, rng):
    return _power_law_p(x, L, float(x[min(3, len(x) - 1)]), rng)


def _genuine(x, L, rng):
    p_lo, p_hi = rng.uniform(0.2, 0.5), rng.uniform(0.9, 0.99)
    k = rng.uniform(6.0, 12.0)
    mid = np.log10(_rise_at(x, 0.55, 0.75, rng))
    w = special.expit(k * (np.log10(x) - mid))
    return special.expit(special.logit(p_lo) + w * (special.logit(p_hi) - special.logit(p_lo)))


for _s in (MirageScenario("artifact", "metric_artifact", _artifact),
           MirageScenario("genuine", "genuine", _genuine),
           MirageScenario("uninformative", "undetermined", _uninformative),
           MirageScenario("artifact_generic", "metric_artifact", _artifact, ("chrf",)),
           MirageScenario("genuine_generic", "genuine", _genuine, ("chrf",))):
    SCENARIOS.add(_s.name, _s)


_SCORES: dict[str, Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = {
    # (tokens right per example, p per token of that seed, L) -> per-example score
    "exact_match": lambda k, p, L: (k == L).astype(float),
    "token_accuracy": lambda k, p, L: k / L,
    "token_edit_distance": lambda k, p, L: (L - k).astype(float),
    "target_logprob": lambda k, p, L: np.full(k.shape, L * np.log(p)),
    "chrf": lambda k, p, L: 100.0 * (k / L) ** 0.7,
}


def simulate_curves(scenario: MirageScenario, design: MirageDesign, rng: np.random.Generator) -> list[Curve]:
    """Exact match and the scenario's continuous metrics of one simulated task (module doc)."""
    x = np.asarray(design.sizes, dtype=float)
    L, n, S = design.answer_length, design.n_examples, design.seeds
    p = scenario.token_prob(x, L, rng)
    p_seed = special.expit(special.logit(np.clip(p, 1e-9, 1 - 1e-9))[:, None]
                           + design.seed_logit_sd * rng.standard_normal((len(x), S)))
    k = rng.binomial(L, p_seed[:, :, None], size=(len(x), S, n))
    curves = []
    for metric in ("exact_match", *scenario.continuous):
        samples = [_SCORES[metric](k[i], p_seed[i][:, None], L) for i in range(len(x))]
        y = np.array([s.mean() for s in samples])
        nan = np.full(len(x), np.nan)
        curves.append(Curve(task="sim", metric=metric, scale="params", x=x, y=y, lo=nan, hi=nan,
                            n=np.full(len(x), float(n)), higher_is_better=metric != "token_edit_distance",
                            chance=0.0 if metric == "exact_match" else None, discrete=metric == "exact_match",
                            samples=samples, answer_len=L))
    return curves


@dataclass(frozen=True)
class MirageCalibrationRow:
    """How often `scenario` (true label `truth`) got `label`: count / reps, Wilson 95 % interval."""

    scenario: str
    truth: str
    label: str
    count: int
    reps: int
    rate: float
    lo: float
    hi: float


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Brown, Cai & DasGupta 2001)."""
    if n == 0:
        return 0.0, 1.0
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def mirage_calibration(design: object | None = None, scenarios: Sequence[str] | None = None, reps: int = 200,
                       rng: np.random.Generator | None = None, progress: Callable[[int], None] | None = None,
                       ) -> list[MirageCalibrationRow]:
    """Rates of each mirage label over `reps` simulated tasks per scenario (module doc).
    `progress`, when given, is called with 1 after each simulated task (e.g. a rich progress bar)."""
    d = as_design(design)
    rng = np.random.default_rng(0) if rng is None else rng
    rows = []
    for name in scenarios or list(SCENARIOS):
        sc = SCENARIOS[name]
        counts = dict.fromkeys(MIRAGE_LABELS, 0)
        for _ in range(reps):
            curves = simulate_curves(sc, d, rng)
            counts[mirage_for_task(curves, curves[0], answer_length=d.answer_length).label] += 1
            if progress is not None:
                progress(1)
        for label in MIRAGE_LABELS:
            lo, hi = wilson(counts[label], reps)
            rows.append(MirageCalibrationRow(name, sc.truth, label, counts[label], reps, counts[label] / reps, lo, hi))
    return rows


def main(argv: list[str] | None = None) -> int:
    """`python -m emergelab.analysis.mirage [--reps N] [--seed S] [--seeds K] [--n N] [--seed-sd SD]`:
    the label rates of every scenario on the default design (or the options), one row each."""
    import argparse

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    ap = argparse.ArgumentParser(description="Mirage-test label rates on simulated tasks with known truth.")
    ap.add_argument("--reps", type=int, default=200, help="simulated tasks per scenario")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=MirageDesign.seeds, help="training seeds per size")
    ap.add_argument("--n", type=int, default=MirageDesign.n_examples, help="test examples per point")
    ap.add_argument("--seed-sd", type=float, default=MirageDesign.seed_logit_sd, help="seed logit noise sd")
    args = ap.parse_args(argv)
    design = MirageDesign(seeds=args.seeds, n_examples=args.n, seed_logit_sd=args.seed_sd)
    with Progress(transient=True) as bar:
        job = bar.add_task("simulating", total=args.reps * len(SCENARIOS))
        rows = mirage_calibration(design, reps=args.reps, rng=np.random.default_rng(args.seed),
                                  progress=lambda k: bar.advance(job, k))
    t = Table(title=f"Mirage labels on simulated tasks ({len(design.sizes)} sizes, {design.seeds} seeds, "
                    f"n = {design.n_examples}, L = {design.answer_length}; {args.reps} per scenario, Wilson 95 %)")
    for col in ("scenario", "truth", *MIRAGE_LABELS):
        t.add_column(col)
    for name in SCENARIOS:
        cells = {r.label: f"{r.rate:.0%} [{r.lo:.0%},{r.hi:.0%}]" for r in rows if r.scenario == name}
        t.add_row(name, SCENARIOS[name].truth, *(cells[label] for label in MIRAGE_LABELS))
    Console().print(t)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
