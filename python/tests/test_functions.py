"""Brian's default functions and operators: Brisk against cpp_standalone."""

import numpy as np
import pytest

import models
from harness import assert_same, both



@pytest.mark.parametrize("name", sorted(models.FUNCTION_EXPRESSIONS))
def test_default_function(name):
    ref, got = both(models.functions)
    assert_same(ref, got, [name], rtol=1e-12, context=models.FUNCTION_EXPRESSIONS[name])


def test_functions_reference_values():
    """A few values checked against numpy, on both devices."""
    ref, got = both(models.functions)
    x = -0.95 + 1.9 * np.arange(50) / 49
    for res in (ref, got):
        np.testing.assert_allclose(res["f_exp"], np.exp(x), rtol=1e-12)
        np.testing.assert_array_equal(res["f_int"], np.trunc(3 * x))
        np.testing.assert_array_equal(res["f_floor"], np.floor(3 * x))
        np.testing.assert_allclose(res["f_fmod"], np.mod(7 * x, 2), rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(res["f_intdiv"], (np.arange(50) - 25) // 4)
        np.testing.assert_array_equal(res["f_intmod"], (np.arange(50) - 25) % 4)
        np.testing.assert_array_equal(res["f_inf"], np.inf)
        np.testing.assert_array_equal(res["f_neginf"], -np.inf)
        np.testing.assert_allclose(res["f_exprel0"], 1.0)
        np.testing.assert_allclose(res["f_timestep"], np.floor(np.abs(x) * 1e-3 / 1e-4 + 1e-4))


def test_functions_in_string_initialisers():
    ref, got = both(models.functions)
    assert_same(ref, got, ["init_exp", "init_arcsin", "init_timestep"], rtol=1e-12)


def test_functions_in_state_update_and_threshold():
    ref, got = both(models.functions)
    assert got["steps"].max() > 0
    assert_same(ref, got, ["z", "y", "steps"])
