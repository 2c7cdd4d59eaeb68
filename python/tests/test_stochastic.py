"""Random numbers: ``xi`` under euler/milstein/heun, ``rand()``, ``randn()``, ``seed()``.

Brisk draws from its own Philox generator, so its streams differ from
Brian's: results are compared statistically (means and variances within 5
standard errors, with both devices seeded, so the outcome is reproducible),
and against the known distributions where there is one.
"""

import numpy as np

import models
from harness import assert_stats_agree, assert_stats_match, both


OU_VAR = models.OU_SIGMA**2
# the stationary variance of Euler-Maruyama's discretised OU process
OU_VAR_EULER = OU_VAR / (1 - 0.1e-3 / (2 * float(models.OU_TAU)))


def _check_group(name, theory_var=None):
    ref, got = both(models.stochastic)
    samples_ref = ref[f"{name}_samples"]
    samples_got = got[f"{name}_samples"]
    assert samples_got.shape == samples_ref.shape
    assert np.all(np.isfinite(samples_got))
    # independent noise per neuron: no two neurons share a trace
    trace = got[f"{name}_trace"]
    assert not np.allclose(trace[0], trace[1])
    assert_stats_agree(samples_ref, samples_got, context=name)
    if theory_var is not None:
        assert_stats_match(samples_ref, 0.0, theory_var, context=f"{name} (cpp_standalone)")
        assert_stats_match(samples_got, 0.0, theory_var, context=f"{name} (Brisk)")


def test_integrator_euler_xi():
    _check_group("ou_euler", OU_VAR_EULER)


def test_integrator_milstein_xi():
    _check_group("ou_milstein", OU_VAR_EULER)
    _check_group("gbm_milstein")


def test_integrator_heun_xi():
    _check_group("ou_heun")
    _check_group("gbm_heun")


def test_rand_randn_statistics():
    ref, got = both(models.stochastic)
    u, z, c = got["uniform"], got["normal"], got["conditional"]
    assert u.min() >= 0 and u.max() < 1
    assert np.unique(u).size == u.size, "rand() repeats values"
    assert_stats_match(u, 0.5, 1 / 12, context="rand()")
    assert_stats_match(z, 0.0, 1.0, context="randn()")
    assert_stats_agree(ref["uniform"], u, context="rand()")
    assert_stats_agree(ref["normal"], z, context="randn()")
    # G.c['i >= 500'] = '2*rand()': the others keep -1
    np.testing.assert_array_equal(c[:500], -1.0)
    assert c[500:].min() >= 0 and c[500:].max() < 2
    assert_stats_match(c[500:], 1.0, 4 / 12, context="conditional 2*rand()")


def test_rand_in_threshold():
    """``threshold='rand() < rate*dt'``: Poisson spike counts (100 neurons, 50 Hz, 100 ms)."""
    ref, got = both(models.stochastic)
    n_ref = int(ref["poisson_count"].sum())
    n_got = int(got["poisson_count"].sum())
    expected = 100 * 1000 * 50 * 0.1e-3  # neurons * steps * p(spike per step) = 500
    assert abs(n_got - expected) <= 5 * np.sqrt(expected), (n_got, expected)
    assert abs(n_got - n_ref) <= 5 * np.sqrt(n_ref + n_got), (n_got, n_ref)
    assert got["poisson_i"].size == n_got
    np.testing.assert_array_equal(np.bincount(got["poisson_i"], minlength=100), got["poisson_count"])
