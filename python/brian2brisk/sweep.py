"""Sweeps: ``device.run(run_args=[m0, m1, ..., m(K-1)])`` runs the K parameter
sets of the built model as copies of one simulation, in one ``brisk run
--sweep`` (the program generated and compiled once; on the C++ backend the
copies run at once on the cores).

Each mapping is a ``run_args`` as Brian takes it (``{group.var: value,
timedarray: values}``); every copy must name the same variables. Copy k draws
from random stream k (stream 0 is an ordinary run's numbers), so
``device.run(run_args=mk, random_stream=k)`` reproduces it bit for bit,
connectivity made by a random ``connect()`` included. Copy k's results go to
``results_<k>`` beside the results folder (``device.results_dirs`` lists
them in order); afterwards the script's objects read copy 0, and
``device.load_results(folder)`` switches to another. In a live session (Brian's
runtime mode) the same call runs the script so far, from its start, as the
copies (`LiveSessionMixin._live_sweep`); reads stay the session's until
``load_results``.
"""

import json
import os
from collections.abc import Mapping


def is_sweep(run_args):
    """A non-empty list of run_args mappings. (An empty list is Brian's "no
    run_args", a list of ``name=value`` strings Brian's other form: both are
    one run, as with cpp_standalone.)"""
    return (isinstance(run_args, (list, tuple)) and len(run_args) > 0
            and all(isinstance(m, Mapping) for m in run_args))


def _key_name(key):
    owner = getattr(key, "group_name", None)
    return f"{owner}.{key.name}" if owner else getattr(key, "name", repr(key))


def prepare(device, directory, copies):
    """Writes the sweep file of `copies` into `directory` and returns the
    arguments of ``brisk run`` that run it; sets ``device.results_dirs``."""
    names = [sorted(_key_name(k) for k in m) for m in copies]
    for k, these in enumerate(names):
        if these != names[0]:
            missing = sorted(set(names[0]) - set(these))
            extra = sorted(set(these) - set(names[0]))
            raise ValueError(
                f"run_args of copy {k} name other variables than copy 0's: "
                + "; ".join(p for p in (f"missing {missing}" if missing else "",
                                        f"not in copy 0: {extra}" if extra else "") if p))
    base = device.results_dir.rstrip(os.sep)
    entries, folders = [], []
    for k, mapping in enumerate(copies):
        folder = f"{base}_{k}"
        folders.append(os.path.join(folder, ""))
        entries.append({"results": folder, "run_args": device._brisk_run_args(directory, mapping),
                        "random_stream": k})
    path = os.path.join(os.path.abspath(directory), "sweep.json")
    with open(path, "w") as f:
        json.dump({"copies": entries}, f, indent=1)
    device.results_dirs = folders
    device.results_dir = folders[0]
    return ["--sweep", path]


# -- on a Dask cluster ------------------------------------------------------------------


def _tar(folder, arcname):
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(folder, arcname=arcname)
    return buf.getvalue()


def _untar(data, into):
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(into, filter="data")


def run_batch(bundle, entries, backend):
    """On a Dask worker: runs `entries` (copies of the sweep file, their results
    folders named by copy number) of the bundle `bundle` (a .tar.gz of ``brisk
    convert``'s folder) with the worker's ``brisk`` (``$BRISK_BINARY``, the
    environment's, or PATH); returns the results folders as a .tar.gz."""
    import shutil
    import subprocess
    import tempfile

    die_at = os.environ.get("BRISK_TEST_SWEEP_DIE_AT")
    if die_at is not None and int(die_at) in [e["random_stream"] for e in entries]:
        # a test hook (python/tests/test_sweep.py): the worker process dies in this batch
        os._exit(70)
    try:
        from brian2brisk.binary import find_brisk_binary

        brisk = find_brisk_binary()
    except ImportError:
        brisk = shutil.which("brisk")
    if not brisk:
        raise RuntimeError("this Dask worker has no brisk binary (set BRISK_BINARY or put brisk on PATH)")
    with tempfile.TemporaryDirectory(prefix="brisk_sweep_batch_") as tmp:
        _untar(bundle, tmp)
        out = os.path.join(tmp, "results")
        copies = [dict(e, results=os.path.join(out, str(e["random_stream"]))) for e in entries]
        sweep_file = os.path.join(tmp, "sweep.json")
        with open(sweep_file, "w") as f:
            json.dump({"copies": copies}, f)
        proc = subprocess.run([brisk, "run", os.path.join(tmp, "bundle"), "--backend", backend,
                               "--sweep", sweep_file], capture_output=True, text=True)
        if proc.returncode != 0:
            from brian2brisk.errors import BriskError

            raise BriskError.from_output(proc.stderr, proc.returncode)
        return _tar(out, "results")


def run_on_dask(device, directory, client):
    """Runs the sweep ``prepare`` wrote over the workers of a
    ``dask.distributed.Client``: the copies in contiguous batches, one per
    worker, each running the converted bundle; the results come back into the
    same folders as a local run's. A batch that fails (a worker that dies
    included) is tried once more, then reported with its copies; the folders
    of this sweep that were not written are removed, so none passes as a
    result of it."""
    import shutil
    import tempfile

    with open(os.path.join(os.path.abspath(directory), "sweep.json")) as f:
        entries = json.load(f)["copies"]
    bundle_dir = os.path.join(os.path.abspath(directory), "bundle")
    shutil.rmtree(bundle_dir, ignore_errors=True)
    device._call_brisk(["convert", device._export_dir(directory), "-o", bundle_dir], False)
    # the run_args' value files, where the bundle's run resolves them
    arrays = os.path.join(os.path.abspath(directory), "static_arrays")
    for name in os.listdir(arrays) if os.path.isdir(arrays) else []:
        target = os.path.join(bundle_dir, "static_arrays", name)
        if not os.path.exists(target):
            shutil.copyfile(os.path.join(arrays, name), target)
    bundle = _tar(bundle_dir, "bundle")
    for e in entries:
        shutil.rmtree(e["results"], ignore_errors=True)
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    size = -(-len(entries) // workers)
    batches = [entries[k:k + size] for k in range(0, len(entries), size)]
    futures = [client.submit(run_batch, bundle, batch, device.backend, retries=1, pure=False)
               for batch in batches]
    failed = []
    for batch, future in zip(batches, futures):
        copies = [e["random_stream"] for e in batch]
        try:
            data = future.result()
        except Exception as e:  # noqa: BLE001 (reported below, with the batch's copies)
            failed.append((copies, e))
            continue
        # (a folder in the project: the same file system as the results, so that moving a
        # copy's folder into place is one rename)
        with tempfile.TemporaryDirectory(prefix=".sweep-staging-", dir=os.path.abspath(directory)) as staging:
            _untar(data, staging)
            for entry in batch:
                shutil.move(os.path.join(staging, "results", str(entry["random_stream"])), entry["results"])
    if failed:
        from .errors import BriskError

        copies, error = failed[0]
        raise BriskError(
            f"the Dask batch of copies {copies[0]}..{copies[-1]} failed twice"
            + (f" (and {len(failed) - 1} more batches)" if len(failed) > 1 else "")
            + f": {type(error).__name__}: {error}", kind="runtime", copy=copies[0])

