"""Device-specific tests run by Brian's suite in its `-m brisk` phase (scripts/brian-suite)."""

import json
import os
import subprocess

import numpy as np
import pytest
from brian2 import NeuronGroup, SpikeMonitor, ms, run
from brian2.devices.device import device

from brian2brisk.binary import find_brisk_binary


def _model():
    G = NeuronGroup(20, "dv/dt = (1.5 - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                    method="exact")
    G.v = "i / 20.0"
    mon = SpikeMonitor(G)
    run(20 * ms)
    if not device.has_been_run:  # this phase of Brian's suite runs with build_on_run=False
        device.build(direct_call=False, **device.build_options)
    return mon


def _brisk(*args):
    proc = subprocess.run([find_brisk_binary(), *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.brisk
def test_brisk_convert_is_deterministic(tmp_path):
    mon = _model()
    assert mon.num_spikes > 0
    export = os.path.join(device.project_dir, "export")
    outputs = []
    for name in ("a", "b"):
        _brisk("convert", export, "-o", str(tmp_path / name))
        generated = tmp_path / name / "generated"
        outputs.append({f: (generated / f).read_bytes() for f in ("brisk.cpp", "brisk.cu", "plan.json")})
    assert outputs[0] == outputs[1]
    assert b"__global__" in outputs[0]["brisk.cu"]


@pytest.mark.brisk
def test_brisk_second_build_hits_the_compile_cache():
    mon = _model()
    spikes = np.array(mon.i[:])
    export = os.path.join(device.project_dir, "export")
    # the backend of the first build (the suite's: cpu, or cuda on a GPU or emulated CUDA)
    proc = _brisk("run", export, "--backend", device.backend_used, "--compile-only", "--timings")
    timings = [line for line in proc.stderr.splitlines() if line.startswith("brisk-timings: ")]
    assert json.loads(timings[-1][len("brisk-timings: "):])["compile_cached"] is True
    assert spikes.size > 0
