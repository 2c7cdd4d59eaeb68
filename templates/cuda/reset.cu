// reset: one thread per event
{% include "cuda/_head.cu" %}
    const int32_t* _events = {{ k.events }};
    const int64_t _N = _events[{{ k.num_source }}];
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
{% include "cuda/_loop_head.cu" %}
    {
        const int64_t _index_events = _idx;
        {
            const int64_t _idx = _events[_index_events];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ k.vector_code|block(3) }}
        }
    }
{%- include "cuda/_loop_tail.cu" %}
}
