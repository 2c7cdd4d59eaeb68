"""A bundle (`brisk convert EXPORT -o BUNDLE`) runs from another folder with no
Python on PATH (`brisk run BUNDLE`), uses hand edits of its generated sources
and says so, and its results read back into the original script's objects
(`device.load_results`) equal to a normal run's."""

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np

BACKEND = os.environ.get("BRISK_E2E_BACKEND", "cpu")

SCRIPT = """
import sys
import numpy as np
import brian2 as b
import brian2brisk  # noqa: F401
mode, directory = sys.argv[1], sys.argv[2]
b.set_device("brisk", build_on_run=(mode == "run"), **({"directory": directory} if mode == "run" else {}))
b.seed(7)
G = b.NeuronGroup(20, "dv/dt = (1.2 - v) / (10*ms) + 0.1*xi/sqrt(ms) : 1", threshold="v > 1",
                  reset="v = 0", method="euler", name="bundle_group")
G.v = "i / 20.0"
S = b.Synapses(G, G, on_pre="v_post += 0.05", name="bundle_syn")
S.connect(p=0.3)
M = b.SpikeMonitor(G)
V = b.StateMonitor(G, "v", record=[0, 5])
b.run(20 * b.ms)
if mode == "build":
    b.device.build(directory=directory, compile=False, run=False)
    sys.exit(0)
if mode == "load":
    b.device.build(directory=directory, compile=False, run=False)
    b.device.load_results(sys.argv[3])
np.savez(sys.argv[-1], i=M.i[:], t=M.t_[:], v=V.v[:], w=np.asarray(S.j[:]))
"""


def _python(args, **kwds):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False, **kwds)


def _tool_path(tmp_path):
    """A PATH with the C++ toolchain only (no Python)."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("c++", "g++", "cc", "gcc", "as", "ld"):
        found = shutil.which(name)
        if found:
            os.symlink(found, tools / name)
    return str(tools)


def test_bundle_runs_elsewhere_and_reads_back(tmp_path):
    from brian2brisk.binary import find_brisk_binary

    script = tmp_path / "model.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = dict(os.environ, BRISK_BACKEND=BACKEND)
    ref = _python([str(script), "run", str(tmp_path / "ref_project"), str(tmp_path / "ref.npz")], env=env)
    assert ref.returncode == 0, ref.stderr
    built = _python([str(script), "build", str(tmp_path / "project")], env=env)
    assert built.returncode == 0, built.stderr

    brisk = find_brisk_binary()
    conv = subprocess.run([brisk, "convert", str(tmp_path / "project" / "export"), "-o", str(tmp_path / "bundle")],
                          capture_output=True, text=True)
    assert conv.returncode == 0, conv.stderr
    moved = tmp_path / "elsewhere" / "bundle"
    moved.parent.mkdir()
    shutil.move(tmp_path / "bundle", moved)
    shutil.rmtree(tmp_path / "project")
    for f in ("bundle.json", "README.md", "export/manifest.json", "generated/brisk.cpp", "generated/brisk.cu",
              "generated/plan.json"):
        assert (moved / f).is_file(), f

    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    run_env["PATH"] = _tool_path(tmp_path)
    assert shutil.which("python3", path=run_env["PATH"]) is None
    run = subprocess.run([brisk, "run", str(moved), "--backend", BACKEND], capture_output=True, text=True,
                         env=run_env)
    assert run.returncode == 0, run.stderr
    assert "hand-edited" not in run.stderr
    results = moved / "results"
    assert (results / "last_run_info.txt").is_file()

    # the original script reads the bundle's results into its monitors
    loaded = _python([str(script), "load", str(tmp_path / "project2"), str(results), str(tmp_path / "loaded.npz")],
                     env=env)
    assert loaded.returncode == 0, loaded.stderr
    a, b = np.load(tmp_path / "ref.npz"), np.load(tmp_path / "loaded.npz")
    assert len(a["i"]) > 0
    for key in ("i", "t", "v", "w"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)

    # a hand edit of the generated source is used, and the run says so
    source = moved / "generated" / ("brisk.cu" if BACKEND == "cuda" else "brisk.cpp")
    source.write_text(source.read_text() + "\n// edited by hand\n")
    edited = subprocess.run([brisk, "run", str(moved), "--backend", BACKEND], capture_output=True, text=True,
                            env=run_env)
    assert edited.returncode == 0, edited.stderr
    assert "hand-edited" in edited.stderr and source.name in edited.stderr, edited.stderr
