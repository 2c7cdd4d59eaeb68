"""The benchmark networks of the Brian2CUDA paper (Alevi et al. 2022, after the
Brian2GeNN benchmarks), written for Brisk's scripts (`scripts/gpu-model`,
`scripts/gpu-check`): plain Brian code, no monitors, sized by one number.

Each `build_<name>(N)` defines its network in the current Brian session
(after `set_device`) and returns the number of neurons and of synapses it will
have and the Brian objects (for a `Network`: Brian's magic `run()` only finds
objects in the caller's namespace). The model sizes follow the paper: N neurons (COBAHH, Brunel-Hakim,
mushroom body's Kenyon cells) or N synapses (STDP).

| name | network |
|---|---|
| `cobahh_uncoupled` | N Hodgkin-Huxley neurons (COBAHH), exponential Euler, no synapses |
| `cobahh_pseudocoupled` | the same with ~1000 synapses per neuron (p = 1000/N) of negligible weight |
| `brunel_hakim_homog` | Brunel & Hakim's sparse inhibitory LIF network with noise (`xi`), 1000 synapses per neuron, delays 2 ms |
| `brunel_hakim_heterog` | the same with delays uniform in [0, 4] ms (and the paper's input for a similar regime) |
| `stdp` | N Poisson inputs at 15 Hz onto N/1000 LIF neurons, 1000 each, event-driven STDP (Song, Abbott & Miller) |
| `mushroom_body` | 100 projection neurons (spike generator) -> N Kenyon cells (Traub-Miles HH) -> 100 output cells with STDP |

Added for the CPU benchmark (`scripts/bench-paper --preset cpu`), not in the paper:

| name | network |
|---|---|
| `cuba` | Brian's CUBA example: N LIF neurons, 80% excitatory, p = 0.02, `ge += we` / `gi += wi` |
| `stdp_all_to_all` | N Poisson inputs at 15 Hz onto N/1000 LIF neurons, all to all, the STDP rule above |
| `poisson_delays` | N Poisson inputs at 15 Hz onto N/1000 LIF neurons, one synapse per input, delays uniform in [0, 5] ms |
"""

import numpy as np
from brian2 import (
    Equations,
    NeuronGroup,
    PoissonGroup,
    SpikeGeneratorGroup,
    Synapses,
    cm,
    Hz,
    ms,
    msiemens,
    mV,
    nF,
    nS,
    second,
    siemens,
    ufarad,
    umetre,
    uS,
)


def _cobahh(N, coupled):
    area = 20000 * umetre**2
    Cm = (1 * ufarad * cm**-2) * area
    gl = (5e-5 * siemens * cm**-2) * area
    El, EK, ENa, VT = -60 * mV, -90 * mV, 50 * mV, -63 * mV
    g_na = (100 * msiemens * cm**-2) * area
    g_kd = (30 * msiemens * cm**-2) * area
    taue, taui, Ee, Ei = 5 * ms, 10 * ms, 0 * mV, -80 * mV
    eqs = Equations("""
    dv/dt = (gl*(El-v) + ge*(Ee-v) + gi*(Ei-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK))/Cm : volt
    dm/dt = alpha_m*(1-m) - beta_m*m : 1
    dn/dt = alpha_n*(1-n) - beta_n*n : 1
    dh/dt = alpha_h*(1-h) - beta_h*h : 1
    dge/dt = -ge*(1./taue) : siemens
    dgi/dt = -gi*(1./taui) : siemens
    alpha_m = 0.32*(mV**-1)*(13*mV-v+VT)/(exp((13*mV-v+VT)/(4*mV))-1.)/ms : Hz
    beta_m = 0.28*(mV**-1)*(v-VT-40*mV)/(exp((v-VT-40*mV)/(5*mV))-1)/ms : Hz
    alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
    beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*(15*mV-v+VT)/(exp((15*mV-v+VT)/(5*mV))-1.)/ms : Hz
    beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
    """)
    P = NeuronGroup(N, eqs, threshold="v > -20*mV", refractory=3 * ms, method="exponential_euler",
                    namespace=dict(gl=gl, El=El, EK=EK, ENa=ENa, VT=VT, g_na=g_na, g_kd=g_kd, Cm=Cm,
                                   taue=taue, taui=taui, Ee=Ee, Ei=Ei))
    P.v = "El + (randn()*5 - 5)*mV"
    P.ge = "(randn()*1.5 + 4)*10.*nS"
    P.gi = "(randn()*12 + 20)*10.*nS"
    synapses = 0
    if coupled:
        num_exc = int(0.8 * N)
        p = min(1.0, 1000.0 / N)
        Ce = Synapses(P[:num_exc], P, "we : siemens (constant)", on_pre="ge += we", delay=0 * ms)
        Ci = Synapses(P[num_exc:], P, "wi : siemens (constant)", on_pre="gi += wi", delay=0 * ms)
        Ce.connect(p=p)
        Ci.connect(p=p)
        Ce.we = "rand()*1e-9*nS"  # effectively zero, but not optimised away
        Ci.wi = "rand()*1e-9*nS"
        synapses = int(round(N * N * p))
        return N, synapses, [P, Ce, Ci]
    return N, synapses, [P]


def build_cobahh_uncoupled(N):
    return _cobahh(N, coupled=False)


def build_cobahh_pseudocoupled(N):
    return _cobahh(N, coupled=True)


def _brunel_hakim(N, heterog):
    Vr, theta, tau, taurefr = 10 * mV, 20 * mV, 20 * ms, 2 * ms
    C = 1000
    sparseness = min(1.0, float(C) / N)
    J = 0.1 * mV
    muext, sigmaext = (27 * mV, 0.33 * mV) if heterog else (25 * mV, 1 * mV)
    group = NeuronGroup(N, "dV/dt = (-V + muext + sigmaext*sqrt(tau)*xi)/tau : volt",
                        threshold="V > theta", reset="V = Vr", refractory=taurefr, method="euler",
                        namespace=dict(muext=muext, sigmaext=sigmaext, tau=tau, theta=theta, Vr=Vr))
    group.V = Vr
    conn = Synapses(group, group, on_pre="V += -J", delay=None if heterog else 2 * ms,
                    namespace=dict(J=J))
    conn.connect(p=sparseness)
    if heterog:
        conn.delay = "4*ms*rand()"
    return N, int(round(N * N * sparseness)), [group, conn]


def build_brunel_hakim_homog(N):
    return _brunel_hakim(N, heterog=False)


def build_brunel_hakim_heterog(N):
    return _brunel_hakim(N, heterog=True)


def build_stdp(N, all_to_all=False):
    """N synapses: N Poisson inputs, N/1000 neurons with 1000 contiguous inputs each
    (`all_to_all`: N * N/1000 synapses, every input onto every neuron)."""
    K = 1000
    N = max(K, (N // K) * K)
    taum, taupre, taupost, taue = 10 * ms, 20 * ms, 20 * ms, 5 * ms
    Ee, vt, vr, El = 0 * mV, -54 * mV, -60 * mV, -74 * mV
    gmax = 0.01
    dApre = 0.01 * gmax
    dApost = -0.01 * taupre / taupost * 1.05 * gmax
    ns = dict(taum=taum, taupre=taupre, taupost=taupost, taue=taue, Ee=Ee, vt=vt, vr=vr, El=El,
              gmax=gmax, dApre=dApre, dApost=dApost, K=K)
    inputs = PoissonGroup(N, rates=15 * Hz)
    neurons = NeuronGroup(N // K, """dv/dt = (ge*(Ee - vr) + El - v)/taum : volt
                                   dge/dt = -ge/taue : 1""",
                          threshold="v > vt", reset="v = vr", method="exact", namespace=ns)
    S = Synapses(inputs, neurons, """w : 1
                 dApre/dt = -Apre/taupre : 1 (event-driven)
                 dApost/dt = -Apost/taupost : 1 (event-driven)""",
                 on_pre="""ge += w
                 Apre += dApre
                 w = clip(w + Apost, 0, gmax)""",
                 on_post="""Apost += dApost
                 w = clip(w + Apre, 0, gmax)""", namespace=ns)
    if all_to_all:
        S.connect()
    else:
        S.connect("i < (j + 1)*K and i >= j*K")
    S.w = "rand()*gmax"
    return N + N // K, N * (N // K if all_to_all else 1), [inputs, neurons, S]


def build_stdp_all_to_all(N):
    return build_stdp(N, all_to_all=True)


def build_cuba(N):
    ns = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV, El=-49 * mV,
              we=(60 * 0.27 / 10) * mV, wi=(-20 * 4.5 / 10) * mV)
    P = NeuronGroup(N, """dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
                    dge/dt = -ge/taue : volt
                    dgi/dt = -gi/taui : volt""",
                    threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact", namespace=ns)
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    Ce = Synapses(P, P, on_pre="ge += we", namespace=ns)
    Ci = Synapses(P, P, on_pre="gi += wi", namespace=ns)
    Ce.connect("i<%d" % int(0.8 * N), p=0.02)
    Ci.connect("i>=%d" % int(0.8 * N), p=0.02)
    return N, int(round(N * N * 0.02)), [P, Ce, Ci]


def build_poisson_delays(N):
    """N Poisson inputs, each with one synapse onto one of N/1000 LIF neurons, delays uniform in [0, 5] ms."""
    K = 1000
    N = max(K, (N // K) * K)
    ns = dict(taum=10 * ms, taue=5 * ms, Ee=0 * mV, vt=-54 * mV, vr=-60 * mV, El=-74 * mV, w=0.05)
    inputs = PoissonGroup(N, rates=15 * Hz)
    neurons = NeuronGroup(N // K, """dv/dt = (ge*(Ee - vr) + El - v)/taum : volt
                                   dge/dt = -ge/taue : 1""",
                          threshold="v > vt", reset="v = vr", method="exact", namespace=ns)
    neurons.v = ns["vr"]
    S = Synapses(inputs, neurons, on_pre="ge += w", namespace=ns)
    S.connect(j="i // %d" % K)
    S.delay = "5*ms*rand()"
    return N + N // K, N, [inputs, neurons, S]


def build_mushroom_body(N, duration=10 * second):
    N_AL, N_LB = 100, 100
    ns = dict(g_Na=7.15 * uS, E_Na=50 * mV, g_K=1.43 * uS, E_K=-95 * mV, g_leak=0.0267 * uS,
              E_leak=-63.56 * mV, C=0.3 * nF, VT=-63 * mV, E_e=0 * mV, E_i=-92 * mV,
              tau_PN_iKC=2 * ms, tau_iKC_eKC=10 * ms, tau_eKC_eKC=5 * ms, tau_pre=10 * ms, tau_post=10 * ms)
    kc_inputs = min(N, 10000)
    g_scaling = max(1.0, kc_inputs / 2500)
    ns.update(dApre=0.1 * nS / g_scaling, dApost=-0.1 * nS / g_scaling, g_max=3.75 * nS / g_scaling,
              g_scaling=g_scaling, scale=0.675, w_eKC_eKC=75 * nS)
    traub_miles = """
    dV/dt = -(1/C)*(g_Na*m**3*h*(V - E_Na) + g_K*n**4*(V - E_K) + g_leak*(V - E_leak) + I_syn) : volt
    dm/dt = alpha_m*(1 - m) - beta_m*m : 1
    dn/dt = alpha_n*(1 - n) - beta_n*n : 1
    dh/dt = alpha_h*(1 - h) - beta_h*h : 1
    alpha_m = 0.32*(mV**-1)*(13*mV-V+VT)/(exp((13*mV-V+VT)/(4*mV))-1.)/ms : Hz
    beta_m = 0.28*(mV**-1)*(V-VT-40*mV)/(exp((V-VT-40*mV)/(5*mV))-1)/ms : Hz
    alpha_h = 0.128*exp((17*mV-V+VT)/(18*mV))/ms : Hz
    beta_h = 4./(1+exp((40*mV-V+VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*(15*mV-V+VT)/(exp((15*mV-V+VT)/(5*mV))-1.)/ms : Hz
    beta_n = .5*exp((10*mV-V+VT)/(40*mV))/ms : Hz
    """
    # odour patterns: 10 patterns of 20 projection neurons, presented every 50 ms with jitter
    rng = np.random.default_rng(11)
    presentations = int(duration / (50 * ms))
    patterns = [rng.choice(N_AL, 20, replace=False) for _ in range(10)]
    indices, times = [], []
    for k in range(presentations):
        p = patterns[k % 10]
        indices.append(np.sort(p))
        times.append(np.full(p.size, k * 50.0 + 1.0 + 2.0 * rng.random()))
    PN = SpikeGeneratorGroup(N_AL, np.concatenate(indices), np.concatenate(times) * ms)
    iKC = NeuronGroup(N, Equations(traub_miles) + Equations("""I_syn = g_PN_iKC*(V - E_e) : amp
                      dg_PN_iKC/dt = -g_PN_iKC/tau_PN_iKC : siemens"""),
                      threshold="V > 0*mV", refractory="V > 0*mV", method="exponential_euler", namespace=ns)
    eKC = NeuronGroup(N_LB, Equations(traub_miles) + Equations("""I_syn = g_iKC_eKC*(V - E_e) + g_eKC_eKC*(V - E_i) : amp
                      dg_iKC_eKC/dt = -g_iKC_eKC/tau_iKC_eKC : siemens
                      dg_eKC_eKC/dt = -g_eKC_eKC/tau_eKC_eKC : siemens"""),
                      threshold="V > 0*mV", refractory="V > 0*mV", method="exponential_euler", namespace=ns)
    PN_iKC = Synapses(PN, iKC, "weight : siemens", on_pre="g_PN_iKC += scale*weight", namespace=ns)
    iKC_eKC = Synapses(iKC, eKC, """g_raw : siemens
                       dApre/dt = -Apre/tau_pre : siemens (event-driven)
                       dApost/dt = -Apost/tau_post : siemens (event-driven)""",
                       on_pre="""g_iKC_eKC += g_raw
                       Apre += dApre
                       g_raw = clip(g_raw + Apost, 0*siemens, g_max)""",
                       on_post="""Apost += dApost
                       g_raw = clip(g_raw + Apre, 0*siemens, g_max)""", namespace=ns)
    eKC_eKC = Synapses(eKC, eKC, on_pre="g_eKC_eKC += scale*w_eKC_eKC", namespace=ns)
    PN_iKC.connect(p=0.15)
    iKC_eKC.connect(p=min(1.0, 10000.0 / N))
    eKC_eKC.connect()
    PN_iKC.weight = "10*nS + 1.25*nS*randn()"
    iKC_eKC.g_raw = "rand()*g_max/10/g_scaling"
    iKC_eKC.g_raw["rand() < 0.2"] = "(2.5*nS + 0.5*nS*randn())/g_scaling"
    for G in (iKC, eKC):
        G.V = ns["E_leak"]
        G.h = 1
        G.m = 0
        G.n = 0.5
    synapses = int(N_AL * N * 0.15 + N * N_LB * min(1.0, 10000.0 / N) + N_LB * N_LB)
    return N_AL + N + N_LB, synapses, [PN, iKC, eKC, PN_iKC, iKC_eKC, eKC_eKC]


MODELS = {
    "cobahh_uncoupled": build_cobahh_uncoupled,
    "cobahh_pseudocoupled": build_cobahh_pseudocoupled,
    "brunel_hakim_homog": build_brunel_hakim_homog,
    "brunel_hakim_heterog": build_brunel_hakim_heterog,
    "stdp": build_stdp,
    "mushroom_body": build_mushroom_body,
    "cuba": build_cuba,
    "stdp_all_to_all": build_stdp_all_to_all,
    "poisson_delays": build_poisson_delays,
}
