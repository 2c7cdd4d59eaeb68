"""A reduced compartmental model built with Dendrify (test_dendrify.py):
Dendrify turns compartments into one NeuronGroup's equations and dendritic
spikes into custom events with ``run_on_event(..., order='before_groups')``."""

from brian2 import Network, SpikeMonitor, StateMonitor, cm, defaultclock, ms, mV, nS, ohm, pA, uF, um, uS


def dendritic_spikes(ctx):
    """A leaky integrate-and-fire soma and a chain of two dendrites with
    sodium dSpikes (rise and fall conductances on custom events); a current
    into the distal dendrite over the second of three runs fires dSpikes that
    drive somatic spikes. (Dendrify's ``second_reset`` reads the group's
    length, which standalone devices cannot do before a run.)"""
    from dendrify import Dendrite, NeuronModel, Soma

    defaultclock.dt = 0.05 * ms
    soma = Soma("soma", model="leakyIF", length=25 * um, diameter=25 * um)
    prox = Dendrite("prox", length=100 * um, diameter=2 * um)
    dist = Dendrite("dist", length=100 * um, diameter=1 * um)
    prox.dspikes("Na", g_rise=20 * nS, g_fall=12 * nS)
    dist.dspikes("Na", g_rise=8 * nS, g_fall=5 * nS)
    model = NeuronModel([(soma, prox, 15 * nS), (prox, dist, 6 * nS)],
                        cm=1 * uF / cm**2, gl=40 * uS / cm**2, v_rest=-65 * mV,
                        r_axial=150 * ohm * cm, scale_factor=2.8, spine_factor=1.5)
    model.config_dspikes("Na", threshold=-35 * mV, duration_rise=1.2 * ms, duration_fall=2.4 * ms,
                         offset_fall=0.2 * ms, refractory=5 * ms,
                         reversal_rise="E_Na", reversal_fall="E_K")
    neuron = model.make_neurongroup(2, method="euler", threshold="V_soma > -40*mV",
                                    reset="V_soma = -55*mV", refractory=4 * ms)
    trace = StateMonitor(neuron, ["V_soma", "V_prox", "V_dist"], record=True)
    spikes = SpikeMonitor(neuron)
    net = Network(neuron, trace, spikes)
    net.run(10 * ms)
    neuron.I_ext_dist = [150, 250] * pA
    net.run(60 * ms)
    neuron.I_ext_dist = 0 * pA
    net.run(20 * ms)
    if not ctx.build_on_run:
        ctx.build()
    return {"t": trace.t[:], "V_soma": trace.V_soma[:], "V_prox": trace.V_prox[:],
            "V_dist": trace.V_dist[:], "spikes_i": spikes.i[:], "spikes_t": spikes.t[:]}
