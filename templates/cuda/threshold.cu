// threshold: a block per chunk of BRISK_CHUNK elements; the chunks are taken in order (a
// ticket) and each finds its offset in the event space from its predecessors (decoupled
// look-back), so the events come out in ascending order, as Brian's
{% include "cuda/_head.cu" %}
{% include "cuda/_threshold_chunk.cu" %}    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
{% include "cuda/_threshold_open.cu" %}            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ k.vector_code|block(3) }}
            _flag = _cond;
{%- if k.uses_refractory %}
            if (_flag)
            {
                {{ k.not_refractory }}[_idx] = false;
                {{ k.lastspike }}[_idx] = _a.t;
            }
{%- endif %}
{% include "cuda/_threshold_close.cu" %}