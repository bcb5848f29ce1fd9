"""Example failures: test problems with every model's answer, marked right or wrong.

A curve says *that* a model fails; the answers say *how* (a wrong carry, a dropped digit, a copy
of an operand). From the stored outputs of the final checkpoint (first seed of each model) we
pick problems spread over difficulty — sorted by how many models solve them, then taken at even
intervals — so the table shows problems every model solves, problems only the larger ones solve
and problems none solves. Wrong tokens are highlighted. Below it, accuracy per answer position
shows *where* in the answer errors sit (for addition written least-significant digit first, the
later positions are the ones that need carries).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from emergelab.report.style import model_order
from emergelab.store import RunRecord, Store, TokenOutputs


@dataclass
class FailureTable:
    """Problems (rows) × models (columns, by size) with each answer and whether it is right."""

    task: str
    models: list[str]
    sizes: list[int]
    problems: list[str]
    targets: list[list[str]]  # per problem, the correct answer tokens
    answers: list[list[list[str]]]  # [problem][model] the model's answer tokens
    position_accuracy: np.ndarray  # (models, answer positions): share of all test problems right there
    note: str = ""

    def correct(self, i: int, j: int) -> bool:
        return self.answers[i][j] == self.targets[i]


def _task_vocab(run: RunRecord) -> tuple[object | None, str]:
    """The run's task rebuilt from its stored config (to render prompts), or None and why not."""
    from emergelab.tasks.base import task_from_config

    try:
        return task_from_config(run.task_config), ""
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"problems shown as token ids: {exc}"


def _pick(solved_by: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """Row indices of k problems spread evenly over difficulty (most models right → none right)."""
    order = np.lexsort((ids, -solved_by))
    if len(order) <= k:
        return order
    return order[np.unique(np.round(np.linspace(0, len(order) - 1, k)).astype(int))]


def failure_table(store: Store, task: str, k: int = 12) -> FailureTable | None:
    """The table for one task from its native (or imported per-token) runs; None without outputs."""
    runs = [r for r in store.runs() if r.task == task]
    first: dict[str, RunRecord] = {}
    for r in sorted(runs, key=lambda r: (r.seed is None, r.seed)):
        first.setdefault(r.model, r)
    final: dict[str, TokenOutputs] = {}
    for model, run in first.items():
        outputs = store.token_outputs(run.run_id)
        if outputs:
            final[model] = outputs[max(outputs)]
    if not final:
        return None
    models = model_order({m: first[m].non_embedding_params for m in final})
    common = set.intersection(*(set(final[m].example_id.tolist()) for m in models))
    if not common:
        return None
    ids = np.array(sorted(common))
    rows = {m: {int(e): i for i, e in enumerate(final[m].example_id)} for m in models}
    take = {m: np.array([rows[m][int(e)] for e in ids]) for m in models}
    targets = final[models[0]].target[take[models[0]]]
    preds = {m: final[m].pred[take[m]] for m in models}
    right = np.stack([(preds[m] == targets).all(axis=1) for m in models], axis=1)  # (problems, models)
    chosen = _pick(right.sum(axis=1), ids, k)
    task_obj, note = _task_vocab(first[models[0]])

    # a mix model's outputs are in the mix's union vocabulary (tasks/mix.py), not the task's own
    vocab = first[models[0]].task_config.get("mix_vocab") or (task_obj.vocab if task_obj is not None else None)

    def tokens(seq: np.ndarray) -> list[str]:
        return [vocab[int(t)] for t in seq] if vocab is not None else [str(int(t)) for t in seq]

    def problem(example_id: int) -> str:
        if task_obj is None:
            return f"#{example_id}"
        prompt, _ = task_obj.encode(np.array([example_id]))
        return task_obj.render(prompt[0])

    position_accuracy = np.stack([(final[m].pred == final[m].target).mean(axis=0) for m in models])
    fmt = getattr(task_obj, "fmt", None)
    if fmt:
        note = "; ".join(filter(None, [f"answers as the model writes them (format: {fmt})", note]))
    return FailureTable(
        task=task, models=models, sizes=[first[m].non_embedding_params for m in models],
        problems=[problem(int(ids[i])) for i in chosen], targets=[tokens(targets[i]) for i in chosen],
        answers=[[tokens(preds[m][i]) for m in models] for i in chosen],
        position_accuracy=position_accuracy, note=note,
    )


def _answer_html(answer: list[str], target: list[str]) -> str:
    cells = "".join(html.escape(a) if a == t else f'<span class="bad">{html.escape(a)}</span>'
                    for a, t in zip(answer, target, strict=True))
    mark = '<span class="ok">✓</span>' if answer == target else '<span class="bad">✗</span>'
    return f"<code>{cells}</code> {mark}"


def failure_table_html(t: FailureTable, anchor_id: str) -> str:
    from emergelab.report.text import fmt_scale

    head = "<th>problem</th><th>correct</th>" + "".join(
        f"<th>{html.escape(m)}<br><small>N={fmt_scale(n)}</small></th>" for m, n in zip(t.models, t.sizes, strict=True))
    body = []
    for i, prob in enumerate(t.problems):
        cells = "".join(f"<td>{_answer_html(t.answers[i][j], t.targets[i])}</td>" for j in range(len(t.models)))
        body.append(f"<tr><td><code>{html.escape(prob)}</code></td><td><code>{html.escape(''.join(t.targets[i]))}"
                    f"</code></td>{cells}</tr>")
    n_pos = t.position_accuracy.shape[1]
    pos_head = "<th>model</th>" + "".join(f"<th>{p + 1}</th>" for p in range(n_pos))
    pos_body = "".join(
        f"<tr><td>{html.escape(m)}</td>" + "".join(f"<td>{v:.2f}</td>" for v in t.position_accuracy[j]) + "</tr>"
        for j, m in enumerate(t.models))
    note = f" {html.escape(t.note)}." if t.note else ""
    return "\n".join([
        f'<h3 id="{anchor_id}">{html.escape(t.task)}: example answers</h3>',
        f'<p class="note">Final checkpoint, first seed of each model; problems spread from solved by every model '
        f"to solved by none. Wrong tokens in red.{note}</p>",
        f'<table class="failures"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>',
        '<p class="note">Accuracy per answer position (share of all test problems with that token right), '
        "positions in the order the model writes them:</p>",
        f'<table class="positions"><thead><tr>{pos_head}</tr></thead><tbody>{pos_body}</tbody></table>',
    ])
