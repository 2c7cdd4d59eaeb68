"""Subgroups: monitors on subgroups and variables set through them."""

import numpy as np

import models
from harness import assert_same, assert_same_spikes, both


def test_subgroup_monitors():
    """SpikeMonitor, StateMonitor and PopulationRateMonitor on subgroups."""
    ref, got = both(models.subgroups)
    assert ref["B_num"] > 0 and ref["A_rate"].max() > 0
    # subgroup monitors record indices relative to the subgroup
    assert got["B_i"].max() < 15
    assert_same_spikes(ref["B_i"], ref["B_t"], got["B_i"], got["B_t"], context="SpikeMonitor(B)")
    assert_same(ref, got, ["B_count", "B_num", "C_v", "C_I", "C_t", "A_rate", "A_rate_t", "C_rate"])


def test_subgroup_set_variables():
    """Values set through subgroups (constants, strings, conditions, indices, slices)."""
    ref, got = both(models.subgroups)
    np.testing.assert_allclose(ref["I_final"][:10], 1.5)
    np.testing.assert_allclose(ref["I_final"][10:25], 1.1 + 0.1 * np.arange(15))
    assert_same_spikes(ref["all_i"], ref["all_t"], got["all_i"], got["all_t"], context="whole group")
    assert_same(ref, got, ["I_final", "v_final", "B_v_final", "all_count", "all_num"])
