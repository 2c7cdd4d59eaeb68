"""Bad input raises a Python exception and leaves no results folder."""

import os

import pytest

import models
from harness import run_model

pytestmark = pytest.mark.xdist_group("errors")


def _no_results(res):
    project = res.directory
    results = os.path.join(project, "results")
    assert not os.path.exists(results) or not os.listdir(results), os.listdir(results)
    leftovers = [n for n in os.listdir(project) if n.startswith(".results")] if os.path.isdir(project) else []
    assert not leftovers, leftovers


def test_synapses_not_implemented():
    """Synapses (not supported yet): NotImplementedError naming the object."""
    res = run_model(models.with_synapses, "brisk", expect_error=True)
    err = res.error
    assert "NotImplementedError" in (err["type"], err["cause_type"]), err["traceback"]
    assert "bad_synapses" in err["message"] + str(err["cause_message"]), err["message"]
    _no_results(res)


def test_function_without_cpp_implementation():
    """A user Function with only a Python implementation cannot run in standalone mode."""
    res = run_model(models.with_python_function, "brisk", expect_error=True)
    assert res.error["type"] != "AssertionError", res.error["traceback"]
    _no_results(res)
