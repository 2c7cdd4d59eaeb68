"""Runs one Brian model under one device in a fresh Python process.

Brian's device state is global (``set_device``, the array cache, the main
queue), so switching devices inside one process is fragile. Every run here is
a new ``python harness.py child SPEC`` process instead:

* the parent (a pytest test) calls `run_model(model, device)` with a *model
  function* defined at module level in a file of this folder (``models*.py``);
* a model function may list, in its attribute ``measured``, the keys it
  returns that are measurements (timings) rather than simulation results;
* the child sets preferences and the device, calls ``model(ctx)`` and saves
  the dict of arrays it returns (plain numpy arrays, so quantities become SI
  values) as ``.npz`` plus a JSON file with metadata (the backend Brisk used,
  timings, the error if one was raised);
* the parent loads both and returns a `Result`.

`cached_run` memoises results per test process, so tests that check different
aspects of one model share one build. Keep all tests of one model in one
file: pyproject.toml sets ``--dist=loadfile``, so pytest-xdist runs a file's
tests on one worker. (``--dist=loadgroup`` with ``xdist_group`` marks would
be finer, but it has no effect with pytest 9 and pytest-xdist 3.8.)

Comparison helpers: `assert_same` (deterministic, rtol 1e-9 by default),
`assert_same_spikes` (identical spike trains), `assert_stats_agree`
(mean and variance within a few standard errors).

Environment: ``BRISK_TEST_KEEP=1`` keeps the project folders (their paths
are in every failure message); ``BRISK_TEST_CPP_FLAGS`` overrides the gcc
flags of the cpp_standalone reference builds (by default Brian's own, which
Brisk's C++ backend uses too, so deterministic results match to the bit).

Emulated CUDA (``scripts/test-cuda-emu``): with ``BRISK_E2E_SCHEDULES``
set to several of the emulated driver's schedules (``"forward reverse"``),
every Brisk model runs once per schedule and the runs must agree
(`assert_schedules_agree`): a difference is a missing barrier or an
order-dependent write in the generated CUDA. The first run replays each
network step as a CUDA graph and runs fused state updates, thresholds and
resets (``plan::fusion``); the others launch every kernel directly, unfused
(``BRISK_CUDA_GRAPHS=0 BRISK_FUSION=0``), so the paths are compared as
well. ``BRISK_TEST_REFERENCE_CACHE``
names a folder where cpp_standalone results are kept between pytest
sessions (keyed by the model's source, its options, Brian, Python and the
compiler), so that the CUDA session reuses the CPU session's references.
"""

import atexit
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DEVICES = ("cpp_standalone", "brisk")


_work_root = None


def work_root():
    """One temporary folder per test process for all project folders."""
    global _work_root
    if _work_root is None:
        _work_root = tempfile.mkdtemp(prefix="brisk_e2e_")
        if os.environ.get("BRISK_TEST_KEEP", "0") != "1":
            atexit.register(shutil.rmtree, _work_root, True)
    return _work_root


@dataclass
class Result:
    """What one child run produced."""

    device: str
    arrays: dict
    meta: dict
    stdout: str
    stderr: str
    returncode: int
    directory: str
    wall_s: float
    error: dict = field(default=None)

    def __getitem__(self, key):
        return self.arrays[key]

    def __contains__(self, key):
        return key in self.arrays

    def keys(self):
        return self.arrays.keys()

    def describe(self):
        """Context for assertion messages."""
        tail = lambda s: s[-4000:] if s else ""  # noqa: E731
        text = (
            f"device {self.device}, project folder {self.directory} "
            f"(BRISK_TEST_KEEP=1 keeps it), exit status {self.returncode}\n"
            f"--- stdout ---\n{tail(self.stdout)}\n--- stderr ---\n{tail(self.stderr)}"
        )
        if self.error:
            text += f"\n--- error in the child ---\n{self.error.get('traceback', '')}"
        return text


def run_model(
    model,
    device,
    *,
    params=None,
    backend=None,
    float32=False,
    build_on_run=True,
    expect_error=False,
    export_only=False,
    live=None,
    timeout=900,
    env=None,
    device_options=None,
):
    """Runs ``model(ctx)`` under ``device`` ('cpp_standalone' or 'brisk') in a new process.

    With ``build_on_run=True`` Brisk runs the model in a live session (Brian's runtime
    mode); ``live=False`` asks for cpp_standalone's one build at the first run instead
    (``export_only`` implies it).

    ``model`` is a function defined at module level in a file of this folder.
    ``backend`` is Brisk's backend (``BRISK_BACKEND``); by default
    ``$BRISK_E2E_BACKEND`` or 'cpu' (``scripts/gpu-check`` runs the tests with
    ``BRISK_E2E_BACKEND=cuda``). Raises AssertionError
    if the child fails, unless ``expect_error`` (then `Result.error` holds
    the exception's type, message and traceback).
    """
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}")
    module_file = Path(sys.modules[model.__module__].__file__).resolve()
    directory = tempfile.mkdtemp(prefix=f"{model.__name__}_{device}_", dir=work_root())
    spec = {
        "module_file": str(module_file),
        "function": model.__name__,
        "device": device,
        "directory": os.path.join(directory, "project"),
        "out": os.path.join(directory, "out"),
        "params": params or {},
        "float32": bool(float32),
        "build_on_run": bool(build_on_run),
        "export_only": bool(export_only),
        "live": False if export_only else live,
        "device_options": device_options or {},
    }
    child_env = dict(os.environ)
    child_env["BRISK_BACKEND"] = backend or os.environ.get("BRISK_E2E_BACKEND", "cpu")
    child_env.setdefault("PYTHONHASHSEED", "0")
    # Brian's log files go to the temporary folder: keep them with the project
    child_env["TMPDIR"] = directory
    if env:
        child_env.update(env)
    start = time.time()
    # its own process group, so a timeout also ends make, gcc and brisk
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "child", json.dumps(spec)],
        cwd=directory,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        raise AssertionError(
            f"{model.__name__} under {device} took more than {timeout} s "
            f"(project folder {directory})\n{stdout[-3000:]}\n{stderr[-3000:]}"
        ) from None
    wall = time.time() - start
    meta = {}
    meta_path = spec["out"] + ".json"
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
    arrays = {}
    if os.path.exists(spec["out"] + ".npz"):
        with np.load(spec["out"] + ".npz", allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    result = Result(
        device=device,
        arrays=arrays,
        meta=meta,
        stdout=stdout,
        stderr=stderr,
        returncode=proc.returncode,
        directory=spec["directory"],
        wall_s=wall,
        error=meta.get("error"),
    )
    if expect_error:
        if result.error is None:
            raise AssertionError(
                f"{model.__name__} under {device} was expected to fail but did not\n"
                + result.describe()
            )
    elif proc.returncode != 0 or result.error is not None:
        raise AssertionError(f"{model.__name__} failed under {device}\n" + result.describe())
    return result


_cache = {}


def schedules():
    """The emulated driver's schedules each Brisk model runs under (``BRISK_E2E_SCHEDULES``)."""
    return os.environ.get("BRISK_E2E_SCHEDULES", "").split()


def assert_schedules_agree(first, other, schedule, measured=()):
    """Two runs of one model under different emulated schedules agree:
    integers, booleans and strings exactly, floats to 1e-12 of each array's
    scale (float atomics add in thread order, which the schedule changes).
    ``measured`` names keys that hold measurements (timings), not results."""
    assert sorted(first.keys()) == sorted(other.keys()), (first.keys(), other.keys())
    context = f"emulated CUDA, schedule {schedule!r} against {schedules()[0]!r}"
    keys = [k for k in first.keys() if k not in measured]
    text = [k for k in keys if np.asarray(first[k]).dtype.kind in "USO"]
    for key in text:
        assert np.array_equal(np.asarray(first[key]), np.asarray(other[key])), f"{context}: '{key}' differs"
    assert_same(first, other, [k for k in keys if k not in text], rtol=1e-12, context=context)


def _reference_key(model, device, kwds):
    """The on-disk key of a cpp_standalone result: everything it depends on."""
    import brian2

    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in sorted([Path(sys.modules[model.__module__].__file__).resolve(), here / "harness.py"]):
        h.update(path.read_bytes())
    cxx = subprocess.run(["c++", "--version"], capture_output=True, text=True).stdout
    for part in (model.__module__, model.__name__, device, json.dumps(kwds, sort_keys=True),
                 brian2.__version__, sys.version, cxx, os.environ.get("BRISK_TEST_CPP_FLAGS", "")):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _reference_run(model, device, **kwds):
    """`run_model` for cpp_standalone through ``BRISK_TEST_REFERENCE_CACHE``."""
    cache = os.environ.get("BRISK_TEST_REFERENCE_CACHE")
    if not cache or device != "cpp_standalone" or kwds.get("expect_error") or kwds.get("env"):
        return run_model(model, device, **kwds)
    import pickle

    path = Path(cache) / f"{_reference_key(model, device, kwds)}.pickle"
    if path.exists():
        with open(path, "rb") as f:
            return pickle.load(f)
    result = run_model(model, device, **kwds)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        pickle.dump(result, f)
    os.replace(tmp, path)
    return result


def _brisk_run(model, **kwds):
    """`run_model` for Brisk; under several emulated schedules, one run per
    schedule, compared with the first (which is returned)."""
    names = schedules()
    if len(names) < 2 or kwds.get("expect_error") or kwds.get("export_only"):
        return run_model(model, "brisk", **kwds)
    results = []
    for k, name in enumerate(names):
        env = dict(kwds.get("env") or {})
        env["BRISK_EMU_SCHEDULE"] = name
        # the first run replays CUDA graphs and fuses state updates, thresholds and resets;
        # the others launch each kernel directly: both are compared
        if k > 0:
            env.setdefault("BRISK_CUDA_GRAPHS", "0")
            env.setdefault("BRISK_FUSION", "0")
        # unseeded models draw the same numbers in every schedule's run
        env.setdefault("BRISK_DEFAULT_SEED", "20261201")
        results.append(run_model(model, "brisk", **{**kwds, "env": env}))
    measured = getattr(model, "measured", ())
    for name, other in zip(names[1:], results[1:]):
        assert_schedules_agree(results[0], other, name, measured)
    return results[0]


def cached_run(model, device, **kwds):
    """`run_model`, memoised per process on (model, device, options).

    A failure is memoised too: the other tests of the model fail at once
    with the same message instead of building the model again.
    """
    key = (model.__module__, model.__name__, device, json.dumps(kwds, sort_keys=True))
    if key not in _cache:
        try:
            if device == "brisk":
                _cache[key] = _brisk_run(model, **kwds)
            else:
                _cache[key] = _reference_run(model, device, **kwds)
        except AssertionError as e:
            _cache[key] = e
    result = _cache[key]
    if isinstance(result, AssertionError):
        raise AssertionError(f"(memoised failure) {result}")
    return result


def both(model, **kwds):
    """(cpp_standalone result, brisk result) of one model, memoised."""
    return cached_run(model, "cpp_standalone", **kwds), cached_run(model, "brisk", **kwds)


# -- comparisons ------------------------------------------------------------------


def assert_same(ref, got, keys=None, rtol=1e-9, context=""):
    """Arrays equal: integers/bools exactly, floats within ``rtol``.

    The absolute tolerance is ``rtol`` times the largest magnitude in the
    reference array, so values crossing zero do not need an exact match.
    ``ref``/``got`` are `Result`s or dicts; ``keys`` defaults to all of ``ref``.
    """
    if keys is None:
        keys = list(ref.keys())
    for key in keys:
        a = np.asarray(ref[key])
        assert key in got, f"{context}: '{key}' missing from the Brisk results"
        b = np.asarray(got[key])
        where = f"{context}: '{key}'"
        assert a.shape == b.shape, f"{where}: shape {b.shape}, expected {a.shape}"
        assert a.dtype == b.dtype, f"{where}: dtype {b.dtype}, expected {a.dtype}"
        if a.dtype.kind in "biu":
            mismatch = np.flatnonzero(a.ravel() != b.ravel())
            assert mismatch.size == 0, (
                f"{where}: {mismatch.size} of {a.size} values differ; first at flat index "
                f"{mismatch[0]}: {b.ravel()[mismatch[0]]} != {a.ravel()[mismatch[0]]}"
            )
        else:
            finite = a[np.isfinite(a)]
            scale = float(np.max(np.abs(finite))) if finite.size else 0.0
            np.testing.assert_allclose(
                b, a, rtol=rtol, atol=rtol * scale, equal_nan=True, err_msg=where
            )


def assert_same_spikes(ref_i, ref_t, got_i, got_t, rtol=1e-9, context="spikes"):
    """Identical spike trains: the same (index, time) pairs.

    The order of spikes within one time step is not part of the comparison
    (a GPU may record them in any order).
    """
    ref_i, got_i = np.asarray(ref_i), np.asarray(got_i)
    ref_t, got_t = np.asarray(ref_t), np.asarray(got_t)
    assert ref_i.size == ref_t.size and got_i.size == got_t.size
    assert got_i.size == ref_i.size, (
        f"{context}: {got_i.size} spikes, expected {ref_i.size}"
    )
    ro = np.lexsort((ref_i, ref_t))
    go = np.lexsort((got_i, got_t))
    np.testing.assert_array_equal(got_i[go], ref_i[ro], err_msg=f"{context}: neuron indices")
    np.testing.assert_allclose(got_t[go], ref_t[ro], rtol=rtol, atol=0, err_msg=f"{context}: times")


def assert_same_monitor_spikes(ref, got, name):
    """The spikes of the SpikeMonitor a model returned with `_spikes(name, ...)`:
    the same trains, counts and totals."""
    assert_same_spikes(ref[f"{name}_i"], ref[f"{name}_t"], got[f"{name}_i"], got[f"{name}_t"],
                       context=f"SpikeMonitor({name})")
    assert_same(ref, got, [f"{name}_count", f"{name}_num"], context=name)


def assert_no_results(res):
    """A failed run left no results: no (non-empty) results folder, no temporary one."""
    project = res.directory
    results = os.path.join(project, "results")
    assert not os.path.exists(results) or not os.listdir(results), os.listdir(results)
    # (the empty lock file `.results.lock` stays: removing it would race with a waiting run)
    leftovers = ([n for n in os.listdir(project) if n.startswith(".results") and n != ".results.lock"]
                 if os.path.isdir(project) else [])
    assert not leftovers, leftovers


def _mean_var_se(x):
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    mean = x.mean()
    var = x.var(ddof=1)
    m4 = np.mean((x - mean) ** 4)
    se_mean = np.sqrt(var / n)
    # standard error of the sample variance for any distribution
    se_var = np.sqrt(max(m4 - var**2 * (n - 3) / (n - 1), 0.0) / n)
    return mean, var, se_mean, se_var


def assert_stats_agree(ref, got, n_se=5.0, context="samples"):
    """Two samples of one distribution: means and variances within ``n_se`` standard errors."""
    m1, v1, sm1, sv1 = _mean_var_se(ref)
    m2, v2, sm2, sv2 = _mean_var_se(got)
    se_m = np.hypot(sm1, sm2)
    se_v = np.hypot(sv1, sv2)
    assert abs(m1 - m2) <= n_se * se_m, (
        f"{context}: means {m2:.6g} (Brisk) and {m1:.6g} (reference) differ by "
        f"{abs(m1 - m2) / se_m:.1f} standard errors"
    )
    assert abs(v1 - v2) <= n_se * se_v, (
        f"{context}: variances {v2:.6g} (Brisk) and {v1:.6g} (reference) differ by "
        f"{abs(v1 - v2) / se_v:.1f} standard errors"
    )


def assert_stats_match(x, mean, var, n_se=5.0, context="samples"):
    """A sample against a known mean and variance."""
    m, v, sm, sv = _mean_var_se(x)
    assert abs(m - mean) <= n_se * sm, (
        f"{context}: mean {m:.6g}, expected {mean:.6g} ({abs(m - mean) / sm:.1f} standard errors)"
    )
    assert abs(v - var) <= n_se * sv, (
        f"{context}: variance {v:.6g}, expected {var:.6g} ({abs(v - var) / sv:.1f} standard errors)"
    )


# -- the child process --------------------------------------------------------------


class _ExportWritten(Exception):
    """Raised instead of running ``brisk`` in export-only runs."""


class Context:
    """What a model function gets: the device name, its project folder, parameters."""

    def __init__(self, spec):
        self.device_name = spec["device"]
        self.directory = spec["directory"]
        self.params = spec["params"]
        self.build_on_run = spec["build_on_run"]
        self.float32 = spec["float32"]

    @property
    def is_brisk(self):
        return self.device_name == "brisk"

    def build(self):
        """``device.build()`` for models run with ``build_on_run=False``."""
        from brian2 import device

        device.build(directory=self.directory)


def _flat_timers(timers, prefix=""):
    flat = {}
    for key, value in timers.items():
        if isinstance(value, dict):
            flat.update(_flat_timers(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float)):
            flat[f"{prefix}{key}"] = float(value)
    return flat


def _to_array(value):
    return np.array(value, subok=False)  # a Quantity becomes a plain array (SI units)


def _child(spec):
    from brian2 import prefs, set_device

    meta = {"device": spec["device"], "python": sys.version.split()[0]}
    out = spec["out"]
    try:
        import brian2

        meta["brian_version"] = brian2.__version__
        if spec["device"] == "brisk":
            import brian2brisk  # noqa: F401  (registers the device)

            if spec.get("export_only"):
                def _stop(self, directory=None, *args, **kwds):
                    raise _ExportWritten(os.path.join(os.path.abspath(directory), "export"))

                brian2brisk.BriskDevice.run = _stop
        elif os.environ.get("BRISK_TEST_CPP_FLAGS") is not None:
            prefs.codegen.cpp.extra_compile_args_gcc = os.environ["BRISK_TEST_CPP_FLAGS"].split()
        if spec["float32"]:
            prefs.core.default_float_dtype = np.float32
        kwargs = {}
        if spec["build_on_run"]:
            kwargs["directory"] = spec["directory"]
        if spec["device"] == "brisk" and spec.get("live") is not None:
            kwargs["live"] = spec["live"]
        kwargs.update(spec.get("device_options") or {})
        set_device(spec["device"], build_on_run=spec["build_on_run"], **kwargs)

        import importlib.util

        mod_spec = importlib.util.spec_from_file_location("_brisk_model_module", spec["module_file"])
        module = importlib.util.module_from_spec(mod_spec)
        sys.path.insert(0, os.path.dirname(spec["module_file"]))
        mod_spec.loader.exec_module(module)
        model = getattr(module, spec["function"])

        start = time.time()
        values = model(Context(spec))
        meta["model_wall_s"] = time.time() - start
        from brian2 import device

        meta["project_dir"] = getattr(device, "project_dir", None)
        if spec["device"] == "brisk":
            meta["backend_used"] = device.backend_used
            meta["brisk_timings"] = dict(device.brisk_timings)
        meta["timers"] = _flat_timers(getattr(device, "timers", {}))
        arrays = {name: _to_array(value) for name, value in (values or {}).items()}
        np.savez(out + ".npz", **arrays)
        status = 0
    except _ExportWritten as e:
        meta["export_dir"] = str(e)
        status = 0
    except BaseException as e:  # noqa: BLE001  (reported to the parent)
        cause = e.__cause__ or e.__context__
        meta["error"] = {
            "type": type(e).__name__,
            "message": str(e),
            "cause_type": type(cause).__name__ if cause is not None else None,
            "cause_message": str(cause) if cause is not None else None,
            "traceback": traceback.format_exc(),
        }
        status = 3
    with open(out + ".json", "w") as f:
        json.dump(meta, f, indent=1, default=str)
    sys.exit(status)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "child":
        _child(json.loads(sys.argv[2]))
    else:
        sys.exit("usage: harness.py child SPEC_JSON (used by the tests)")
