"""Synaptic code that is not race-free as atomic additions (test_delivery.py).

Every pathway here assigns to a variable it also reads, so the order in which
the synapses of one target are applied changes the result; on CUDA these run
grouped by target (a thread per target, Brian's order within it), or in one
thread where the writes go through two indices. Deterministic: cpp_standalone
must agree to rounding.
"""

import numpy as np
from brian2 import (
    NeuronGroup,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    defaultclock,
    ms,
    run,
)


def non_atomic_delivery(ctx):
    """* ``order``: ``v_post = 0.9*v_post + w``, heterogeneous delays changed
      between the two runs, two synapses per pair, neurons spiking in
      synchronous classes (so many synapses reach a target in one step);
    * ``pre``: ``on_post`` clips a presynaptic variable (grouped by the
      presynaptic index);
    * ``sub``: a subgroup target, ``v_post = v_post + w*(1 - v_post)``;
    * ``gen``: spikes from a SpikeGeneratorGroup just before the end of the
      first run, still queued when it ends (the carried queue);
    * ``mixed``: an order-dependent write through the postsynaptic index and
      an atomic one through the presynaptic index (``x_pre += 0.01``);
    * ``serial``: reads ``v_pre`` while it writes ``v_post`` on overlapping
      ranges (one thread; also not atomic, though Brian writes it ``+=``)."""
    defaultclock.dt = 0.1 * ms
    N = 40
    G = NeuronGroup(N, """dv/dt = (I - v)/(10*ms) : 1
                    I : 1 (constant)
                    x : 1""", threshold="v > 1", reset="v = 0", method="exact", name="dl")
    G.I = 1.05 + 0.5 * (np.arange(N) % 7) / 7.0
    # sources spiking in three synchronous classes: many synapses reach a target in one step
    drive = NeuronGroup(21, "dv/dt = (I - v)/(10*ms) : 1\nI : 1 (constant)", threshold="v > 1",
                        reset="v = 0", method="exact", name="dl_drive")
    drive.I = 1.1 + 0.2 * (np.arange(21) % 3)
    order = Synapses(drive, G, "w : 1", on_pre="v_post = 0.9*v_post + w", name="dl_order")
    order.connect(condition="(i + j) % 2 == 0", n=2)
    order.w = "0.01*((i*7 + j*3) % 11)"
    order.delay = "((i + 2*j) % 4)*0.2*ms"
    pre = Synapses(G, G, on_post="x_pre = clip(x_pre + 0.1, 0, 0.35)*0.99", name="dl_pre")
    pre.connect(condition="(i + j) % 4 == 1")
    sub = Synapses(G, G[10:30], "w : 1", on_pre="v_post = v_post + w*(1 - v_post)", name="dl_sub")
    sub.connect(condition="(i + j) % 3 == 0")
    sub.w = "0.02 + 0.01*(i % 3)"
    sub.delay = "(i % 3)*0.3*ms"
    gen_i = np.array([0, 1, 2, 3, 0, 2, 1, 3])
    gen_t = np.array([5.0, 5.0, 12.3, 12.3, 29.8, 29.8, 29.9, 29.9]) * ms
    gen = SpikeGeneratorGroup(4, gen_i, gen_t, name="dl_gen_src")
    carried = Synapses(gen, G, "w : 1", on_pre="v_post = 0.8*v_post + w", name="dl_gen")
    carried.connect(condition="j % 2 == i % 2")
    carried.w = "0.05*(i + 1)"
    carried.delay = "(0.5 + 0.2*((i + j) % 5))*ms"
    mixed = Synapses(G[:20], G[20:], on_pre="""v_post = 0.95*v_post + 0.02
                                            x_pre += 0.01""", delay=0.3 * ms, name="dl_mixed")
    mixed.connect(j="i")
    # the ranges overlap: a synapse may read a v that an earlier one of this step changed
    serial = Synapses(G[:20], G[10:30], on_pre="v_post = v_post + 0.05*v_pre", name="dl_serial")
    serial.connect(condition="(i + j) % 3 == 0")
    spikes = SpikeMonitor(G, name="dl_spikes")
    drive_spikes = SpikeMonitor(drive, name="dl_drive_spikes")
    trace = StateMonitor(G, ["v", "x"], record=True, name="dl_trace")
    run(30 * ms)
    order.delay = "((i + j) % 6)*0.3*ms"
    run(30 * ms)
    ctx.build()
    return {"dl_i": spikes.i[:], "dl_t": spikes.t[:] / ms, "dl_count": spikes.count[:],
            "dl_num": np.array(spikes.num_spikes),
            "drive_t": drive_spikes.t[:] / ms, "v": trace.v[:], "x": trace.x[:],
            "v_final": G.v[:], "x_final": G.x[:]}

