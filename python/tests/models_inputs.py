"""The input examples of the Brian2GeNN introductory tutorial
(``../shared/reference/tutorials/brian2genn-introductory-tutorial.md``), as
written there, for test_tutorial_inputs.py."""

import numpy as np
from brian2 import (
    Hz,
    NeuronGroup,
    PoissonGroup,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    mV,
    ms,
    run,
    seed,
    volt,
)

from models import _spikes

VR, VTH, TAU, REFRACTORY = -70 * mV, -50 * mV, 20 * ms, 1 * ms
EQS = """dv/dt = (vr - v + I)/tau : volt (unless refractory)
I : volt"""


def tutorial_spike_inputs(ctx):
    """"Input spikes": a PoissonGroup with rates ``arange(n)*30*Hz + 10*Hz`` and a
    SpikeGeneratorGroup firing every ``(n+2)*ms`` (``period``), each onto the
    same output group with ``connect(p=1.0)``; 1 s."""
    seed(5)
    n_neurons = 8
    vr, vth, tau, refractory = VR, VTH, TAU, REFRACTORY  # noqa: F841  (the equations' namespace)
    spk_rates_input = np.arange(n_neurons) * 30 * Hz + 10 * Hz
    spk_period_input = (n_neurons + 2) * ms
    G_in1 = PoissonGroup(n_neurons, spk_rates_input)
    G_in2 = SpikeGeneratorGroup(N=n_neurons, indices=range(n_neurons), times=[0] * n_neurons * ms,
                                period=spk_period_input)
    G_out = NeuronGroup(n_neurons, EQS, threshold="v>vth", reset="v=vr", refractory=refractory,
                        method="euler")
    G_out.v = "vth + rand()*(vr-vth)"
    G_out.I = "0*volt"
    S1 = Synapses(G_in1, G_out, on_pre="v_post += 1*mV")
    S1.connect(p=1.0)
    S2 = Synapses(G_in2, G_out, on_pre="v_post += 1*mV")
    S2.connect(p=1.0)
    mon_poisson = SpikeMonitor(G_in1)
    mon_generator = SpikeMonitor(G_in2)
    mon_out = SpikeMonitor(G_out)
    run(1000 * ms)
    out = _spikes("poisson", mon_poisson)
    out.update(_spikes("generator", mon_generator))
    out.update(_spikes("out", mon_out))
    out.update(rates=spk_rates_input, synapses=np.array([len(S1), len(S2)]))
    return out


def tutorial_timed_array_input(ctx):
    """"Non-static input": ``G_in.run_regularly('I = ta_inputs(t, i)', dt=10*ms)`` on a
    subgroup, a TimedArray of random currents (numpy-seeded, so both devices get the
    same values), synapses onto the other half, in two runs of 20 ms: two clocks and
    two runs. ``params["init"] == "vr"`` starts every neuron at ``vr`` instead of the
    tutorial's ``'vth + rand()*(vr-vth)'``, which makes the model deterministic."""
    seed(3)
    n_neurons = 10
    vr, vth, tau, refractory = VR, VTH, TAU, REFRACTORY  # noqa: F841
    G = NeuronGroup(n_neurons, EQS, threshold="v>vth", reset="v=vr", refractory=refractory,
                    method="euler")
    G_in = G[: int(n_neurons / 2)]
    G_out = G[int(n_neurons / 2):]
    if ctx.params.get("init") == "vr":
        G.v = "vr"
    else:
        G.v = "vth + rand()*(vr-vth)"
    G_out.I = "0*volt"
    inputs = np.random.RandomState(42).random_sample((4, n_neurons)) * volt
    ta_inputs = TimedArray(inputs, dt=10 * ms)  # noqa: F841
    G_in.run_regularly("I = ta_inputs(t, i)", dt=10 * ms)
    S = Synapses(G_in, G_out, on_pre="v_post += 1*mV")
    S.connect(p=1.0)
    monitor_v = StateMonitor(G, ["v", "I"], record=True)
    monitor_spk_in = SpikeMonitor(G_in)
    monitor_spk_out = SpikeMonitor(G_out)
    run(20 * ms)
    run(20 * ms)
    ctx.build()
    out = _spikes("in", monitor_spk_in)
    out.update(_spikes("out", monitor_spk_out))
    out.update(t=monitor_v.t[:], v=monitor_v.v[:], I=monitor_v.I[:], inputs=inputs)
    return out
