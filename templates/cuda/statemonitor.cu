// statemonitor: a grid over the recorded indices writes one row into the staging buffers;
// the last block to finish records the time and advances the fill counter
{% include "cuda/_head.cu" %}
    int64_t* _fill = {{ k.fill }};
    unsigned int* _sync = {{ k.sync }};
    const int64_t _row = _fill[0];
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
    for (int64_t _i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _i < {{ k.num_indices }}LL; _i += (int64_t)gridDim.x * blockDim.x)
    {
{% include "common/_statemonitor_record.txt" %}
    }
{% include "cuda/_last_block.cu" %}
        {{ k.t_staging }}[_row] = _a.t;
        _fill[0] = _row + 1;
        {{ k.n_array }}[0] += 1;
    }
}
