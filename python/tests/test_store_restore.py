"""``store()`` / ``restore()``: Brian's standalone devices refuse them; Brisk
keeps the stored state inside the simulation.

Oracles (see models_store.py): a run with a store / run / restore detour ends
exactly where the run without the detour ends under cpp_standalone; with
``restore_random_state=True`` a random model ends where Brisk's own run
without the detour ends. Each test also checks that the detour would show
if restore() did nothing, so the comparisons can fail.
"""

import numpy as np

import models_store
from harness import assert_same, assert_same_monitor_spikes, cached_run

DETOUR_KEYS = ("v", "I", "w", "delay", "trace_t", "trace_v", "trace_I", "rate", "rate_t")


def test_restore_undoes_a_detour_with_spikes_in_flight():
    ref = cached_run(models_store.store_detour, "cpp_standalone", build_on_run=False)
    got = cached_run(models_store.store_detour, "brisk", build_on_run=False, params={"detour": True})
    assert ref["ring_num"] > 20, "the model should spike with spikes in flight at the store"
    assert_same_monitor_spikes(ref, got, "ring")
    assert_same(ref, got, DETOUR_KEYS, rtol=1e-12, context="store/restore detour")


def test_without_restore_the_detour_shows():
    ref = cached_run(models_store.store_detour, "cpp_standalone", build_on_run=False)
    kept = cached_run(models_store.store_detour, "brisk", build_on_run=False, params={"detour": True, "restore": False})
    assert kept["ring_num"] != ref["ring_num"] or not np.allclose(kept["v"], ref["v"])
    assert not np.allclose(kept["w"], ref["w"])


def test_restore_random_state_repeats_the_numbers():
    straight = cached_run(models_store.store_random, "brisk", build_on_run=False)
    again = cached_run(models_store.store_random, "brisk", build_on_run=False,
                       params={"detour": True, "restore_random_state": True})
    assert straight["noisy_num"] > 0
    assert_same_monitor_spikes(straight, again, "noisy")
    assert_same(straight, again, ["v", "u", "t"], rtol=0, context="restore_random_state=True")


def test_restore_keeps_drawing_new_numbers_by_default():
    straight = cached_run(models_store.store_random, "brisk", build_on_run=False)
    fresh = cached_run(models_store.store_random, "brisk", build_on_run=False,
                       params={"detour": True, "restore_random_state": False})
    np.testing.assert_allclose(fresh["t"], straight["t"])
    assert not np.allclose(fresh["v"], straight["v"]), "restore() without its random state repeated the noise"


def test_store_to_a_file_is_not_implemented():
    res = cached_run(models_store.store_to_file, "brisk", build_on_run=False, expect_error=True)
    assert res.error["type"] == "NotImplementedError"
    assert "store(filename=...)" in res.error["message"]


def test_restore_of_an_unknown_name_is_a_key_error():
    res = cached_run(models_store.restore_unknown, "brisk", build_on_run=False, expect_error=True)
    assert res.error["type"] == "KeyError"
    assert "never" in res.error["message"]


def test_restore_with_other_objects_is_a_key_error():
    res = cached_run(models_store.restore_other_objects, "brisk", build_on_run=False, expect_error=True)
    assert res.error["type"] == "KeyError"
    assert "latecomer" in res.error["message"]
