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


def test_shared_writes_from_kernels_spanning_many_blocks():
    """A ``run_regularly`` writing shared variables that all 2000 neurons read (on
    CUDA the kernel spans many blocks; the last block stores the shared values)."""
    ref, got = both(models.shared_writes_grid)
    assert ref["t"].size > 100
    # one shared value for all neurons, advanced once per step
    np.testing.assert_allclose(ref["phase"][0, -1], 200 * 2 * np.pi * 40 * 1e-4, rtol=1e-9)
    assert_same_spikes(ref["i"], ref["t"], got["i"], got["t"])
    assert_same(ref, got)
