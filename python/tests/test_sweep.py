"""Sweeps (issue 23): ``device.run(run_args=[m0, ..., m(K-1)])`` runs K
parameter sets as copies of one simulation; copy k is what a run with
``random_stream=k`` gives, bit for bit, and the copies differ."""

import glob
import json
import os

import numpy as np
import pytest

import models_sweep
from harness import run_model

KEYS = ["spike_i", "spike_t", "v", "trace", "syn_i", "syn_j", "w"]


CUDA = os.environ.get("BRISK_E2E_BACKEND") == "cuda"


def _assert_copies_are_their_runs(sweep, single, copies=3):
    """Every array of copy k of `sweep` (``sweep_<k>_<key>``) equals that of its own run in
    `single` (``single_<k>_<key>``), bit for bit."""
    for k in range(copies):
        for key in KEYS:
            a, b = sweep.arrays[f"sweep_{k}_{key}"], single.arrays[f"single_{k}_{key}"]
            assert a.dtype == b.dtype and np.array_equal(a, b), f"copy {k}: '{key}' differs from its own run"


def _batched_ticks(stats):
    """The emulated driver's statistics (BRISK_EMU_STATS_DIR): the sizes of the batched
    graph replays' step ticks (blocks per launch: one per copy) over every process."""
    sizes = set()
    for f in glob.glob(os.path.join(stats, "*.json")):
        with open(f) as fh:
            tick = json.load(fh)["kernels"].get("brisk_step_tick")
        if tick:
            sizes.update(int(b) for b in tick["blocks_per_launch"])
    return sizes


@pytest.mark.parametrize("threads", [1, 2])
def test_copy_k_is_its_own_run_with_random_stream_k(threads, tmp_path):
    # The C++ backend runs the copies at once with 2 threads. CUDA (under
    # scripts/test-cuda-emu) runs them batched: one launch per kernel and step for
    # all three (threads=1), or in batches of 2 and 1 (threads=2: BRISK_SWEEP_BATCH=2),
    # the steps replayed as CUDA graphs whose tick advances each copy's own clocks.
    env = {"BRISK_THREADS": str(threads), "BRISK_EMU_STATS_DIR": str(tmp_path / "stats")}
    if threads == 2:
        env["BRISK_SWEEP_BATCH"] = "2"
    got = run_model(models_sweep.sweep, "brisk", build_on_run=False, env=env)
    if CUDA:
        assert list(got.arrays["batches"]) == ([3] if threads == 1 else [2, 1]), got.arrays["batches"]
        # (the first schedule's run replays graphs; a run of one copy ticks in one block)
        assert _batched_ticks(str(tmp_path / "stats")) >= ({1, 3} if threads == 1 else {1, 2}), \
            "the batched steps did not replay as CUDA graphs"
    else:
        assert list(got.arrays["batches"]) == [], got.arrays["batches"]
    folders = [str(f) for f in got.arrays["folders"]]
    assert [f.rstrip("/").rsplit("_", 1)[1] for f in folders] == ["0", "1", "2"], folders
    _assert_copies_are_their_runs(got, got)
    # the copies differ: their own connectivity (random connect()), noise and drive
    for k in (1, 2):
        assert not np.array_equal(got.arrays["sweep_0_syn_j"], got.arrays[f"sweep_{k}_syn_j"])
        assert not np.array_equal(got.arrays["sweep_0_trace"], got.arrays[f"sweep_{k}_trace"])
    assert got.arrays["sweep_0_spike_i"].size > 100, "the network should spike"


@pytest.mark.parametrize("threads", [1, 2])
def test_deterministic_connectivity_is_built_once_for_the_copies(threads):
    # `ring`'s two connect() calls read nothing a copy changes: copy 0 (or whichever
    # copy comes first) builds them, the other two take them. `hop` reads `hop`, equal
    # in copies 0 and 2 only: one copy takes it when the copies run one after another
    # (one thread; CUDA: copy by copy within the batch), none or one when two run at
    # once (whichever copy comes first claims it). `rand` draws, then appends to what it
    # drew: every copy builds both calls itself. Every copy equals its own run, which
    # builds everything itself. A restore() writes the synapses back (on CUDA, a copy
    # sharing another's memory makes its own first).
    env = {"BRISK_THREADS": str(threads)}
    got = run_model(models_sweep.sweep_shared_connect, "brisk", build_on_run=False, env=env)
    shared = int(got.arrays["shared"])
    if threads == 1 or CUDA:
        assert shared == 5, shared
    else:
        assert shared in (4, 5), shared
    for k in range(3):
        assert int(got.arrays[f"single_{k}_shared"]) == 0
        for key in models_sweep.SHARED_KEYS:
            a, b = got.arrays[f"sweep_{k}_{key}"], got.arrays[f"single_{k}_{key}"]
            assert a.dtype == b.dtype and np.array_equal(a, b), f"copy {k}: '{key}' differs from its own run"
    assert got.arrays["sweep_0_ring_i"].size == 200 * 6 - 2 * (3 + 2 + 1) + 200
    np.testing.assert_array_equal(got.arrays["sweep_1_ring_j"], got.arrays["sweep_0_ring_j"])
    assert not np.array_equal(got.arrays["sweep_1_hop_j"], got.arrays["sweep_0_hop_j"])
    np.testing.assert_array_equal(got.arrays["sweep_2_hop_j"], got.arrays["sweep_0_hop_j"])
    assert not np.array_equal(got.arrays["sweep_1_rand_j"], got.arrays["sweep_0_rand_j"])
    assert got.arrays["sweep_0_spike_i"].size > 100, "the network should spike"


@pytest.mark.skipif(not CUDA, reason="GPU memory: the emulated CUDA driver's BRISK_EMU_MEMORY")
def test_a_batch_that_runs_out_of_gpu_memory_runs_again_in_smaller_batches():
    # 2 MiB of emulated GPU memory holds one copy of the model, not three: the batch of
    # three fails to allocate and runs again as batches of one, each copy still its own run
    env = {"BRISK_SWEEP_BATCH": "3", "BRISK_EMU_MEMORY": "2M"}
    got = run_model(models_sweep.sweep, "brisk", build_on_run=False, env=env)
    assert list(got.arrays["batches"]) == [1, 1, 1], got.arrays["batches"]
    _assert_copies_are_their_runs(got, got)


@pytest.mark.skipif(not CUDA, reason="GPU memory: the emulated CUDA driver's BRISK_EMU_MEMORY")
def test_later_batches_are_sized_by_what_a_copy_of_the_first_took():
    # 10 MiB of emulated GPU memory: the estimate (four times the plan's buffers, at
    # least 4 MiB a copy) fits one copy in the first batch; a copy takes far less, and
    # the later batches are sized by what the first one's copy took (with the estimate
    # alone, eight batches of one)
    got = run_model(models_sweep.sweep_sized, "brisk", build_on_run=False, env={"BRISK_EMU_MEMORY": "10M"})
    batches = list(got.arrays["batches"])
    assert sum(batches) == 8 and batches[0] == 1, batches
    assert len(batches) <= 3, batches
    for k in (0, 7):
        for key in KEYS:
            a, b = got.arrays[f"sweep_{k}_{key}"], got.arrays[f"single_{k}_{key}"]
            assert a.dtype == b.dtype and np.array_equal(a, b), f"copy {k}: '{key}' differs from its own run"


@pytest.mark.skipif(not CUDA, reason="GPU memory: the emulated CUDA driver's free memory")
def test_copies_of_a_batch_share_deterministic_synapses_in_gpu_memory():
    # 39,800 synapses: 318 KB of `_synaptic_pre` and `_synaptic_post` per copy; the three
    # copies of the batch hold one set between them (a copy took 112 KB; 324 KB when each
    # held its own, checked by disabling the adoption)
    got = run_model(models_sweep.sweep_shared_memory, "brisk", build_on_run=False)
    assert list(got.arrays["batches"]) == [3] and int(got.arrays["shared"]) == 2
    synapses = got.arrays["single_i"].size
    assert synapses == 200 * 199
    per_copy = list(got.arrays["bytes"])
    assert len(per_copy) == 1 and per_copy[0] < 8 * synapses / 2, per_copy
    for key in ("i", "j"):
        np.testing.assert_array_equal(got.arrays[f"sweep_{key}"], got.arrays[f"single_{key}"])


def test_bad_sweeps_name_the_problem_and_the_copy():
    got = run_model(models_sweep.sweep_errors, "brisk", build_on_run=False)
    # run_args=[] is one ordinary run (Brian's meaning); an empty sweep file is an error
    assert [d.rstrip("/").rsplit("/", 1)[1] for d in got.arrays["empty_dirs"]] == ["results"]
    assert int(got.arrays["empty_file_status"]) == 1
    assert "at least one copy" in str(got.arrays["empty_file_error"]), got.arrays["empty_file_error"]
    keys = str(got.arrays["keys_error"])
    assert keys.startswith("ValueError") and "copy 1" in keys and "drive" in keys, keys
    failing = str(got.arrays["failing_error"])
    assert "in copy 2 of the sweep" in failing, failing
    assert int(got.arrays["failing_copy"]) == 2, failing


def test_a_dask_cluster_gives_the_local_sweeps_folders():
    got = run_model(models_sweep.sweep_dask, "brisk", build_on_run=False, timeout=600)
    assert len(got.arrays["folders"]) == 5
    for k in range(5):
        for key in KEYS:
            a, b = got.arrays[f"local_{k}_{key}"], got.arrays[f"dask_{k}_{key}"]
            assert a.dtype == b.dtype and np.array_equal(a, b), f"copy {k}: '{key}' differs on Dask"
    assert not np.array_equal(got.arrays["dask_0_trace"], got.arrays["dask_4_trace"])


def test_a_batch_whose_worker_dies_is_reported_and_leaves_no_folders():
    got = run_model(models_sweep.sweep_dask_dying_worker, "brisk", build_on_run=False, timeout=600)
    error = str(got.arrays["error"])
    assert error.startswith("BriskError") and "copies 3..4" in error, error
    assert int(got.arrays["copy"]) == 3
    # the other batch's copies are complete; the failed batch's copies have no folder
    assert list(got.arrays["complete"]) == [True, True, True, False, False]
    assert list(got.arrays["exists"]) == [True, True, True, False, False]


def test_a_sweep_in_a_live_session_runs_the_script_so_far_as_copies():
    """Copy k of a live session's sweep is the same script built as a standalone one
    and run with ``random_stream=k``, bit for bit (values set from Python arrays
    between runs and repeated runs included); copy 0, with the script's own values,
    is the session's run; the session's state and reads are as before the sweep."""
    live = run_model(models_sweep.sweep_live, "brisk", build_on_run=True, live=True)
    ref = run_model(models_sweep.sweep_live_reference, "brisk", build_on_run=False)
    folders = [str(f) for f in live.arrays["folders"]]
    assert [f.rstrip("/").rsplit("_", 1)[1] for f in folders] == ["0", "1", "2"], folders
    _assert_copies_are_their_runs(live, ref)
    for key in KEYS:
        assert np.array_equal(live.arrays[f"live_{key}"], live.arrays[f"sweep_0_{key}"]), key
    for k in (1, 2):
        assert not np.array_equal(live.arrays["sweep_0_syn_j"], live.arrays[f"sweep_{k}_syn_j"])
    # reads stay the session's after the sweep, and are the session's again after a value set
    assert np.array_equal(live.arrays["after_sweep_v"], live.arrays["live_v"])
    assert np.array_equal(live.arrays["after_set_v"], live.arrays["live_v"])
    assert int(live.arrays["later_spikes"]) >= live.arrays["live_spike_i"].size


def test_live_sweeps_brisk_cannot_run_are_refused_with_the_reason():
    got = run_model(models_sweep.sweep_live_refused, "brisk", build_on_run=True, live=True)
    error = str(got.arrays["error"])
    assert error.startswith("NotImplementedError") and "network_operation" in error, error
    got = run_model(models_sweep.sweep_live_refused, "brisk", build_on_run=True, live=True,
                    params={"set_array": True}, env={"BRISK_LIVE_HISTORY_MB": "0"})
    error = str(got.arrays["error"])
    assert error.startswith("NotImplementedError") and "'live_g.I'" in error \
        and "BRISK_LIVE_HISTORY_MB" in error, error


def test_a_second_sweep_and_a_later_run_write_the_same_folders_as_the_first():
    got = run_model(models_sweep.sweep_twice, "brisk", build_on_run=False)
    first, second = list(got.arrays["first"]), list(got.arrays["second"])
    single = list(got.arrays["single"])
    assert first == second and len(first) == 2, (first, second)
    assert [f.rstrip("/").rsplit("/", 1)[1] for f in first] == ["results_0", "results_1"], first
    assert len(single) == 1 and single[0].rstrip("/").endswith("/results"), single
    # the single run (I = 1.0, stream 0) is the first sweep's copy 0, not the second's
    assert int(got.arrays["single_spikes"]) != int(got.arrays["second_0_spikes"])
