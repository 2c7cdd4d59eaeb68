// spikemonitor: a grid over this step's events of [_source_start, _source_stop) into the
// staging buffers; the last block to finish advances the fill counter
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
    const int64_t _base = _fill[0];
    if (_end > _start)
    {
        const int64_t _vectorisation_idx = 1;
{{ k.rng_scalar }}
{{ k.scalar_code }}
        for (int64_t _j = _start + (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _j < _end; _j += (int64_t)gridDim.x * blockDim.x)
        {
            const int64_t _idx = _events[_j];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ k.vector_code }}
{%- for r in k.records %}
            {{ r.staging }}[_base + (_j - _start)] = {{ r.local }};
{%- endfor %}
            {{ k.count }}[_idx - {{ k.source_start }}]++;
        }
    }
{% include "cuda/_last_block.cu" %}
        if (_end > _start)
        {
            _fill[0] = _base + (_end - _start);
            {{ k.n_array }}[0] += _end - _start;
        }
    }
}
