"""SpikeMonitor, StateMonitor and PopulationRateMonitor: Brisk against cpp_standalone."""

import json
import os
import subprocess

import numpy as np

import models
from harness import assert_same, assert_same_spikes, both, run_model



def _results():
    return both(models.monitors)


def test_spikemonitor_whole_group():
    ref, got = _results()
    assert ref["sp_all_num"] > 50
    assert_same_spikes(ref["sp_all_i"], ref["sp_all_t"], got["sp_all_i"], got["sp_all_t"])
    assert_same(ref, got, ["sp_all_num"])


def test_spikemonitor_subgroup():
    ref, got = _results()
    assert got["sp_sub_i"].max() < 20  # relative to the subgroup G[10:30]
    assert_same_spikes(ref["sp_sub_i"], ref["sp_sub_t"], got["sp_sub_i"], got["sp_sub_t"])
    assert_same(ref, got, ["sp_sub_count", "sp_sub_num"])


def test_spikemonitor_record_false_counts():
    """``record=False``: no spike list, but ``count`` and ``num_spikes``."""
    ref, got = _results()
    assert_same(ref, got, ["sp_count_count", "sp_count_num"])
    np.testing.assert_array_equal(got["sp_count_count"], got["sp_all_count"])


def test_spikemonitor_count():
    ref, got = _results()
    assert_same(ref, got, ["sp_all_count", "sp_sub_count"])
    np.testing.assert_array_equal(got["sp_all_count"][10:30], got["sp_sub_count"])
    np.testing.assert_array_equal(np.bincount(got["sp_all_i"], minlength=50), got["sp_all_count"])


def test_statemonitor_several_variables_and_subsets():
    ref, got = _results()
    assert ref["st_multi_v"].shape == (3, 800)
    assert_same(ref, got, ["st_multi_v", "st_multi_w", "st_multi_I", "st_multi_t"])


def test_statemonitor_record_true():
    ref, got = _results()
    assert ref["st_all_v"].shape == (50, 800)
    assert_same(ref, got, ["st_all_v", "st_all_t"])


def test_statemonitor_own_dt():
    """``dt=2*defaultclock.dt``: a monitor on its own clock."""
    ref, got = _results()
    assert ref["st_dt_v"].shape == (2, 400)
    np.testing.assert_allclose(np.diff(got["st_dt_t"]), 0.2e-3, rtol=1e-9)
    assert_same(ref, got, ["st_dt_v", "st_dt_w", "st_dt_t"])
    np.testing.assert_array_equal(got["st_dt_v"][0], got["st_all_v"][1, ::2])


def test_statemonitor_subgroup():
    ref, got = _results()
    assert_same(ref, got, ["st_sub_v"])
    np.testing.assert_array_equal(got["st_sub_v"][1], got["st_all_v"][29])


def test_statemonitor_record_false_keeps_t():
    """``record=False``: the times, and a ``v`` with no columns."""
    ref, got = _results()
    assert len(ref["st_none_t"]) == 800
    assert_same(ref, got, ["st_none_t", "st_none_v_shape"])


def test_population_rate_monitor():
    ref, got = _results()
    assert ref["rate"].max() > 0
    assert_same(ref, got, ["rate", "rate_t", "rate_sub"])


def test_clock_time_after_run():
    ref, got = _results()
    assert_same(ref, got, ["t_end"])
    np.testing.assert_allclose(got["t_end"], 0.08, rtol=1e-12)


def _plan(tmp_path, **params):
    from brian2brisk.binary import find_brisk_binary

    res = run_model(models.large_spike_monitor, "brisk", params=params, export_only=True)
    out = tmp_path / f"convert_{len(params)}"
    subprocess.run([find_brisk_binary(), "convert", os.path.join(res.directory, "export"), "-o", str(out)],
                   check=True, capture_output=True)
    with open(out / "generated" / "plan.json") as f:
        return json.load(f)["plan"]


def test_spike_monitor_of_i_and_t_records_bits(tmp_path):
    """A SpikeMonitor of Brian's default i and t records one bit per neuron and step (plan
    ``SpikeBits``): on 200,000 neurons a drain comes every 2,600 steps or so (6,250 words and
    t per step), where records (i and t, 12 bytes per neuron that could fire) would need one
    every 27 steps. With a recorded variable the monitor keeps records. (The spike lists
    themselves are compared with cpp_standalone by the tests above.)"""
    plan = _plan(tmp_path)
    bits = {r["owner"]: r["bits"] for r in plan["recorders"]}
    assert bits["big_spikes"] is not None and bits["big_spikes"]["words_per_slot"] == 6250, bits
    assert plan["block_iterations"] >= 2000, plan["block_iterations"]
    plan = _plan(tmp_path, variables=True)
    bits = {r["owner"]: r["bits"] for r in plan["recorders"]}
    assert bits["big_spikes"] is not None and bits["big_spikes_v"] is None, bits
