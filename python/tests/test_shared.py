"""Shared variables, constants and external constants."""

import numpy as np

import models
from harness import assert_same, assert_same_spikes, both


def test_shared_and_constant_variables():
    """``(shared)``, ``(constant)``, ``(shared, constant)`` variables and external constants."""
    ref, got = both(models.shared_constants)
    assert ref["t"].size > 0
    np.testing.assert_allclose(ref["c"], [0.6 * 2 + 1.0])
    assert_same_spikes(ref["i"], ref["t"], got["i"], got["t"])
    assert_same(ref, got)
