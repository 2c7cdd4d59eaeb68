// threshold: a block per chunk of BRISK_CHUNK elements; the chunks are taken in order (a
// ticket) and each finds its offset in the event space from its predecessors (decoupled
// look-back), so the events come out in ascending order, as Brian's
{% include "cuda/_head.cu" %}
{% include "cuda/_threshold_chunk.cu" %}    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar }}
{{ k.scalar_code }}
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
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ k.vector_code }}
            _flag = _cond;
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
{%- if k.uses_refractory %}
        {{ k.not_refractory }}[_idx] = false;
        {{ k.lastspike }}[_idx] = _a.t;
{%- endif %}
    }
{% include "cuda/_last_block.cu" %}
        _sync[0] = 0;
        _sync[2] = _epoch + 1;
    }
}
