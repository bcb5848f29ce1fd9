"""Hugging Face commands: `emergelab export DIR --hf OUT` and `emergelab score-hf MODEL_DIR...`.

Thin shells over `models.hf_export` and `evaluate.transformers_backend`: errors become one line
on stderr with exit code 2, and transformers is imported only when a command runs, so the rest
of the CLI works without the `hf` extra.
"""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from emergelab.cli.common import fail

console = Console(stderr=True, markup=False, highlight=False)  # task labels contain [brackets]
out_console = Console(markup=False, highlight=False)

app = typer.Typer(add_completion=False, no_args_is_help=True)


def export_hf_cli(folder: Path, out: Path, run: str | None = None, step: int | None = None) -> Path:
    """What `emergelab export DIR --hf OUT [--run ID] [--step N]` does: write a GPT-2 directory."""
    from emergelab.models.hf_export import ExportError, export_hf

    try:
        path = export_hf(folder, out, run_id=run, step=step)
    except (ExportError, FileNotFoundError, ImportError) as e:
        raise fail(str(e)) from None
    out_console.print(f"transformers model: {path}  (AutoModelForCausalLM.from_pretrained({str(path)!r}))")
    return path


class TokenizationChoice(StrEnum):
    auto = "auto"
    symbol = "symbol"
    text = "text"


def _task_kwargs(digits: int | None, fmt: str | None, bits: int | None, p: int | None, args: list[str]) -> dict:
    kwargs: dict = {k: v for k, v in (("digits", digits), ("fmt", fmt), ("bits", bits), ("p", p)) if v is not None}
    for item in args:
        key, sep, value = item.partition("=")
        if not sep:
            raise fail(f"--arg expects KEY=VALUE, got {item!r}")
        kwargs["fmt" if key == "format" else key] = int(value) if value.lstrip("-").isdigit() else value
    return kwargs


def _split_and_label(out: Path, task, kwargs: dict, train_size: int | None, test_size: int | None,
                     data_seed: int | None) -> tuple[dict, str]:
    """Test split and task label: those of a native run of the same task in `out` when there is
    one (so the models are scored on the very same examples and share its curves), else defaults."""
    from emergelab.store import DB_NAME, Store

    label, found = None, {}
    if (out / DB_NAME).is_file():
        with Store(out, read_only=True) as store:
            for r in store.runs():
                tc = r.task_config
                if r.source == "native" and tc.get("name") == task.name and all(
                    tc.get(k) == v for k, v in task.config().items()
                ):
                    label, found = r.task, tc
                    break
    test = test_size or found.get("test_size") or min(500, task.space_size // 2)
    train = train_size if train_size is not None else found.get("train_size", min(20000, task.space_size - test))
    seed = data_seed if data_seed is not None else found.get("data_seed", 0)
    if label is None:  # as TaskSpec.display_label writes it for the same parameters
        label = task.name + ("[" + ",".join(f"{k}={v}" for k, v in sorted(kwargs.items())) + "]" if kwargs else "")
    return {"train_size": int(train), "test_size": int(test), "data_seed": int(seed)}, label


_EPILOG = (
    "Examples:\n\n"
    "  emergelab score-hf hf/addition-w48 --task addition --digits 3 --answer-format reversed --out runs/demo\n\n"
    "(`hf/addition-w48` written by `emergelab export runs/demo --hf hf/addition-w48`.) Several directories at "
    "once (e.g. a family of checkpoints) become one run each. When OUT already holds native runs of the same "
    "task, the same test examples and task label are used."
)


def score_hf_command(
    model_dirs: Annotated[list[Path], typer.Argument(help="Local Hugging Face causal LM directories.")],
    task: Annotated[str, typer.Option("--task", "-t", help="Task name (see `emergelab tasks`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Experiment folder to store the runs in (created if missing).")],
    digits: Annotated[int | None, typer.Option(help="Task parameter digits.")] = None,
    fmt: Annotated[str | None, typer.Option("--answer-format", help="How the task writes its answer (plain, reversed, scratchpad); `--format` elsewhere is always an output format.")] = None,
    bits: Annotated[int | None, typer.Option(help="Task parameter bits.")] = None,
    p: Annotated[int | None, typer.Option("--p", help="Task parameter p (modular addition).")] = None,
    arg: Annotated[list[str], typer.Option("--arg", help="Any other task parameter, KEY=VALUE (repeatable).")] = [],  # noqa: B006
    train_size: Annotated[int | None, typer.Option(help="Split: training-set size (decides which examples are held out).")] = None,
    test_size: Annotated[int | None, typer.Option(help="Split: number of test examples scored.")] = None,
    data_seed: Annotated[int | None, typer.Option(help="Split: data seed.")] = None,
    tokenization: Annotated[TokenizationChoice, typer.Option(help="symbol: one model token per task symbol; text: the tokenizer's own split; auto picks.")] = TokenizationChoice.auto,
    batch_size: Annotated[int, typer.Option(help="Examples per forward pass.")] = 256,
    device: Annotated[str, typer.Option(help="torch device, e.g. cpu or cuda.")] = "cpu",
    step: Annotated[int | None, typer.Option(help="Training step of the checkpoint(s) (default: recorded by the export, else 0).")] = None,
    tokens: Annotated[int | None, typer.Option(help="Training tokens seen by the checkpoint(s), for compute axes.")] = None,
) -> None:
    """Score local Hugging Face causal LMs on a task and store the outputs like native runs.

    Example: `emergelab score-hf hf/addition-w48 --task addition --digits 3 --answer-format reversed --out runs/demo`
    """
    from emergelab.store import Store
    from emergelab.tasks import make_task

    try:
        from emergelab.evaluate.transformers_backend import hf_run_result, load_hf, score_hf
    except ImportError as e:
        raise fail(str(e)) from None
    kwargs = _task_kwargs(digits, fmt, bits, p, arg)
    try:
        the_task = make_task(task, **kwargs)
    except (KeyError, TypeError, ValueError) as e:
        raise fail(f"task {task}: {e}") from None
    split_params, label = _split_and_label(out, the_task, kwargs, train_size, test_size, data_seed)
    try:
        split = the_task.make_split(split_params["train_size"], split_params["test_size"], split_params["data_seed"])
    except ValueError as e:
        raise fail(str(e)) from None
    names = [d.resolve().name for d in model_dirs]
    if len(set(names)) < len(names):  # the run id is built from the directory name
        raise fail(f"model directories must have distinct names (got {', '.join(names)})")
    results = []
    for model_dir in model_dirs:
        started = time.perf_counter()
        try:
            hf = load_hf(model_dir, device=device)
            outputs, mode = score_hf(hf, the_task, split.test_prompt, split.test_answer, split.test_index,
                                     batch_size=batch_size, tokenization=tokenization.value)
        except (FileNotFoundError, OSError, ValueError) as e:
            raise fail(f"{model_dir}: {e}") from None
        result = hf_run_result(hf, the_task, outputs, mode, label, split_params, step, tokens,
                               seconds=time.perf_counter() - started)
        results.append(result)
        exact = float((outputs.pred == outputs.target).all(axis=1).mean())
        console.print(f"{model_dir}: {result.run.params:,} params, tokenization={mode}, "
                      f"exact match {exact:.3f}, mean log p(answer) {outputs.logprob.sum(axis=1).mean():.3f}")
    with Store(out) as store:  # written only once every model scored, one transaction each
        for result in results:
            store.write_run(result)
    out_console.print(f"{len(results)} model(s) scored on {label} ({split_params['test_size']} examples) → {out}")


app.command("score-hf", epilog=_EPILOG)(score_hf_command)
