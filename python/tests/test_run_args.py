"""``device.run(run_args=...)``: new values for variables and TimedArrays without a new build."""

import numpy as np

import models
from harness import assert_same, both


def test_run_args_scalar_array_and_timed_array():
    ref, got = both(models.run_args, build_on_run=False)
    assert_same(ref, got, rtol=1e-12)
    # the run_args took effect: doubling tau_x doubles the drive
    np.testing.assert_allclose(ref["v_1"], 2 * ref["v_0"], rtol=1e-12)
    np.testing.assert_allclose(ref["tau_x_1"], 2.0)
    assert not np.allclose(ref["v_2"], ref["v_0"])
