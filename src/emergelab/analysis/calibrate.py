"""Calibration of the emergence verdict by simulation with known labels, for any design.

Why: a test is only as good as its error rates on the design it is used with. Given a design —
sizes, seeds per model, test examples per point, models per size, families, chance — this module
simulates curves whose truth is known and counts how often `verdict` says `emergent`:

* null scenarios (smooth truths, a false `emergent` is an error): linear in log-scale, growing
  power laws from the floor, saturating power laws, gentle logistic and Weibull rises (all in
  the test's trend family) and four forms outside it (Gompertz, quadratic in log-scale, an arctan
  S-curve with heavy tails, two gentle steps). "Gentle" means what the trend family means by it:
  from 1 % to 50 % of the rise over at least 1.8 decades (a logistic of 2.5 logits per decade). Each with
  seed-to-seed logit noise of sd 0, 0.3 and 0.6 and, when the design has
  several models per size, heterogeneity between models and families;
* alternatives (jumps): the smallest 3 or more sizes at the floor, then a sharp logistic rise
  (6–12 logits per decade) of 0.2, 0.3, 0.5 or 0.8 of the range.

Noise is generated the way it arises: logit(p) of each model = smooth truth + family effect +
model effect + seed effect, then k ~ Binomial(n, p) per seed. Seeds are pooled into one point
with per-example scores (as native runs are), or kept as separate models (as imported tables
often hold them). Rates come with Wilson intervals for the Monte-Carlo error.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.special import expit, logit

from emergelab.analysis.curve import Curve
from emergelab.analysis.verdict import VerdictConfig, verdict


@dataclass(frozen=True)
class Design:
    """What a study looks like: `n_sizes` sizes spread evenly over `decades` in log-scale."""

    n_sizes: int = 8
    decades: float = 3.0
    seeds: int = 2
    n_examples: int = 500
    models_per_size: int = 1
    families: int = 1
    chance: float = 0.0
    seeds_as_models: bool = False  # each seed its own point (an imported table), not pooled

    def sizes(self) -> np.ndarray:
        return 1e7 * np.logspace(0.0, self.decades, self.n_sizes)

    def describe(self) -> str:
        how = "as models" if self.seeds_as_models else "pooled"
        return (f"{self.n_sizes} sizes over {self.decades:g} decades, {self.seeds} seeds ({how}), "
                f"n = {self.n_examples}, {self.models_per_size} model(s)/size, {self.families} families, "
                f"chance {self.chance:g}")


Truth = Callable[[np.random.Generator, np.ndarray, float], np.ndarray]


@dataclass(frozen=True)
class Scenario:
    """A truth (fraction of the range above the floor, per position v ∈ [0, 1] along log-scale,
    given the span in decades) and the noise around it; `null` says a correct verdict is not
    `emergent`."""

    name: str
    truth: Truth
    null: bool
    seed_sd: float = 0.0
    model_sd: float = 0.0
    family_sd: float = 0.0


@dataclass
class ScenarioResult:
    scenario: str
    null: bool
    n: int
    emergent: int
    inconclusive: int
    labels: dict[str, int] = field(default_factory=dict)

    def rate(self, count: int) -> tuple[float, float, float]:
        return (count / self.n, *wilson(count, self.n))

    @property
    def emergent_rate(self) -> float:
        return self.emergent / self.n

    @property
    def inconclusive_rate(self) -> float:
        return self.inconclusive / self.n


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n (Wilson 1927)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo = 0.0 if k == 0 else max(mid - half, 0.0)  # exact ends: round-off must not leave p outside
    hi = 1.0 if k == n else min(mid + half, 1.0)
    return float(min(lo, p)), float(max(hi, p))


# ---------------------------------------------------------------- truths


def _loglinear(rng, v, d):
    a, top = rng.uniform(0.0, 0.15), rng.uniform(0.3, 0.95)
    return a + (top - a) * v


def _power_law(rng, v, d):  # f ∝ x^α from the floor
    return rng.uniform(0.3, 0.95) * 10 ** (-rng.uniform(0.1, 0.6) * d * (1 - v))


def _saturating(rng, v, d):  # error ∝ x^−α
    f = 1 - rng.uniform(0.85, 1.0) * 10 ** (-rng.uniform(0.1, 0.5) * d * v)
    top = rng.uniform(0.3, 0.95)
    return f * min(1.0, top / f[-1])


def _gentle_logistic(rng, v, d):
    k = rng.uniform(1.0, 2.5) * d  # logits per unit v
    return rng.uniform(0.4, 0.95) * expit(k * (v - rng.uniform(0.3, 0.8)))


def _gompertz(rng, v, d):  # asymmetric, fast off the floor: outside the family
    k = rng.uniform(0.6, 1.0) * d  # 1 % → 50 % over ≥ 1.9 decades
    return rng.uniform(0.4, 0.95) * np.exp(-np.exp(-k * (v - rng.uniform(0.3, 0.7))))


def _weibull(rng, v, d):  # 1 − exp(−(x/x0)^α): smooth in x
    alpha = rng.uniform(0.3, 0.5)
    u = d * (v - rng.uniform(0.5, 0.9))
    return rng.uniform(0.4, 0.95) * (1 - np.exp(-(10 ** (alpha * u))))


def _quadratic_log(rng, v, d):  # accelerating in log-scale: outside the family
    return rng.uniform(0.3, 0.9) * v**2


def _arctan(rng, v, d):  # heavy-tailed S-curve (Cauchy CDF in log-scale): outside the family
    k = rng.uniform(1.0, 2.5) * d
    return rng.uniform(0.4, 0.95) * (0.5 + np.arctan(k * (v - rng.uniform(0.3, 0.8))) / np.pi)


def _two_steps(rng, v, d):  # two gentle rises (two skills): outside the family
    k = rng.uniform(1.5, 2.5) * d
    a, b = np.sort(rng.uniform(0.15, 0.85, 2))
    return rng.uniform(0.4, 0.95) * 0.5 * (expit(k * (v - a)) + expit(k * (v - b)))


def jump(height: float) -> Truth:
    """Floor for the smallest ≥ 3 sizes, then a sharp logistic rise to `height` of the range that
    the largest size sees (≥ 95 % complete there: a rise still under way at the largest model is a
    smaller jump in the data)."""

    def truth(rng: np.random.Generator, v: np.ndarray, d: float) -> np.ndarray:
        k = rng.uniform(6.0, 12.0)  # logits per decade
        u = v * d
        room = int(np.sum(u + 6.0 / k <= u[-1] + 1e-9))  # small sets whose rise completes in range
        n_small = int(rng.integers(3, max(4, min(room, v.size - 1) + 1)))
        mid = u[n_small - 1] + 3.0 / k  # the last small size at ≤ 5 % of the jump
        return height * expit(k * (u - mid))

    return truth


NULL_SHAPES: dict[str, Truth] = {
    "log-linear": _loglinear, "power law": _power_law, "saturating": _saturating,
    "gentle logistic": _gentle_logistic, "Gompertz (outside)": _gompertz, "1-exp(-x^a) (outside)": _weibull,
    "quadratic in log (outside)": _quadratic_log, "arctan in log (outside)": _arctan,
    "two gentle steps (outside)": _two_steps,
}
JUMP_HEIGHTS = (0.2, 0.3, 0.5, 0.8)


def default_scenarios(design: Design, seed_sds: tuple[float, ...] = (0.0, 0.3, 0.6)) -> list[Scenario]:
    """Every null shape × seed noise (and × model heterogeneity when the design has several
    models per size), then the jumps at moderate seed noise."""
    out = []
    hetero = [(0.0, 0.0)] + ([(0.5, 0.3)] if design.models_per_size > 1 else [])
    for name, truth in NULL_SHAPES.items():
        for sd in seed_sds if design.seeds > 1 or design.models_per_size > 1 else (0.0,):
            for model_sd, fam_sd in hetero:
                tag = f"{name}, seed sd {sd:g}" + (f", model sd {model_sd:g}" if model_sd else "")
                out.append(Scenario(tag, truth, True, sd, model_sd, fam_sd))
    sd = 0.3 if design.seeds > 1 else 0.0
    out += [Scenario(f"jump {h:g}, seed sd {sd:g}", jump(h), False, sd) for h in JUMP_HEIGHTS]
    return out


# ---------------------------------------------------------------- simulation


def simulate_curve(design: Design, scenario: Scenario, rng: np.random.Generator) -> Curve:
    """One simulated curve of the design under the scenario (module doc)."""
    x = design.sizes()
    v = (np.log10(x) - np.log10(x[0])) / max(design.decades, 1e-9)
    f = np.clip(scenario.truth(rng, v, design.decades), 1e-4, 1 - 1e-4)
    p = design.chance + (1 - design.chance) * f
    fam_eff = rng.normal(0.0, scenario.family_sd, design.families)
    n, s = design.n_examples, design.seeds
    xs, ys, ns, samples, labels = [], [], [], [], []
    for i in range(design.n_sizes):
        for j in range(design.models_per_size):
            fam = j % design.families
            base = logit(p[i]) + fam_eff[fam] + rng.normal(0.0, scenario.model_sd)
            k = rng.binomial(n, expit(base + rng.normal(0.0, scenario.seed_sd, s)))
            if design.seeds_as_models:
                for kk in k:
                    xs.append(x[i])
                    ys.append(kk / n)
                    ns.append(n)
                    labels.append(f"f{fam}")
            else:
                xs.append(x[i])
                ys.append(k.sum() / (n * s))
                ns.append(n)
                samples.append((np.arange(n)[None, :] < k[:, None]).astype(float))
                labels.append(f"f{fam}")
    nan = np.full(len(xs), np.nan)
    return Curve(task="sim", metric="exact_match", scale="params", x=np.array(xs), y=np.array(ys),
                 lo=nan, hi=nan, n=np.array(ns, dtype=float), chance=design.chance, discrete=True,
                 samples=None if design.seeds_as_models else samples, labels=labels)


def run_scenario(design: Design, scenario: Scenario, reps: int = 200, seed: int = 0,
                 config: VerdictConfig | None = None) -> ScenarioResult:
    """Verdicts on `reps` simulated curves; deterministic given `seed`."""
    cfg = replace(config or VerdictConfig(), n_boot=0, warn=False)
    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(reps):
            label = verdict(simulate_curve(design, scenario, rng), cfg).label
            counts[label] = counts.get(label, 0) + 1
    return ScenarioResult(scenario.name, scenario.null, reps, counts.get("emergent", 0),
                          counts.get("inconclusive", 0), counts)


def calibrate(design: Design, reps: int = 200, seed: int = 0, config: VerdictConfig | None = None,
              scenarios: list[Scenario] | None = None,
              progress: Callable[[str], None] | None = None) -> list[ScenarioResult]:
    """Every scenario of `design` (default_scenarios unless given); one result per scenario."""
    out = []
    for i, sc in enumerate(scenarios or default_scenarios(design)):
        if progress:
            progress(sc.name)
        out.append(run_scenario(design, sc, reps, seed + 7919 * i, config))
    return out


def design_from_curves(curves: list[Curve]) -> Design:
    """The design of an existing experiment: sizes, decades, seeds, examples, models per size,
    families and chance, read off its discrete curves (the first one when they differ)."""
    from emergelab.analysis.noise import size_groups

    chosen = [c for c in curves if c.discrete] or curves
    if not chosen:
        raise ValueError("no curves to take a design from")
    c = chosen[0]
    groups = size_groups(c.x)
    n_sizes = int(groups.max()) + 1
    per_size = int(np.max(np.bincount(groups)))
    seeds = max((s.shape[0] for s in c.samples if s is not None), default=1) if c.samples else 1
    n = c.n[np.isfinite(c.n) & (c.n > 0)]
    fams = getattr(c, "families", None) or []
    return Design(
        n_sizes=n_sizes, decades=float(np.log10(c.x.max() / c.x.min())) or 1.0, seeds=max(seeds, 1),
        n_examples=int(np.median(n)) if n.size else 500, models_per_size=per_size,
        families=max(len(set(fams)), 1), chance=float(c.chance or 0.0),
    )
