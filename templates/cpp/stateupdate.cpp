// stateupdate: every element of the group (of the call's chunk [lo, hi): plan::Split)
{% include "cpp/_head.cpp" %}
    const int64_t _N = {{ k.size_expr }};
    const int64_t _hi = _a.hi < _N ? _a.hi : _N;
{% include "common/_scalar.txt" %}
{{ k.rng_blocks|block(1) }}
{%- if k.independent %}
#pragma GCC ivdep
{%- endif %}
    for (int64_t _idx = _a.lo; _idx < _hi; _idx++)
    {
        {
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector_ahead|block(3) }}
{{ k.vector_code|block(3) }}
        }
    }
}
