"""Threshold, reset and refractoriness: Brisk against cpp_standalone (exact spikes)."""

import numpy as np

import models
from harness import assert_same, assert_same_spikes, both


def _group_keys(res, prefix):
    return [k for k in res.keys() if k.startswith(prefix + "_")]


def _check_spiking_group(name):
    ref, got = both(models.refractoriness)
    assert ref[f"{name}_num"] > 0, f"group {name} does not spike"
    assert_same_spikes(ref[f"{name}_i"], ref[f"{name}_t"], got[f"{name}_i"], got[f"{name}_t"],
                       context=f"group '{name}'")
    assert_same(ref, got, _group_keys(ref, name), context=f"group '{name}'")
    return got


def test_refractory_fixed_time_unless_refractory():
    """``refractory=5*ms`` and ``(unless refractory)``: v clamped, no spike within 5 ms."""
    got = _check_spiking_group("fixed")
    for i in range(10):
        t = got["fixed_t"][got["fixed_i"] == i]
        assert np.all(np.diff(t) >= 5e-3 - 1e-12)


def test_refractory_per_neuron_time():
    """``refractory='ref'`` with a per-neuron ``ref : second (constant)``."""
    _check_spiking_group("pervar")


def test_refractory_boolean_condition():
    """``refractory='v > 0.8'``: refractory while the condition holds (no reset)."""
    got = _check_spiking_group("cond")
    # one spike per upward crossing of the 30 Hz drive: at most 3-4 in 100 ms
    assert got["cond_count"].max() <= 4


def test_threshold_reset_adaptive():
    """Adaptive threshold ``v > 1 + w`` and a two-statement reset."""
    ref, got = both(models.refractoriness)
    _check_spiking_group("adapt")
    assert_same(ref, got, ["adapt_w"], context="adaptation variable")
