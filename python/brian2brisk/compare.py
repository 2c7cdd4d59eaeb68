"""Regression comparison of a Brian script: Brisk against Brian's own backends.

    python -m brian2brisk.compare SCRIPT.py [--reference cpp_standalone|runtime]
        [--backend auto|cpu|cuda] [--seed N] [--seeds K] [-o DIR] [--rtol R]

Runs the unchanged script twice, each time in a fresh Python process: under the
reference device and under Brisk (``set_device`` calls in the script are
redirected to the device being compared, keeping their options, so scripts
with several ``run()`` calls and ``build_on_run=False`` work). It collects
every monitor and every Synapses' variables by name and checks each one:

* a **deterministic** model (no ``rand``/``randn``/``xi``/Poisson input, no
  probabilistic ``connect``: decided from the model's code, not from a flag)
  must agree exactly: the same spikes (indices, and times to within ``--rtol``),
  the same synapses, traces within ``--rtol`` (relative, default 1e-6, with an
  absolute floor of 1e-12 times the trace's largest magnitude);
* a **stochastic** model (the devices draw different random numbers) must agree
  statistically: per-neuron spike counts by a two-sample Kolmogorov-Smirnov test
  (p >= 0.001), the mean rate and the ISI CV within 4 standard errors (and 10%),
  trace means within 4 standard errors, synapse counts within 4 sqrt(n); with
  ``--seeds K`` each device runs K times (seeds N, N+1, ...) and the samples are
  pooled.

It prints a verdict table with both timings, writes ``DIR/report.html`` (side-by-side
rasters, rates and traces) and ``DIR/verdicts.json``, and exits with status 1
when anything disagrees (2 when a run fails). The environment variable
``BRIAN2BRISK_COMPARE_DEVICE`` tells the script which side it runs on (a test
uses it to change the model on one side).
"""

import argparse
import base64
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

RANDOM_FUNCTIONS = ("rand", "randn", "poisson")


# ----------------------------------------------------------------- the child
def _child(script, device, directory, out, seed, backend):
    """Runs `script` under `device` and saves what its monitors and synapses hold."""
    import importlib
    import runpy

    import brian2

    # (`brian2.devices.device` as an attribute is the device proxy, not the module)
    devmod = importlib.import_module("brian2.devices.device")

    import brian2brisk  # noqa: F401  (registers 'brisk')

    real_set_device = devmod.set_device

    def set_device(_name, build_on_run=True, **kwds):
        """The script's set_device, redirected to the compared device (its options kept)."""
        if device == "runtime":
            return real_set_device("runtime")
        kwds["directory"] = directory
        if device == "brisk":
            kwds.setdefault("backend", backend)
        else:
            kwds.pop("backend", None)
        return real_set_device(device, build_on_run=build_on_run, **kwds)

    brian2.set_device = devmod.set_device = set_device
    # a script without set_device runs on the compared device all the same
    set_device(device)
    if seed is not None:
        brian2.seed(seed)
    os.environ["BRIAN2BRISK_COMPARE_DEVICE"] = device
    start = time.time()
    namespace = runpy.run_path(script, run_name="__main__")
    wall = time.time() - start
    dev = devmod.get_device()
    if device != "runtime" and not dev.has_been_run:
        raise RuntimeError("the script ended without building its standalone project "
                           "(build_on_run=False needs a device.build() call)")
    data, meta = _collect(namespace)
    meta["wall_seconds"] = wall
    meta["stochastic"] = _stochastic(namespace, dev, device)
    np.savez(out, **data)
    with open(out + ".json", "w") as f:
        json.dump(meta, f)


def _objects(namespace):
    """Every monitor and Synapses alive after the script, by name."""
    import gc

    from brian2 import EventMonitor, PopulationRateMonitor, SpikeMonitor, StateMonitor, Synapses

    kinds = (SpikeMonitor, EventMonitor, StateMonitor, PopulationRateMonitor, Synapses)
    found = {}
    for obj in gc.get_objects():
        try:
            if isinstance(obj, kinds) and not obj.name.startswith("_"):
                found[obj.name] = obj
        except ReferenceError:
            continue
    return dict(sorted(found.items()))


def _collect(namespace):
    from brian2 import PopulationRateMonitor, SpikeMonitor, StateMonitor, Synapses

    data, meta = {}, {"objects": {}}
    for name, obj in _objects(namespace).items():
        if isinstance(obj, SpikeMonitor):  # EventMonitor too
            data[f"{name}.i"] = np.asarray(obj.i[:])
            data[f"{name}.t"] = np.asarray(obj.t_[:])
            meta["objects"][name] = {"kind": "spikes", "n": int(len(obj.source)), "dt": float(obj.clock.dt_)}
        elif isinstance(obj, StateMonitor):
            data[f"{name}.t"] = np.asarray(obj.t_[:])
            for var in obj.record_variables:
                data[f"{name}.{var}"] = np.asarray(getattr(obj, var + "_"))
            meta["objects"][name] = {"kind": "trace", "variables": list(obj.record_variables)}
        elif isinstance(obj, PopulationRateMonitor):
            data[f"{name}.t"] = np.asarray(obj.t_[:])
            data[f"{name}.rate"] = np.asarray(obj.rate_[:])
            meta["objects"][name] = {"kind": "rate"}
        elif isinstance(obj, Synapses):
            variables = ["i", "j"] + sorted(
                v for v, var in obj.variables.items()
                if not v.startswith("_") and getattr(var, "size", None) is not None
                and getattr(var, "owner", None) is not None and var.owner.name == obj.name
                and v not in ("i", "j", "N", "N_incoming", "N_outgoing", "lastupdate")
                and getattr(var, "ndim", 1) == 1 and not getattr(var, "scalar", False)
                and np.dtype(var.dtype).kind in "fiub"
            )
            kept = []
            for var in variables:
                try:
                    data[f"{name}.{var}"] = np.asarray(getattr(obj, var + "_" if var not in ("i", "j") else var)[:])
                    kept.append(var)
                except Exception:  # a variable without values outside a run (e.g. a subexpression)
                    continue
            meta["objects"][name] = {"kind": "synapses", "variables": kept}
    return data, meta


def _stochastic(namespace, dev, device):
    """True when the model draws random numbers (decided from its code)."""
    from brian2 import PoissonGroup, PoissonInput

    for obj in _objects_all():
        if isinstance(obj, (PoissonGroup, PoissonInput)):
            return True
        eqs = getattr(obj, "equations", None)
        if eqs is not None and getattr(eqs, "stochastic_variables", None):
            return True
        for runner in getattr(obj, "contained_objects", []) + [obj]:
            code = getattr(runner, "abstract_code", None)
            texts = code.values() if isinstance(code, dict) else [code]
            for text in texts:
                if isinstance(text, str) and any(f"{f}(" in text for f in RANDOM_FUNCTIONS):
                    return True
    if device == "brisk" and getattr(dev, "project_dir", None):
        # everything the simulation runs, initialisation and connect() included
        with open(os.path.join(dev.project_dir, "export", "manifest.json")) as f:
            for co in json.load(f)["code_objects"]:
                p = ((co.get("template_kwds") or {}).get("iterator_kwds") or {}).get("p")
                if co["template"] == "synapses_create_generator" and p not in (None, "1", "1.0"):
                    return True
                if any(var["kind"] == "binomial" for var in co["variables"].values()):
                    return True
                if any(f"{f}(" in b["abstract_code"] for b in co["blocks"] for f in RANDOM_FUNCTIONS):
                    return True
    return False


def _objects_all():
    import gc

    from brian2.core.base import BrianObject

    out = []
    for obj in gc.get_objects():
        try:
            if isinstance(obj, BrianObject):
                out.append(obj)
        except ReferenceError:
            continue
    return out


# ------------------------------------------------------------- the statistics
def ks_2samp(a, b):
    """Two-sample Kolmogorov-Smirnov statistic and its asymptotic p-value."""
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    if len(a) == 0 or len(b) == 0:
        return 0.0, 1.0
    grid = np.concatenate([a, b])
    d = float(np.max(np.abs(np.searchsorted(a, grid, side="right") / len(a)
                            - np.searchsorted(b, grid, side="right") / len(b))))
    n = len(a) * len(b) / (len(a) + len(b))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    if lam < 0.3:  # the series does not converge there; the p-value is 1 to many digits
        return d, 1.0
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * (k * lam) ** 2) for k in range(1, 101))
    return d, float(min(1.0, max(0.0, p)))


def _cv(i, t, n):
    cvs = []
    for k in range(n):
        isi = np.diff(np.sort(t[i == k]))
        if len(isi) >= 2 and isi.mean() > 0:
            cvs.append(isi.std() / isi.mean())
    return np.asarray(cvs)


def _close(a, b, sa, sb, rel=0.10):
    """Within 4 standard errors or `rel` relative."""
    se = math.sqrt(sa ** 2 + sb ** 2)
    return abs(a - b) <= 4 * se or abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def compare(ref, got, meta, stochastic, rtol):
    """Verdict rows: (object, quantity, ok, detail)."""
    rows = []
    for name, info in meta["objects"].items():
        kind = info["kind"]
        if kind == "spikes":
            ri, rt, gi, gt = ref[f"{name}.i"], ref[f"{name}.t"], got[f"{name}.i"], got[f"{name}.t"]
            n, duration = info["n"], max(rt.max(initial=0), gt.max(initial=0)) or 1.0
            if not stochastic:
                ok = len(ri) == len(gi) and np.array_equal(ri, gi) and np.allclose(rt, gt, rtol=rtol, atol=info["dt"] * 1e-3)
                rows.append((name, "spike trains", ok, f"{len(ri)} vs {len(gi)} spikes"))
            else:
                cr, cg = np.bincount(ri, minlength=n), np.bincount(gi, minlength=n)
                d, p = ks_2samp(cr, cg)
                rows.append((name, "spike counts (KS)", p >= 1e-3, f"D = {d:.3f}, p = {p:.3g}"))
                mr, mg = cr.mean() / duration, cg.mean() / duration
                sr, sg = cr.std() / math.sqrt(n) / duration, cg.std() / math.sqrt(n) / duration
                rows.append((name, "mean rate", _close(mr, mg, sr, sg), f"{mr:.3g} vs {mg:.3g} Hz"))
                vr, vg = _cv(ri, rt, n), _cv(gi, gt, n)
                if len(vr) > 2 and len(vg) > 2:
                    ok = _close(vr.mean(), vg.mean(), vr.std() / math.sqrt(len(vr)), vg.std() / math.sqrt(len(vg)))
                    rows.append((name, "ISI CV", ok, f"{vr.mean():.3f} vs {vg.mean():.3f}"))
        elif kind in ("trace", "rate"):
            variables = info.get("variables", ["rate"])
            for var in variables:
                a, b = ref[f"{name}.{var}"], got[f"{name}.{var}"]
                if a.shape != b.shape:
                    rows.append((name, var, False, f"shapes {a.shape} vs {b.shape}"))
                elif not stochastic:
                    scale = max(float(np.max(np.abs(a), initial=0)), 1e-300)
                    err = float(np.max(np.abs(a - b), initial=0))
                    ok = np.allclose(a, b, rtol=rtol, atol=1e-12 * scale)
                    rows.append((name, var, ok, f"max |diff| {err:.3g} (scale {scale:.3g})"))
                else:
                    flat_a, flat_b = a.reshape(len(a), -1).mean(axis=0), b.reshape(len(b), -1).mean(axis=0)
                    ma, mb = float(a.mean()), float(b.mean())
                    sa = float(flat_a.std()) / math.sqrt(max(1, flat_a.size)) if flat_a.size > 1 else float(a.std()) / math.sqrt(a.size)
                    sb = float(flat_b.std()) / math.sqrt(max(1, flat_b.size)) if flat_b.size > 1 else float(b.std()) / math.sqrt(b.size)
                    rows.append((name, f"{var} mean", _close(ma, mb, sa, sb), f"{ma:.4g} vs {mb:.4g}"))
        elif kind == "synapses":
            a_n, b_n = len(ref[f"{name}.i"]), len(got[f"{name}.i"])
            if not stochastic:
                for var in info["variables"]:
                    a, b = ref[f"{name}.{var}"], got[f"{name}.{var}"]
                    ok = a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=0)
                    rows.append((name, var, ok, f"{a.size} vs {b.size} values"))
            else:
                rows.append((name, "synapse count", abs(a_n - b_n) <= 4 * math.sqrt(max(a_n, b_n, 1)) + 1,
                             f"{a_n} vs {b_n}"))
                for var in info["variables"]:
                    if var in ("i", "j"):
                        continue
                    d, p = ks_2samp(ref[f"{name}.{var}"], got[f"{name}.{var}"])
                    rows.append((name, f"{var} (KS)", p >= 1e-3, f"D = {d:.3f}, p = {p:.3g}"))
    return rows


def _pool(runs, meta):
    """The samples of several runs (seeds) as one: neuron indices offset per run,
    traces stacked (more recorded elements), synapse values and rates concatenated."""
    out = {}
    for name, info in meta["objects"].items():
        if info["kind"] == "spikes":
            out[f"{name}.i"] = np.concatenate([r[f"{name}.i"] + k * info["n"] for k, r in enumerate(runs)])
            out[f"{name}.t"] = np.concatenate([r[f"{name}.t"] for r in runs])
        elif info["kind"] == "trace":
            out[f"{name}.t"] = runs[0][f"{name}.t"]
            for var in info["variables"]:
                out[f"{name}.{var}"] = np.concatenate([r[f"{name}.{var}"] for r in runs], axis=0)
        else:
            for key in runs[0]:
                if key.startswith(name + "."):
                    out[key] = np.concatenate([r[key] for r in runs])
    return out


# ------------------------------------------------------------------ the report
def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def report(path, rows, meta, ref, got, labels, timings, stochastic):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [f"<html><head><meta charset='utf-8'><title>Brisk comparison</title></head><body>",
             f"<h1>{labels[0]} vs {labels[1]}</h1>",
             f"<p>model: {'stochastic (statistical checks)' if stochastic else 'deterministic (exact checks)'}; "
             f"wall time: {labels[0]} {timings[0]:.2f} s, {labels[1]} {timings[1]:.2f} s</p>",
             "<table border=1 cellpadding=4><tr><th>object</th><th>check</th><th>verdict</th><th>detail</th></tr>"]
    for obj, what, ok, detail in rows:
        parts.append(f"<tr><td>{obj}</td><td>{what}</td><td>{'agree' if ok else '<b>DISAGREE</b>'}</td><td>{detail}</td></tr>")
    parts.append("</table>")
    for name, info in meta["objects"].items():
        fig = None
        if info["kind"] == "spikes":
            fig, axes = plt.subplots(1, 2, figsize=(10, 3), sharey=True)
            for ax, data, label in zip(axes, (ref, got), labels):
                ax.plot(data[f"{name}.t"], data[f"{name}.i"], ",k")
                ax.set_title(f"{name}: {label}")
                ax.set_xlabel("t (s)")
        elif info["kind"] in ("trace", "rate"):
            variables = info.get("variables", ["rate"])
            fig, axes = plt.subplots(1, len(variables), figsize=(5 * len(variables), 3), squeeze=False)
            for ax, var in zip(axes[0], variables):
                for data, label, style in ((ref, labels[0], "-"), (got, labels[1], "--")):
                    values = data[f"{name}.{var}"]
                    values = values if values.ndim == 1 else values[:3].T
                    ax.plot(data[f"{name}.t"], values, style, label=label)
                ax.set_title(f"{name}.{var}")
                ax.legend(fontsize=7)
        if fig is not None:
            parts.append(f"<h2>{name}</h2><img src='data:image/png;base64,{_png(fig)}'/>")
            plt.close(fig)
    parts.append("</body></html>")
    with open(path, "w") as f:
        f.write("\n".join(parts))


# -------------------------------------------------------------------- the CLI
def _run(script, device, workdir, seed, backend):
    out = os.path.join(workdir, f"{device}.npz")
    cmd = [sys.executable, "-m", "brian2brisk.compare", "--child", device, script,
           os.path.join(workdir, f"project_{device}"), out, str(seed), backend]
    start = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"compare: the script failed under {device} (exit status {proc.returncode})")
    with open(out + ".json") as f:
        meta = json.load(f)
    return dict(np.load(out)), meta, time.time() - start


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        device, script, directory, out, seed, backend = argv[1:7]
        _child(script, device, directory, out, None if seed == "None" else int(seed), backend)
        return 0
    parser = argparse.ArgumentParser(prog="python -m brian2brisk.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("script")
    parser.add_argument("--reference", choices=["cpp_standalone", "runtime"], default="cpp_standalone")
    parser.add_argument("--backend", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--seed", type=int, default=None, help="seed() before the script runs")
    parser.add_argument("-o", "--output", default="brisk-compare")
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--seeds", type=int, default=1,
                        help="stochastic models: run each device with this many seeds (from --seed, "
                             "default 1) and pool the samples")
    args = parser.parse_args(argv)
    script = os.path.abspath(args.script)
    os.makedirs(args.output, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="brisk_compare_") as work:
        try:
            ref, ref_meta, ref_time = _run(script, args.reference, work, args.seed, args.backend)
            got, got_meta, got_time = _run(script, "brisk", work, args.seed, args.backend)
            stochastic = ref_meta["stochastic"] or got_meta["stochastic"]
            if stochastic and args.seeds > 1:
                first = 1 if args.seed is None else args.seed
                runs_ref, runs_got = [ref], [got]
                for k in range(1, args.seeds):
                    runs_ref.append(_run(script, args.reference, work, first + k, args.backend)[0])
                    runs_got.append(_run(script, "brisk", work, first + k, args.backend)[0])
                ref, got = _pool(runs_ref, ref_meta), _pool(runs_got, got_meta)
                for meta in (ref_meta, got_meta):
                    for info in meta["objects"].values():
                        if info["kind"] == "spikes":
                            info["n"] *= args.seeds
        except SystemExit as e:
            print(e, file=sys.stderr)
            return 2
    missing = sorted(set(ref_meta["objects"]) ^ set(got_meta["objects"]))
    rows = [(name, "present", False, "only under one device") for name in missing]
    common = {"objects": {k: v for k, v in ref_meta["objects"].items() if k in got_meta["objects"]}}
    rows += compare(ref, got, common, stochastic, args.rtol)
    labels = (args.reference, "brisk")
    timings = (ref_meta["wall_seconds"], got_meta["wall_seconds"])
    width = max([len(r[0]) + len(r[1]) for r in rows] + [20]) + 3
    print(f"model: {'stochastic (statistical checks)' if stochastic else 'deterministic (exact checks)'}")
    print(f"time (script, build and run): {labels[0]} {timings[0]:.2f} s, brisk {timings[1]:.2f} s")
    for obj, what, ok, detail in rows:
        print(f"  {(obj + ' ' + what).ljust(width)} {'agree   ' if ok else 'DISAGREE'}  {detail}")
    disagree = sum(not r[2] for r in rows)
    report(os.path.join(args.output, "report.html"), rows, common, ref, got, labels, timings, stochastic)
    with open(os.path.join(args.output, "verdicts.json"), "w") as f:
        json.dump({"stochastic": stochastic, "timings": dict(zip(labels, timings)),
                   "checks": [{"object": o, "check": w, "agree": bool(k), "detail": d} for o, w, k, d in rows]},
                  f, indent=1)
    print(f"{len(rows) - disagree} of {len(rows)} checks agree; report: {os.path.join(args.output, 'report.html')}")
    if not rows:
        print("compare: nothing to compare (no monitors or synapses)", file=sys.stderr)
        return 1
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
