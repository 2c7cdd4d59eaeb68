"""Live sessions (Brian's runtime mode on Brisk): scripts written for the runtime device
run unchanged with ``set_device('brisk')`` and give the runtime device's values.

Each script runs in a fresh process under Brian's runtime device (numpy target) and under
Brisk (``$BRISK_E2E_BACKEND``, the C++ backend by default), and saves what it read.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

PRELUDE = """
import sys
import numpy as np
from brian2 import *
device_name, out = sys.argv[1], sys.argv[2]
if device_name == 'brisk':
    import brian2brisk
    set_device('brisk', directory=sys.argv[3])
else:
    prefs.codegen.target = 'numpy'
seed(3)
result = {}
"""


def run_script(body, device, tmp_path, *extra):
    """Runs PRELUDE + `body` under `device`; returns the arrays it stored in `result`
    (copies: the runtime device's reads are views of arrays that change later)."""
    script = tmp_path / f"script_{device}.py"
    script.write_text(PRELUDE + textwrap.dedent(body) + "\nnp.savez(out, **result)\n")
    out = tmp_path / f"out_{device}_{len(extra)}.npz"
    env = dict(os.environ, BRISK_BACKEND=os.environ.get("BRISK_E2E_BACKEND", "cpu"))
    proc = subprocess.run([sys.executable, str(script), device, str(out), str(tmp_path / "project"), *extra],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, f"{device}:\n{proc.stderr[-4000:]}"
    return dict(np.load(out))


def both(body, tmp_path):
    return run_script(body, "runtime", tmp_path), run_script(body, "brisk", tmp_path)


def assert_close(ref, got, rtol=1e-9):
    assert sorted(ref) == sorted(got)
    for key in ref:
        np.testing.assert_allclose(got[key], ref[key], rtol=rtol, atol=1e-12, err_msg=key)


def test_reads_and_writes_before_and_between_runs(tmp_path):
    """Values read before any run (string-expression initial values, connect()), a loop
    of run() calls with reads, writes from the values read, and a connect() after a run."""
    ref, got = both(
        """
        G = NeuronGroup(20, '''dv/dt = (I - v)/(10*ms) : 1
                               I : 1''', threshold='v > 1', reset='v = 0', method='exact')
        G.v = 'i / 20.0'
        G.I = 'i / 10.0'
        S = Synapses(G, G, 'w : 1', on_pre='v_post += w')
        S.connect(j='(i + 1) % N_post')
        S.w = 'j * 0.01'
        result['v0'] = np.array(G.v[:])
        result['pairs'] = np.array([len(S), *S.i[:], *S.j[:]])
        M = SpikeMonitor(G)
        net = Network(G, S, M)
        for k in range(5):
            net.run(5*ms)
            result[f'v{k + 1}'] = np.array(G.v[:])
            G.I = G.I[:] * 1.05
        S2 = Synapses(G, G, on_pre='v_post += 0.1')
        S2.connect(j='i')
        net.add(S2)
        net.run(5*ms)
        result['v_after_connect'] = np.array(G.v[:])
        result['spikes'] = np.array([M.num_spikes, len(S2)])
        result['t'] = np.array([float(net.t)])
        result['high'] = G.i[G.v > 0.5]
        """,
        tmp_path,
    )
    assert_close(ref, got)
    # the session's last export is whole (values set from Python and run are dropped only
    # from later exports): `brisk inspect` reads it
    from brian2brisk.binary import find_brisk_binary

    inspect = subprocess.run([find_brisk_binary(), "inspect", str(tmp_path / "project" / "export")],
                             capture_output=True, text=True)
    assert inspect.returncode == 0, inspect.stderr[-2000:]


def test_store_to_a_file_restores_in_a_new_process(tmp_path):
    """``store(filename=...)`` with spikes pending in a queue with delays; a new process
    restores it and continues to the same values as the one that stored it."""
    body = """
        G = NeuronGroup(30, 'dv/dt = (1.5 - v)/(10*ms) : 1', threshold='v > 1', reset='v = 0',
                        method='exact', name='g')
        G.v = 'i / 30.0'
        S = Synapses(G, G, on_pre='v_post += 0.05', delay=3*ms, name='s')
        S.connect(j='(i * 7) % N_post')
        net = Network(G, S)
        net.run(20*ms)
        state = sys.argv[4]
        if len(sys.argv) > 5:
            net.restore('x', filename=state)
        else:
            net.store('x', filename=state)
        net.run(10*ms)
        result['v'] = np.array(G.v[:])
        result['t'] = np.array([float(net.t)])
    """
    state = str(tmp_path / "state.pkl")
    stored = run_script(body, "brisk", tmp_path, state)
    restored = run_script(body, "brisk", tmp_path, state, "restore")
    assert_close(stored, restored, rtol=0)
    ref = run_script(body, "runtime", tmp_path, str(tmp_path / "state_rt.pkl"))
    assert_close(ref, stored)


def test_network_operation_report_and_stop(tmp_path):
    """A network_operation reads and writes values (one value, an array) at its clock's
    steps and stops the network; a report callable is called at the start and the end."""
    ref, got = both(
        """
        G = NeuronGroup(5, 'dv/dt = -v/(10*ms) : 1', method='exact')
        G.v = 1
        seen = []

        @network_operation(dt=1*ms)
        def op(t):
            seen.append(float(G.v[0]))
            if t >= 4*ms:
                G.v = 1
            if t >= 6*ms:
                G.v = np.linspace(1, 2, 5)  # (an array: a static array for the session)
            if t >= 8*ms:
                net.stop()

        calls = []
        net = Network(G, op)
        net.run(20*ms, report=lambda elapsed, done, start, duration: calls.append(done))
        result['seen'] = np.array(seen)
        result['v'] = np.array(G.v[:])
        result['t'] = np.array([float(net.t)])
        result['report'] = np.array([calls[0], len(calls) >= 2])
        """,
        tmp_path,
    )
    assert_close(ref, got)
    assert got["t"][0] < 0.02  # stopped


def test_random_state_and_shared_variables(tmp_path):
    """get_random_state/set_random_state repeat the same random numbers (Brisk's, not
    numpy's: compared with itself); a shared variable written by a string expression."""
    got = run_script(
        """
        G = NeuronGroup(10, '''dv/dt = -v/(10*ms) + (10*ms)**-0.5*xi : 1
                               c : 1 (shared)''', method='euler')
        G.v = 'rand()'
        run(5*ms)
        state = get_device().get_random_state()
        G.v = 'rand()'
        run(5*ms)
        first = G.v[:]
        get_device().set_random_state(state)
        G.v = 'rand()'
        run(5*ms)
        result['first'] = first
        result['again'] = G.v[:]
        G.c = 2
        G.c = 'c * 3 + 1'
        result['c'] = np.array([float(G.c[:])])
        """,
        "brisk",
        tmp_path,
    )
    np.testing.assert_array_equal(got["first"], got["again"])
    assert np.var(got["first"]) > 0
    assert got["c"][0] == 7


@pytest.mark.skipif(os.environ.get("BRISK_E2E_BACKEND", "cpu") != "cpu", reason="counts C++ compilations")
def test_a_loop_of_runs_compiles_one_program(tmp_path):
    """Brian makes new code objects for every run(); the session runs them as the first
    ones: a loop of 20 runs with writes between them compiles no new program."""
    got = run_script(
        """
        G = NeuronGroup(10, 'dv/dt = (2 - v)/(10*ms) : 1', threshold='v > 1', reset='v = 0')
        for k in range(20):
            run(1*ms)
            G.v = G.v[:] * 0.5
        runs = brian2brisk.brisk_device.brisk_timings['runs']
        result['rebuilt'] = np.array([bool(r['rebuilt']) for r in runs])
        """,
        "brisk",
        tmp_path,
    )
    assert got["rebuilt"][0] and not got["rebuilt"][1:].any(), got["rebuilt"]


def test_repeated_runs_follow_every_change(tmp_path):
    """A run() like the last one skips Brian's preparation and the export (`repeat.py`);
    every change that alters the code (a namespace constant, an explicit namespace, an
    object switched off, a new dt, an object added) is still taken into account, as the
    runtime device does, and the NaN warning still comes after a run."""
    script = """
        from brian2.utils.logger import catch_logs
        tau = 10*ms
        G = NeuronGroup(5, '''dv/dt = (I - v)/tau : 1
                              I : 1''', threshold='v > 1', reset='v = 0', method='exact')
        G.I = 'i * 0.6'
        M = SpikeMonitor(G)
        net = Network(G, M)
        for k in range(3):
            net.run(2*ms)
            result[f'a{k}'] = np.array(G.v[:])
        tau = 5*ms
        net.run(2*ms)
        result['b'] = np.array(G.v[:])
        net.run(2*ms)
        result['c'] = np.array(G.v[:])
        net.run(2*ms, namespace={'tau': 20*ms})
        result['d'] = np.array(G.v[:])
        G.active = False
        net.run(2*ms)
        result['e'] = np.array(G.v[:])
        G.active = True
        G.v = 0.5
        net.run(2*ms)
        result['f'] = np.array(G.v[:])
        defaultclock.dt = 0.05*ms
        net.run(2*ms)
        net.run(2*ms)
        result['g'] = np.array(G.v[:])
        H = NeuronGroup(1, 'dx/dt = x/ms : 1')
        H.x = 1
        net.add(H)
        net.run(100*ms)
        with catch_logs() as logs:
            net.run(120*ms)
        result['warned'] = np.array([len([name for _, name, _ in logs if 'invalid_values' in name])])
        result['spikes'] = np.array([*M.i[:], *M.t[:]])
        result['t'] = np.array([float(net.t)])
        if device_name == 'brisk':
            runs = brian2brisk.brisk_device.brisk_timings['runs']
            with open(sys.argv[3] + '.exported', 'w') as f:
                f.write(' '.join(str(int(r['exported'])) for r in runs))
        """
    ref, got = both(script, tmp_path)
    assert ref["warned"][0] == 1
    assert_close(ref, got)
    exported = (tmp_path / "project.exported").read_text().split()
    # the repeats of a run without changes (a1, a2, c, the second run at the new dt) ran
    # what the session had; the first run, and those after a change, made an export
    assert exported[:3] == ["1", "0", "0"], exported
    assert exported.count("0") >= 4, exported


def test_repeated_runs_with_operations_store_and_restore(tmp_path):
    """Repeated runs (`repeat.py`) of a network with a network_operation that writes, restored
    before each run and set from Python: the values and spikes of Brian's runtime device."""
    ref, got = both(
        """
        G = NeuronGroup(3, 'dv/dt = (1 - v)/(10*ms) : 1', threshold='v > 0.8', reset='v = 0',
                        method='exact')
        M = SpikeMonitor(G)
        seen = []

        @network_operation(dt=1*ms)
        def op(t):
            seen.append(float(G.v[0]))
            G.v[2] = 0.1 * (len(seen) % 3)

        net = Network(G, M, op)
        net.store()
        for k in range(3):
            net.restore()
            G.v = k * 0.1
            net.run(5*ms)
            result[f'v{k}'] = np.array(G.v[:])
            result[f't{k}'] = np.array([float(net.t)])
        for k in range(3):
            net.run(2*ms)
        result['v_end'] = np.array(G.v[:])
        result['seen'] = np.array(seen)
        result['spikes'] = np.array([*M.i[:], *M.t[:]])
        """,
        tmp_path,
    )
    assert_close(ref, got)
