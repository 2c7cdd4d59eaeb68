// reset: every element in the event space (the events [lo, hi) of the call's chunk: plan::Split)
{% include "cpp/_head.cpp" %}
    const int32_t* _events = {{ k.events }};
    const int64_t _num_events = _events[{{ k.num_source }}] < _a.hi ? _events[{{ k.num_source }}] : _a.hi;
{% include "common/_scalar.txt" %}
    for (int64_t _index_events = _a.lo; _index_events < _num_events; _index_events++)
    {
        {
            const int64_t _idx = _events[_index_events];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ k.vector_code|block(3) }}
        }
    }
}
