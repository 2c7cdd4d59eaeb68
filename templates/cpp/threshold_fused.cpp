// threshold fused with the group's stateupdate and reset (plan::fusion): the state
// update of BRISK_FUSED_BLOCK elements (stateupdate.cpp's vectorised loop), then, in
// blocks of BRISK_AHEAD, their threshold conditions, their events in order
// (threshold.cpp) and the reset of each: one pass over the group's state, each block
// still in the L1 cache for the next part. The state update and the reset are their own
// templates' code, each in its own scope (a function made once per call after the
// part's prologue and scalar code, so the parts' names never meet), each drawing from
// its own random-number stream.
// (a chunk [lo, hi) of a split kernel: events into its own range, then -1; runtime::cpu compacts)
extern "C" void {{ k.symbol }}(const BriskArgs* _ap)
{
    // the state update of the elements [_lo, _hi)
    const auto _stateupdate = [&]()
    {
        BriskArgs _a = *_ap;
        _a.stream += {{ f.streams[0] }};
{{ su.prologue|block(2) }}
        const int64_t _vectorisation_idx = -1;
{{ su.rng_scalar|block(2) }}
{{ su.scalar_code|block(2) }}
        return [=](const int64_t _lo, const int64_t _hi)
        {
{{ su.rng_blocks|block(3) }}
{%- if su.independent %}
#pragma GCC ivdep
{%- endif %}
            for (int64_t _idx = _lo; _idx < _hi; _idx++)
            {
                const int64_t _vectorisation_idx = _idx;
{{ su.rng_vector_ahead|block(4) }}
{{ su.vector_code|block(4) }}
            }
        };
    }();
{%- if let Some(re) = reset %}
    // the reset of element _idx
    const auto _reset = [&]()
    {
        BriskArgs _a = *_ap;
        _a.stream += {{ f.streams[2] }};
{{ re.prologue|block(2) }}
        const int64_t _vectorisation_idx = -1;
{{ re.rng_scalar|block(2) }}
{{ re.scalar_code|block(2) }}
{{ re.scalar_stores|block(2) }}
        return [=](const int64_t _idx)
        {
            const int64_t _vectorisation_idx = _idx;
{{ re.rng_vector|block(3) }}
{{ re.vector_code|block(3) }}
        };
    }();
{%- endif %}
    BriskArgs _a_threshold = *_ap;
    _a_threshold.stream += {{ f.streams[1] }};
    const BriskArgs& _a = _a_threshold;
{{ k.prologue|block(1) }}
    const int64_t _N = {{ k.size_expr }};
    const int64_t _hi = _a.hi < _N ? _a.hi : _N;
    int32_t* _events = {{ k.events }};
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
{{ k.scalar_stores|block(1) }}
    int64_t _count = _a.lo;
{{ k.rng_blocks|block(1) }}
    for (int64_t _base = _a.lo; _base < _hi; _base += BRISK_AHEAD)
    {
        const int64_t _end = _hi - _base < BRISK_AHEAD ? _hi : _base + BRISK_AHEAD;
        if ((_base - _a.lo) % BRISK_FUSED_BLOCK == 0)
            _stateupdate(_base, _hi - _base < BRISK_FUSED_BLOCK ? _hi : _base + BRISK_FUSED_BLOCK);
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
{%- if reset.is_some() %}
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
