"""A failed or interrupted run fails cleanly: a fault in generated code is an
error naming it; Ctrl-C raises KeyboardInterrupt and stops the binary; the
binary dies with Python; progress appears while the simulation runs; two runs
cannot write one results folder."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import models
from harness import assert_no_results, run_model

EMULATED = os.environ.get("BRISK_CUDA_EMULATION") == "1" and os.environ.get("BRISK_E2E_BACKEND") == "cuda"


def test_integer_zero_division_is_an_error():
    """``k // 0`` stops the kernel: an error naming the group's code object (cpp_standalone
    dies with SIGFPE or computes garbage, Brian's runtime warns and gives 0)."""
    res = run_model(models.integer_zero_division, "brisk", expect_error=True)
    message = res.error["message"] + str(res.error["cause_message"])
    assert res.error["type"] == "BriskError", res.error["traceback"]
    assert "zero_div" in message, message
    if os.environ.get("BRISK_E2E_BACKEND", "cpu") == "cpu":
        assert "SIGFPE" in message and "division by zero" in message, message
    else:
        assert "trap" in message.lower(), message
    assert_no_results(res)


LONG_RUN = """
import sys
import brian2 as b
import brian2brisk  # noqa: F401
b.set_device("brisk", directory=sys.argv[1], live=False)
G = b.NeuronGroup(20000, "dv/dt = (1 - v) / (10*ms) : 1", threshold="v > 0.9", reset="v = 0",
                  name="long_group")
R = b.PopulationRateMonitor(G)
try:
    b.run(100000 * b.second, report="text", report_period=0.2 * b.second)
except KeyboardInterrupt:
    print("KeyboardInterrupt raised", flush=True)  # (Brian's excepthook prints nothing for it)
    raise
print("FINISHED")
"""


LIVE_LONG_RUN = """
import sys
import brian2 as b
import brian2brisk  # noqa: F401
b.set_device("brisk", directory=sys.argv[1])
G = b.NeuronGroup(20000, "dv/dt = (1 - v) / (10*ms) : 1", threshold="v > 0.9", reset="v = 0",
                  name="long_group")
R = b.PopulationRateMonitor(G)
b.run(100000 * b.second, report="text", report_period=0.2 * b.second)
print("STOPPED at", float(b.magic_network.t), flush=True)
b.run(1 * b.ms)
print("AGAIN", float(b.magic_network.t), len(R.rate), flush=True)
"""


class LongRun:
    """A Python process running a long Brisk simulation in `project`."""

    def __init__(self, tmp_path, script_text=LONG_RUN):
        self.project = tmp_path / "project"
        script = tmp_path / "long_run.py"
        script.write_text(textwrap.dedent(script_text))
        env = dict(os.environ, BRISK_BACKEND=os.environ.get("BRISK_E2E_BACKEND", "cpu"), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, str(script), str(self.project)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.lines = []

    def wait_for_progress(self, timeout=300):
        """Reads stdout until the binary has reported progress (the run is under way)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if "simulated in" in line:
                return
        self.proc.kill()
        raise AssertionError(f"no progress line; stdout: {self.lines}, stderr: {self.proc.stderr.read()}")

    def brisk_children(self):
        """Pids of the brisk binaries this Python started."""
        pids = []
        for task in os.listdir(f"/proc/{self.proc.pid}/task"):
            with open(f"/proc/{self.proc.pid}/task/{task}/children") as f:
                pids += [int(p) for p in f.read().split()]
        return [p for p in pids if _exe_name(p) == "brisk"]

    def finish(self, timeout=30):
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, "".join(self.lines) + out, err


def _exe_name(pid):
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return None


def _gone(pid, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if _exe_name(pid) is None or open(f"/proc/{pid}/stat").read().split()[2] == "Z":
            return True
        time.sleep(0.05)
    return False


needs_proc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")


@needs_proc
def test_ctrl_c_raises_keyboard_interrupt_and_stops_the_binary(tmp_path):
    """Progress lines appear while the run goes on; SIGINT to Python (Ctrl-C) raises
    KeyboardInterrupt, the binary stops, and no results folder or temporary is left."""
    run = LongRun(tmp_path)
    run.wait_for_progress()
    children = run.brisk_children()
    assert children, "the brisk binary is not running"
    run.proc.send_signal(signal.SIGINT)
    code, out, err = run.finish()
    assert "KeyboardInterrupt raised" in out, (out[-2000:], err)
    assert "FINISHED" not in out
    assert code in (130, -signal.SIGINT), (code, err)  # Python ends itself with SIGINT
    assert all(_gone(p) for p in children), "the brisk binary kept running"
    assert not (run.project / "results").exists()
    assert not [n for n in os.listdir(run.project) if n.startswith(".results.tmp")]


@needs_proc
def test_the_binary_dies_with_python_and_a_second_run_is_refused(tmp_path):
    """While a run writes a results folder, another `brisk run` into it, or another build
    into its project folder, fails with a clear error; when Python is killed, its binary
    ends too."""
    run = LongRun(tmp_path)
    run.wait_for_progress()
    (child,) = run.brisk_children()
    from brian2brisk.binary import find_brisk_binary

    second = subprocess.run([find_brisk_binary(), "run", str(run.project / "export"), "--results",
                             str(run.project / "results"), "--backend", "cpu", "--compile-only"],
                            capture_output=True, text=True)
    # compiling only takes no lock; a real run does
    assert second.returncode == 0, second.stderr
    second = subprocess.run([find_brisk_binary(), "run", str(run.project / "export"), "--results",
                             str(run.project / "results"), "--backend", "cpu"],
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 1, second.stderr
    assert "another brisk run" in second.stderr, second.stderr
    # a second build (export and run) from Python into the same project folder
    env = dict(os.environ, BRISK_BACKEND=os.environ.get("BRISK_E2E_BACKEND", "cpu"))
    other = subprocess.run([sys.executable, str(tmp_path / "long_run.py"), str(run.project)],
                           capture_output=True, text=True, timeout=300, env=env)
    assert other.returncode != 0 and "being built by another process" in other.stderr, other.stderr[-2000:]
    run.proc.kill()
    run.proc.wait()
    assert _gone(child), "the brisk binary outlived its Python process"


@needs_proc
def test_ctrl_c_in_a_live_session_stops_the_run_and_the_session_goes_on(tmp_path):
    """As in Brian's runtime: Ctrl-C during a live session's run() ends the run after the
    current step (Brian's "stop requested"); the script goes on, and the session with it."""
    run = LongRun(tmp_path, LIVE_LONG_RUN)
    run.wait_for_progress()
    (child,) = run.brisk_children()
    run.proc.send_signal(signal.SIGINT)
    code, out, err = run.finish(timeout=120)
    assert code == 0, (out[-2000:], err[-2000:])
    stopped = [line for line in out.splitlines() if line.startswith("STOPPED at")]
    again = [line for line in out.splitlines() if line.startswith("AGAIN")]
    assert stopped and again, out[-2000:]
    t_stop = float(stopped[0].split()[-1])
    assert 0 < t_stop < 100000, t_stop
    t_again, rates = float(again[0].split()[1]), int(again[0].split()[2])
    assert abs(t_again - (t_stop + 0.001)) < 1e-9, (t_stop, t_again)
    assert rates == round(t_again / 1e-4), (rates, t_again)  # every step recorded, none twice
    assert _gone(child), "the session outlived its Python process"


@needs_proc
def test_a_live_session_dies_with_python_and_its_death_is_an_error(tmp_path):
    """Python killed: its session ends too. The session killed: the run raises a BriskError
    naming the signal, and the next call says the session is gone."""
    run = LongRun(tmp_path, LIVE_LONG_RUN)
    run.wait_for_progress()
    (child,) = run.brisk_children()
    run.proc.kill()
    run.proc.wait()
    assert _gone(child), "the session outlived its Python process"

    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent("""
        import os, signal, sys, threading
        import brian2 as b
        from brian2brisk import BriskError
        b.set_device("brisk", directory=sys.argv[1])
        G = b.NeuronGroup(1000, "dv/dt = -v / (10*ms) : 1", name="killed_group")
        G.v = 1
        b.run(1 * b.ms)
        session = b.get_device()._brisk_session
        threading.Timer(1.0, os.kill, (session.proc.pid, signal.SIGKILL)).start()
        try:
            b.run(100000 * b.second)
        except BriskError as e:
            print("RUN:", e, flush=True)
        try:
            G.v[:]
        except BriskError as e:
            print("READ:", e, flush=True)
    """))
    env = dict(os.environ, BRISK_BACKEND=os.environ.get("BRISK_E2E_BACKEND", "cpu"))
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "project2")], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "RUN:" in proc.stdout and "SIGKILL" in proc.stdout, proc.stdout
    assert "READ:" in proc.stdout and "not running" in proc.stdout, proc.stdout


def test_progress_lines_only_when_asked(tmp_path):
    """The long phases (compile, connect()) are reported with BRISK_PROGRESS=1 (what the
    device sets when its output is a terminal), and not at all otherwise."""
    from brian2brisk.binary import find_brisk_binary

    res = run_model(models.with_synapses_for_progress, "brisk", export_only=True)
    export = res.meta["export_dir"]
    backend = os.environ.get("BRISK_E2E_BACKEND", "cpu")
    runs = {}
    for flag in ("1", "0"):
        env = dict(os.environ, BRISK_PROGRESS=flag)
        proc = subprocess.run([find_brisk_binary(), "run", export, "--backend", backend, "--results",
                               str(tmp_path / f"results_{flag}")], capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        runs[flag] = proc.stderr
    assert "brisk: compiling the generated" in runs["1"], runs["1"]
    assert "brisk: connect() of progress_syn: done" in runs["1"], runs["1"]
    assert "compiling the generated" not in runs["0"] and "connect()" not in runs["0"], runs["0"]
