// reset: every element in the event space
{% include "cpp/_head.cpp" %}
    const int32_t* _events = {{ k.events }};
    const int32_t _num_events = _events[{{ k.num_source }}];
{% include "common/_scalar.txt" %}
    for (int32_t _index_events = 0; _index_events < _num_events; _index_events++)
    {
        {
            const int64_t _idx = _events[_index_events];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ k.vector_code|block(3) }}
        }
    }
}
