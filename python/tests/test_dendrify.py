"""A Dendrify model (reduced compartments, dSpikes as custom events) against
cpp_standalone: spikes exactly, traces within 1e-9."""

import numpy as np

import models_dendrify
from harness import assert_same, assert_same_spikes, both


def test_dendritic_spikes():
    ref, got = both(models_dendrify.dendritic_spikes, build_on_run=False)
    assert ref["spikes_i"].size >= 3
    # dSpikes: the distal dendrite depolarises far above the dSpike threshold
    assert ref["V_dist"].max() > -0.010
    assert_same_spikes(ref["spikes_i"], ref["spikes_t"], got["spikes_i"], got["spikes_t"],
                       context="SpikeMonitor(neuron)")
    assert_same(ref, got, ["t", "V_soma", "V_prox", "V_dist"])
