// synapses_create_generator, {{ s.pass_name }} pass: {{ s.original }}
{% include "cpp/_head.cpp" %}
    const int64_t _N = {{ k.size_expr }};
{% include "common/_connect_pointers.txt" %}
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
    for (int64_t _{{ s.outer_index }} = 0; _{{ s.outer_index }} < _N; _{{ s.outer_index }}++)
{% include "common/_create_generator_body.txt" %}
}
