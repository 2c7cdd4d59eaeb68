"""A network with every per-step template, sized by a parameter (test_launch_shapes.py)."""

from brian2 import (
    NeuronGroup,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    defaultclock,
    ms,
    run,
    seed,
)


def every_template(ctx):
    """Threshold, reset, refractoriness, a run_regularly writing a shared variable, a SpikeMonitor, a StateMonitor on many
    neurons, a PopulationRateMonitor, Synapses with heterogeneous delays, atomic
    delivery and a summed variable, Synapses whose code reads what it writes
    (delivered grouped by target), with N from the parameters."""
    seed(3)
    defaultclock.dt = 0.1 * ms
    N = ctx.params["N"]
    G = NeuronGroup(N, """dv/dt = (1.1 + I - v)/(10*ms) : 1 (unless refractory)
                    I : 1
                    drift : 1 (shared)""", threshold="v > 1", reset="v = 0", refractory=1 * ms, method="exact",
                    name="shapes")
    G.v = "rand()"
    # a run_regularly whose scalar code writes a shared variable that every neuron reads
    G.run_regularly("""drift = drift + 0.0001
                       I = drift*(i % 3)""", when="start", name="shapes_drift")
    S = Synapses(G, G, "w : 1\ns : 1\nI_post = s : 1 (summed)", on_pre="v_post += w", name="shapes_syn")
    S.connect(p=10.0 / N)
    S.w = "0.01*rand()"
    S.s = "0.001*rand()"
    S.delay = "rand()*2*ms"
    # code that reads what it writes: delivered grouped by target
    S2 = Synapses(G, G, "w : 1", on_pre="v_post = 0.99*v_post + w", name="shapes_grouped")
    S2.connect(p=5.0 / N)
    S2.w = "0.01*rand()"
    S2.delay = "rand()*1*ms"
    spikes = SpikeMonitor(G, name="shapes_spikes")
    trace = StateMonitor(G, "v", record=range(0, N, 2), name="shapes_trace")
    rate = PopulationRateMonitor(G, name="shapes_rate")
    run(5 * ms)
    return {"spikes": spikes.num_spikes, "rate": rate.rate[:], "trace": trace.v[:, -1]}

