"""Synapses models for the end-to-end tests (test_synapses*.py), one function
per model, run like those of ``models.py`` (see its docstring)."""

import numpy as np
from brian2 import (
    Hz,
    Network,
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    defaultclock,
    meter,
    ms,
    mV,
    run,
    seed,
)

from models import _spikes


# -- Synapses -------------------------------------------------------------------------------
#
# Five models (four that run, one that must fail) cover Brian's Synapses. The
# deterministic ones (`synapses_network`, `synapses_plasticity`,
# `synapses_connect`) must match cpp_standalone exactly; `synapses_random`
# uses ``connect(p=...)``, ``sample(...)`` and ``rand()``, so it is compared
# statistically. Weights that several synapses add onto one target in one
# time step are homogeneous wherever spike trains are compared exactly, so
# the result does not depend on the order of the additions.

#: CUBA constants (Brian's ``CUBA.py`` example)
CUBA = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV, El=-49 * mV)
CUBA_EQS = """dv/dt = (ge + gi - (v - El))/taum : volt (unless refractory)
              dge/dt = -ge/taue : volt
              dgi/dt = -gi/taui : volt"""
#: (excitatory, inhibitory) neurons of the deterministic CUBA network
SYN_CUBA_SIZES = (80, 20)


def synapses_network(ctx):
    """Spike propagation, delays and pathways; two ``run()`` calls of 60 ms
    (``build_on_run=False`` + ``device.build()``).

    * ``cuba``: the CUBA network (80 excitatory, 20 inhibitory neurons,
      ``on_pre='ge += we'`` / ``'gi += wi'``) with a deterministic pattern,
      ``connect(condition='j % 25 == (i*7 + 3) % 25')`` (4 targets per
      excitatory source) and ``'j % 10 == (i*3 + 1) % 10'`` (10 per
      inhibitory source), sources are the subgroups ``P[:80]``/``P[80:]``;
    * ``chain``: a feed-forward chain of 8 neurons (neuron 0 driven),
      ``ff`` (i -> i+1, ``connect(j='i + 1', skip_if_invalid=True)``,
      ``delay = '(i + 1)*0.3*ms'``, changed to ``'(8 - j)*0.2*ms'`` between
      the runs) and ``skip`` (i -> i+2, ``delay = 'j*0.1*ms'``);
    * ``readout``: ``Synapses(chain, readout, ..., delay=2*ms)`` (homogeneous);
    * ``mp_src`` -> ``mp_tgt``: two pre pathways ``{'up', 'down'}`` with
      delays 1 and 2 ms, and ``on_post`` writing ``v_pre``; ``connect(condition='j <= i')``.
    """
    assert not ctx.build_on_run
    defaultclock.dt = 0.1 * ms
    taum, taue, taui = CUBA["taum"], CUBA["taue"], CUBA["taui"]
    Vt, Vr, El = CUBA["Vt"], CUBA["Vr"], CUBA["El"]
    we = (60 * 0.27 / 10) * mV  # noqa: F841  (used in on_pre)
    wi = (-20 * 4.5 / 10) * mV  # noqa: F841
    n_e, n_i = SYN_CUBA_SIZES
    N = n_e + n_i
    P = NeuronGroup(N, CUBA_EQS, threshold="v > Vt", reset="v = Vr", refractory=5 * ms,
                    method="exact", name="cuba")
    P.v = Vr + (np.arange(N) * 37 % 100) / 100.0 * (Vt - Vr)
    Ce = Synapses(P[:n_e], P, on_pre="ge += we", name="cuba_exc")
    Ce.connect(condition="j % 25 == (i*7 + 3) % 25")
    Ci = Synapses(P[n_e:], P, on_pre="gi += wi", name="cuba_inh")
    Ci.connect(condition="j % 10 == (i*3 + 1) % 10")

    chain = NeuronGroup(8, "dv/dt = (I - v)/(5*ms) : 1\nI : 1 (constant)",
                        threshold="v > 1", reset="v = 0", method="exact", name="chain")
    chain.I = np.r_[1.3, np.zeros(7)]
    ff = Synapses(chain, chain, "w : 1 (constant)", on_pre="v_post += w", name="ff")
    ff.connect(j="i + 1", skip_if_invalid=True)
    ff.w = 1.5
    ff.delay = "(i + 1)*0.3*ms"
    skip = Synapses(chain, chain, on_pre="v_post += 0.6", name="skip")
    skip.connect(condition="j == i + 2")
    skip.delay = "j*0.1*ms"
    readout = NeuronGroup(8, "dv/dt = -v/(10*ms) : 1", threshold="v > 0.5", reset="v = 0",
                          method="exact", name="readout")
    hom = Synapses(chain, readout, on_pre="v_post += 0.7", delay=2 * ms, name="hom")
    hom.connect(j="i")

    src = NeuronGroup(5, "dv/dt = (I - v)/(10*ms) : 1\nI : 1 (constant)",
                      threshold="v > 1", reset="v = 0", method="exact", name="mp_src")
    src.I = 1.2 + 0.1 * np.arange(5)
    tgt = NeuronGroup(4, "dv/dt = -v/(10*ms) : 1", threshold="v > 0.15", reset="v = 0",
                      method="exact", name="mp_tgt")
    mp = Synapses(src, tgt, on_pre={"up": "v_post += 0.1", "down": "v_post -= 0.05"},
                  on_post="v_pre += 0.02", delay={"up": 1 * ms, "down": 2 * ms}, name="pathways")
    mp.connect(condition="j <= i")

    groups = [P, chain, readout, src, tgt]
    spikes = {G.name: SpikeMonitor(G) for G in groups}
    sp_cuba, sp_chain, sp_readout, sp_src, sp_tgt = spikes.values()  # noqa: F841
    v_mon = StateMonitor(tgt, "v", record=True, name="mp_tgt_v")
    run(60 * ms)
    ff.delay = "(8 - j)*0.2*ms"
    run(60 * ms)
    ctx.build()
    out = {}
    for name, mon in spikes.items():
        out.update(_spikes(name, mon))
    out["mp_tgt_v"] = v_mon.v[:]
    for G in groups:
        out[f"{G.name}_v_final"] = G.v[:]
    for S in (Ce, Ci, ff, skip, hom, mp):
        out.update(_synapse_arrays(S))
    out["ff_delay"] = ff.delay[:]
    out["skip_delay"] = skip.delay[:]
    out["hom_delay"] = np.array(hom.delay[:])
    out["pathways_up_delay"] = np.array(mp.up.delay[:])
    out["pathways_down_delay"] = np.array(mp.down.delay[:])
    out["t_end"] = np.array(defaultclock.t)
    return out


def _synapse_arrays(S, prefix=None):
    """Connectivity of ``S``: i, j, the internal (absolute) indices, N_incoming/N_outgoing, N.

    Indices are returned as int32: after ``connect(i=array, j=array)``
    cpp_standalone returns the cached int64 arrays it was given.
    """
    prefix = prefix or S.name
    index = lambda values: np.asarray(values, dtype=np.int32)  # noqa: E731
    return {
        f"{prefix}_i": index(S.i[:]),
        f"{prefix}_j": index(S.j[:]),
        f"{prefix}_pre_abs": index(S.variables["_synaptic_pre"].get_value()),
        f"{prefix}_post_abs": index(S.variables["_synaptic_post"].get_value()),
        f"{prefix}_N_incoming": S.N_incoming[:],
        f"{prefix}_N_outgoing": S.N_outgoing[:],
        f"{prefix}_N": np.array(len(S)),
    }


#: STDP constants (Brian's ``STDP.py`` example, Song, Miller and Abbott 2000)
STDP_GMAX = 0.08
#: ``dApre`` relative to ``gmax`` (20 times the example's, so that ``clip`` binds at
#: both ends: about 10 % of the weights end at 0 and 40 % at gmax)
STDP_DAPRE = 0.2
STDP_N_INPUT = 40
STDP_N_POST = 3


def synapses_plasticity(ctx):
    """STDP and summed variables, 1 s, deterministic inputs.

    * ``stdp``: Song-Abbott-Miller STDP (``Apre``/``Apost`` event-driven,
      ``w = clip(...)`` in ``on_pre`` and ``on_post``) from 40 inputs that
      fire periodically (``dv/dt = rate``, ``v > 1``) onto 3 conductance
      based neurons, all to all, ``w`` set by a string of ``i`` and ``j``;
      ``StateMonitor(S, 'w', record=[0, 2, 5])``;
    * ``summed_all``: ``Isyn_post = w*s : 1 (summed)`` with a clock-driven
      ``ds/dt = -s/(5*ms)``, onto all of ``sum_tgt`` (8 neurons);
    * ``summed_sub_a``/``summed_sub_b``: a second summed variable
      ``Isyn2`` onto the non-overlapping subgroups ``sum_tgt[0:3]`` and
      ``sum_tgt[5:8]`` (from ``sum_src[2:6]``); neurons 3 and 4 keep their
      initial ``Isyn2``.
    """
    defaultclock.dt = 0.1 * ms
    taum = 10 * ms
    taupre = 20 * ms
    taupost = taupre
    Ee = 0 * mV
    vt = -54 * mV
    vr = -60 * mV
    El = -74 * mV
    taue = 5 * ms
    gmax = STDP_GMAX
    dApre = STDP_DAPRE * gmax
    dApost = -dApre * taupre / taupost * 1.05
    inp = NeuronGroup(STDP_N_INPUT, "dv/dt = rate : 1\nrate : Hz (constant)",
                      threshold="v > 1", reset="v -= 1", method="euler", name="stdp_in")
    # rates and phases keep v away from 1 at every step (by > 1e-6), so that
    # rounding cannot move a spike by a step
    inp.rate = (10 + 1.5 * np.arange(STDP_N_INPUT)) * 1.0137 * Hz
    inp.v = (np.arange(STDP_N_INPUT) * 0.37) % 1 + 0.0113
    post = NeuronGroup(STDP_N_POST, """dv/dt = (ge*(Ee - v) + El - v)/taum : volt
                                       dge/dt = -ge/taue : 1""",
                       threshold="v > vt", reset="v = vr", method="euler", name="stdp_out")
    post.v = vr
    S = Synapses(inp, post,
                 """w : 1
                    dApre/dt = -Apre/taupre : 1 (event-driven)
                    dApost/dt = -Apost/taupost : 1 (event-driven)""",
                 on_pre="""ge += w
                           Apre += dApre
                           w = clip(w + Apost, 0, gmax)""",
                 on_post="""Apost += dApost
                            w = clip(w + Apre, 0, gmax)""",
                 name="stdp")
    S.connect()
    S.w = "gmax*((i*7 + j*3) % 10 + 1)/10.0"
    w_mon = StateMonitor(S, "w", record=[0, 2, 5], name="stdp_w")
    sp_inp = SpikeMonitor(inp)
    sp_post = SpikeMonitor(post)

    ssrc = NeuronGroup(6, "dv/dt = rate : 1\nrate : Hz (constant)", threshold="v > 1",
                       reset="v -= 1", method="euler", name="sum_src")
    ssrc.rate = (50 + 20 * np.arange(6)) * 1.0137 * Hz
    ssrc.v = (np.arange(6) * 0.29) % 1 + 0.0071
    stgt = NeuronGroup(8, """dv/dt = (Isyn + Isyn2 - v)/(10*ms) : 1
                             Isyn : 1
                             Isyn2 : 1""",
                       threshold="v > 1", reset="v = 0", method="euler", name="sum_tgt")
    stgt.Isyn2 = 0.7
    S1 = Synapses(ssrc, stgt, """w : 1 (constant)
                                 ds/dt = -s/(5*ms) : 1 (clock-driven)
                                 Isyn_post = w*s : 1 (summed)""",
                  on_pre="s += 1", name="summed_all")
    S1.connect(condition="(i + 2*j) % 3 != 0")
    S1.w = "0.3 + 0.1*((i + j) % 4)"
    S2a = Synapses(ssrc, stgt[0:3], """ds2/dt = -s2/(3*ms) : 1 (clock-driven)
                                       Isyn2_post = 0.8*s2 : 1 (summed)""",
                   on_pre="s2 += 1", name="summed_sub_a")
    S2a.connect(condition="i >= j")
    S2b = Synapses(ssrc[2:6], stgt[5:8], """ds2/dt = -s2/(3*ms) : 1 (clock-driven)
                                            c : 1 (constant)
                                            Isyn2_post = 0.5*s2 + c : 1 (summed)""",
                   on_pre="s2 += 1", name="summed_sub_b")
    S2b.connect(condition="i != j")
    S2b.c = "0.1*j"
    sum_mon = StateMonitor(stgt, ["Isyn", "Isyn2", "v"], record=True, name="sum_tgt_state")
    s_mon = StateMonitor(S1, "s", record=[0, 3], name="summed_all_s")
    sp_stgt = SpikeMonitor(stgt)
    run(1000 * ms)
    out = {}
    out.update(_spikes("stdp_in", sp_inp))
    out.update(_spikes("stdp_out", sp_post))
    out["stdp_w"] = S.w[:]
    out["stdp_Apre"] = S.Apre[:]
    out["stdp_Apost"] = S.Apost[:]
    out["stdp_lastupdate"] = S.lastupdate[:]
    out["stdp_w_mon"] = w_mon.w[:]
    out["stdp_w_mon_t"] = w_mon.t[:]
    out["stdp_out_ge"] = post.ge[:]
    out.update(_synapse_arrays(S))
    out.update(_spikes("sum_tgt", sp_stgt))
    for var in ("Isyn", "Isyn2", "v"):
        out[f"sum_tgt_{var}"] = getattr(sum_mon, var)[:]
        out[f"sum_tgt_{var}_final"] = getattr(stgt, var)[:]
    out["summed_all_s"] = s_mon.s[:]
    out["summed_all_s_final"] = S1.s[:]
    out["summed_all_w"] = S1.w[:]
    out["summed_sub_b_s2_final"] = S2b.s2[:]
    for S_ in (S1, S2a, S2b):
        out.update(_synapse_arrays(S_))
    return out


#: sizes of the groups of `synapses_connect`
CONN_PRE = 12
CONN_POST = 10


def synapses_connect(ctx):
    """Deterministic connection patterns and synaptic state (``conn_pre``: 12, ``conn_post``: 10).

    * ``neq``: ``connect(condition='j != i')`` (recurrent);
    * ``range``: ``connect(j='k for k in range(i-3, i+4)', skip_if_invalid=True)``;
    * ``multi`` (``multisynaptic_index='synapse_number'``, post -> pre):
      ``connect(i=[0, 0, 1], j=[1, 1, 2])``, ``connect(j='i', n=3)``,
      ``connect(j='i + 1', n=2, skip_if_invalid=True)`` (adds to the pair
      (0, 1) of the first call) and ``connect(condition='j == i + 5', n='1 + i % 2')``;
    * ``sub``: ``Synapses(conn_pre[2:8], conn_post[1:5])``, two connect()
      calls, heterogeneous delays, ``on_pre='v_post += w*sh'``; its state is set
      by a constant, a conditional string with pre/post variables, a string
      of ``i`` and ``j``, an integer, a ``(constant)`` and a ``(shared)``
      variable;
    * ``arr``: ``connect(i=array, j=array)`` and values set from arrays.
    """
    if not ctx.is_brisk:
        # Brian 2.11's synapses_create_array.cpp uses std::map (multisynaptic_index)
        # without including <map>
        from brian2 import prefs

        prefs.codegen.cpp.headers += ["<map>"]
    defaultclock.dt = 0.1 * ms
    G = NeuronGroup(CONN_PRE, """dv/dt = (I - v)/(2*ms) : 1
                                 x : 1 (constant)
                                 I : 1 (constant)""",
                    threshold="v > 1", reset="v = 0", method="exact", name="conn_pre")
    G.x = 0.5 * np.arange(CONN_PRE)
    G.I = 1.5 + 0.05 * np.arange(CONN_PRE)
    H = NeuronGroup(CONN_POST, """dv/dt = -v/(20*ms) : 1
                                  y : 1 (constant)""", method="exact", name="conn_post")
    H.y = 10.0 * np.arange(CONN_POST)

    neq = Synapses(G, G, "w : 1", name="neq")
    neq.connect(condition="j != i")
    rng = Synapses(G, H, "w : 1", name="range")
    rng.connect(j="k for k in range(i-3, i+4)", skip_if_invalid=True)
    rng.w = "i*100 + j"
    multi = Synapses(H, G, "w : 1", multisynaptic_index="synapse_number", name="multi")
    multi.connect(i=[0, 0, 1], j=[1, 1, 2])
    multi.connect(j="i", n=3)
    multi.connect(j="i + 1", n=2, skip_if_invalid=True)
    multi.connect(condition="j == i + 5", n="1 + i % 2")
    multi.w = "synapse_number + 10*i + 100*j"

    sub = Synapses(G[2:8], H[1:5], """w : 1
                                      c0 : 1 (constant)
                                      sh : 1 (shared)
                                      k : integer
                                      d : 1""",
                   on_pre="v_post += w*sh", name="sub")
    sub.connect(condition="(i + j) % 2 == 0")
    sub.connect(i=5, j=0)
    sub.w = 0.25
    sub.w["i > j"] = "x_pre + 0.01*y_post"
    sub.c0 = "i*10 + j"
    sub.sh = 0.5
    sub.k = "i*j - 3"
    sub.d = "x_pre - y_post + N_incoming"
    sub.delay = "j*0.2*ms + i*0.1*ms"

    arr = Synapses(G, H, "w : 1\nu : 1", name="arr")
    arr.connect(i=np.array([0, 3, 3, 7, 11]), j=np.array([9, 0, 4, 4, 2]))
    arr.w = np.array([0.5, 1.5, 2.5, 3.5, 4.5])
    arr.u = "w*2 + i"

    sp = SpikeMonitor(G)
    run(10 * ms)
    out = {}
    out.update(_spikes("conn_pre", sp))
    out["conn_post_v"] = H.v[:]
    for S in (neq, rng, multi, sub, arr):
        out.update(_synapse_arrays(S))
    out["range_w"] = rng.w[:]
    out["multi_synapse_number"] = multi.synapse_number[:]
    out["multi_w"] = multi.w[:]
    for var in ("w", "c0", "k", "d", "delay"):
        out[f"sub_{var}"] = getattr(sub, var)[:]
    out["sub_sh"] = np.array(sub.sh[:])
    out["arr_w"] = arr.w[:]
    out["arr_u"] = arr.u[:]
    if ctx.is_brisk:
        # String-indexed reads after the run (cpp_standalone raises NotImplementedError).
        out["sub_w_where"] = sub.w["i > j and w > 0.3"]
        out["sub_delay_where"] = sub.delay["v_post > 0 or j == 2"]
        out["sub_w_where_none"] = sub.w["i > 100"]
    return out


#: sizes of `synapses_random`
RAND_CUBA_SIZES = (800, 200)
RAND_CUBA_P = 0.02
RAND_A, RAND_B = 100, 200
RAND_P = 0.3
RAND_SAMPLE_P = 0.2
RAND_SAMPLE_SIZE = 3
#: positions (metres) and width of the distance-dependent connection probability
RAND_X_PRE = np.arange(60) * 7e-6
RAND_X_POST = np.arange(80) * 5e-6 + 3e-6
RAND_SIGMA = 50e-6


def synapses_random(ctx):
    """Random connectivity and ``rand()`` in synaptic state (compared statistically).

    * ``rcuba``: the CUBA network, 800 + 200 neurons, ``connect(p=0.02)``
      from the subgroups, ``v`` initialised with ``rand()``, 200 ms;
    * ``p03``: ``connect(p=0.3)`` between 100 and 200 neurons, ``w = 'rand()'``,
      ``z = 'randn()'``, ``delay = 'rand()*2*ms'``;
    * ``sample_p``: ``connect(j='k for k in sample(N_post, p=0.2)')``;
    * ``sample_size``: ``connect(j='k for k in sample(N_post, size=3)')``;
    * ``dist``: ``connect(p='exp(-(x_pre - x_post)**2/(2*(50*umeter)**2))')``.
    """
    seed(ctx.params.get("seed", 2025))
    defaultclock.dt = 0.1 * ms
    taum, taue, taui = CUBA["taum"], CUBA["taue"], CUBA["taui"]
    Vt, Vr, El = CUBA["Vt"], CUBA["Vr"], CUBA["El"]
    we = (60 * 0.27 / 10) * mV  # noqa: F841
    wi = (-20 * 4.5 / 10) * mV  # noqa: F841
    n_e, n_i = RAND_CUBA_SIZES
    P = NeuronGroup(n_e + n_i, CUBA_EQS, threshold="v > Vt", reset="v = Vr",
                    refractory=5 * ms, method="exact", name="rcuba")
    P.v = "Vr + rand()*(Vt - Vr)"
    Ce = Synapses(P[:n_e], P, on_pre="ge += we", name="rcuba_exc")
    Ce.connect(p=RAND_CUBA_P)
    Ci = Synapses(P[n_e:], P, on_pre="gi += wi", name="rcuba_inh")
    Ci.connect(p=RAND_CUBA_P)
    sp = SpikeMonitor(P)

    A = NeuronGroup(RAND_A, "v : 1", threshold="v > 1", name="rand_a")  # never fires
    B = NeuronGroup(RAND_B, "v : 1", name="rand_b")
    p03 = Synapses(A, B, "w : 1\nz : 1", on_pre="v_post += w", name="p03")
    p03.connect(p=RAND_P)
    p03.w = "rand()"
    p03.z = "randn()"
    p03.delay = "rand()*2*ms"
    sample_p = Synapses(A, B, name="sample_p")
    sample_p.connect(j=f"k for k in sample(N_post, p={RAND_SAMPLE_P})")
    sample_size = Synapses(A, B, name="sample_size")
    sample_size.connect(j=f"k for k in sample(N_post, size={RAND_SAMPLE_SIZE})")

    D1 = NeuronGroup(RAND_X_PRE.size, "x : meter (constant)", name="dist_pre")
    D1.x = RAND_X_PRE * meter
    D2 = NeuronGroup(RAND_X_POST.size, "x : meter (constant)", name="dist_post")
    D2.x = RAND_X_POST * meter
    dist = Synapses(D1, D2, name="dist")
    dist.connect(p="exp(-(x_pre - x_post)**2/(2*(50*umeter)**2))")
    run(200 * ms)
    out = {}
    out.update(_spikes("rcuba", sp))
    for S in (Ce, Ci, p03, sample_p, sample_size, dist):
        out.update(_synapse_arrays(S))
    out["p03_w"] = p03.w[:]
    out["p03_z"] = p03.z[:]
    out["p03_delay"] = p03.delay[:]
    return out


def synapses_bad_connect(ctx):
    """``connect(j='k for k in range(i-3, i+4)')`` without ``skip_if_invalid``: targets
    outside the group, an error at run time (cpp_standalone: the binary exits with
    status 1)."""
    G = NeuronGroup(10, "v : 1", name="bad_pre")
    H = NeuronGroup(10, "v : 1", name="bad_post")
    S = Synapses(G, H, "w : 1", name="range_overflow")
    S.connect(j="k for k in range(i-3, i+4)")
    run(1 * ms)
    return {"i": S.i[:], "j": S.j[:]}


def synapses_monitor_post(ctx):
    """A StateMonitor of a Synapses that records a postsynaptic variable (``g``, read
    through ``_postsynaptic_idx``: the target group has 1 neuron, the monitor records
    synapses 0 and 1) and a synaptic one (``x``); the Synapses also has a summed
    variable and clock-driven equations (issue 20: the recorded synapse indices were
    checked against the size of the postsynaptic group)."""
    inp = NeuronGroup(2, "dv/dt = (2 - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                      method="exact", name="monpost_source")
    inp.v = [0, 0.5]
    target = NeuronGroup(1, "g : 1", name="monpost_target")
    a = b = c = 1 / ms  # noqa: F841 (used by the equations)
    S = Synapses(inp, target, """dg_syn/dt = -a*g_syn + b*x*(1 - g_syn) : 1 (clock-driven)
                                g_post = g_syn : 1 (summed)
                                dx/dt = -c*x : 1 (clock-driven)
                                w : 1""", on_pre="x += w", method="euler", name="monpost_synapses")
    S.connect()
    S.w = "i + 1"
    M = StateMonitor(S, ["g", "x"], record=np.arange(2), name="monpost_monitor")
    run(30 * ms)
    return {"g": M.g[:], "x": M.x[:], "t": M.t[:], "g_final": target.g[:]}


def synapses_monitor_bad_index(ctx):
    """A StateMonitor of a Synapses recording synapse 5 of 2: an error when the run
    starts (the number of synapses is made by connect()), not a read past the arrays."""
    inp = NeuronGroup(2, "v : 1", name="badidx_source")
    target = NeuronGroup(1, "g : 1", name="badidx_target")
    S = Synapses(inp, target, "w : 1", name="badidx_synapses")
    S.connect()
    M = StateMonitor(S, ["w", "g"], record=[0, 5], name="badidx_monitor")
    run(1 * ms)
    return {"w": M.w[:]}


def changed_dt_pending_spikes(ctx):
    """Brian's test_changed_dt_spikes_in_queue: spikes still in a pathway's queue when
    ``dt`` changes between runs are moved to the new steps (Brian's rounding), not lost.
    Three runs (``build_on_run=False``)."""
    defaultclock.dt = 0.5 * ms
    G1 = NeuronGroup(1, "v:1", threshold="v>1", reset="v=0", name="dtq_source")
    G1.v = 1.1
    G2 = NeuronGroup(10, "v:1", threshold="v>1", reset="v=0", name="dtq_target")
    S = Synapses(G1, G2, on_pre="v+=1.1", name="dtq_syn")
    S.connect(True)
    S.delay = "j*ms"
    mon = SpikeMonitor(G2, name="dtq_mon")
    net = Network(G1, G2, S, mon)
    net.run(5 * ms)
    defaultclock.dt = 1 * ms
    net.run(3 * ms)
    defaultclock.dt = 0.1 * ms
    net.run(2 * ms)
    if not ctx.build_on_run:
        ctx.build()
    return {"t": mon.t[:], "i": mon.i[:]}
