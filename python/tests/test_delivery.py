"""Synaptic code that is not race-free as atomics (`models_delivery`): the
order of delivery within a target matters. On CUDA such pathways are
delivered grouped by target (or in one thread where the writes go through two
indices); the plan's choice is read from ``brisk inspect``, and the results
must match cpp_standalone to rounding, through two runs, changed delays, a
carried queue and a subgroup target."""

import json
import os
import subprocess

import numpy as np

import models_delivery
from harness import assert_same, assert_same_monitor_spikes, both


def _delivery(res):
    from brian2brisk.binary import find_brisk_binary

    out = subprocess.run([find_brisk_binary(), "inspect", os.path.join(res.directory, "export")],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["delivery"]


def test_order_dependent_delivery_matches_cpp_standalone():
    ref, got = both(models_delivery.non_atomic_delivery, build_on_run=False)
    modes = {name.split("_synapses")[0]: d for name, d in _delivery(got).items()}
    for name, index in (("dl_order_pre", "_postsynaptic_idx"), ("dl_pre_post", "_presynaptic_idx"),
                        ("dl_sub_pre", "_postsynaptic_idx"), ("dl_gen_pre", "_postsynaptic_idx")):
        match = [d for k, d in modes.items() if k.startswith(name)]
        assert match and match[0]["mode"] == "by_target" and match[0]["index"] == index, (name, modes)
    mixed = [d for k, d in modes.items() if k.startswith("dl_mixed")]
    assert mixed and mixed[0]["mode"] == "by_target" and mixed[0]["atomic"] == ["x_pre"], modes
    serial = [d for k, d in modes.items() if k.startswith("dl_serial")]
    assert serial and serial[0]["mode"] == "serial", modes
    # the model exercises what it claims: spikes in both runs, converging in one step
    t = ref["dl_t"]
    assert (t < 30).sum() > 10 and (t >= 30).sum() > 10
    _, per_step = np.unique(np.round(ref["drive_t"] * 10).astype(int), return_counts=True)
    assert per_step.min() == 7
    assert_same_monitor_spikes(ref, got, "dl")
    assert_same(ref, got, ["v", "x", "v_final", "x_final", "drive_t"])
