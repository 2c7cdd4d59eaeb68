"""Values set through views that Brian scripts create and drop at once (temporary
subgroups, indexed views), and pickling the device (Brian's multiprocessing recipe)."""

import os
import subprocess
import sys

import numpy as np

import models_views
from harness import assert_same, assert_same_spikes, both, cached_run, run_model


def test_temporary_subgroups_and_views():
    ref, got = both(models_views.temporary_views)
    # what the script set, read from the reference
    np.testing.assert_allclose(ref["x"][[5, 6, 13, 14, 15]], [7, 7, 0, 10, 20])
    np.testing.assert_allclose(ref["I"][15:], 40 - np.arange(5))
    np.testing.assert_allclose(ref["w"][7:], 2 + np.arange(7, 10))
    assert ref["spikes_i"].size > 0
    assert_same_spikes(ref["spikes_i"], ref["spikes_t"], got["spikes_i"], got["spikes_t"],
                       context="SpikeMonitor(G[:12])")
    assert_same(ref, got, ["v", "I", "x", "w", "syn_i", "syn_j", "trace_v"])


def test_synapse_slices_are_not_implemented_before_a_run_in_standalone():
    """cpp_standalone refuses ``S[0:5].w = ...`` (the synapses do not exist
    before the run); Brisk with ``live=False`` says the same."""
    for device, live in (("cpp_standalone", None), ("brisk", False)):
        res = run_model(models_views.synapse_slice, device, expect_error=True, live=live)
        assert res.error["type"] == "NotImplementedError", res.error["traceback"]
        assert "before the simulation has been run" in res.error["message"]


def test_synapse_slices_before_a_run_in_a_live_session():
    """A live session makes the synapses when a slice asks for them (as Brian's
    runtime): ``S.w[1:4] = 'i*0.1'`` sets synapses 1 to 3 (from k to k) to k/10."""
    import numpy as np

    res = run_model(models_views.synapse_slice, "brisk", params={"view": True})
    np.testing.assert_allclose(res["w"], [0.0, 0.1, 0.2, 0.3, 0.0], rtol=1e-12)


def test_the_device_pickles_where_cpp_standalones_does():
    for device in ("cpp_standalone", "brisk"):
        for build_on_run in (True, False):
            res = cached_run(models_views.pickled_device, device, build_on_run=build_on_run)
            assert res["pickled"].all() and res["num_spikes"] > 0


RECIPE = r'''
import multiprocessing, os, sys, tempfile
import numpy as np
from brian2 import *
import brian2brisk

def run_sim(tau):
    # Brian's recipe (examples/multiprocessing/02_using_standalone.py): one device per process
    directory = os.path.join(sys.argv[2], f"standalone{os.getpid()}")
    set_device(sys.argv[1], directory=directory)
    G = NeuronGroup(1, "dv/dt = -v/tau : 1", method="euler")
    G.v = 1
    mon = StateMonitor(G, "v", record=0)
    net = Network()
    net.add(G, mon)
    net.run(10 * ms)
    res = (np.asarray(mon.t / ms), np.asarray(mon.v[0]))
    device.reinit()
    return res

if __name__ == "__main__":
    set_device(sys.argv[1], directory=os.path.join(sys.argv[2], "parent"))
    taus = np.array([5, 6, 7, 8]) * ms
    for method in ("fork", "spawn"):
        with multiprocessing.get_context(method).Pool(2) as pool:
            results = pool.map(run_sim, taus)
        for tau, (t, v) in zip(taus, results):
            expected = (1 - 0.1 * ms / tau) ** np.arange(t.size)  # Euler's decay
            assert np.allclose(v, expected, rtol=1e-12), (method, tau)
        print(method, "ok", len(results))
'''


def test_brians_multiprocessing_recipe(tmp_path):
    """A pool of 2 processes, each building its own standalone project
    (fork and spawn start methods), as Brian documents for cpp_standalone."""
    script = tmp_path / "recipe.py"
    script.write_text(RECIPE)
    for device in ("cpp_standalone", "brisk"):
        env = dict(os.environ, BRISK_BACKEND=os.environ.get("BRISK_E2E_BACKEND", "cpu"))
        proc = subprocess.run([sys.executable, str(script), device, str(tmp_path / device)],
                              capture_output=True, text=True, env=env, timeout=900)
        assert proc.returncode == 0, f"{device}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        assert "fork ok 4" in proc.stdout and "spawn ok 4" in proc.stdout, proc.stdout
