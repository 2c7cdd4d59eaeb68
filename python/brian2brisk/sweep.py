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
``device.load_results(folder)`` switches to another.
"""

import json
import os
from collections.abc import Mapping


def is_sweep(run_args):
    """A list of run_args mappings (or an empty list: a sweep of no copies)."""
    return isinstance(run_args, (list, tuple)) and all(isinstance(m, Mapping) for m in run_args)


def _key_name(key):
    owner = getattr(key, "group_name", None)
    return f"{owner}.{key.name}" if owner else getattr(key, "name", repr(key))


def prepare(device, directory, copies):
    """Writes the sweep file of `copies` into `directory` and returns the
    arguments of ``brisk run`` that run it; sets ``device.results_dirs``."""
    if len(copies) == 0:
        raise ValueError(
            "run_args is an empty list: a sweep needs at least one parameter set "
            "(run_args=None runs the model without run_args)")
    names = [sorted(_key_name(k) for k in m) for m in copies]
    for k, these in enumerate(names):
        if these != names[0]:
            missing = sorted(set(names[0]) - set(these))
            extra = sorted(set(these) - set(names[0]))
            raise ValueError(
                f"run_args of copy {k} name other variables than copy 0's: "
                + "; ".join(p for p in (f"missing {missing}" if missing else "",
                                        f"not in copy 0: {extra}" if extra else "") if p))
    base = device.results_dir.rstrip(os.sep) if device.results_dir else os.path.join(
        os.path.abspath(directory), "results")
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
