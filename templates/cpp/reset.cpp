// reset: every element in the event space
extern "C" void {{ k.symbol }}(const BriskArgs* _ap)
{
    const BriskArgs& _a = *_ap;
{{ k.prologue }}
    const int32_t* _events = {{ k.events }};
    const int32_t _num_events = _events[{{ k.num_source }}];
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar }}
{{ k.scalar_code }}
{{ k.scalar_stores }}
    for (int32_t _index_events = 0; _index_events < _num_events; _index_events++)
    {
        {
            const int64_t _idx = _events[_index_events];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ k.vector_code }}
        }
    }
}
