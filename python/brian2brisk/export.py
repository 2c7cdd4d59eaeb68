"""Writes Brisk's *export*: the manifest the ``brisk`` binary reads.

In: a `BriskDevice` after the script has run (its code objects, arrays,
main queue, clocks and static arrays). Out: ``<project>/export/manifest.json``
plus ``<project>/static_arrays/*`` (raw numpy dumps, as cpp_standalone writes
them). The format is documented in ``docs/export-format.md``; bump
``EXPORT_VERSION`` with any incompatible change and change the Rust reader
(``src/export.rs``) in the same commit.
"""

import json
import math
import os

import numpy as np
from brian2 import __version__ as brian_version
from brian2.codegen.translation import make_statements
try:
    from brian2.core.clocks import EventClock
except ImportError:  # Brian < 2.10 has no event clocks

    class EventClock:
        pass

from brian2.core.functions import Function
from brian2.core.preferences import prefs
from brian2.core.variables import (
    ArrayVariable,
    AuxiliaryVariable,
    Constant,
    DynamicArrayVariable,
    Subexpression,
)
from brian2.input.binomial import BinomialFunction
from brian2.input.timedarray import TimedArray, _find_K

from . import binomial

EXPORT_VERSION = 4

_DTYPES = {
    np.dtype(np.float64): "float64",
    np.dtype(np.float32): "float32",
    np.dtype(np.int32): "int32",
    np.dtype(np.int64): "int64",
    np.dtype(np.bool_): "bool",
    np.dtype(np.uint32): "uint32",
    np.dtype(np.uint64): "uint64",
    np.dtype(np.int8): "int8",
    np.dtype(np.uint8): "uint8",
    np.dtype(np.int16): "int16",
    np.dtype(np.uint16): "uint16",
}


def dtype_name(dtype):
    """Brian/numpy dtype -> the export's dtype name."""
    dtype = np.dtype(dtype)
    try:
        return _DTYPES[dtype]
    except KeyError:
        raise NotImplementedError(
            f"Brisk does not support arrays of dtype '{dtype}'."
        ) from None


def json_value(value):
    """A Python/numpy scalar as JSON: numbers and bools as such, inf/nan as strings."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


class Exporter:
    """Collects what the device recorded and writes the manifest."""

    def __init__(self, device, history=None):
        self.device = device
        #: a live session's values set from Python arrays that ran, kept for a sweep
        #: (name -> dtype and size, `LiveSessionMixin._live_forget_static_arrays`)
        self.history = history or {}

    # -- names ---------------------------------------------------------------
    def array_name(self, var):
        """The array's key: Brian's name for the whole array (results-file prefix)."""
        return self.device.get_array_name(var, access_data=False)

    # -- arrays --------------------------------------------------------------
    def arrays(self, live=False):
        """The arrays; for a live session (`live`) dynamic arrays have no rows here (the
        session has their current size; the Python side's size changes with reads, and
        the plan must not)."""
        device = self.device
        zero = {id(var) for var, _ in device.zero_arrays}
        arange = {id(var): start for var, _, start in device.arange_arrays}
        out = []
        for var in sorted(device.arrays, key=self.array_name):
            name = self.array_name(var)
            dynamic = isinstance(var, DynamicArrayVariable)
            ndim = var.ndim if dynamic else 1
            if ndim == 2:
                size = [int(s) for s in var.size]
                if live:
                    size[0] = 0
            else:
                size = 0 if (live and dynamic and not var.scalar) else int(var.size)
            entry = {
                "name": name,
                "owner": _owner_name(var),
                "var": var.name,
                "dtype": dtype_name(var.dtype),
                "size": size,
                "dynamic": dynamic,
                "ndim": ndim,
                "scalar": bool(var.scalar),
                "read_only": bool(var.read_only),
                "constant": bool(var.constant),
                "file": device.get_array_filename(var),
                "init": "zeros",
            }
            if id(var) in arange:
                entry["init"] = "arange"
                entry["arange_start"] = int(arange[id(var)])
            elif id(var) not in zero:
                entry["init"] = "zeros"
            if dynamic:
                entry["resize_along_first"] = bool(
                    getattr(var, "resize_along_first", False)
                )
            out.append(entry)
        return out

    def static_arrays(self):
        out = {}
        for name in sorted(self.device.static_arrays):
            arr = self.device.static_arrays[name]
            out[name] = {"dtype": dtype_name(arr.dtype), "size": int(arr.size)}
        for name in sorted(self.history):
            out[name] = dict(self.history[name])
        return out

    def clocks(self):
        out = []
        for clock in sorted(self.device.clocks, key=lambda c: c.name):
            variables = clock.variables
            entry = {
                "name": clock.name,
                "t_array": self.array_name(variables["t"]),
                "timestep_array": self.array_name(variables["timestep"]),
            }
            if isinstance(clock, EventClock):
                entry["kind"] = "event"
                entry["times_array"] = self.array_name(variables["times"])
            else:
                entry["kind"] = "regular"
                entry["dt"] = float(clock.dt_)
                entry["dt_array"] = self.array_name(variables["dt"])
            out.append(entry)
        return out

    # -- variables of a code object ------------------------------------------
    def variable(self, name, var, index, owner=None):
        if isinstance(var, Constant):
            return {
                "kind": "constant",
                "dtype": dtype_name(var.dtype),
                "value": json_value(var.value),
            }
        if isinstance(var, ArrayVariable):
            entry = {
                "kind": "array",
                "array": self.array_name(var),
                "dtype": dtype_name(var.dtype),
                "scalar": bool(var.scalar),
                "read_only": bool(var.read_only),
                "constant": bool(var.constant),
                "dynamic": isinstance(var, DynamicArrayVariable),
                "ndim": getattr(var, "ndim", 1),
                "owner": _owner_name(var),
                "index": index,
            }
            if var.conditional_write is not None:
                entry["conditional_write"] = var.conditional_write.name
            return entry
        if isinstance(var, AuxiliaryVariable):
            return {"kind": "auxiliary", "dtype": dtype_name(var.dtype)}
        if isinstance(var, Subexpression):
            return {
                "kind": "subexpression",
                "dtype": dtype_name(var.dtype),
                "expr": var.expr,
                "scalar": bool(var.scalar),
            }
        if isinstance(var, TimedArray):
            values = np.asarray(var.values)
            clock = getattr(owner, "clock", None)
            if clock is None:
                raise NotImplementedError(
                    f"Brisk cannot use TimedArray '{var.name}' in code of an object without a clock."
                )
            return {
                "kind": "timed_array",
                "ndim": values.ndim,
                "shape": [int(s) for s in values.shape],
                "dt": float(var.dt),
                # Brian's upsampling factor for the owner's clock (TimedArray._find_K)
                "k": int(_find_K(clock.dt_, float(var.dt))),
                "values": f"{var.name}_values",
            }
        if isinstance(var, BinomialFunction):
            n, p, normal = binomial.parameters(var)
            if n is None:
                raise NotImplementedError(
                    f"Brisk cannot use BinomialFunction '{var.name}' created before "
                    "brian2brisk was imported."
                )
            return {"kind": "binomial", "n": int(n), "p": float(p), "normal": bool(normal)}
        if isinstance(var, Function) and not _is_default_function(name, var):
            return self._user_function(name, var, owner)
        if isinstance(var, Function):
            return {
                "kind": "function",
                "name": getattr(var, "name", None) or name,
                "auto_vectorise": bool(getattr(var, "auto_vectorise", False)),
                "stateless": bool(getattr(var, "stateless", True)),
            }
        raise NotImplementedError(
            f"Brisk cannot export variable '{name}' of type {type(var).__name__}."
        )

    def _user_function(self, name, var, owner):
        """A user `Function` with a C++ implementation (``@implementation('cpp', ...)``)."""
        from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject

        try:
            impl = var.implementations[CPPStandaloneCodeObject]
        except KeyError:
            raise NotImplementedError(
                f"Function '{name}' has no C++ implementation, which Brisk needs "
                "(add one with @implementation('cpp', ...))."
            ) from None
        code = impl.get_code(owner)
        if code is None:
            code = {}
        elif isinstance(code, str):
            code = {"support_code": code}
        unsupported = sorted(set(code) - {"support_code", "hashdefine_code"})
        if unsupported:
            raise NotImplementedError(
                f"Brisk cannot use the C++ implementation of function '{name}': "
                f"it has code blocks {unsupported}."
            )
        dependencies = {}
        for dep_name, dep in sorted((impl.dependencies or {}).items()):
            if _is_default_function(dep_name, dep):
                raise NotImplementedError(
                    f"Brisk cannot use function '{name}': its C++ code calls Brian's "
                    f"'{dep_name}' directly."
                )
            dependencies[dep_name] = self._user_function(dep_name, dep, owner)
        return {
            "kind": "user_function",
            "c_name": impl.name or name,
            "support_code": code.get("support_code", "") or "",
            "hashdefine_code": code.get("hashdefine_code", "") or "",
            "return_type": str(getattr(var, "return_type", "float") or "float"),
            "dependencies": dependencies,
            "auto_vectorise": bool(getattr(var, "auto_vectorise", False)),
        }

    def code_object(self, record):
        """The export entry of a code object, made when it is created (from the
        arguments of ``device.code_object``); `scheduled` adds where it runs."""
        variables = record["variables"]
        indices = record["variable_indices"]
        exported_vars = {}
        for name in sorted(variables):
            index = indices[name] if name in indices else "_idx"
            exported_vars[name] = self.variable(name, variables[name], index, record["owner"])
        override = set(record["override_conditional_write"] or ())
        conditional_writes = {
            name: var.conditional_write.name
            for name, var in sorted(variables.items())
            if isinstance(var, ArrayVariable)
            and getattr(var, "conditional_write", None) is not None
            and var.conditional_write.name not in override
        }
        blocks = []
        float_dtype = prefs.core.default_float_dtype
        for block_name in sorted(record["abstract_code"], key=lambda b: b or ""):
            code = record["abstract_code"][block_name]
            scalar, vector = make_statements(
                code,
                variables,
                float_dtype,
                optimise=prefs.codegen.loop_invariant_optimisations,
                blockname=block_name or "",
            )
            blocks.append(
                {
                    "name": block_name,
                    "abstract_code": code,
                    "scalar": [_statement(s) for s in scalar],
                    "vector": [_statement(s) for s in vector],
                }
            )
        codeobj = record["codeobj"]
        owner = record["owner"]
        template_kwds = _jsonable(record["template_kwds"])
        entry = {
            "name": codeobj.name,
            "template": record["template_name"],
            "owner": {"name": owner.name, "class": owner.__class__.__name__},
            "clock": None,
            "when": None,
            "order": None,
            "blocks": blocks,
            "variables": exported_vars,
            "indices": {k: indices[k] for k in sorted(indices) if k in variables},
            "template_kwds": template_kwds,
            "conditional_writes": conditional_writes,
            "override_conditional_write": sorted(override),
            "needed_variables": sorted(getattr(record["template"], "variables", ()) or ()),
        }
        if getattr(owner, "clock", None) is not None:
            # run once from the main queue, at the owner's clock time, unless
            # a network runs it (`scheduled`)
            entry["clock"] = owner.clock.name
        # Template-specific facts the abstract code leaves out.
        eventspace = record["template_kwds"].get("eventspace_variable")
        if eventspace is not None:
            entry["eventspace"] = self.array_name(eventspace)
        template = record["template_name"]
        if template in ("synapses_create_generator", "synapses_create_array"):
            entry["connect"] = self._connect(owner, record["template_kwds"])
        elif template in ("synapses_push_spikes", "synapses"):
            # push_spikes is owned by the pathway; the synapses code object names it.
            entry["pathway"] = self._pathway(record["template_kwds"].get("pathway", owner))
        elif template == "summed_variable":
            kwds = record["template_kwds"]
            entry["summed"] = {
                "target": self.array_name(kwds["_target_var"]),
                "index": self.array_name(kwds["_index_var"]),
                "start": int(kwds["_target_start"]),
                "stop": int(kwds["_target_stop"]),
            }
        return entry

    def _connect(self, synapses, kwds):
        """What a connect() code object resizes: every array registered with the Synapses."""
        registered = sorted(
            {self.array_name(var) for var in synapses._registered_variables}
        )
        index = kwds.get("multisynaptic_index")
        return {
            "synapses": synapses.name,
            "registered": registered,
            "multisynaptic_index": (
                None if index is None else self.array_name(synapses.variables[index])
            ),
        }

    def _pathway(self, pathway):
        """A synaptic pathway: its spike source range, synapse sources and delays."""
        delays = pathway._delays  # `_pre_delay` (Brian 2.10+) or `delay` (2.9)
        return {
            "name": pathway.name,
            "synapses": pathway.synapses.name,
            "prepost": pathway.prepost,
            "sources": self.array_name(pathway.synapse_sources),
            "delay": self.array_name(delays),
            "delay_scalar": bool(delays.scalar),
            "spikes_start": int(pathway.spikes_start),
            "spikes_stop": int(pathway.spikes_stop),
            "eventspace": self.array_name(
                pathway.source.variables[f"_{pathway.event}space"]
            ),
            "source_dt": self.array_name(pathway.source.clock.variables["dt"]),
        }

    def scheduled(self, entry):
        """A code object's entry with the clock, slot and order a network runs it at."""
        schedule = self.device._brisk_schedule.get(entry["name"])
        return {**entry, **schedule} if schedule is not None else entry

    # -- the main queue -----------------------------------------------------
    def main_queue(self, start=0):
        """The entries of the device's queue (`BriskDevice._brisk_entries`: Brian's main
        queue in Brisk's terms) from `start` on, as the export writes them."""
        out = []
        alias = self.device._brisk_alias
        for kind, args in self.device._brisk_entries()[start:]:
            if kind in ("run_code_object", "before_run_code_object", "after_run_code_object"):
                (codeobj,) = args
                out.append({"kind": kind, "code_object": alias.get(codeobj.name, codeobj.name)})
            elif kind == "brisk_run_network":
                run = dict(args)
                run.pop("repeat", None)
                if run.pop("apply_run_args"):
                    # Brian applies run_args right before this network run.
                    out.append({"kind": "apply_run_args"})
                out.append({"kind": "run_network", **run})
            elif kind == "brisk_apply_run_args":
                out.append({"kind": "apply_run_args"})
            elif kind == "set_by_constant":
                array, value, _dynamic = args
                out.append({"kind": kind, "array": array, "value": json_value(value)})
            elif kind == "set_by_array":
                array, static, _dynamic = args
                out.append({"kind": kind, "array": array, "static_array": static})
            elif kind == "brisk_set_by_single_value":
                array, item, value = args
                out.append({"kind": "set_by_single_value", "array": array, "item": item,
                            "value": json_value(value)})
            elif kind == "set_array_by_array":
                array, static_index, static_value = args
                out.append(
                    {
                        "kind": kind,
                        "array": array,
                        "static_index": static_index,
                        "static_value": static_value,
                    }
                )
            elif kind == "resize_array":
                array, size = args
                out.append({"kind": kind, "array": array, "size": int(size)})
            elif kind == "seed":
                out.append({"kind": kind, "seed": None if args is None else int(args)})
            elif kind == "insert_code":
                raise NotImplementedError(
                    "Brisk cannot run C++ code inserted with device.insert_code "
                    f"('main' slot): {args.strip()[:60]!r}"
                )
            elif kind == "brisk_store_state":
                out.append(
                    {
                        "kind": "store_state",
                        "network": args["network"],
                        "name": args["name"],
                        "arrays": [self.array_name(var) for var in args["arrays"]],
                        "pathways": args["pathways"],
                    }
                )
            elif kind == "brisk_set_random_state":
                out.append({"kind": "set_random_state", "seed": int(args["seed"]), "stream": int(args["stream"])})
            elif kind == "brisk_restore_state":
                out.append({"kind": "restore_state", **args})
            elif kind in ("start_run_func", "end_run_func"):
                raise NotImplementedError(
                    "Brisk does not support device.run_function (C++ run functions)."
                )
            else:
                raise NotImplementedError(f"Brisk cannot export main-queue entry '{kind}'.")
        return out

    # -- everything ------------------------------------------------------------
    def manifest(self, queue_start=0, live=False):
        device = self.device
        code_objects = [self.scheduled(e) for e in device._brisk_code_objects.values()]
        return {
            "format": "brisk-export",
            "version": EXPORT_VERSION,
            "brian_version": brian_version,
            "float_dtype": dtype_name(prefs.core.default_float_dtype),
            "arrays": self.arrays(live),
            "static_arrays": self.static_arrays(),
            "clocks": self.clocks(),
            "code_objects": code_objects,
            "main_queue": self.main_queue(queue_start),
        }

    def write(self, directory, queue_start=None, whole_live=False):
        """Writes ``export/manifest.json``. A live session's export (`queue_start`
        given) holds the main-queue entries from `queue_start` on: those the
        session has not run yet; `whole_live`: a live session's script from its
        start, as a standalone export (a sweep's, `LiveSessionMixin._live_sweep`)."""
        manifest = self.manifest(queue_start or 0, live=queue_start is not None or whole_live)
        export_dir = os.path.join(directory, "export")
        os.makedirs(export_dir, exist_ok=True)
        path = os.path.join(export_dir, "manifest.json")
        if queue_start is not None:
            # a live session's export: the session reads it only when asked, after this
            with open(path, "w") as f:
                f.write(json.dumps(manifest, separators=(",", ":")) + "\n")
            return path
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(manifest, f, indent=1, sort_keys=False)
            f.write("\n")
        os.replace(tmp, path)
        return path


def _brians_functions():
    from brian2.core.functions import DEFAULT_FUNCTIONS

    return dict(DEFAULT_FUNCTIONS)


#: Brian's own functions as brian2brisk found them (a script or test may replace one in
#: DEFAULT_FUNCTIONS, e.g. Brian's tests' fake ``randn``: that one is the user's)
_BRIANS_FUNCTIONS = _brians_functions()


def _is_default_function(name, var):
    """Brian's own functions (exp, rand, timestep, ...), which Brisk implements itself."""
    return _BRIANS_FUNCTIONS.get(name) is var or any(f is var for f in _BRIANS_FUNCTIONS.values())


def _owner_name(var):
    try:
        return var.owner.name
    except (ReferenceError, AttributeError):
        return None


def _statement(stmt):
    entry = {
        "var": stmt.var,
        "op": stmt.op,
        "expr": str(stmt.expr),
        "dtype": dtype_name(stmt.dtype),
        "constant": bool(stmt.constant),
        "scalar": bool(stmt.scalar),
    }
    if stmt.comment:
        entry["comment"] = stmt.comment
    if getattr(stmt, "used_boolean_variables", None):
        entry["boolean_variables"] = list(stmt.used_boolean_variables)
        entry["boolean_branches"] = [
            {"when": [[name, bool(val)] for name, val in assigns], "expr": str(expr)}
            for assigns, expr in stmt.boolean_simplified_expressions.items()
        ]
    return entry


def _jsonable(value):
    """Template keywords as JSON; objects Brisk does not need become their repr."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
        return json_value(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(str(_jsonable(v)) for v in value)
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return {"name": name, "type": type(value).__name__}
    return repr(value)
