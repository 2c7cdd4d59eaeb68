"""``prefs.core.default_float_dtype = float32``."""

import numpy as np

import models
from harness import assert_same, assert_same_spikes, cached_run



def test_float32():
    ref = cached_run(models.float32_lif, "cpp_standalone", float32=True)
    got = cached_run(models.float32_lif, "brisk", float32=True)
    for key in ("v", "w", "v_final", "w_final"):
        assert ref[key].dtype == np.float32, key
        assert got[key].dtype == np.float32, key
    assert ref["i"].size > 0
    # Same operations in float32: identical spikes, values to float32 rounding
    assert_same_spikes(ref["i"], ref["t"], got["i"], got["t"])
    assert_same(ref, got, ["v", "w", "v_final", "w_final"], rtol=1e-5)
