"""Bad input raises a Python exception and leaves no results folder."""

import os

import models
from harness import assert_no_results, run_model


def test_network_operation_runs_in_a_live_session():
    """A live session calls a network_operation at its clock's steps (Python, between two
    code objects), as Brian's runtime does."""
    res = run_model(models.with_network_operation, "brisk")
    assert list(res["v"]) == [1.0] * 5, res["v"]


def test_network_operation_not_implemented_in_standalone():
    """A network_operation in a standalone build (cpp_standalone skips it silently):
    NotImplementedError naming it."""
    res = run_model(models.with_network_operation, "brisk", expect_error=True, live=False)
    err = res.error
    assert "NotImplementedError" in (err["type"], err["cause_type"]), err["traceback"]
    assert "bad_operation" in err["message"] + str(err["cause_message"]), err["message"]
    assert_no_results(res)


def test_function_without_cpp_implementation():
    """A user Function with only a Python implementation cannot run in standalone mode."""
    res = run_model(models.with_python_function, "brisk", expect_error=True)
    assert res.error["type"] != "AssertionError", res.error["traceback"]
    assert_no_results(res)


def test_error_line_protocol(tmp_path):
    """``brisk run`` on an export of another version: exit status 1, a ``brisk-error-json``
    line of kind ``export``, which the device turns into a BriskError."""
    import json
    import shutil
    import subprocess

    from brian2brisk.binary import find_brisk_binary
    from brian2brisk.errors import BriskError

    res = run_model(models.seeded, "brisk", params={"seed": 1}, export_only=True)
    export_dir = res.meta["export_dir"]
    project = tmp_path / "project"
    shutil.copytree(os.path.dirname(export_dir), project)
    manifest = project / "export" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["version"] = 999
    manifest.write_text(json.dumps(data))
    proc = subprocess.run(
        [find_brisk_binary(), "run", str(project / "export"), "--results", str(project / "results"),
         "--backend", "cpu"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("brisk-error-json: "), proc.stderr
    info = json.loads(last[len("brisk-error-json: "):])
    assert info["kind"] == "export" and "999" in info["message"], info
    error = BriskError.from_output(proc.stderr, proc.returncode)
    assert isinstance(error, BriskError) and error.kind == "export"
    assert not (project / "results").exists()


def test_not_implemented_error_names_object():
    """The device turns kind ``not_implemented`` into NotImplementedError with the object's name."""
    from brian2brisk.errors import BriskError

    line = ('brisk-error-json: {"kind": "not_implemented", "message": "no TimedArray yet", '
            '"object": "neurons", "code_object": "neurons_stateupdater_codeobject", '
            '"block": null, "line": "v = ta(t)", "log": null}')
    error = BriskError.from_output("brisk: error: ...\n" + line + "\n", 1)
    assert isinstance(error, NotImplementedError)
    assert "neurons" in str(error) and "neurons_stateupdater_codeobject" in str(error)
    assert "v = ta(t)" in str(error)


def test_a_killed_binary_is_named():
    """A binary ended by a signal (no error line): the error names the signal."""
    import signal

    from brian2brisk.errors import BriskError

    error = BriskError.from_output("brisk: backend cpu (requested)\n", -signal.SIGKILL)
    assert "SIGKILL" in str(error) and "out-of-memory" in str(error), str(error)
    error = BriskError.from_output("", -signal.SIGTERM)
    assert "SIGTERM" in str(error), str(error)
