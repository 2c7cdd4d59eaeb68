"""TimedArray (1-D and 2-D) read from state updates, resets, subexpressions and
run_regularly on a second clock, against cpp_standalone."""

import numpy as np

import models
from harness import assert_same, assert_same_spikes, cached_run


def test_timed_arrays():
    ref = cached_run(models.timed_arrays, "cpp_standalone")
    got = cached_run(models.timed_arrays, "brisk")
    assert ref["i"].size > 0
    assert_same_spikes(ref["i"], ref["t"], got["i"], got["t"])
    # x (2-D, column out of range gives NaN) and I (run_regularly) are read exactly
    np.testing.assert_array_equal(got["x"], ref["x"])
    np.testing.assert_array_equal(got["I"], ref["I"])
    assert np.isnan(ref["x"][4]).all()
    assert_same(ref, got, ["v"], rtol=1e-9)
