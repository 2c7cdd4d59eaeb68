// synapses_push_spikes: one block; this step's spikes of [{{ s.spikes_start }}, {{ s.spikes_stop }}) into the next history slot of {{ s.pathway }}
{% include "cuda/_head.cu" %}
    const int32_t* _events = {{ k.events }};
    const int32_t _num_events = _events[{{ k.num_source }}];
    int64_t* _q = {{ s.qstate }};
    if (_q[0] == 0) return;  // not prepared: the pathway is not part of a run
    __shared__ int32_t _range[2];
    __shared__ int64_t _cursor;
    if (threadIdx.x == 0)
    {
        _range[0] = (int32_t)brisk_lower_bound(_events, 0, _num_events, {{ s.spikes_start }});
        _range[1] = (int32_t)brisk_lower_bound(_events, _range[0], _num_events, {{ s.spikes_stop }});
        _cursor = (_q[1] + 1) % _q[0];
        _q[1] = _cursor;
        _q[5] += 1;
    }
    __syncthreads();
    int32_t* _slot = {{ s.history }} + _cursor * {{ s.slot_len }}LL;
    for (int32_t _j = _range[0] + threadIdx.x; _j < _range[1]; _j += blockDim.x)
        _slot[_j - _range[0]] = _events[_j] - {{ s.spikes_start }};
    if (threadIdx.x == 0) _slot[{{ s.num_sources }}] = _range[1] - _range[0];
}
