"""Schaeffer et al.'s compounding toy, from the exact functions in `theory.per_token`."""

from __future__ import annotations

import numpy as np

from emergelab.theory.per_token import per_token_curves


def compounding_toy(n_params: np.ndarray, c: float = 1e8, alpha: float = -0.5, length: int = 5) -> dict[str, np.ndarray]:
    """Schaeffer et al. 2023, §2: per-token CE L_CE = (N/c)^α, p = exp(−L_CE),
    accuracy (exact match over L tokens) = p^L, token edit distance ≈ L·(1 − p)."""
    pc = per_token_curves(n_params, c, alpha, length)
    return {"cross_entropy": pc.cross_entropy, "p_token": pc.token_probability, "accuracy": pc.accuracy,
            "edit_distance": pc.edit_distance}
