"""The C++ backend on several threads (issue 22): every array is the same, bit for bit,
for 1, 2 and 3 threads.

The split kernels (``plan::Split``) run as chunks of at least ``BRISK_SPLIT_MIN``
elements; the tests set it to 64 so that these small models do run as several
chunks (with 2 and 3 threads the chunkings differ)."""

import json
import os
import subprocess

import numpy as np
import pytest

import models
import models_threads
from harness import run_model

MODELS = [models_threads.noisy_network, models_threads.summed_network, models_threads.hh_network,
          models_threads.fused_group, models.stochastic, models.integrators,
          models.refractoriness]


def _run(model, threads, fusion=True, **kwds):
    env = {"BRISK_THREADS": str(threads), "BRISK_SPLIT_MIN": "64",
           "BRISK_DEFAULT_SEED": "20261205"}
    if not fusion:
        env["BRISK_FUSION"] = "0"
    return run_model(model, "brisk", backend="cpu", env=env, **kwds)


def _assert_same_arrays(one, other, what):
    assert one.arrays, "the model returned no arrays"
    assert sorted(other.arrays) == sorted(one.arrays)
    for name, value in one.arrays.items():
        got = other.arrays[name]
        assert got.dtype == value.dtype and got.shape == value.shape, name
        assert got.tobytes() == value.tobytes(), f"'{name}' differs {what}"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_array_is_the_same_for_any_thread_count(model):
    one = _run(model, 1)
    for threads in (2, 3):
        _assert_same_arrays(one, _run(model, threads), f"in {model.__name__} with {threads} threads")


@pytest.mark.parametrize("model", [models_threads.fused_group, models_threads.noisy_network,
                                   models.refractoriness], ids=lambda m: m.__name__)
def test_fused_kernels_give_the_arrays_of_the_parts_run_one_by_one(model):
    """A group's state update, threshold and reset fused into one C++ kernel
    (``plan::fusion``; in fused_group every part draws random numbers) give every
    array of the parts launched one by one (``BRISK_FUSION=0``), bit for bit, on
    one thread and as chunks on three; the plan does fuse them."""
    from brian2brisk.binary import find_brisk_binary

    unfused = _run(model, 1, fusion=False)
    fused = _run(model, 1)
    plan = json.loads(subprocess.run([find_brisk_binary(), "inspect", os.path.join(fused.directory, "export")],
                                     capture_output=True, text=True, check=True).stdout)
    assert plan["fused"], "the plan fuses no state update and threshold"
    if model is models_threads.fused_group:
        assert [f["reset"] for f in plan["fused"]] == ["fg_spike_resetter_codeobject"], plan["fused"]
    _assert_same_arrays(unfused, fused, f"in {model.__name__} fused")
    _assert_same_arrays(unfused, _run(model, 3), f"in {model.__name__} fused on 3 threads")


def test_threads_is_a_device_option():
    """``set_device('brisk', threads=2)``: the binary runs on 2 threads (it reports
    them), whatever ``BRISK_THREADS`` says; a bad value is refused."""
    res = run_model(models.refractoriness, "brisk", backend="cpu", live=False,
                    device_options={"threads": 2}, env={"BRISK_THREADS": "1"})
    assert res.meta["brisk_timings"].get("threads") == 2, res.meta["brisk_timings"]
    bad = run_model(models.refractoriness, "brisk", backend="cpu", live=False,
                    device_options={"threads": 0}, expect_error=True)
    assert "threads must be a whole number from 1" in bad.error["message"], bad.error
