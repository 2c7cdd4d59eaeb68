"""Brian's ``device.main_queue`` stays as Brian makes it: Brisk records its own queue
(``BriskDevice._brisk_entries``) with runs, values set from Python, the place of run_args
and its own entries (stored and restored states, random states, repeated runs).

Each script runs in a new process and prints its main queue, described with names
instead of objects (`DESCRIBE`).
"""

import json
import os
import subprocess
import sys
import textwrap

PRELUDE = """
import json, sys
import numpy as np
from brian2 import *
import brian2brisk

def describe(queue):
    out = []
    for kind, args in queue:
        if kind in ('run_code_object', 'before_run_code_object', 'after_run_code_object'):
            out.append([kind, args[0].name])
        elif kind == 'run_network':
            net, lines = args
            out.append([kind, type(net).__name__, net.name, list(lines)])
        elif kind == 'set_by_single_value':
            name, item, literal = args
            out.append([kind, name, int(item), literal, type(literal).__name__])
        else:
            out.append([kind, json.loads(json.dumps(args, default=lambda o: getattr(o, 'name', repr(o))))])
    return out

DEVICE = sys.argv[1]
DIRECTORY = sys.argv[2]
"""

#: values set from Python (single values, whole arrays, slices, a shared variable),
#: run_args applied explicitly, a seed, connect(), and two runs of each of two
#: networks: what cpp_standalone can record too
SCRIPT = """
set_device(DEVICE, build_on_run=False)
seed(11)
G = NeuronGroup(5, '''dv/dt = (I - v)/(10*ms) : 1
                      I : 1
                      s : 1 (shared)''', threshold='v > 1', reset='v = 0', method='exact')
G.v = 0.3
G.v[2] = 0.9
G.I = np.linspace(1, 2, 5)
G.I[1:3] = [1.5, 1.7]
G.s = 4
H = NeuronGroup(3, 'x : 1')
H.x[0] = 2.5
H.x['i > 0'] = 'i*2'
S = Synapses(G, H, 'w : 1', on_pre='x += w')
S.connect(j='i % 3')
S.w = 'rand()'
S.w[0] = 0.25
M = SpikeMonitor(G)
net = Network(G, H, S, M)
G.v[0] = 0.0625
device.apply_run_args()
G.v[3] = 0.03125
net.run(2*ms)
G.v[4] = 0.5
net.run(3*ms, report='text')
K = NeuronGroup(2, 'dk/dt = -k/(5*ms) : 1', method='exact')
other = Network(K)
K.k[1] = 2
other.run(1*ms)
K.k[0] = 3
other.run(1*ms)
"""


def run_script(body, device, tmp_path):
    script = tmp_path / f"script_{device}.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    env = dict(os.environ, BRISK_BACKEND=os.environ.get("BRISK_E2E_BACKEND", "cpu"))
    proc = subprocess.run([sys.executable, str(script), device, str(tmp_path / f"project_{device}")],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, f"{device}:\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_main_queue_is_brians_own(tmp_path):
    """The brisk device leaves Brian's main_queue as cpp_standalone has it (entry for entry:
    Brian's run_network with its C++ lines, set_by_single_value with its C++ literal, the
    run_args' insert_code), also after the export is written."""
    ref = run_script(SCRIPT + "print(json.dumps(describe(device.main_queue)))\n", "cpp_standalone", tmp_path)
    got = run_script(
        SCRIPT + """
before = describe(device.main_queue)
device.build(directory=DIRECTORY, compile=False)
assert describe(device.main_queue) == before
print(json.dumps(before))
""", "brisk", tmp_path)
    assert [e[0] for e in ref].count("run_network") == 4
    assert ["insert_code", "set_from_command_line(args);"] in ref
    assert got == ref
    assert not [e for e in got if e[0].startswith("brisk_")]


def test_export_queue_keeps_brisks_entries_in_order(tmp_path):
    """Brisk's queue (and so the export) has every entry of Brian's, in Brisk's terms, and
    its own entries (store, restore) where the script made them; Brian's has none of them.
    ``device.reinit()`` empties both."""
    got = run_script(
        SCRIPT + """
net.store('a')
G.v[1] = 0.125
net.run(1*ms)
net.restore('a')
net.run(1*ms)
brian = describe(device.main_queue)
device.build(directory=DIRECTORY, compile=False)
assert describe(device.main_queue) == brian
with open(DIRECTORY + '/export/manifest.json') as f:
    exported = json.load(f)['main_queue']
device.reinit()
assert device.main_queue == [] and device._brisk_entries() == []
print(json.dumps({'brian': brian, 'exported': exported}))
""", "brisk", tmp_path)
    brian, exported = got["brian"], got["exported"]
    assert not [e for e in brian if e[0].startswith("brisk_")]
    kinds = [e["kind"] for e in exported]
    # Brian's entries, one for one, with Brisk's two own entries where they were made
    own = [k for k, kind in enumerate(kinds) if kind in ("store_state", "restore_state")]
    assert [kinds[k] for k in own] == ["store_state", "restore_state"]
    assert [kind for kind in kinds if kind not in ("store_state", "restore_state")] == [
        "apply_run_args" if e[0] == "insert_code" else e[0] for e in brian]
    runs = [k for k, kind in enumerate(kinds) if kind == "run_network"]
    assert len(runs) == 6
    assert runs[3] < own[0] < runs[4] < own[1] < runs[5]
    # the value set after the store comes after it, before the run it precedes
    single = [k for k, e in enumerate(exported)
              if e["kind"] == "set_by_single_value" and e["array"].endswith("neurongroup_v") and e["value"] == 0.125]
    assert len(single) == 1 and own[0] < single[0] < runs[4]
    # values are values, not C++ literals
    assert all(not isinstance(e["value"], str) for e in exported if e["kind"] == "set_by_single_value")


def test_live_session_leaves_main_queue_to_brian(tmp_path):
    """A live session (repeated runs, a network_operation, store/restore, the random
    state set back) runs Brisk's queue; Brian's main_queue keeps Brian's entries."""
    got = run_script(
        """
set_device(DEVICE, directory=DIRECTORY)
seed(3)
G = NeuronGroup(6, '''dv/dt = (I - v)/(10*ms) : 1
                      I : 1''', threshold='v > 1', reset='v = 0', method='exact')
G.v[3] = 0.5
G.I = 2
M = SpikeMonitor(G)
@network_operation(dt=1*ms)
def op(t):
    G.I[0] = 1.5 + float(t/ms)*0.01
run(3*ms)
G.v[1] = 0.75
run(3*ms)
run(3*ms)
st = device.get_random_state()
store('x')
G.v = 'rand()'
run(2*ms)
restore('x')
device.set_random_state(st)
G.v[2] = 0.25
run(2*ms)
values = G.v[:].tolist()
brian = describe(device.main_queue)
print(json.dumps({'brian': brian, 'spikes': int(M.num_spikes), 'v': values,
                  'brisk': [kind for kind, _ in device._brisk_entries()]}))
""", "brisk", tmp_path)
    brian = got["brian"]
    assert not [e for e in brian if e[0].startswith("brisk_")]
    runs = [e for e in brian if e[0] == "run_network"]
    # the repeated runs are Brisk's own entries: Brian queued the runs it prepared
    assert 1 <= len(runs) <= 5 and all(e[1] == "MagicNetwork" for e in runs)
    assert all(e[4] == "str" for e in brian if e[0] == "set_by_single_value")
    brisk = got["brisk"]
    assert brisk.count("brisk_run_network") == 5
    assert brisk.count("brisk_store_state") == brisk.count("brisk_restore_state") == 1
    assert brisk.count("brisk_set_random_state") == 1
    assert "run_network" not in brisk and "set_by_single_value" not in brisk
    assert brisk.index("brisk_store_state") < brisk.index("brisk_restore_state") < brisk.index(
        "brisk_set_random_state")
