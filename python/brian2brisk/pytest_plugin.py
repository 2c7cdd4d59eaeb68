"""pytest plugin for running Brian's test suite against the ``brisk`` device.

Loaded with ``-p brian2brisk.pytest_plugin`` (``scripts/brian-suite`` does
this): importing it registers the device in every xdist worker, and the
controller appends one JSON line per test outcome to ``$BRISK_SUITE_LOG``.
"""

import json
import os

import brian2brisk  # noqa: F401  (registers all_devices['brisk'])


def _first_line(report):
    text = str(report.longrepr) if report.longrepr is not None else ""
    for line in text.splitlines():
        if line.startswith("E   "):
            return line[4:].strip()[:300]
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else ""


_IS_WORKER = False


def pytest_configure(config):
    # xdist workers report to the controller, which logs every outcome once.
    global _IS_WORKER
    _IS_WORKER = hasattr(config, "workerinput")


def pytest_runtest_logreport(report):
    path = os.environ.get("BRISK_SUITE_LOG")
    if not path or _IS_WORKER:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed") or (
        report.when == "teardown" and report.outcome == "failed"
    ):
        outcome = report.outcome
        if outcome == "failed" and report.when != "call":
            outcome = "error"
        entry = {
            "nodeid": report.nodeid,
            "outcome": outcome,
            "when": report.when,
            "duration": round(report.duration, 3),
            "message": "" if outcome == "passed" else _first_line(report),
        }
        with open(path, "a") as f:
            f.write(json.dumps(entry) + "\n")
