"""SpatialNeuron models (test_spatial.py): Brian's cable solve
(``spatialstateupdate``) with the morphologies, currents, synapses,
thresholds and monitors of Brian's multicompartment examples."""

import os

import numpy as np
from brian2 import (
    Cylinder,
    Morphology,
    Section,
    SpatialNeuron,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    Soma,
    amp,
    cm,
    defaultclock,
    meter,
    mS,
    ms,
    mV,
    nA,
    ohm,
    uA,
    run,
    siemens,
    uF,
    um,
)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def rall_cable(ctx):
    """A Rall-type neuron: a soma and a dendrite that branches into two
    daughters whose diameters satisfy Rall's 3/2 rule (an equivalent
    cylinder), passive membrane, a current into the soma (``I_inj``-style
    point current) switched off for a second run, and ``Section`` with
    tapering diameters; StateMonitor on every compartment."""
    defaultclock.dt = 0.01 * ms
    d_parent = 2 * um
    d_child = d_parent / 2 ** (2.0 / 3)  # d_parent**1.5 = 2 * d_child**1.5
    morpho = Soma(25 * um)
    morpho.dend = Cylinder(diameter=d_parent, length=300 * um, n=12)
    morpho.dend.L = Cylinder(diameter=d_child, length=150 * um, n=6)
    morpho.dend.R = Cylinder(diameter=d_child, length=150 * um, n=6)
    morpho.axon = Section(diameter=[1.5, 1.2, 1.0, 0.8, 0.6] * um, length=[20, 20, 20, 20] * um, n=4)
    eqs = """Im = gL*(EL - v) : amp/meter**2
    I_inj : amp (point current)
    gL : siemens/meter**2"""
    neuron = SpatialNeuron(morphology=morpho, model=eqs, Cm=1 * uF / cm**2, Ri=150 * ohm * cm,
                           method="exact", namespace={"EL": -70 * mV}, name="rall")
    neuron.gL = 1e-4 * siemens / cm**2
    neuron.dend.gL = 2e-4 * siemens / cm**2  # a subtree
    neuron.v = -70 * mV
    neuron.I_inj[0] = 0.3 * nA
    trace = StateMonitor(neuron, ["v", "Im"], record=True, dt=0.1 * ms, name="rall_trace")
    run(15 * ms)
    neuron.I_inj[0] = 0 * nA
    run(10 * ms)
    if not ctx.build_on_run:
        ctx.build()
    return {"t": trace.t[:], "v": trace.v[:], "Im": trace.Im[:], "v_end": neuron.v[:],
            "Ic_end": neuron.Ic[:], "distance": neuron.distance[:], "area": neuron.area[:]}


def swc_branched(ctx):
    """A branched morphology from an SWC file (soma, axon, a dendrite that
    branches twice, with coordinates), an active sodium-like current, a
    threshold and reset at the soma with refractoriness, synapses from a
    spike generator onto dendritic compartments and onto a subgroup, and
    monitors on subgroups of compartments."""
    defaultclock.dt = 0.025 * ms
    morpho = Morphology.from_file(os.path.join(DATA, "branched.swc"))
    eqs = """Im = gL*(EL - v) + gNa*m**3*(ENa - v) : amp/meter**2
    dm/dt = (m_inf - m)/(0.2*ms) : 1
    m_inf = 1/(1 + exp((-40*mV - v)/(6*mV))) : 1
    Is : amp (point current)
    dg/dt = -g/(3*ms) : siemens
    Isyn = g*(0*mV - v) : amp (point current)"""
    neuron = SpatialNeuron(
        morphology=morpho, model=eqs, Cm=1 * uF / cm**2, Ri=100 * ohm * cm,
        threshold="v > -30*mV", threshold_location=0, reset="v = -65*mV", refractory=2 * ms,
        method="exponential_euler", name="swc",
        namespace={"gL": 3e-4 * siemens / cm**2, "EL": -65 * mV, "gNa": 0.02 * siemens / cm**2,
                   "ENa": 50 * mV},
    )
    neuron.v = -65 * mV
    neuron.m = "m_inf"
    neuron.Is[0] = 0.05 * nA
    inputs = SpikeGeneratorGroup(3, [0, 1, 2, 0, 1, 2, 0], [1, 2, 3, 6, 7, 8, 12] * ms, name="swc_inputs")
    tips = [neuron.dend.dend.dend.indices[-1], neuron.dend.dend.dend2.indices[-1], neuron.dend.dend2.indices[-1]]
    syn = Synapses(inputs, neuron, "w : siemens", on_pre="g_post += w", name="swc_syn")
    syn.connect(i=[0, 1, 2], j=[int(k) for k in tips])
    syn.w = "(1 + i) * 2*nS"
    trunk = neuron.dend  # a subtree as a subgroup
    syn2 = Synapses(inputs, trunk[1:3], on_pre="g_post += 1*nS", name="swc_syn_trunk")
    syn2.connect(i=0, j=[0, 1])
    spikes = SpikeMonitor(neuron, name="swc_spikes")
    soma_trace = StateMonitor(neuron, ["v", "m"], record=[0], name="swc_soma")
    dend_trace = StateMonitor(neuron.dend.dend, "v", record=True, name="swc_dend")
    axon_trace = StateMonitor(neuron.axon[2:5], "v", record=[0, 2], name="swc_axon")
    run(20 * ms)
    return {"spikes_i": spikes.i[:], "spikes_t": spikes.t[:], "soma_v": soma_trace.v[:],
            "soma_m": soma_trace.m[:], "dend_v": dend_trace.v[:], "axon_v": axon_trace.v[:],
            "x": neuron.x[:], "y": neuron.y[:], "z": neuron.z[:], "v_end": neuron.v[:],
            "g_end": neuron.g[:], "sections": np.array(morpho.total_sections)}


def hh_axon(ctx):
    """A Hodgkin-Huxley axon (Brian's multicompartment HH example, shorter):
    a current into one end starts spikes that propagate, detected at a
    location down the axon; a synapse from a spike generator excites the
    far end, whose spike travels back; spikes monitored at the threshold
    location, traces along the axon; three runs (build_on_run=False)."""
    defaultclock.dt = 0.01 * ms
    morpho = Cylinder(length=3 * cm / 10, diameter=2 * 238 * um / 10, n=60, type="axon")
    El = 10.613 * mV
    ENa = 115 * mV
    EK = -12 * mV
    gl = 0.3 * mS / cm**2
    gNa0 = 120 * mS / cm**2
    gK = 36 * mS / cm**2
    eqs = """
    Im = gl * (El-v) + gNa * m**3 * h * (ENa-v) + gK * n**4 * (EK-v) : amp/meter**2
    dm/dt = alpham * (1-m) - betam * m : 1
    dn/dt = alphan * (1-n) - betan * n : 1
    dh/dt = alphah * (1-h) - betah * h : 1
    alpham = (0.1/mV) * 10*mV/exprel((-v+25*mV)/(10*mV))/ms : Hz
    betam = 4 * exp(-v/(18*mV))/ms : Hz
    alphah = 0.07 * exp(-v/(20*mV))/ms : Hz
    betah = 1/(exp((-v+30*mV) / (10*mV)) + 1)/ms : Hz
    alphan = (0.01/mV) * 10*mV/exprel((-v+10*mV)/(10*mV))/ms : Hz
    betan = 0.125*exp(-v/(80*mV))/ms : Hz
    gNa : siemens/meter**2
    I : amp (point current)
    dgs/dt = -gs/(1*ms) : siemens
    Is = gs*(60*mV - v) : amp (point current)
    """
    neuron = SpatialNeuron(morphology=morpho, model=eqs, method="exponential_euler",
                           refractory="m > 0.4", threshold="m > 0.5", threshold_location=30,
                           Cm=1 * uF / cm**2, Ri=35.4 * ohm * cm, name="hh",
                           namespace={"El": El, "ENa": ENa, "EK": EK, "gl": gl, "gK": gK})
    neuron.v = 0 * mV
    neuron.h = 1
    neuron.m = 0
    neuron.n = 0.5
    neuron.I = 0 * amp
    neuron.gNa = gNa0
    neuron[5:10].gNa = 0 * siemens / meter**2  # a passive stretch
    stim = SpikeGeneratorGroup(1, [0, 0], [8, 14] * ms, name="hh_stim")
    syn = Synapses(stim, neuron, on_pre="gs_post += 5*uS", name="hh_syn")
    syn.connect(i=0, j=59)
    spikes = SpikeMonitor(neuron, name="hh_spikes")
    trace = StateMonitor(neuron, ["v", "m"], record=[0, 15, 30, 45, 59], name="hh_trace")
    run(1 * ms)
    neuron.I[0] = 1 * uA
    run(0.5 * ms)
    neuron.I = 0 * amp
    run(18.5 * ms)
    if not ctx.build_on_run:
        ctx.build()
    return {"spikes_i": spikes.i[:], "spikes_t": spikes.t[:], "v": trace.v[:], "m": trace.m[:],
            "t": trace.t[:], "v_end": neuron.v[:], "n_end": neuron.n[:], "h_end": neuron.h[:]}

