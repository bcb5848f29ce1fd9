"""Shared circuits across tasks: does one model trained on several tasks reuse common pieces, or
keep a separate heuristic per task — and does that change as the model grows?

For every model trained on a task mix (a spec with `mix:`, final weights saved) each task's test
prompts are re-run through the saved weights (tasks/mix.py encodes them exactly as training did),
and per block three measures compare every pair of tasks:

* `cka_residual` / `cka_mlp` — linear CKA (Kornblith et al. 2019; `analysis.seeds.linear_cka`)
  between the two tasks' activations at the answer-predicting positions: the residual stream after
  the block, and the block's MLP units. Two tasks have different inputs, so examples cannot be
  paired; the *units* of one network are paired by construction. CKA is therefore taken with units
  as the observations: it compares the two tasks' unit-by-unit covariance matrices (each task's
  own mean removed), and is 1 when both tasks vary the same units in the same pattern, whatever
  their overall scale.
* `top_neurons` — each MLP unit is mean-ablated (evaluate/activations.py) and its effect on each
  task's answer loss measured; the share of the `top_share` most harmful units that two tasks
  have in common.

Every measure comes with a *null*, what it gives when the tasks' activations keep their own
statistics but the correspondence of units is broken (a random rotation of the residual stream,
which has no privileged basis; a random permutation of MLP units; for top units the overlap of two
random sets, k/units), and a *ceiling*, the same measure between two halves of one task's examples
(how far sampling noise alone moves it). `shared` = (value − null) / (ceiling − null) puts the
measure on 0 = no more sharing than chance, 1 = as shared as a task with itself. Intervals are
percentile bootstraps over test examples.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.stats import ortho_group
from threadpoolctl import threadpool_limits

from emergelab.analysis.seeds import linear_cka
from emergelab.registry import Registry
from emergelab.store import RunRecord, Store
from emergelab.tasks.base import task_from_config
from emergelab.tasks.mix import MixEncoding


@dataclass
class TaskActivations:
    """One task's view of one model: per block, activations (n, L, units) at the L answer-predicting
    positions and per-example ablation effects (n, MLP units), nats per answer token."""

    task: str
    residual: list[np.ndarray]
    hidden: list[np.ndarray | None]
    effects: list[np.ndarray | None]
    exact_match: float
    loss: float


@dataclass(frozen=True)
class Measure:
    """How much two tasks share one site of one block; `compare(a, b)` on per-example arrays,
    `null(a, b, rng)` the same with the unit correspondence broken."""

    name: str
    site: str  # the TaskActivations field it reads
    what: str
    compare: Callable[[np.ndarray, np.ndarray, float], float]
    null: Callable[[np.ndarray, np.ndarray, float, np.random.Generator], float]


MEASURES: Registry[Measure] = Registry("measure")
NULL_DRAWS = 5


def unit_cka(a: np.ndarray, b: np.ndarray) -> float:
    """Linear CKA with units as the paired observations: a (n_a, …, u), b (n_b, …, u) are two
    tasks' activations of the same u units; each task's mean is removed first."""
    return linear_cka(_gram_factor(a), _gram_factor(b))


def _gram_factor(x: np.ndarray) -> np.ndarray:
    """A (units, r) matrix F with F Fᵀ = XᵀX for X = x's rows with the mean removed, r ≤ units.
    Linear CKA of Xᵀ and Yᵀ depends on them only through XᵀX and YᵀY, so passing the factors
    (R of X = QR) gives the same value at units² instead of rows² cost."""
    x = x.reshape(-1, x.shape[-1])
    return np.linalg.qr(x - x.mean(0), mode="r").T


def top_units(effects: np.ndarray, share: float) -> np.ndarray:
    """Indices of the max(1, round(share · units)) units whose ablation raises the loss most."""
    k = max(1, round(share * effects.shape[-1]))
    return np.argsort(-effects.mean(0), kind="stable")[:k]


def top_overlap(a: np.ndarray, b: np.ndarray, share: float) -> float:
    """Share of the top units of two tasks' ablation effects (n, units) that they have in common."""
    ta, tb = top_units(a, share), top_units(b, share)
    return len(np.intersect1d(ta, tb)) / len(ta)


def _rotated_cka(a: np.ndarray, b: np.ndarray, _share: float, rng: np.random.Generator) -> float:
    q = ortho_group.rvs(a.shape[-1], size=NULL_DRAWS, random_state=rng)
    return float(np.mean([unit_cka(a, b @ qi) for qi in q]))


def _permuted_cka(a: np.ndarray, b: np.ndarray, _share: float, rng: np.random.Generator) -> float:
    return float(np.mean([unit_cka(a, b[..., rng.permutation(b.shape[-1])]) for _ in range(NULL_DRAWS)]))


def _chance_overlap(a: np.ndarray, b: np.ndarray, share: float, _rng: np.random.Generator) -> float:
    return max(1, round(share * a.shape[-1])) / a.shape[-1]  # E|A ∩ B| / k for random k-sets of u


MEASURES.add("cka_residual", Measure("cka_residual", "residual", "CKA of the residual stream after the block",
                                     lambda a, b, _s: unit_cka(a, b), _rotated_cka))
MEASURES.add("cka_mlp", Measure("cka_mlp", "hidden", "CKA of the block's MLP units",
                                lambda a, b, _s: unit_cka(a, b), _permuted_cka))
MEASURES.add("top_neurons", Measure("top_neurons", "effects", "share of top-attributed MLP units in common",
                                    top_overlap, _chance_overlap))


@dataclass
class PairShare:
    """Two tasks of one model (one seed), one block, one measure."""

    mix: str
    model: str
    params: float
    seed: int
    layer: int  # block index, 0 = first
    measure: str
    task_a: str
    task_b: str
    value: float
    lo: float
    hi: float
    null: float
    ceiling: float
    both_solve: bool  # both tasks at exact match ≥ 0.5

    @property
    def shared(self) -> float:
        return _normalise(self.value, self.null, self.ceiling)


def _normalise(value: float, null: float, ceiling: float) -> float:
    return float((value - null) / (ceiling - null)) if ceiling > null else float("nan")


@dataclass
class TaskScore:
    mix: str
    model: str
    params: float
    seed: int
    task: str
    exact_match: float  # on the examples analysed (teacher-forced argmax = greedy for exact match)
    loss: float  # nats per answer token


@dataclass
class SizeShare:
    """One mix, one size, one block, one measure, one task pair: the mean over seeds, with a
    bootstrap interval over examples (seeds' replicates averaged)."""

    mix: str
    model: str
    params: float
    seeds: int
    layer: int
    measure: str
    pair: str
    value: float
    lo: float
    hi: float
    null: float
    ceiling: float
    shared: float
    shared_lo: float
    shared_hi: float


@dataclass
class SharedCircuitStudy:
    scores: list[TaskScore]
    pairs: list[PairShare]
    sizes: list[SizeShare]


@dataclass
class MixModel:
    """One trained mix model: its runs (one per task, in the mix's order) and its weights file."""

    mix: str
    runs: list[RunRecord]
    weights: Path


def mix_models(folder: str | Path) -> list[MixModel]:
    """Every model of the folder trained on a mix of ≥ 2 tasks; a warning names those without weights."""
    from emergelab.models.hf_export import ExportError, find_weights

    folder = Path(folder)
    with Store(folder, read_only=True) as store:
        runs = [r for r in store.runs() if r.source == "native" and len(r.task_config.get("mix_tasks", [])) >= 2]
    groups: dict[tuple, dict[str, RunRecord]] = {}
    for r in runs:
        key = (tuple(r.task_config["mix_tasks"]), tuple(r.task_config["mix_shares"]), r.model, r.seed,
               r.task_config.get("data_seed"), r.steps)
        groups.setdefault(key, {})[r.task] = r
    out, missing = [], 0
    for (tasks, shares, *_), members in groups.items():
        if set(tasks) - set(members):
            continue
        ordered = [members[t] for t in tasks]
        try:
            weights = find_weights(folder, run_id=ordered[0].run_id)[0].path
        except ExportError:
            missing += 1
            continue
        label = "/".join(tasks) + (f" @ {'/'.join(f'{s:.2g}' for s in shares)}" if len(set(shares)) > 1 else "")
        out.append(MixModel(label, ordered, weights))
    if missing:
        warnings.warn(f"{missing} mix models have no saved weights (run with executor.save_weights: true); "
                      "they are left out", stacklevel=2)
    return sorted(out, key=lambda m: (m.mix, m.runs[0].non_embedding_params, m.runs[0].seed))


def task_activations(model_file: Path, runs: list[RunRecord], test_ids: list[np.ndarray]) -> list[TaskActivations]:
    """Re-run a mix model on each task's test examples `test_ids`: activations, exact match, loss
    and the effect of mean-ablating each MLP unit (mean over every position of all tasks' sequences)."""
    from emergelab.evaluate.activations import answer_nll, neuron_ablation_nll, trace
    from emergelab.evaluate.seeds import load_model

    tasks = [task_from_config(r.task_config) for r in runs]
    enc = MixEncoding.of(tasks)
    stored = runs[0].task_config.get("mix_vocab")
    if stored is not None and list(stored) != list(enc.vocab):
        raise ValueError(f"run {runs[0].run_id}: stored mix vocabulary differs from tasks/mix.py's encoding")
    model, _ = load_model(model_file)
    seqs, answers, traces = [], [], []
    for i, (task, ids) in enumerate(zip(tasks, test_ids, strict=True)):
        prompt, answer = task.encode(ids)
        ans = enc.answers(i, answer)
        seqs.append(np.concatenate([enc.prompts(i, prompt), ans[:, :-1]], axis=1))
        answers.append(ans)
        traces.append(trace(model, seqs[-1]))
    depth = len(traces[0].residual)
    means = [None if traces[0].hidden[layer] is None else
             torch.cat([t.hidden[layer].reshape(-1, t.hidden[layer].shape[-1]) for t in traces]).mean(0)
             for layer in range(depth)]
    out = []
    for run, seq, ans, tr in zip(runs, seqs, answers, traces, strict=True):
        length = ans.shape[1]
        correct = (tr.logits[:, -length:].argmax(-1).numpy() == ans).all(axis=1)
        effects = []
        for layer in range(depth):
            if means[layer] is None:
                effects.append(None)
                continue
            base = answer_nll(tr.logits, ans)
            effects.append((neuron_ablation_nll(model, seq, ans, layer, means[layer]) - base).T)
        out.append(TaskActivations(
            run.task, [r[:, -length:].double().numpy() for r in tr.residual],
            [None if h is None else h[:, -length:].double().numpy() for h in tr.hidden], effects,
            float(correct.mean()), float(answer_nll(tr.logits, ans).mean())))
    return out


def compare_tasks(acts: list[TaskActivations], measure: Measure, layer: int, top_share: float, n_boot: int,
                  rng: np.random.Generator) -> list[tuple[str, str, float, np.ndarray, float, float]]:
    """Per task pair: (task_a, task_b, value, bootstrap replicates, null, ceiling); the ceiling is
    the mean over the two tasks of the measure between the halves of each task's examples."""

    def site(t: TaskActivations) -> np.ndarray | None:
        return getattr(t, measure.site)[layer]

    def halves(x: np.ndarray) -> float:
        order = rng.permutation(len(x))
        return measure.compare(x[order[: len(x) // 2]], x[order[len(x) // 2:]], top_share)

    out = []
    ceilings = {t.task: halves(site(t)) for t in acts if site(t) is not None}
    for ta, tb in itertools.combinations(acts, 2):
        a, b = site(ta), site(tb)
        if a is None or b is None:
            continue
        reps = np.array([measure.compare(a[rng.integers(0, len(a), len(a))], b[rng.integers(0, len(b), len(b))],
                                         top_share) for _ in range(n_boot)])
        out.append((ta.task, tb.task, measure.compare(a, b, top_share), reps, measure.null(a, b, top_share, rng),
                    0.5 * (ceilings[ta.task] + ceilings[tb.task])))
    return out


def shared_circuit_study(folder: str | Path, max_examples: int = 100, top_share: float = 0.1, n_boot: int = 100,
                         seed: int = 0, threads: int = 1, on_model: Callable[[], None] | None = None
                         ) -> SharedCircuitStudy:
    """Every mix model of `folder`: per block, measure and task pair, how much the tasks share;
    the first `max_examples` stored test examples of each task are used. `threads` caps torch and
    BLAS threads: the matrices are tiny, and more threads on a busy machine only contend (one
    BLAS thread measured 20x faster than the default under load)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            return _study(folder, max_examples, top_share, n_boot, seed, on_model)
    finally:
        torch.set_num_threads(previous)


def _study(folder: str | Path, max_examples: int, top_share: float, n_boot: int, seed: int,
           on_model: Callable[[], None] | None) -> SharedCircuitStudy:
    rng = np.random.default_rng(seed)
    scores, pairs = [], []
    replicates: dict[tuple, list[np.ndarray]] = {}
    models = mix_models(folder)
    with Store(folder, read_only=True) as store:
        ids = {r.run_id: _test_ids(store, r.run_id, max_examples) for m in models for r in m.runs}
    for m in models:
        first = m.runs[0]
        acts = task_activations(m.weights, m.runs, [ids[r.run_id] for r in m.runs])
        n = float(first.non_embedding_params)
        scores += [TaskScore(m.mix, first.model, n, int(first.seed or 0), a.task, a.exact_match, a.loss) for a in acts]
        solved = {a.task: a.exact_match >= 0.5 for a in acts}
        for layer in range(len(acts[0].residual)):
            for measure in MEASURES.values():
                for ta, tb, value, reps, null, ceiling in compare_tasks(acts, measure, layer, top_share, n_boot, rng):
                    lo, hi = np.percentile(reps, [2.5, 97.5])
                    pairs.append(PairShare(m.mix, first.model, n, int(first.seed or 0), layer, measure.name, ta, tb,
                                           float(value), float(lo), float(hi), float(null), float(ceiling),
                                           solved[ta] and solved[tb]))
                    replicates[(m.mix, first.model, layer, measure.name, ta, tb, first.seed)] = reps
        if on_model is not None:
            on_model()
    return SharedCircuitStudy(scores, pairs, _by_size(pairs, replicates))


def _test_ids(store: Store, run_id: str, max_examples: int) -> np.ndarray:
    outputs = store.token_outputs(run_id)
    return np.sort(outputs[max(outputs)].example_id)[:max_examples]


def _by_size(pairs: list[PairShare], replicates: dict[tuple, np.ndarray]) -> list[SizeShare]:
    groups: dict[tuple, list[PairShare]] = {}
    for p in pairs:
        groups.setdefault((p.mix, p.model, p.layer, p.measure, p.task_a, p.task_b), []).append(p)
    out = []
    for (mix, model, layer, measure, ta, tb), ps in groups.items():
        value, null, ceiling = (float(np.mean([getattr(p, f) for p in ps])) for f in ("value", "null", "ceiling"))
        reps = np.mean([replicates[(mix, model, layer, measure, ta, tb, p.seed)] for p in ps], axis=0)
        lo, hi = np.percentile(reps, [2.5, 97.5])
        s_lo, s_hi = sorted((_normalise(lo, null, ceiling), _normalise(hi, null, ceiling)))
        out.append(SizeShare(mix, model, ps[0].params, len(ps), layer, measure, f"{ta}–{tb}", value, float(lo),
                             float(hi), null, ceiling, _normalise(value, null, ceiling), s_lo, s_hi))
    return sorted(out, key=lambda s: (s.mix, s.measure, s.layer, s.pair, s.params))
