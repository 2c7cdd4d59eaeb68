// synapses_push_spikes: a grid copies this step's spikes of [{{ s.spikes_start }}, {{ s.spikes_stop }}) into the next
// history slot of {{ s.pathway }}; the last block to finish advances the cursor
{% include "cuda/_head.cu" %}
    const int32_t* _events = {{ k.events }};
    const int32_t _num_events = _events[{{ k.num_source }}];
    int64_t* _q = {{ s.qstate }};
    unsigned int* _sync = {{ k.sync }};
    if (_q[0] == 0) return;  // not prepared: the pathway is not part of a run (every block returns)
    __shared__ int32_t _range[2];
    if (threadIdx.x == 0)
    {
        _range[0] = (int32_t)brisk_lower_bound(_events, 0, _num_events, {{ s.spikes_start }});
        _range[1] = (int32_t)brisk_lower_bound(_events, _range[0], _num_events, {{ s.spikes_stop }});
    }
    __syncthreads();
    const int64_t _cursor = (_q[1] + 1) % _q[0];
    int32_t* _slot = {{ s.history }} + _cursor * {{ s.slot_len }}LL;
    for (int64_t _j = _range[0] + (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _j < _range[1]; _j += (int64_t)gridDim.x * blockDim.x)
        _slot[_j - _range[0]] = _events[_j] - {{ s.spikes_start }};
{% include "cuda/_last_block.cu" %}
        _slot[{{ s.num_sources }}] = _range[1] - _range[0];
        _q[1] = _cursor;
        _q[5] += 1;
    }
}
