"""Brian models for the end-to-end tests, one function per model.

Each function gets a `harness.Context` and is run by `harness.run_model` in a
fresh process, after ``set_device(...)`` (cpp_standalone or brisk). It
builds and runs a small network and returns a dict of arrays (quantities are
stored in SI units). Models combine several checks so that the number of
cpp_standalone builds stays small; the tests in ``test_*.py`` pick the
arrays they need.

Deterministic models must give identical results on both devices; models with
``rand()``, ``randn()`` or ``xi`` are compared statistically (Brisk uses its
own Philox generator).
"""

import numpy as np
from brian2 import (
    Equations,
    Network,
    Function,
    Hz,
    NeuronGroup,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    check_units,
    defaultclock,
    ms,
    mV,
    network_operation,
    run,
    seed,
)


def _spikes(prefix, mon):
    return {f"{prefix}_i": mon.i[:], f"{prefix}_t": mon.t[:], f"{prefix}_count": mon.count[:],
            f"{prefix}_num": np.array(mon.num_spikes)}


# -- integrators --------------------------------------------------------------------

#: deterministic methods; each gets its own groups in `integrators`
DETERMINISTIC_METHODS = ("euler", "exact", "exponential_euler", "rk2", "rk4", "heun")


def integrators(ctx):
    """Every deterministic integrator on equations it supports, 10 neurons, 50 ms.

    * ``linear_<method>``: a linear, coupled system with constant input
      (the only kind ``exact`` integrates), for every method;
    * ``cond_<method>``: conductance-based, conditionally linear with a
      time-dependent drive (``exponential_euler``'s kind), for every method
      except ``exact``;
    * ``fhn_<method>``: FitzHugh-Nagumo (cubic nonlinearity), for the
      explicit methods.
    """
    defaultclock.dt = 0.1 * ms
    tau = 10 * ms
    tau_w = 30 * ms
    f = 40 * Hz
    linear = Equations(
        """dv/dt = (I - v + 0.5*w)/tau : 1
           dw/dt = (v - w)/tau_w : 1
           I : 1 (constant)"""
    )
    cond = Equations(
        """dv/dt = (-(v + 0.07) - g*(v - 0.0) + I*(1 + sin(2*pi*f*t)))/tau : 1
           dg/dt = -g/tau_w + 0.02*(1 + cos(2*pi*f*t))/ms : 1
           I : 1 (constant)"""
    )
    fhn = Equations(
        """dv/dt = (v - v**3/3 - w + I)/tau : 1
           dw/dt = (v + 0.7 - 0.8*w)/(12.5*tau) : 1
           I : 1 (constant)"""
    )
    idx = np.arange(10)
    monitors = {}
    for method in DETERMINISTIC_METHODS:
        kinds = [("linear", linear)]
        if method != "exact":
            kinds.append(("cond", cond))
        if method not in ("exact", "exponential_euler"):
            kinds.append(("fhn", fhn))
        for kind, eqs in kinds:
            name = f"{kind}_{method}"
            G = NeuronGroup(10, eqs, method=method, name=name)
            # arrays, not strings: no extra code object to compile per group
            G.I = 0.2 + 0.1 * idx
            G.v = -0.5 + 0.05 * idx
            if kind == "cond":
                G.g = 0.01 * idx
            else:
                G.w = 0.1 * (idx % 3)
            monitors[name] = (G, StateMonitor(G, G.equations.diff_eq_names, record=True))
    # run() only collects objects held in local variables, not in containers
    Network([obj for pair in monitors.values() for obj in pair]).run(50 * ms)
    out = {}
    for name, (G, mon) in monitors.items():
        out[f"{name}_t"] = mon.t[:]
        for var in sorted(G.equations.diff_eq_names):
            out[f"{name}_{var}"] = getattr(mon, var)[:]
            out[f"{name}_{var}_final"] = getattr(G, var)[:]
    return out


# -- stochastic -----------------------------------------------------------------------

#: (group, method, noise) of `stochastic`
STOCHASTIC_GROUPS = (
    ("ou_euler", "euler", "additive"),
    ("ou_milstein", "milstein", "additive"),
    ("ou_heun", "heun", "additive"),
    ("gbm_milstein", "milstein", "multiplicative"),
    ("gbm_heun", "heun", "multiplicative"),
)
#: times at which the stochastic traces are sampled (>> tau apart: independent)
SAMPLE_STEPS = (200, 400, 600, 800, 999)
OU_TAU = 2 * ms
OU_SIGMA = 0.5


def stochastic(ctx):
    """Noise (``xi``) under euler/milstein/heun, ``rand()``/``randn()`` and a Poisson threshold.

    * ``ou_*``: Ornstein-Uhlenbeck, stationary mean 0 and variance sigma**2
      (euler: sigma**2/(1 - dt/(2*tau)));
    * ``gbm_*``: multiplicative noise around 1 (milstein is Ito, heun
      Stratonovich: their statistics differ, each is compared with Brian's);
    * ``uniform``/``normal``: 1000 values of ``rand()``/``randn()`` set by
      string expressions, one conditional;
    * ``poisson``: ``threshold='rand() < rate*dt'``, 100 neurons at 50 Hz.
    """
    seed(ctx.params.get("seed", 2024))
    defaultclock.dt = 0.1 * ms
    tau = OU_TAU
    sigma = OU_SIGMA
    monitors = {}
    for name, method, noise in STOCHASTIC_GROUPS:
        if noise == "additive":
            eqs = "dv/dt = -v/tau + sigma*sqrt(2/tau)*xi : 1"
        else:
            eqs = "dv/dt = (1 - v)/tau + 0.3*v*xi/sqrt(tau) : 1"
        G = NeuronGroup(100, eqs, method=method, name=name)
        G.v = 0 if noise == "additive" else 1
        monitors[name] = (G, StateMonitor(G, "v", record=True))
    rng = NeuronGroup(1000, "u : 1\nz : 1\nc : 1", name="rng")
    rng.u = "rand()"
    rng.z = "randn()"
    rng.c = -1
    rng.c["i >= 500"] = "2*rand()"
    poisson = NeuronGroup(100, "rate : Hz", threshold="rand() < rate*dt", name="poisson")
    poisson.rate = 50 * Hz
    spikes = SpikeMonitor(poisson)
    net = Network([obj for pair in monitors.values() for obj in pair])
    net.add(rng, poisson, spikes)
    net.run(100 * ms)
    out = {}
    for name, (_, mon) in monitors.items():
        out[f"{name}_samples"] = mon.v[:, list(SAMPLE_STEPS)]
        out[f"{name}_trace"] = mon.v[:3, :]
    out["uniform"] = rng.u[:]
    out["normal"] = rng.z[:]
    out["conditional"] = rng.c[:]
    out["poisson_count"] = spikes.count[:]
    out["poisson_i"] = spikes.i[:]
    out["poisson_t"] = spikes.t[:]
    return out


def seeded(ctx):
    """A small stochastic model whose results depend only on ``seed(ctx.params['seed'])``."""
    seed(ctx.params["seed"])
    tau = 5 * ms
    G = NeuronGroup(20, "dv/dt = -v/tau + 0.5*sqrt(2/tau)*xi : 1\nu : 1",
                    threshold="v > 0.8", reset="v = rand()*0.1", method="euler")
    G.v = "randn()*0.1"
    G.u = "rand()"
    mon = StateMonitor(G, "v", record=[0, 5, 19])
    spikes = SpikeMonitor(G)
    run(20 * ms)
    return {"v": mon.v[:], "u": G.u[:], "i": spikes.i[:], "t": spikes.t[:]}


# -- threshold, reset, refractoriness -----------------------------------------------


def refractoriness(ctx):
    """Threshold/reset/refractory variants, 10 neurons each, 100 ms.

    * ``fixed``: ``refractory=5*ms`` with ``(unless refractory)`` clamping v;
    * ``pervar``: ``refractory='ref'`` (a per-neuron constant), no clamping;
    * ``cond``: ``refractory='v > 0.8'`` (refractory while the condition
      holds) with no reset, sinusoidal drive;
    * ``adapt``: adaptive threshold ``v > 1 + w`` with a two-line reset.
    """
    defaultclock.dt = 0.1 * ms
    tau = 10 * ms
    fixed = NeuronGroup(
        10,
        "dv/dt = (I - v)/tau : 1 (unless refractory)\nI : 1 (constant)",
        threshold="v > 1",
        reset="v = 0",
        refractory=5 * ms,
        method="exact",
        name="fixed",
    )
    fixed.I = 1.2 + 0.3 * np.arange(10)
    pervar = NeuronGroup(
        10,
        "dv/dt = (I - v)/tau : 1\nI : 1 (constant)\nref : second (constant)",
        threshold="v > 1",
        reset="v = 0",
        refractory="ref",
        method="exact",
        name="pervar",
    )
    pervar.I = 1.5 + 0.2 * np.arange(10)
    pervar.ref = np.arange(10) * 0.7 * ms
    f = 30 * Hz
    cond = NeuronGroup(
        10,
        "dv/dt = (A*sin(2*pi*f*t) - v)/(2*ms) : 1\nA : 1 (constant)",
        threshold="v > 1",
        refractory="v > 0.8",
        method="euler",
        name="cond",
    )
    cond.A = 0.9 + 0.05 * np.arange(10)
    adapt = NeuronGroup(
        10,
        """dv/dt = (I - v)/tau : 1
           dw/dt = -w/(30*ms) : 1
           I : 1 (constant)""",
        threshold="v > 1 + w",
        reset="v = 0\nw += 0.2",
        method="euler",
        name="adapt",
    )
    adapt.I = 1.5 + 0.1 * np.arange(10)
    out = {}
    groups = [fixed, pervar, cond, adapt]
    mons = [(G, SpikeMonitor(G), StateMonitor(G, "v", record=[0, 4, 9])) for G in groups]
    Network([obj for triple in mons for obj in triple]).run(100 * ms)
    for G, spikes, states in mons:
        out.update(_spikes(G.name, spikes))
        out[f"{G.name}_v"] = states.v[:]
        out[f"{G.name}_lastspike"] = G.lastspike[:] if hasattr(G, "lastspike") else np.zeros(0)
        if hasattr(G, "not_refractory"):
            out[f"{G.name}_not_refractory"] = G.not_refractory[:]
    out["adapt_w"] = adapt.w[:]
    return out


# -- subgroups --------------------------------------------------------------------------


def subgroups(ctx):
    """Monitors on subgroups and variables set through subgroups (40 neurons, 60 ms)."""
    defaultclock.dt = 0.1 * ms
    tau = 10 * ms
    G = NeuronGroup(
        40,
        "dv/dt = (I - v)/tau : 1 (unless refractory)\nI : 1",
        threshold="v > 1",
        reset="v = 0",
        refractory=2 * ms,
        method="exact",
        name="neurons",
    )
    A = G[:10]
    B = G[10:25]
    C = G[25:]
    A.I = 1.5
    B.I = "1.1 + 0.1*i"  # i counts from 0 within the subgroup
    C.I = 0.5
    C.I["i > 5"] = "2.0 + 0.01*i"
    C.v = "0.1*i"
    B.v[3] = 0.7
    A.v[2:6] = 0.9
    sp_all = SpikeMonitor(G)
    sp_B = SpikeMonitor(B)
    st_C = StateMonitor(C, ["v", "I"], record=[0, 7, 14])
    rate_A = PopulationRateMonitor(A)
    rate_C = PopulationRateMonitor(C)
    run(60 * ms)
    out = {}
    out.update(_spikes("all", sp_all))
    out.update(_spikes("B", sp_B))
    out["C_v"] = st_C.v[:]
    out["C_I"] = st_C.I[:]
    out["C_t"] = st_C.t[:]
    out["A_rate"] = rate_A.rate[:]
    out["A_rate_t"] = rate_A.t[:]
    out["C_rate"] = rate_C.rate[:]
    out["v_final"] = G.v[:]
    out["I_final"] = G.I[:]
    out["B_v_final"] = B.v[:]
    return out


# -- shared variables and constants ---------------------------------------------------


def shared_constants(ctx):
    """``(shared)``, ``(constant)`` and ``(shared, constant)`` variables, external constants.

    ``c`` and ``x`` are shared variables updated every step by
    ``run_regularly`` (``c`` from other shared variables); ``drive`` is a
    subexpression mixing per-neuron, shared and external values.
    """
    defaultclock.dt = 0.1 * ms
    tau = 10 * ms  # external constant
    offset = 0.05  # external constant
    G = NeuronGroup(
        20,
        """dv/dt = (I + I_shared - v)/tau : 1
           x : 1 (shared)
           I : 1 (constant)
           I_shared : 1 (shared)
           tau_s : second (shared, constant)
           th : 1 (shared, constant)
           c : 1 (shared)
           drive = I + I_shared + offset : 1""",
        threshold="v > th",
        reset="v = 0",
        method="euler",
        name="shared",
    )
    G.I = 0.5 + 0.05 * np.arange(20)
    G.I_shared = 0.6
    G.tau_s = 20 * ms
    G.th = 1.0
    G.x = 1.0
    G.c = 0.5
    # shared variables written every step (scalar code in a state update;
    # Brian's C++ cannot write them from a string initialiser)
    G.run_regularly("c = I_shared*2 + th\nx = x*exp(-dt/tau_s) + c*0.001",
                    when="start", name="shared_update")
    spikes = SpikeMonitor(G)
    mon = StateMonitor(G, ["v", "x", "drive"], record=[0, 19])
    run(50 * ms)
    return {
        "v": mon.v[:],
        "x": mon.x[:],
        "drive": mon.drive[:],
        "x_final": G.x[:],
        "c": G.c[:],
        "I_shared": G.I_shared[:],
        "tau_s": G.tau_s[:],
        "i": spikes.i[:],
        "t": spikes.t[:],
    }


def shared_writes_grid(ctx):
    """Shared variables written by the scalar code of per-step kernels that span
    many blocks on CUDA (2000 neurons): a ``run_regularly`` advancing a shared
    phase that every neuron reads (in the same code, in its state update and in
    its reset), and a shared sum of it. Brian allows no shared ODE and no shared
    write in a reset: a ``run_regularly`` is where such writes happen.
    """
    defaultclock.dt = 0.1 * ms
    N = 2000
    G = NeuronGroup(
        N,
        """dv/dt = (I + 0.3*sin(phase) - v)/(10*ms) : 1
           phase : 1 (shared)
           kick : 1
           I : 1 (constant)
           ticks : 1 (shared)""",
        threshold="v > 1",
        reset="v = 0.1*sin(phase)",
        method="euler",
        name="sgrid",
    )
    G.I = "0.9 + 0.4*i/N"
    G.run_regularly("""phase = phase + 2*pi*40*Hz*dt
                       ticks = ticks + phase
                       kick = 0.01*sin(phase + i)""", when="start", name="sgrid_ticks")
    spikes = SpikeMonitor(G)
    mon = StateMonitor(G, ["v", "phase", "ticks", "kick"], record=[0, N // 2, N - 1])
    run(20 * ms)
    return {"v": mon.v[:], "phase": mon.phase[:], "ticks": mon.ticks[:],
            "kick": mon.kick[:], "kick_final": G.kick[:], "v_final": G.v[:], "i": spikes.i[:],
            "t": spikes.t[:]}


# -- initialisation ---------------------------------------------------------------------

#: variable -> how `initialisation` sets it
INIT_CASES = {
    "const": "G.const = 3.5 (constant)",
    "arr": "G.arr = numpy array",
    "idx": "G.idx[3] = 7 (single index)",
    "slc": "G.slc[0:5] = 2.5 and G.slc[10:20:3] = array (slices)",
    "expr": "G.expr = 'i*mV' (string expression)",
    "cond": "G.cond['i>5'] = 'i*2 + v0' (conditional string)",
    "idxarr": "G.idxarr[[1, 2]] = '10 + i' (index array, string)",
    "idxval": "G.idxval[array] = array (index array, values)",
    "single_expr": "G.single_expr[5] = 'i*3' (single index, string)",
    "k": "G.k = 'i % 3' (integer)",
    "flag": "G.flag['i % 2 == 0'] = True (boolean)",
}


def initialisation(ctx):
    """Every way of setting initial values (20 neurons); values read after a 1 ms run."""
    defaultclock.dt = 0.1 * ms
    tau = 10 * ms
    v0 = 0.25
    G = NeuronGroup(
        20,
        """dv/dt = -v/tau : 1
           const : 1
           arr : 1
           idx : 1
           slc : 1
           expr : volt
           cond : 1
           idxarr : 1
           idxval : 1
           single_expr : 1
           k : integer
           flag : boolean""",
        method="exact",
        name="init",
    )
    G.v = "0.1*i"
    G.const = 3.5
    G.arr = np.arange(20) ** 2 * 0.5
    G.idx[3] = 7
    G.slc[0:5] = 2.5
    G.slc[10:20:3] = np.array([1.0, 2.0, 3.0, 4.0])
    G.expr = "i*mV"
    G.cond["i>5"] = "i*2 + v0"
    G.idxarr[[1, 2]] = "10 + i"
    G.idxval[[4, 7, 9]] = np.array([-1.0, -2.0, -3.0])
    G.single_expr[5] = "i*3"
    G.k = "i % 3"
    G.flag["i % 2 == 0"] = True
    run(1 * ms)
    out = {name: getattr(G, name)[:] for name in INIT_CASES}
    out["v"] = G.v[:]
    return out


# -- monitors -------------------------------------------------------------------------------


def large_spike_monitor(ctx):
    """A SpikeMonitor on 200,000 neurons (exported only: test_monitors reads the plan), and
    with ``variables`` one that records ``v`` too."""
    G = NeuronGroup(200000, "v : 1", threshold="v > 1", reset="v = 0", name="big")
    spikes = SpikeMonitor(G, name="big_spikes")
    spikes_v = SpikeMonitor(G, variables="v", name="big_spikes_v") if ctx.params.get("variables") else None
    run(1 * ms)
    del spikes, spikes_v
    return {}


def monitors(ctx):
    """SpikeMonitor, StateMonitor and PopulationRateMonitor variants (50 neurons, 80 ms)."""
    defaultclock.dt = 0.1 * ms
    tau = 10 * ms
    G = NeuronGroup(
        50,
        """dv/dt = (I - v + w)/tau : 1 (unless refractory)
           dw/dt = -w/(20*ms) : 1
           I : 1 (constant)""",
        threshold="v > 1",
        reset="v = 0; w += 0.05",
        refractory=3 * ms,
        method="euler",
        name="lif",
    )
    G.I = 0.8 + 0.02 * np.arange(50)
    G.v = 0.02 * np.arange(50)
    sub = G[10:30]
    sp_all = SpikeMonitor(G, name="sp_all")
    sp_sub = SpikeMonitor(sub, name="sp_sub")
    sp_count = SpikeMonitor(G, record=False, name="sp_count")
    st_multi = StateMonitor(G, ["v", "w", "I"], record=[0, 7, 49], name="st_multi")
    st_all = StateMonitor(G, "v", record=True, name="st_all")
    st_dt = StateMonitor(G, ["v", "w"], record=[1, 30], dt=2 * defaultclock.dt, name="st_dt")
    st_sub = StateMonitor(sub, "v", record=[0, 19], name="st_sub")
    # records t only: its v has no columns (an empty copy in every drain)
    st_none = StateMonitor(G, "v", record=False, name="st_none")
    rate = PopulationRateMonitor(G, name="rate")
    rate_sub = PopulationRateMonitor(sub, name="rate_sub")
    run(80 * ms)
    out = {}
    out.update(_spikes("sp_all", sp_all))
    out.update(_spikes("sp_sub", sp_sub))
    out["sp_count_count"] = sp_count.count[:]
    out["sp_count_num"] = np.array(sp_count.num_spikes)
    for var in ("v", "w", "I"):
        out[f"st_multi_{var}"] = getattr(st_multi, var)[:]
    out["st_multi_t"] = st_multi.t[:]
    out["st_all_v"] = st_all.v[:]
    out["st_all_t"] = st_all.t[:]
    out["st_dt_v"] = st_dt.v[:]
    out["st_dt_w"] = st_dt.w[:]
    out["st_dt_t"] = st_dt.t[:]
    out["st_sub_v"] = st_sub.v[:]
    out["st_none_t"] = st_none.t[:]
    out["st_none_v_shape"] = np.array(st_none.v[:].shape)
    out["rate"] = rate.rate[:]
    out["rate_t"] = rate.t[:]
    out["rate_sub"] = rate_sub.rate[:]
    out["t_end"] = np.array(defaultclock.t)
    return out


# -- several runs ------------------------------------------------------------------------------


def multiple_runs(ctx):
    """Three ``run()`` calls (``build_on_run=False`` + ``device.build()``).

    Between the runs an external constant and a group variable change; the
    first and last runs use ``report='text'``.
    """
    assert not ctx.build_on_run
    defaultclock.dt = 0.1 * ms
    tau = 10 * ms
    I_ext = 1.5
    G = NeuronGroup(
        10,
        "dv/dt = (I_ext*scale - v)/tau : 1\nscale : 1",
        threshold="v > 1",
        reset="v = 0",
        method="exact",
        name="multi",
    )
    G.scale = 1 + 0.05 * np.arange(10)
    spikes = SpikeMonitor(G)
    states = StateMonitor(G, "v", record=[0, 9])
    run(20 * ms, report="text")
    I_ext = 0.5  # noqa: F841  (read by the next run through the namespace)
    run(20 * ms)
    G.scale = 2.5
    I_ext = 0.8  # noqa: F841
    run(20 * ms, report="text", report_period=5 * ms)
    ctx.build()
    return {
        "i": spikes.i[:],
        "t": spikes.t[:],
        "v": states.v[:],
        "v_t": states.t[:],
        "v_final": G.v[:],
        "t_end": np.array(defaultclock.t),
    }


# -- default functions -----------------------------------------------------------------------

#: variable -> expression set with a string in `functions`
FUNCTION_EXPRESSIONS = {
    "f_exp": "exp(x)",
    "f_log": "log(abs(x) + 0.5)",
    "f_log10": "log10(abs(x) + 0.5)",
    "f_sqrt": "sqrt(abs(x))",
    "f_sin": "sin(3*x)",
    "f_cos": "cos(3*x)",
    "f_tan": "tan(x)",
    "f_sinh": "sinh(2*x)",
    "f_cosh": "cosh(2*x)",
    "f_tanh": "tanh(2*x)",
    "f_arcsin": "arcsin(x)",
    "f_arccos": "arccos(x)",
    "f_arctan": "arctan(5*x)",
    "f_abs": "abs(x)",
    "f_sign": "sign(x)",
    "f_clip": "clip(x, -0.5, 0.5)",
    "f_floor": "floor(3*x)",
    "f_ceil": "ceil(3*x)",
    "f_int": "int(3*x)",
    "f_timestep": "timestep(abs(x)*ms, dt)",
    "f_exprel": "exprel(x)",
    "f_exprel0": "exprel(0*x)",
    "f_expm1": "expm1(x)",
    "f_log1p": "log1p(x)",
    "f_pi": "pi*x",
    "f_e": "e**x",
    "f_inf": "inf",
    "f_neginf": "-inf*(1 + x**2)",
    "f_pow": "abs(x)**1.5 + x**2",
    "f_fmod": "(7*x) % 2",
    "f_floordiv": "(7*x) // 2",
    "f_intdiv": "k // 4",
    "f_intmod": "k % 4",
    "f_truediv": "k / 4",
    "f_cmp": "int(x > 0) + int(k <= 3)*2",
}


def functions(ctx):
    """Brian's default functions and operators (50 values of x in [-0.95, 0.95]).

    All of `FUNCTION_EXPRESSIONS` are evaluated in one ``run_regularly``
    code object (one compile unit); a few are also set by string expressions
    (``init_*``), and the state update and threshold use functions too.
    """
    defaultclock.dt = 0.1 * ms
    tau = 5 * ms
    names = "\n".join(f"{name} : 1" for name in FUNCTION_EXPRESSIONS)
    G = NeuronGroup(
        50,
        f"""x : 1 (constant)
            k : integer (constant)
            dz/dt = (sin(2*pi*t/(10*ms))*exp(-x) + tanh(x) + sqrt(abs(x))*cos(x) - z)/tau : 1
            dy/dt = (clip(z, -0.2, 0.2) + log1p(abs(z)) + exprel(x) - y)/tau : 1
            steps : integer
            init_exp : 1
            init_arcsin : 1
            init_timestep : 1
            {names}""",
        threshold="timestep(t, dt) % (7 + k % 3) == 0",
        reset="steps += 1",
        method="euler",
        name="functions",
    )
    G.x = "-0.95 + 1.9*i/(N - 1)"
    G.k = np.arange(50) - 25
    G.init_exp = "exp(x)"
    G.init_arcsin = "arcsin(x)"
    G.init_timestep = "timestep(abs(x)*ms, dt)"
    G.run_regularly(
        "\n".join(f"{name} = {expr}" for name, expr in FUNCTION_EXPRESSIONS.items()),
        when="start",
        name="functions_eval",
    )
    mon = StateMonitor(G, ["z", "y"], record=[0, 24, 49])
    run(20 * ms)
    out = {name: getattr(G, name)[:] for name in FUNCTION_EXPRESSIONS}
    for name in ("init_exp", "init_arcsin", "init_timestep"):
        out[name] = getattr(G, name)[:]
    out["z"] = mon.z[:]
    out["y"] = mon.y[:]
    out["steps"] = G.steps[:]
    return out


# -- float32 ---------------------------------------------------------------------------------


def float32_lif(ctx):
    """A LIF network with adaptation under ``default_float_dtype = float32`` (harness flag)."""
    defaultclock.dt = 0.1 * ms
    tau = 10 * ms
    G = NeuronGroup(
        30,
        """dv/dt = (I - v - w)/tau : 1 (unless refractory)
           dw/dt = -w/(50*ms) : 1
           I : 1 (constant)""",
        threshold="v > 1",
        reset="v = 0; w += 0.1",
        refractory=2 * ms,
        method="exponential_euler",
        name="lif32",
    )
    G.I = 1.5 + 0.1 * np.arange(30)
    G.v = np.exp(-np.arange(30) / 10.0)
    spikes = SpikeMonitor(G)
    mon = StateMonitor(G, ["v", "w"], record=[0, 15, 29])
    run(50 * ms)
    return {
        "i": spikes.i[:],
        "t": spikes.t[:],
        "v": mon.v[:],
        "w": mon.w[:],
        "v_final": G.v[:],
        "w_final": G.w[:],
    }


# -- TimedArray ----------------------------------------------------------------------------------


def timed_arrays(ctx):
    """1-D and 2-D TimedArrays read in a state update, a reset, a subexpression and a
    run_regularly on its own clock (the Brian2GeNN tutorial's ``I = ta_inputs(t, i)``)."""
    defaultclock.dt = 0.1 * ms
    ta = TimedArray(np.sin(np.arange(50) / 5.0), dt=0.7 * ms)
    ta_inputs = TimedArray(np.arange(40).reshape(10, 4) * 0.05, dt=2 * ms)
    G = NeuronGroup(
        5,
        """dv/dt = (ta(t) + ta_inputs(t, i % 4) + I - v)/(5*ms) : 1
           I : 1
           x = ta_inputs(t, i) : 1""",
        threshold="v > 0.8",
        reset="v = ta(t) - 1",
        method="euler",
        name="ta_group",
    )
    G.run_regularly("I = ta_inputs(t, i % 4)", dt=1 * ms)
    mon = StateMonitor(G, ["v", "I", "x"], record=True)
    spikes = SpikeMonitor(G)
    run(30 * ms)
    return {"v": mon.v[:], "I": mon.I[:], "x": mon.x[:], "i": spikes.i[:], "t": spikes.t[:]}


# -- errors -------------------------------------------------------------------------------------


def integer_zero_division(ctx):
    """An integer floor division by zero in generated code (Python raises
    ZeroDivisionError; C++ leaves it undefined)."""
    G = NeuronGroup(4, "k : integer", name="zero_div_group")
    G.k = "i"
    G.run_regularly("k = 7 // (k - k)", dt=1 * ms, name="zero_div_op")
    run(2 * ms)
    return {"k": G.k[:]}


def with_synapses_for_progress(ctx):
    """A small network whose synapses are made by connect() (the progress test)."""
    G = NeuronGroup(20, "dv/dt = -v / (10*ms) : 1", threshold="v > 1", name="progress_group")
    S = Synapses(G, G, on_pre="v_post += 0.1", name="progress_syn")
    S.connect(j="i")
    run(1 * ms)
    return {"n": np.array([len(S)])}


def with_network_operation(ctx):
    """Uses a network_operation: Python code during the run (cpp_standalone skips it silently)."""
    G = NeuronGroup(5, "v : 1", name="netop_group")

    @network_operation(dt=1 * ms, name="bad_operation")
    def change_v():
        G.v = 1

    run(2 * ms)
    return {"v": G.v[:]}


@check_units(x=1, result=1)
def _python_only(x):
    return x * 2


def with_python_function(ctx):
    """Uses a user Function that has only a Python implementation."""
    f = Function(_python_only, arg_units=[1], return_unit=1)  # noqa: F841
    G = NeuronGroup(5, "v : 1", name="uses_python_function")
    G.run_regularly("v = f(v + 1)", dt=1 * ms)
    run(2 * ms)
    return {"v": G.v[:]}


def run_args(ctx):
    """``device.run(run_args=...)`` after ``build(run=False)``: a scalar, an array and
    TimedArray values changed without recompiling (three runs of one build)."""
    from brian2 import device

    assert not ctx.build_on_run
    ta_args = TimedArray([1.0, 2.0, 3.0], dt=1 * ms, name="ta_args")
    G = NeuronGroup(4, "dv/dt = (ta_args(t)*tau_x - v)/(10*ms) : 1\ntau_x : 1", method="euler",
                    name="args_group")
    G.tau_x = 1
    run(3 * ms)
    device.build(directory=ctx.directory, run=False)
    out = {}
    for k, args in enumerate([{}, {G.tau_x: 2.0}, {G.v: np.arange(4) * 0.5, ta_args: [3.0, 2.0, 1.0]}]):
        device.run(run_args=args)
        out[f"v_{k}"] = G.v[:].copy()
        out[f"tau_x_{k}"] = G.tau_x[:].copy()
    return out
