"""Models that set values through views Brian scripts create and drop at once
(test_views.py): temporary subgroups and indexed variable views, and the
device's pickling for Brian's multiprocessing recipe."""

import os

import numpy as np
from brian2 import (
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    defaultclock,
    mV,
    ms,
    run,
)


def temporary_views(ctx):
    """Every way of setting values through a view the script does not keep:
    ``G[5:].v = 'expr with i'``, ``G[:5].I = array``, chained subgroups
    ``G[4:][1:3]``, string and boolean indices (``G.v['i > 8']``,
    ``G.v[G.i[:] > 3]`` is refused before a run), a temporary subgroup as a
    Synapses source and a monitor target, ``S.w['i > j']``, ``S.w[:]``, and a
    subgroup that only lives inside a function."""
    defaultclock.dt = 0.1 * ms
    vr = -70 * mV
    drive = np.arange(20) * 0.5
    G = NeuronGroup(
        20,
        """dv/dt = (vr + I*mV - v)/(10*ms) : volt
        I : 1
        x : 1""",
        threshold="v > -55*mV",
        reset="v = vr",
        method="exact",
        name="views",
    )
    G.v = vr
    G[5:].v = "vr + 2*mV*i"  # i counts within the subgroup
    G[:5].I = drive[:5] * 4
    G[5:].I = "30 + i"
    G.v["i > 17"] = "-56*mV"
    G[4:][1:3].x = 7  # elements 5 and 6
    G[10:][2:][1:4].x = "i*10"  # elements 13..15: 0, 10, 20

    def set_tail(group):
        group[15:].I = "40 - i"

    set_tail(G)
    S = Synapses(G[:10], G[10:], "w : 1", on_pre="v_post += w*mV", name="views_syn")
    S.connect(j="i")
    S.w = "0.1*i"
    S.w["i > j"] = 5  # never true here: i == j
    S.w["i > 6"] = "2 + j"
    spikes = SpikeMonitor(G[:12], name="views_spikes")
    trace = StateMonitor(G[8:14], "v", record=[0, 3, 5], name="views_trace")
    run(30 * ms)
    return {
        "v": G.v[:],
        "I": G.I[:],
        "x": G.x[:],
        "w": S.w[:],
        "syn_i": S.i[:],
        "syn_j": S.j[:],
        "spikes_i": spikes.i[:],
        "spikes_t": spikes.t[:],
        "trace_v": trace.v[:],
    }


def synapse_slice(ctx):
    """``S[0:5].w = ...``: standalone devices cannot index synapses before a run."""
    G = NeuronGroup(5, "v : 1", name="slice_group")
    S = Synapses(G, G, "w : 1", name="slice_syn")
    S.connect(j="i")
    if ctx.params.get("view"):
        S.w[1:4] = "i*0.1"  # (S[0:5].w = ... sets an attribute of the subgroup in runtime mode)
    else:
        S[0:5].w = "i*0.1"
    run(1 * ms)
    return {"w": S.w[:]}


def pickled_device(ctx):
    """``pickle.dumps`` of the active device before a model, after it is
    defined and after the build (Brian's multiprocessing recipes pickle it)."""
    import pickle

    from brian2 import device

    sizes = {"fresh": len(pickle.dumps(device))}
    G = NeuronGroup(10, "dv/dt = -v/(10*ms) : 1", threshold="v > rand()", reset="v = 0",
                    method="exact", name="pickled")
    G.v = "rand()"
    G[5:].v = "0.5 + 0.01*i"
    mon = SpikeMonitor(G)
    run(2 * ms)
    sizes["model"] = len(pickle.dumps(device))
    if not ctx.build_on_run:
        ctx.build()
    sizes["built"] = len(pickle.dumps(device))
    return {"pickled": np.array([sizes["fresh"], sizes["model"], sizes["built"]]) > 0,
            "num_spikes": np.array(mon.num_spikes)}
