    const int32_t* _events = {{ k.events }};
    const int32_t _num_events = _events[{{ k.num_source }}];
    int64_t* _fill = {{ k.fill }};
    int32_t _start = 0;
    while (_start < _num_events && _events[_start] < {{ k.source_start }}) _start++;
    int32_t _end = _start;
    while (_end < _num_events && _events[_end] < {{ k.source_stop }}) _end++;
{# spikemonitor: this step's events of [_source_start, _source_stop) are _events[_start.._end) #}