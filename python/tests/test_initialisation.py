"""Every way of setting initial values: Brisk against cpp_standalone."""

import numpy as np
import pytest

import models
from harness import assert_same, both


@pytest.mark.parametrize("variable", sorted(models.INIT_CASES))
def test_initialisation(variable):
    """One way of setting values (see models.INIT_CASES), read back after a run."""
    ref, got = both(models.initialisation)
    assert_same(ref, got, [variable], rtol=0, context=models.INIT_CASES[variable])


def test_initialisation_expected_values():
    """The reference itself has the values Brian's semantics give."""
    ref, got = both(models.initialisation)
    i = np.arange(20)
    for res in (ref, got):
        np.testing.assert_array_equal(res["const"], 3.5)
        np.testing.assert_array_equal(res["arr"], i**2 * 0.5)
        np.testing.assert_array_equal(res["idx"], np.where(i == 3, 7.0, 0.0))
        slc = np.zeros(20)
        slc[0:5] = 2.5
        slc[10:20:3] = [1, 2, 3, 4]
        np.testing.assert_array_equal(res["slc"], slc)
        np.testing.assert_allclose(res["expr"], i * 1e-3)
        np.testing.assert_allclose(res["cond"], np.where(i > 5, i * 2 + 0.25, 0.0))
        np.testing.assert_array_equal(res["idxarr"], np.where((i == 1) | (i == 2), 10.0 + i, 0.0))
        np.testing.assert_array_equal(res["idxval"][[4, 7, 9]], [-1, -2, -3])
        np.testing.assert_array_equal(res["single_expr"], np.where(i == 5, 15.0, 0.0))
        np.testing.assert_array_equal(res["k"], i % 3)
        np.testing.assert_array_equal(res["flag"], i % 2 == 0)
