// synapses: deliver {{ s.pathway }} in Brian's queue order (carried-over spikes, then by delay, longest first)
{% include "cpp/_head.cpp" %}
{% include "common/_pathway_pointers.txt" %}
{% include "common/_scalar.txt" %}
    if (_carry_step >= 0 && _carry_step < _carry_len)
    {
        for (int64_t _k = _carry_start[_carry_step]; _k < _carry_start[_carry_step + 1]; _k++)
        {
            const int64_t _idx = _carry[_k];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ k.vector_code }}
        }
    }
    for (int64_t _d = _max_delay; _d >= _min_delay; _d--)
    {
        const int32_t* _slot = _history + ((_cursor - _d + _D) % _D) * {{ s.slot_len }}LL;
        const int32_t _num = _slot[{{ s.num_sources }}];
        for (int32_t _s = 0; _s < _num; _s++)
        {
            const int32_t _src = _slot[_s];
            const int64_t _end = _by_start[_src + 1];
            for (int64_t _k = brisk_lower_bound(_by_delay, _by_start[_src], _end, _d); _k < _end && _by_delay[_k] == _d; _k++)
            {
                const int64_t _idx = _by_source[_k];
                const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ k.vector_code }}
            }
        }
    }
}
