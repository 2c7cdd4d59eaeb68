"""Brisk demo: one Brian network under cpp_standalone and under Brisk, compared.

The network: 1000 leaky integrate-and-fire neurons with an adaptive threshold,
each driven by its own constant input (no synapses). The first 800 start from a
random membrane potential (``rand()``). The last 200 form a subgroup that starts
from a potential computed from the neuron index. It is monitored with a
SpikeMonitor, a StateMonitor and PopulationRateMonitors and runs for 200 ms.

The script runs the model twice, each time in a new Python process: once with
Brian's ``cpp_standalone`` device and once with Brisk (``set_device('brisk')``).
It then prints

* the backend Brisk used (CUDA on a GPU, otherwise C++),
* the spike counts and the build + run times of both devices,
* for the deterministic subgroup: whether the spike trains are identical and
  the largest difference between the recorded traces,
* for the ``rand()`` part: a statistical comparison. Brisk draws from its own
  Philox generator, Brian from a Mersenne Twister, so the initial values
  differ.

It writes ``demo_raster.png`` and ``demo_traces.png`` to ``--outdir`` (by
default the current folder).

Usage::

    python examples/demo.py [--neurons 1000] [--duration 200] [--backend auto|cpu|cuda]
                            [--outdir .] [--keep]

``scripts/demo`` sets up the environment from a fresh clone and runs this
script.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

N_DETERMINISTIC_FRACTION = 0.2  # the last 20% of the neurons: the deterministic subgroup


# -- the model (run in a child process) -------------------------------------------------


def simulate(device_name, directory, n, duration_ms, seed_value):
    """Builds and runs the network under ``device_name``; returns a dict of arrays."""
    from brian2 import (
        NeuronGroup,
        PopulationRateMonitor,
        SpikeMonitor,
        StateMonitor,
        defaultclock,
        device,
        ms,
        mV,
        run,
        seed,
        set_device,
    )

    if device_name == "brisk":
        import brian2brisk  # noqa: F401  (registers the 'brisk' device)

    set_device(device_name, directory=directory)
    seed(seed_value)
    defaultclock.dt = 0.1 * ms

    tau = 10 * ms  # membrane time constant
    tau_th = 50 * ms  # threshold adaptation time constant
    v_rest = -70 * mV
    v_reset = -65 * mV
    th_rest = -50 * mV
    th_jump = 3 * mV
    eqs = """
    dv/dt = (v_rest - v + I)/tau : volt (unless refractory)
    dth/dt = (th_rest - th)/tau_th : volt
    I : volt (constant)  # constant drive (input current times resistance)
    """
    G = NeuronGroup(
        n,
        eqs,
        threshold="v > th",
        reset="v = v_reset; th += th_jump",
        refractory=2 * ms,
        method="exact",
        name="lif",
    )
    n_det = int(round(n * N_DETERMINISTIC_FRACTION))
    random_part = G[: n - n_det]
    deterministic = G[n - n_det :]
    G.I = "15*mV + 20*mV*i/N"  # a different constant drive for every neuron
    G.th = th_rest
    random_part.v = "v_rest + rand()*(th_rest - v_rest)"
    deterministic.v = "v_rest + ((i*37) % 100)/100.0*(th_rest - v_rest)"

    # two neurons of each part (the strongest-driven ones fire most)
    recorded = sorted({max(0, n - n_det - 100), max(0, n - n_det - 1), n - n_det, n - 1})
    spikes = SpikeMonitor(G)
    states = StateMonitor(G, ["v", "th"], record=recorded)
    rate = PopulationRateMonitor(G)
    rate_det = PopulationRateMonitor(deterministic)

    start = time.time()
    run(duration_ms * ms)
    build_and_run = time.time() - start

    out = {
        "i": spikes.i[:],
        "t": spikes.t[:],
        "count": spikes.count[:],
        "v": states.v[:],
        "th": states.th[:],
        "trace_t": states.t[:],
        "recorded": np.array(recorded),
        "rate_t": rate.t[:],
        "rate": rate.smooth_rate(width=2 * ms)[:],
        "rate_det": rate_det.rate[:],
        "n_det": np.array(n_det),
        "build_and_run_s": np.array(build_and_run),
    }
    info = {"device": device_name, "build_and_run_s": build_and_run}
    if device_name == "brisk":
        info["backend"] = device.backend_used
        info["stages"] = dict(device.brisk_timings)
    else:
        info["stages"] = _flat(device.timers)
    return {k: np.array(v, subok=False) for k, v in out.items()}, info


def _flat(timers, prefix=""):
    flat = {}
    for key, value in timers.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float)):
            flat[f"{prefix}{key}"] = float(value)
    return flat


def child_main(args):
    arrays, info = simulate(args.run, args.directory, args.neurons, args.duration, args.seed)
    np.savez(args.out, **arrays)
    with open(args.out + ".json", "w") as f:
        json.dump(info, f)


# -- the comparison (parent process) -------------------------------------------------------


def run_child(device_name, args, workdir):
    directory = os.path.join(workdir, device_name)
    out = os.path.join(workdir, f"{device_name}.npz")
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--run", device_name,
        "--directory", directory,
        "--out", out,
        "--neurons", str(args.neurons),
        "--duration", str(args.duration),
        "--seed", str(args.seed),
    ]
    env = dict(os.environ)
    if device_name == "brisk":
        env["BRISK_BACKEND"] = args.backend
    print(f"running under {device_name} ...", flush=True)
    start = time.time()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.time() - start
    if proc.returncode != 0:
        print(proc.stdout)
        sys.exit(f"the {device_name} run failed (project folder {directory})")
    with np.load(out) as data:
        arrays = {k: data[k] for k in data.files}
    with open(out + ".json") as f:
        info = json.load(f)
    info["process_wall_s"] = wall
    return arrays, info


def same_spikes(a, b, mask_a, mask_b):
    ia, ta = a["i"][mask_a], a["t"][mask_a]
    ib, tb = b["i"][mask_b], b["t"][mask_b]
    if ia.size != ib.size:
        return False
    oa, ob = np.lexsort((ia, ta)), np.lexsort((ib, tb))
    return bool(np.array_equal(ia[oa], ib[ob]) and np.allclose(ta[oa], tb[ob], rtol=1e-12, atol=0))


def compare(ref, got, ref_info, got_info, args):
    n = args.neurons
    n_det = int(ref["n_det"])
    first_det = n - n_det
    det_ref, det_got = ref["i"] >= first_det, got["i"] >= first_det
    identical = same_spikes(ref, got, det_ref, det_got)
    rows = ref["recorded"] >= first_det
    max_dv = float(np.max(np.abs(ref["v"][rows] - got["v"][rows])))
    max_dth = float(np.max(np.abs(ref["th"][rows] - got["th"][rows])))

    # rand() part: per-neuron spike counts, compared as samples
    c_ref = ref["count"][:first_det].astype(float)
    c_got = got["count"][:first_det].astype(float)
    se = np.sqrt(c_ref.var(ddof=1) / c_ref.size + c_got.var(ddof=1) / c_got.size)
    z = abs(c_ref.mean() - c_got.mean()) / se if se > 0 else 0.0
    duration_s = args.duration / 1000

    backend = got_info.get("backend") or "?"
    print()
    print(f"Brisk backend used: {backend}")
    print()
    print(f"{'':38s}{'cpp_standalone':>16s}{'Brisk':>12s}")
    print(f"{'spikes, all ' + str(n) + ' neurons':38s}{ref['i'].size:>16d}{got['i'].size:>12d}")
    print(f"{'spikes, rand() part (' + str(first_det) + ')':38s}"
          f"{int((~det_ref).sum()):>16d}{int((~det_got).sum()):>12d}")
    print(f"{'spikes, deterministic subgroup (' + str(n_det) + ')':38s}"
          f"{int(det_ref.sum()):>16d}{int(det_got.sum()):>12d}")
    print(f"{'mean rate [Hz]':38s}{ref['i'].size / n / duration_s:>16.2f}"
          f"{got['i'].size / n / duration_s:>12.2f}")
    print(f"{'build + run, run() call [s]':38s}{ref_info['build_and_run_s']:>16.2f}"
          f"{got_info['build_and_run_s']:>12.2f}")
    print(f"{'whole process [s]':38s}{ref_info['process_wall_s']:>16.2f}"
          f"{got_info['process_wall_s']:>12.2f}")
    stages = got_info.get("stages", {})
    if stages:
        parts = ", ".join(
            f"{k} {stages[k]:.3f} s" for k in ("export", "prepare", "generate", "compile", "run", "write")
            if isinstance(stages.get(k), (int, float))
        )
        cached = " (compile cache hit)" if stages.get("compile_cached") else ""
        print(f"Brisk stages: {parts}{cached}")
    ref_stages = ref_info.get("stages", {})
    if ref_stages:
        print("cpp_standalone stages: " + ", ".join(f"{k} {v:.3f} s" for k, v in sorted(ref_stages.items())))
    print()
    print(f"Deterministic subgroup ({n_det} neurons, initial v computed from the index):")
    print(f"  identical spike trains: {'yes' if identical else 'NO'}")
    print(f"  max |difference| of the recorded traces: v {max_dv:.3g} V, threshold {max_dth:.3g} V")
    print(f"rand() part ({first_det} neurons, initial v = rand()): the devices use different random")
    print("  generators (Brian: Mersenne Twister, Brisk: Philox), so the spike trains differ;")
    print(f"  spikes per neuron: {c_ref.mean():.3f} vs {c_got.mean():.3f}"
          f" (difference {z:.1f} standard errors){'' if z < 4 else '  <-- SUSPICIOUS'}")
    return identical and max_dv <= 1e-9 and z < 4


def plot(ref, got, args, backend):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = args.neurons
    n_det = int(ref["n_det"])
    os.makedirs(args.outdir, exist_ok=True)

    fig, axes = plt.subplots(3, 1, figsize=(10, 8), sharex=True,
                             gridspec_kw={"height_ratios": [3, 3, 1.5]})
    for ax, res, title in ((axes[0], ref, "Brian cpp_standalone"), (axes[1], got, f"Brisk ({backend})")):
        ax.plot(res["t"] * 1000, res["i"], ",k")
        ax.axhline(n - n_det - 0.5, color="tab:red", lw=0.8)
        ax.set_ylabel("neuron")
        ax.set_ylim(-1, n)
        ax.set_title(f"{title}: {res['i'].size} spikes (red line: deterministic subgroup above)")
    axes[2].plot(ref["rate_t"] * 1000, ref["rate"], label="cpp_standalone")
    axes[2].plot(got["rate_t"] * 1000, got["rate"], "--", label="Brisk")
    axes[2].set_ylabel("rate [Hz]")
    axes[2].set_xlabel("time [ms]")
    axes[2].legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    raster = os.path.join(args.outdir, "demo_raster.png")
    fig.savefig(raster, dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(2, 2, figsize=(11, 6), sharex=True)
    for k, neuron in enumerate(ref["recorded"]):
        ax = axes.flat[k]
        part = "deterministic" if neuron >= n - n_det else "rand() init"
        ax.plot(ref["trace_t"] * 1000, ref["v"][k] * 1000, color="tab:blue", label="v (cpp_standalone)")
        ax.plot(got["trace_t"] * 1000, got["v"][k] * 1000, "--", color="tab:orange", label="v (Brisk)")
        ax.plot(ref["trace_t"] * 1000, ref["th"][k] * 1000, color="tab:green", lw=0.8,
                label="threshold (cpp_standalone)")
        ax.plot(got["trace_t"] * 1000, got["th"][k] * 1000, ":", color="tab:red", lw=0.8,
                label="threshold (Brisk)")
        ax.set_title(f"neuron {neuron} ({part})")
        ax.set_ylabel("mV")
    for ax in axes[1]:
        ax.set_xlabel("time [ms]")
    axes.flat[0].legend(fontsize="x-small", loc="lower right")
    fig.tight_layout()
    traces = os.path.join(args.outdir, "demo_traces.png")
    fig.savefig(traces, dpi=120)
    plt.close(fig)
    return raster, traces


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--neurons", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=200.0, help="simulated time in ms")
    parser.add_argument("--seed", type=int, default=4321)
    parser.add_argument("--backend", default=os.environ.get("BRISK_BACKEND", "auto"),
                        choices=["auto", "cpu", "cuda"], help="Brisk's backend")
    parser.add_argument("--outdir", default=".", help="where the PNG files go")
    parser.add_argument("--keep", action="store_true", help="keep the project folders")
    # internal: run one device in this process
    parser.add_argument("--run", choices=["cpp_standalone", "brisk"], help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        child_main(args)
        return 0

    workdir = tempfile.mkdtemp(prefix="brisk_demo_")
    try:
        ref, ref_info = run_child("cpp_standalone", args, workdir)
        got, got_info = run_child("brisk", args, workdir)
        ok = compare(ref, got, ref_info, got_info, args)
        raster, traces = plot(ref, got, args, got_info.get("backend") or "?")
        print()
        print(f"wrote {raster} and {traces}")
    finally:
        if args.keep:
            print(f"project folders kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if not ok:
        print("The results do not agree as they should.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
