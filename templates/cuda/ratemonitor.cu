// ratemonitor: one thread; the population rate of [_source_start, _source_stop)
{% include "cuda/_head.cu" %}
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    const int32_t* _events = {{ k.events }};
    const int32_t _num_events = _events[{{ k.num_source }}];
    int64_t* _fill = {{ k.fill }};
    int32_t _lo = 0, _hi = _num_events;
    while (_lo < _hi) { const int32_t _m = (_lo + _hi) / 2; if (_events[_m] < {{ k.source_start }}) _lo = _m + 1; else _hi = _m; }
    const int32_t _start = _lo;
    _hi = _num_events;
    while (_lo < _hi) { const int32_t _m = (_lo + _hi) / 2; if (_events[_m] < {{ k.source_stop }}) _lo = _m + 1; else _hi = _m; }
    const int32_t _end = _lo;
    const int64_t _row = _fill[0];
    {{ k.rate_staging }}[_row] = 1.0 * (_end - _start) / _a.dt / {{ k.num_source_neurons }};
    {{ k.t_staging }}[_row] = _a.t;
    _fill[0] = _row + 1;
    {{ k.n_array }}[0] += 1;
}
