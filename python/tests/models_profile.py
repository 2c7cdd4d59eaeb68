"""Model for ``run(..., profile=True)`` (test_profile.py)."""

import numpy as np
from brian2 import NeuronGroup, SpikeMonitor, Synapses, magic_network, ms, profiling_summary, run


def profiled(ctx):
    """Two profiled runs around an unprofiled one, with Synapses and a monitor."""
    G = NeuronGroup(200, "dv/dt = (1.1 - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                    method="exact", name="prof_group")
    G.v = "rand()"
    S = Synapses(G, G, on_pre="v_post += 0.01", name="prof_syn")
    S.connect(p=0.1)
    S.delay = "rand() * 2 * ms"
    spikes = SpikeMonitor(G, name="prof_spikes")
    run(20 * ms, profile=True)
    run(10 * ms)
    run(20 * ms, profile=True)
    ctx.build()
    info = magic_network.profiling_info
    summary = profiling_summary(show=3)
    return {
        "names": np.array([name for name, _ in info]),
        "seconds": np.array([float(t) for _, t in info]),
        "summary_names": np.array([name.strip() for name in summary.names]),
        "spikes": np.array(spikes.num_spikes),
    }


# Timings, and the names sorted by them, are measurements: they differ between runs.
profiled.measured = ("names", "seconds", "summary_names")


def profiled_queue(ctx):
    """Many spikes through many synapses with delays (issue 20): cpp_standalone spends a
    good part of the propagation in the spike queue, which it times under the pathway's
    ``..._push_spikes`` code object (``SpikeQueue::push``); so must Brisk."""
    G = NeuronGroup(1000, "dv/dt = (3 - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                    method="exact", name="queue_group")
    G.v = "rand()"
    S = Synapses(G, G, "w : 1", on_pre="v_post += w", name="queue_syn")
    S.connect(p=0.2)
    S.w = 1e-6
    S.delay = "rand() * 5 * ms"
    run(40 * ms, profile=True)
    ctx.build()
    info = dict((name, float(t)) for name, t in magic_network.profiling_info)
    return {
        "push": np.array(info["queue_syn_pre_push_spikes"]),
        "deliver": np.array(info["queue_syn_pre_codeobject"]),
    }


profiled_queue.measured = ("push", "deliver")
