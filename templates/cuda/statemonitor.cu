// statemonitor: one block; one row of the recorded variables into the staging buffers
{% include "cuda/_head.cu" %}
    int64_t* _fill = {{ k.fill }};
    const int64_t _row = _fill[0];
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar }}
{{ k.scalar_code }}
    for (int64_t _i = threadIdx.x; _i < {{ k.num_indices }}LL; _i += blockDim.x)
    {
        {
            const int64_t _idx = {{ k.indices }}[_i];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ k.vector_code }}
{%- for r in k.records %}
            {{ r.staging }}[_row * {{ r.width }}LL + _i] = {{ r.local }};
{%- endfor %}
        }
    }
    __syncthreads();
    if (threadIdx.x == 0)
    {
        {{ k.t_staging }}[_row] = _a.t;
        _fill[0] = _row + 1;
        {{ k.n_array }}[0] += 1;
    }
}
