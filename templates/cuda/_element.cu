// {{ k.symbol }}: element _idx of a fused kernel's part (its template's body; a threshold
// also makes a crossing element refractory, as threshold.cu does after the compaction)
BRISK_FN {% if threshold %}bool{% else %}void{% endif %} {{ k.symbol }}(const BriskArgs _a, const int64_t _idx)
{
{{ k.prologue|block(1) }}
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
    {
        const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ k.vector_code|block(3) }}
{%- if threshold %}
{%- if k.uses_refractory %}
        if (_cond)
        {
            {{ k.not_refractory }}[_idx] = false;
            {{ k.lastspike }}[_idx] = _a.t;
        }
{%- endif %}
        return _cond;
{%- endif %}
    }
}
