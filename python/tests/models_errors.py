"""Models that must fail with a clear error (test_synapses_errors.py)."""

from brian2 import NeuronGroup, Synapses, ms, run, second


def synapses_huge_delay(ctx):
    """A delay of 1000 s at dt = 0.1 ms from 1000 neurons: a spike queue of 10^7
    steps of 1001 entries (40 GB), refused before anything is allocated."""
    G = NeuronGroup(1000, "v : 1", threshold="v > 1", name="far_source")
    S = Synapses(G, G, on_pre="v += 1", name="far_synapses")
    S.connect(j="i")
    S.delay = 1000 * second
    run(1 * ms)
    return {"v": G.v[:]}
