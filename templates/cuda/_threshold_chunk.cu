    const int64_t _N = {{ k.size_expr }};
    int32_t* _events = {{ k.events }};
    unsigned int* _sync = {{ k.sync }};
    unsigned long long* _status = {{ k.chunk_status }};
    __shared__ int64_t _chunk;
    __shared__ unsigned int _epoch;
    __shared__ int32_t _counts[BRISK_ROUNDS][BRISK_BLOCK / 32];
    __shared__ int64_t _offset;
    if (threadIdx.x == 0)
    {
        _chunk = atomicAdd(&_sync[0], 1u);
        _epoch = *(volatile unsigned int*)&_sync[2] & 0x3fffffffu;
    }
    __syncthreads();
    const int64_t _first = _chunk * BRISK_CHUNK;
{# threshold: this block's chunk (a ticket, in launch order) and the shared words of its compaction #}