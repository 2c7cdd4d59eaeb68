// synapses_create_generator, {{ s.pass_name }} pass: {{ s.original }} (one thread per outer element)
{% include "cuda/_head.cu" %}
    const int64_t _N = {{ k.size_expr }};
{% include "common/_connect_pointers.txt" %}
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
    for (int64_t _{{ s.outer_index }} = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _{{ s.outer_index }} < _N; _{{ s.outer_index }} += (int64_t)gridDim.x * blockDim.x)
{% include "common/_create_generator_body.txt" %}
}
