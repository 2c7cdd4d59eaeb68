"""Several ``run()`` calls, ``build_on_run=False`` + ``device.build()``, ``report='text'``."""

import os

import numpy as np

import models
from harness import assert_same, assert_same_spikes, cached_run



def _results():
    return (
        cached_run(models.multiple_runs, "cpp_standalone", build_on_run=False),
        cached_run(models.multiple_runs, "brisk", build_on_run=False),
    )


def test_multiple_runs_continue_state():
    """Three runs continue from each other; an external constant and a variable change between them."""
    ref, got = _results()
    # the trace is continuous over the three runs: 600 steps, t increasing
    assert ref["v"].shape == (2, 600)
    assert np.all(np.diff(got["v_t"]) > 0)
    assert_same_spikes(ref["i"], ref["t"], got["i"], got["t"])
    assert_same(ref, got, ["v", "v_t", "v_final", "t_end"])
    np.testing.assert_allclose(got["t_end"], 0.06, rtol=1e-12)
    # the second run (I_ext = 0.5) has no spikes; the third (I_ext*scale = 2) does
    assert not np.any((got["t"] >= 0.02) & (got["t"] < 0.04))
    assert np.any(got["t"] >= 0.04)


def test_build_on_run_false_device_build():
    """``set_device('brisk', build_on_run=False)`` then ``device.build()`` runs everything once."""
    ref, got = _results()
    assert got.meta["backend_used"] == os.environ.get("BRISK_E2E_BACKEND", "cpu")
    assert got.meta["project_dir"] == got.directory
    assert got["v"].size > 0


def test_report_text():
    """``report='text'`` prints progress like cpp_standalone's."""
    ref, got = _results()
    for res in (ref, got):
        out = res.stdout
        assert "Starting simulation" in out, (res.device, out)
        assert "100%" in out, (res.device, out)
