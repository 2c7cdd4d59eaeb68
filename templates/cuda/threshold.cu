// threshold: one block; spiking elements in ascending order (block-wide scan)
{% include "cuda/_head.cu" %}
    const int64_t _N = {{ k.size_expr }};
    int32_t* _events = {{ k.events }};
    __shared__ int32_t _warp_offsets[BRISK_BLOCK / 32];
    __shared__ int64_t _base;
    __shared__ int32_t _chunk_total;
    if (threadIdx.x == 0) _base = 0;
    __syncthreads();
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar }}
{{ k.scalar_code }}
    const int _lane = threadIdx.x & 31;
    const int _warp = threadIdx.x >> 5;
    for (int64_t _chunk = 0; _chunk < _N; _chunk += blockDim.x)
    {
        const int64_t _idx = _chunk + threadIdx.x;
        bool _flag = false;
        if (_idx < _N)
        {
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ k.vector_code }}
            _flag = _cond;
        }
        const unsigned int _ballot = __ballot_sync(0xffffffffu, _flag);
        if (_lane == 0) _warp_offsets[_warp] = __popc(_ballot);
        __syncthreads();
        if (threadIdx.x == 0)
        {
            int32_t _sum = 0;
            for (int _w = 0; _w < (int)(blockDim.x >> 5); _w++)
            {
                const int32_t _c = _warp_offsets[_w];
                _warp_offsets[_w] = _sum;
                _sum += _c;
            }
            _chunk_total = _sum;
        }
        __syncthreads();
        if (_flag)
        {
            const int64_t _pos = _base + _warp_offsets[_warp] + __popc(_ballot & ((1u << _lane) - 1u));
            _events[_pos] = (int32_t)_idx;
{%- if k.uses_refractory %}
            {{ k.not_refractory }}[_idx] = false;
            {{ k.lastspike }}[_idx] = _a.t;
{%- endif %}
        }
        __syncthreads();
        if (threadIdx.x == 0) _base += _chunk_total;
        __syncthreads();
    }
    if (threadIdx.x == 0) _events[_N] = (int32_t)_base;
}
