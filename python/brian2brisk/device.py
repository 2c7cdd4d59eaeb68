"""The ``brisk`` Brian device: cpp_standalone's Python side, Brisk's code generation.

`BriskDevice` keeps everything that gives Brian's Python-side semantics
(array names, the array cache, the main queue, static arrays, ``get_value``)
from `CPPStandaloneDevice`. It records every code object's abstract code,
writes an export (``export.py``) on build and runs the ``brisk`` binary, which
writes the results where the inherited ``get_value`` reads them.

Brian's ``main_queue`` stays as Brian makes it. Brisk records its own queue
(`BriskDevice._brisk_entries`): Brian's entries, taken in order, with those the
device records in its own terms put in their place (a run as its code objects
instead of C++ lines, a value set from Python as the value instead of a C++
literal, the place of ``run_args``), and the device's own entries (stored and
restored states, random states, a live session's repeated runs) where they
were made. The export and the live session read that queue.
"""

import json
import os
import shutil
import tempfile
import time

import numpy as np

from brian2.core.namespace import get_local_namespace
from brian2.core.network import Network, _get_all_objects
from brian2.core.operations import NetworkOperation
from brian2.core.variables import ArrayVariable
from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
from brian2.groups.group import Group
from brian2.input.spikegeneratorgroup import SpikeGeneratorGroup
from brian2.synapses.synapses import SynapticPathway
from brian2.utils.filetools import ensure_directory
from brian2.utils.logger import get_logger

from .binary import run_brisk
from .errors import BriskError
from .export import Exporter
from .live import _READ_TEMPLATES, LiveSessionMixin
from .repeat import RepeatRecord, external_candidates, repeat

logger = get_logger(__name__)

__all__ = ["BriskDevice", "brisk_device"]


class BriskDevice(LiveSessionMixin, CPPStandaloneDevice):
    """Brian device that generates CUDA (on an NVIDIA GPU) or C++ through Brisk."""

    def __init__(self):
        super().__init__()
        #: code object name -> its export entry (docs/export-format.md), made when
        #: the code object is created; the schedule is added at build time
        self._brisk_code_objects = {}
        #: code object name -> {clock, when, order, object}: where it runs in a network
        self._brisk_schedule = {}
        #: Brisk's queue (read it with `_brisk_entries`): Brian's main-queue entries, or
        #: what the device recorded in their place, and the device's own entries, in order
        self._brisk_queue = []
        #: how many entries of Brian's main_queue `_brisk_queue` has taken
        self._brisk_taken = 0
        #: index in Brian's main_queue -> the entry Brisk's queue takes in its place
        self._brisk_replaced = {}
        #: one entry per ``run_network`` in the main queue: report and profile options
        #: the backend the last run used ('cuda' or 'cpu'), as ``brisk`` reported it
        self.backend_used = None
        #: the backend to ask for: 'auto', 'cuda' or 'cpu'
        self.backend = os.environ.get("BRISK_BACKEND", "auto")
        #: threads of the C++ backend (None: ``$BRISK_THREADS``, else every core)
        self.threads = None
        #: the results folders of the last `run`: one, or a sweep's, in copy order
        self.results_dirs = []
        #: where runs write (``results_dir`` as the build or ``results_directory`` set it;
        #: a sweep's folders are named after it, and a later run writes here again)
        self._results_home = None
        #: seconds spent in the stages of the last build
        self.brisk_timings = {}
        #: (network name, store name) -> the Python side of a stored state
        self._brisk_stored = {}
        #: the live session (Brian's runtime mode, ``build_on_run=True``): see `session.py`
        self._brisk_session = None
        #: live sessions: a code object name -> the name of an exported code object with
        #: the same content (Brian makes new code objects for every run)
        self._brisk_alias = {}
        #: live sessions: exported code objects by content
        self._brisk_by_content = {}
        #: live sessions: static arrays already written (name -> the array written)
        self._brisk_static_written = {}
        #: live sessions: files of static arrays dropped after a sync, deleted at the next
        self._brisk_stale_files = set()
        #: live sessions: the values set from Python arrays that ran, kept on disk under
        #: names of their own for a sweep that runs the script again from its start
        #: (name -> dtype and size; `LiveSessionMixin._live_keep_history`), their bytes,
        #: and the first value not kept (past BRISK_LIVE_HISTORY_MB), if any
        self._brisk_history = {}
        self._brisk_history_bytes = 0
        self._brisk_history_lost = None
        #: live sessions, after ``load_results(folder)``: the length of Brisk's queue then
        #: (reads come from the folder until the script queues anything more)
        self._brisk_view = None
        #: live sessions: the entries of Brisk's queue (`_brisk_entries`) the session has run
        self._brisk_synced = 0
        #: inside the ``run()`` of a live session (Brian's network_run sees build_on_run=False)
        self._brisk_live_run = False
        #: live sessions: seconds per code object of the profiled runs
        self._brisk_profile = None
        #: live sessions: the network_operations of the run being recorded, by number
        self._brisk_operations = []
        #: live sessions, during a shared variable's string-expression write: the arrays read
        self._brisk_handed = None
        #: live sessions: network name -> what its last prepared run depended on (`repeat.py`)
        self._brisk_repeats = {}
        #: live sessions: code object name -> its variables that may come from a namespace
        self._brisk_externals = {}
        #: live sessions: the code objects the session has (those of the last full export)
        self._brisk_session_code_objects = frozenset()
        #: live sessions: the arrays the session has (those of the last full export)
        self._brisk_session_arrays = frozenset()
        #: live sessions: code objects whose functions' static arrays were written
        self._brisk_functions_done = set()

    # -- Brisk's queue --------------------------------------------------------------
    def _brisk_entries(self):
        """Brisk's queue, after taking in the entries Brian queued in ``main_queue`` since
        the last call (each one, or the entry the device recorded in its place)."""
        queue = self.main_queue
        if self._brisk_taken > len(queue):
            raise RuntimeError("Brian's main_queue lost entries that Brisk's queue had taken")
        replaced = self._brisk_replaced
        for k in range(self._brisk_taken, len(queue)):
            self._brisk_queue.append(replaced.pop(k) if k in replaced else queue[k])
        self._brisk_taken = len(queue)
        return self._brisk_queue

    def _brisk_append(self, kind, args):
        """Queues one of the device's own entries, after everything Brian queued so far."""
        self._brisk_entries().append((kind, args))

    def _brisk_replace(self, index, kind, args):
        """Records (`kind`, `args`) in Brisk's queue in place of Brian's entry at `index`
        of ``main_queue`` (which stays as it is)."""
        if index < self._brisk_taken:
            raise RuntimeError(
                f"Brisk's queue took Brian's main-queue entry {self.main_queue[index][0]!r} "
                "before the device recorded it")
        self._brisk_replaced[index] = (kind, args)

    # -- recording --------------------------------------------------------------
    def code_object(
        self,
        owner,
        name,
        abstract_code,
        variables,
        template_name,
        variable_indices,
        codeobj_class=None,
        template_kwds=None,
        override_conditional_write=None,
        compiler_kwds=None,
    ):
        if codeobj_class is not None and getattr(codeobj_class, "_brisk_live_string", False):
            codeobj_class = None  # (C++ for the session, but for the reads below)
        if template_name in _READ_TEMPLATES and self._live() and not self._brisk_live_run:
            # a read in a live session (`G.i['v > 0']`, a subexpression): numpy evaluates it
            # on the values the session holds, as cpp_standalone does on its results
            from brian2.codegen.runtime.numpy_rt import NumpyCodeObject
            from brian2.devices.device import Device

            return Device.code_object(
                self, owner, name, abstract_code, variables, template_name, variable_indices,
                codeobj_class=NumpyCodeObject, template_kwds=template_kwds,
                override_conditional_write=override_conditional_write, compiler_kwds=compiler_kwds)
        # The C++ generator adds entries (_rand, ...) to ``variables``: keep
        # the dictionary as Brian built it.
        original_variables = dict(variables)
        original_indices = dict(variable_indices)
        kwds = dict(template_kwds) if template_kwds is not None else {}
        codeobj = super().code_object(
            owner,
            name,
            abstract_code,
            variables,
            template_name,
            variable_indices,
            codeobj_class=codeobj_class,
            template_kwds=template_kwds,
            override_conditional_write=override_conditional_write,
            compiler_kwds=compiler_kwds,
        )
        if isinstance(abstract_code, str):
            abstract_code = {None: abstract_code}
        # Everything the export needs from the owner is taken now: a temporary
        # subgroup (``G[5:].v = ...``) is gone by the time the export is written,
        # and keeping Brian's variables would keep lambdas (the device must pickle).
        record = {
            "codeobj": codeobj,
            "owner": owner,
            "abstract_code": dict(abstract_code),
            "variables": original_variables,
            "variable_indices": original_indices,
            "template_name": template_name,
            "template": getattr(codeobj.templater, template_name),
            "template_kwds": kwds,
            "override_conditional_write": override_conditional_write,
        }
        entry = Exporter(self).code_object(record)
        if self._live():
            self._brisk_externals[codeobj.name] = external_candidates(original_variables)
            # a live session: a code object that is an earlier one under a new name
            # (Brian makes new ones for every run) runs as that one, so that the
            # session's program stays the same and is not compiled again
            content = {k: v for k, v in entry.items() if k != "name"}
            key = json.dumps(content, sort_keys=True, default=repr)
            earlier = self._brisk_by_content.get(key)
            if earlier is not None and earlier != codeobj.name:
                self._brisk_alias[codeobj.name] = earlier
                return codeobj
            self._brisk_by_content[key] = codeobj.name
        self._brisk_code_objects[codeobj.name] = entry
        return codeobj

    def variableview_get_with_expression(self, variableview, code, run_namespace=None):
        """``S.w['i > 5']`` after the run, evaluated with numpy on the results
        (cpp_standalone raises NotImplementedError here)."""
        if self._live() and not self._brisk_live_run:
            # Brian's own (numpy runs its read templates on the session's values: `code_object`)
            from brian2.core.variables import VariableView

            return VariableView.get_with_expression.original_function(variableview, code, run_namespace)
        if not self.has_been_run:
            raise NotImplementedError(
                "Cannot retrieve the values of state variables with string "
                "expressions before the simulation has been run."
            )
        from .indexing import get_with_expression

        return get_with_expression(variableview, code, run_namespace)

    def network_run(
        self,
        net,
        duration,
        report=None,
        report_period=10 * 1.0,
        namespace=None,
        profile=None,
        level=0,
        **kwds,
    ):
        from brian2.units import second

        if not hasattr(report_period, "dim"):
            report_period = report_period * second
        live = self._live()
        python_report = None
        if live and report is not None and callable(report):
            # a live session calls it (cpp_standalone takes report as C++ code)
            python_report, report = report, None
        for obj in _get_all_objects(net.objects):
            if isinstance(obj, NetworkOperation) and not live:
                # cpp_standalone silently skips them; a run without them is not the user's model
                raise NotImplementedError(
                    f"Brisk cannot run network_operation '{obj.name}': it is Python code called "
                    "during the run, and standalone simulations run without Python "
                    "(cpp_standalone silently skips it). Express it as run_regularly code, or "
                    "split the run into several run() calls."
                )
        if profile is None:
            profile = (self.build_options or {}).get("profile", False)
        if live and not kwds:
            # (the namespace cpp_standalone's network_run would take)
            if namespace is None:
                namespace = get_local_namespace(level=level + 2)
            if repeat(self, net, duration, namespace, profile, "python" if python_report else report,
                      report_period):
                self._live_run(net, python_report)
                return
        # MagicNetwork.after_run forgets its objects: hold them over the call. These are
        # the objects Brian's network_run schedules (its `all_objects`, taken before
        # before_run); their code objects exist after it.
        objects = list(net.sorted_objects)
        t_start = float(net.t_)
        applied_before = self.run_args_applied
        # Brian builds at the end of network_run when build_on_run: the run is recorded
        # first (below), then built
        build_on_run, self.build_on_run = self.build_on_run, False
        self._brisk_live_run = live
        try:
            super().network_run(
                net,
                duration,
                report=report,
                report_period=report_period,
                namespace=namespace,
                profile=profile,
                level=level + 1,
                **kwds,
            )
        finally:
            self.build_on_run = build_on_run
            self._brisk_live_run = False
        if python_report is not None:
            report = "python"
        # a live session starts the run at the network's time as Python has it (Brian's
        # magic network starts at 0 again when all its objects are new)
        entry = self._record_run(net, objects, duration, report, report_period, profile, applied_before,
                                 t_start if live else None)
        if live:
            self._brisk_repeats[net.name] = (
                None if kwds else RepeatRecord.of_run(self, net, objects, namespace, profile, entry))
            self._live_run(net, python_report)
            return
        if build_on_run:
            if self.has_been_run:
                raise RuntimeError(
                    "The network has already been built and run before. Use set_device with "
                    "build_on_run=False and an explicit device.build call to use multiple run "
                    "statements with this device."
                )
            self.build(direct_call=False, **self.build_options)

    def _record_run(self, net, objects, duration, report, report_period, profile, applied_before,
                    t_start=None):
        """Records, in Brisk's queue in place of the C++ lines Brian queued for a run
        (``run_network``), the run itself: the (clock, code object) pairs in Brian's
        order, the duration, the report, whether run_args apply before it, and
        (`t_start`) where it starts. Returns the entry."""
        # Brian's entry, followed by the after_run code objects of net.after_run()
        queue = self.main_queue
        at = next((k for k in range(len(queue) - 1, self._brisk_taken - 1, -1) if queue[k][0] == "run_network"),
                  None)
        if at is None:
            raise RuntimeError("Brisk expected Brian's run_network entry in the main queue")
        inserted = self.code_lines["before_network_run"] + self.code_lines["after_network_run"]
        if inserted:
            raise NotImplementedError(
                f"Brisk cannot run C++ code inserted around a network run: {inserted[0]!r}")
        if report is not None and report not in ("text", "stdout", "stderr", "python"):
            raise NotImplementedError(
                "Brisk supports report='text', 'stdout' or 'stderr', not custom "
                f"C++ report code (network '{net.name}').")
        scheduled, used = [], set()
        self._brisk_operations = []
        for obj in objects:
            if obj.active and isinstance(obj, NetworkOperation):
                # a live session calls it here (Python, between two code objects)
                scheduled.append({"clock": obj.clock.name, "code_object": None,
                                  "operation": len(self._brisk_operations)})
                self._brisk_operations.append(obj)
                used.add(obj.clock)
            elif obj.active:
                for codeobj in obj._code_objects:
                    name = self._brisk_alias.get(codeobj.name, codeobj.name)
                    scheduled.append({"clock": obj.clock.name, "code_object": name})
                    used.add(obj.clock)
        # clocks no code object uses still advance (Brian adds them without code)
        for clock in sorted(net._clocks - used, key=lambda c: c.name):
            scheduled.append({"clock": clock.name, "code_object": None})
        entry = {
            "network": net.name,
            "duration": float(duration),
            "report": report,
            "report_period": float(report_period),
            "objects": scheduled,
            "profile": bool(profile),
            **({"schedule": [str(s) for s in net.schedule]}
               if list(net.schedule) != ["start", "groups", "thresholds", "synapses", "resets", "end"]
               else {}),
            "apply_run_args": not applied_before and self.run_args_applied,
            **({"t_start": t_start} if t_start is not None else {}),
        }
        self._brisk_replace(at, "brisk_run_network", entry)
        for obj in objects:
            for codeobj in getattr(obj, "_code_objects", ()):
                if codeobj is None:
                    continue
                self._brisk_schedule[self._brisk_alias.get(codeobj.name, codeobj.name)] = {
                    "clock": obj.clock.name,
                    "when": obj.when,
                    # Brian sorts by (when, order, name); an order that is not a number
                    # (Dendrify passes order='before_groups') can only be alone in its slot
                    "order": int(obj.order) if isinstance(obj.order, (int, np.integer)) else None,
                    "object": obj.name,
                }
        return entry

    # -- values set from Python, recorded as values (not as C++ literals) ---------
    def fill_with_array(self, var, arr):
        start = len(self.main_queue)
        super().fill_with_array(var, arr)
        self._record_single_values(start, arr)

    def variableview_set_with_index_array(self, variableview, item, value, check_units):
        if variableview.variable.scalar and not (isinstance(item, slice) and item == slice(None)):
            # as Brian's runtime
            raise IndexError(f"Illegal index for variable '{variableview.name}', it is a scalar variable.")
        if check_units:
            # as Brian's runtime (cpp_standalone sets values of the wrong unit silently)
            from brian2.units.fundamentalunits import fail_for_dimension_mismatch

            fail_for_dimension_mismatch(
                variableview.variable.dim, value, f"Incorrect unit for setting variable {variableview.name}")
        start = len(self.main_queue)
        super().variableview_set_with_index_array(variableview, item, value, check_units)
        self._record_single_values(start, value)

    def apply_run_args(self):
        applied = self.run_args_applied
        super().apply_run_args()
        if not applied and self.run_args_applied:
            # Brian queued the C++ call set_from_command_line(args)
            kind, _code = self.main_queue[-1]
            if kind == "insert_code":
                self._brisk_replace(len(self.main_queue) - 1, "brisk_apply_run_args", None)

    def _record_single_values(self, start, values):
        """Brian queues a single value as a C++ literal (``set_by_single_value``):
        Brisk's queue takes the value itself for the entries added since `start`."""
        values = np.asarray(values)
        for k in range(start, len(self.main_queue)):
            kind, args = self.main_queue[k]
            if kind == "set_by_single_value":
                array_name, item, _literal = args
                self._brisk_replace(
                    k, "brisk_set_by_single_value", (array_name, int(item), values.flat[0].item()))

    # -- store / restore (Brian's standalone devices refuse both) ---------------
    def network_store(self, net, name="default", filename=None):
        """``store()``: the state is kept inside the simulation, under
        (network, ``name``), by a ``store_state`` entry in Brisk's queue. In a
        live session, ``filename`` also writes it to a file (a pickle, as
        Brian's runtime writes, of the session's state), restorable in another
        process."""
        if filename is not None and not self._live():
            raise NotImplementedError(
                f"Brisk keeps stored states inside the simulation: store(filename=...) "
                f"for network '{net.name}' is not supported; use store(name=...) and "
                f"restore(name=...) within one script."
            )
        objects = _get_all_objects(net.objects)
        clocks = {obj.clock for obj in objects}
        owners = sorted(
            (obj for obj in objects | clocks if hasattr(obj, "_full_state")),
            key=lambda obj: obj.name,
        )
        arrays = []
        for owner in owners:
            for var in owner.variables.values():
                # what Brian's VariableOwner._full_state takes
                if isinstance(var, ArrayVariable) and var.owner is not None and var.owner.name == owner.name:
                    arrays.append(var)
        pathways = sorted(obj.name for obj in objects if isinstance(obj, SynapticPathway))
        spikegenerators = {
            obj.name: (obj._previous_dt, obj._spikes_changed)
            for obj in objects
            if isinstance(obj, SpikeGeneratorGroup)
        }
        self._brisk_stored[(net.name, name)] = {
            "t": net.t_,
            "objects": {obj.name for obj in owners if obj not in clocks},
            "spikegenerators": spikegenerators,
        }
        self._brisk_append(
            "brisk_store_state", {"network": net.name, "name": name, "arrays": arrays, "pathways": pathways})
        if filename is not None:
            import pickle

            self._live_sync()
            state = {
                "brisk_stored_state": self._brisk_session.save_state(net.name, name),
                "brisk_python": self._brisk_stored[(net.name, name)],
            }
            # one file can hold several states, as in Brian's runtime
            stored = {}
            if os.path.exists(filename):
                with open(filename, "rb") as f:
                    stored = pickle.load(f)
            stored[name] = state
            with open(filename, "wb") as f:
                pickle.dump(stored, f, protocol=pickle.HIGHEST_PROTOCOL)

    def network_restore(self, net, name="default", filename=None, restore_random_state=False):
        """``restore()``: puts back the state kept by ``store(name)`` (in a live
        session also from a file written by ``store(name, filename)``)."""
        if filename is not None and self._live():
            import pickle

            with open(filename, "rb") as f:
                state = pickle.load(f)[name]
            if not isinstance(state, dict) or "brisk_stored_state" not in state:
                raise TypeError(
                    f"{filename} holds a state stored by another Brian device; Brisk restores the "
                    "states that store(filename=...) wrote under the brisk device")
            self._live_flush()
            self._brisk_session.load_state(net.name, name, state["brisk_stored_state"])
            self._brisk_stored[(net.name, name)] = state["brisk_python"]
            filename = None
        if filename is not None:
            raise NotImplementedError(
                f"Brisk keeps stored states inside the simulation: restore(filename=...) "
                f"for network '{net.name}' is not supported; use store(name=...) and "
                f"restore(name=...) within one script."
            )
        stored = self._brisk_stored.get((net.name, name))
        if stored is None:
            raise KeyError(name)
        objects = _get_all_objects(net.objects)
        with_state = {obj.name for obj in objects if hasattr(obj, "_restore_from_full_state")}
        missing = with_state - stored["objects"]
        if missing:
            raise KeyError(
                f"Stored state does not have a stored state for '{sorted(missing)[0]}'. Note "
                "that the names of all objects have to be identical to the names when they "
                "were stored."
            )
        unused = stored["objects"] - with_state
        if unused:
            raise KeyError(
                "The stored state contains the state of the following objects which were "
                f"not present in the network: {', '.join(sorted(unused))}. Note that the "
                "names of all objects have to be identical to the names when they were stored."
            )
        net.t_ = stored["t"]
        for obj in objects:
            if obj.name in stored["spikegenerators"]:
                obj._previous_dt, obj._spikes_changed = stored["spikegenerators"][obj.name]
        self._brisk_append(
            "brisk_restore_state", {"network": net.name, "name": name, "random_state": bool(restore_random_state)})

    # -- building -----------------------------------------------------------------
    def build(
        self,
        directory="output",
        results_directory="results",
        compile=True,
        run=True,
        debug=False,
        clean=False,
        with_output=True,
        additional_source_files=None,
        run_args=None,
        direct_call=True,
        backend=None,
        live=None,
        threads=None,
        **kwds,
    ):
        """Write the export, then (``compile``/``run``) let ``brisk`` build and run it.

        The options are cpp_standalone's; ``backend`` ('auto', 'cuda' or 'cpu')
        chooses Brisk's target and defaults to ``$BRISK_BACKEND`` or 'auto';
        ``threads`` is the number of threads of the C++ backend (default
        ``$BRISK_THREADS``, else every core; results do not depend on it).
        """
        if self.build_on_run and direct_call:
            raise RuntimeError(
                "You used set_device with build_on_run=True "
                "(the default option), which will automatically "
                "build the simulation at the first encountered "
                "run call - do not call device.build manually "
                "in this case. If you want to call it manually, "
                "e.g. because you have multiple run calls, use "
                "set_device with build_on_run=False."
            )
        if self.has_been_run:
            raise RuntimeError(
                "The network has already been built and run "
                "before. To build several simulations in "
                'the same script, call "device.reinit()" '
                'and "device.activate()". Note that you '
                "will have to set build options (e.g. the "
                "directory) and defaultclock.dt again."
            )
        renames = {
            "project_dir": "directory",
            "compile_project": "compile",
            "run_project": "run",
        }
        if kwds:
            msg = ""
            for kwd in kwds:
                if kwd in renames:
                    msg += f"Keyword argument '{kwd}' has been renamed to '{renames[kwd]}'. "
                else:
                    msg += f"Unknown keyword argument '{kwd}'. "
            raise TypeError(msg)
        if additional_source_files:
            raise NotImplementedError(
                "Brisk does not compile additional C++ source files "
                "(device.build(additional_source_files=...))."
            )
        if backend is not None:
            self.backend = backend
        if threads is not None:
            self.threads = _threads(threads)
        if directory is None:
            directory = tempfile.mkdtemp(prefix="brian_brisk_")
        self.project_dir = directory
        ensure_directory(directory)
        if os.path.isabs(results_directory):
            raise TypeError(
                "The 'results_directory' argument needs to be a relative path but was "
                f"'{results_directory}'."
            )
        self.results_dir = os.path.join(
            os.path.abspath(os.path.join(directory, results_directory)), ""
        )
        self._results_home = self.results_dir
        # one build at a time per project folder (another one would overwrite this
        # one's export while its binary reads it)
        with _project_lock(directory):
            if clean:
                for sub in ("export", "static_arrays", "generated"):
                    shutil.rmtree(os.path.join(directory, sub), ignore_errors=True)
            ensure_directory(os.path.join(directory, "static_arrays"))

            start = time.time()
            self.write_static_arrays(directory)
            Exporter(self).write(directory)
            self.brisk_timings["export"] = time.time() - start

            if compile:
                if run:
                    self.run(directory, results_directory, with_output, run_args)
                else:
                    self._call_brisk(
                        ["run", self._export_dir(directory), "--backend", self.backend,
                         "--compile-only"],
                        with_output,
                    )

    def _brisk_run_args(self, directory, run_args):
        """Brian's run_args as ``group.variable=value`` strings (values of
        several elements go to files under ``static_arrays/``, as with
        cpp_standalone); the cached values of those variables are dropped."""
        from collections.abc import Mapping

        from brian2.core.variables import VariableView
        from brian2.input.timedarray import TimedArray

        if not run_args:
            return []
        if isinstance(run_args, Mapping):
            items = []
            for key, value in run_args.items():
                if isinstance(key, VariableView):
                    name, string_value, value_name, value_ar = self._prepare_variableview_run_arg(key, value)
                elif isinstance(key, TimedArray):
                    name, string_value, value_name, value_ar = self._prepare_timed_array_run_arg(key, value)
                else:
                    raise TypeError(
                        "The keys for 'run_args' need to be 'VariableView' objects, i.e. "
                        "attributes of groups such as 'neurongroup.v', or a 'TimedArray'. "
                        f"Key has type '{type(key)}' instead."
                    )
                if value_name:
                    fname = os.path.join(directory, "static_arrays", value_name)
                    os.makedirs(os.path.dirname(fname), exist_ok=True)
                    value_ar.tofile(fname)
                items.append(f"{name}={string_value}")
            run_args = items
        for arg in run_args:
            name = arg.split("=")[0]
            for var in list(self.array_cache):
                try:
                    if hasattr(var.owner, "name") and f"{var.owner.name}.{var.name}" == name:
                        self.array_cache[var] = None
                except ReferenceError:
                    pass
        return list(run_args)

    def _export_dir(self, directory):
        return os.path.join(os.path.abspath(directory), "export")

    def run(self, directory=None, results_directory=None, with_output=True, run_args=None,
            random_stream=None, client=None):
        """Runs the built model (cpp_standalone's `run`). `run_args` as Brian's;
        a list of such mappings runs each as one copy of a sweep, in one
        `brisk run` (see `brian2brisk.sweep`), whose results folders
        `results_dirs` lists. `random_stream=k` draws from random stream k:
        copy k's numbers. With `client` (a ``dask.distributed.Client``) a
        sweep's copies run in batches on its workers."""
        from . import sweep

        if sweep.is_sweep(run_args) and self._live():
            # a live session (Brian's runtime mode): the script so far, from its start
            if self.project_dir is None:
                raise RuntimeError("a sweep in a live session needs the script to have run first: call run()")
            return self._live_sweep(run_args, random_stream, client, with_output)
        if directory is None:
            directory = self.project_dir
        if results_directory is not None:
            if os.path.isabs(results_directory):
                raise TypeError(
                    "The 'results_directory' argument needs to be a relative path but"
                    f" was '{results_directory}'."
                )
            self.results_dir = os.path.join(
                os.path.abspath(os.path.join(directory, results_directory)), ""
            )
            self._results_home = self.results_dir
        if self._results_home is None:
            self._results_home = self.results_dir
        # (after a sweep or load_results, results_dir names the folder objects read)
        self.results_dir = self._results_home
        if sweep.is_sweep(run_args):
            if random_stream is not None:
                raise TypeError("random_stream applies to one run: a sweep's copy k draws from stream k")
            args = sweep.prepare(self, directory, run_args)
            if client is not None:
                start = time.time()
                sweep.run_on_dask(self, directory, client)
                self.timers["run_binary"] = time.time() - start
                self._results_ready()
                return
        else:
            if client is not None:
                raise TypeError("client= runs a sweep: pass run_args as a list of mappings")
            args = ["--results", self.results_dir]
            for arg in self._brisk_run_args(directory, run_args):
                args += ["--run-arg", arg]
            if random_stream is not None:
                if int(random_stream) != random_stream or random_stream < 0:
                    raise ValueError(f"random_stream must be a whole number from 0, not {random_stream!r}")
                args += ["--random-stream", str(int(random_stream))]
            self.results_dirs = [self.results_dir]
        for clock in self.clocks:
            self.array_cache[clock.variables["t"]] = None
        args = ["run", self._export_dir(directory), "--backend", self.backend, "--timings"] + args
        start = time.time()
        Network._globally_running = True
        try:
            output = self._call_brisk(args, with_output)
        finally:
            Network._globally_running = False
        self.timers["run_binary"] = time.time() - start
        for line in output.splitlines():
            if line.startswith("brisk-timings: "):
                # (the binary's machine-readable line: the backend it ran, each stage's seconds)
                timings = json.loads(line[len("brisk-timings: "):])
                self.backend_used = timings.pop("backend", None)
                self._keep_timings(timings)
        self._results_ready()

    #: the stages of a build (the rest of a run's timings are the run's own)
    _BUILD_STAGES = ("export", "prepare", "generate", "compile", "compile_cached")

    def _keep_timings(self, timings):
        """`brisk_timings`: the latest values at the top level (as before), the first
        build's stages under ``build`` and every run's timings, in order, under ``runs``
        (brian2modelfitting's rounds re-run a build: its timings stay)."""
        timings = dict(timings)
        if "export" in self.brisk_timings and "export" not in timings:
            timings["export"] = self.brisk_timings["export"]
        self.brisk_timings.update(timings)
        self.brisk_timings.setdefault(
            "build", {k: timings[k] for k in self._BUILD_STAGES if k in timings})
        self.brisk_timings.setdefault("runs", []).append(timings)

    def _results_ready(self):
        """After a run (or `load_results`): values are read from ``results_dir``."""
        self.has_been_run = True
        run_info = os.path.join(self.results_dir, "last_run_info.txt")
        if os.path.isfile(run_info):
            with open(run_info) as f:
                run_time, completed_fraction = f.read().split()
            self._last_run_time = float(run_time)
            self._last_run_completed_fraction = float(completed_fraction)
        self._check_states()

    def load_results(self, results_directory):
        """Reads the results of a run made elsewhere (``brisk run BUNDLE`` of a
        bundle converted from this script's export) into this script's
        objects: after ``device.build(run=False)`` or ``device.build(compile=False,
        run=False)``, monitors and state variables read from
        `results_directory`, as after a run. In a live session (after a sweep,
        ``device.run(run_args=[...])``), they read from it until the script
        queues anything more (a value set, a run), then from the session again."""
        if not self.project_dir:
            raise RuntimeError("load_results() needs the script built first: call device.build(run=False)")
        directory = os.path.abspath(results_directory)
        if not os.path.isfile(os.path.join(directory, "last_run_info.txt")):
            raise FileNotFoundError(
                f"{directory} is not a Brisk results folder (it has no last_run_info.txt)")
        missing = [var.name for var in self.arrays
                   if not os.path.isfile(os.path.join(directory, self.get_array_filename(var)))]
        if missing:
            raise ValueError(
                f"the results in {directory} are not of this script: they lack "
                f"{len(missing)} of its arrays (e.g. {missing[0]!r})")
        if self._live():
            # a live session's sweep: reads from the folder until the script goes on
            self._live_view(directory)
            return
        self.results_dir = os.path.join(directory, "")
        for clock in self.clocks:
            self.array_cache[clock.variables["t"]] = None
        self._results_ready()

    def _check_states(self):
        already_checked = set()
        for var in self.arrays:
            try:
                owner = var.owner
                if not hasattr(owner, "name") or owner.name in already_checked:
                    continue
                if isinstance(owner, Group):
                    owner._check_for_invalid_states()
                    already_checked.add(owner.name)
            except ReferenceError:
                pass

    def _brisk_env(self):
        """The environment of the ``brisk`` processes: this process's, with the
        device's ``threads`` option as ``BRISK_THREADS``."""
        env = dict(os.environ)
        threads = self.threads
        if threads is None and self.build_options:
            threads = self.build_options.get("threads")
        if threads is not None:
            env["BRISK_THREADS"] = str(_threads(threads))
        return env

    def _call_brisk(self, args, with_output):
        """Run the ``brisk`` binary, its output shown while it runs (with
        `with_output`); its stderr becomes a `BriskError` on failure."""
        returncode, stdout, stderr = run_brisk(
            args, live=with_output, env=self._brisk_env(),
            stop_requested=lambda: Network._globally_stopped)
        if returncode != 0:
            # (nothing goes into the results folder: a failed run leaves none)
            raise BriskError.from_output(stderr, returncode)
        if not with_output and self.results_dir and os.path.isdir(self.results_dir):
            with open(os.path.join(self.results_dir, "stdout.txt"), "w") as f:
                f.write(stdout)
        return stdout + stderr


class _project_lock:
    """An exclusive lock on a project folder (``.brisk-build.lock`` in it) for a
    whole build; a second build into the folder fails at once with a clear error."""

    def __init__(self, directory):
        self.path = os.path.join(os.path.abspath(directory), ".brisk-build.lock")
        self.file = None

    def __enter__(self):
        import fcntl

        self.file = open(self.path, "a")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.close()
            raise BriskError(
                f"the project folder {os.path.dirname(self.path)} is being built by another "
                "process (its lock .brisk-build.lock is held); wait for it or build into "
                "another directory", kind="runtime") from None
        return self

    def __exit__(self, *exc):
        self.file.close()  # releases the lock
        return False


brisk_device = BriskDevice()


def _threads(threads):
    """The ``threads`` option, checked: a whole number from 1."""
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be a whole number from 1, not {threads!r}")
    return int(threads)
