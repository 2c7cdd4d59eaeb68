"""Bad Synapses input: ``connect(j='k for k in range(i-3, i+4)')`` without
``skip_if_invalid`` creates synapses to neurons that do not exist.

cpp_standalone's binary exits with status 1 ("tried to create synapse to
neuron j=-3 outside range 0 to 9"), which Brian raises as a RuntimeError;
Brisk must raise a Python exception naming the Synapses object
(``range_overflow``), at the call in a live session as Brian's runtime does, and
leave no results folder.

A delay whose spike queue would not fit in memory is refused the same way,
naming the pathway.
"""

import os

import models_synapses
import models_errors
from harness import assert_no_results, run_model


def test_connect_out_of_range_cpp_standalone():
    """The reference: the binary fails while creating the synapses."""
    res = run_model(models_synapses.synapses_bad_connect, "cpp_standalone", expect_error=True)
    assert res.error["type"] == "RuntimeError", res.error["traceback"]
    assert "outside range" in res.stdout, res.describe()


def test_connect_out_of_range_brisk():
    """Brisk: an error naming the Synapses 'range_overflow' at the connect() call, as
    Brian's runtime raises it (a BrianObjectException caused by an IndexError: a live
    session makes the synapses at the call); no results."""
    res = run_model(models_synapses.synapses_bad_connect, "brisk", expect_error=True)
    err = res.error
    assert err["type"] == "BrianObjectException", err["traceback"]
    assert err["cause_type"] == "BriskIndexError", err["traceback"]
    assert "S.connect(" in err["traceback"], err["traceback"]
    # the object's name, not a path that happens to contain it
    message = (err["message"] + str(err["cause_message"])).replace(
        os.path.dirname(res.directory), "<folder>")
    assert "range_overflow" in message, err["message"]
    assert_no_results(res)


def test_delay_too_long_for_memory_brisk():
    """1000 s of delay at dt = 0.1 ms: an error naming the pathway, no results."""
    res = run_model(models_errors.synapses_huge_delay, "brisk", expect_error=True)
    err = res.error
    assert err["type"] in ("BriskError", "RuntimeError"), err["traceback"]
    assert "far_synapses_pre" in err["message"] and "GiB" in err["message"], err["message"]
    assert_no_results(res)


def test_statemonitor_index_outside_the_synapses_live_is_brians_error():
    """In a live session Brian knows the number of synapses when the monitor is made, and
    raises its own IndexError, as in its runtime mode."""
    res = run_model(models_synapses.synapses_monitor_bad_index, "brisk", expect_error=True)
    assert res.error["type"] == "IndexError", res.error["traceback"]
    assert "badidx_synapses" in res.error["message"], res.error["message"]


def test_statemonitor_index_outside_the_synapses_brisk():
    """Recording synapse 5 of 2 in a standalone build: a BriskError naming the monitor and
    the Synapses, no results."""
    res = run_model(models_synapses.synapses_monitor_bad_index, "brisk", expect_error=True, live=False)
    err = res.error
    assert err["type"] == "BriskError", err["traceback"]
    message = err["message"] + str(err["cause_message"])
    assert "badidx_monitor" in message and "index 5" in message, message
    assert "'badidx_synapses' of 2 elements" in message, message
    assert_no_results(res)
