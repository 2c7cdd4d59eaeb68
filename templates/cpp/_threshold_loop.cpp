    const int64_t _N = {{ k.size_expr }};
    const int64_t _hi = _a.hi < _N ? _a.hi : _N;
    int32_t* _events = {{ k.events }};
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
    int64_t _count = _a.lo;
{{ k.rng_blocks|block(1) }}
    for (int64_t _base = _a.lo; _base < _hi; _base += BRISK_AHEAD)
    {
        const int64_t _end = _hi - _base < BRISK_AHEAD ? _hi : _base + BRISK_AHEAD;
{%- if k.fused %}
        if ((_base - _a.lo) % BRISK_FUSED_BLOCK == 0)
            _stateupdate(_base, _hi - _base < BRISK_FUSED_BLOCK ? _hi : _base + BRISK_FUSED_BLOCK);
{%- endif %}
        // bytes, not bool: the compiler vectorises a loop that stores bytes
        unsigned char _flags[BRISK_AHEAD];
        if (_end - _base < BRISK_AHEAD)
            for (int _k = 0; _k < BRISK_AHEAD; _k++) _flags[_k] = 0;
{{ k.rng_fill|block(2) }}
        for (int64_t _idx = _base; _idx < _end; _idx++)
        {
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_from_blocks|block(3) }}
{{ k.vector_code|block(3) }}
            _flags[_idx - _base] = _cond;
        }
        // eight flags at a time: most elements do not spike
        for (int _w = 0; _w < BRISK_AHEAD; _w += 8)
        {
            uint64_t _word;
            memcpy(&_word, _flags + _w, 8);
            if (_word == 0)
                continue;
            for (int64_t _idx = _base + _w; _idx < _base + _w + 8; _idx++)
            {
                if (_flags[_idx - _base])
                {
                    _events[_count++] = (int32_t)_idx;
{%- if k.uses_refractory %}
                    {{ k.not_refractory }}[_idx] = false;
                    {{ k.lastspike }}[_idx] = _a.t;
{%- endif %}
{%- if k.fused_reset %}
                    _reset(_idx);
{%- endif %}
                }
            }
        }
    }
    if (_a.lo == 0 && _hi == _N)
        _events[_N] = (int32_t)_count;
    else if (_count < _hi)
        _events[_count] = -1;
}
