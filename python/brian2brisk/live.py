"""Live sessions: Brian's runtime mode on Brisk (``build_on_run=True``, the default).

`LiveSessionMixin` is the part of `BriskDevice` that keeps a ``brisk session``
(`session.py`) in step with the script: ``run()`` runs at once from the current
state; values are read at any time (also before the first run) and written at
any time; reads that cpp_standalone has no C++ for run Brian's own numpy code on
the session's values. ``docs/ARCHITECTURE.md`` ("Live sessions") has the design.
"""

import json
import os
import tempfile
import time

import numpy as np
from brian2.core.network import Network, _get_all_objects
from brian2.equations.equations import Equations
from brian2.groups.group import Group
from brian2.utils.logger import get_logger
from brian2.utils.filetools import ensure_directory

from .export import Exporter, dtype_name


def _shaped(var, data, what):
    """`data` as the values of `var` (cpp_standalone's reading of a results file: 2-D
    dynamic arrays grow along one axis); sets `var.size`."""
    if isinstance(var.size, tuple) and len(var.size) == 2:
        if var.size[0] * var.size[1] == len(data):
            size = var.size
        elif var.size[0] == 0:
            size = (len(data) // var.size[1], var.size[1])
        elif var.size[1] == 0:
            size = (var.size[0], len(data) // var.size[0])
        else:
            raise IndexError(
                f"Do not now how to deal with 2d array of size {var.size!s}, {what} has "
                f"length {len(data)}.")
        var.size = size
        return data.reshape(var.size)
    var.size = len(data)
    return data


def _owner(var):
    try:
        return var.owner.name
    except (ReferenceError, AttributeError):
        return "?"


def _history_budget():
    """Bytes of values set from Python arrays a live session keeps on disk for a sweep
    (BRISK_LIVE_HISTORY_MB, default 256)."""
    value = os.environ.get("BRISK_LIVE_HISTORY_MB", "256")
    try:
        mb = float(value)
    except ValueError:
        raise ValueError(f"BRISK_LIVE_HISTORY_MB must be a number of megabytes, not {value!r}") from None
    return max(mb, 0.0) * 1e6


class LiveSessionMixin:
    """The live-session methods of `BriskDevice` (which holds the state they use)."""

    def __getstate__(self):
        # a pickled device (Brian's multiprocessing recipes) is a copy in another process:
        # the session, a process of this one, stays here
        state = dict(self.__dict__)
        state["_brisk_session"] = None
        state["_brisk_handed"] = None
        return state

    # -- live sessions (Brian's runtime mode: build_on_run=True) -----------------
    def _live_run(self, net, python_report=None):
        """A ``run()`` in a live session: runs at once, from the current state."""
        from brian2.units import second

        # the clocks move during the run: reads (in a network_operation) ask the session
        for clock in net._clocks:
            self.array_cache[clock.variables["t"]] = None
            self.array_cache[clock.variables["timestep"]] = None
        operations = list(self._brisk_operations)

        def on_message(message):
            if "report" in message:
                elapsed, completed, t_start, duration = message["report"]
                python_report(elapsed * second, completed, t_start * second, duration * second)
                return
            operation = operations[message["network_operation"]]
            operation.run()
            if self._brisk_synced < len(self._brisk_entries()):
                self._live_sync()  # the values it set
            # the run goes on: values it set (and cached) change with the next step
            for var, cached in list(self.array_cache.items()):
                if cached is not None and not var.read_only:
                    self.array_cache[var] = None
            self._brisk_session.resume(bool(net._stopped or Network._globally_stopped))

        checks = _invalid_value_checks(self, net)
        Network._globally_running = True
        try:
            reply = self._live_sync(stop_requested=lambda: Network._globally_stopped or net._stopped,
                                    on_message=on_message, check=list(checks))
        finally:
            Network._globally_running = False
        self._last_run_time, self._last_run_completed_fraction = reply["last_run"]
        t = reply["network_t"].get(net.name)
        if t is not None and t != net.t_:
            # stopped early (Ctrl-C, Network.stop()): the clocks are where the run ended
            net.t_ = t
            for clock in net._clocks:
                self.array_cache[clock.variables["t"]] = None
                self.array_cache[clock.variables["timestep"]] = None
        for name in reply.get("invalid", ()):
            group, varname = checks[name]
            _group_logger.warn(
                f"{group.name}'s variable '{varname}' has NaN, very large values, or encountered an "
                "error in numerical integration. This is usually a sign that an unstable or invalid "
                "integration method was chosen.",
                name_suffix="invalid_values", once=True)

    def _live_sync(self, stop_requested=None, on_message=None, check=()):
        """Brings the live session up to the script: writes the export (the entries of
        Brisk's queue since the last sync, new static arrays) and lets the session run it."""
        from .session import Session

        quick = self._live_quick_entries()
        if quick is not None:
            # nothing new but runs and values for what the session has: no export
            return self._live_quick_sync(quick, stop_requested, on_message, check)
        if self.project_dir is None:
            directory = (self.build_options or {}).get("directory")
            if directory is None:
                directory = tempfile.mkdtemp(prefix="brian_brisk_")
            self.project_dir = os.path.abspath(directory)
        directory = self.project_dir
        ensure_directory(os.path.join(directory, "static_arrays"))
        # before the first run, the clocks of the code objects so far (cpp_standalone
        # learns them at a run)
        for codeobj in self.code_objects.values():
            try:
                clock = getattr(codeobj.owner, "clock", None)
            except ReferenceError:  # a temporary subgroup, gone
                continue
            if clock is not None:
                self.clocks.add(clock)
        for clock in self.clocks:
            if clock.name == "clock":
                clock._name = "_clock"
        start = time.time()
        rewritten = self._live_write_static_arrays(directory)
        Exporter(self).write(directory, queue_start=self._brisk_synced)
        exported = frozenset(self._brisk_code_objects), frozenset(self.arrays.values())
        self._live_remove_stale_files(directory)
        export_time = time.time() - start
        if self._brisk_session is None:
            backend = (self.build_options or {}).get("backend") or self.backend
            with_output = (self.build_options or {}).get("with_output", True)
            self._brisk_session = Session(backend, live_output=with_output, env=self._brisk_env())
        # what the session gets counts as run, also when it fails: the error goes to
        # the script (as Brian's runtime raises it) and the next call goes on from there
        queue = self._brisk_entries()
        sent = self._brisk_synced
        self._brisk_synced = len(queue)
        try:
            reply = self._brisk_session.sync(self._export_dir(directory), stop_requested, on_message,
                                             reload=rewritten, check=check)
        finally:
            self._live_forget_static_arrays(sent, self._brisk_synced)
        self._brisk_session_code_objects, self._brisk_session_arrays = exported
        return self._live_reply(reply, export_time)

    def _live_reply(self, reply, export_time):
        if "backend" not in reply:
            return reply  # values set inside a network_operation
        self.backend_used = reply["backend"]
        # (`exported`: whether the sync wrote an export, or the session ran what it had)
        self._keep_timings(dict(reply.get("timings") or {}, export=export_time or 0.0,
                                exported=export_time is not None, rebuilt=reply.get("rebuilt")))
        if reply.get("profile") is not None:
            self._brisk_profile = reply["profile"]
        return reply

    def _live_quick_entries(self):
        """The entries of Brisk's queue since the last sync as the export writes them, and the
        static arrays they set values from, if they are what the session can do without
        an export (`repeat.py`'s repeated runs, their code objects' before- and after-run
        code, values set in arrays the session has, as a run sets its clocks' time, and
        seeds); else None."""
        if self._brisk_session is None:
            return None
        pending = self._brisk_entries()[self._brisk_synced:]
        statics = []
        for kind, args in pending:
            if kind == "brisk_run_network":
                if not args.get("repeat"):
                    return None
            elif kind in ("before_run_code_object", "after_run_code_object"):
                name = args[0].name
                if self._brisk_alias.get(name, name) not in self._brisk_session_code_objects:
                    return None
            elif kind in ("set_by_constant", "brisk_set_by_single_value", "set_by_array", "set_array_by_array"):
                if args[0] not in self._brisk_session_arrays:
                    return None
                if kind == "set_by_array":
                    statics.append(args[1])
                elif kind == "set_array_by_array":
                    statics.extend(args[1:3])
            elif kind not in ("seed", "brisk_set_random_state"):
                return None
        if not pending:
            return None
        return Exporter(self).main_queue(self._brisk_synced), statics

    def _live_quick_sync(self, quick, stop_requested, on_message, check):
        """Runs `quick` (`_live_quick_entries`) in the session, with no export: the files
        of the static arrays it sets values from are written for it and removed after."""
        entries, statics = quick
        folder = os.path.join(self.project_dir, "static_arrays")
        declared = {}
        for name in statics:
            arr = self.static_arrays[name]
            arr.tofile(os.path.join(folder, name))
            declared[name] = {"dtype": dtype_name(arr.dtype), "size": int(arr.size)}
        sent = self._brisk_synced
        self._brisk_synced = len(self._brisk_entries())
        try:
            reply = self._brisk_session.run(entries, stop_requested, on_message, check, declared)
        finally:
            self._live_forget_static_arrays(sent, self._brisk_synced)
            for name in statics:
                # (no export lists them: their files go now)
                try:
                    os.remove(os.path.join(folder, name))
                except OSError:
                    pass
        return self._live_reply(reply, None)

    def _live_flush(self):
        """Lets the session (started if need be) run what the script queued since the last sync."""
        if self._brisk_synced < len(self._brisk_entries()) or self._brisk_session is None:
            self._live_sync()

    def _live_forget_static_arrays(self, start, end):
        """The values that the queue's entries `start..end` set from Python, once the
        session ran them, leave memory: a training loop that sets weights from Python
        does not keep every version in memory. For a sweep (`_live_sweep`, which runs
        the script again from its start) each is kept on disk under a name of its own,
        which its entry now names (Brian may give a later value the same name), up to
        BRISK_LIVE_HISTORY_MB (default 256) in all; past that, values are not kept and
        a sweep is refused, naming the first one."""
        queue = self._brisk_entries()
        budget = _history_budget()
        kept = {}
        for index in range(start, end):
            kind, args = queue[index]
            if kind == "set_by_array":
                slots = (1,)
            elif kind == "set_array_by_array":
                slots = (1, 2)
            else:
                continue
            args = list(args)
            for slot in slots:
                name = args[slot]
                if name not in kept:
                    kept[name] = self._live_keep_history(name, args[0], budget)
                args[slot] = kept[name]
            queue[index] = (kind, tuple(args))
        for name in kept:
            self.static_arrays.pop(name, None)
            self._brisk_static_written.pop(name, None)
        # their files go once an export that no longer lists them is written (the last
        # export stays whole for `brisk inspect` and `brisk convert`)
        self._brisk_stale_files |= set(kept)

    def _live_keep_history(self, name, array, budget):
        """Keeps the values of static array `name` (set into `array`) on disk for a
        sweep; returns the name they are kept under (`name` when not kept)."""
        arr = self.static_arrays.get(name)
        if arr is None or self._brisk_history_lost is not None:
            return name
        if self._brisk_history_bytes + arr.nbytes > budget:
            self._brisk_history_lost = next(
                (f"{_owner(var)}.{var.name}" for var, n in self.arrays.items() if n == array), array)
            return name
        kept = f"_brisk_history_{len(self._brisk_history)}"
        folder = os.path.join(self.project_dir, "live_history")
        ensure_directory(folder)
        arr.tofile(os.path.join(folder, kept))
        self._brisk_history[kept] = {"dtype": dtype_name(arr.dtype), "size": int(arr.size)}
        self._brisk_history_bytes += arr.nbytes
        return kept

    def _live_remove_stale_files(self, directory):
        for name in self._brisk_stale_files:
            if name not in self.static_arrays:
                try:
                    os.remove(os.path.join(directory, "static_arrays", name))
                except OSError:
                    pass
        self._brisk_stale_files = set()

    def _live_write_static_arrays(self, directory):
        """Brian's static arrays that the session has not seen yet (as cpp_standalone's
        ``write_static_arrays``, which writes all of them)."""
        from brian2.core.functions import Function

        for name, code_object in self.code_objects.items():
            if name in self._brisk_functions_done:
                continue
            self._brisk_functions_done.add(name)
            for var in code_object.variables.values():
                if isinstance(var, Function):
                    self._insert_func_namespace(var, code_object, self.static_arrays)
        rewritten = []
        for name, arr in self.static_arrays.items():
            if self._brisk_static_written.get(name) is not arr:
                arr.tofile(os.path.join(directory, "static_arrays", name))
                if name in self._brisk_static_written:
                    # new values under an old name (a TimedArray made again): the session
                    # loads them again if its program stays
                    rewritten.append(name)
                self._brisk_static_written[name] = arr
        return rewritten

    def _live_sweep(self, run_args, random_stream, client, with_output):
        """``device.run(run_args=[m0, ..., m(K-1)])`` in a live session: the script so
        far, from its start, as K copies of one sweep (`sweep.py`), each with its
        run_args applied where Brian applies them (before the first run) and copy k
        drawing from random stream k, so copy 0, with run_args that set the values the
        script has there, is the session's own run, bit for bit. It is the script as the session ran it: values set from
        Python between runs are set again as they were (decisions the script made on
        values it read are not made again per copy). The session itself is left as it
        was; ``device.results_dirs`` lists the copies' folders, and
        ``device.load_results(folder)`` reads one into the script's objects until the
        script queues anything more (a value set, a run)."""
        import shutil

        from . import sweep

        if random_stream is not None:
            raise TypeError("random_stream applies to one run: a sweep's copy k draws from stream k")
        self._live_flush()
        if self._brisk_history_lost is not None:
            raise NotImplementedError(
                "a sweep in a live session runs the script again from its start, but values set "
                f"from Python into '{self._brisk_history_lost}' were not kept after they ran (more "
                f"than BRISK_LIVE_HISTORY_MB={_history_budget() / 1e6:g} MB of such values): set "
                "BRISK_LIVE_HISTORY_MB higher, or use set_device('brisk', build_on_run=False) and "
                "device.build(run=False) before device.run(run_args=[...])")
        for kind, args in self._brisk_entries():
            if kind == "brisk_run_network" and any("operation" in o for o in args["objects"]):
                raise NotImplementedError(
                    "a sweep cannot run a network_operation (Python code between the steps) in "
                    f"its copies; the script's network '{args['network']}' has one")
        directory = os.path.join(self.project_dir, "sweep")
        shutil.rmtree(directory, ignore_errors=True)
        statics = os.path.join(directory, "static_arrays")
        ensure_directory(statics)
        for name, arr in self.static_arrays.items():
            arr.tofile(os.path.join(statics, name))
        for name in self._brisk_history:
            kept = os.path.join(self.project_dir, "live_history", name)
            try:
                os.link(kept, os.path.join(statics, name))
            except OSError:  # (a file system without hard links)
                shutil.copyfile(kept, os.path.join(statics, name))
        Exporter(self, history=self._brisk_history).write(directory, whole_live=True)
        self.results_dir = os.path.join(self.project_dir, "results", "")
        args = sweep.prepare(self, directory, run_args)
        backend = (self.build_options or {}).get("backend") or self.backend
        start = time.time()
        if client is not None:
            sweep.run_on_dask(self, directory, client)
        else:
            output = self._call_brisk(["run", self._export_dir(directory), "--backend", backend,
                                       "--timings"] + args, with_output)
            for line in output.splitlines():
                if line.startswith("brisk-timings: "):
                    self._keep_timings(json.loads(line[len("brisk-timings: "):]))
        self.timers["run_binary"] = time.time() - start

    def _live_view(self, folder):
        """``load_results(folder)`` in a live session: reads come from `folder` until the
        script queues anything more."""
        self.results_dir = os.path.join(folder, "")
        self._brisk_view = len(self._brisk_entries())

    def _live_viewing(self):
        """Whether reads come from a results folder (`_live_view`) rather than the session."""
        if self._brisk_view is not None and self._brisk_view != len(self._brisk_entries()):
            self._brisk_view = None
        return self._brisk_view is not None

    def _live_wanted(self):
        """``set_device('brisk', live=False)`` asks for cpp_standalone's one build at the
        first run instead of a live session."""
        return bool((self.build_options or {}).get("live", True))

    def _live(self):
        """Whether values come from a live session (runtime mode), not a results folder."""
        return ((self.build_on_run and self._live_wanted()) or self._brisk_live_run) and not self.has_been_run

    def _live_read(self, var):
        """The current values of `var` from the live session (started if need be)."""
        self._live_flush()
        name = self.get_array_name(var, access_data=False)
        return _shaped(var, np.frombuffer(self._brisk_session.read(name), dtype=var.dtype).copy(),
                       "the session's array")

    def _live_view_read(self, var):
        """The values of `var` in the results folder `_live_view` reads from."""
        path = os.path.join(self.results_dir, self.get_array_filename(var))
        return _shaped(var, np.fromfile(path, dtype=var.dtype), f"the array in {path}")

    def get_value(self, var, access_data=True):
        if self._brisk_handed is not None:
            # a shared variable's string-expression write (`_live_set_scalar`): one array per
            # variable, whose values numpy changes in place
            if var not in self._brisk_handed:
                value = np.array(self._get_value(var, access_data))
                self._brisk_handed[var] = (value, value.copy())
            return self._brisk_handed[var][0]
        return self._get_value(var, access_data)

    def _get_value(self, var, access_data=True):
        # (inside Brian's network_run, before the run is recorded, a read is as in standalone)
        if self.array_cache.get(var, None) is not None or not self._live() or self._brisk_live_run:
            return super().get_value(var, access_data)
        if self._live_viewing():
            return self._live_view_read(var)
        return self._live_read(var)

    def variableview_get_subexpression_with_index_array(self, variableview, item, run_namespace=None):
        if not self._live():
            return super().variableview_get_subexpression_with_index_array(variableview, item, run_namespace)
        from brian2.core.variables import VariableView

        from brian2.devices.device import reset_device, set_device

        # as cpp_standalone after a run: Brian's runtime device evaluates it, here on the
        # values the session holds
        set_device(_live_reader(self))
        try:
            return VariableView.get_subexpression_with_index_array(variableview, item, run_namespace=run_namespace)
        finally:
            reset_device()

    def variableview_set_with_expression(self, variableview, item, code, run_namespace, check_units=True):
        from brian2.core.variables import VariableView

        if variableview.variable.scalar and self._live() and not self._brisk_live_run:
            return self._live_set_scalar(variableview, lambda: VariableView.set_with_expression(
                variableview, item, code, run_namespace, check_units))
        return VariableView.set_with_expression.original_function(
            variableview, item, code, run_namespace, check_units)

    def variableview_set_with_expression_conditional(self, variableview, cond, code, run_namespace,
                                                     check_units=True):
        from brian2.core.variables import VariableView

        if variableview.variable.scalar and self._live() and not self._brisk_live_run:
            return self._live_set_scalar(variableview, lambda: VariableView.set_with_expression_conditional(
                variableview, cond, code, run_namespace, check_units))
        return VariableView.set_with_expression_conditional.original_function(
            variableview, cond, code, run_namespace, check_units)

    def _live_set_scalar(self, variableview, write):
        """A string-expression write of a shared variable (Brian's C++ templates cannot
        write one): numpy computes it on the session's values, as Brian's runtime does, and
        the value is set from Python."""
        from brian2.devices.device import reset_device, set_device

        self._brisk_handed = {}
        set_device(_live_reader(self))
        try:
            write()
        finally:
            reset_device()
            handed, self._brisk_handed = self._brisk_handed, None
        for var, (value, before) in handed.items():
            # (the variable written may be another view's: a pathway's scalar delay)
            if not var.read_only and not np.array_equal(value, before):
                self.fill_with_array(var, value)

    def code_object_class(self, codeobj_class=None, fallback_pref=None):
        if (codeobj_class is None and fallback_pref == "codegen.string_expression_target"
                and self._live() and not self._brisk_live_run):
            return _live_string_code_object()
        return super().code_object_class(codeobj_class, fallback_pref)

    def network_get_profiling_info(self, net):
        if not self._live():
            return super().network_get_profiling_info(net)
        from brian2.units import second

        if self._brisk_profile is None:
            raise ValueError("No profiling info collected (did you run with 'profile=True'?)")
        net._profiling_info = [(name, secs * second) for name, secs in self._brisk_profile]
        return sorted(net._profiling_info, key=lambda item: item[1], reverse=True)

    def get_random_state(self):
        """A live session's random-number state (Brisk's Philox key and stream
        position); `set_random_state` puts it back."""
        if not self._live():
            return super().get_random_state()
        self._live_flush()
        return {"brisk_random_state": self._brisk_session.random_state()}

    def set_random_state(self, state):
        if not self._live():
            return super().set_random_state(state)
        if not isinstance(state, dict) or "brisk_random_state" not in state:
            raise TypeError("set_random_state() takes a state from the brisk device's get_random_state()")
        self._brisk_append("brisk_set_random_state", dict(state["brisk_random_state"]))

    def synapses_connect(self, synapses, condition=None, i=None, j=None, p=1.0, n=1, skip_if_invalid=False,
                         namespace=None, level=0):
        """Brian's ``Synapses.connect``. In a live session the synapses are made at the
        call (Brian reads their number after it): an error there (indices out of range)
        is Brian's runtime's `BrianObjectException` naming the Synapses, at the call."""
        from brian2.core.base import BrianObjectException
        from brian2.synapses.synapses import Synapses

        from .errors import BriskError

        try:
            # (one frame more than Brian's own call: the namespace is the caller's)
            Synapses.connect.original_function(synapses, condition, i, j, p, n, skip_if_invalid, namespace,
                                               level=level + 1)
        except (BriskError, IndexError) as e:
            # (Brian's connect() turns an IndexError into its own; the session's is the cause)
            cause = e if isinstance(e, BriskError) else e.__cause__
            if not isinstance(cause, BriskError):
                raise
            raise BrianObjectException("An error occurred when creating synapses with connect().",
                                       synapses) from cause

    def reinit(self):
        if self._brisk_session is not None:
            self._brisk_session.close()
        super().reinit()


#: Brian's logger of the warning below (tests catch it by name)
_group_logger = get_logger("brian2.groups.group")


def _invalid_value_checks(device, net):
    """What Brian's runtime checks after a run of `net` (``Group._check_for_invalid_states``):
    the arrays of its groups' differential-equation variables, by array name ->
    (group, variable)."""
    checks = {}
    for obj in _get_all_objects(net.objects):
        equations = getattr(obj, "equations", None)
        if isinstance(obj, Group) and isinstance(equations, Equations):
            for varname in equations.diff_eq_names:
                checks[device.get_array_name(obj.variables[varname], access_data=False)] = (obj, varname)
    return checks


#: templates of code objects that only read values: in a live session numpy runs them
#: on the session's values (cpp_standalone has no C++ template for some of them)
_READ_TEMPLATES = ("group_get_indices", "group_variable_get", "group_variable_get_conditional")


_LIVE_READERS = {}


def _live_reader(device):
    """Brian's runtime device, reading the arrays it does not hold from `device`'s
    live session (cpp_standalone evaluates subexpressions with the runtime device on
    its results)."""
    reader = _LIVE_READERS.get(id(device))
    if reader is None:
        from brian2.devices.device import RuntimeDevice

        class LiveReader(RuntimeDevice):
            def code_object_class(self, codeobj_class=None, fallback_pref=None):
                # numpy, whatever the prefs' targets: its code reads arrays through
                # get_value (Cython's would look for them in this device's own arrays)
                from brian2.codegen.runtime.numpy_rt import NumpyCodeObject

                return NumpyCodeObject

            def get_value(self, var, access_data=True):
                if var in self.arrays:
                    return super().get_value(var, access_data)
                return device.get_value(var, access_data)

        reader = _LIVE_READERS[id(device)] = LiveReader()
    return reader


class _LiveTemplater:
    """cpp_standalone's templates, and numpy's for the templates of reads."""

    def __init__(self, cpp, numpy):
        self._cpp, self._numpy = cpp, numpy

    def __getattr__(self, item):
        return getattr(self._numpy if item in _READ_TEMPLATES else self._cpp, item)


_LIVE_STRING_CODE_OBJECT = None


def _live_string_code_object():
    """The code object class Brian asks for string expressions in a live session: its
    templater has numpy's templates of reads (which cpp_standalone lacks: `G.i['v > 0']`);
    `BriskDevice.code_object` makes the real code objects."""
    global _LIVE_STRING_CODE_OBJECT
    if _LIVE_STRING_CODE_OBJECT is None:
        from brian2.codegen.runtime.numpy_rt import NumpyCodeObject
        from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject

        _LIVE_STRING_CODE_OBJECT = type(
            "BriskLiveStringCodeObject",
            (CPPStandaloneCodeObject,),
            {"templater": _LiveTemplater(CPPStandaloneCodeObject.templater, NumpyCodeObject.templater),
             "_brisk_live_string": True},
        )
    return _LIVE_STRING_CODE_OBJECT
