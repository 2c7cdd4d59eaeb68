{%- if k.block_launch %}
// synapses: deliver {{ s.pathway }} in one thread, in Brian's queue order (the code reads what other synapses write)
{% include "cuda/_head.cu" %}
    if (threadIdx.x != 0) return;
{% include "common/_pathway_pointers.txt" %}
{% include "common/_scalar.txt" %}
{% include "common/_synapses_serial.txt" %}
}
{%- else %}
// synapses: deliver {{ s.pathway }}; a block per spiking neuron and delay, a thread per synapse (shared targets updated atomically)
{% include "cuda/_head.cu" %}
{% include "common/_pathway_pointers.txt" %}
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar }}
{{ k.scalar_code }}
    if (_carry_step >= 0 && _carry_step < _carry_len)
    {
        for (int64_t _k = _carry_start[_carry_step] + (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _k < _carry_start[_carry_step + 1]; _k += (int64_t)gridDim.x * blockDim.x)
        {
            const int64_t _idx = _carry[_k];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ s.vector_atomic }}
        }
    }
    for (int64_t _d = _max_delay; _d >= _min_delay; _d--)
    {
        const int32_t* _slot = _history + ((_cursor - _d + _D) % _D) * {{ s.slot_len }}LL;
        const int32_t _num = _slot[{{ s.num_sources }}];
        for (int32_t _s = blockIdx.x; _s < _num; _s += gridDim.x)
        {
            const int32_t _src = _slot[_s];
            const int64_t _end = brisk_lower_bound(_by_delay, _by_start[_src], _by_start[_src + 1], _d + 1);
            for (int64_t _k = brisk_lower_bound(_by_delay, _by_start[_src], _end, _d) + threadIdx.x; _k < _end; _k += blockDim.x)
            {
                const int64_t _idx = _by_source[_k];
                const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ s.vector_atomic }}
            }
        }
    }
}
{%- endif %}
