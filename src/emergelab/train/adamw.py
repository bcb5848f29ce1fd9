"""AdamW that calls PyTorch's fused AdamW kernel directly, without `torch.optim`'s machinery.

`torch.optim.AdamW(fused=True)` imports `torch._dynamo` (≈ 1.8 s) the first time a process builds
one (`add_param_group` is wrapped by `torch._disable_dynamo`) and on every `step`; every worker
would pay that import, or the fork server would preload it. This class runs the same kernel
(`torch._fused_adamw_`) on the same state the same way — step counters as float32 tensors on the
parameter's device, incremented just before the kernel; the learning rate as a Python float — so
its parameters and state are bit for bit those of `torch.optim.AdamW(..., fused=True)`, and its
`state_dict` has the same layout (per parameter index: "step", "exp_avg", "exp_avg_sq"), so
snapshots written with either resume with either (tests/test_adamw.py).

Only what the trainer uses: parameter groups (with "lr" and "weight_decay" per group), `step`,
`zero_grad`, `state_dict` and `load_state_dict`; no closures, hooks, AMSGrad or gradient scaling.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import torch


class FusedAdamW:
    """`torch.optim.AdamW(params, lr, betas, eps, weight_decay, fused=True)`, without torch._dynamo."""

    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Invalid beta parameters: {betas}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        # the same group keys as torch.optim.AdamW(fused=True), so state dicts match key for key
        self.defaults: dict[str, Any] = {
            "lr": lr, "betas": (float(betas[0]), float(betas[1])), "eps": eps, "weight_decay": weight_decay,
            "amsgrad": False, "maximize": False, "foreach": None, "capturable": False, "differentiable": False,
            "fused": True, "decoupled_weight_decay": True,
        }
        self.state: defaultdict[torch.Tensor, dict[str, torch.Tensor]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self._add_param_group(dict(group))

    def _add_param_group(self, group: dict[str, Any]) -> None:
        params = group["params"]
        group["params"] = [params] if isinstance(params, torch.Tensor) else list(params)
        for p in group["params"]:
            if not (p.device.type in ("cpu", "cuda", "mps", "xpu") and torch.is_floating_point(p)):
                raise RuntimeError(f"fused AdamW needs floating-point parameters on a supported device, not {p.dtype} on {p.device.type}")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self) -> None:
        """Drop every gradient (torch.optim's default, set_to_none=True: the only mode used here)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One AdamW step of every parameter that has a gradient (as torch.optim.AdamW(fused=True))."""
        for group in self.param_groups:
            # (device, dtype) -> params, grads, exp_avgs, exp_avg_sqs, steps: one kernel call each
            lists: dict[tuple[torch.device, torch.dtype], tuple[list[torch.Tensor], ...]] = {}
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("AdamW does not support sparse gradients")
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                entry = lists.setdefault((p.device, p.dtype), ([], [], [], [], []))
                for target, value in zip(entry, (p, p.grad, state["exp_avg"], state["exp_avg_sq"], state["step"]),
                                         strict=True):
                    target.append(value)
            beta1, beta2 = group["betas"]
            for params, grads, exp_avgs, exp_avg_sqs, steps in lists.values():
                torch._foreach_add_(steps, 1)
                torch._fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False,
                                    lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                                    eps=group["eps"], maximize=False, grad_scale=None, found_inf=None)

    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {"step", "exp_avg", "exp_avg_sq"}}, "param_groups": [... "params": [indices]]},
        the layout of torch.optim's (the tensors themselves, not copies, as there)."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": [index[id(p)] for p in group["params"]]})
        return {"state": {index[id(p)]: s for p, s in self.state.items()}, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict of this class or of torch.optim.AdamW (tensors cast as torch.optim casts
        them: "step" to float32, the moments to the parameter's dtype, both to its device)."""
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved, strict=True)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group")
        by_index = {i: p for s, g in zip(saved, self.param_groups, strict=True)
                    for i, p in zip(s["params"], g["params"], strict=True)}
        state: defaultdict[torch.Tensor, dict[str, torch.Tensor]] = defaultdict(dict)
        for i, values in state_dict["state"].items():
            p = by_index[i]
            state[p] = {k: torch.as_tensor(v).to(dtype=torch.float32 if k == "step" else p.dtype, device=p.device)
                        for k, v in values.items()}
        self.state = state
        self.param_groups = [{**{k: v for k, v in s.items() if k != "params"}, "params": g["params"]}
                             for s, g in zip(saved, self.param_groups, strict=True)]
