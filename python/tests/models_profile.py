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
