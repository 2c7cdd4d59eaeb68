// stateupdate: every element of the group
{% include "cpp/_head.cpp" %}
    const int64_t _N = {{ k.size_expr }};
{% include "common/_scalar.txt" %}
{{ k.rng_blocks|block(1) }}
    for (int64_t _idx = 0; _idx < _N; _idx++)
    {
        {
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector_ahead|block(3) }}
{{ k.vector_code|block(3) }}
        }
    }
}
