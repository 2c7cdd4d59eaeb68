"""Repeated runs of a live session: a ``run()`` of the network, objects and
namespace values of its last run skips Brian's preparation (code generation
for every object) and the export.

Brian prepares every run anew (``Network.before_run`` makes every code object
again), which costs milliseconds per ``run()`` and dominates a loop of short
runs. The code is the same when the network holds the same objects, in the
same state of `active`, `when`, `order` and clock `dt`, and every name its
code took from a namespace (constants, functions, TimedArrays) resolves to
the same value. `RepeatRecord` keeps that of a prepared run; `repeat` checks
it and, when it holds, records the run as Brian would (its clocks, the code
objects' before- and after-run code, the network's time) with the entry of
the last one. Anything else (an object added or switched off, a constant
changed, a new dt, another schedule or prefs) goes through Brian again.
"""

import weakref

import numpy as np
from brian2.core.functions import Function
from brian2.core.network import Network, _get_all_objects
from brian2.core.preferences import prefs
from brian2.core.variables import Constant

#: classes whose ``before_run`` only makes code objects and checks what the namespace
#: and the objects' fixed definitions determine (SpikeGeneratorGroup's depends on
#: spike times set since: it is prepared by Brian every time)
_SAME_PREPARATION = (
    "BrianObject.before_run",
    "Group.before_run",
    "CodeRunner.before_run",
    "NeuronGroup.before_run",
    "Synapses.before_run",
    "SynapticPathway.before_run",
    "SummedVariableUpdater.before_run",
    "PoissonGroup.before_run",
    "PoissonInput.before_run",
)


def _prefs_key():
    return tuple(sorted((name, repr(value)) for name, value in prefs.items()))


def _object_key(obj):
    clock = obj.clock
    return (obj.active, obj.when, obj.order, repr(getattr(clock, "dt_", None)), obj._network)


def _key(net, objects, profile):
    # (`net._schedule`: None for the default schedule, a pref that `_prefs_key` holds)
    schedule = None if net._schedule is None else tuple(net._schedule)
    return (schedule, bool(profile), tuple(_object_key(o) for o in objects))


def _same(old, new):
    if isinstance(old, Function) or isinstance(new, Function):
        return old is new
    if isinstance(old, Constant) and isinstance(new, Constant):
        a, b = np.asarray(old.value), np.asarray(new.value)
        return old.dim == new.dim and a.dtype == b.dtype and bool(np.all(a == b))
    return False


class RepeatRecord:
    """What a prepared run's code depends on, and the run entry it was recorded as."""

    def __init__(self, net, objects, profile, externals, entry, operations):
        self.net = weakref.ref(net)
        self.objects = [weakref.ref(o) for o in objects]
        self.key = _key(net, objects, profile)
        self.prefs = _prefs_key()
        #: (owner, name, value): names the code took from a namespace
        self.externals = externals
        self.entry = entry
        self.operations = [weakref.ref(o) for o in operations]

    @classmethod
    def of_run(cls, device, net, objects, namespace, profile, entry):
        """The record of a run Brian prepared with `namespace`; None when its code
        depends on what a record cannot check (such a network is prepared by Brian
        every time)."""
        for obj in objects:
            if type(obj).before_run.__qualname__ not in _SAME_PREPARATION:
                return None
        externals = []
        for obj in objects:
            if not obj.active:
                continue
            for codeobj in obj._code_objects:
                names = device._brisk_externals.get(codeobj.name)
                if names is None:
                    return None
                for name, value in names:
                    try:
                        resolved = codeobj.owner._resolve_external(name, namespace, user_identifier=False)
                    except (KeyError, ReferenceError):
                        continue  # not from a namespace: the group's own
                    if not _same(value, resolved):
                        return None
                    externals.append((codeobj.owner, name, value))
        operations = [device._brisk_operations[k] for k in range(len(device._brisk_operations))]
        return cls(net, objects, profile, externals, entry, operations)

    def objects_now(self, net):
        """The network's objects, in the order of the recorded run, if they are its
        objects; else None. (Their order follows from `_key`'s when and order: Brian's
        sorting of them is skipped, it costs as much as the rest.)"""
        if self.net() is not net:
            return None
        objects = [ref() for ref in self.objects]
        now = _get_all_objects(net.objects)
        if len(now) != len(objects) or any(obj is None for obj in objects):
            return None
        ids = {id(obj) for obj in now}
        if any(id(obj) not in ids for obj in objects):
            return None
        return objects

    def holds(self, net, objects, namespace, profile):
        """Whether a run of `net`, with `objects` (`objects_now`) and `namespace`,
        has the code of the recorded one."""
        if _key(net, objects, profile) != self.key or _prefs_key() != self.prefs:
            return False
        try:
            return all(
                _same(value, owner._resolve_external(name, namespace, user_identifier=False))
                for owner, name, value in self.externals
            )
        except (KeyError, ReferenceError):
            return False


def external_candidates(variables):
    """The names of a code object's `variables` that may come from a namespace."""
    return [
        (name, var)
        for name, var in variables.items()
        if isinstance(var, Function) or (isinstance(var, Constant) and var.owner is None)
    ]


def repeat(device, net, duration, namespace, profile, report, report_period):
    """Records a run of `net` as a repeat of its last one, if `RepeatRecord.holds`;
    returns whether it did."""
    record = device._brisk_repeats.get(net.name)
    if record is None or not device.run_args_applied or duration < 0:
        return False
    objects = record.objects_now(net)
    if objects is None or not record.holds(net, objects, namespace, profile):
        return False
    operations = [ref() for ref in record.operations]
    if any(op is None for op in operations):
        return False
    # Brian's CPPStandaloneDevice.network_run and Network.before_run, without the
    # preparation the record stands for
    device.networks.add(net)
    device.enable_profiling = profile
    net._clocks = {obj.clock for obj in objects}
    t_start = float(net.t_)
    t_end = net.t + duration
    for clock in net._clocks:
        clock.set_interval(net.t, t_end)
    net._stopped = False
    Network._globally_stopped = False
    device.clocks.update(net._clocks)
    device._brisk_live_run = True
    try:
        for obj in objects:
            if obj.active:
                for codeobj in obj._code_objects:
                    codeobj.before_run()
        entry = dict(record.entry, duration=float(duration), report=report,
                     report_period=float(report_period), profile=bool(profile),
                     apply_run_args=False, t_start=t_start, repeat=True)
        device._brisk_append("brisk_run_network", entry)
        net.t_ = float(t_end)
        if type(net).after_run is Network.after_run:
            for obj in objects:  # (Brian's, without sorting the objects again)
                if obj.active:
                    obj.after_run()
        else:
            net.after_run()  # (MagicNetwork's forgets its objects)
    finally:
        device._brisk_live_run = False
    device._brisk_operations = operations
    return True
