// summed_variable: {{ s.summed_target_name }}[{{ s.summed_start }}:] = sum over synapses
// (a chunk [lo, hi) of a split kernel: the targets start+lo .. start+hi, their synapses in synapse order)
{% include "cpp/_head.cpp" %}
    const int64_t _N = {{ s.summed_synapses }};
    {{ s.summed_type }}* _target = {{ s.summed_target }};
    const int32_t* _index = {{ s.summed_index }};
    const int64_t _stop = {{ s.summed_stop }};
    const int64_t _first = {{ s.summed_start }} + _a.lo;
    const int64_t _last = {{ s.summed_start }} + _a.hi < _stop ? {{ s.summed_start }} + _a.hi : _stop;
    for (int64_t _t = _first; _t < _last; _t++) _target[_t] = 0;
{% include "common/_scalar.txt" %}
    for (int64_t _idx = 0; _idx < _N; _idx++)
    {
        const int64_t _t = _index[_idx];
        if (_t < _first || _t >= _last)
            continue;
        const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ k.vector_code|block(3) }}
        _target[_t] += _synaptic_var;
    }
}
