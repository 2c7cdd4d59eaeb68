        }
        _flags[_r] = _flag;
        _ballots[_r] = __ballot_sync(0xffffffffu, _flag);
        if (_lane == 0) _counts[_r][_warp] = __popc(_ballots[_r]);
    }
    __syncthreads();
    if (threadIdx.x == 0)
    {
        // offsets within the chunk, in element order (round, then warp)
        int32_t _total = 0;
        for (int _r = 0; _r < BRISK_ROUNDS; _r++)
            for (int _w = 0; _w < BRISK_BLOCK / 32; _w++)
            {
                const int32_t _c = _counts[_r][_w];
                _counts[_r][_w] = _total;
                _total += _c;
            }
        // status word: epoch (30 bits) | 1 = this chunk's count, 2 = count up to its end | value
        const unsigned long long _tag = (unsigned long long)_epoch << 34;
        int64_t _prefix = 0;
        if (_chunk > 0)
        {
            atomicExch(&_status[_chunk], _tag | (1ull << 32) | (unsigned int)_total);
            __threadfence();
            for (int64_t _j = _chunk - 1; _j >= 0;)
            {
                const unsigned long long _s = *(volatile unsigned long long*)&_status[_j];
                const unsigned int _kind = (unsigned int)(_s >> 32) & 3u;
                if ((_s >> 34) != _epoch || _kind == 0)
                {
                    __nanosleep(64);  // the predecessor has not published yet
                    continue;
                }
                _prefix += (unsigned int)_s;
                if (_kind == 2) break;
                _j--;
            }
        }
        __threadfence();
        atomicExch(&_status[_chunk], _tag | (2ull << 32) | (unsigned int)(_prefix + _total));
        _offset = _prefix;
        if (_chunk == (int64_t)gridDim.x - 1) _events[_N] = (int32_t)(_prefix + _total);
    }
    __syncthreads();
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
{# threshold: the end of the rounds (_threshold_open.cu); this chunk's events -> their offsets in the event space (in element order, then by the chunks' decoupled look-back), written in order; the last block resets the tickets for the next launch #}