"""Export a trained emergelab model as a Hugging Face GPT-2 directory.

Why GPT-2: our transformer *is* a GPT-2 block stack (pre-LayerNorm, learned positions, fused
q/k/v projection, GELU MLP, tied output head), so every tensor maps one to one and the exported
model computes the same function; `transformers` and `lm-evaluation-harness` can then load it
with `AutoModelForCausalLM.from_pretrained(OUT)`, no custom code and no `trust_remote_code`.

Three details make the match exact rather than approximate:
  * GPT-2's Conv1D stores weights as (in, out), which is already how each member's weights are
    laid out, so nothing is transposed;
  * our LayerNorm is torch's default (eps 1e-5) and our GELU is the exact erf form (F.gelu),
    hence `layer_norm_epsilon=1e-5` and `activation_function="gelu"` (GPT-2's own default,
    "gelu_new", is the tanh approximation and would differ by ~1e-4);
  * attention-only models have no MLP, which GPT-2 cannot leave out; we write MLPs whose output
    projection (weight and bias) is zero, so each block adds exactly 0 and the function is
    unchanged. The config records `emergelab["attn_only"]` so parameter counts can skip them.

The tokenizer is a `tokenizers` WordLevel model over the task's own vocabulary, so token ids are
identical to the task's ids: single-character vocabularies (digits, operators) are split into
characters, multi-character ones (residues of modular addition) on whitespace, matching
`Task.render`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open

from emergelab.models.transformer import ModelConfig
from emergelab.tasks import Task
from emergelab.tasks import base as tasks_base

HF_HINT = "the Hugging Face export needs transformers: pip install 'emergelab[hf]'"


class ExportError(ValueError):
    """A model that cannot be exported; the message says why in one line."""


@dataclass(frozen=True)
class WeightsFile:
    """One saved member checkpoint: where it is and what it is."""

    path: Path
    run_id: str
    step: int
    config: ModelConfig
    seed: int | None


def weights_dir_name(run_id: str) -> str:
    """The folder under DIR/weights that holds a run's checkpoints (see sweep.runner)."""
    return run_id.replace("/", "_")


def read_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], ModelConfig, int | None]:
    """Tensors, ModelConfig and seed of one safetensors file written by `save_member_weights`."""
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        if "config" not in meta:
            raise ExportError(f"{path}: no 'config' metadata; not an emergelab weights file")
        state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    seed = int(meta["seed"]) if meta.get("seed") not in (None, "", "None") else None
    return state, ModelConfig(**json.loads(meta["config"])), seed


def task_from_config(task_config: dict) -> Task:
    """Rebuild a task from a stored run's `task_config` (see `tasks.base.task_from_config`)."""
    try:
        return tasks_base.task_from_config(task_config)
    except KeyError as e:
        raise ExportError(str(e.args[0])) from None


# --- choosing a checkpoint -------------------------------------------------------------------
def _steps(run_dir: Path) -> dict[int, Path]:
    out = {}
    for p in run_dir.glob("step_*.safetensors"):
        suffix = p.stem.removeprefix("step_")
        if suffix.isdigit():
            out[int(suffix)] = p
    return out


def find_weights(folder: str | Path, run_id: str | None = None, step: int | None = None) -> tuple[WeightsFile, dict, dict]:
    """Pick a checkpoint of an experiment folder; returns it, its run's task_config and a few run
    facts worth keeping with the export (model name, task label, steps, tokens per step).

    Default: the largest model (by parameters) with saved weights, its lowest seed, its last step.
    """
    from emergelab.store import Store

    folder = Path(folder)
    with Store(folder, read_only=True) as store:
        runs = [r for r in store.runs() if r.source == "native"]
    if not runs:
        raise ExportError(f"{folder} holds no trained (native) runs to export")
    weights_root = folder / "weights"
    with_weights = [r for r in runs if _steps(weights_root / weights_dir_name(r.run_id))]
    if run_id is not None:
        chosen = [r for r in runs if r.run_id == run_id]
        if not chosen:
            raise ExportError(f"no finished run {run_id!r} in {folder}")
        run = chosen[0]
    else:
        if not with_weights:
            raise ExportError(f"no saved weights under {weights_root} (was the sweep run with save_weights: false?)")
        run = min(with_weights, key=lambda r: (-r.params, r.seed if r.seed is not None else 0, r.run_id))
    steps = _steps(weights_root / weights_dir_name(run.run_id))
    if not steps:
        raise ExportError(f"run {run.run_id!r} has no saved weights under {weights_root}")
    if step is None:
        step = max(steps)
    elif step not in steps:
        raise ExportError(f"run {run.run_id!r} has no weights for step {step}; saved: {sorted(steps)}")
    _, cfg, seed = read_weights(steps[step])
    facts = {"model": run.model, "task_label": run.task, "steps": run.steps, "tokens_per_step": run.tokens_per_step}
    return WeightsFile(steps[step], run.run_id, step, cfg, seed), run.task_config, facts


# --- the GPT-2 mapping -------------------------------------------------------------------------
def gpt2_state_dict(state: dict[str, torch.Tensor], cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """Our member tensors under GPT2LMHeadModel's names (lm_head is tied to wte)."""
    d, f = cfg.width, cfg.mlp_ratio * cfg.width
    out = {
        "transformer.wte.weight": state["wte"],
        "transformer.wpe.weight": state["wpe"],
        "transformer.ln_f.weight": state["lnf_w"],
        "transformer.ln_f.bias": state["lnf_b"],
    }
    for i in range(cfg.depth):
        src, dst = f"blocks.{i}.", f"transformer.h.{i}."
        pairs = {
            "ln_1.weight": "ln1_w", "ln_1.bias": "ln1_b",
            "attn.c_attn.weight": "qkv_w", "attn.c_attn.bias": "qkv_b",
            "attn.c_proj.weight": "out_w", "attn.c_proj.bias": "out_b",
        }
        if not cfg.attn_only:
            pairs |= {
                "ln_2.weight": "ln2_w", "ln_2.bias": "ln2_b",
                "mlp.c_fc.weight": "fc_w", "mlp.c_fc.bias": "fc_b",
                "mlp.c_proj.weight": "proj_w", "mlp.c_proj.bias": "proj_b",
            }
        for hf_name, ours in pairs.items():
            out[dst + hf_name] = state[src + ours]
        if cfg.attn_only:  # an MLP that adds exactly zero: c_proj weight and bias are 0
            out |= {
                dst + "ln_2.weight": torch.ones(d), dst + "ln_2.bias": torch.zeros(d),
                dst + "mlp.c_fc.weight": torch.zeros(d, f), dst + "mlp.c_fc.bias": torch.zeros(f),
                dst + "mlp.c_proj.weight": torch.zeros(f, d), dst + "mlp.c_proj.bias": torch.zeros(d),
            }
    return {k: v.detach().float().contiguous() for k, v in out.items()}


def gpt2_config(cfg: ModelConfig, extra: dict | None = None):
    """A GPT2Config computing exactly what EnsembleGPT computes (see the module docstring)."""
    try:
        from transformers import GPT2Config
    except ImportError as e:
        raise ImportError(HF_HINT) from e
    conf = GPT2Config(
        vocab_size=cfg.vocab_size, n_positions=cfg.seq_len, n_embd=cfg.width, n_layer=cfg.depth,
        n_head=cfg.heads, n_inner=cfg.mlp_ratio * cfg.width, activation_function="gelu",
        layer_norm_epsilon=1e-5, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        tie_word_embeddings=True, bos_token_id=None, eos_token_id=None, pad_token_id=None,
        architectures=["GPT2LMHeadModel"],
    )
    conf.emergelab = dict(extra or {}, attn_only=cfg.attn_only)
    return conf


def task_tokenizer(task: Task):
    """A fast tokenizer whose ids are the task's ids (WordLevel over the task vocabulary)."""
    try:
        from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
        from transformers import PreTrainedTokenizerFast
    except ImportError as e:
        raise ImportError(HF_HINT) from e
    vocab = {tok: i for i, tok in enumerate(task.vocab)}
    if len(vocab) != len(task.vocab):
        raise ExportError(f"task {task.name} has duplicate vocabulary entries")
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=None))
    if all(len(s) == 1 for s in task.vocab):
        # every character is a token; whitespace is split off too so "1 2" still tokenizes
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex("."), behavior="isolated"),
        ])
        tok.decoder = decoders.Fuse()  # decode([1, 2]) -> "12", as the task renders it
    else:
        tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=task.seq_len)
    return fast


# --- writing -------------------------------------------------------------------------------------
def export_weights(weights: WeightsFile, task: Task, out: str | Path, extra: dict | None = None) -> Path:
    """Write one checkpoint as a transformers-loadable GPT-2 directory at `out`."""
    try:
        import transformers
        from transformers import GPT2LMHeadModel
    except ImportError as e:
        raise ImportError(HF_HINT) from e
    transformers.utils.logging.disable_progress_bar()
    state, cfg, _ = read_weights(weights.path)
    if cfg.vocab_size != task.vocab_size:
        raise ExportError(f"model vocabulary ({cfg.vocab_size}) does not match task {task.name} ({task.vocab_size})")
    total, non_emb = cfg.param_counts()
    meta = {"run_id": weights.run_id, "step": weights.step, "seed": weights.seed, "task": task.name,
            "task_kwargs": task.config(), "params": total, "non_embedding_params": non_emb,
            "answer_len": task.answer_len, **(extra or {})}
    model = GPT2LMHeadModel(gpt2_config(cfg, meta))
    missing, unexpected = model.load_state_dict(gpt2_state_dict(state, cfg), strict=False)
    missing = [m for m in missing if m != "lm_head.weight" and not m.endswith(("attn.bias", "attn.masked_bias"))]
    if missing or unexpected:
        raise ExportError(f"GPT-2 layout mismatch: missing {missing[:3]}, unexpected {unexpected[:3]}")
    model.tie_weights()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.eval().save_pretrained(out, safe_serialization=True)
    task_tokenizer(task).save_pretrained(out)
    return out


def export_hf(folder: str | Path, out: str | Path, run_id: str | None = None, step: int | None = None) -> Path:
    """Export a trained model of an experiment folder (default: largest model, first seed, last step)."""
    weights, task_config, run_facts = find_weights(folder, run_id, step)
    task = task_from_config(task_config)
    return export_weights(weights, task, out, {"task_config": task_config, **run_facts})
