"""superposition: the trained toy models against the paper's phase picture and a brute-force optimum.

Independent references:
- Elhage et al. 2022 (Toy Models of Superposition), Fig. "phase diagram" for 2 features in 1 dimension:
  dense features → only the more important one is kept; sparse features → both, antipodally.
- For n = 2, m = 1 the whole model is four numbers, W = (a, c) and two biases, so its global optimum
  can be found by brute force: Nelder–Mead from several starts on a large fixed sample (scipy, no
  torch, no training loop). The batched trainer must land on the same weights and loss.
"""

import numpy as np
import pytest
from scipy.optimize import minimize

from emergelab.theory import superposition as sp


def _brute_force_optimum(density: float, r: float, n: int = 60_000, seed: int = 1):
    """The global optimum of the n = 2, m = 1 model, W = (a, c) and biases (b1, b2), found by
    Nelder–Mead from several starts on a large fixed sample: (loss, W)."""
    rng = np.random.default_rng(seed)
    x = np.where(rng.random((n, 2)) < density, rng.random((n, 2)), 0.0)

    def loss(p):
        a, c, b1, b2 = p
        out1 = np.maximum(a * a * x[:, 0] + a * c * x[:, 1] + b1, 0.0)
        out2 = np.maximum(c * c * x[:, 1] + a * c * x[:, 0] + b2, 0.0)
        return np.mean((x[:, 0] - out1) ** 2) + r * np.mean((x[:, 1] - out2) ** 2)

    starts = ([1.0, 0.0, 0.0, 0.3], [0.0, 1.0, 0.3, 0.0], [1.0, -1.0, -0.3, -0.3], [1.0, -0.6, -0.2, -0.1],
              [0.6, -1.0, -0.1, -0.2], [0.7, 0.7, 0.0, 0.0])
    best = min((minimize(loss, p0, method="Nelder-Mead",
                         options={"xatol": 1e-5, "fatol": 1e-8, "maxiter": 6000}) for p0 in starts),
               key=lambda res: res.fun)
    return float(best.fun), np.array([[best.x[0], best.x[1]]])


# (density, relative importance of the extra feature): dense-and-less-important, dense-and-more-important,
# sparse-and-equal, sparse-and-more-important.
POINTS = [(1.0, 0.3), (1.0, 3.0), (0.03, 1.0), (0.05, 3.0)]


@pytest.fixture(scope="module")
def trained():
    dens = np.array([p[0] for p in POINTS])
    imp = sp.importances(2, np.array([p[1] for p in POINTS]), decay=1.0)
    return sp.train_grid(dens, imp, m_dims=1, restarts=8, steps=1500, batch=256, seed=0)


def test_paper_phases_for_two_features_in_one_dimension(trained):
    w, _, _ = trained
    phases = [sp.PHASES[sp.feature_classes(w[k])[2][-1]] for k in range(len(POINTS))]
    assert phases == ["dropped", "alone", "superposed", "superposed"]
    # the superposed solutions are antipodal, as in the paper: W1 and W2 point in opposite directions
    for k in (2, 3):
        assert np.sign(w[k][0, 0]) == -np.sign(w[k][0, 1])


def test_trained_model_is_the_brute_force_optimum(trained):
    w, _, loss = trained
    for k, (density, r) in enumerate(POINTS):
        best_loss, best_w = _brute_force_optimum(density, r)
        assert loss[k] == pytest.approx(best_loss, rel=0.1, abs=2e-3), (density, r)
        # the same weights up to the model's sign symmetry (W -> -W leaves WᵀW unchanged)
        assert np.abs(np.abs(w[k]) - np.abs(best_w)).max() < 0.15, (density, r, w[k], best_w)
        assert list(sp.feature_classes(w[k])[2]) == list(sp.feature_classes(best_w)[2])


def test_feature_classes_on_hand_made_weights():
    norms, interference, cls = sp.feature_classes(np.array([[1.0, -1.0, 0.1]]))
    assert norms == pytest.approx([1.0, 1.0, 0.1])
    assert interference[0] == pytest.approx(1.0 + 0.01)  # (Ŵ1·W2)² + (Ŵ1·W3)²
    assert [sp.PHASES[c] for c in cls] == ["superposed", "superposed", "dropped"]
    _, _, cls = sp.feature_classes(np.eye(2, 3))
    assert [sp.PHASES[c] for c in cls] == ["alone", "alone", "dropped"]


def test_system_reports_a_sharp_boundary_and_is_seeded():
    a = sp.run(n_density=4, n_importance=3, steps=600, restarts=2)
    b = sp.run(n_density=4, n_importance=3, steps=600, restarts=2)
    assert a.table_rows == b.table_rows
    assert {row[2] for row in a.table_rows} <= set(sp.PHASES)
    with pytest.raises(ValueError, match="m_dims"):
        sp.run(n_features=2, m_dims=2)
