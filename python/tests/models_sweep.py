"""Models for the sweep tests (test_sweep.py): ``device.run(run_args=[...])``,
run like those of ``models.py`` (see its docstring)."""

import numpy as np
from brian2 import NeuronGroup, SpikeMonitor, StateMonitor, Synapses, TimedArray, ms, restore, run, seed, store


def _network(ctx):
    """A noisy, randomly initialised and randomly connected network with a
    per-neuron drive `I` and a TimedArray input: every copy of a sweep draws
    its own noise, initial values and synapses."""
    seed(ctx.params.get("seed", 11))
    drive = TimedArray([0.0, 0.5, 0.0], dt=10 * ms, name="drive")
    G = NeuronGroup(
        300,
        """dv/dt = (I + drive(t) - v)/(10*ms) + 0.3*xi/sqrt(ms) : 1
           I : 1
           shift : integer""",
        threshold="v > 1", reset="v = 0.1*rand()", refractory=1 * ms, method="euler", name="g",
    )
    G.v = "rand()"
    G.I = 1.1
    G.shift = 1
    if ctx.params.get("args_before_connect"):
        # run_args take effect here, before connect() (Brian: at the first run)
        from brian2 import device

        device.apply_run_args()
    S = Synapses(G, G, "w : 1", on_pre="v_post += w", delay=1 * ms, name="s")
    S.connect(p=0.05)
    S.w = "0.05*rand()"
    # one synapse each to the neuron `shift` further on (a run_arg can make it leave the group)
    T = Synapses(G[:250], G, on_pre="v_post += 0.01", name="t")
    T.connect(j="i + shift_pre", skip_if_invalid=False)
    M = SpikeMonitor(G, name="spikes")
    V = StateMonitor(G, "v", record=[0, 7, 150], name="trace")
    run(30 * ms)
    # a second run, after a change between them: its random numbers go on from the first's
    G.I[:10] = "1.2 + 0.3*rand()"
    run(5 * ms)
    return G, S, T, M, V, drive


def _arrays(G, S, M, V):
    return {"spike_i": M.i[:].copy(), "spike_t": M.t_[:].copy(), "v": G.v[:].copy(),
            "trace": V.v[:].copy(), "syn_i": S.i[:].copy(), "syn_j": S.j[:].copy(), "w": S.w[:].copy()}


def sweep(ctx):
    """Three copies of `_network` in one sweep, then each as its own run with
    ``random_stream=k``: the arrays of both, by copy."""
    from brian2 import device

    G, S, _T, M, V, drive = _network(ctx)
    device.build(directory=ctx.directory, run=False)
    copies = [{G.I: 1.1, drive: [0.0, 0.5, 0.0]}, {G.I: np.linspace(1.0, 1.4, 300), drive: [0.0, 0.5, 0.0]},
              {G.I: 1.2, drive: [0.2, 0.0, 0.4]}]
    device.run(run_args=copies)
    out = {"folders": np.array([str(d) for d in device.results_dirs]),
           # (CUDA: the copies of each batch)
           "batches": np.array(device.brisk_timings["runs"][-1].get("batches", []), dtype=np.int64)}
    for k, folder in enumerate(device.results_dirs):
        device.load_results(folder)
        for key, value in _arrays(G, S, M, V).items():
            out[f"sweep_{k}_{key}"] = value
    for k, mapping in enumerate(copies):
        device.run(run_args=mapping, random_stream=k)
        for key, value in _arrays(G, S, M, V).items():
            out[f"single_{k}_{key}"] = value
    return out


def _shared_network(ctx):
    """Connectivity a sweep can build once: `ring` (``condition=``, twice: a second call
    appends) reads nothing a copy changes; `hop` (``j='i + hop_pre'``) reads `hop`, set
    by run_args before it; `rand` (``p=``) draws, then appends (``j='i'``, drawing
    nothing) to its copy's own synapses. Synapses drive the neurons, so each
    copy's spikes depend on all of its synapses."""
    from brian2 import device

    seed(ctx.params.get("seed", 5))
    G = NeuronGroup(200, """dv/dt = (1.2 - v)/(10*ms) + 0.2*xi/sqrt(ms) : 1
                            hop : integer""",
                    threshold="v > 1", reset="v = 0", method="euler", name="g")
    G.v = "rand()"
    G.hop = 2
    device.apply_run_args()
    ring = Synapses(G, G, "w : 1", on_pre="v_post += w", name="ring")
    ring.connect(condition="abs(i - j) <= 3 and i != j")
    ring.w = "0.02*rand()"
    hop = Synapses(G, G, on_pre="v_post += 0.05", name="hop")
    hop.connect(j="i + hop_pre", skip_if_invalid=True)
    rand = Synapses(G, G, on_pre="v_post -= 0.02", name="rand")
    rand.connect(p=0.05)
    rand.connect(j="i")  # draws nothing, but appends to synapses that differ by copy
    ring.connect(j="(i + 100) % N_post")  # a second call on `ring`: appends
    M = SpikeMonitor(G, name="spikes")
    # (restore() writes every array back, the synapses' indices too: on CUDA a copy
    # sharing another's then gets its own)
    store()
    run(5 * ms)
    restore()
    run(20 * ms)
    return G, (ring, hop, rand), M


def _shared_arrays(synapses, M):
    out = {"spike_i": M.i[:].copy(), "spike_t": M.t_[:].copy()}
    for S in synapses:
        out.update({f"{S.name}_i": S.i[:].copy(), f"{S.name}_j": S.j[:].copy(),
                    f"{S.name}_in": S.N_incoming[:].copy(), f"{S.name}_out": S.N_outgoing[:].copy()})
    out["ring_w"] = synapses[0].w[:].copy()
    return out


SHARED_KEYS = ["spike_i", "spike_t", "ring_w"] + [f"{s}_{k}" for s in ("ring", "hop", "rand")
                                                   for k in ("i", "j", "in", "out")]


def sweep_shared_connect(ctx):
    """Three copies of `_shared_network`, copies 0 and 2 with the same `hop`, then each
    as its own run: the arrays of both, and how many connect() calls copies took from
    another copy's build."""
    from brian2 import device

    G, synapses, M = _shared_network(ctx)
    device.build(directory=ctx.directory, run=False)
    copies = [{G.hop: 2}, {G.hop: 5}, {G.hop: 2}]
    device.run(run_args=copies)
    out = {"shared": np.array(device.brisk_timings["runs"][-1].get("connects_shared", 0))}
    for k, folder in enumerate(device.results_dirs):
        device.load_results(folder)
        for key, value in _shared_arrays(synapses, M).items():
            out[f"sweep_{k}_{key}"] = value
    for k, mapping in enumerate(copies):
        device.run(run_args=mapping, random_stream=k)
        out[f"single_{k}_shared"] = np.array(device.brisk_timings["runs"][-1].get("connects_shared", 0))
        for key, value in _shared_arrays(synapses, M).items():
            out[f"single_{k}_{key}"] = value
    return out


def sweep_shared_memory(ctx):
    """Three copies of 200 neurons connected all to all but to themselves, a
    connectivity that draws nothing, with no synaptic variable or pathway (the
    synapses' memory is their `_synaptic_pre` and `_synaptic_post`), then copy 2 as its
    own run: the GPU bytes a copy took, and copy 2's synapses both ways."""
    from brian2 import device

    seed(ctx.params.get("seed", 3))
    G = NeuronGroup(200, "dv/dt = (I - v)/(10*ms) : 1\nI : 1 (shared)", name="g")
    S = Synapses(G, G, name="all")
    S.connect(condition="i != j")
    run(1 * ms)
    device.build(directory=ctx.directory, run=False)
    copies = [{G.I: 0.5 * k} for k in range(3)]
    device.run(run_args=copies)
    runs = device.brisk_timings["runs"][-1]
    out = {"bytes": np.array(runs.get("batch_copy_bytes", []), dtype=np.int64),
           "batches": np.array(runs.get("batches", []), dtype=np.int64),
           "shared": np.array(runs.get("connects_shared", 0))}
    device.load_results(device.results_dirs[2])
    out["sweep_i"], out["sweep_j"] = S.i[:].copy(), S.j[:].copy()
    device.run(run_args=copies[2], random_stream=2)
    out["single_i"], out["single_j"] = S.i[:].copy(), S.j[:].copy()
    return out


def sweep_sized(ctx):
    """Eight copies of `_network` (CUDA: in batches as GPU memory allows), then copies 0
    and 7 as their own runs: the batches' sizes and both copies' arrays."""
    from brian2 import device

    G, S, _T, M, V, _drive = _network(ctx)
    device.build(directory=ctx.directory, run=False)
    copies = [{G.I: 1.0 + 0.05 * k} for k in range(8)]
    device.run(run_args=copies)
    out = {"batches": np.array(device.brisk_timings["runs"][-1].get("batches", []), dtype=np.int64)}
    for k in (0, 7):
        device.load_results(device.results_dirs[k])
        for key, value in _arrays(G, S, M, V).items():
            out[f"sweep_{k}_{key}"] = value
    for k in (0, 7):
        device.run(run_args=copies[k], random_stream=k)
        for key, value in _arrays(G, S, M, V).items():
            out[f"single_{k}_{key}"] = value
    return out


def sweep_errors(ctx):
    """A sweep's bad input: no copies, copies naming different variables, a copy
    whose connect() fails (its `shift` sends synapses outside the group)."""
    import os

    from brian2 import device

    ctx.params["args_before_connect"] = True
    G, _S, _T, _M, _V, drive = _network(ctx)
    device.build(directory=ctx.directory, run=False)
    out = {}
    # run_args=[]: Brian's "no run_args", one ordinary run (as with cpp_standalone)
    device.run(run_args=[])
    out["empty_dirs"] = np.array([str(d) for d in device.results_dirs])
    # a sweep file of no copies, given to brisk itself
    import json
    import subprocess

    from brian2brisk.binary import find_brisk_binary

    empty = os.path.join(ctx.directory, "empty_sweep.json")
    with open(empty, "w") as f:
        json.dump({"copies": []}, f)
    proc = subprocess.run([find_brisk_binary(), "run", os.path.join(ctx.directory, "export"), "--sweep", empty],
                          capture_output=True, text=True)
    out["empty_file_status"] = np.array(proc.returncode)
    out["empty_file_error"] = np.array(proc.stderr.strip().splitlines()[-2] if proc.stderr.strip() else "")
    for name, copies in [("keys", [{G.I: 1.0}, {G.I: 1.0, drive: [0.0, 0.0, 0.0]}]),
                         ("failing", [{G.shift: 1}, {G.shift: 1}, {G.shift: 5000}])]:
        try:
            device.run(run_args=copies)
            out[f"{name}_error"] = np.array("")
        except Exception as e:  # noqa: BLE001 (the test reads the type and message)
            out[f"{name}_error"] = np.array(f"{type(e).__name__}: {e}")
            out[f"{name}_copy"] = np.array(getattr(e, "copy", None) if getattr(e, "copy", None) is not None else -1)
    return out


def sweep_dask(ctx):
    """The sweep of `sweep`, run locally and then on a Dask LocalCluster of two
    worker processes (``client=``): the arrays of both, by copy."""
    from brian2 import device
    from dask.distributed import Client, LocalCluster

    G, S, _T, M, V, drive = _network(ctx)
    device.build(directory=ctx.directory, run=False)
    copies = [{G.I: 1.0 + 0.05 * k, drive: [0.0, 0.1 * k, 0.0]} for k in range(5)]
    out = {}
    device.run(run_args=copies)
    for k, folder in enumerate(device.results_dirs):
        device.load_results(folder)
        for key, value in _arrays(G, S, M, V).items():
            out[f"local_{k}_{key}"] = value
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        device.run(run_args=copies, client=client)
    out["folders"] = np.array([str(d) for d in device.results_dirs])
    for k, folder in enumerate(device.results_dirs):
        device.load_results(folder)
        for key, value in _arrays(G, S, M, V).items():
            out[f"dask_{k}_{key}"] = value
    return out


def sweep_dask_dying_worker(ctx):
    """A sweep on Dask whose batch holding copy 3 kills its worker every time
    (``BRISK_TEST_SWEEP_DIE_AT``): the error, and which folders exist after."""
    import os

    import dask
    from brian2 import device
    from dask.distributed import Client, LocalCluster

    G, _S, _T, _M, _V, _drive = _network(ctx)
    device.build(directory=ctx.directory, run=False)
    copies = [{G.I: 1.0 + 0.05 * k} for k in range(5)]
    os.environ["BRISK_TEST_SWEEP_DIE_AT"] = "3"
    out = {}
    # (the scheduler gives a task up after a worker died once more than this)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        try:
            device.run(run_args=copies, client=client)
            out["error"] = np.array("")
        except Exception as e:  # noqa: BLE001 (the test reads the type and message)
            out["error"] = np.array(f"{type(e).__name__}: {e}")
            out["copy"] = np.array(getattr(e, "copy", -1))
    folders = [os.path.join(ctx.directory, f"results_{k}") for k in range(5)]
    out["complete"] = np.array([os.path.isfile(os.path.join(f, "last_run_info.txt")) for f in folders])
    out["exists"] = np.array([os.path.exists(f) for f in folders])
    return out


#: the live sweep's copies: copy 0 sets the values the script has (so it is the session's
#: own run), copy 1 another drive, copy 2 copy 0's values (another random stream only)
def _live_copies(G, drive):
    return [{G.I: 1.1, drive: [0.0, 0.5, 0.0]}, {G.I: np.linspace(1.0, 1.4, 300), drive: [0.2, 0.0, 0.4]},
            {G.I: 1.1, drive: [0.0, 0.5, 0.0]}]


def _live_script(ctx):
    """`_network`, then values set from Python arrays between runs (the same name each
    time: Brian reuses a static array's name once Brisk released it) and a loop of short
    runs (`repeat.py`'s repeated runs)."""
    G, S, T, M, V, drive = _network(ctx)
    for k in range(3):
        G.I[10:20] = np.linspace(1.0, 1.3, 10) + 0.05 * k
        run(2 * ms)
    for _ in range(3):
        run(1 * ms)
    return G, S, T, M, V, drive


def sweep_live(ctx):
    """A sweep in a live session (Brian's runtime mode): the script so far as three
    copies. The arrays before the sweep, of each copy, read after the sweep (the
    session's), and after ``load_results`` and a value set (the session's again)."""
    from brian2 import device

    G, S, _T, M, V, drive = _live_script(ctx)
    out = {f"live_{key}": value for key, value in _arrays(G, S, M, V).items()}
    device.run(run_args=_live_copies(G, drive))
    out["folders"] = np.array([str(d) for d in device.results_dirs])
    out["after_sweep_v"] = G.v[:].copy()
    for k, folder in enumerate(device.results_dirs):
        device.load_results(folder)
        for key, value in _arrays(G, S, M, V).items():
            out[f"sweep_{k}_{key}"] = value
    G.shift = 1  # (a value set: reads come from the session again)
    out["after_set_v"] = G.v[:].copy()
    run(1 * ms)
    out["later_spikes"] = np.array(int(M.num_spikes))
    return out


def sweep_live_reference(ctx):
    """`_live_script` built as a standalone script: each copy of `sweep_live` as its own
    run with ``random_stream=k``."""
    from brian2 import device

    G, S, _T, M, V, drive = _live_script(ctx)
    device.build(directory=ctx.directory, run=False)
    out = {}
    for k, mapping in enumerate(_live_copies(G, drive)):
        device.run(run_args=mapping, random_stream=k)
        for key, value in _arrays(G, S, M, V).items():
            out[f"single_{k}_{key}"] = value
    return out


def sweep_live_refused(ctx):
    """Live sweeps Brisk refuses: with a network_operation (Python between steps), and
    (``params['set_array']``, with BRISK_LIVE_HISTORY_MB=0) after values set from an
    array that was not kept."""
    from brian2 import device, network_operation

    G = NeuronGroup(10, "dv/dt = (I - v)/(10*ms) : 1\nI : 1", method="euler", name="live_g")
    if ctx.params.get("set_array"):
        G.I = np.linspace(0, 1, 10)
    else:
        @network_operation(dt=1 * ms)
        def nudge():
            G.v += 0.01
    run(2 * ms)
    try:
        device.run(run_args=[{G.I: 1.0}, {G.I: 2.0}])
        return {"error": np.array("")}
    except NotImplementedError as e:
        return {"error": np.array(f"{type(e).__name__}: {e}")}


def sweep_twice(ctx):
    """Two sweeps and a single run after them: the folders each writes."""
    from brian2 import device

    G, _S, _T, M, _V, _drive = _network(ctx)
    device.build(directory=ctx.directory, run=False)
    device.run(run_args=[{G.I: 1.0}, {G.I: 1.1}])
    first = list(device.results_dirs)
    device.run(run_args=[{G.I: 1.2}, {G.I: 1.3}])
    second = list(device.results_dirs)
    device.run(run_args={G.I: 1.0})
    single = list(device.results_dirs)
    spikes = int(M.num_spikes)
    device.load_results(second[0])
    return {"first": np.array(first), "second": np.array(second), "single": np.array(single),
            "single_spikes": np.array(spikes), "second_0_spikes": np.array(int(M.num_spikes))}
