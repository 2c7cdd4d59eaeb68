"""Every integrator: Brisk against cpp_standalone.

Deterministic methods (euler, exact/linear, exponential_euler, rk2, rk4,
heun) must give the same traces to rtol 1e-9; the stochastic ones (euler,
milstein and heun with ``xi``) are in test_stochastic.py.
"""

import numpy as np
import pytest

import models
from harness import assert_same, both



@pytest.mark.parametrize("method", models.DETERMINISTIC_METHODS)
def test_integrator_deterministic(method):
    ref, got = both(models.integrators)
    prefixes = [f"{kind}_{method}_" for kind in ("linear", "cond", "fhn")]
    keys = [k for k in ref.keys() if any(k.startswith(p) for p in prefixes)]
    assert keys, f"no results for method {method}"
    # the model is not trivial: every trace moves
    for key in keys:
        if not key.endswith("_t"):
            assert np.ptp(ref[key]) > 0, key
    assert_same(ref, got, keys, rtol=1e-9, context=f"method '{method}'")


def test_exact_matches_analytic_solution():
    """``exact`` (a.k.a. ``linear``) reproduces the matrix-exponential solution."""
    ref, got = both(models.integrators)
    tau, tau_w = 10e-3, 30e-3
    # v, w after 50 ms for neuron 0 from the linear system, by matrix exponential
    A = np.array([[-1 / tau, 0.5 / tau], [1 / tau_w, -1 / tau_w]])
    b = np.array([0.2 / tau, 0.0])
    x0 = np.array([-0.5, 0.0])
    fixed = -np.linalg.solve(A, b)
    vals, vecs = np.linalg.eig(A)
    expA = (vecs @ np.diag(np.exp(vals * 0.05)) @ np.linalg.inv(vecs)).real
    expected = fixed + expA @ (x0 - fixed)
    for res in (ref, got):
        np.testing.assert_allclose(res["linear_exact_v_final"][0], expected[0], rtol=1e-6)
        np.testing.assert_allclose(res["linear_exact_w_final"][0], expected[1], rtol=1e-6)
