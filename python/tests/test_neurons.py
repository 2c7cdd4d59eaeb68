"""NeuronGroup features: threshold/reset/refractoriness, subgroups, shared
variables and constants, every way of setting initial values.

Deterministic: Brisk must match cpp_standalone exactly for spikes and to
rtol 1e-9 for values.
"""

import numpy as np
import pytest

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


@pytest.mark.xdist_group("refractoriness")
def test_refractory_fixed_time_unless_refractory():
    """``refractory=5*ms`` and ``(unless refractory)``: v clamped, no spike within 5 ms."""
    got = _check_spiking_group("fixed")
    for i in range(10):
        t = got["fixed_t"][got["fixed_i"] == i]
        assert np.all(np.diff(t) >= 5e-3 - 1e-12)


@pytest.mark.xdist_group("refractoriness")
def test_refractory_per_neuron_time():
    """``refractory='ref'`` with a per-neuron ``ref : second (constant)``."""
    _check_spiking_group("pervar")


@pytest.mark.xdist_group("refractoriness")
def test_refractory_boolean_condition():
    """``refractory='v > 0.8'``: refractory while the condition holds (no reset)."""
    got = _check_spiking_group("cond")
    # one spike per upward crossing of the 30 Hz drive: at most 3-4 in 100 ms
    assert got["cond_count"].max() <= 4


@pytest.mark.xdist_group("refractoriness")
def test_threshold_reset_adaptive():
    """Adaptive threshold ``v > 1 + w`` and a two-statement reset."""
    ref, got = both(models.refractoriness)
    _check_spiking_group("adapt")
    assert_same(ref, got, ["adapt_w"], context="adaptation variable")


@pytest.mark.xdist_group("subgroups")
def test_subgroup_monitors():
    """SpikeMonitor, StateMonitor and PopulationRateMonitor on subgroups."""
    ref, got = both(models.subgroups)
    assert ref["B_num"] > 0 and ref["A_rate"].max() > 0
    # subgroup monitors record indices relative to the subgroup
    assert got["B_i"].max() < 15
    assert_same_spikes(ref["B_i"], ref["B_t"], got["B_i"], got["B_t"], context="SpikeMonitor(B)")
    assert_same(ref, got, ["B_count", "B_num", "C_v", "C_I", "C_t", "A_rate", "A_rate_t", "C_rate"])


@pytest.mark.xdist_group("subgroups")
def test_subgroup_set_variables():
    """Values set through subgroups (constants, strings, conditions, indices, slices)."""
    ref, got = both(models.subgroups)
    np.testing.assert_allclose(ref["I_final"][:10], 1.5)
    np.testing.assert_allclose(ref["I_final"][10:25], 1.1 + 0.1 * np.arange(15))
    assert_same_spikes(ref["all_i"], ref["all_t"], got["all_i"], got["all_t"], context="whole group")
    assert_same(ref, got, ["I_final", "v_final", "B_v_final", "all_count", "all_num"])


@pytest.mark.xdist_group("shared")
def test_shared_and_constant_variables():
    """``(shared)``, ``(constant)``, ``(shared, constant)`` variables and external constants."""
    ref, got = both(models.shared_constants)
    assert ref["t"].size > 0
    np.testing.assert_allclose(ref["c"], [0.6 * 2 + 1.0])
    assert got["x_final"].shape == (1,) and got["c"].shape == (1,)
    assert_same_spikes(ref["i"], ref["t"], got["i"], got["t"])
    assert_same(ref, got)


@pytest.mark.xdist_group("initialisation")
@pytest.mark.parametrize("variable", sorted(models.INIT_CASES))
def test_initialisation(variable):
    """One way of setting values (see models.INIT_CASES), read back after a run."""
    ref, got = both(models.initialisation)
    assert_same(ref, got, [variable], rtol=0, context=models.INIT_CASES[variable])


@pytest.mark.xdist_group("initialisation")
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
