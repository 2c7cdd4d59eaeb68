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


def test_timings_of_every_run_are_kept():
    """Issue 20: after re-runs (brian2modelfitting's rounds) the build's stages and each
    run's timings are still there, not only the last run's."""
    _ref, got = both(models.run_args, build_on_run=False)
    timings = got.meta["brisk_timings"]
    assert len(timings["runs"]) == 3, timings
    assert {"export", "compile", "generate", "prepare"} <= set(timings["build"]), timings["build"]
    assert all("run" in r and "write" in r for r in timings["runs"]), timings["runs"]
