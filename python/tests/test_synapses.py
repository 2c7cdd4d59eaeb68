"""Synapses (deterministic): spike propagation, delays, pathways, connection patterns,
multisynapses, subgroups and synaptic state.

The models `models_synapses.synapses_network` (two runs, ``build_on_run=False``) and
`models_synapses.synapses_connect` use no random numbers: spike trains, connectivity
(``i``, ``j``, ``N_incoming``, ``N_outgoing``, ...) and synaptic variables must
match cpp_standalone exactly (integers exactly, floats within rtol 1e-9). Each
test also checks the reference against values computed here with numpy, so a
wrong expectation about Brian shows up as a reference failure.
"""

import numpy as np

import models_synapses
from harness import assert_same, assert_same_monitor_spikes, both, run_model

SYN_KEYS = ("i", "j", "pre_abs", "post_abs", "N_incoming", "N_outgoing", "N")


def _network():
    return both(models_synapses.synapses_network, build_on_run=False)


def _connect():
    return both(models_synapses.synapses_connect)


def _same_synapses(ref, got, name):
    assert_same(ref, got, [f"{name}_{key}" for key in SYN_KEYS], context=f"Synapses {name}")


def _check_counts(res, name, n_pre_offset=0, n_post_offset=0):
    """N_incoming/N_outgoing are the in/out degrees of each synapse's post/pre neuron."""
    pre, post = res[f"{name}_pre_abs"], res[f"{name}_post_abs"]
    np.testing.assert_array_equal(res[f"{name}_N_incoming"], np.bincount(post)[post])
    np.testing.assert_array_equal(res[f"{name}_N_outgoing"], np.bincount(pre)[pre])
    assert int(res[f"{name}_N"]) == pre.size
    np.testing.assert_array_equal(pre - n_pre_offset, res[f"{name}_i"])
    np.testing.assert_array_equal(post - n_post_offset, res[f"{name}_j"])


# -- synapses_network ------------------------------------------------------------------------


def test_cuba_deterministic_connectivity_and_spikes():
    """CUBA (``ge += we``, ``gi += wi``) with ``connect(condition=...)`` from subgroups."""
    ref, got = _network()
    n_e, n_i = models_synapses.SYN_CUBA_SIZES
    N = n_e + n_i
    pairs_e = [(i, j) for i in range(n_e) for j in range(N) if j % 25 == (i * 7 + 3) % 25]
    pairs_i = [(i, j) for i in range(n_i) for j in range(N) if j % 10 == (i * 3 + 1) % 10]
    for name, pairs, offset in (("cuba_exc", pairs_e, 0), ("cuba_inh", pairs_i, n_e)):
        expected = np.array(pairs)
        np.testing.assert_array_equal(np.c_[ref[f"{name}_i"], ref[f"{name}_j"]], expected)
        _check_counts(ref, name, n_pre_offset=offset)
        _check_counts(got, name, n_pre_offset=offset)
        _same_synapses(ref, got, name)
    assert ref["cuba_num"] > 50
    assert_same_monitor_spikes(ref, got, "cuba")
    assert_same(ref, got, ["cuba_v_final"])


def test_heterogeneous_delays_changed_between_runs():
    """A chain with ``delay = '(i + 1)*0.3*ms'`` (``'(8 - j)*0.2*ms'`` in the second run)
    and ``delay = 'j*0.1*ms'``; ``connect(j='i + 1', skip_if_invalid=True)``."""
    ref, got = _network()
    np.testing.assert_array_equal(ref["ff_i"], np.arange(7))
    np.testing.assert_array_equal(ref["ff_j"], np.arange(1, 8))
    np.testing.assert_allclose(ref["ff_delay"], (8 - np.arange(1, 8)) * 0.2e-3, rtol=1e-12)
    np.testing.assert_allclose(ref["skip_delay"], np.arange(2, 8) * 0.1e-3, rtol=1e-12)
    # the spikes travel down the whole chain, in both runs
    assert np.all(ref["chain_count"] >= 10)
    for name in ("ff", "skip"):
        _same_synapses(ref, got, name)
    assert_same(ref, got, ["ff_delay", "skip_delay", "chain_v_final", "t_end"])
    assert_same_monitor_spikes(ref, got, "chain")


def test_homogeneous_delay():
    """``Synapses(chain, readout, ..., delay=2*ms)``: readout spikes 2 ms (+ one step) after
    the chain."""
    ref, got = _network()
    assert float(ref["hom_delay"]) == 2e-3
    assert ref["readout_num"] > 0
    assert_same(ref, got, ["hom_delay", "readout_v_final"])
    _same_synapses(ref, got, "hom")
    assert_same_monitor_spikes(ref, got, "readout")


def test_multiple_pathways_and_on_post():
    """``on_pre={'up': ..., 'down': ...}`` with ``delay={'up': 1*ms, 'down': 2*ms}``,
    ``on_post='v_pre += 0.02'``."""
    ref, got = _network()
    assert float(ref["pathways_up_delay"]) == 1e-3
    assert float(ref["pathways_down_delay"]) == 2e-3
    expected = np.array([(i, j) for i in range(5) for j in range(4) if j <= i])
    np.testing.assert_array_equal(np.c_[ref["pathways_i"], ref["pathways_j"]], expected)
    assert ref["mp_tgt_num"] > 0 and ref["mp_src_num"] > 0
    _same_synapses(ref, got, "pathways")
    assert_same(ref, got, ["pathways_up_delay", "pathways_down_delay", "mp_tgt_v",
                           "mp_src_v_final", "mp_tgt_v_final"])
    assert_same_monitor_spikes(ref, got, "mp_tgt")
    # on_post changes the presynaptic spike times
    assert_same_monitor_spikes(ref, got, "mp_src")


# -- synapses_connect -----------------------------------------------------------------------


def test_connect_condition_not_self():
    """``connect(condition='j != i')``."""
    ref, got = _connect()
    n = models_synapses.CONN_PRE
    expected = np.array([(i, j) for i in range(n) for j in range(n) if i != j])
    np.testing.assert_array_equal(np.c_[ref["neq_i"], ref["neq_j"]], expected)
    _check_counts(got, "neq")
    _same_synapses(ref, got, "neq")


def test_connect_generator_range_skip_if_invalid():
    """``connect(j='k for k in range(i-3, i+4)', skip_if_invalid=True)``, ``w = 'i*100 + j'``."""
    ref, got = _connect()
    expected = np.array([(i, k) for i in range(models_synapses.CONN_PRE) for k in range(i - 3, i + 4)
                         if 0 <= k < models_synapses.CONN_POST])
    np.testing.assert_array_equal(np.c_[ref["range_i"], ref["range_j"]], expected)
    np.testing.assert_array_equal(ref["range_w"], expected[:, 0] * 100 + expected[:, 1])
    _check_counts(got, "range")
    _same_synapses(ref, got, "range")
    assert_same(ref, got, ["range_w"])


def test_multisynapses():
    """``multisynaptic_index='synapse_number'``: ``connect(i=[0, 0, 1], j=[1, 1, 2])``,
    ``connect(j='i', n=3)``, ``connect(j='i + 1', n=2, skip_if_invalid=True)``,
    ``connect(condition='j == i + 5', n='1 + i % 2')`` on one Synapses."""
    ref, got = _connect()
    n_pre, n_post = models_synapses.CONN_POST, models_synapses.CONN_PRE  # multi goes conn_post -> conn_pre
    pairs = [(0, 1), (0, 1), (1, 2)]
    pairs += [(i, i) for i in range(n_pre) for _ in range(3)]
    pairs += [(i, i + 1) for i in range(n_pre) if i + 1 < n_post for _ in range(2)]
    pairs += [(i, j) for i in range(n_pre) for j in range(n_post) if j == i + 5
              for _ in range(1 + i % 2)]
    pairs = np.array(pairs)
    np.testing.assert_array_equal(np.c_[ref["multi_i"], ref["multi_j"]], pairs)
    seen = {}
    numbers = []
    for pair in map(tuple, pairs):
        numbers.append(seen.get(pair, 0))
        seen[pair] = numbers[-1] + 1
    np.testing.assert_array_equal(ref["multi_synapse_number"], numbers)
    _check_counts(got, "multi")
    _same_synapses(ref, got, "multi")
    assert_same(ref, got, ["multi_synapse_number", "multi_w"])


def test_connect_subgroups_several_calls():
    """``Synapses(conn_pre[2:8], conn_post[1:5])``: indices relative to the subgroups,
    two connect() calls, ``on_pre='v_post += w*sh'`` with heterogeneous delays."""
    ref, got = _connect()
    expected = [(i, j) for i in range(6) for j in range(4) if (i + j) % 2 == 0] + [(5, 0)]
    expected = np.array(expected)
    np.testing.assert_array_equal(np.c_[ref["sub_i"], ref["sub_j"]], expected)
    _check_counts(ref, "sub", n_pre_offset=2, n_post_offset=1)
    _check_counts(got, "sub", n_pre_offset=2, n_post_offset=1)
    _same_synapses(ref, got, "sub")
    assert ref["conn_pre_num"] > 0 and np.any(ref["conn_post_v"][1:5] != 0)
    # only the subgroup's targets receive spikes
    assert np.all(ref["conn_post_v"][[0, 5, 6, 7, 8, 9]] == 0)
    assert_same_monitor_spikes(ref, got, "conn_pre")
    assert_same(ref, got, ["conn_post_v"])


def test_synaptic_state_initialisation():
    """Synaptic variables set by a constant, a conditional string with pre/post variables,
    strings of ``i``/``j``, an integer, ``(constant)``, ``(shared)``, heterogeneous delays and
    arrays (``connect(i=array, j=array)``)."""
    ref, got = _connect()
    i, j = ref["sub_i"], ref["sub_j"]
    x_pre = 0.5 * (i + 2)
    y_post = 10.0 * (j + 1)
    np.testing.assert_allclose(ref["sub_w"], np.where(i > j, x_pre + 0.01 * y_post, 0.25))
    np.testing.assert_allclose(ref["sub_c0"], i * 10 + j)
    np.testing.assert_array_equal(ref["sub_k"], i * j - 3)
    np.testing.assert_allclose(ref["sub_d"], x_pre - y_post + ref["sub_N_incoming"])
    np.testing.assert_allclose(ref["sub_delay"], (j * 0.2 + i * 0.1) * 1e-3)
    assert float(ref["sub_sh"]) == 0.5
    np.testing.assert_array_equal(ref["arr_i"], [0, 3, 3, 7, 11])
    np.testing.assert_array_equal(ref["arr_j"], [9, 0, 4, 4, 2])
    np.testing.assert_allclose(ref["arr_u"], ref["arr_w"] * 2 + ref["arr_i"])
    _same_synapses(ref, got, "arr")
    assert_same(ref, got, ["sub_w", "sub_c0", "sub_k", "sub_d", "sub_delay", "sub_sh",
                           "arr_w", "arr_u"])


def test_string_indexed_reads_after_run():
    """``S.w['i > j and w > 0.3']`` after the run (Brisk only: cpp_standalone refuses it),
    against the same selection made with numpy on cpp_standalone's arrays."""
    ref, got = _connect()
    i, j, w = ref["sub_i"], ref["sub_j"], ref["sub_w"]
    np.testing.assert_allclose(got["sub_w_where"], w[(i > j) & (w > 0.3)], rtol=1e-12)
    post = ref["conn_post_v"][j + 1]
    np.testing.assert_allclose(got["sub_delay_where"], ref["sub_delay"][(post > 0) | (j == 2)], rtol=1e-12)
    assert len(got["sub_w_where_none"]) == 0


# -- synapses_monitor_post -------------------------------------------------------------------


def test_statemonitor_of_synapses_records_postsynaptic_variable():
    """``StateMonitor(S, ['g', 'x'], record=[0, 1])`` where ``g`` is the (1-neuron) target's
    variable: the indices are synapse indices, the traces match cpp_standalone."""
    ref, got = both(models_synapses.synapses_monitor_post)
    assert ref["g"].shape == (2, 300) and np.ptp(ref["x"]) > 0
    np.testing.assert_array_equal(ref["g"][0], ref["g"][1])  # one target: both synapses see it
    assert_same(ref, got, ["g", "x", "t", "g_final"])


def test_spikes_in_the_queue_survive_a_change_of_dt():
    """Brian's runtime test test_changed_dt_spikes_in_queue, in a live session and in a
    standalone build: the spikes pending when dt changes arrive at the runtime device's
    times. (Brisk moved them one step too far and lost them, as cpp_standalone does: it
    records only the first 5 spikes. Found by running Brian's runtime tests on live
    sessions; Brisk now follows the runtime device here.)"""
    expected = np.array([0.5, 1.5, 2.5, 3.5, 4.5, 6, 7, 8, 8.1, 9.1]) * 1e-3
    for build_on_run in (True, False):
        got = run_model(models_synapses.changed_dt_pending_spikes, "brisk", build_on_run=build_on_run)
        np.testing.assert_allclose(got["t"], expected, err_msg=f"build_on_run={build_on_run}")
