"""The Brian2GeNN tutorial's input examples (models_inputs.py), unchanged, on
Brisk and on cpp_standalone: Poisson rates ``arange(n)*30*Hz + 10*Hz``, a
SpikeGeneratorGroup with ``period``, and a TimedArray current set by
``run_regularly('I = ta_inputs(t, i)', dt=10*ms)`` over two runs (two
clocks). Deterministic parts are compared exactly, Poisson parts against
their distribution."""

import numpy as np

import models_inputs
from harness import assert_same, assert_same_monitor_spikes, both, cached_run

DURATION = 1.0


def test_poisson_rates_per_neuron():
    ref, got = both(models_inputs.tutorial_spike_inputs)
    rates = got["rates"]
    np.testing.assert_allclose(rates, np.arange(8) * 30 + 10)
    counts = got["poisson_count"]
    expected = rates * DURATION
    # each neuron's count is Poisson(rate * T): within 5 standard deviations
    assert np.all(np.abs(counts - expected) <= 5 * np.sqrt(expected)), (counts, expected)
    assert np.all(np.abs(ref["poisson_count"] - expected) <= 5 * np.sqrt(expected))
    # spikes are recorded in time order, indices in range
    assert np.all(np.diff(got["poisson_t"]) >= 0)
    assert got["poisson_i"].min() >= 0 and got["poisson_i"].max() < 8


def test_spike_generator_period_exact():
    ref, got = both(models_inputs.tutorial_spike_inputs)
    assert_same_monitor_spikes(ref, got, "generator")
    # every neuron at 0, 10, 20, ... ms: 100 periods in 1 s
    np.testing.assert_array_equal(got["generator_count"], 100)
    np.testing.assert_array_equal(got["synapses"], [64, 64])


def test_output_rate_agrees():
    ref, got = both(models_inputs.tutorial_spike_inputs)
    # the output neurons see the same summed input: their counts agree within Poisson noise
    n_ref, n_got = float(ref["out_num"]), float(got["out_num"])
    assert n_ref > 100
    assert abs(n_got - n_ref) <= 5 * np.sqrt(n_ref + n_got), (n_got, n_ref)


def test_timed_array_input_as_written():
    ref, got = both(models_inputs.tutorial_timed_array_input, build_on_run=False)
    assert_same(ref, got, ["t", "I", "inputs"], rtol=1e-12, context="I = ta_inputs(t, i)")
    # the input half follows the TimedArray, one value per 10 ms block; the output half has none
    block = (got["t"] // 10e-3).astype(int)
    np.testing.assert_allclose(got["I"][:5], got["inputs"][block][:, :5].T, rtol=1e-12)
    np.testing.assert_array_equal(got["I"][5:], 0.0)


def test_timed_array_input_deterministic_two_runs_exact():
    params = {"init": "vr"}
    ref = cached_run(models_inputs.tutorial_timed_array_input, "cpp_standalone", build_on_run=False, params=params)
    got = cached_run(models_inputs.tutorial_timed_array_input, "brisk", build_on_run=False, params=params)
    assert ref["in_num"] > 0 and ref["out_num"] > 0
    assert_same_monitor_spikes(ref, got, "in")
    assert_same_monitor_spikes(ref, got, "out")
    assert_same(ref, got, ["t", "v", "I"], rtol=1e-12, context="two clocks, two runs")
