// threshold fused with the group's stateupdate and reset (plan::fusion): per element, the
// state update, the threshold condition (and refractoriness) and, for an element that
// crossed, the reset; then the threshold's ordered compaction (threshold.cu). The parts'
// arrays are reached through their own functions' pointers only.
{% include "cuda/_head.cu" %}
{% include "cuda/_threshold_chunk.cu" %}    BriskArgs _a_stateupdate = _a, _a_threshold = _a, _a_reset = _a;
    _a_threshold.stream += {{ f.streams[1] }};
    _a_reset.stream += {{ f.streams[2] }};
    const int _lane = threadIdx.x & 31;
    const int _warp = threadIdx.x >> 5;
    bool _flags[BRISK_ROUNDS];
    unsigned int _ballots[BRISK_ROUNDS];
    for (int _r = 0; _r < BRISK_ROUNDS; _r++)
    {
        const int64_t _idx = _first + _r * BRISK_BLOCK + threadIdx.x;
        bool _flag = false;
        if (_idx < _N)
        {
            {{ f.stateupdate }}(_a_stateupdate, _idx);
            _flag = {{ f.threshold }}(_a_threshold, _idx);
{%- if !f.reset.is_empty() %}
            if (_flag) {{ f.reset }}(_a_reset, _idx);
{%- endif %}
        }
        _flags[_r] = _flag;
        _ballots[_r] = __ballot_sync(0xffffffffu, _flag);
        if (_lane == 0) _counts[_r][_warp] = __popc(_ballots[_r]);
    }
{% include "cuda/_threshold_compact.cu" %}    __syncthreads();
    for (int _r = 0; _r < BRISK_ROUNDS; _r++)
    {
        if (!_flags[_r]) continue;
        const int64_t _idx = _first + _r * BRISK_BLOCK + threadIdx.x;
        _events[_offset + _counts[_r][_warp] + __popc(_ballots[_r] & ((1u << _lane) - 1u))] = (int32_t)_idx;
    }
{% include "cuda/_last_block.cu" %}
        _sync[0] = 0;
        _sync[2] = _epoch + 1;
    }
}
