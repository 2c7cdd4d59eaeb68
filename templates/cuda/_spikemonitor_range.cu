    const int32_t* _events = {{ k.events }};
    const int32_t _num_events = _events[{{ k.num_source }}];
    int64_t* _fill = {{ k.fill }};
    unsigned int* _sync = {{ k.sync }};
    __shared__ int32_t _range[2];
    if (threadIdx.x == 0)
    {
        _range[0] = (int32_t)brisk_lower_bound(_events, 0, _num_events, {{ k.source_start }});
        _range[1] = (int32_t)brisk_lower_bound(_events, _range[0], _num_events, {{ k.source_stop }});
    }
    __syncthreads();
    const int32_t _start = _range[0], _end = _range[1];
{# spikemonitor: this step's events of [_source_start, _source_stop) are _events[_start.._end) #}