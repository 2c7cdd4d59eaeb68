// spikemonitor: a grid over this step's events of [_source_start, _source_stop) into the
// staging buffers; the last block to finish advances the fill counter
{% include "cuda/_head.cu" %}
{% include "cuda/_spikemonitor_range.cu" %}    const int64_t _base = _fill[0];
    if (_end > _start)
    {
        const int64_t _vectorisation_idx = 1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
        for (int64_t _j = _start + (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _j < _end; _j += (int64_t)gridDim.x * blockDim.x)
        {
{% include "common/_spikemonitor_event.txt" %}
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
