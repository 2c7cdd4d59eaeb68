"""``python -m brian2brisk.compare``: the right verdicts on a deterministic and on a
stochastic script, and a deliberately changed model fails."""

import json
import re
import os
import subprocess
import sys

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "compare")
BACKEND = os.environ.get("BRISK_E2E_BACKEND", "cpu")


def _compare(tmp_path, script, *args, env=None):
    out = tmp_path / "report"
    proc = subprocess.run([sys.executable, "-m", "brian2brisk.compare", os.path.join(DATA, script),
                           "--backend", BACKEND, "-o", str(out), *args],
                          capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    verdicts = json.loads((out / "verdicts.json").read_text()) if (out / "verdicts.json").exists() else None
    return proc, verdicts, out


def test_deterministic_script_agrees_exactly(tmp_path):
    proc, verdicts, out = _compare(tmp_path, "deterministic.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not verdicts["stochastic"]
    checks = {(c["object"], c["check"]) for c in verdicts["checks"]}
    assert {("spikes", "spike trains"), ("trace", "v"), ("rate", "rate"), ("syn", "w")} <= checks, checks
    assert all(c["agree"] for c in verdicts["checks"])
    assert "deterministic (exact checks)" in proc.stdout
    assert (out / "report.html").stat().st_size > 1000


def test_stochastic_script_agrees_statistically(tmp_path):
    proc, verdicts, _ = _compare(tmp_path, "stochastic.py", "--reference", "runtime", "--seed", "3", "--seeds", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert verdicts["stochastic"]
    assert any(c["check"] == "spike counts (KS)" and c["agree"] for c in verdicts["checks"])


def test_a_changed_model_fails(tmp_path):
    proc, verdicts, _ = _compare(tmp_path, "stochastic.py", "--reference", "runtime", "--seed", "3",
                                 env={"BRISK_COMPARE_TEST_CHANGE": "1"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    failed = {c["check"] for c in verdicts["checks"] if not c["agree"]}
    assert {"spike counts (KS)", "mean rate"} <= failed, verdicts


# ------------------------------------------------- the script's own command line
ARGV_SCRIPT = '''
"""An argparse script: N neurons from --N; it checks the command line it was given."""
import argparse, json, os, sys
from brian2 import *
assert sys.argv == json.loads(os.environ["EXPECTED_ARGV"]), sys.argv
parser = argparse.ArgumentParser()
parser.add_argument("--N", type=int, required=True)
parser.add_argument("--tag", default="")
parser.add_argument("-o", dest="other", default=None)
parser.add_argument("--change-on", default=None)
args = parser.parse_args()
drive = 1.2 if args.change_on == os.environ["BRIAN2BRISK_COMPARE_DEVICE"] else 1.1
G = NeuronGroup(args.N, f"dv/dt = ({drive} + 0.5*i/{args.N} - v)/(10*ms) : 1", threshold="v > 1",
                reset="v = 0", method="exact", name="grp")
M = SpikeMonitor(G, name="spikes")
run(30*ms)
'''


def _argv_script(tmp_path):
    script = tmp_path / "argv_script.py"
    script.write_text(ARGV_SCRIPT)
    return str(script)


def test_script_gets_its_own_arguments_after_double_dash(tmp_path):
    script = _argv_script(tmp_path)
    # `-o` and an argument with a space: passed on unchanged, not taken by compare
    script_args = ["--N", "50", "--tag", "a b", "-o", "x"]
    proc, verdicts, _ = _compare(tmp_path, script, "--", *script_args,
                                 env={"EXPECTED_ARGV": json.dumps([script, *script_args])})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert all(c["agree"] for c in verdicts["checks"]), verdicts
    assert verdicts["objects"]["spikes"]["n"] == 50  # --N really was used
    assert any(c["check"] == "spike trains" for c in verdicts["checks"])


def test_script_arguments_that_change_one_side_disagree(tmp_path):
    script = _argv_script(tmp_path)
    script_args = ["--N", "20", "--change-on", "brisk"]
    proc, verdicts, _ = _compare(tmp_path, script, "--", *script_args,
                                 env={"EXPECTED_ARGV": json.dumps([script, *script_args])})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert {c["check"] for c in verdicts["checks"] if not c["agree"]} == {"spike trains"}, verdicts
    assert verdicts["objects"]["spikes"]["n"] == 20


def test_script_arguments_without_double_dash_are_refused_with_a_hint(tmp_path):
    proc, verdicts, _ = _compare(tmp_path, "deterministic.py", "--N", "50")
    assert proc.returncode == 2 and verdicts is None
    assert "unrecognized arguments: --N 50" in proc.stderr and "-- --N 50" in proc.stderr, proc.stderr


# ------------------------------------------------------------------ the report's plots
def _synthetic(shift=0.0):
    """Data as the child collects it: 5 recorded traces (volts), a rate, 8 neurons' spikes."""
    import numpy as np

    t = np.arange(200) * 1e-4
    v = -0.07 + 0.01 * np.sin(t[None, :] * 300 + np.arange(5)[:, None])
    i, ts = np.arange(40) % 8, np.sort(np.arange(40) * 5e-4)
    return {"trace.t": t, "trace.v": v + shift, "rate.t": t, "rate.rate": 100 + 0 * t + shift * 1e3,
            "spikes.i": i, "spikes.t": ts + (shift > 0) * np.where(i == 3, 1e-4, 0)}


META = {"objects": {"spikes": {"kind": "spikes", "n": 8, "dt": 1e-4},
                    "trace": {"kind": "trace", "variables": ["v"], "units": {"v": ["mV", 1e-3]}},
                    "rate": {"kind": "rate", "units": {"rate": ["Hz", 1.0]}}}}
LABELS = ("cpp_standalone", "brisk")


def _legend(ax):
    legend = ax.get_legend()
    return [text.get_text() for text in legend.get_texts()] if legend else []


def test_trace_plot_has_units_one_legend_entry_per_device_and_a_difference_panel():
    import numpy as np

    from brian2brisk import compare

    ref, got = _synthetic(), _synthetic(shift=2e-3)
    fig = compare.trace_figure("trace", META["objects"]["trace"], ref, got, LABELS, stochastic=False)
    top, diff = fig.axes
    assert top.get_ylabel() == "v (mV)"
    assert _legend(top) == list(LABELS)  # 3 traces each, one entry per device
    assert len(top.get_lines()) == 2 * compare.MAX_TRACES
    assert diff.get_xlabel() == "time (ms)" and diff.get_ylabel() == "Δv (mV)"
    assert "brisk − cpp_standalone" in _legend(diff)
    np.testing.assert_allclose(diff.get_lines()[0].get_ydata(), 2.0)  # 2 mV, in mV
    np.testing.assert_allclose(diff.get_lines()[0].get_xdata(), ref["trace.t"] / 1e-3)  # in ms
    assert "max |Δ| 2 mV" in diff.get_title()
    # a stochastic model: no difference panel
    fig = compare.trace_figure("trace", META["objects"]["trace"], ref, got, LABELS, stochastic=True)
    (top,) = fig.axes
    assert top.get_xlabel() == "time (ms)" and _legend(top) == list(LABELS)
    # a rate: Hz
    fig = compare.trace_figure("rate", META["objects"]["rate"], ref, got, LABELS, stochastic=False)
    assert fig.axes[0].get_ylabel() == "rate (Hz)" and fig.axes[1].get_ylabel() == "Δrate (Hz)"


def test_raster_plot_labels_and_the_spikes_of_one_device_only():
    from brian2brisk import compare

    ref, got = _synthetic(), _synthetic(shift=2e-3)  # neuron 3 spikes one step later under brisk
    fig = compare.raster_figure("spikes", META["objects"]["spikes"], ref, got, LABELS, stochastic=False)
    left, right = fig.axes
    for ax in (left, right):
        assert ax.get_xlabel() == "time (ms)" and ax.get_ylabel() == "neuron index"
    assert _legend(left) == ["5 only under cpp_standalone"] and _legend(right) == ["5 only under brisk"]
    fig = compare.raster_figure("spikes", META["objects"]["spikes"], ref, ref, LABELS, stochastic=False)
    assert all(not _legend(ax) for ax in fig.axes)
    # stochastic: a third panel with the spike-count distributions, one entry per device
    fig = compare.raster_figure("spikes", META["objects"]["spikes"], ref, got, LABELS, stochastic=True)
    assert len(fig.axes) == 3 and _legend(fig.axes[2]) == list(LABELS)
    assert fig.axes[2].get_xlabel() == "spikes per neuron"


UNITS_SCRIPT = '''
from brian2 import *
G = NeuronGroup(4, """dv/dt = (-70*mV - v + 20*Mohm*I)/(10*ms) : volt
                      I : amp""", threshold="v > -50*mV", reset="v = -70*mV", method="exact", name="grp")
G.v = -70*mV
G.I = "(1.1 + 0.3*i) * nA"
M = SpikeMonitor(G, name="spikes")
V = StateMonitor(G, ["v", "I"], record=True, name="trace")
R = PopulationRateMonitor(G, name="rate")
run(40*ms)
'''


def test_report_of_a_real_run(tmp_path, monkeypatch):
    """compare's own run: the figures it puts in report.html (caught as it renders them)."""
    from brian2brisk import compare

    script = tmp_path / "units.py"
    script.write_text(UNITS_SCRIPT)
    rendered = {}
    real_png = compare._png

    def catch(fig):
        rendered[len(rendered)] = fig
        return real_png(fig)

    monkeypatch.setattr(compare, "_png", catch)
    code = compare.main([str(script), "--backend", BACKEND, "-o", str(tmp_path / "out")])
    assert code == 0
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(rendered) == 3
    rate, spikes, trace = rendered.values()  # objects in name order
    assert [ax.get_ylabel() for ax in trace.axes] == ["v (mV)", "I (nA)", "Δv (mV)", "ΔI (nA)"]
    assert all(_legend(ax) == ["cpp_standalone", "brisk"] for ax in trace.axes[:2])
    # the last bits may differ: Brisk adds a statement's terms in the order written
    # (the C++ target's -fno-associative-math, and CUDA), cpp_standalone reassociates
    title = trace.axes[2].get_title()
    assert "identical" in title or re.search(r"max \|Δ\| \d\.\d+e-1[2-9] mV", title), title
    assert rate.axes[0].get_ylabel() == "rate (Hz)" and spikes.axes[0].get_ylabel() == "neuron index"
    verdicts = json.loads((tmp_path / "out" / "verdicts.json").read_text())
    assert verdicts["objects"]["trace"]["units"] == {"v": ["mV", 1e-3], "I": ["nA", 1e-9]}
