"""Regression comparison of a Brian script: Brisk against Brian's own backends.

    python -m brian2brisk.compare SCRIPT.py [--reference cpp_standalone|runtime]
        [--backend auto|cpu|cuda] [--seed N] [--seeds K] [-o DIR] [--rtol R]
        [-- SCRIPT_ARGS ...]

Runs the unchanged script twice, each time in a fresh Python process: under the
reference device and under Brisk. The arguments after ``--`` are the script's
own: under both devices it sees ``sys.argv == [SCRIPT.py, *SCRIPT_ARGS]`` (and
its folder on ``sys.path``), as with ``python SCRIPT.py SCRIPT_ARGS ...``, so
scripts that use argparse work (``set_device`` calls in the script are
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
rasters, with the spikes found under one device only in red; traces and rates of both
devices overlaid, axes in ms or s and the variables' Brian units, and for a
deterministic model a difference panel, brisk minus the reference) and
``DIR/verdicts.json`` (the checks and what was collected), and exits with status 1
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
def _child(script, device, directory, out, seed, backend, script_argv=None):
    """Runs `script` under `device` and saves what its monitors and synapses hold.

    `script_argv` is the script's command line as Python would give it: its own path
    (as typed) first, then its arguments (those after ``--`` on compare's)."""
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
    # the script sees the command line (and the import path) of `python SCRIPT.py ARGS...`
    sys.argv = list(script_argv) if script_argv else [script]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    start = time.time()
    namespace = runpy.run_path(script, run_name="__main__")
    wall = time.time() - start
    dev = devmod.get_device()
    # (a Brisk live session, Brian's runtime mode, has run without a build)
    live = getattr(dev, "_brisk_session", None) is not None
    if device != "runtime" and not dev.has_been_run and not live:
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
            meta["objects"][name] = {"kind": "trace", "variables": list(obj.record_variables),
                                     "units": {var: _display_unit(obj, var, data[f"{name}.{var}"])
                                               for var in obj.record_variables}}
        elif isinstance(obj, PopulationRateMonitor):
            data[f"{name}.t"] = np.asarray(obj.t_[:])
            data[f"{name}.rate"] = np.asarray(obj.rate_[:])
            meta["objects"][name] = {"kind": "rate", "units": {"rate": ["Hz", 1.0]}}
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


def _display_unit(monitor, var, values):
    """[name, scale] of the Brian unit to show a recorded variable in (values in SI / scale):
    the variable's unit, with the prefix Brian picks for its largest magnitude (`mV`, `nA`);
    ["", 1.0] for a dimensionless one."""
    from brian2 import Quantity

    try:
        dim = monitor.variables[var].dim
        if dim.is_dimensionless:
            return ["", 1.0]
        largest = float(np.max(np.abs(values), initial=0)) if values.size else 0.0
        unit = Quantity(largest if np.isfinite(largest) and largest > 0 else 1.0, dim=dim).get_best_unit()
        return [str(unit), float(np.asarray(unit))]
    except Exception:  # an odd variable: plot it in SI units, unnamed
        return ["", 1.0]


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
MAX_TRACES = 3  # recorded elements drawn per trace plot (the difference band covers all of them)
COLORS = ("tab:blue", "tab:orange")  # reference, brisk
STYLES = ("-", "--")


def _time_unit(*times):
    """("ms", 1e-3) for recordings shorter than 10 s, ("s", 1.0) otherwise."""
    longest = max((float(np.max(t, initial=0)) for t in times if np.size(t)), default=0.0)
    return ("s", 1.0) if longest >= 10 else ("ms", 1e-3)


def _label(what, unit):
    return f"{what} ({unit})" if unit else what


def _new_figure(width, height, **grid):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(**grid)


def raster_figure(name, info, ref, got, labels, stochastic):
    """The spikes of one SpikeMonitor/EventMonitor: a raster per device, side by side (time
    in ms or s, neuron index). In a deterministic model the spikes found under only one
    device are drawn in red; in a stochastic one a third panel shows the distribution of
    the spike counts per neuron (what the KS test compares). Returns the Figure."""
    from matplotlib.ticker import MaxNLocator

    data = (ref, got)
    tu, ts = _time_unit(ref[f"{name}.t"], got[f"{name}.t"])
    only = [np.zeros(len(d[f"{name}.i"]), bool) for d in data]
    if not stochastic:
        dt = info.get("dt") or 1e-4
        keys = [d[f"{name}.i"].astype(np.int64) * (1 << 40) + np.round(d[f"{name}.t"] / dt).astype(np.int64)
                for d in data]
        only = [~np.isin(keys[0], keys[1]), ~np.isin(keys[1], keys[0])]
    fig, axes = _new_figure(13 if stochastic else 10, 3.2, nrows=1, ncols=3 if stochastic else 2)
    for k, (ax, d, label) in enumerate(zip(axes, data, labels)):
        t, i = d[f"{name}.t"] / ts, d[f"{name}.i"]
        marker = dict(ls="", marker="." if len(t) < 20000 else ",", ms=2)
        ax.plot(t[~only[k]], i[~only[k]], color="k", **marker)
        if only[k].any():
            ax.plot(t[only[k]], i[only[k]], color="tab:red", label=f"{int(only[k].sum())} only under {label}",
                    **dict(marker, ms=4, marker="."))
            ax.legend(fontsize=8, loc="upper right")
        ax.set_title(f"{name}: {label} ({len(t)} spikes)")
        ax.set_xlabel(_label("time", tu))
        ax.set_ylabel("neuron index")
        ax.set_ylim(-0.5, max(info.get("n", 1), 1) - 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].sharex(axes[0])
    axes[0].set_xlim(left=0)
    if stochastic:
        ax = axes[2]
        n = max(info.get("n", 1), 1)
        counts = [np.bincount(d[f"{name}.i"], minlength=n) for d in data]
        bins = np.arange(-0.5, max(int(c.max(initial=0)) for c in counts) + 1.5)
        if len(bins) > 60:
            bins = np.linspace(-0.5, bins[-1], 61)
        for c, label, color in zip(counts, labels, COLORS):
            ax.hist(c, bins=bins, histtype="step", color=color, label=label)
        ax.set_title(f"{name}: spike counts")
        ax.set_xlabel("spikes per neuron")
        ax.set_ylabel("neurons")
        ax.legend(fontsize=8)
    return fig


def _smooth(values, width):
    if width <= 1 or len(values) < width:
        return values
    return np.convolve(values, np.ones(width) / width, mode="same")


def trace_figure(name, info, ref, got, labels, stochastic):
    """The traces of one StateMonitor (a column per variable) or PopulationRateMonitor:
    both devices overlaid (the first MAX_TRACES recorded elements, or in a stochastic model
    their mean ± s.d. over all recorded elements; one legend entry per device), time in ms or s, the variable in its Brian unit (rates in Hz, smoothed for
    display). A deterministic model gets a difference panel under each plot (brisk minus
    the reference, with the range over all recorded elements). Returns the Figure."""
    variables = info.get("variables", ["rate"])
    units = info.get("units", {})
    deterministic = not stochastic
    tu, ts = _time_unit(ref[f"{name}.t"], got[f"{name}.t"])
    grid = dict(nrows=2, ncols=len(variables), squeeze=False, height_ratios=[2, 1]) if deterministic \
        else dict(nrows=1, ncols=len(variables), squeeze=False)
    fig, axes = _new_figure(6 * len(variables), 4.6 if deterministic else 3.2, **grid)
    for col, var in enumerate(variables):
        unit, scale = units.get(var, ["Hz", 1.0] if info["kind"] == "rate" else ["", 1.0])
        ax = axes[0][col]
        shown = None
        title = f"{name}.{var}"
        for k, (d, label) in enumerate(zip((ref, got), labels)):
            t, values = d[f"{name}.t"] / ts, d[f"{name}.{var}"] / scale
            if values.ndim == 1:
                width = max(1, len(values) // 200) if info["kind"] == "rate" else 1
                lines = [_smooth(values, width)]
                if width > 1 and len(t) > 1:
                    title = f"{name}.{var} (smoothed over {width * (t[1] - t[0]):.3g} {tu})"
            elif stochastic:  # the devices' random numbers differ: their mean ± s.d. over elements
                lines = [values.mean(axis=0)]
                ax.fill_between(t, lines[0] - values.std(axis=0), lines[0] + values.std(axis=0),
                                color=COLORS[k], alpha=0.2, lw=0)
                title = f"{name}.{var} (mean ± s.d. over {len(values)} recorded)"
            else:
                lines = list(values[:MAX_TRACES])
                shown = (len(lines), len(values))
            for m, line in enumerate(lines):
                ax.plot(t[:len(line)], line, STYLES[k], color=COLORS[k], lw=1.2,
                        label=label if m == 0 else None)
        if shown and shown[1] > shown[0]:
            title += f" (first {shown[0]} of {shown[1]} recorded)"
        ax.set_title(title)
        ax.set_ylabel(_label(var, unit))
        ax.legend(fontsize=8, loc="best")
        if not deterministic:
            ax.set_xlabel(_label("time", tu))
            continue
        ax.tick_params(labelbottom=False)
        dax = axes[1][col]
        dax.sharex(ax)
        dax.set_xlabel(_label("time", tu))
        dax.set_ylabel(_label(f"Δ{var}", unit))
        a, b = ref[f"{name}.{var}"], got[f"{name}.{var}"]
        ta, tb = ref[f"{name}.t"], got[f"{name}.t"]
        if a.shape != b.shape or ta.shape != tb.shape:
            dax.text(0.5, 0.5, f"no difference plot: shapes {a.shape} vs {b.shape}", ha="center",
                     va="center", transform=dax.transAxes)
            continue
        diff = (b - a) / scale
        t = ta / ts
        if diff.ndim == 1:
            dax.plot(t, diff, color="tab:red", lw=1, label=f"{labels[1]} − {labels[0]}")
        else:
            for m, line in enumerate(diff[:MAX_TRACES]):
                dax.plot(t, line, color="tab:red", lw=1, label=f"{labels[1]} − {labels[0]}" if m == 0 else None)
            if len(diff) > MAX_TRACES:
                dax.fill_between(t, diff.min(axis=0), diff.max(axis=0), color="0.6", alpha=0.4, lw=0,
                                 label=f"range over all {len(diff)} recorded")
        dax.axhline(0, color="0.3", lw=0.5)
        largest = float(np.max(np.abs(diff), initial=0))
        dax.set_title(f"difference ({labels[1]} − {labels[0]}): "
                      + (f"max |Δ| {largest:.3g} {unit}".rstrip() if largest > 0 else "identical"), fontsize=9)
        dax.legend(fontsize=8, loc="best")
    return fig


def figures(meta, ref, got, labels, stochastic):
    """(object name, matplotlib Figure) for every monitor that has a plot in the report."""
    for name, info in meta["objects"].items():
        if info["kind"] == "spikes":
            yield name, raster_figure(name, info, ref, got, labels, stochastic)
        elif info["kind"] in ("trace", "rate"):
            yield name, trace_figure(name, info, ref, got, labels, stochastic)


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode()


def report(path, rows, meta, ref, got, labels, timings, stochastic):
    parts = [f"<html><head><meta charset='utf-8'><title>Brisk comparison</title></head><body>",
             f"<h1>{labels[0]} vs {labels[1]}</h1>",
             f"<p>model: {'stochastic (statistical checks)' if stochastic else 'deterministic (exact checks)'}; "
             f"wall time: {labels[0]} {timings[0]:.2f} s, {labels[1]} {timings[1]:.2f} s</p>",
             "<table border=1 cellpadding=4><tr><th>object</th><th>check</th><th>verdict</th><th>detail</th></tr>"]
    for obj, what, ok, detail in rows:
        parts.append(f"<tr><td>{obj}</td><td>{what}</td><td>{'agree' if ok else '<b>DISAGREE</b>'}</td><td>{detail}</td></tr>")
    parts.append("</table>")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        parts.append("<p>(no plots: matplotlib is not installed)</p>")
    else:
        for name, fig in figures(meta, ref, got, labels, stochastic):
            parts.append(f"<h2>{name}</h2><img src='data:image/png;base64,{_png(fig)}'/>")
    parts.append("</body></html>")
    with open(path, "w") as f:
        f.write("\n".join(parts))


# -------------------------------------------------------------------- the CLI
def _run(script, device, workdir, seed, backend, script_argv=None):
    out = os.path.join(workdir, f"{device}.npz")
    cmd = [sys.executable, "-m", "brian2brisk.compare", "--child", device, script,
           os.path.join(workdir, f"project_{device}"), out, str(seed), backend,
           *(script_argv or [script])]
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
        _child(script, device, directory, out, None if seed == "None" else int(seed), backend, argv[7:])
        return 0
    # everything after the first `--` is the script's own command line, passed on unchanged
    argv = list(argv)
    script_args = []
    if "--" in argv:
        split = argv.index("--")
        argv, script_args = argv[:split], argv[split + 1:]
    parser = argparse.ArgumentParser(
        prog="python -m brian2brisk.compare", description=__doc__.split("\n\n")[0],
        usage="%(prog)s SCRIPT.py [options] [-- SCRIPT_ARGS ...]",
        epilog="Arguments after `--` are the script's own: it gets them (and its own path as "
               "sys.argv[0]) under both devices, as `python SCRIPT.py SCRIPT_ARGS ...` would.")
    parser.add_argument("script")
    parser.add_argument("--reference", choices=["cpp_standalone", "runtime"], default="cpp_standalone")
    parser.add_argument("--backend", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--seed", type=int, default=None, help="seed() before the script runs")
    parser.add_argument("-o", "--output", default="brisk-compare")
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--seeds", type=int, default=1,
                        help="stochastic models: run each device with this many seeds (from --seed, "
                             "default 1) and pool the samples")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)} (the script's own arguments go "
                     f"after `--`: {parser.prog} {args.script} ... -- {' '.join(unknown)})")
    script = os.path.abspath(args.script)
    script_argv = [args.script, *script_args]
    os.makedirs(args.output, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="brisk_compare_") as work:
        try:
            ref, ref_meta, ref_time = _run(script, args.reference, work, args.seed, args.backend, script_argv)
            got, got_meta, got_time = _run(script, "brisk", work, args.seed, args.backend, script_argv)
            stochastic = ref_meta["stochastic"] or got_meta["stochastic"]
            if stochastic and args.seeds > 1:
                first = 1 if args.seed is None else args.seed
                runs_ref, runs_got = [ref], [got]
                for k in range(1, args.seeds):
                    runs_ref.append(_run(script, args.reference, work, first + k, args.backend, script_argv)[0])
                    runs_got.append(_run(script, "brisk", work, first + k, args.backend, script_argv)[0])
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
                   "objects": common["objects"],
                   "checks": [{"object": o, "check": w, "agree": bool(k), "detail": d} for o, w, k, d in rows]},
                  f, indent=1)
    print(f"{len(rows) - disagree} of {len(rows)} checks agree; report: {os.path.join(args.output, 'report.html')}")
    if not rows:
        print("compare: nothing to compare (no monitors or synapses)", file=sys.stderr)
        return 1
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
