// synapses_create_array: one thread per new synapse
{% include "cuda/_head.cu" %}
    const int64_t _N = {{ k.size_expr }};
{% include "common/_connect_pointers.txt" %}
{% include "common/_scalar.txt" %}
    for (int64_t _idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _idx < _N; _idx += (int64_t)gridDim.x * blockDim.x)
{% include "common/_create_array_body.txt" %}
}
