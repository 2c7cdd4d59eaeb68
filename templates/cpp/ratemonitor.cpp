// ratemonitor: the population rate of [_source_start, _source_stop)
{% include "cpp/_head.cpp" %}
    const int32_t* _events = {{ k.events }};
    const int32_t _num_events = _events[{{ k.num_source }}];
    int64_t* _fill = {{ k.fill }};
    int32_t _start = 0;
    while (_start < _num_events && _events[_start] < {{ k.source_start }}) _start++;
    int32_t _end = _start;
    while (_end < _num_events && _events[_end] < {{ k.source_stop }}) _end++;
    const int64_t _row = _fill[0];
    {{ k.rate_staging }}[_row] = 1.0 * (_end - _start) / _a.dt / {{ k.num_source_neurons }};
    {{ k.t_staging }}[_row] = _a.t;
    _fill[0] = _row + 1;
    {{ k.n_array }}[0] += 1;
}
