    // the synapses [lo, hi) of this call (plan::Split::Synapses): each call walks the
    // same events in Brian's order and applies its own synapses only
    const int64_t _lo = _a.lo, _hi = _a.hi;
    if (_carry_step >= 0 && _carry_step < _carry_len)
    {
        for (int64_t _k = _carry_start[_carry_step]; _k < _carry_start[_carry_step + 1]; _k++)
        {
            const int64_t _idx = _carry[_k];
            if (_idx < _lo || _idx >= _hi)
                continue;
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ k.vector_code|block(3) }}
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
            // (a source's synapses are ordered by delay, then by index)
            for (int64_t _k = brisk_lower_bound_pair(_by_delay, _by_source, _by_start[_src], _end, _d, _lo); _k < _end && _by_delay[_k] == _d && _by_source[_k] < _hi; _k++)
            {
                const int64_t _idx = _by_source[_k];
                const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ k.vector_code|block(3) }}
            }
        }
    }
