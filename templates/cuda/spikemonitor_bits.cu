// spikemonitor of i and t, as bits (plan::SpikeBits): a grid over this step's events of
// [_source_start, _source_stop) sets their bits in this step's slot (zero since the last
// drain); the last block records t and advances the slot counter
{% include "cuda/_head.cu" %}
{% include "cuda/_spikemonitor_range.cu" %}    const int64_t _slot = _fill[0];
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
