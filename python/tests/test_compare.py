"""``python -m brian2brisk.compare``: the right verdicts on a deterministic and on a
stochastic script, and a deliberately changed model fails."""

import json
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
