"""``run(..., profile=True)``: Brian's ``profiling_info.txt``, read by
``Network.profiling_info`` and ``profiling_summary()`` as with cpp_standalone.

Times are per code object: wall time around each launch on the CPU, CUDA
events around each launch on a GPU (no synchronisation per launch).
"""

import numpy as np

import models_profile
from harness import both


def test_profiling_info_names_the_code_objects_cpp_standalone_names():
    ref, got = both(models_profile.profiled, build_on_run=False)
    assert got["spikes"] > 0
    assert sorted(got["names"]) == sorted(ref["names"])
    assert np.all(got["seconds"] >= 0)
    seconds = dict(zip(got["names"], got["seconds"]))
    # the state updater and the synaptic propagation did run
    assert seconds["prof_group_stateupdater_codeobject"] > 0
    assert seconds["prof_syn_pre_codeobject"] > 0
    # Brian sorts profiling_info by time; profiling_summary shows its first entries
    assert np.all(np.diff(got["seconds"]) <= 0)
    assert list(got["summary_names"]) == list(got["names"][:3])
