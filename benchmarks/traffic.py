"""Bytes a step of a Brisk simulation moves, per code object: the traffic
model shared by `scripts/gpu-model` (against an H100's HBM) and
`benchmarks/cpu_model.py` (against the CPU's measured bandwidth).

In: a code object of the typed IR (`brisk inspect`), the plan (`brisk
convert`'s plan.json), the export's manifest, the firing rate of each group
and the synapse count. Out: bytes read and written per step. Counted: the
arrays the code object's vector code reads and writes, times the elements it
processes per step (neurons, this step's spikes, the synapses they reach);
a fused state update, threshold and reset reads each array once; `sector`
bytes per scattered access to a target neuron's variable (32 on a GPU, a
64-byte cache line on a CPU). Not counted: arithmetic, setup.
"""

DT = 1e-4  # Brian's default dt


def arrays_of(co):
    """The Brian arrays a code object's vector code reads or writes."""
    names = {v for b in co["blocks"] for v in b["vector_info"]["read"] + b["vector_info"]["write"]}
    return {co["symbols"][v]["Array"]["array"] for v in names if "Array" in co["symbols"].get(v, {})}


def fused_bytes(fusion, cos, info, rates, manifest, plan, dtype_size, sector=32):
    """A fused state update, threshold and reset: each array read once, by the first part
    that reads it; the later parts find it in registers (or L1)."""
    total, seen = 0, set()
    for name in (fusion["stateupdate"], fusion["threshold"], fusion["reset"]):
        if name:
            total += bytes_per_step(cos[name], info, rates, manifest, plan, dtype_size, skip_read=seen,
                                    sector=sector)
            seen |= arrays_of(cos[name])
    return total


def bytes_per_step(co, info, rates, manifest, plan, dtype_size, skip_read=frozenset(), sector=32):
    """Bytes one step of a code object moves (a model, see the module docs); the reads of
    arrays in `skip_read` are not counted (a fused kernel has them already)."""
    template = co["template"]
    symbols = co["symbols"]
    def arr_bytes(names, reads=False):
        total = 0
        for v in names:
            s = symbols.get(v, {}).get("Array")
            if reads and s and s["array"] in skip_read:
                continue
            if s and not s.get("scalar"):
                total += {"float64": 8, "float32": 4, "int32": 4, "int64": 8, "bool": 1}.get(s["dtype"], 8)
        return total
    vec_read = sum(arr_bytes(b["vector_info"]["read"], reads=True) for b in co["blocks"])
    vec_write = sum(arr_bytes(b["vector_info"]["write"]) for b in co["blocks"])
    owner_n = next((a["size"] for a in manifest["arrays"] if a["owner"] == co["owner"] and a["var"] == "N"), None)
    array_owner = {a["name"]: a["owner"] for a in manifest["arrays"]}
    group_n = {a["owner"]: a["size"] for a in manifest["arrays"] if a["var"] == "lastspike" or a["var"] == "i"}
    def spikes(owner):
        return rates.get(owner, 0.0) * DT * group_n.get(owner, 0)
    if template in ("stateupdate", "group_variable_set_conditional"):
        n = group_n.get(co["owner"], 0) or 0
        return n * (vec_read + vec_write)
    if template == "threshold":
        n = group_n.get(co["owner"], 0) or 0
        return n * vec_read + spikes(co["owner"]) * (4 + 9)
    if template == "reset":
        return spikes(co["owner"]) * (4 + vec_read + vec_write)
    if template in ("synapses", "synapses_push_spikes"):
        p = co.get("pathway") or {}
        source = array_owner.get(p.get("eventspace"), "")
        s = spikes(source)
        if template == "synapses_push_spikes":
            return s * 8
        fanout = info["synapses"] / max(1, group_n.get(source, 1))
        grouped = ((plan.get("pathways") or {}).get(p.get("name"), {}) or {}).get("by_target")
        if grouped:
            # a thread per target walks its synapses of every delay whose slot holds spikes:
            # at most all synapses (synapse, source, delay: 12 bytes), then the active ones' code
            return info["synapses"] * 12 + grouped["groups"] * 16 + s * fanout * (4 + vec_read + vec_write)
        pre_post = len([v for b in co["blocks"] for v in b["vector_info"]["write"]
                        if symbols.get(v, {}).get("Array", {}).get("index", "") not in ("Element",)])
        per_synapse = 4 + vec_read + vec_write + sector * max(1, pre_post)
        return s * fanout * per_synapse
    if template == "summed_variable":
        return info["synapses"] * (4 + vec_read) + (group_n.get(co["owner"], 0) or 0) * 8
    return 0
