// spikemonitor: events of [_source_start, _source_stop) into the staging buffers
{% include "cpp/_head.cpp" %}
{% include "cpp/_spikemonitor_range.cpp" %}    if (_end > _start)
    {
        const int64_t _base = _fill[0];
        const int64_t _vectorisation_idx = 1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
        for (int32_t _j = _start; _j < _end; _j++)
        {
{% include "common/_spikemonitor_event.txt" %}
        }
        _fill[0] = _base + (_end - _start);
        {{ k.n_array }}[0] += _end - _start;
    }
}
