"""Synapses with random connectivity and random synaptic state (statistical comparison).

`models_synapses.synapses_random` uses ``connect(p=...)``, ``sample(...)``, a
distance-dependent probability and ``rand()``/``randn()`` in synaptic
initialisers. Brisk's random streams differ from Brian's, so the synapse
counts are compared with their binomial expectation (within 5 standard
errors, both devices) and with each other, degree distributions and values
with `assert_stats_match`/`assert_stats_agree`; what is not random (the
structure: valid, unique, consistent indices, exactly 3 targets per source
for ``sample(size=3)``) is checked exactly.
"""

import numpy as np

import models_synapses
from harness import assert_stats_agree, assert_stats_match, both


def _random():
    return both(models_synapses.synapses_random)


def _check_structure(res, name, n_pre, n_post, pre_offset=0, post_offset=0, unique=True):
    """Indices in range, absolute = relative + offset, N_incoming/N_outgoing consistent."""
    i, j = res[f"{name}_i"], res[f"{name}_j"]
    pre, post = res[f"{name}_pre_abs"], res[f"{name}_post_abs"]
    assert i.size == j.size == int(res[f"{name}_N"])
    assert i.size == 0 or (i.min() >= 0 and i.max() < n_pre and j.min() >= 0 and j.max() < n_post)
    np.testing.assert_array_equal(pre, i + pre_offset)
    np.testing.assert_array_equal(post, j + post_offset)
    np.testing.assert_array_equal(res[f"{name}_N_incoming"], np.bincount(post)[post])
    np.testing.assert_array_equal(res[f"{name}_N_outgoing"], np.bincount(pre)[pre])
    if unique:
        keys = i.astype(np.int64) * n_post + j
        assert np.unique(keys).size == keys.size, f"{name}: duplicate synapses"


def _check_count(ref, got, name, expected, var):
    """Synapse counts within 5 standard errors of the expectation and of each other."""
    n_ref, n_got = int(ref[f"{name}_N"]), int(got[f"{name}_N"])
    se = np.sqrt(var)
    assert abs(n_ref - expected) <= 5 * se, (
        f"{name} (cpp_standalone): {n_ref} synapses, expected {expected:.1f} ± {se:.1f}")
    assert abs(n_got - expected) <= 5 * se, (
        f"{name} (Brisk): {n_got} synapses, expected {expected:.1f} ± {se:.1f}")
    assert abs(n_got - n_ref) <= 5 * np.sqrt(2) * se, f"{name}: {n_got} (Brisk) vs {n_ref} synapses"


def _check_binomial_degrees(ref, got, name, n_pre, n_post, p):
    """Each pair connected with probability ``p``: in-degrees Binomial(n_pre, p),
    out-degrees Binomial(n_post, p), on both devices."""
    for res, device in ((ref, "cpp_standalone"), (got, "Brisk")):
        indeg = np.bincount(res[f"{name}_j"], minlength=n_post)
        outdeg = np.bincount(res[f"{name}_i"], minlength=n_pre)
        assert_stats_match(indeg, n_pre * p, n_pre * p * (1 - p), context=f"in-degree ({device})")
        assert_stats_match(outdeg, n_post * p, n_post * p * (1 - p), context=f"out-degree ({device})")


def test_cuba_random_connectivity_and_rate():
    """CUBA with ``connect(p=0.02)`` from the subgroups ``P[:800]``/``P[800:]``:
    synapse counts, in-degrees, and the firing rate."""
    ref, got = _random()
    n_e, n_i = models_synapses.RAND_CUBA_SIZES
    N = n_e + n_i
    p = models_synapses.RAND_CUBA_P
    for name, n_pre, offset in (("rcuba_exc", n_e, 0), ("rcuba_inh", n_i, n_e)):
        for res in (ref, got):
            _check_structure(res, name, n_pre, N, pre_offset=offset)
        _check_count(ref, got, name, n_pre * N * p, n_pre * N * p * (1 - p))
        indegree = lambda res: np.bincount(res[f"{name}_j"], minlength=N)  # noqa: E731
        assert_stats_match(indegree(got), n_pre * p, n_pre * p * (1 - p), context=f"{name} in-degree")
    # the firing rate, roughly: it varies by about 3.5 % (standard deviation) from one
    # random network to the next (Brian, 8 seeds: 9.7 to 10.9 Hz)
    rate_ref = float(ref["rcuba_num"]) / N / 0.2
    rate_got = float(got["rcuba_num"]) / N / 0.2
    assert rate_ref > 5
    assert abs(rate_got - rate_ref) <= 0.2 * rate_ref, f"{rate_got:.2f} Hz (Brisk), {rate_ref:.2f} Hz"
    np.testing.assert_array_equal(np.bincount(got["rcuba_i"], minlength=N), got["rcuba_count"])
    # most neurons fire in 200 ms (Brian: about 80 %)
    assert np.mean(got["rcuba_count"] > 0) > 0.6


def test_connect_calls_draw_independent_numbers():
    """Two ``connect(p=...)`` calls draw from two random streams, as two calls
    do in Brian: CUBA's excitatory and inhibitory connections, from sources
    numbered from 0 alike, do not pick the same targets for the same source
    (they did while a connect() whose code calls no ``rand()`` but whose
    ``sample`` draws did not move the stream counter)."""
    _, got = _random()
    n_e, n_i = models_synapses.RAND_CUBA_SIZES

    def rows(name, n):
        i, j = got[f"{name}_i"], got[f"{name}_j"]
        return [tuple(sorted(j[i == k])) for k in range(n)]

    exc, inh = rows("rcuba_exc", n_i), rows("rcuba_inh", n_i)
    same = sum(a == b for a, b in zip(exc, inh))
    # independent: two rows of about 20 targets out of 1000 are the same with
    # probability ~ 0 (both empty: 0.98**2000)
    assert same <= 2, f"{same} of {n_i} sources have the same targets in both connect() calls"


def test_connect_p():
    """``connect(p=0.3)``, 100 x 200: count, in- and out-degree distributions."""
    ref, got = _random()
    n_pre, n_post, p = models_synapses.RAND_A, models_synapses.RAND_B, models_synapses.RAND_P
    for res in (ref, got):
        _check_structure(res, "p03", n_pre, n_post)
    _check_count(ref, got, "p03", n_pre * n_post * p, n_pre * n_post * p * (1 - p))
    _check_binomial_degrees(ref, got, "p03", n_pre, n_post, p)


def test_connect_sample_p():
    """``connect(j='k for k in sample(N_post, p=0.2)')``."""
    ref, got = _random()
    n_pre, n_post, p = models_synapses.RAND_A, models_synapses.RAND_B, models_synapses.RAND_SAMPLE_P
    for res in (ref, got):
        _check_structure(res, "sample_p", n_pre, n_post)
    _check_count(ref, got, "sample_p", n_pre * n_post * p, n_pre * n_post * p * (1 - p))
    _check_binomial_degrees(ref, got, "sample_p", n_pre, n_post, p)


def test_connect_sample_size():
    """``connect(j='k for k in sample(N_post, size=3)')``: exactly 3 distinct targets per
    source, uniformly chosen."""
    ref, got = _random()
    n_pre, n_post, size = models_synapses.RAND_A, models_synapses.RAND_B, models_synapses.RAND_SAMPLE_SIZE
    for res in (ref, got):
        _check_structure(res, "sample_size", n_pre, n_post)
        np.testing.assert_array_equal(np.bincount(res["sample_size_i"], minlength=n_pre), size)
        np.testing.assert_array_equal(res["sample_size_N_outgoing"], size)
        assert int(res["sample_size_N"]) == n_pre * size
    assert_stats_match(got["sample_size_j"], (n_post - 1) / 2, (n_post**2 - 1) / 12,
                       context="sample(size=3) targets")
    assert_stats_agree(ref["sample_size_j"], got["sample_size_j"], context="sample(size=3) targets")


def test_connect_distance_dependent_p():
    """``connect(p='exp(-(x_pre - x_post)**2/(2*(50*umeter)**2))')``: the count against
    the expectation computed from the positions, and the distances of connected pairs."""
    ref, got = _random()
    x_pre, x_post = models_synapses.RAND_X_PRE, models_synapses.RAND_X_POST
    p = np.exp(-((x_pre[:, None] - x_post[None, :]) ** 2) / (2 * models_synapses.RAND_SIGMA**2))
    for res in (ref, got):
        _check_structure(res, "dist", x_pre.size, x_post.size)
    _check_count(ref, got, "dist", p.sum(), (p * (1 - p)).sum())
    dist = lambda res: np.abs(x_pre[res["dist_i"]] - x_post[res["dist_j"]])  # noqa: E731
    expected_mean = (p * np.abs(x_pre[:, None] - x_post[None, :])).sum() / p.sum()
    for res, device in ((ref, "cpp_standalone"), (got, "Brisk")):
        d = dist(res)
        se = d.std() / np.sqrt(d.size)
        assert abs(d.mean() - expected_mean) <= 5 * se, (device, d.mean(), expected_mean)
    assert_stats_agree(dist(ref), dist(got), context="distance of connected pairs")


def test_synaptic_rand_initialisation():
    """``w = 'rand()'``, ``z = 'randn()'``, ``delay = 'rand()*2*ms'`` on the synapses of
    ``connect(p=0.3)``."""
    ref, got = _random()
    w, z, d = got["p03_w"], got["p03_z"], got["p03_delay"]
    assert w.size == z.size == d.size == int(got["p03_N"])
    assert w.min() >= 0 and w.max() < 1
    assert np.unique(w).size == w.size, "rand() repeats values"
    assert d.min() >= 0 and d.max() < 2e-3
    assert_stats_match(w, 0.5, 1 / 12, context="rand()")
    assert_stats_match(z, 0.0, 1.0, context="randn()")
    assert_stats_match(d / 2e-3, 0.5, 1 / 12, context="rand()*2*ms (delay)")
    # independent of each other
    assert abs(np.corrcoef(w, d)[0, 1]) < 5 / np.sqrt(w.size)
    for key in ("p03_w", "p03_z", "p03_delay"):
        assert_stats_agree(ref[key], got[key], context=key)
