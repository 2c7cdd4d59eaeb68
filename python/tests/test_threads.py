"""The C++ backend on several threads (issue 22): every array is the same, bit for bit,
for 1, 2 and 3 threads.

The split kernels (``plan::Split``) run as chunks of at least ``BRISK_SPLIT_MIN``
elements; the tests set it to 64 so that these small models do run as several
chunks (with 2 and 3 threads the chunkings differ)."""

import numpy as np
import pytest

import models
import models_threads
from harness import run_model

MODELS = [models_threads.noisy_network, models_threads.summed_network, models_threads.hh_network,
          models.stochastic, models.integrators,
          models.refractoriness]


def _run(model, threads, **kwds):
    env = {"BRISK_THREADS": str(threads), "BRISK_SPLIT_MIN": "64",
           "BRISK_DEFAULT_SEED": "20261205"}
    return run_model(model, "brisk", backend="cpu", env=env, **kwds)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_array_is_the_same_for_any_thread_count(model):
    one = _run(model, 1)
    assert one.arrays, "the model returned no arrays"
    for threads in (2, 3):
        other = _run(model, threads)
        assert sorted(other.arrays) == sorted(one.arrays)
        for name, value in one.arrays.items():
            got = other.arrays[name]
            assert got.dtype == value.dtype and got.shape == value.shape, name
            assert got.tobytes() == value.tobytes(), (
                f"{model.__name__}: '{name}' differs with {threads} threads"
            )


def test_threads_is_a_device_option():
    """``set_device('brisk', threads=2)``: the binary runs on 2 threads (it reports
    them), whatever ``BRISK_THREADS`` says; a bad value is refused."""
    res = run_model(models.refractoriness, "brisk", backend="cpu", live=False,
                    device_options={"threads": 2}, env={"BRISK_THREADS": "1"})
    assert res.meta["brisk_timings"].get("threads") == 2, res.meta["brisk_timings"]
    bad = run_model(models.refractoriness, "brisk", backend="cpu", live=False,
                    device_options={"threads": 0}, expect_error=True)
    assert "threads must be a whole number from 1" in bad.error["message"], bad.error
