// spikemonitor of i and t, as bits (plan::SpikeBits): a grid over this step's events of
// [_source_start, _source_stop) sets their bits in this step's slot (zero since the last
// drain); the last block records t and advances the slot counter
{% include "cuda/_head.cu" %}
    const int32_t* _events = {{ k.events }};
    const int32_t _num_events = _events[{{ k.num_source }}];
    int64_t* _fill = {{ k.fill }};
    unsigned int* _sync = {{ k.sync }};
    __shared__ int32_t _range[2];
    if (threadIdx.x == 0)
    {
        _range[0] = (int32_t)brisk_lower_bound(_events, 0, _num_events, {{ k.source_start }});
        _range[1] = (int32_t)brisk_lower_bound(_events, _range[0], _num_events, {{ k.source_stop }});
    }
    __syncthreads();
    const int32_t _start = _range[0], _end = _range[1];
    const int64_t _slot = _fill[0];
    unsigned int* _words = (unsigned int*){{ k.bits_words }} + _slot * {{ k.bits_per_slot }}LL;
    for (int64_t _j = _start + (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _j < _end; _j += (int64_t)gridDim.x * blockDim.x)
    {
        const int64_t _k = _events[_j] - {{ k.source_start }}LL;
        atomicOr(&_words[_k >> 5], 1u << (unsigned int)(_k & 31));
        {{ k.count }}[_k]++;
    }
{% include "cuda/_last_block.cu" %}
        {{ k.bits_times }}[_slot] = _a.t;
        _fill[0] = _slot + 1;
        {{ k.n_array }}[0] += _end - _start;
    }
}
