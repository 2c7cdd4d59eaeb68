{%- if k.block_launch %}
    __syncthreads();
    if (threadIdx.x == 0)
    {
{{ k.scalar_stores }}
    }
    for (int64_t _idx = threadIdx.x; _idx < _N; _idx += blockDim.x)
{%- else %}
{{ k.scalar_stores }}
    for (int64_t _idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _idx < _N; _idx += (int64_t)gridDim.x * blockDim.x)
{%- endif %}
