    // the last block to finish (every other block has read what it needed) ends the launch
    __threadfence();
    __shared__ bool _last;
    if (threadIdx.x == 0) _last = atomicAdd(&_sync[1], 1u) == gridDim.x - 1;
    __syncthreads();
    if (_last && threadIdx.x == 0)
    {
        _sync[1] = 0;
