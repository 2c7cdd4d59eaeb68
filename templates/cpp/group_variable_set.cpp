// group_variable_set: the elements listed in _group_idx
{% include "cpp/_head.cpp" %}
    const int64_t _N = {{ k.size_expr }};
{% include "common/_scalar.txt" %}
    for (int64_t _idx_group_idx = 0; _idx_group_idx < _N; _idx_group_idx++)
    {
        {
            const int64_t _idx = {{ k.group_idx }}[_idx_group_idx];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ k.vector_code|block(3) }}
        }
    }
}
