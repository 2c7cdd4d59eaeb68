// group_variable_set: the elements listed in _group_idx
{% include "cuda/_head.cu" %}
    const int64_t _N = {{ k.size_expr }};
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
{% include "cuda/_loop_head.cu" %}
    {
        const int64_t _idx_group_idx = _idx;
        {
            const int64_t _idx = {{ k.group_idx }}[_idx_group_idx];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ k.vector_code|block(3) }}
        }
    }
{%- include "cuda/_loop_tail.cu" %}
}
