"""Models for ``store()`` / ``restore()`` (test_store_restore.py).

Brian's standalone devices refuse store/restore, so the oracle is the same
simulation without the detour: ``run A; store; run B; restore; run C`` must
end exactly where ``run A; run C`` ends under cpp_standalone (deterministic
models), and, with ``restore_random_state=True``, where Brisk's own ``run A;
run C`` ends (random models).
"""

import numpy as np
from brian2 import (
    Network,
    NeuronGroup,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    ms,
    restore,
    run,
    seed,
    store,
)

from models import _spikes


def store_detour(ctx):
    """LIF ring with heterogeneous delays (spikes in flight at the store),
    three monitors and a run_regularly on its own clock. ``params``:
    ``detour`` runs store / changed run / restore between the two runs;
    ``restore=False`` leaves out the restore (the detour then shows)."""
    detour = ctx.params.get("detour", False)
    G = NeuronGroup(20, "dv/dt = (1.2 - v + I)/(10*ms) : 1\nI : 1", threshold="v > 1",
                    reset="v = 0", method="exact", name="ring")
    G.v = "i / 20.0"
    G.run_regularly("I = 0.1 * (1 - I)", dt=0.7 * ms, name="ring_kick")
    S = Synapses(G, G, "w : 1", on_pre="v_post += w", name="ring_syn")
    S.connect(j="(i + 1) % 20")
    S.connect(j="(i + 7) % 20")
    S.w = "0.02 + 0.01 * (i % 3)"
    S.delay = "(i % 5) * 1.3 * ms"
    spikes = SpikeMonitor(G, name="ring_spikes")
    trace = StateMonitor(G, ["v", "I"], record=[0, 7, 13], name="ring_trace")
    rate = PopulationRateMonitor(G, name="ring_rate")
    run(10 * ms)
    if detour:
        store("mid")
        G.v = 0.5
        S.w = 0.3
        S.delay = 0.1 * ms
        run(7 * ms)
        if ctx.params.get("restore", True):
            restore("mid")
    run(10 * ms)
    ctx.build()
    out = _spikes("ring", spikes)
    out.update(v=G.v[:], I=G.I[:], w=S.w[:], delay=S.delay[:], trace_t=trace.t[:],
               trace_v=trace.v[:], trace_I=trace.I[:], rate=rate.rate[:], rate_t=rate.t[:])
    return out


def store_random(ctx):
    """Noise (``xi``) and ``rand()`` in an explicit Network, ``seed(11)``.
    ``params``: ``detour`` as in `store_detour`, with
    ``restore_random_state`` passed to ``restore``."""
    seed(11)
    G = NeuronGroup(50, "dv/dt = -v/(5*ms) + 0.5*xi/sqrt(5*ms) : 1\nu : 1", method="euler",
                    threshold="v > 0.8", reset="v = 0; u = rand()", name="noisy")
    spikes = SpikeMonitor(G, name="noisy_spikes")
    net = Network(G, spikes)
    net.run(5 * ms)
    if ctx.params.get("detour", False):
        net.store()
        net.run(5 * ms)
        net.restore(restore_random_state=ctx.params["restore_random_state"])
    net.run(5 * ms)
    ctx.build()
    out = _spikes("noisy", spikes)
    out.update(v=G.v[:], u=G.u[:], t=np.array(float(net.t)))
    return out


def store_to_file(ctx):
    """``store(filename=...)``: refused (the state lives in the simulation)."""
    G = NeuronGroup(2, "v : 1", name="filed")
    run(1 * ms)
    store("s", filename=f"{ctx.directory}-state.pkl")
    run(1 * ms)
    ctx.build()
    return {"v": G.v[:]}


def restore_unknown(ctx):
    """``restore('never')`` with no such stored state: Brian's KeyError."""
    G = NeuronGroup(2, "v : 1", name="lonely")
    store("once")
    run(1 * ms)
    restore("never")
    run(1 * ms)
    ctx.build()
    return {"v": G.v[:]}


def restore_other_objects(ctx):
    """A group added to the network after ``store()``: Brian's KeyError naming it."""
    G = NeuronGroup(2, "v : 1", name="first")
    net = Network(G)
    net.store()
    net.run(1 * ms)
    H = NeuronGroup(2, "v : 1", name="latecomer")
    net.add(H)
    net.restore()
    net.run(1 * ms)
    ctx.build()
    return {"v": G.v[:], "w": H.v[:]}
