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
{% include "cpp/_threshold_loop.cpp" %}
