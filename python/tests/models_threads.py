"""Models for the thread-count tests of the C++ backend (test_threads.py), run
like those of ``models.py`` (see its docstring)."""

import numpy as np
from brian2 import (
    Hz,
    cm,
    msiemens,
    mV,
    nS,
    siemens,
    ufarad,
    umetre,
    NeuronGroup,
    PoissonGroup,
    PopulationRateMonitor,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    defaultclock,
    ms,
    run,
    seed,
)

from models import _spikes


def noisy_network(ctx):
    """1000 noisy LIF neurons (``xi``, a ``rand()`` reset), driven by 200
    Poisson inputs (whose synapses learn on postsynaptic spikes) and coupled by
    random synapses with delays, 50 ms: large enough that the split kernels
    (state update, threshold, reset, the synapse-only on_post) run as several
    chunks."""
    seed(ctx.params.get("seed", 7))
    defaultclock.dt = 0.1 * ms
    tau = 10 * ms
    G = NeuronGroup(
        1000,
        """dv/dt = (I - v)/tau + 0.2*xi/sqrt(tau) : 1
           I : 1
           w : 1""",
        threshold="v > 1",
        reset="v = 0.2*rand(); w += 1",
        refractory=2 * ms,
        method="euler",
        name="g",
    )
    G.v = "rand()"
    G.I = "0.9 + 0.2*rand()"
    P = PoissonGroup(200, 20 * Hz, name="p")
    # on_post writes only the synapse's own variables: a delivery split by synapse
    S = Synapses(P, G, "k : 1\nlast : second", on_pre="v += 0.05*k",
                 on_post="k = clip(k + 0.01*exp(-(t - last)/(5*ms)) + 0.001*rand(), 0, 1); last = t",
                 name="s")
    S.connect(p=0.05)
    S.k = "rand()"
    S.delay = "rand()*3*ms"
    R = Synapses(G, G, on_pre="v -= 0.01", name="r")
    R.connect(p=0.01)
    R.delay = 1 * ms
    spikes = SpikeMonitor(G)
    trace = StateMonitor(G, ["v", "w"], record=[0, 1, 500, 999])
    rate = PopulationRateMonitor(G)
    run(50 * ms)
    out = {"v": G.v[:], "w": G.w[:], "trace_v": trace.v[:], "trace_w": trace.w[:],
           "rate": rate.rate[:] / Hz, "k": S.k[:], "last": S.last[:], "s_i": S.i[:],
           "s_j": S.j[:]}
    out.update(_spikes("g", spikes))
    return out


def summed_network(ctx):
    """500 noisy neurons coupled by gap junctions (``Igap_post = w*(v_pre - v_post)
    + 0.001*rand() : 1 (summed)``) onto a second group of 400, 30 ms: the summed
    variable runs as chunks of its 400 targets on the C++ target."""
    seed(ctx.params.get("seed", 5))
    G = NeuronGroup(500, "dv/dt = (1.1 - v)/(10*ms) + 0.2*xi/sqrt(10*ms) : 1",
                    threshold="v > 1", reset="v = 0", method="euler", name="gsrc")
    G.v = "rand()"
    H = NeuronGroup(400, """dv/dt = (Igap - v)/(10*ms) : 1
                            Igap : 1""", method="euler", name="gtgt")
    S = Synapses(G, H, """w : 1
                          Igap_post = w*(v_pre - v_post) + 0.001*rand() : 1 (summed)""", name="gap")
    S.connect(p=0.1)
    S.w = "0.05*rand()"
    M = StateMonitor(H, ["v", "Igap"], record=[0, 99, 399], name="gtrace")
    run(30 * ms)
    return {"v": H.v[:].copy(), "Igap": H.Igap[:].copy(), "trace_v": M.v[:].copy(),
            "trace_I": M.Igap[:].copy(), "src_v": G.v[:].copy()}


def hh_network(ctx):
    """997 Hodgkin-Huxley neurons (Traub-Miles rates, ``exponential_euler``:
    a dozen ``exp`` calls per neuron and step) with random initial potentials and
    inputs, coupled by random synapses, 30 ms: the state update is the loop the
    C++ target vectorises through its ``exp`` (``vector_exp.h``), and 997 leaves a
    remainder after the vector lanes in every chunking; a StateMonitor of every
    neuron runs as chunks of its indices."""
    seed(ctx.params.get("seed", 3))
    defaultclock.dt = 0.05 * ms
    area = 20000 * umetre ** 2
    ns = dict(Cm=1 * ufarad * cm ** -2 * area, gl=5e-5 * siemens * cm ** -2 * area,
              El=-60 * mV, EK=-90 * mV, ENa=50 * mV, VT=-63 * mV,
              g_na=100 * msiemens * cm ** -2 * area, g_kd=30 * msiemens * cm ** -2 * area,
              we=6 * nS, taue=5 * ms, Ee=0 * mV)
    eqs = """dv/dt = (gl*(El-v) + ge*(Ee-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK) + I)/Cm : volt
    dm/dt = 0.32*(mV**-1)*(13.*mV-v+VT)/(exp((13.*mV-v+VT)/(4.*mV))-1.)/ms*(1-m)-0.28*(mV**-1)*(v-VT-40.*mV)/(exp((v-VT-40.*mV)/(5.*mV))-1.)/ms*m : 1
    dn/dt = 0.032*(mV**-1)*(15.*mV-v+VT)/(exp((15.*mV-v+VT)/(5.*mV))-1.)/ms*(1.-n)-.5*exp((10.*mV-v+VT)/(40.*mV))/ms*n : 1
    dh/dt = 0.128*exp((17.*mV-v+VT)/(18.*mV))/ms*(1.-h)-4./(1+exp((40.*mV-v+VT)/(5.*mV)))/ms*h : 1
    dge/dt = -ge/taue : siemens
    I : amp"""
    G = NeuronGroup(997, eqs, threshold="v > -20*mV", refractory=3 * ms,
                    method="exponential_euler", namespace=ns, name="hh")
    G.v = "El + (rand() - 0.5)*10*mV"
    G.I = "rand()*0.7*nA"
    S = Synapses(G, G, on_pre="ge += we", namespace=ns, name="hhs")
    S.connect(p=0.02)
    spikes = SpikeMonitor(G)
    trace = StateMonitor(G, ["v", "m"], record=[0, 63, 64, 500, 996])
    # every neuron: the state monitor runs as chunks of its recorded indices
    full = StateMonitor(G, ["v", "ge"], record=True, name="hh_full")
    run(30 * ms)
    out = {"v": G.v[:] / mV, "m": G.m[:], "n": G.n[:], "h": G.h[:], "ge": G.ge[:] / nS,
           "trace_v": trace.v[:] / mV, "trace_m": trace.m[:], "full_v": full.v[:] / mV,
           "full_ge": full.ge[:] / nS, "full_t": full.t[:] / ms}
    out.update(_spikes("hh", spikes))
    return out


def fused_group(ctx):
    """1000 noisy LIF neurons whose state update (``xi``), threshold (``rand()``)
    and reset (``rand()``) all draw random numbers and fuse into one kernel
    (``plan::fusion``: the synapses write ``ge``, not the ``v`` the reset sets),
    with refractoriness, input spikes and random recurrent synapses, 40 ms. (The
    input is a SpikeGeneratorGroup: a PoissonGroup's threshold draws random
    numbers between the group's threshold and reset, and the reset, which draws
    too, would then keep its place and its own kernel.)"""
    seed(ctx.params.get("seed", 11))
    defaultclock.dt = 0.1 * ms
    G = NeuronGroup(
        1000,
        """dv/dt = (1.05 + ge - v)/(10*ms) + 0.1*xi/sqrt(10*ms) : 1 (unless refractory)
           dge/dt = -ge/(5*ms) : 1
           c : integer""",
        threshold="v > 1 or rand() < 0.002",
        reset="v = 0.3*rand(); c += 1",
        refractory="1*ms + 2*ms*(i % 3)",
        method="euler",
        name="fg",
    )
    G.v = "rand()"
    rng = np.random.RandomState(11)
    # each input spikes once in [0, 20) ms and once in [20, 40) ms
    indices = np.concatenate([rng.permutation(100), rng.permutation(100)])
    times = np.round(rng.uniform(0, 20, 200), 1) + np.repeat([0, 20], 100)
    P = SpikeGeneratorGroup(100, indices, times * ms, name="fp")
    S = Synapses(P, G, on_pre="ge += 0.02", name="fs")
    S.connect(p=0.1)
    R = Synapses(G, G, on_pre="ge -= 0.01", delay=1 * ms, name="fr")
    R.connect(p=0.01)
    spikes = SpikeMonitor(G)
    trace = StateMonitor(G, ["v", "ge"], record=[0, 63, 64, 999])
    run(40 * ms)
    out = {"v": G.v[:], "ge": G.ge[:], "c": G.c[:], "lastspike": G.lastspike[:] / ms,
           "trace_v": trace.v[:], "trace_ge": trace.ge[:]}
    out.update(_spikes("fg", spikes))
    return out
