        {
            const int64_t _idx = {{ k.indices }}[_i];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ k.vector_code }}
{%- for r in k.records %}
            {{ r.staging }}[_row * {{ r.width }}LL + _i] = {{ r.local }};
{%- endfor %}
        }
