// threshold: spiking elements, in ascending order, into the event space
// (a chunk [lo, hi) of a split kernel: into its own range, then -1; runtime::cpu compacts)
{% include "cpp/_head.cpp" %}
    const int64_t _N = {{ k.size_expr }};
    const int64_t _hi = _a.hi < _N ? _a.hi : _N;
    int32_t* _events = {{ k.events }};
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
    int64_t _count = _a.lo;
{{ k.rng_blocks|block(1) }}
    for (int64_t _idx = _a.lo; _idx < _hi; _idx++)
    {
        bool _flag;
        {
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector_ahead|block(3) }}
{{ k.vector_code|block(3) }}
            _flag = _cond;
        }
        if (_flag)
        {
            _events[_count++] = (int32_t)_idx;
{%- if k.uses_refractory %}
            {{ k.not_refractory }}[_idx] = false;
            {{ k.lastspike }}[_idx] = _a.t;
{%- endif %}
        }
    }
    if (_a.lo == 0 && _hi == _N)
        _events[_N] = (int32_t)_count;
    else if (_count < _hi)
        _events[_count] = -1;
}
