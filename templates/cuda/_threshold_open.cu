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
{# threshold: the rounds of a chunk, one element per thread each; the template computes _flag for element _idx (closed by _threshold_close.cu) #}