// group_variable_set_conditional: `statement` where `condition` holds
{% include "cpp/_head.cpp" %}
    const int64_t _N = {{ k.size_expr }};
{% include "common/_scalar.txt" %}
    for (int64_t _idx = 0; _idx < _N; _idx++)
    {
        {
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ k.condition_code|block(3) }}
            if (_cond)
            {
{{ k.vector_code|block(3) }}
            }
        }
    }
}
