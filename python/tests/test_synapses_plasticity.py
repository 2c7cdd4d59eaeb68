"""Synapses with plasticity and summed variables (deterministic, exact comparison).

`models_synapses.synapses_plasticity`: Song-Abbott-Miller STDP driven by periodic
inputs (no random numbers), a StateMonitor on synapses, and summed
variables (``(summed)`` with a clock-driven synaptic variable) onto a whole
group and onto two non-overlapping subgroups.
"""

import numpy as np

import models_synapses
from harness import assert_same, assert_same_monitor_spikes, both


def _plasticity():
    return both(models_synapses.synapses_plasticity)


def test_stdp_weights():
    """``w``, ``Apre``, ``Apost`` and ``lastupdate`` after 1 s of STDP (event-driven
    traces, ``clip`` in on_pre and on_post)."""
    ref, got = _plasticity()
    gmax = models_synapses.STDP_GMAX
    w = ref["stdp_w"]
    assert w.size == models_synapses.STDP_N_INPUT * models_synapses.STDP_N_POST
    assert np.all(ref["stdp_out_count"] > 10), ref["stdp_out_count"]
    assert w.min() >= 0 and w.max() <= gmax
    assert np.any(w == 0) and np.any(w == gmax), "clip never binds"
    assert_same_monitor_spikes(ref, got, "stdp_in")
    assert_same_monitor_spikes(ref, got, "stdp_out")
    assert_same(ref, got, ["stdp_i", "stdp_j", "stdp_N_incoming", "stdp_N_outgoing", "stdp_N"])
    assert_same(ref, got, ["stdp_w", "stdp_Apre", "stdp_Apost", "stdp_lastupdate", "stdp_out_ge"])


def test_statemonitor_on_synapses():
    """``StateMonitor(S, 'w', record=[0, 2, 5])``."""
    ref, got = _plasticity()
    assert ref["stdp_w_mon"].shape == (3, 10000)
    # the weights change during the run
    assert np.all(ref["stdp_w_mon"].max(axis=1) > ref["stdp_w_mon"].min(axis=1))
    assert_same(ref, got, ["stdp_w_mon", "stdp_w_mon_t"])


def test_summed_variables():
    """``Isyn_post = w*s : 1 (summed)`` with ``ds/dt = -s/(5*ms) : 1 (clock-driven)``
    onto a whole group, and a second summed variable ``Isyn2`` onto the subgroups
    ``sum_tgt[0:3]`` and ``sum_tgt[5:8]``; neurons 3 and 4 keep ``Isyn2 = 0.7``."""
    ref, got = _plasticity()
    isyn2 = ref["sum_tgt_Isyn2"]
    np.testing.assert_array_equal(isyn2[3:5], 0.7)
    assert np.all(isyn2[[0, 1, 2, 5, 6, 7], -1] != 0.7)
    # Isyn is the sum of w*s over the synapses onto each neuron; Brian computes it
    # (slot 'groups') before the synaptic state update of the same step, so at the end
    # of the run it is one decay step (exp(dt/5 ms)) behind s
    post = ref["summed_all_post_abs"]
    s = ref["summed_all_s_final"] * np.exp(0.1 / 5)
    assert np.all(s > 0) and ref["sum_tgt_num"] > 100
    assert_same(ref, got, ["summed_all_i", "summed_all_j", "summed_all_N",
                           "summed_sub_a_pre_abs", "summed_sub_a_post_abs",
                           "summed_sub_b_pre_abs", "summed_sub_b_post_abs",
                           "summed_sub_b_N_incoming", "summed_sub_b_N_outgoing"])
    np.testing.assert_allclose(
        ref["sum_tgt_Isyn_final"], np.bincount(post, ref["summed_all_w"] * s, minlength=8),
        rtol=1e-9)
    assert_same(ref, got, ["sum_tgt_Isyn", "sum_tgt_Isyn2", "sum_tgt_v", "sum_tgt_Isyn_final",
                           "sum_tgt_Isyn2_final", "sum_tgt_v_final", "summed_all_s",
                           "summed_all_s_final", "summed_all_w",
                           "summed_sub_b_s2_final"])
    assert_same_monitor_spikes(ref, got, "sum_tgt")
